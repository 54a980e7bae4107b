/* outtree_write: the passes over the tree and their order. Pinned
 * sources first (outpin.c: all checked before anything is replaced),
 * then files of an earlier build that this one lacks are removed
 * (outstate.c), then every file is written or left as it is (outcopy.c
 * streams sources, outgen.c runs generators last, when what they read is
 * in place), and last manifest.json and the state file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/out/outstate.h"
#include "pxeforge/out/outtree.h"
#include "outwrite.h"

static int write_one(struct writing *w, struct pf_outfile *f,
		     struct parked *pk)
{
	char *full = path_join(w->dir, f->path);
	bool replaced = false;
	char *slash;
	int rc;

	if (!full)
		return -ENOMEM;
	slash = strrchr(full, '/');
	*slash = '\0';
	rc = fs_mkdir_p(full, strlen(w->dir), &w->fail);
	*slash = '/';
	if (rc)
		goto out;
	if (f->gen) {
		rc = write_gen(w, f, full, &replaced);
	} else if (f->pin) {
		rc = write_pinned(w, f, pk, full, &replaced);
	} else if (f->src) {
		rc = write_stream(w, f, full, &replaced);
	} else {
		rc = hashwrite_buffer(full, f->data, f->len, f->mode, &f->sum,
				      &replaced);
		/* The state file remembers secrets: the manifest cannot. */
		if (!rc && outtree_is_secret(f->mode)) {
			struct pf_outrecord rec = { .path = f->path };

			rc = outrecords_add(&w->next, &rec);
		}
	}
	f->summed = rc == 0;
	w->st.files++;
	if (replaced)
		w->st.rewritten++;
out:
	if (rc && !w->fail)
		w->fail = full;
	else
		free(full);
	return rc;
}

struct sorted {
	struct pf_outfile **v;
	size_t n;
};

static bool tree_has(const char *path, void *ctx)
{
	const struct sorted *s = ctx;

	return outtree_sorted_find(s->v, s->n, path) != NULL;
}

/* manifest.json, then the state file (or no state file when there is
 * nothing for it to say). */
static int write_records(struct writing *w, const struct pf_outtree *t)
{
	struct pf_filesum sum;
	struct pf_buf text;
	char *path = NULL;
	bool replaced;
	int rc;

	buf_init(&text);
	rc = manifest_render(t, &text);
	path = path_join(w->dir, PF_MANIFEST_NAME);
	if (!path)
		rc = -ENOMEM;
	if (!rc)
		rc = hashwrite_buffer(path, text.data, text.len, 0644, &sum,
				      &replaced);
	if (rc)
		goto out;
	w->st.files++;
	w->st.rewritten += replaced;
	free(path);
	text.len = 0;
	path = path_join(w->dir, PF_STATE_NAME);
	if (!path) {
		rc = -ENOMEM;
		goto out;
	}
	outrecords_sort(&w->next);
	if (!w->next.n) {
		if (unlink(path) != 0 && errno != ENOENT)
			rc = -errno;
		goto out;
	}
	/* 0600: it may hold the hash of a streamed secret, and it is
	 * pxeforge's bookkeeping, nothing to serve. */
	rc = outstate_render(&w->next, &text);
	if (!rc)
		rc = hashwrite_buffer(path, text.data, text.len, 0600, &sum,
				      &replaced);
out:
	if (rc && !w->fail)
		w->fail = path;
	else
		free(path);
	buf_release(&text);
	return rc;
}

/* dir's longest prefix that exists, as a length: what a failed first
 * build leaves. */
static size_t existing_prefix(const char *dir)
{
	char *p = strdup(dir);
	size_t len = 0;
	struct stat st;

	while (p && *p && stat(p, &st) != 0) {
		char *slash = strrchr(p, '/');

		if (!slash || slash == p) {
			*p = '\0';
			break;
		}
		*slash = '\0';
	}
	if (p)
		len = strlen(p);
	free(p);
	return len;
}

/* Removes dir and its parents down to the first len bytes, each only
 * when empty: the directories a failed first pass made. */
static void unmake_dirs(const char *dir, size_t len)
{
	char *p = strdup(dir);

	while (p && strlen(p) > len && rmdir(p) == 0) {
		char *slash = strrchr(p, '/');

		if (!slash)
			break;
		*slash = '\0';
	}
	free(p);
}

int outtree_write(struct pf_outtree *t, const char *dir,
		  struct pf_outstats *st, char **failed)
{
	struct writing w = { .dir = dir, .progress = t->progress };
	struct sorted kept;
	struct pf_outrecords prev;
	struct pf_outfile **v = NULL;
	struct parked *pk = NULL;
	uint64_t hashed = hashwrite_hashed();
	size_t existed = 0;
	bool unmake = false;
	int rc;

	outrecords_init(&prev);
	outrecords_init(&w.next);
	w.prev = &prev;
	/* "" would put the tree at the root of the file system. */
	if (!dir || !*dir) {
		rc = -EINVAL;
		w.fail = strdup("");
		goto out;
	}
	for (size_t i = 0; i < t->n; i++)
		t->files[i].summed = false;
	existed = existing_prefix(dir);
	rc = outtree_sorted(t, &v);
	if (!rc)
		rc = gens_check(&w, v, t->n);
	if (!rc)
		rc = fs_mkdir_p(dir, 0, &w.fail);
	if (!rc && t->n && !(pk = calloc(t->n, sizeof(*pk))))
		rc = -ENOMEM;
	if (!rc)
		rc = outstate_load(dir, &prev);
	if (!rc) {
		rc = stage_pinned(&w, v, t->n, pk);
		unmake = rc && existed < strlen(dir);	/* as if never begun */
	}
	/* First, so that a file may become a directory and back. */
	kept = (struct sorted){ v, t->n };
	if (!rc)
		rc = outstate_remove_stale(dir, &prev, tree_has, &kept,
					   &w.st.removed, &w.fail);
	/* the files gens make last, when what they read is in place */
	for (int gens = 0; gens < 2; gens++)
		for (size_t i = 0; !rc && i < t->n; i++)
			if (!!v[i]->gen == gens)
				rc = write_one(&w, v[i], &pk[i]);
	/* Last, so a manifest never lists a file that is not in place yet. */
	if (!rc)
		rc = write_records(&w, t);
out:
	if (rc && !w.fail && dir)
		w.fail = strdup(dir);	/* -ENOMEM before any path was tried */
	parked_drop(pk, t->n);
	if (unmake)
		unmake_dirs(dir, existed);
	w.st.hashed = hashwrite_hashed() - hashed;
	if (st)
		*st = w.st;
	if (failed)
		*failed = rc ? w.fail : NULL;
	if (!failed || !rc)
		free(w.fail);
	outrecords_release(&w.next);
	outrecords_release(&prev);
	free(pk);
	free(v);
	return rc;
}
