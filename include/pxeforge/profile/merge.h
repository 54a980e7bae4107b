/* Merging profile trees at the node level (groups, defaults, removals),
 * before the typed read: every merged value keeps the mark of where it
 * was written, and the origin (group, defaults) it came through. */
#ifndef PXEFORGE_MERGE_H
#define PXEFORGE_MERGE_H

#include <stdbool.h>

#include "pxeforge/lib/diag.h"
#include "pxeforge/profile/node.h"
#include "pxeforge/profile/profile.h"

enum pf_merge_mode {
	/* groups: scalars override, lists append, mappings key by key */
	PF_MERGE_GROUP,
	/* a host over the defaults: kernel_params and initrd_modules append,
	 * other lists override, mappings key by key */
	PF_MERGE_DEFAULTS,
};

/* A copy of n (children copied too, scalars borrowed) whose nodes that
 * have no origin yet take group / from_defaults; NULL: out of memory. */
struct pf_node *node_copy(struct pf_node_arena *a, const struct pf_node *n,
			  const char *group, bool from_defaults);

/* Applies map src over map dst (a copy in a), by mode; keys in skip (a
 * NULL-terminated list, or NULL) are left out. 0 or -ENOMEM. */
int node_merge(struct pf_node_arena *a, struct pf_node *dst,
	       const struct pf_node *src, const char *group,
	       bool from_defaults, enum pf_merge_mode mode,
	       const char *const *skip);

/* Kernel parameter removals: an entry "-name" removes every earlier
 * "name" and "name=..." ('-' and '_' alike in names), "-name=value" the
 * earlier "name=value" only; earlier means before it in list or in prior
 * (the defaults' list, or NULL). A removal that removes nothing is an
 * error at its mark into d. *prior_out and *list_out are what is left,
 * without the removals (new nodes, or the inputs when nothing changes).
 * 0, -EINVAL (reported) or -ENOMEM. */
int kparams_apply_removals(struct pf_node_arena *a, struct pf_diag *d,
			   const struct pf_node *prior,
			   const struct pf_node *list,
			   const struct pf_node **prior_out,
			   const struct pf_node **list_out);

/* The host as merged for display: the defaults' host settings (kernel
 * parameters after this host's removals), then the host's groups and
 * own keys, by the defaults' rules. Nodes in a; 0 or -ENOMEM. */
int profile_host_view(const struct pf_profile *p, const struct pf_host *h,
		      struct pf_node_arena *a, const struct pf_node **out);

#endif
