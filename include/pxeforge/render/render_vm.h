/* The GPU VMs' renderers: pure functions from the planned VM
 * (pxeforge/plan/vm.h) to bytes, no I/O, no decisions. Each returns 0 or
 * a negative errno and appends to out: -ENOMEM, or -EINVAL for a value the
 * plan should have given (refused, not written). */
#ifndef PXEFORGE_RENDER_VM_H
#define PXEFORGE_RENDER_VM_H

#include <stddef.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/plan/vm.h"

/* OUT/vms/<vm>/vm.yaml: the VirtualMachine, and when the plan put its
 * cloud-init in a Secret, that Secret ahead of it ("---" separated), which
 * cloudInitNoCloud.secretRef names (render_kubevirt.c). */
int kubevirt_vm_render(const struct pf_plan_vm *vm, struct pf_buf *out);
/* The planned memory request, part by part, as text (render --target
 * kubevirt --explain, and the comment at the top of vm.yaml). */
int kubevirt_explain_render(const struct pf_plan_vm *vm, struct pf_buf *out);
/* OUT/kubevirt/permitted-host-devices.yaml: the KubeVirt CR patch with
 * permittedHostDevices.pciHostDevices for every device of every VM,
 * deduplicated, sorted by selector (render_permitted.c). */
int kubevirt_permitted_render(const struct pf_plan_vm *vms, size_t nvms,
			      struct pf_buf *out);

/* OUT/vms/<vm>/domain.xml (libxml2's writer). */
int libvirt_domain_render(const struct pf_plan_vm *vm, struct pf_buf *out);

/* OUT/vms/<vm>/opennebula.tmpl. */
int opennebula_render(const struct pf_plan_vm *vm, struct pf_buf *out);

#endif
