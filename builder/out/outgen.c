/* Files of OUT that a generator makes from another file of the tree (a
 * containerDisk from OUT's disk image): made after every other file is in
 * place, from what OUT holds (a pinned source's checked copy), and only
 * when the generator's recipe (every option it takes), its input or its
 * output changed since the state file recorded them. */
#include <errno.h>
#include <stdlib.h>

#include "pxeforge/lib/fs.h"
#include "outwrite.h"

int gens_check(struct writing *w, struct pf_outfile **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct pf_outfile *from;

		if (!v[i]->gen)
			continue;
		from = outtree_sorted_find(v, n, v[i]->src);
		if (!from || from->gen) {
			w->fail = path_join(w->dir, v[i]->path);
			return -EINVAL;
		}
	}
	return 0;
}

int write_gen(struct writing *w, struct pf_outfile *f, const char *full,
	      bool *replaced)
{
	/* the input is the tree's file, in OUT by now */
	char *in_out = path_join(w->dir, f->src);
	struct streaming s;
	int rc;

	*replaced = false;
	rc = stream_begin(w, f, full, in_out, f->recipe, &s);
	if (!rc && !in_out)
		rc = -ENOMEM;
	if (rc)
		goto out;
	if (stream_unchanged(f, &s)) {
		rc = stream_record(w, f, &s, NULL);
		goto out;
	}
	rc = stream_open(&s);
	if (rc) {
		rc = stream_source_failed(w, &s, rc);
		goto out;
	}
	rc = f->gen(f->gen_ctx, s.src, full, f->mode, &f->sum, replaced,
		    &w->fail);
	if (rc)
		goto out;
	rc = stream_same_source(&s, s.size);
	if (rc)
		rc = stream_source_failed(w, &s, rc);
	else
		rc = stream_record(w, f, &s, full);
out:
	stream_end(&s);
	free(in_out);
	return rc;
}
