/* Internal to out/: the writer (outwriter.h) and its parts, none calling
 * back into one that calls it:
 *   outwrite.c   outtree_write: open, put the whole tree, commit
 *   outcommit.c  commit: what OUT holds besides, the records, the switch
 *   outwriter.c  open, put, free; files held in memory
 *   wfile.c      the record kept of each file
 *   outgen.c     files a generator makes from another file of the tree
 *   outcopy.c    files streamed from a source (pinned ones checked)
 *   outstage.c   the file system: lock, staging directory, OUT read
 *                without following symlinks, removal, the switch
 *   outtree.c    the tree itself (what files), pathset.c its clash check */
#ifndef PXEFORGE_OUT_OUTWRITE_H
#define PXEFORGE_OUT_OUTWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/out/outstate.h"
#include "pxeforge/out/outtree.h"
#include "pxeforge/out/outwriter.h"
#include "pathset.h"

enum wfile_how {
	WF_WRITTEN,	/* in the staging directory */
	WF_CARRIED,	/* OUT's file, to be linked into the staging directory */
	WF_GEN,		/* made at commit */
};

/* What the writer keeps of each file. */
struct wfile {
	char *path;
	mode_t mode;
	unsigned char how;	/* enum wfile_how */
	bool has_sum;
	bool foreign;		/* not pxeforge's, or its bundle record: in
				 * neither manifest nor state */
	struct pf_filesum sum;
	char *stat;		/* fingerprint of the file as it is in OUT */
	char *source, *source_stat;	/* streamed or made: from what */
	/* WF_GEN until commit */
	char *from, *recipe;
	pf_outgen_fn gen;
	void *gen_ctx;
};

/* One directory below a root, kept open: files come mostly in path
 * order, so the next one is mostly in it too. */
struct dircache {
	int root;	/* not owned */
	char *rel;	/* the directory's path below root ("" for root) */
	int fd;
	bool make;	/* missing directories are made (the staging side) */
};

struct pf_outwriter {
	char *dir;		/* OUT as the caller named it: for messages */
	char *out;		/* OUT resolved */
	char *parent, *name;	/* its directory and last component */
	char *stage;		/* parent/.name.pxeforge-stage */
	size_t existed;		/* bytes of parent that existed before */
	bool made;		/* so some of parent was made */
	int parentfd, outfd, lockfd, stagefd;	/* -1 when none */
	struct dircache outdc, stagedc;
	struct pf_outwriter_opts opts;
	struct pf_outrecords prev;
	char *prev_manifest, *prev_state;	/* OUT's texts, NULL: none */
	size_t prev_manifest_len, prev_state_len;
	struct wfile *v;
	size_t n, cap;
	struct pathset files, dirs;
	struct pf_outstats st;
	char *fail;
	bool stray;		/* OUT holds what the new tree would drop */
	bool done;		/* committed, or failed in commit */
};

/* outtree.c: the tree's files in path order, without reordering the
 * tree: *out malloc'd (NULL for an empty tree). 0 or -ENOMEM. */
int outtree_sorted(const struct pf_outtree *t, struct pf_outfile ***out);
/* The file of v (sorted, n long) at path, or NULL. */
struct pf_outfile *outtree_sorted_find(struct pf_outfile **v, size_t n,
				       const char *path);

/* outstage.c */
void dircache_init(struct dircache *dc, int root, bool make);
void dircache_release(struct dircache *dc);
/* The directory fd holding rel (made with its parents when dc->make),
 * none of its components followed when a symlink; *last is rel's last
 * component. Owned by dc. -errno on failure. */
int dircache_parent(struct dircache *dc, const char *rel, const char **last);
/* lstat of OUT/rel without following any symlink on the way: 0 or -errno. */
int out_lstat(struct pf_outwriter *w, const char *rel, struct stat *st);
/* OUT/rel opened for reading the same way. fd or -errno. */
int out_open(struct pf_outwriter *w, const char *rel);
/* Makes the staging directory unless it is there. 0 or -errno. */
int stage_make(struct pf_outwriter *w);
/* stage/rel's parent made (and every directory on the way); *full is
 * stage/rel, malloc'd. 0 or -errno. */
int stage_prepare(struct pf_outwriter *w, const char *rel, char **full);
/* A new file stage/rel with data and mode; *fp its fingerprint. */
int stage_write(struct pf_outwriter *w, const char *rel, const void *data,
		size_t len, mode_t mode, char fp[PF_FINGERPRINT_MAX]);
/* OUT/rel into stage/rel: a hard link, or a copy when the file system
 * refuses one (EXDEV, EMLINK, EPERM); *fp the staged file's fingerprint. */
int stage_carry(struct pf_outwriter *w, const char *rel,
		char fp[PF_FINGERPRINT_MAX]);
/* Removes the directory name below dirfd and all it holds, following no
 * symlink. Missing is fine. 0 or -errno. */
int tree_remove(int dirfd, const char *name);
/* syncfs, the switch, the parent synced, the old tree removed. */
int stage_switch(struct pf_outwriter *w);
int lock_out(struct pf_outwriter *w);

/* wfile.c */
/* A new record for path (a copy), appended. NULL on -ENOMEM. */
struct wfile *wfile_new(struct pf_outwriter *w, const char *path,
			mode_t mode);
/* The record at path in w->v, sorted; NULL when none. */
struct wfile *wfile_find(struct pf_outwriter *w, const char *path);
int wfile_set(char **dst, const char *src);
void wfile_release(struct wfile *f);
/* w's failure: OUT/rel (rc returned). */
int fail_at(struct pf_outwriter *w, const char *rel, int rc);

/* outcopy.c: f streamed from f->src, pinned or not, into rec. */
int put_stream(struct pf_outwriter *w, struct pf_outfile *f,
	       struct wfile *rec);

/* outgen.c: for each gen, whether OUT's output can stay (carried) or it
 * must be made (*run); then, in the staging directory, made. */
int gens_decide(struct pf_outwriter *w, bool *run);
int gens_run(struct pf_outwriter *w);

/* outcommit.c */
int commit_records(struct pf_outwriter *w);

#endif
