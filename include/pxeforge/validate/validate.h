/* Internal to the validator (validate.c, validate_vm.c): the rules both
 * hosts and VMs follow. */
#ifndef PXEFORGE_VALIDATE_H
#define PXEFORGE_VALIDATE_H

#include <stdbool.h>

#include "pxeforge/lib/diag.h"
#include "pxeforge/profile/profile.h"

/* A host's or VM's name: it names a directory. */
bool profile_name_valid(const char *s);
/* A file pxeforge fetches or copies: an http(s) URL pinned by sha256, or
 * a readable local file (local_path: resolved, NULL for a URL). key names
 * the profile key in messages: "source", "image". */
void check_fetch_source(const struct pf_str *src, const char *local_path,
			const struct pf_str *sha256, const char *key,
			struct pf_diag *d);

/* vms[]: names, hosts, GPUs, vCPUs, memory, disk, NUMA, pinning. */
void profile_validate_vms(struct pf_profile *p, struct pf_diag *d);

#endif
