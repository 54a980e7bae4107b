/* The writer's record of each file, and its failure's path. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/fs.h"
#include "outwrite.h"

int wfile_set(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

void wfile_release(struct wfile *f)
{
	free(f->path);
	free(f->stat);
	free(f->source);
	free(f->source_stat);
	free(f->from);
	free(f->recipe);
}

struct wfile *wfile_new(struct pf_outwriter *w, const char *path,
			mode_t mode)
{
	struct wfile *f;

	if (w->n == w->cap) {
		size_t cap = w->cap ? 2 * w->cap : 64;
		struct wfile *v = realloc(w->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		w->v = v;
		w->cap = cap;
	}
	f = &w->v[w->n];
	memset(f, 0, sizeof(*f));
	f->path = strdup(path);
	if (!f->path)
		return NULL;
	f->mode = mode & 07777;
	w->n++;
	return f;
}

static int wfile_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, ((const struct wfile *)elem)->path);
}

struct wfile *wfile_find(struct pf_outwriter *w, const char *path)
{
	return w->n ? bsearch(path, w->v, w->n, sizeof(*w->v), wfile_key_cmp)
		    : NULL;
}

int fail_at(struct pf_outwriter *w, const char *rel, int rc)
{
	free(w->fail);
	w->fail = rel ? path_join(w->dir, rel) : strdup(w->dir);
	return rc;
}
