/* pack: the entry list, and the writing every archive format shares:
 * parent directories added, entries sorted, every field of every entry
 * set explicitly so that the bytes depend on the content alone. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/secret.h"
#include "pxeforge/out/outtree.h"
#include "pack.h"

void pack_init(struct pf_pack *p)
{
	p->v = NULL;
	p->n = p->cap = 0;
}

void pack_release(struct pf_pack *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++) {
		free(p->v[i].path);
		/* owner-only entries are secrets (the NoCloud user-data) */
		if (p->v[i].data && !(p->v[i].mode & 0077))
			secret_wipe(p->v[i].data, p->v[i].len);
		free(p->v[i].data);
		free(p->v[i].src);
	}
	free(p->v);
	pack_init(p);
}

static const struct pf_pack_entry *pack_find(const struct pf_pack *p,
					     const char *path)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->v[i].path, path))
			return &p->v[i];
	return NULL;
}

static struct pf_pack_entry *pack_push(struct pf_pack *p, const char *path,
				       mode_t mode, int *rc)
{
	struct pf_pack_entry *e;

	*rc = -EINVAL;
	if (!path_normalised(path) || pack_find(p, path))
		return NULL;
	*rc = -ENOMEM;
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 16;
		struct pf_pack_entry *v = realloc(p->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		p->v = v;
		p->cap = cap;
	}
	e = &p->v[p->n];
	memset(e, 0, sizeof(*e));
	e->path = strdup(path);
	if (!e->path)
		return NULL;
	e->mode = mode;
	p->n++;
	*rc = 0;
	return e;
}

/* Takes back the entry just pushed: no half-made entry stays behind. */
static int pack_pop(struct pf_pack *p)
{
	free(p->v[--p->n].path);
	return -ENOMEM;
}

int pack_add_data(struct pf_pack *p, const char *path, const void *data,
		  size_t len, mode_t mode)
{
	int rc;
	struct pf_pack_entry *e = pack_push(p, path, (mode & 07777) | S_IFREG,
					    &rc);

	if (!e)
		return rc;
	/* one byte more, so that empty content is not NULL */
	e->data = malloc(len + 1);
	if (!e->data)
		return pack_pop(p);
	memcpy(e->data, data, len);
	e->len = len;
	return 0;
}

int pack_add_file(struct pf_pack *p, const char *path, const char *src,
		  mode_t mode)
{
	int rc;
	struct pf_pack_entry *e = pack_push(p, path, (mode & 07777) | S_IFREG,
					    &rc);

	if (!e)
		return rc;
	e->src = strdup(src);
	return e->src ? 0 : pack_pop(p);
}

/* Linux's unpacker does not create missing parents: every directory on
 * the way to a file needs an entry of its own. A file where a directory
 * must be is -EINVAL. */
static int pack_add_parents(struct pf_pack *p)
{
	size_t n = p->n;
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++) {
		char *dir = strdup(p->v[i].path), *slash;

		if (!dir)
			return -ENOMEM;
		while (!rc && (slash = strrchr(dir, '/'))) {
			const struct pf_pack_entry *e;

			*slash = '\0';
			e = pack_find(p, dir);
			if (!e)
				pack_push(p, dir, S_IFDIR | 0755, &rc);
			else if (!S_ISDIR(e->mode))
				rc = -EINVAL;
		}
		free(dir);
	}
	return rc;
}

static int cmp_entry(const void *a, const void *b)
{
	return strcmp(((const struct pf_pack_entry *)a)->path,
		      ((const struct pf_pack_entry *)b)->path);
}

static la_ssize_t buf_write_cb(struct archive *a, void *ctx, const void *data,
			       size_t len)
{
	(void)a;
	return buf_append(ctx, data, len) ? -1 : (la_ssize_t)len;
}

/* Streams src into the archive; the size written in the header is the
 * size seen now, and a file that changes meanwhile is an error. */
static int copy_file(struct archive *a, int fd, la_int64_t size)
{
	char chunk[65536];
	la_int64_t left = size;

	while (left > 0) {
		ssize_t r = read(fd, chunk, sizeof(chunk));

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0 || r > left)
			return -EIO;	/* shrank or grew while read */
		if (archive_write_data(a, chunk, (size_t)r) != r)
			return -EIO;
		left -= r;
	}
	return 0;
}

static int write_entry(struct archive *a, struct archive_entry *ae,
		       const struct pf_pack_entry *e, long long ino,
		       long long mtime, char **failed)
{
	struct stat st;
	bool src_failed = true;	/* until the source is open and sized */
	int fd = -1, rc = 0;

	archive_entry_clear(ae);
	archive_entry_set_pathname(ae, e->path);
	archive_entry_set_mode(ae, e->mode);
	archive_entry_set_uid(ae, 0);
	archive_entry_set_gid(ae, 0);
	/* newc keeps only the mtime; ISO 9660's Rock Ridge keeps all four */
	archive_entry_set_mtime(ae, (time_t)mtime, 0);
	archive_entry_set_atime(ae, (time_t)mtime, 0);
	archive_entry_set_ctime(ae, (time_t)mtime, 0);
	archive_entry_set_birthtime(ae, (time_t)mtime, 0);
	archive_entry_set_dev(ae, 0);
	archive_entry_set_ino64(ae, ino);
	archive_entry_set_rdev(ae, 0);
	archive_entry_set_nlink(ae, S_ISDIR(e->mode) ? 2 : 1);
	archive_entry_set_size(ae, 0);
	if (e->src) {
		fd = open(e->src, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || fstat(fd, &st) != 0) {
			rc = -errno;
			goto clean;
		}
		if (!S_ISREG(st.st_mode)) {
			rc = -EINVAL;
			goto clean;
		}
		archive_entry_set_size(ae, st.st_size);
		src_failed = false;
	} else if (!S_ISDIR(e->mode)) {
		archive_entry_set_size(ae, (la_int64_t)e->len);
	}
	if (archive_write_header(a, ae) != ARCHIVE_OK) {
		rc = -EIO;
		goto clean;
	}
	if (fd >= 0) {
		rc = copy_file(a, fd, st.st_size);
		src_failed = rc != 0;
	}
	else if (e->len && archive_write_data(a, e->data, e->len) !=
			   (la_ssize_t)e->len)
		rc = -EIO;
clean:
	if (rc && src_failed && e->src && !*failed)
		*failed = strdup(e->src);
	if (fd >= 0)
		close(fd);
	return rc;
}

int pack_write_archive(struct pf_pack *p, struct archive *a, long long mtime,
		       struct pf_buf *out, char **failed)
{
	struct archive_entry *ae = NULL;
	int rc;

	*failed = NULL;
	rc = pack_add_parents(p);
	if (rc)
		return rc;
	if (p->n)	/* qsort's pointer must not be NULL, even for 0 */
		qsort(p->v, p->n, sizeof(*p->v), cmp_entry);
	ae = archive_entry_new();
	if (!ae)
		return -ENOMEM;
	rc = -EIO;
	/* No padding to 10 KiB blocks: the archive ends where it ends. */
	if (archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
	    archive_write_open2(a, out, NULL, buf_write_cb, NULL, NULL) !=
	    ARCHIVE_OK)
		goto clean;
	rc = 0;
	for (size_t i = 0; i < p->n && !rc; i++)
		rc = write_entry(a, ae, &p->v[i], (long long)i + 1, mtime,
				 failed);
	if (!rc && archive_write_close(a) != ARCHIVE_OK)
		rc = -EIO;
clean:
	archive_entry_free(ae);
	return rc;
}
