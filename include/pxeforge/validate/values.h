/* A profile's values read as pxeforge reads them: one function for each,
 * which validate calls to check a value and plan calls to use it. */
#ifndef PXEFORGE_VALUES_H
#define PXEFORGE_VALUES_H

#include <stdbool.h>
#include <stdint.h>

#include "pxeforge/profile/profile.h"

/* A PCI function's address and id, each read when well-formed. */
struct pf_pci {
	bool addr_ok, id_ok;
	unsigned domain, bus, dev, fn;
	uint16_t vendor, device;
};
struct pf_pci pcifn_read(const struct pf_pcifn *fn);
bool pci_addr_is(const struct pf_pci *a, unsigned dom, unsigned bus,
		 unsigned dev, unsigned fn);

/* The host named, or NULL. */
const struct pf_host *profile_host_find(const struct pf_profile *p,
					const char *name);

/* Digits only, no sign: a count or a number. 0 or -EINVAL; saturates at
 * UINT_MAX. */
int uint_parse(const char *s, unsigned *out);
/* vms[].vcpus: 1 to PF_VM_MAX_VCPUS; 0 when not given or invalid. */
unsigned vm_vcpus(const struct pf_vm *vm);
/* vms[].memory in bytes; 0 when not given or invalid. */
uint64_t vm_memory(const struct pf_vm *vm);
bool vm_consumer_gpu(const struct pf_vm *vm);
uint64_t numa_cell_memory(const struct pf_vm_numa_cell *c);
/* The host NUMA node, -1 when not given or invalid. */
int numa_cell_host_node(const struct pf_vm_numa_cell *c);

#endif
