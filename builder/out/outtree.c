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

#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/hex.h"
#include "pxeforge/lib/secret.h"
#include "pxeforge/out/outstate.h"
#include "pxeforge/out/outtree.h"
#include "outwrite.h"
#include "pathset.h"

/* What outtree_push checks a new path against. */
struct pf_outtree_paths {
	struct pathset files, dirs;
};

#if JSON_INTEGER_IS_LONG_LONG
#define PF_JSON_INT_MAX LLONG_MAX
#else
#define PF_JSON_INT_MAX LONG_MAX
#endif

void outtree_init(struct pf_outtree *t)
{
	t->files = NULL;
	t->n = 0;
	t->cap = 0;
	t->progress = NULL;
	t->paths = NULL;
}

void outtree_release(struct pf_outtree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->files[i].path);
		/* owner-only files are secrets (the NoCloud user-data) */
		if (t->files[i].data && outtree_is_secret(t->files[i].mode))
			secret_wipe(t->files[i].data, t->files[i].len);
		free(t->files[i].data);
		free(t->files[i].src);
		free(t->files[i].recipe);
		free(t->files[i].pin);
	}
	free(t->files);
	if (t->paths) {
		pathset_release(&t->paths->files);
		pathset_release(&t->paths->dirs);
		free(t->paths);
	}
	outtree_init(t);
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

/* pxeforge's own names: the records and the temporary files. */
static bool path_reserved(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strcmp(path, PF_MANIFEST_NAME) || !strcmp(path, PF_STATE_NAME) ||
	       !strncmp(base, PF_TMP_PREFIX, strlen(PF_TMP_PREFIX));
}

static int outtree_push(struct pf_outtree *t, struct pf_outfile *f)
{
	if (!f->path || !path_normalised(f->path) || !utf8_valid(f->path) ||
	    path_reserved(f->path))
		return -EINVAL;
	if (!t->paths) {
		t->paths = calloc(1, sizeof(*t->paths));
		if (!t->paths)
			return -ENOMEM;
	}
	/* a path twice, or a file where another needs a directory */
	if (!pathset_fits(&t->paths->files, &t->paths->dirs, f->path))
		return -EINVAL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct pf_outfile *v = realloc(t->files, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->files = v;
		t->cap = cap;
	}
	if (pathset_put(&t->paths->files, &t->paths->dirs, f->path))
		return -ENOMEM;	/* a path half recorded only costs a refusal */
	f->path = strdup(f->path);
	if (!f->path)
		return -ENOMEM;
	t->files[t->n++] = *f;
	return 0;
}

int outtree_add(struct pf_outtree *t, const char *path, const void *data,
		size_t len, mode_t mode)
{
	struct pf_outfile f = { .path = (char *)path, .len = len, .mode = mode };
	int rc;

	if (len && !data)
		return -EINVAL;
	if (len == SIZE_MAX)
		return -ENOMEM;
	/* One spare byte keeps text NUL-terminated for callers and tests. */
	f.data = malloc(len + 1);
	if (!f.data)
		return -ENOMEM;
	if (len)
		memcpy(f.data, data, len);
	f.data[len] = '\0';
	rc = outtree_push(t, &f);
	if (rc)
		free(f.data);
	return rc;
}

int outtree_add_pinned(struct pf_outtree *t, const char *path,
		       const char *src, mode_t mode, const char *sha256)
{
	struct pf_outfile f = { .path = (char *)path, .mode = mode };
	char pin[65];
	int rc = -ENOMEM;

	if (!src || !*src || (sha256 && sha256_hex_lower(sha256, pin)))
		return -EINVAL;
	f.src = strdup(src);
	f.pin = sha256 ? strdup(pin) : NULL;
	if (f.src && (f.pin || !sha256))
		rc = outtree_push(t, &f);
	if (rc) {
		free(f.src);
		free(f.pin);
	}
	return rc;
}

int outtree_add_file(struct pf_outtree *t, const char *path, const char *src,
		     mode_t mode)
{
	return outtree_add_pinned(t, path, src, mode, NULL);
}

int outtree_add_gen(struct pf_outtree *t, const char *path, const char *from,
		    const char *recipe, mode_t mode, pf_outgen_fn gen,
		    void *ctx)
{
	struct pf_outfile f = { .path = (char *)path, .mode = mode,
				.gen = gen, .gen_ctx = ctx };
	int rc = -ENOMEM;

	if (!from || !path_normalised(from) || !recipe || !gen)
		return -EINVAL;
	f.src = strdup(from);
	f.recipe = strdup(recipe);
	if (f.src && f.recipe)
		rc = outtree_push(t, &f);
	if (rc) {
		free(f.src);
		free(f.recipe);
	}
	return rc;
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

int outtree_sorted(const struct pf_outtree *t, struct pf_outfile ***out)
{
	struct pf_outfile **v;

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

static int path_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, (*(struct pf_outfile *const *)elem)->path);
}

struct pf_outfile *outtree_sorted_find(struct pf_outfile **v, size_t n,
				       const char *path)
{
	struct pf_outfile **f = n ? bsearch(path, v, n, sizeof(*v),
					    path_key_cmp) : NULL;

	return f ? *f : NULL;
}

/* Their hashes stay out of the manifest too. */
bool outtree_is_secret(mode_t mode)
{
	return (mode & 0077) == 0;
}

static int manifest_entry(const struct pf_outfile *f, json_t *files)
{
	json_t *entry, *path;

	if (!f->summed)
		return -EINVAL;
	if (f->sum.size > (uint64_t)PF_JSON_INT_MAX)
		return -EOVERFLOW;
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
	    json_object_set_new(entry, "sha256", json_string(f->sum.sha256)) ||
	    json_object_set_new(entry, "size",
				json_integer((json_int_t)f->sum.size))) {
		json_decref(entry);
		return -ENOMEM;
	}
	return json_array_append_new(files, entry) ? -ENOMEM : 0;
}

int manifest_render(const struct pf_outtree *t, struct pf_buf *out)
{
	struct pf_outfile **v = NULL;
	json_t *root = NULL, *files;
	int rc;

	rc = outtree_sorted(t, &v);
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
		if (outtree_is_secret(v[i]->mode))
			continue;
		rc = manifest_entry(v[i], files);
		if (rc)
			goto out;
	}
	rc = outstate_json_text(root, out);
out:
	json_decref(root);
	free(v);
	return rc;
}
