/* containerdisk_layer: disk/<name> as a compressed tar layer, streamed
 * through two libarchive writers: a tar writer whose output is hashed
 * (diff_id) and handed to a raw-format writer with the gzip or zstd
 * filter, whose output is hashed (digest) and written to a temporary
 * file. Nothing is held in memory but the writers' fixed buffers. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "pxeforge/fetch/fetch.h"
#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/progress.h"
#include "archive_out.h"
#include "pxeforge/package/containerdisk.h"

struct layer_sink {
	EVP_MD_CTX *tar_md;	/* the uncompressed tar: diff_id */
	EVP_MD_CTX *gz_md;	/* the compressed bytes: digest */
	struct archive *z;	/* the compressor the tar goes to */
	int fd;
	uint64_t size;
	int err;
};

/* The compressor's output: hashed and written to the temporary file. */
static la_ssize_t z_write(struct archive *a, void *ctx, const void *data,
			  size_t len)
{
	struct layer_sink *s = ctx;

	(void)a;
	if (!EVP_DigestUpdate(s->gz_md, data, len))
		s->err = -EIO;
	else
		s->err = fs_write_all(s->fd, data, len);
	if (s->err)
		return -1;
	s->size += len;
	return (la_ssize_t)len;
}

/* The tar writer's output: hashed and compressed. */
static la_ssize_t tar_write(struct archive *a, void *ctx, const void *data,
			    size_t len)
{
	struct layer_sink *s = ctx;

	(void)a;
	if (!EVP_DigestUpdate(s->tar_md, data, len)) {
		s->err = -EIO;
		return -1;
	}
	if (archive_write_data(s->z, data, len) != (la_ssize_t)len) {
		if (!s->err)
			s->err = -EIO;
		return -1;
	}
	return (la_ssize_t)len;
}

/* Every field a tar header carries, set here and nowhere else. */
static void layer_entry(struct archive_entry *ae, const char *path,
			mode_t mode, uint64_t size, long long mtime)
{
	/* numeric only: a name would be mapped to the reader's own ids */
	archive_out_tar_entry(ae, path, mode, PF_CDISK_UID, NULL, mtime,
			      (int64_t)size);
}

/* An unlinked temporary file in file's directory. */
static int tmp_beside(const char *file)
{
	const char *slash = strrchr(file, '/');
	int dirlen = slash ? (int)(slash - file) + 1 : 0;
	char *tmp = NULL;
	int fd, rc;

	if (asprintf(&tmp, "%.*s" PF_TMP_PREFIX "XXXXXX", dirlen, file) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	rc = fd < 0 ? -errno : 0;
	if (fd >= 0 && unlink(tmp) != 0) {
		rc = -errno;
		close(fd);
	}
	free(tmp);
	return rc ? rc : fd;
}

int containerdisk_layer(int disk_fd, uint64_t size, const char *name,
			const char *file, const struct pf_cdisk_opts *o,
			struct pf_cdisk_layer *l, bool *disk_failed)
{
	struct layer_sink s = { .fd = -1 };
	struct archive *t = NULL;
	struct archive_entry *ae = NULL;
	struct pf_progress bar;
	char *path = NULL;
	int rc = 0;

	l->fd = -1;
	l->size = 0;
	*disk_failed = false;
	progress_begin(&bar, o->progress, stderr, name, 0);
	s.fd = tmp_beside(file);
	if (s.fd < 0) {
		rc = s.fd;
		goto out;
	}
	s.tar_md = EVP_MD_CTX_new();
	s.gz_md = EVP_MD_CTX_new();
	s.z = archive_write_new();
	t = archive_write_new();
	ae = archive_entry_new();
	if (!s.tar_md || !s.gz_md || !s.z || !t || !ae ||
	    asprintf(&path, "disk/%s", name) < 0) {
		path = NULL;
		rc = -ENOMEM;
		goto out;
	}
	if (!EVP_DigestInit_ex(s.tar_md, EVP_sha256(), NULL) ||
	    !EVP_DigestInit_ex(s.gz_md, EVP_sha256(), NULL) ||
	    archive_write_set_format_raw(s.z) != ARCHIVE_OK ||
	    /* each zstd worker buffers a few MiB: at most 8 of them */
	    archive_out_compress(s.z, o->compress,
				 o->compress == PF_COMPRESS_ZSTD ?
				 PF_CDISK_ZSTD_LEVEL : PF_CDISK_GZIP_LEVEL,
				 8) != 0 ||
	    /* no blocking: a padded last block would follow the stream */
	    archive_write_set_bytes_per_block(s.z, 0) != ARCHIVE_OK ||
	    archive_write_open2(s.z, &s, NULL, z_write, NULL, NULL) != ARCHIVE_OK ||
	    archive_write_set_format_pax_restricted(t) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(t, 0) != ARCHIVE_OK ||
	    archive_write_open2(t, &s, NULL, tar_write, NULL, NULL) != ARCHIVE_OK) {
		rc = -EIO;
		goto out;
	}
	/* the compressor's one raw entry: the whole tar stream */
	archive_entry_clear(ae);
	archive_entry_set_filetype(ae, AE_IFREG);
	if (archive_write_header(s.z, ae) != ARCHIVE_OK) {
		rc = -EIO;
		goto out;
	}
	layer_entry(ae, "disk/", S_IFDIR | PF_CDISK_DIR_MODE, 0, o->mtime);
	if (archive_write_header(t, ae) != ARCHIVE_OK) {
		rc = -EIO;
		goto out;
	}
	layer_entry(ae, path, S_IFREG | PF_CDISK_FILE_MODE, size, o->mtime);
	if (archive_write_header(t, ae) != ARCHIVE_OK) {
		rc = -EIO;
		goto out;
	}
	rc = archive_out_copy_fd(t, disk_fd, size, &bar, disk_failed);
	if (!rc && (archive_write_close(t) != ARCHIVE_OK ||
		    archive_write_close(s.z) != ARCHIVE_OK))
		rc = -EIO;
	if (!rc)
		rc = sha256_final_hex(s.tar_md, l->diff_id);
	if (!rc)
		rc = sha256_final_hex(s.gz_md, l->digest);
	if (!rc && lseek(s.fd, 0, SEEK_SET) != 0)
		rc = -errno;
out:
	if (rc && s.err && !*disk_failed)
		rc = s.err;	/* the file's own errno beats libarchive's -EIO */
	progress_end(&bar, rc ? 0 : size, size);
	archive_entry_free(ae);
	if (t)
		archive_write_free(t);
	if (s.z)
		archive_write_free(s.z);
	EVP_MD_CTX_free(s.tar_md);
	EVP_MD_CTX_free(s.gz_md);
	free(path);
	if (!rc) {
		l->fd = s.fd;
		l->size = s.size;
	} else if (s.fd >= 0) {
		close(s.fd);
	}
	return rc;
}
