/* package: puts every rendered artifact of a plan into an output tree. */
#ifndef PXEFORGE_PACKAGE_H
#define PXEFORGE_PACKAGE_H

#include <stdbool.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/out/outtree.h"
#include "pxeforge/plan/plan.h"

struct pf_package_filter;	/* pxeforge/package/filter.h */

/* Takes one chunk of the output tree: its files (sorted) are the sink's
 * to write or copy; the chunk is released after. 0, or -errno with
 * *failed (malloc'd) naming what failed when the sink knows. */
typedef int (*pf_package_sink)(struct pf_outtree *chunk, void *ctx,
			       char **failed);

/* Renders every artifact at the paths of the output tree contract
 * (docs/output-tree.md), with the modes the plan decided, one chunk at a
 * time, so memory holds one host's files, not the fleet's: each host
 * only (OUT/<host>/…, its OUT/hosts/<mac>.ipxe copies), in plan order;
 * then each VM (OUT/vms/<vm>/…); then the fleet-wide files (boot.ipxe,
 * OUT/kubevirt/…), always from the whole plan. only (NULL: all) picks
 * the hosts and VMs. Sources and containerDisks are not package's: see
 * inputs_add and package_vm_containerdisks. Stops at the first failure:
 * -errno, with *failed naming the input file that could not be read
 * when there is one (malloc'd), or the sink's; 0. */
int package_stream(const struct pf_plan *plan,
		   const struct pf_package_filter *only, pf_package_sink sink,
		   void *ctx, char **failed);

/* A sink that copies each file of the chunk into ctx, a struct
 * pf_outtree. 0, -EINVAL, -ENOMEM (outtree_add's). */
int package_sink_tree(struct pf_outtree *chunk, void *ctx, char **failed);

/* package_stream of everything into t (copies), then sorted: for callers
 * that want the whole tree in memory (tests, small profiles). */
int package_tree(const struct pf_plan *plan, struct pf_outtree *t,
		 char **failed);

/* OUT/vms/<vm>/containerdisk.tar for every VM (that only selects; NULL:
 * all) with a disk image and a containerDisk reference, made from the
 * resolved input when OUT is written. *ctx (free() it after
 * outtree_write) holds their options. */
struct pf_inputs;
struct pf_cdisk_opts;
int package_vm_containerdisks(const struct pf_plan *plan,
			      const struct pf_package_filter *only,
			      const struct pf_inputs *in, bool progress,
			      struct pf_outtree *t, struct pf_cdisk_opts **ctx);

#endif
