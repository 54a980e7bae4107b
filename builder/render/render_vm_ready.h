/* Private to render/: what every VM renderer asks of its plan first. */
#ifndef PXEFORGE_RENDER_VM_READY_H
#define PXEFORGE_RENDER_VM_READY_H

#include <stdbool.h>

#include "pxeforge/plan/vm.h"

/* The VM was planned: a name, vCPUs, memory, the guest topology and a
 * firmware. Renderers refuse (-EINVAL) a plan that is not filled in. */
bool render_vm_ready(const struct pf_plan_vm *vm);

#endif
