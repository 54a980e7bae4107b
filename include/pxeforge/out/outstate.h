/* What an earlier build left in OUT: the files OUT/manifest.json lists
 * and OUT/.pxeforge-state.json, pxeforge's own record of what the
 * manifest cannot say (secret files, and for each file streamed from a
 * source the source's and the output's stat fingerprints, so that an
 * unchanged source is not read again). Also: removing files an earlier
 * build wrote and this one does not, without following symlinks. */
#ifndef PXEFORGE_OUTSTATE_H
#define PXEFORGE_OUTSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include <jansson.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/hashwrite.h"

#define PF_MANIFEST_NAME "manifest.json"
#define PF_STATE_NAME ".pxeforge-state.json"

/* "size:mtime:ctime:dev:ino", nanoseconds included: equal strings mean
 * the file was not touched in between (as far as stat can tell). */
#define PF_FINGERPRINT_MAX 128
void stat_fingerprint(const struct stat *st, char out[PF_FINGERPRINT_MAX]);

/* How the state names a source file: its canonical absolute path
 * (realpath), so that the same file named from another directory or
 * through another relative path is still the same source; the path as
 * given when it cannot be resolved. malloc'd, NULL on -ENOMEM. */
char *source_key(const char *path);

struct pf_outrecord {
	char *path;		/* relative to OUT, normalised */
	bool has_sum;
	struct pf_filesum sum;
	char *stat;		/* fingerprint of OUT/path when written, or NULL */
	char *source;		/* the file it was streamed from, or NULL */
	char *source_stat;	/* the source's fingerprint then */
};

struct pf_outrecords {
	struct pf_outrecord *v;
	size_t n, cap;
};

void outrecords_init(struct pf_outrecords *r);
void outrecords_release(struct pf_outrecords *r);
/* Takes a copy of rec's strings. 0 or -ENOMEM. */
int outrecords_add(struct pf_outrecords *r, const struct pf_outrecord *rec);
/* Sorts by path (bytewise) and merges repeated paths, the later record's
 * fields winning; then outrecords_find works. */
void outrecords_sort(struct pf_outrecords *r);
const struct pf_outrecord *outrecords_find(const struct pf_outrecords *r,
					   const char *path);

/* dir/name's content (not followed when a symlink), malloc'd and
 * NUL-terminated. 0 or -errno. */
int outstate_slurp(const char *dir, const char *name, char **text,
		   size_t *len);
/* Parses manifest.json text: {"files":[{"path","sha256","size"}...]},
 * every path normalised, every sha256 64 hex digits (either case, read
 * as lowercase: lib/hex.h). 0, -EINVAL
 * with why (a short reason) set, or -ENOMEM. Records are sorted. */
int manifest_parse(const char *text, size_t len, struct pf_outrecords *r,
		   char *why, size_t whylen);
/* Reads and parses dir/manifest.json. -errno when it cannot be read. */
int manifest_load(const char *dir, struct pf_outrecords *r, char *why,
		  size_t whylen);

/* Everything an earlier build recorded in dir: manifest and state file.
 * Either missing or not as pxeforge writes it counts as empty: an
 * unreadable record costs a full rewrite, never a failed build. 0 or
 * -ENOMEM. */
int outstate_load(const char *dir, struct pf_outrecords *r);
/* json as pxeforge writes its own files (manifest.json, the state file,
 * the bundle record): 2-space indent, keys sorted, a trailing newline,
 * appended to out. 0 or -ENOMEM. */
int outstate_json_text(const json_t *json, struct pf_buf *out);
/* The state file's text (jansson, sorted, trailing newline). */
int outstate_render(const struct pf_outrecords *r, struct pf_buf *out);

/* Opens the directory holding rel below the directory fd root, one
 * component at a time, none of them a symlink; *last points at rel's
 * last component. Returns the fd or -errno. */
int open_parent_below(int root, const char *rel, const char **last);
/* Opens rel below root the same way, its last component too (with
 * O_NOFOLLOW, O_CLOEXEC and flags). Returns the fd or -errno. */
int open_below(int root, const char *rel, int flags);

/* Removes dir/rel when it is a regular file or a symlink (a directory
 * there is not ours), then each parent up to dir that is left empty.
 * *removed is set when a file was removed. Missing is fine. 0 or -errno. */
int remove_below(const char *dir, const char *rel, bool *removed);

/* Removes from dir each file prev records (but manifest.json and the
 * state file) that kept(path, ctx) says the tree no longer has, as
 * remove_below does; *removed counts those removed. On failure *failed
 * (malloc'd) names the path. 0 or -errno. */
int outstate_remove_stale(const char *dir, const struct pf_outrecords *prev,
			  bool (*kept)(const char *path, void *ctx), void *ctx,
			  size_t *removed, char **failed);

#endif
