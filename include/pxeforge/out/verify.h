/* verify: an output tree against its manifest.json. Every listed file is
 * hashed again (streaming); files present but not listed are found too
 * (temporary files a killed build left among them), except secrets the
 * state file records and pxeforge's own files (manifest.json, the state
 * file, the bundle record); and a staging directory beside the tree. */
#ifndef PXEFORGE_VERIFY_H
#define PXEFORGE_VERIFY_H

#include <stddef.h>

#include "pxeforge/lib/hashwrite.h"

enum pf_verify_kind {
	PF_VERIFY_SIZE,		/* size differs */
	PF_VERIFY_SHA256,	/* same size, sha256 differs */
	PF_VERIFY_MISSING,
	PF_VERIFY_NOT_REGULAR,	/* listed, but a directory, symlink, ... */
	PF_VERIFY_UNREADABLE,	/* listed, there, but cannot be read: err */
	PF_VERIFY_EXTRA,	/* present, in neither manifest nor state file */
	PF_VERIFY_STAGING,	/* a staging directory beside the tree (path:
				 * as given): a build running or killed */
};

struct pf_verify_diff {
	enum pf_verify_kind kind;
	char *path;		/* relative to the tree */
	struct pf_filesum want;	/* the manifest's (SIZE, SHA256) */
	struct pf_filesum got;	/* the file's (SIZE, SHA256) */
	int err;		/* UNREADABLE: the errno */
};

struct pf_verify_report {
	struct pf_verify_diff *v;	/* sorted by path */
	size_t n, cap;
	size_t listed;		/* files the manifest lists */
	int walk_err;		/* the tree could not be walked whole: errno */
};

void verify_report_release(struct pf_verify_report *r);

/* Checks dir. 0 with *r filled (r->n == 0: all match); -errno when
 * dir/manifest.json cannot be read; -EINVAL when it is not a pxeforge
 * manifest (why says what is wrong); -ENOMEM. */
int verify_tree(const char *dir, struct pf_verify_report *r, char *why,
		size_t whylen);

#endif
