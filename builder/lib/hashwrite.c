#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/lib/hex.h"
#include "pxeforge/lib/progress.h"
#include "hashring.h"

#define CHUNK 65536

static uint64_t hashed_total;

uint64_t hashwrite_hashed(void)
{
	return hashed_total;
}

int sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(len ? data : "", len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32)
		return -EIO;
	hashed_total += len;
	hex_encode(md, 32, hex);
	return 0;
}

int sha256_final_hex(EVP_MD_CTX *md, char hex[65])
{
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!EVP_DigestFinal_ex(md, out, &len) || len != 32)
		return -EIO;
	hex_encode(out, 32, hex);
	return 0;
}

int sha256_fd(int fd, struct pf_filesum *sum)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *chunk = malloc(CHUNK);
	uint64_t size = 0;
	int rc = -ENOMEM;

	if (!md || !chunk)
		goto out;
	rc = -EIO;
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		goto out;
	for (;;) {
		ssize_t n = fs_read_some(fd, chunk, CHUNK);

		if (n < 0) {
			rc = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(md, chunk, (size_t)n)) {
			rc = -EIO;
			goto out;
		}
		size += (uint64_t)n;
		hashed_total += (uint64_t)n;
	}
	rc = sha256_final_hex(md, sum->sha256);
	sum->size = size;
out:
	free(chunk);
	EVP_MD_CTX_free(md);
	return rc;
}

static void writer_clear(struct pf_hashwrite *w)
{
	w->md = NULL;
	w->target = NULL;
	w->tmp = NULL;
	w->fd = -1;
	w->size = 0;
	w->unflushed = 0;
	w->bar = NULL;
	w->stage = NULL;
	w->staged = 0;
	w->direct = false;
	w->nosync = false;
}

void hashwrite_abort(struct pf_hashwrite *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	free(w->tmp);
	free(w->target);
	free(w->stage);
	EVP_MD_CTX_free(w->md);
	writer_clear(w);
}

/* The temporary file only: hashing is the caller's business. It goes in
 * tmpdir, or beside target when tmpdir is NULL. */
static int tmp_open(struct pf_hashwrite *w, const char *target,
		    const char *tmpdir, mode_t mode)
{
	const char *slash = strrchr(target, '/');
	int dirlen = slash ? (int)(slash - target) + 1 : 0;
	int rc = 0;

	writer_clear(w);
	w->read_failed = false;
	w->mode = mode & 07777;
	w->target = strdup(target);
	if (!w->target ||
	    (tmpdir ? asprintf(&w->tmp, "%s/" PF_TMP_PREFIX "XXXXXX", tmpdir) :
	     asprintf(&w->tmp, "%.*s" PF_TMP_PREFIX "XXXXXX", dirlen, target)) < 0) {
		w->tmp = NULL;
		rc = -ENOMEM;
		goto out;
	}
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		rc = -errno;
		free(w->tmp);	/* nothing was created */
		w->tmp = NULL;
		goto out;
	}
	/* fchmod, not the umask, decides: mkstemp's 0600 until then. */
	if (fchmod(w->fd, w->mode) != 0)
		rc = -errno;
out:
	if (rc)
		hashwrite_abort(w);
	return rc;
}

int hashwrite_open(struct pf_hashwrite *w, const char *target, mode_t mode)
{
	return hashwrite_open_in(w, target, NULL, mode);
}

int hashwrite_open_in(struct pf_hashwrite *w, const char *target,
		      const char *tmpdir, mode_t mode)
{
	int rc = tmp_open(w, target, tmpdir, mode);

	if (rc)
		return rc;
	w->md = EVP_MD_CTX_new();
	rc = w->md ? 0 : -ENOMEM;
	if (!rc && !EVP_DigestInit_ex(w->md, EVP_sha256(), NULL))
		rc = -EIO;
	if (rc)
		hashwrite_abort(w);
	return rc;
}

#define STAGE_SIZE (1024 * 1024)

int hashwrite_direct(struct pf_hashwrite *w)
{
	if (w->stage || fs_bench_plain())
		return 0;
	if (posix_memalign((void **)&w->stage, PF_DIRECT_ALIGN, STAGE_SIZE)) {
		w->stage = NULL;
		return -ENOMEM;
	}
	w->staged = 0;
	w->direct = fs_set_direct(w->fd, true);
	return 0;
}

/* What waits in the stage goes out; the file has O_DIRECT no more. */
static int stage_flush(struct pf_hashwrite *w)
{
	int rc = 0;

	if (w->staged)
		rc = fs_write_direct(w->fd, &w->direct, w->stage, w->staged,
			       &w->unflushed);
	w->staged = 0;
	if (w->direct && !fs_set_direct(w->fd, false) && !rc)
		rc = -EIO;
	w->direct = false;
	return rc;
}

int hashwrite_update(struct pf_hashwrite *w, const void *data, size_t len)
{
	const unsigned char *p = data;
	int rc = 0;

	if (!len)
		return 0;
	if (!EVP_DigestUpdate(w->md, data, len))
		return -EIO;
	hashed_total += len;
	w->size += len;
	if (!w->stage)
		return fs_write_flushing(w->fd, data, len, &w->unflushed);
	while (len && !rc) {
		size_t n = STAGE_SIZE - w->staged;

		if (n > len)
			n = len;
		memcpy(w->stage + w->staged, p, n);
		w->staged += n;
		p += n;
		len -= n;
		if (w->staged == STAGE_SIZE) {
			rc = fs_write_direct(w->fd, &w->direct, w->stage, STAGE_SIZE,
				       &w->unflushed);
			w->staged = 0;
		}
	}
	return rc;
}

#define COPY_CHUNK (1024 * 1024)

static int copy_plain(struct pf_hashwrite *w, int fd, uint64_t total,
		      uint64_t *copied)
{
	unsigned char *chunk = malloc(COPY_CHUNK);
	int rc = chunk ? 0 : -ENOMEM;

	while (!rc) {
		ssize_t r = fs_read_some(fd, chunk, COPY_CHUNK);

		if (r < 0) {
			w->read_failed = true;
			rc = (int)r;
		} else if (r == 0) {
			break;
		} else {
			rc = hashwrite_update(w, chunk, (size_t)r);
			*copied += (uint64_t)r;
			if (w->bar)
				progress_update(w->bar, *copied, total);
		}
	}
	free(chunk);
	return rc;
}

int hashwrite_copy_fd(struct pf_hashwrite *w, int fd, uint64_t *copied)
{
	uint64_t n = 0, total = 0;
	struct stat st;
	int rc = -EAGAIN;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		total = (uint64_t)st.st_size;	/* else 0: unknown, for the bar */
	if (total >= HASHRING_MIN && !w->stage && !fs_bench_plain()) {
		rc = hashring_copy(w, fd, total, &n);
		hashed_total += n;
	}
	if (rc == -EAGAIN)
		rc = copy_plain(w, fd, total, &n);
	if (copied)
		*copied = n;
	return rc;
}

/* Does path already hold sum's content with this mode? Any doubt
 * (missing, unreadable, symlink, other size) means no. */
static bool target_holds(const char *path, mode_t mode,
			 const struct pf_filesum *sum,
			 const struct pf_filesum *known)
{
	struct pf_filesum have;
	struct stat st;
	bool same;
	int fd;

	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 07777) != mode || (uint64_t)st.st_size != sum->size)
		return false;
	if (known)
		return known->size == sum->size &&
		       !strcmp(known->sha256, sum->sha256);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	same = sha256_fd(fd, &have) == 0 && have.size == sum->size &&
	       !strcmp(have.sha256, sum->sha256);
	close(fd);
	return same;
}

/* fsync (unless nosync), close and rename the temporary file over the
 * target (a writer ended by hashwrite_end has closed it: it is opened
 * again to fsync). */
static int tmp_install(struct pf_hashwrite *w)
{
	int fd = w->fd >= 0 || w->nosync ? w->fd :
		 open(w->tmp, O_RDONLY | O_CLOEXEC);
	int rc = fd < 0 && !w->nosync ? -errno : 0;

	if (!rc && !w->nosync && fsync(fd) != 0)
		rc = -errno;
	if (fd >= 0 && close(fd) != 0 && !rc)
		rc = -errno;
	w->fd = -1;
	if (!rc && rename(w->tmp, w->target) != 0)
		rc = -errno;
	if (!rc) {
		free(w->tmp);	/* it is the target now: not to be unlinked */
		w->tmp = NULL;
	}
	return rc;
}

int hashwrite_commit(struct pf_hashwrite *w, const struct pf_filesum *known,
		     struct pf_filesum *sum, bool *replaced)
{
	int rc;

	*replaced = false;
	rc = sha256_final_hex(w->md, sum->sha256);
	sum->size = w->size;
	if (!rc)
		rc = stage_flush(w);
	if (rc) {
		hashwrite_abort(w);
		return rc;
	}
	return hashwrite_install(w, sum, known, replaced);	/* fd still open */
}

int hashwrite_end(struct pf_hashwrite *w, struct pf_filesum *sum)
{
	int rc = sha256_final_hex(w->md, sum->sha256);

	if (!rc)
		rc = stage_flush(w);
	sum->size = w->size;
	EVP_MD_CTX_free(w->md);
	w->md = NULL;
	if (close(w->fd) != 0 && !rc)
		rc = -errno;
	w->fd = -1;
	return rc;
}

int hashwrite_install(struct pf_hashwrite *w, const struct pf_filesum *sum,
		      const struct pf_filesum *known, bool *replaced)
{
	int rc = 0;

	*replaced = false;
	if (!target_holds(w->target, w->mode, sum, known)) {
		rc = tmp_install(w);
		*replaced = rc == 0;
	}
	hashwrite_abort(w);
	return rc;
}

/* path is a regular file with exactly these bytes and this mode. */
static bool same_bytes(const char *path, const char *data, size_t len,
		       mode_t mode)
{
	unsigned char *chunk;
	struct stat st;
	size_t off = 0;
	bool same = false;
	int fd;

	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 07777) != (mode & 07777) ||
	    (uint64_t)st.st_size != (uint64_t)len)
		return false;
	chunk = malloc(CHUNK);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	while (chunk && fd >= 0) {
		ssize_t n = fs_read_some(fd, chunk, CHUNK);

		if (n < 0)
			break;
		if (n == 0) {
			same = off == len;
			break;
		}
		if ((size_t)n > len - off || memcmp(chunk, data + off, (size_t)n))
			break;
		off += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	free(chunk);
	return same;
}

int hashwrite_buffer(const char *target, const void *data, size_t len,
		     mode_t mode, struct pf_filesum *sum, bool *replaced)
{
	struct pf_hashwrite w;
	int rc;

	*replaced = false;
	if (len && !data)
		return -EINVAL;
	rc = sha256_hex(data, len, sum->sha256);
	sum->size = len;
	if (rc || same_bytes(target, data, len, mode))
		return rc;
	rc = tmp_open(&w, target, NULL, mode);
	if (rc)
		return rc;
	rc = fs_write_all(w.fd, data, len);
	if (!rc)
		rc = tmp_install(&w);
	*replaced = rc == 0;
	hashwrite_abort(&w);
	return rc;
}
