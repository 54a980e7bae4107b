/* A set of strings with a number each, for finding duplicates among many
 * (host names, MACs) in linear time. Keys are borrowed: the caller keeps
 * them alive and unchanged while the index is in use. */
#ifndef PXEFORGE_LIB_STRINDEX_H
#define PXEFORGE_LIB_STRINDEX_H

#include <stddef.h>

struct pf_strindex_slot;

struct pf_strindex {
	struct pf_strindex_slot *v;
	size_t cap;	/* a power of two, or 0 */
	size_t n;
};

void strindex_init(struct pf_strindex *ix);
void strindex_release(struct pf_strindex *ix);
/* key present: 1 and *val set to the number it was added with; absent:
 * added with *val, 0; -ENOMEM (the index unchanged). */
int strindex_add_or_find(struct pf_strindex *ix, const char *key, size_t *val);
/* key present: 1 and *val set; absent: 0, *val untouched. */
int strindex_find(const struct pf_strindex *ix, const char *key, size_t *val);

#endif
