/* Files of OUT that a generator makes from another file of the tree (a
 * containerDisk from OUT's disk image): made at commit, in the staging
 * directory, from the staged (or carried) input, and only when the
 * generator's recipe (every option it takes), its input's content or its
 * output changed since the state file recorded them. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/fs.h"
#include "outwrite.h"

int gens_decide(struct pf_outwriter *w, bool *run)
{
	for (size_t i = 0; i < w->n; i++) {
		struct wfile *rec = &w->v[i], *from;
		const struct pf_outrecord *prev;
		char fp[PF_FINGERPRINT_MAX] = "", *id = NULL;
		struct stat st;
		int rc;

		if (rec->how != WF_GEN)
			continue;
		from = wfile_find(w, rec->from);
		if (!from || from->gen || from->foreign)
			return fail_at(w, rec->path, -EINVAL);
		/* the input by its content: a carried input's inode changes */
		if (asprintf(&id, "sha256:%s:%" PRIu64, from->sum.sha256,
			     from->sum.size) < 0)
			return -ENOMEM;
		rc = wfile_set(&rec->source, rec->recipe);
		free(rec->source_stat);
		rec->source_stat = id;
		if (rc)
			return rc;
		prev = outrecords_find(&w->prev, rec->path);
		if (out_lstat(w, rec->path, &st) == 0 && S_ISREG(st.st_mode) &&
		    (st.st_mode & 07777) == rec->mode)
			stat_fingerprint(&st, fp);
		if (prev && prev->has_sum && prev->stat && !strcmp(prev->stat, fp) &&
		    prev->source && !strcmp(prev->source, rec->recipe) &&
		    prev->source_stat && !strcmp(prev->source_stat, id)) {
			rec->how = WF_CARRIED;
			rec->has_sum = true;
			rec->sum = prev->sum;
			rc = wfile_set(&rec->stat, fp);
			if (rc)
				return rc;
			continue;
		}
		*run = true;
		/* what OUT holds, if it can be vouched for: kept when the
		 * generator makes the same bytes again */
		if (prev && prev->has_sum && prev->stat &&
		    !strcmp(prev->stat, fp)) {
			rec->has_sum = true;
			rec->sum = prev->sum;
			rc = wfile_set(&rec->stat, fp);
			if (rc)
				return rc;
		}
	}
	return 0;
}

/* The staged output is what OUT has: OUT's file carried instead. */
static int keep_same(struct pf_outwriter *w, struct wfile *rec, bool *kept)
{
	char fp[PF_FINGERPRINT_MAX];
	const char *last;
	int fd, rc;

	*kept = false;
	fd = dircache_parent(&w->stagedc, rec->path, &last);
	if (fd < 0)
		return fd;
	if (unlinkat(fd, last, 0) != 0)
		return -errno;
	rc = stage_carry(w, rec->path, fp);
	if (!rc)
		rc = wfile_set(&rec->stat, fp);
	*kept = rc == 0;
	return rc;
}

int gens_run(struct pf_outwriter *w)
{
	for (size_t i = 0; i < w->n; i++) {
		struct wfile *rec = &w->v[i];
		char *full = NULL, *in = NULL, *fail = NULL;
		char fp[PF_FINGERPRINT_MAX];
		bool replaced = false;
		struct stat st;
		int rc;

		struct pf_filesum had = rec->sum;
		bool known = rec->has_sum, kept = false;

		if (rec->how != WF_GEN)
			continue;
		rc = stage_prepare(w, rec->path, &full);
		in = rc ? NULL : path_join(w->stage, rec->from);
		if (!rc && !in)
			rc = -ENOMEM;
		if (!rc)
			rc = rec->gen(rec->gen_ctx, in, full, rec->mode, &rec->sum,
				      &replaced, &fail);
		if (!rc && lstat(full, &st) != 0)
			rc = -errno;
		free(fail);	/* it names the staging directory: OUT's name instead */
		free(full);
		free(in);
		if (!rc && known && had.size == rec->sum.size &&
		    !strcmp(had.sha256, rec->sum.sha256))
			rc = keep_same(w, rec, &kept);
		if (rc)
			return fail_at(w, rec->path, rc);
		rec->has_sum = true;
		if (kept) {
			rec->how = WF_CARRIED;
			continue;
		}
		stat_fingerprint(&st, fp);
		rec->how = WF_WRITTEN;
		w->st.rewritten++;
		rc = wfile_set(&rec->stat, fp);
		if (rc)
			return rc;
	}
	return 0;
}
