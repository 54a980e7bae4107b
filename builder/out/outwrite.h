/* Internal to out/: one outtree_write call, shared by the files that make
 * it up (none calls back into one that calls it):
 *   outwrite.c  the passes and their order, files held in memory, the
 *               records (manifest.json, the state file)
 *   outpin.c    pinned sources: every changed one copied and checked
 *               against its sha256 before anything in OUT is replaced
 *   outgen.c    files a generator makes from another file of the tree
 *   outcopy.c   files streamed from a source (what outpin and outgen
 *               build on)
 *   outtree.c   the tree itself (what files, in what order) */
#ifndef PXEFORGE_OUT_OUTWRITE_H
#define PXEFORGE_OUT_OUTWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/lib/progress.h"
#include "pxeforge/out/outstate.h"
#include "pxeforge/out/outtree.h"

struct writing {
	const char *dir;
	const struct pf_outrecords *prev;	/* the earlier build's records */
	struct pf_outrecords next;		/* the state file's records */
	struct pf_outstats st;
	char *fail;
	pf_progress_start_fn progress;
};

/* The tree's files in path order, without reordering the tree: *out
 * malloc'd (NULL for an empty tree). 0 or -ENOMEM. */
int outtree_sorted(const struct pf_outtree *t, struct pf_outfile ***out);
/* The file of v (sorted, n long) at path, or NULL. */
struct pf_outfile *outtree_sorted_find(struct pf_outfile **v, size_t n,
				       const char *path);

/* One streamed file: what its output and source were, and what the
 * state file said of them. */
struct streaming {
	const struct pf_outrecord *prev;	/* the state file's, or NULL */
	bool out_known;		/* OUT's file is still the one prev records */
	char out_fp[PF_FINGERPRINT_MAX];
	char src_fp[PF_FINGERPRINT_MAX];
	const char *src;	/* the file read */
	const char *from;	/* what the state says it is made from */
	char *key;		/* src's source_key (owned), or NULL */
	int fd;			/* src once stream_open opened it */
	uint64_t size;		/* its size then */
};

/* Fills s for f (OUT's file at full): from is from (a gen's recipe), or
 * NULL for f->src's source_key; src is src, or NULL for f->src. 0 or
 * -ENOMEM; stream_end always. */
int stream_begin(struct writing *w, const struct pf_outfile *f,
		 const char *full, const char *src, const char *from,
		 struct streaming *s);
/* Both the source and OUT's file are as the state recorded (and a pin
 * still matches): decided by stat alone, the source is not opened. Then
 * f->sum is what OUT holds. */
bool stream_unchanged(struct pf_outfile *f, struct streaming *s);
/* Opens s->src, a regular file, and fingerprints it (s->fd, s->size,
 * s->src_fp). 0 or -errno, a failure of the source. */
int stream_open(struct streaming *s);
/* The source still has the fingerprint stream_open took and copied
 * bytes: else it changed while it was read (-EIO). */
int stream_same_source(const struct streaming *s, uint64_t copied);
/* The source read afresh: opened, copied into a temporary file for full
 * (in tmpdir, or beside full when NULL) through hw with a bar as
 * w->progress decides, checked unchanged and ended (hashwrite_end:
 * f->sum is what was read). On failure hw holds nothing and w's failure
 * names the source when it was to blame. */
int stream_fresh(struct writing *w, struct pf_outfile *f, struct streaming *s,
		 const char *full, const char *tmpdir, struct pf_hashwrite *hw);
/* hw (ended) replaces OUT's file at full unless that holds the same. */
int stream_install(struct streaming *s, struct pf_outfile *f,
		   struct pf_hashwrite *hw, bool *replaced);
/* f is in place at full (NULL: OUT's file is as stream_begin found it):
 * its record for the state file. 0 or -errno. */
int stream_record(struct writing *w, const struct pf_outfile *f,
		  struct streaming *s, const char *full);
/* rc, with w's failure naming the source. */
int stream_source_failed(struct writing *w, const struct streaming *s,
			 int rc);
void stream_end(struct streaming *s);

/* A file streamed from f->src as it is (no pin, no gen), read only when
 * it or OUT's copy changed. */
int write_stream(struct writing *w, struct pf_outfile *f, const char *full,
		 bool *replaced);

/* A pinned source's copy made in the first pass: written, hashed and held
 * against the pin, waiting in OUT's top directory to be installed. */
struct parked {
	struct pf_hashwrite hw;
	char src_fp[PF_FINGERPRINT_MAX];
	bool on;
};

/* The first pass, over v (sorted, n long; pk has n slots): every pinned
 * source that changed is copied and held against its pin before anything
 * in OUT is replaced or removed, so a wrong one leaves OUT as it was;
 * each byte is still read once. A mismatch is -EBADMSG with w->st's
 * pin_want and pin_got. */
int stage_pinned(struct writing *w, struct pf_outfile **v, size_t n,
		 struct parked *pk);
/* The second pass for a pinned file: its parked copy installed, or (left
 * unchanged in the first pass) as write_stream with the pin checked. */
int write_pinned(struct writing *w, struct pf_outfile *f, struct parked *pk,
		 const char *full, bool *replaced);
/* Drops every copy still parked. */
void parked_drop(struct parked *pk, size_t n);

/* Every gen reads a file of the tree that no gen makes (a bug in the
 * caller otherwise: -EINVAL): checked before anything is written. */
int gens_check(struct writing *w, struct pf_outfile **v, size_t n);
/* A file f->gen makes from OUT's f->src (in place by now), made only
 * when the recipe, the input or the output changed. */
int write_gen(struct writing *w, struct pf_outfile *f, const char *full,
	      bool *replaced);

#endif
