/* A profile's values read as pxeforge reads them: one function for each,
 * which validate calls to check a value and plan calls to use it. */
#ifndef PXEFORGE_VALUES_H
#define PXEFORGE_VALUES_H

#include <stdbool.h>
#include <stdint.h>

#include "pxeforge/profile/profile.h"

/* Six hex pairs separated by ":" or "-" (one separator throughout). */
bool mac_valid(const char *s);
/* A valid MAC as lowercase "aa:bb:cc:dd:ee:ff". */
void mac_normalise(const char *s, char out[18]);

/* "128Gi": an integer and Ki, Mi, Gi or Ti, a whole number of Mi. 0, or
 * -EINVAL (syntax, no unit), -ERANGE (zero), -EOVERFLOW (too large),
 * -EDOM (not a multiple of 1 Mi). */
int quantity_parse(const char *s, uint64_t *bytes);
/* "0-3,8,10-11" (no blanks) over 0..limit-1 into set[limit] (cleared
 * first) and *n, the count. 0, -EINVAL (syntax), -ERANGE (*bad: a number
 * >= limit), -EEXIST (*bad: a number listed twice). */
int cpuset_parse(const char *s, unsigned limit, bool *set, size_t *n,
		 unsigned *bad);
/* Seconds since 1970 as SOURCE_DATE_EPOCH gives them: digits only, at
 * most 4294967295 (the profile's source_date_epoch takes the same). 0 or
 * -EINVAL. */
int epoch_parse(const char *s, long long *out);

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

/* cloud_init: a node's value of a key, else the defaults'. */
const struct pf_str *cloudinit_str(const struct pf_str *node,
				   const struct pf_str *dflt);
const struct pf_strv *cloudinit_strv(const struct pf_strv *node,
				     const struct pf_strv *dflt);

/* k3s role: the node's, the defaults', else agent. */
enum pf_k3s_role k3s_role(const struct pf_k3s_cfg *node,
			  const struct pf_k3s_cfg *dflt);

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
