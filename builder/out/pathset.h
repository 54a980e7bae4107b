/* A set of paths (open addressing, FNV-1a): the files a tree or a writer
 * holds and the directories they need, so that a clash (a path twice, or
 * a file where another path needs a directory) is found in O(depth) per
 * path, not by comparing with every path before it. */
#ifndef PXEFORGE_OUT_PATHSET_H
#define PXEFORGE_OUT_PATHSET_H

#include <stdbool.h>
#include <stddef.h>

struct pathset {
	char **slot;	/* owned copies, NULL when free */
	size_t n, cap;
};

void pathset_init(struct pathset *s);
void pathset_release(struct pathset *s);
bool pathset_has(const struct pathset *s, const char *path, size_t len);
/* Adds a copy of path's first len bytes (already there: 0). 0 or -ENOMEM. */
int pathset_add(struct pathset *s, const char *path, size_t len);

/* files and dirs of one tree: path can join them (not a file already,
 * not a directory another path needs, no parent of it a file). */
bool pathset_fits(const struct pathset *files, const struct pathset *dirs,
		  const char *path);
/* Records path in files and each of its parents in dirs. 0 or -ENOMEM. */
int pathset_put(struct pathset *files, struct pathset *dirs, const char *path);

#endif
