#include "render_vm_ready.h"

bool render_vm_ready(const struct pf_plan_vm *vm)
{
	return vm && vm->name && *vm->name && vm->vcpus && vm->memory_bytes &&
	       vm->sockets &&	/* topology not planned */
	       (vm->firmware == PF_FIRMWARE_UEFI ||
		vm->firmware == PF_FIRMWARE_BIOS);
}
