/* outtree_write: the whole tree through the writer (outwriter.h) at
 * once: open, one put, commit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/out/outtree.h"
#include "pxeforge/out/outwriter.h"
#include "outwrite.h"

int outwriter_sum(struct pf_outwriter *w, const char *path,
		  struct pf_filesum *sum)
{
	struct wfile *rec = w->done ? wfile_find(w, path) : NULL;

	if (!rec || !rec->has_sum || rec->foreign)
		return -ENOENT;
	*sum = rec->sum;
	return 0;
}

int outwriter_list(const struct pf_outwriter *w, struct pf_outtree *t)
{
	int rc = w && w->done ? 0 : -EINVAL;

	for (size_t i = 0; !rc && i < w->n; i++) {
		const struct wfile *rec = &w->v[i];

		if (!rec->has_sum || rec->foreign)
			continue;
		rc = outtree_add(t, rec->path, NULL, 0, rec->mode);
		if (!rc) {
			t->files[t->n - 1].summed = true;
			t->files[t->n - 1].sum = rec->sum;
		}
	}
	return rc;
}

int outtree_write(struct pf_outtree *t, const char *dir,
		  struct pf_outstats *st, char **failed)
{
	struct pf_outwriter_opts opts = { .progress = t->progress };

	return outtree_write_with(t, dir, &opts, st, failed);
}

int outtree_write_with(struct pf_outtree *t, const char *dir,
		       const struct pf_outwriter_opts *opts,
		       struct pf_outstats *st, char **failed)
{
	struct pf_outwriter *w = NULL;
	struct pf_outstats s;
	char *fail = NULL;
	int rc;

	memset(&s, 0, sizeof(s));
	for (size_t i = 0; i < t->n; i++)
		t->files[i].summed = false;
	rc = outwriter_open(dir, opts, &w, &fail);
	if (!rc) {
		rc = outwriter_put(w, t, &fail);
		if (rc)
			s = *outwriter_stats(w);
	}
	if (w && !rc)
		rc = outwriter_commit(w, &s, &fail);
	/* what the gens made, for the caller (a bundle lists every sum) */
	for (size_t i = 0; !rc && i < t->n; i++) {
		struct pf_outfile *f = &t->files[i];
		if (!f->summed)
			f->summed = outwriter_sum(w, f->path, &f->sum) == 0;
	}
	outwriter_free(w);
	if (rc) {
		s.hashed = 0;
		/* -ENOMEM before any path was tried */
		if (!fail)
			fail = strdup(dir ? dir : "");
	}
	if (st)
		*st = s;
	if (failed)
		*failed = fail;
	else
		free(fail);
	return rc;
}
