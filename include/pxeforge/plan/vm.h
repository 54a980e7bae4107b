/* GPU VMs as the plan decides them (builder/plan/plan_vm.c, their KubeVirt
 * resources in plan_kubevirt.c). The VM renderers
 * (pxeforge/render/render_vm.h) read only this. */
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
	unsigned vcpus;		/* how many cpus names (plan_guest_topology) */
	uint64_t memory_bytes;
	int host_node;		/* -1: not bound */
};

struct pf_vm_vcpupin {		/* one vCPU, expanded from the profile's ranges */
	unsigned vcpu;
	unsigned host_cpu;
};

/* KubeVirt's virt-launcher memory overhead for a VM: each part in bytes,
 * as KubeVirt computes it (see builder/plan/plan_kubevirt.c for the
 * source). */
struct pf_kv_overhead {
	uint64_t pagetables;	/* guest / 512 */
	uint64_t fixed;		/* launcher, monitors, virtlogd, qemu… */
	uint64_t vcpus;		/* 8 Mi per vCPU */
	uint64_t iothreads;
	uint64_t video;
	uint64_t vfio;		/* 1 Gi when VFIO devices are present */
	uint64_t dedicated;	/* 100 Mi with dedicatedCpuPlacement */
	uint64_t total;		/* the sum */
};

/* How the VM runs under KubeVirt (plan_kubevirt): vm.yaml reads only this. */
struct pf_kv_resources {
	unsigned cores;			/* vCPUs, at least KubeVirt's 1 */
	bool dedicated_cpus;		/* dedicatedCpuPlacement and
					 * guestMappingPassthrough: the profile
					 * pins vCPUs or has NUMA cells */
	struct pf_kv_overhead overhead;
	uint64_t hugepage;		/* page size the VM asks for, 0: none */
	uint64_t requested;		/* resources.requests.memory: guest +
					 * overhead, rounded up to Mi, or to
					 * the page size */
	/* cloud-init: inline in the VM, or in a Secret ahead of it when
	 * user-data or network-config is too long to be inline */
	char *cloudinit_secret;		/* the Secret's name, or NULL: inline */
	bool yaml_secret;		/* vm.yaml carries the VM's identity:
					 * 0600, not in the manifest, never
					 * printed */
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
	/* guest CPU topology for libvirt and OpenNebula (plan_guest_topology):
	 * sockets x cores_per_socket = vcpus, threads 1 */
	unsigned sockets;
	unsigned cores_per_socket;
	struct pf_vm_vcpupin *pins;	/* sorted by vcpu */
	size_t npins;
	struct pf_cloudinit cloudinit;	/* enabled when the VM or the defaults
					 * have cloud_init; no network, no seed */
	struct pf_kv_resources kubevirt;	/* decided after the rest */
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

void plan_vm_release(struct pf_plan_vm *vm);

#endif
