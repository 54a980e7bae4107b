#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "pxeforge/outtree.h"

#if JSON_INTEGER_IS_LONG_LONG
#define PF_JSON_INT_MAX LLONG_MAX
#else
#define PF_JSON_INT_MAX LONG_MAX
#endif

#define MANIFEST_NAME "manifest.json"
#define TMP_PREFIX ".pxeforge-tmp-"

void outtree_init(struct pf_outtree *t)
{
	t->files = NULL;
	t->n = 0;
	t->cap = 0;
}

void outtree_release(struct pf_outtree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->files[i].path);
		free(t->files[i].data);
	}
	free(t->files);
	outtree_init(t);
}

bool path_normalised(const char *path)
{
	const char *p = path;

	if (!*p || *p == '/')
		return false;
	for (;;) {
		size_t len = strcspn(p, "/");

		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!p[len])
			return true;
		p += len + 1;	/* a trailing '/' leaves an empty component */
	}
}

/* Strict UTF-8 (RFC 3629: no overlongs, surrogates or code points past
 * U+10FFFF): manifest.json is JSON, which cannot carry anything else. */
static bool utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned char c = *s++, lo = 0x80, hi = 0xbf;
		int more;

		if (c < 0x80)
			continue;
		if (c < 0xc2 || c > 0xf4)
			return false;
		more = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		for (int i = 0; i < more; i++, s++) {
			if (*s < lo || *s > hi)	/* also stops at the NUL */
				return false;
			lo = 0x80;
			hi = 0xbf;
		}
	}
	return true;
}

/* a equals b, or one is a directory that holds the other: both cannot be
 * files of one tree. */
static bool path_clash(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t l = la < lb ? la : lb;

	if (strncmp(a, b, l) != 0)
		return false;
	return la == lb || (la < lb ? b[la] : a[lb]) == '/';
}

int outtree_add(struct pf_outtree *t, const char *path, const void *data,
		size_t len, mode_t mode)
{
	struct pf_outfile f = { .len = len, .mode = mode };

	/* manifest.json is written by outtree_write itself. */
	if (!path || !path_normalised(path) || !utf8_valid(path) ||
	    strcmp(path, MANIFEST_NAME) == 0)
		return -EINVAL;
	if (len && !data)
		return -EINVAL;
	for (size_t i = 0; i < t->n; i++)
		if (path_clash(t->files[i].path, path))
			return -EINVAL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct pf_outfile *v = realloc(t->files, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->files = v;
		t->cap = cap;
	}
	if (len == SIZE_MAX)
		return -ENOMEM;
	f.path = strdup(path);
	/* One spare byte keeps text NUL-terminated for callers and tests. */
	f.data = malloc(len + 1);
	if (!f.path || !f.data) {
		free(f.path);
		free(f.data);
		return -ENOMEM;
	}
	if (len)
		memcpy(f.data, data, len);
	f.data[len] = '\0';
	t->files[t->n++] = f;
	return 0;
}

static int outfile_cmp(const void *pa, const void *pb)
{
	const struct pf_outfile *a = pa, *b = pb;

	return strcmp(a->path, b->path);
}

void outtree_sort(struct pf_outtree *t)
{
	if (t->n)
		qsort(t->files, t->n, sizeof(*t->files), outfile_cmp);
}

static int outfile_ptr_cmp(const void *pa, const void *pb)
{
	const struct pf_outfile *const *a = pa, *const *b = pb;

	return strcmp((*a)->path, (*b)->path);
}

/* The files in path order without reordering t (it is const here). */
static int sorted_view(const struct pf_outtree *t,
		       const struct pf_outfile ***out)
{
	const struct pf_outfile **v;

	*out = NULL;
	if (!t->n)
		return 0;
	v = malloc(t->n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		v[i] = &t->files[i];
	qsort(v, t->n, sizeof(*v), outfile_ptr_cmp);
	*out = v;
	return 0;
}

int sha256_hex(const void *data, size_t len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(len ? data : "", len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32)
		return -EIO;
	for (unsigned int i = 0; i < mdlen; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[64] = '\0';
	return 0;
}

/* Secrets are files only their owner may read (0600, 0400): their hashes
 * stay out of the manifest too. */
static bool is_secret(mode_t mode)
{
	return (mode & 0077) == 0;
}

static int manifest_entry(const struct pf_outfile *f, json_t *files)
{
	json_t *entry, *path;
	char hex[65];
	int rc;

	if ((uintmax_t)f->len > (uintmax_t)PF_JSON_INT_MAX)
		return -EOVERFLOW;
	rc = sha256_hex(f->data, f->len, hex);
	if (rc)
		return rc;
	/* outtree_add admitted only UTF-8 paths: NULL here is no memory. */
	path = json_string(f->path);
	entry = json_object();
	if (!path || !entry) {
		json_decref(path);
		json_decref(entry);
		return -ENOMEM;
	}
	/* The _new setters take the reference even when they fail, and fail
	 * on a NULL value, so a failed json_string() needs no check of its own. */
	if (json_object_set_new(entry, "path", path) ||
	    json_object_set_new(entry, "sha256", json_string(hex)) ||
	    json_object_set_new(entry, "size", json_integer((json_int_t)f->len))) {
		json_decref(entry);
		return -ENOMEM;
	}
	return json_array_append_new(files, entry) ? -ENOMEM : 0;
}

int manifest_render(const struct pf_outtree *t, struct pf_buf *out)
{
	const struct pf_outfile **v = NULL;
	json_t *root = NULL, *files;
	char *text = NULL;
	int rc;

	rc = sorted_view(t, &v);
	if (rc)
		return rc;
	rc = -ENOMEM;
	root = json_object();
	files = json_array();
	if (!root || !files || json_object_set_new(root, "files", files)) {
		if (!root)
			json_decref(files);
		goto out;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (is_secret(v[i]->mode))
			continue;
		rc = manifest_entry(v[i], files);
		if (rc)
			goto out;
	}
	rc = -ENOMEM;
	text = json_dumps(root, JSON_INDENT(2) | JSON_SORT_KEYS);
	if (!text)
		goto out;
	rc = buf_printf(out, "%s\n", text);
out:
	free(text);
	json_decref(root);
	free(v);
	return rc;
}

/* mkdir -p for path, starting at byte `from` (the prefix before it is known
 * to exist). On failure *fail names the directory that could not be made. */
static int mkdir_p(const char *path, size_t from, char **fail)
{
	struct stat st;
	char *p;
	int rc = 0;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	if (from > strlen(p))
		from = strlen(p);
	for (size_t i = from; !rc; i++) {
		char c = p[i];

		if (c != '/' && c != '\0')
			continue;
		if (i == 0 || p[i - 1] == '/') {	/* root, or "a//b" */
			if (!c)
				break;
			continue;
		}
		p[i] = '\0';
		if (mkdir(p, 0755) != 0) {
			if (errno != EEXIST)
				rc = -errno;
			else if (stat(p, &st) != 0)
				rc = -errno;
			else if (!S_ISDIR(st.st_mode))
				rc = -ENOTDIR;
		}
		if (rc) {
			*fail = p;
			return rc;
		}
		if (!c)
			break;
		p[i] = c;
	}
	free(p);
	return rc;
}

/* True when path is already a regular file with exactly these bytes and
 * this mode; any doubt (missing, unreadable, symlink) means rewrite it. */
static bool same_file(const char *path, const char *data, size_t len,
		      mode_t mode)
{
	char chunk[65536];
	struct stat st;
	size_t off = 0;
	bool same = false;
	int fd;

	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 07777) != (mode & 07777) ||
	    (uintmax_t)st.st_size != (uintmax_t)len)
		return false;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
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
	close(fd);
	return same;
}

static int write_all(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Writes dir/rel atomically (temp file in the same directory, renamed over
 * the target) unless it already holds these bytes with this mode. */
static int write_file(const char *dir, const char *rel, const char *data,
		      size_t len, mode_t mode, size_t *written, char **fail)
{
	char *full = NULL, *tmp = NULL;
	size_t dirlen = strlen(dir);
	int fd = -1, rc;
	const char *sep = dirlen && dir[dirlen - 1] == '/' ? "" : "/";
	char *slash;

	if (asprintf(&full, "%s%s%s", dir, sep, rel) < 0) {
		full = NULL;
		rc = -ENOMEM;
		goto out;
	}
	slash = strrchr(full, '/');
	*slash = '\0';
	rc = mkdir_p(full, dirlen, fail);
	if (!rc && asprintf(&tmp, "%s/" TMP_PREFIX "XXXXXX", full) < 0) {
		tmp = NULL;
		rc = -ENOMEM;
	}
	*slash = '/';
	if (rc)
		goto out;
	if (same_file(full, data, len, mode))
		goto out;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		free(tmp);	/* nothing was created */
		tmp = NULL;
		goto out;
	}
	/* fchmod, not the umask, decides: mkstemp's 0600 until then. */
	if (fchmod(fd, mode & 07777) != 0)
		rc = -errno;
	if (!rc)
		rc = write_all(fd, data, len);
	if (!rc && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && !rc)
		rc = -errno;
	fd = -1;
	if (!rc && rename(tmp, full) != 0)
		rc = -errno;
	if (!rc)
		(*written)++;
out:
	if (rc && tmp)
		unlink(tmp);
	if (rc && !*fail && full)
		*fail = strdup(full);
	free(tmp);
	free(full);
	return rc;
}

int outtree_write(const struct pf_outtree *t, const char *dir,
		  size_t *written, char **failed)
{
	const struct pf_outfile **v = NULL;
	struct pf_buf manifest;
	size_t nwritten = 0;
	char *fail = NULL;
	int rc;

	buf_init(&manifest);
	/* "" would put the tree at the root of the file system. */
	if (!dir || !*dir) {
		rc = -EINVAL;
		fail = strdup("");
		goto out;
	}
	rc = mkdir_p(dir, 0, &fail);
	if (!rc)
		rc = sorted_view(t, &v);
	for (size_t i = 0; !rc && i < t->n; i++)
		rc = write_file(dir, v[i]->path, v[i]->data, v[i]->len,
				v[i]->mode, &nwritten, &fail);
	/* Last, so a manifest never lists a file that is not in place yet. */
	if (!rc) {
		rc = manifest_render(t, &manifest);
		if (rc && asprintf(&fail, "%s/" MANIFEST_NAME, dir) < 0)
			fail = NULL;
	}
	if (!rc)
		rc = write_file(dir, MANIFEST_NAME, manifest.data, manifest.len,
				0644, &nwritten, &fail);
out:
	if (rc && !fail && dir)
		fail = strdup(dir);	/* -ENOMEM before any path was tried */
	if (written)
		*written = nwritten;
	if (failed)
		*failed = rc ? fail : NULL;
	if (!failed || !rc)
		free(fail);
	buf_release(&manifest);
	free(v);
	return rc;
}
