/* inputs: the files build streams into OUT from a source named in the
 * profile (kernels, initrds, VM disk images). Before anything is written
 * to OUT, each is fetched into the cache (URL) or checked against its
 * pinned sha256 (local file), so a bad input leaves OUT as it was. */
#ifndef PXEFORGE_INPUTS_H
#define PXEFORGE_INPUTS_H

#include <stdbool.h>
#include <stddef.h>

#include "pxeforge/fetch/fetch.h"
#include "pxeforge/out/outtree.h"
#include "pxeforge/plan/plan.h"

struct pf_input {
	const char *source;	/* URL or local path, borrowed from the plan */
	const char *sha256;	/* lowercase hex, or NULL */
	bool is_url;
	char *out;		/* below OUT: "c4140/bzImage", "vms/vm/disk.qcow2" */
	char *path;		/* what OUT/out is streamed from: the cache
				 * file or the local source; set by inputs_resolve */
};

struct pf_inputs {
	struct pf_input *v;
	size_t n, cap;
};

void inputs_init(struct pf_inputs *in);
void inputs_release(struct pf_inputs *in);
/* Every file of the plan with a source: hosts' kernels and initrds, then
 * VMs' disk images. 0 or -ENOMEM. */
int inputs_collect(const struct pf_plan *plan, struct pf_inputs *in);

/* Fetches every URL input (once per URL) into the cache; a local input is
 * used where it is (a pinned one is checked as it is copied: inputs_add).
 * On failure *failed is the input and *why (malloc'd) the reason; the
 * return is fetch_cached's (-EBADMSG for a hash mismatch, -EIO network,
 * -errno). */
int inputs_resolve(struct pf_inputs *in, const struct pf_fetch_opts *o,
		   const struct pf_input **failed, char **why);

/* Adds each resolved input to t (0644), pinned to its sha256 when it has
 * one (outtree_add_pinned). 0, -EINVAL, -ENOMEM. */
int inputs_add(const struct pf_inputs *in, struct pf_outtree *t);

#endif
