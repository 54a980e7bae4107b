/* What package.c and package_vm.c share (builder/package/package_files.c),
 * private to the package stage. */
#ifndef PXEFORGE_PACKAGE_PARTS_H
#define PXEFORGE_PACKAGE_PARTS_H

#include <stdbool.h>
#include <sys/types.h>

#include "pxeforge/out/outtree.h"
#include "pack.h"
#include "pxeforge/plan/plan.h"

/* The mode of a file the plan made secret, or not: only applied here. */
static inline mode_t package_mode(bool secret)
{
	return secret ? 0600 : 0644;
}

/* data into t at the path printf formats (no length limit). 0, -ENOMEM,
 * or outtree_add's error. */
int package_add(struct pf_outtree *t, const void *data, size_t len,
		mode_t mode, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* The plan's NoCloud payload of ci into OUT/<dir>/cloud-init/
 * {user-data,meta-data,network-config}, OUT/<dir>/cidata.iso when the
 * plan says so (ci->cidata), and as
 * the seed into overlay unless NULL; modes as the plan decided. -errno,
 * *failed as for package_tree. */
int package_nocloud(const struct pf_plan *plan, const char *dir,
		    const struct pf_cloudinit *ci, struct pf_pack *overlay,
		    struct pf_outtree *t, char **failed);

/* OUT/vms/<vm>/… of one VM (package_vm.c). -errno, *failed as for
 * package_tree. */
int package_vm(const struct pf_plan *plan, const struct pf_plan_vm *vm,
	       struct pf_outtree *t, char **failed);
/* OUT/kubevirt/permitted-host-devices.yaml: every VM's devices, when the
 * plan has VMs. 0 or -errno. */
int package_vms_fleet(const struct pf_plan *plan, struct pf_outtree *t);

#endif
