/* The output tree written crash-safe and in pieces. outwriter_open locks
 * OUT (a lock file beside it), reads what the previous build recorded;
 * outwriter_put writes each changed file of a chunk into a staging
 * directory beside OUT (OUT itself is not touched) and keeps only path,
 * mode, size, SHA-256 and a stat fingerprint of each; outwriter_commit
 * carries the unchanged files over from OUT (hard links: no copy, mtime
 * kept), writes manifest.json and the state file, syncs the staging
 * directory once (syncfs) and exchanges it with OUT atomically
 * (renameat2 RENAME_EXCHANGE), then removes the old tree. A rebuild
 * that would change nothing stages nothing and leaves OUT as it is.
 * Any failure before the switch leaves OUT exactly as it was.
 *
 * Beside OUT (same parent): .<name>.pxeforge-lock (kept, flock'd while a
 * build runs) and .<name>.pxeforge-stage (only while a build runs; one a
 * killed build left is removed by the next). A file system that cannot
 * exchange two directories (RENAME_EXCHANGE: EINVAL, ENOSYS) fails the
 * build with -EOPNOTSUPP, OUT as it was: there is no way there to switch
 * a directory without a moment when OUT is missing or mixed. */
#ifndef PXEFORGE_OUTWRITER_H
#define PXEFORGE_OUTWRITER_H

#include <stdbool.h>

#include "pxeforge/lib/progress.h"
#include "pxeforge/out/outtree.h"

#define PF_STAGE_SUFFIX ".pxeforge-stage"
#define PF_LOCK_SUFFIX ".pxeforge-lock"

enum pf_outnote {
	PF_OUTNOTE_WAITING,	/* another build holds OUT's lock (path: OUT) */
	PF_OUTNOTE_KEPT,	/* a file pxeforge did not write, carried over */
	PF_OUTNOTE_REPLACED,	/* one in the way of the tree's files: dropped */
};

struct pf_outwriter_opts {
	/* true: a file of the previous build that this build did not put is
	 * carried over as it is, with its manifest entry and state record
	 * (build --host: the other hosts' files). NULL: none is. */
	bool (*keep_prev)(const char *path, void *ctx);
	void *ctx;
	/* what the caller says about each note (path: OUT/...); NULL: none */
	void (*note)(enum pf_outnote what, const char *path, void *ctx);
	/* starts the bar of each file copied from a source; NULL: none */
	pf_progress_start_fn progress;
};

struct pf_outwriter;

/* Locks OUT (waiting for another build, after a PF_OUTNOTE_WAITING),
 * removes what a killed build left beside it, loads the previous
 * manifest and state. opts may be NULL. 0 or -errno with *failed
 * (malloc'd) naming the path. */
int outwriter_open(const char *dir, const struct pf_outwriter_opts *opts,
		   struct pf_outwriter **w, char **failed);
/* Writes every file of chunk that changed into the staging directory
 * (a pinned source checked against its pin) and records path, mode and
 * sum of each (also into chunk's files: f->sum, f->summed); chunk's data
 * may be released after. A path already put, or a file where a put path
 * needs a directory (or the other way round), is -EINVAL. Gens run at
 * commit. 0 or -errno with *failed; outwriter_stats then says more
 * (source_failed, pin_want, pin_got as for outtree_write). */
int outwriter_put(struct pf_outwriter *w, struct pf_outtree *chunk,
		  char **failed);
/* The counts so far (and why the last call failed). */
const struct pf_outstats *outwriter_stats(const struct pf_outwriter *w);
/* Carries over what keep_prev says and the files pxeforge did not write
 * (PF_OUTNOTE_KEPT), runs the gens, writes manifest.json and the state
 * file, syncs, switches. *st (may be NULL) counts the whole build. 0 or
 * -errno with *failed. Whatever it returns, only outwriter_free is left. */
int outwriter_commit(struct pf_outwriter *w, struct pf_outstats *st,
		     char **failed);
/* After a commit: what path holds (a gen's output too, for a bundle).
 * 0, or -ENOENT when the tree has no such file. */
int outwriter_sum(struct pf_outwriter *w, const char *path,
		  struct pf_filesum *sum);
/* After a commit: every file of the new tree pxeforge wrote or kept
 * (not manifest.json, the state file or foreign files), path, mode and
 * sum, appended to t without content: what a bundle packs from OUT.
 * 0, -EINVAL before a commit, or -ENOMEM. */
int outwriter_list(const struct pf_outwriter *w, struct pf_outtree *t);
/* outtree_write (outtree.h) with the writer's options: open, put the
 * whole tree, commit, and every file's sum into t (gens' too). */
int outtree_write_with(struct pf_outtree *t, const char *dir,
		       const struct pf_outwriter_opts *opts,
		       struct pf_outstats *st, char **failed);
/* NULL ok. Without a commit: removes the staging directory; unlocks. */
void outwriter_free(struct pf_outwriter *w);

#endif
