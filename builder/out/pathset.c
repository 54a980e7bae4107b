#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pathset.h"

void pathset_init(struct pathset *s)
{
	s->slot = NULL;
	s->n = s->cap = 0;
}

void pathset_release(struct pathset *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->cap; i++)
		free(s->slot[i]);
	free(s->slot);
	pathset_init(s);
}

static uint64_t hash(const char *p, size_t len)
{
	uint64_t h = 1469598103934665603ull;

	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)p[i];
		h *= 1099511628211ull;
	}
	return h;
}

/* The slot holding path, or the free one where it would go. */
static size_t find(const struct pathset *s, const char *path, size_t len)
{
	size_t i = (size_t)hash(path, len) & (s->cap - 1);

	while (s->slot[i] && (strncmp(s->slot[i], path, len) ||
			      s->slot[i][len]))
		i = (i + 1) & (s->cap - 1);
	return i;
}

bool pathset_has(const struct pathset *s, const char *path, size_t len)
{
	return s->cap && s->slot[find(s, path, len)];
}

static int grow(struct pathset *s)
{
	size_t cap = s->cap ? 2 * s->cap : 64;
	char **old = s->slot;
	size_t oldcap = s->cap;

	s->slot = calloc(cap, sizeof(*s->slot));
	if (!s->slot) {
		s->slot = old;
		return -ENOMEM;
	}
	s->cap = cap;
	for (size_t i = 0; i < oldcap; i++)
		if (old[i])
			s->slot[find(s, old[i], strlen(old[i]))] = old[i];
	free(old);
	return 0;
}

int pathset_add(struct pathset *s, const char *path, size_t len)
{
	size_t i;

	/* at most half full: probes stay short */
	if (2 * (s->n + 1) > s->cap && grow(s))
		return -ENOMEM;
	i = find(s, path, len);
	if (s->slot[i])
		return 0;
	s->slot[i] = strndup(path, len);
	if (!s->slot[i])
		return -ENOMEM;
	s->n++;
	return 0;
}

bool pathset_fits(const struct pathset *files, const struct pathset *dirs,
		  const char *path)
{
	size_t len = strlen(path);

	if (pathset_has(files, path, len) || pathset_has(dirs, path, len))
		return false;
	for (const char *p = path; (p = strchr(p, '/')); p++)
		if (pathset_has(files, path, (size_t)(p - path)))
			return false;
	return true;
}

int pathset_put(struct pathset *files, struct pathset *dirs, const char *path)
{
	int rc = pathset_add(files, path, strlen(path));

	for (const char *p = path; !rc && (p = strchr(p, '/')); p++)
		rc = pathset_add(dirs, path, (size_t)(p - path));
	return rc;
}
