/* Did-you-mean: the closest candidate by edit distance. */
#ifndef PXEFORGE_SUGGEST_H
#define PXEFORGE_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>

/* Levenshtein distance, case-insensitive. */
size_t suggest_distance(const char *a, const char *b);
/* The candidate closest to word, or NULL when none is within
 * max(1, strlen(word) / 3) edits. */
const char *suggest_closest(const char *word, const char *const *candidates,
			    size_t n);

#endif
