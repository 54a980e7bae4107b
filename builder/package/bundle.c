/* bundle_write: OUT as one tar.gz / tar.zst, the same bytes for the same
 * tree on any machine with the same libarchive, zlib and libzstd. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/progress.h"
#include "pxeforge/out/bundle_record.h"
#include "pxeforge/out/outstate.h"
#include "archive_out.h"
#include "pxeforge/package/bundle.h"


static bool ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls > lx && !strcmp(s + ls - lx, suffix);
}

enum pf_bundle_format bundle_format(const char *file)
{
	if (ends_with(file, ".tar.zst") || ends_with(file, ".tzst"))
		return PF_BUNDLE_TAR_ZST;
	if (ends_with(file, ".tar.gz") || ends_with(file, ".tgz"))
		return PF_BUNDLE_TAR_GZ;
	return PF_BUNDLE_UNKNOWN;
}

struct entry {
	char *path;
	mode_t mode;		/* with S_IFDIR or S_IFREG */
	const struct pf_filesum *sum;	/* NULL: size as found */
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static void entries_release(struct entries *e)
{
	for (size_t i = 0; i < e->n; i++)
		free(e->v[i].path);
	free(e->v);
}

static int entries_add(struct entries *e, const char *path, size_t len,
		       mode_t mode, const struct pf_filesum *sum)
{
	if (e->n == e->cap) {
		size_t cap = e->cap ? 2 * e->cap : 64;
		struct entry *v = realloc(e->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		e->v = v;
		e->cap = cap;
	}
	e->v[e->n].path = strndup(path, len);
	if (!e->v[e->n].path)
		return -ENOMEM;
	e->v[e->n].mode = mode;
	e->v[e->n].sum = sum;
	e->n++;
	return 0;
}

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path,
		      ((const struct entry *)b)->path);
}

/* Every file of t, manifest.json and every directory on the way, sorted
 * bytewise by path; *secret when any file is one. */
static int collect(const struct pf_outtree *t, struct entries *e,
		   bool *secret)
{
	size_t out = 0;
	int rc = entries_add(e, PF_MANIFEST_NAME, strlen(PF_MANIFEST_NAME),
			     S_IFREG | 0644, NULL);

	*secret = false;
	for (size_t i = 0; i < t->n && !rc; i++) {
		const struct pf_outfile *f = &t->files[i];
		const char *slash;

		if (!f->summed)
			return -EINVAL;	/* not written yet */
		*secret |= outtree_is_secret(f->mode);
		rc = entries_add(e, f->path, strlen(f->path),
				 S_IFREG | (f->mode & 07777), &f->sum);
		/* "c4140/", as tar stores directories: sorted with the
		 * slash, a directory still comes right before its content. */
		for (slash = strchr(f->path, '/'); slash && !rc;
		     slash = strchr(slash + 1, '/'))
			rc = entries_add(e, f->path, (size_t)(slash - f->path) + 1,
					 S_IFDIR | 0755, NULL);
	}
	if (rc || !e->n)
		return rc;
	qsort(e->v, e->n, sizeof(*e->v), entry_cmp);
	for (size_t i = 0; i < e->n; i++) {
		if (out && !strcmp(e->v[out - 1].path, e->v[i].path)) {
			free(e->v[i].path);	/* a directory seen again */
			continue;
		}
		e->v[out++] = e->v[i];
	}
	e->n = out;
	return 0;
}

/* One entry; a file's content is read from dir/path. *in_tree is set when
 * the failure concerns the tree's file rather than the archive. */
static int write_entry(struct archive *a, struct archive_entry *ae,
		       int root, const struct entry *e, long long mtime,
		       bool progress, bool *in_tree)
{
	struct pf_progress bar;
	struct stat st;
	int fd = -1, rc = 0;

	*in_tree = false;
	archive_out_tar_entry(ae, e->path, e->mode, 0, "root", mtime, 0);
	if (S_ISREG(e->mode)) {
		*in_tree = true;
		fd = open_below(root, e->path, O_RDONLY);
		if (fd < 0 || fstat(fd, &st) != 0) {
			rc = fd < 0 ? fd : -errno;
			goto out;
		}
		if (!S_ISREG(st.st_mode) ||
		    (e->sum && (uint64_t)st.st_size != e->sum->size)) {
			rc = -EIO;
			goto out;
		}
		archive_entry_set_size(ae, st.st_size);
		*in_tree = false;
		/* the build wrote it past the page cache too: reading it
		 * through the cache would only add a copy */
		if (st.st_size >= PF_DIRECT_MIN)
			(void)fs_set_direct(fd, true);
	}
	/* ARCHIVE_WARN: a non-ASCII path went in as raw bytes (see below). */
	if (archive_write_header(a, ae) < ARCHIVE_WARN) {
		rc = -EIO;
		goto out;
	}
	if (fd >= 0) {
		/* a bar per large file: it is they that take the time */
		progress_begin(&bar, progress && st.st_size >= PF_PROGRESS_MIN, stderr,
			       e->path, 0);
		rc = archive_out_copy_fd(a, fd, (uint64_t)st.st_size, &bar,
					 in_tree);
		progress_end(&bar, rc ? 0 : (uint64_t)st.st_size,
			     (uint64_t)st.st_size);
		if (rc == -ESTALE)
			rc = -EIO;	/* bundle.h: a tree that changed */
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

/* dir/path's size and SHA-256 (the manifest, which the tree has no sum
 * for). */
static int sum_below(int root, const char *path, struct pf_filesum *sum)
{
	int fd = open_below(root, path, O_RDONLY), rc;

	if (fd < 0)
		return fd;
	rc = sha256_fd(fd, sum);
	close(fd);
	return rc;
}

/* The SHA-256 of everything the archive's bytes depend on: format and
 * level, the entries' mtime, the libraries that write it, and each
 * entry's path, mode and content. */
static int bundle_recipe(const struct entries *e, int root,
			 enum pf_bundle_format fmt, long long mtime,
			 char hex[65])
{
	const char *z = archive_zlib_version(), *zs = archive_libzstd_version();
	struct pf_buf b;
	int rc;

	buf_init(&b);
	/* not archive_version_details(): libarchive 3.6 leaks on each call */
	rc = buf_printf(&b, "pxeforge bundle 1\nformat %d level %d\nmtime %lld\n"
			"%s zlib %s zstd %s\n", (int)fmt,
			fmt == PF_BUNDLE_TAR_GZ ? PF_BUNDLE_GZIP_LEVEL :
			PF_BUNDLE_ZSTD_LEVEL, mtime, archive_version_string(),
			z ? z : "none", zs ? zs : "none");
	for (size_t i = 0; i < e->n && !rc; i++) {
		const struct entry *x = &e->v[i];
		struct pf_filesum sum;

		if (S_ISDIR(x->mode)) {
			rc = buf_printf(&b, "d %o %s\n", (unsigned)(x->mode & 07777),
					x->path);
			continue;
		}
		if (x->sum)
			sum = *x->sum;
		else
			rc = sum_below(root, x->path, &sum);
		if (!rc)
			rc = buf_printf(&b, "f %o %" PRIu64 " %s %s\n",
					(unsigned)(x->mode & 07777), sum.size,
					sum.sha256, x->path);
	}
	if (!rc)
		rc = sha256_hex(b.data, b.len, hex);
	buf_release(&b);
	return rc;
}

/* file as an absolute path, its directory resolved: how the record names
 * it, whatever the working directory. NULL with errno set. */
static char *abs_path(const char *file)
{
	const char *slash = strrchr(file, '/');
	char *dir = slash ? strndup(file, slash == file ? 1 : (size_t)(slash - file))
			  : strdup(".");
	char *real = dir ? realpath(dir, NULL) : NULL;
	char *abs = NULL;
	int err = errno;

	if (real && asprintf(&abs, "%s%s%s", real, strcmp(real, "/") ? "/" : "",
			     slash ? slash + 1 : file) < 0) {
		abs = NULL;
		err = ENOMEM;
	}
	free(dir);
	free(real);
	errno = err;
	return abs;
}

/* Writes the archive of e (read below root) to file through the hashing
 * writer; known as in hashwrite_commit. On a failure that concerns one of
 * the tree's files, *failed names it. */
static int pack(const struct entries *e, int root, const char *dir,
		const char *file, enum pf_bundle_format fmt, long long mtime,
		mode_t mode, const struct pf_filesum *known, bool progress,
		struct pf_bundle_result *res, char **failed)
{
	struct archive *a = NULL;
	struct archive_entry *ae = NULL;
	struct pf_archive_out s = { .err = 0 };
	locale_t c_locale = (locale_t)0, old_locale = (locale_t)0;
	bool in_tree = false;
	size_t i = 0;
	int rc;

	s.hw.fd = -1;
	s.hw.tmp = NULL;
	rc = hashwrite_open(&s.hw, file, mode);
	if (!rc)
		rc = hashwrite_direct(&s.hw);	/* bytes no one reads soon */
	if (rc)
		goto out;
	/* libarchive converts paths from the locale's charset to UTF-8 for
	 * pax headers, so the bytes would depend on the locale. In the C
	 * locale (always there) ASCII paths need no pax header and any
	 * other path (UTF-8: outtree admits nothing else) goes in as raw
	 * bytes with "hdrcharset=BINARY", on every machine alike. */
	c_locale = newlocale(LC_ALL_MASK, "C", (locale_t)0);
	if (c_locale == (locale_t)0) {
		rc = -errno;
		goto out;
	}
	old_locale = uselocale(c_locale);
	a = archive_write_new();
	ae = archive_entry_new();
	if (!a || !ae) {
		rc = -ENOMEM;
		goto out;
	}
	/* pax-restricted is ustar, plus an extended header only for what
	 * ustar cannot hold (files of 8 GiB and more, long or non-ASCII
	 * paths); we set no atime, ctime or other host detail to carry. */
	rc = archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ? -EIO :
	     archive_out_compress(a, fmt == PF_BUNDLE_TAR_GZ ? PF_COMPRESS_GZIP :
				  PF_COMPRESS_ZSTD,
				  fmt == PF_BUNDLE_TAR_GZ ? PF_BUNDLE_GZIP_LEVEL :
				  PF_BUNDLE_ZSTD_LEVEL, 64);
	if (!rc && (archive_write_set_bytes_per_block(a, 0) != ARCHIVE_OK ||
		    archive_write_open2(a, &s, NULL, archive_out_write, NULL, NULL) !=
		    ARCHIVE_OK))
		rc = -EIO;
	for (i = 0; i < e->n && !rc; i++)
		rc = write_entry(a, ae, root, &e->v[i], mtime, progress,
				 &in_tree);
	if (!rc && archive_write_close(a) != ARCHIVE_OK)
		rc = -EIO;
	if (rc && s.err)
		rc = s.err;	/* the writer's own errno beats libarchive's -EIO */
	if (!rc)
		rc = hashwrite_commit(&s.hw, known, &res->sum, &res->replaced);
	if (rc && in_tree && asprintf(failed, "%s/%s", dir, e->v[i - 1].path) < 0)
		*failed = NULL;
out:
	archive_entry_free(ae);
	if (a)
		archive_write_free(a);
	if (c_locale != (locale_t)0) {
		uselocale(old_locale);
		freelocale(c_locale);
	}
	hashwrite_abort(&s.hw);
	return rc;
}

int bundle_write(const struct pf_outtree *t, const char *dir,
		 const char *file, long long mtime, bool progress,
		 struct pf_bundle_result *res, char **failed)
{
	enum pf_bundle_format fmt = bundle_format(file);
	struct entries e = { 0 };
	struct pf_bundle_records recs = { 0 };
	const struct pf_bundle_record *prev;
	struct pf_bundle_record rec = { 0 };
	char recipe[65], fp[PF_FINGERPRINT_MAX];
	struct stat st;
	bool secret, still;
	mode_t mode;
	int root = -1, rc;

	*failed = NULL;
	memset(res, 0, sizeof(*res));
	if (fmt == PF_BUNDLE_UNKNOWN)
		return -EINVAL;
	rc = collect(t, &e, &secret);
	if (rc)
		goto out;
	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		rc = -errno;
		*failed = strdup(dir);
		goto out;
	}
	rc = bundle_recipe(&e, root, fmt, mtime, recipe);
	if (rc) {
		if (asprintf(failed, "%s/%s", dir, PF_MANIFEST_NAME) < 0)
			*failed = NULL;
		goto out;
	}
	rec.file = abs_path(file);
	if (!rec.file) {
		rc = -errno;
		goto out;
	}
	rc = bundle_records_load(dir, &recs);
	if (rc)
		goto out;
	mode = secret ? 0600 : 0644;
	prev = bundle_records_find(&recs, rec.file);
	still = prev && bundle_record_current(prev, &st) &&
		(st.st_mode & 07777) == mode;
	res->entries = e.n;
	if (still && !strcmp(prev->recipe, recipe)) {
		res->sum = prev->sum;	/* the very file made from this tree */
		goto out;
	}
	rc = pack(&e, root, dir, file, fmt, mtime, mode,
		  still ? &prev->sum : NULL, progress, res, failed);
	if (!rc && lstat(file, &st) != 0)
		rc = -errno;
	if (rc)
		goto out;
	stat_fingerprint(&st, fp);
	rec.recipe = recipe;
	rec.stat = fp;
	rec.sum = res->sum;
	rc = bundle_records_save(dir, &recs, &rec);
	if (rc && asprintf(failed, "%s/%s", dir, PF_BUNDLES_NAME) < 0)
		*failed = NULL;
out:
	if (rc && !*failed)
		*failed = strdup(file);
	if (root >= 0)
		close(root);
	free(rec.file);
	bundle_records_release(&recs);
	entries_release(&e);
	return rc;
}
