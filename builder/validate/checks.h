/* Internal to the validator: the rules several of its files follow. */
#ifndef PXEFORGE_CHECKS_H
#define PXEFORGE_CHECKS_H

#include <stdbool.h>

#include "pxeforge/lib/diag.h"
#include "pxeforge/profile/inputs.h"
#include "pxeforge/profile/profile.h"

/* Shared computations report only when asked (d given): plan calls them
 * on a validated profile without one. */
#define report(d, at, ...)                                 \
	do {                                               \
		if (d)                                     \
			diag_error((d), (at), __VA_ARGS__); \
	} while (0)

/* A host's or VM's name: it names a directory. */
bool profile_name_valid(const char *s);
/* A file pxeforge fetches or copies: an http(s) URL pinned by sha256, or
 * a readable local file (local_path: resolved, NULL for a URL). key names
 * the profile key in messages: "source", "image". */
void check_fetch_source(const struct pf_str *src, const char *local_path,
			const struct pf_str *sha256, const char *key,
			const struct pf_profile_inputs *in, struct pf_diag *d);

/* vms[]: names, hosts, GPUs, vCPUs, memory, disk, NUMA, pinning. */
void validate_vms(const struct pf_profile *p, const struct pf_profile_inputs *in,
		  struct pf_diag *d);
/* What the entries imply: the cluster secret, each host's early modules,
 * seed, image names, modules tree and kernel command line, each node's
 * cloud-init. */
void validate_nodes(const struct pf_profile *p, const struct pf_profile_inputs *in,
		    struct pf_diag *d);
/* One node's cloud-init values (macs: its valid MACs, -1 for a VM). */
void validate_cloudinit(const struct pf_profile *p,
			const struct pf_cloudinit_cfg *cfg, const char *kind,
			const char *name, long macs, struct pf_diag *d);

#endif
