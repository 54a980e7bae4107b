/* Open addressing with linear probing; the table doubles at half full, so
 * a probe sequence stays short. FNV-1a: keys here are short. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/strindex.h"

struct pf_strindex_slot {
	const char *key;	/* NULL: empty */
	uint64_t hash;
	size_t val;
};

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return h;
}

void strindex_init(struct pf_strindex *ix)
{
	ix->v = NULL;
	ix->cap = 0;
	ix->n = 0;
}

void strindex_release(struct pf_strindex *ix)
{
	if (!ix)
		return;
	free(ix->v);
	strindex_init(ix);
}

static struct pf_strindex_slot *probe(struct pf_strindex_slot *v, size_t cap,
				      const char *key, uint64_t hash)
{
	size_t i = (size_t)hash & (cap - 1);

	while (v[i].key && (v[i].hash != hash || strcmp(v[i].key, key) != 0))
		i = (i + 1) & (cap - 1);
	return &v[i];
}

static int grow(struct pf_strindex *ix)
{
	size_t cap = ix->cap ? ix->cap * 2 : 64;
	struct pf_strindex_slot *v;

	if (cap < ix->cap || cap > SIZE_MAX / sizeof(*v))
		return -ENOMEM;
	v = calloc(cap, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < ix->cap; i++)
		if (ix->v[i].key)
			*probe(v, cap, ix->v[i].key, ix->v[i].hash) = ix->v[i];
	free(ix->v);
	ix->v = v;
	ix->cap = cap;
	return 0;
}

int strindex_add_or_find(struct pf_strindex *ix, const char *key, size_t *val)
{
	uint64_t hash = fnv1a(key);
	struct pf_strindex_slot *s;

	if (2 * (ix->n + 1) > ix->cap && grow(ix))
		return -ENOMEM;
	s = probe(ix->v, ix->cap, key, hash);
	if (s->key) {
		*val = s->val;
		return 1;
	}
	s->key = key;
	s->hash = hash;
	s->val = *val;
	ix->n++;
	return 0;
}

int strindex_find(const struct pf_strindex *ix, const char *key, size_t *val)
{
	const struct pf_strindex_slot *s;

	if (!ix->cap)
		return 0;
	s = probe(ix->v, ix->cap, key, fnv1a(key));
	if (!s->key)
		return 0;
	*val = s->val;
	return 1;
}
