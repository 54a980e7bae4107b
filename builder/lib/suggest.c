#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/suggest.h"

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;

	return m < c ? m : c;
}

/* Optimal string alignment: a swap of two neighbours ("vfoi") is one edit. */
size_t suggest_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), w = lb + 1, d;
	size_t *m = calloc((la + 1) * w, sizeof(*m));

	if (!m)
		return (size_t)-1;
	for (size_t i = 0; i <= la; i++)
		m[i * w] = i;
	for (size_t j = 0; j <= lb; j++)
		m[j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			int ca = tolower((unsigned char)a[i - 1]);
			int cb = tolower((unsigned char)b[j - 1]);
			size_t cost = ca != cb;

			m[i * w + j] = min3(m[(i - 1) * w + j] + 1,
					    m[i * w + j - 1] + 1,
					    m[(i - 1) * w + j - 1] + cost);
			if (i > 1 && j > 1 &&
			    ca == tolower((unsigned char)b[j - 2]) &&
			    tolower((unsigned char)a[i - 2]) == cb &&
			    m[(i - 2) * w + j - 2] + 1 < m[i * w + j])
				m[i * w + j] = m[(i - 2) * w + j - 2] + 1;
		}
	}
	d = m[la * w + lb];
	free(m);
	return d;
}

const char *suggest_closest(const char *word, const char *const *candidates,
			    size_t n)
{
	size_t limit = strlen(word) / 3;
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	bool best_initial = false;

	if (limit < 1)
		limit = 1;
	for (size_t i = 0; i < n; i++) {
		size_t d = suggest_distance(word, candidates[i]);
		/* On a tie, a candidate with the same first letter wins
		 * ("gpu": "gpus" rather than "cpu"). */
		bool initial = tolower((unsigned char)word[0]) ==
			       tolower((unsigned char)candidates[i][0]);

		if (d > limit)
			continue;
		if (d < best_d || (d == best_d && initial && !best_initial)) {
			best = candidates[i];
			best_d = d;
			best_initial = initial;
		}
	}
	return best;
}
