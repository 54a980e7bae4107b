/* The output tree: files rendered in memory or streamed from a source
 * file, written together by outtree_write through the writer
 * (outwriter.h: staged beside OUT, switched in whole): unchanged files
 * are carried over (hard links, mtime too), files an earlier build wrote
 * and this one does not are dropped, manifest.json and pxeforge's state
 * file are written. */
#ifndef PXEFORGE_OUTTREE_H
#define PXEFORGE_OUTTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/lib/progress.h"

/* Writes target (through the hashing writer: temp file, rename, an
 * unchanged target left alone) from the file src, one of the tree's files
 * in OUT: e.g. an OCI archive of a disk image. *sum is what target holds.
 * On failure *failed (malloc'd) may name the path that failed. 0 or
 * -errno. */
typedef int (*pf_outgen_fn)(void *ctx, const char *src, const char *target,
			    mode_t mode, struct pf_filesum *sum,
			    bool *replaced, char **failed);

struct pf_outfile {
	char *path;	/* relative, '/'-separated: "c4140/netboot.ipxe" */
	char *data;	/* content in memory, or NULL when src is set */
	size_t len;
	char *src;	/* content streamed from this file when written, or
			 * with gen the tree's path gen makes it from */
	pf_outgen_fn gen;	/* NULL: src is copied as it is */
	void *gen_ctx;
	char *recipe;	/* with gen: every option of gen, compared with
			 * the state file's */
	char *pin;	/* the SHA-256 (hex) src must have, or NULL */
	mode_t mode;	/* 0644, or 0600 for secrets (kept out of the manifest) */
	bool summed;	/* sum is set: outtree_write wrote (or kept) the file */
	struct pf_filesum sum;
};

struct pf_outtree_paths;

struct pf_outtree {
	struct pf_outfile *files;
	size_t n, cap;
	/* starts the bar of each file copied in from a source: the
	 * caller's choice (cli: progress_start_large on a terminal);
	 * outtree_init: NULL, none */
	pf_progress_start_fn progress;
	struct pf_outtree_paths *paths;	/* outtree_push's clash check */
};

void outtree_init(struct pf_outtree *t);
void outtree_release(struct pf_outtree *t);
/* Adds a copy of data; a path added twice or not relative/normalised, or
 * one of pxeforge's own names (manifest.json, the state file, temporary
 * files), is -EINVAL (a bug in the caller); -ENOMEM on allocation failure. */
int outtree_add(struct pf_outtree *t, const char *path, const void *data,
		size_t len, mode_t mode);
/* Adds a file whose content is streamed from src when the tree is
 * written (src is not opened now). Same rules and errors. */
int outtree_add_file(struct pf_outtree *t, const char *path, const char *src,
		     mode_t mode);
/* outtree_add_file for a source whose content must have this SHA-256
 * (64 hex digits, either case: lib/hex.h): a copy that does not is dropped, and outtree_write
 * fails with -EBADMSG, *failed naming src, st->pin_want and pin_got the
 * pin and what was read.
 * Same rules and errors. */
int outtree_add_pinned(struct pf_outtree *t, const char *path,
		       const char *src, mode_t mode, const char *sha256);
/* Adds a file that gen makes from another of the tree's files, from,
 * once that is in place in OUT: gen reads what OUT holds (a pinned
 * source's checked copy), and a source is read once however many files
 * are made from it. recipe names every option of gen; when it, OUT's
 * from and the output are as the state file recorded, gen is not called.
 * Same rules and errors; a from the tree lacks by the time it is written,
 * or that is itself made by a gen, fails outtree_write with -EINVAL. */
int outtree_add_gen(struct pf_outtree *t, const char *path, const char *from,
		    const char *recipe, mode_t mode, pf_outgen_fn gen,
		    void *ctx);
/* Sorts the files by path (bytewise). */
void outtree_sort(struct pf_outtree *t);

/* Secrets are files only their owner may read (0600, 0400). */
bool outtree_is_secret(mode_t mode);

/* manifest.json: {"files":[{"path","sha256","size"}...]} sorted by path,
 * jansson, 2-space indent, trailing newline, from the sums outtree_write
 * recorded (a file without one is -EINVAL). Secrets are left out. */
int manifest_render(const struct pf_outtree *t, struct pf_buf *out);

struct pf_outstats {
	size_t files;		/* the tree's files and manifest.json */
	size_t rewritten;	/* of these, written (not left as they were) */
	size_t removed;		/* files of an earlier build removed */
	uint64_t hashed;	/* bytes passed through SHA-256 */
	bool source_failed;	/* *failed names a source that could not be read */
	char pin_want[65];	/* -EBADMSG: the pin, */
	char pin_got[65];	/* and the SHA-256 the source had */
};

/* Writes every file under dir (created with parents, 0755), records each
 * file's size and SHA-256 in the tree, removes the files an earlier build
 * recorded (dir/manifest.json, dir/.pxeforge-state.json) that the tree no
 * longer has, writes dir/manifest.json, and the state file when there is
 * something for it to hold (secrets, streamed files).
 *
 * A streamed file whose source still has the size, mtime, ctime, device
 * and inode the state file recorded, and whose output file is still the
 * one written then, is neither read nor written again.
 *
 * Returns 0, or -errno with *failed set to the path (malloc'd) that
 * failed. st may be NULL. */
int outtree_write(struct pf_outtree *t, const char *dir,
		  struct pf_outstats *st, char **failed);

#endif
