/* package: puts every rendered artifact of a plan into an output tree. */
#ifndef PXEFORGE_PACKAGE_H
#define PXEFORGE_PACKAGE_H

#include <stdbool.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/out/outtree.h"
#include "pxeforge/plan/plan.h"

/* Renders all artifacts of all hosts into t (paths per DESIGN.md), the
 * initrd overlays too. -errno, with *failed naming the input file that
 * could not be read when there is one (malloc'd), or 0. */
int package_tree(const struct pf_plan *plan, struct pf_outtree *t,
		 char **failed);

/* OUT/<dir>/cloud-init/{user-data,meta-data,network-config} and
 * OUT/<dir>/cidata.iso for ci, and the seed into overlay unless NULL.
 * *secret: they hold the node's identity (mode 0600). */
struct pf_pack;
int package_nocloud(const struct pf_plan *plan, const char *dir,
		    const struct pf_cloudinit *ci, struct pf_pack *overlay,
		    struct pf_outtree *t, bool *secret, char **failed);
/* OUT/vms/<vm>/… and OUT/kubevirt/permitted-host-devices.yaml for every
 * VM of the plan (builder/package_vm.c). */
int package_vms(const struct pf_plan *plan, struct pf_outtree *t,
		char **failed);

/* OUT/vms/<vm>/containerdisk.tar for every VM with a disk image and a
 * containerDisk reference, made from the resolved input when OUT is
 * written. *ctx (free() it after outtree_write) holds their options. */
struct pf_inputs;
struct pf_cdisk_opts;
int package_vm_containerdisks(const struct pf_plan *plan,
			      const struct pf_inputs *in, bool progress,
			      struct pf_outtree *t, struct pf_cdisk_opts **ctx);

/* VM targets of `pxeforge render --vm NAME --target T`: kubevirt (vm.yaml,
 * or with explain its memory overhead), libvirt, opennebula. -ENODATA:
 * kubevirt for a VM without a containerDisk; -EINVAL: explain for
 * another target; -ENOENT: unknown target. */
bool package_vm_target_known(const char *target);
const char *package_vm_target_suggest(const char *target);
int package_vm_render_target(const struct pf_plan_vm *vm, const char *target,
			     bool explain, struct pf_buf *out);
/* vm.yaml holds the VM's identity (its user-data): not printed, 0600. */
bool package_vm_yaml_secret(const struct pf_plan_vm *vm);

/* Whether `pxeforge render --target` knows target. */
bool package_target_known(const char *target);
/* The known target closest to a misspelt one, or NULL. */
const char *package_target_suggest(const char *target);
/* Renders one target; h may be NULL only for "dispatcher".
 * -ENOENT for an unknown target. */
int package_render_target(const struct pf_plan *plan,
			  const struct pf_plan_host *h, const char *target,
			  struct pf_buf *out);
/* True when the target needs --host. */
int package_target_needs_host(const char *target);

#endif
