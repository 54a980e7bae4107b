/* GPU VMs as the plan decides them (builder/plan_vm.c), and their
 * renderers: KubeVirt (render_kubevirt.c), libvirt (render_libvirt.c),
 * OpenNebula (render_opennebula.c). Every renderer reads only this. */
#ifndef PXEFORGE_VM_H
#define PXEFORGE_VM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/plan/cloudinit.h"
#include "pxeforge/profile/profile.h"

/* One PCI function handed to the VM. A GPU's other functions (its HDMI
 * audio) follow it, so a card's functions are adjacent. */
struct pf_vm_pcidev {
	char address[13];	/* "0000:1a:00.0" */
	unsigned domain, bus, dev, fn;
	uint16_t vendor, device;
	bool gpu;		/* a GPU itself; false: another function of a
				 * card, or a card that is no GPU (NVSwitch) */
	size_t card;		/* index of its GPU among the VM's cards, 0.. */
	const char *model;	/* built-in table or pci.ids name, or NULL */
	char *resource;		/* KubeVirt resourceName (kubevirt_resource_name) */
};

struct pf_vm_cell {		/* a guest NUMA cell */
	unsigned id;		/* 0, 1, … in profile order */
	char *cpus;		/* guest vCPUs, cpuset syntax as written: "0-55" */
	uint64_t memory_bytes;
	int host_node;		/* -1: not bound */
};

struct pf_vm_vcpupin {		/* one vCPU, expanded from the profile's ranges */
	unsigned vcpu;
	unsigned host_cpu;
};

struct pf_plan_vm {
	const struct pf_vm *vm;		/* for marks in messages */
	char *name;
	const struct pf_plan_host *host;	/* whose GPUs it takes */
	unsigned vcpus;
	uint64_t memory_bytes;		/* guest memory */
	enum pf_firmware firmware;	/* UEFI or BIOS, never UNSET */
	bool hide_hypervisor;		/* consumer GPU */
	struct pf_vm_pcidev *devs;	/* by card, GPU first, then by address */
	size_t ndevs;
	size_t ncards;
	/* disk: an image (copied/fetched to OUT/vms/<vm>/disk.<format>),
	 * a containerDisk reference, or both */
	char *disk_source;		/* local path or URL, or NULL */
	bool disk_source_is_url;
	char *disk_sha256;		/* lowercase hex, or NULL */
	enum pf_disk_format disk_format;	/* never UNSET when disk_source */
	char *disk_file;		/* "disk.qcow2": its name under OUT/vms/<vm>/ */
	char *libvirt_disk_path;	/* path in domain.xml */
	char *containerdisk;		/* image reference, or NULL */
	bool build_containerdisk;	/* image and reference: build writes
					 * OUT/vms/<vm>/containerdisk.tar */
	struct pf_vm_cell *cells;
	size_t ncells;
	struct pf_vm_vcpupin *pins;	/* sorted by vcpu */
	size_t npins;
	struct pf_cloudinit cloudinit;	/* enabled when the VM or the defaults
					 * have cloud_init; no network, no seed */
};

/* KubeVirt resourceName for a device, the one rule for every card:
 * "<vendor domain>/<NAME>" where the vendor domain is nvidia.com (10de),
 * amd.com (1002), intel.com (8086), else "pci-<vvvv>.pxeforge", and NAME
 * is the pci.ids-style device name "GV100GL [Tesla V100 SXM2 16GB]"
 * upper-cased, each run of characters other than A-Z 0-9 turned into one
 * '_', leading and trailing '_' dropped: "GV100GL_TESLA_V100_SXM2_16GB".
 * When no name is known: "<vendor domain>/DEVICE_<DDDD>" (hex, upper).
 * Returns malloc'd or NULL. */
char *kubevirt_resource_name(uint16_t vendor, uint16_t device);

/* KubeVirt's virt-launcher memory overhead for a VM: each part in bytes,
 * as KubeVirt computes it (see render_kubevirt.c for the source). */
struct pf_kv_overhead {
	uint64_t pagetables;	/* guest / 512 */
	uint64_t fixed;		/* launcher, monitors, virtlogd, qemu… */
	uint64_t vcpus;		/* 8 Mi per vCPU */
	uint64_t iothreads;
	uint64_t video;
	uint64_t vfio;		/* 1 Gi when VFIO devices are present */
	uint64_t total;		/* the sum */
	/* added after the parts above (kubevirt_overhead fills them too): */
	uint64_t dedicated;	/* 100 Mi with dedicatedCpuPlacement; in total */
	uint64_t hugepage;	/* page size the VM asks for, 0: none */
	uint64_t requested;	/* resources.requests.memory: guest + total,
				 * rounded up to Mi, or to the page size */
};
void kubevirt_overhead(const struct pf_plan_vm *vm, struct pf_kv_overhead *o);
/* The profile's pinning or NUMA cells: in KubeVirt, dedicated CPUs that
 * follow the host's NUMA layout, which needs hugepages. */
bool kubevirt_dedicated_cpus(const struct pf_plan_vm *vm);
/* The Secret name (<vm>-cloud-init) is used when user-data or
 * network-config is over this; KubeVirt rejects longer inline data. */
#define PF_KV_INLINE_MAX 2048

/* OUT/vms/<vm>/vm.yaml: the VirtualMachine, and when user-data is over
 * 2048 bytes a Secret ahead of it ("---" separated) that
 * cloudInitNoCloud.secretRef names. 0, -ENOMEM, -EINVAL. */
int kubevirt_vm_render(const struct pf_plan_vm *vm, struct pf_buf *out);
/* The overhead breakdown as text (render --target kubevirt --explain). */
int kubevirt_explain_render(const struct pf_plan_vm *vm, struct pf_buf *out);
/* OUT/kubevirt/permitted-host-devices.yaml: the KubeVirt CR patch with
 * permittedHostDevices.pciHostDevices for every device of every VM,
 * deduplicated, sorted by selector. */
int kubevirt_permitted_render(const struct pf_plan_vm *vms, size_t nvms,
			      struct pf_buf *out);

/* OUT/vms/<vm>/domain.xml (libxml2's writer). */
int libvirt_domain_render(const struct pf_plan_vm *vm, struct pf_buf *out);

/* OUT/vms/<vm>/opennebula.tmpl. */
int opennebula_render(const struct pf_plan_vm *vm, struct pf_buf *out);

void plan_vm_release(struct pf_plan_vm *vm);

#endif
