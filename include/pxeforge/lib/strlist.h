/* A list of owned strings, kept in insertion order. */
#ifndef PXEFORGE_STRLIST_H
#define PXEFORGE_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

struct pf_strlist {
	char **v;
	size_t n;
	size_t cap;
};

void strlist_init(struct pf_strlist *l);
void strlist_release(struct pf_strlist *l);
/* Appends a copy; 0 or -ENOMEM. */
int strlist_push(struct pf_strlist *l, const char *s);
/* Appends a copy unless an equal string is present; 0 or -ENOMEM. */
int strlist_push_unique(struct pf_strlist *l, const char *s);
bool strlist_contains(const struct pf_strlist *l, const char *s);

#endif
