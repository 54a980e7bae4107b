/* package: puts every rendered artifact of a plan into an output tree. */
#ifndef PXEFORGE_PACKAGE_H
#define PXEFORGE_PACKAGE_H

#include <stdbool.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/out/outtree.h"
#include "pxeforge/plan/plan.h"

/* Renders all artifacts of all hosts and VMs into t, the initrd overlays
 * too, at the paths of the output tree contract (README, "Output tree";
 * docs/output-tree.md once the reference moves to docs/), with the modes the plan decided. -errno, with
 * *failed naming the input file that could not be read when there is one
 * (malloc'd), or 0. */
int package_tree(const struct pf_plan *plan, struct pf_outtree *t,
		 char **failed);

/* OUT/vms/<vm>/containerdisk.tar for every VM with a disk image and a
 * containerDisk reference, made from the resolved input when OUT is
 * written. *ctx (free() it after outtree_write) holds their options. */
struct pf_inputs;
struct pf_cdisk_opts;
int package_vm_containerdisks(const struct pf_plan *plan,
			      const struct pf_inputs *in, bool progress,
			      struct pf_outtree *t, struct pf_cdisk_opts **ctx);

#endif
