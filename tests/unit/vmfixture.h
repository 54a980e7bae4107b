/* Hand-built struct pf_plan_vm for the VM renderers' tests (no profile, no
 * plan stage): 4 x V100 UEFI, a consumer RTX 4070 with its HDMI audio and
 * the hypervisor hidden, 8 x V100 in two NUMA cells with vCPU pins.
 * Include after cmocka.h. */
#ifndef PXEFORGE_TEST_VMFIXTURE_H
#define PXEFORGE_TEST_VMFIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/plan/vm.h"
#include "pxeforge/render/render_vm.h"
#include "plan/plan_artifacts.h"

static inline char *vmf_strdup(const char *s)
{
	char *p = strdup(s);

	assert_non_null(p);
	return p;
}

static inline void vmf_init(struct pf_plan_vm *vm, const char *name,
			    unsigned vcpus, uint64_t gib,
			    enum pf_firmware fw)
{
	memset(vm, 0, sizeof(*vm));
	vm->name = vmf_strdup(name);
	vm->vcpus = vcpus;
	vm->memory_bytes = gib << 30;
	vm->firmware = fw;
	cloudinit_init(&vm->cloudinit);
}

/* Appends a function at "0000:bb:dd.f" (fn 0 of a card counts as its GPU). */
static inline void vmf_dev(struct pf_plan_vm *vm, unsigned bus, unsigned dev,
			   unsigned fn, uint16_t vendor, uint16_t device,
			   bool gpu)
{
	struct pf_vm_pcidev *d;

	vm->devs = realloc(vm->devs, (vm->ndevs + 1) * sizeof(*vm->devs));
	assert_non_null(vm->devs);
	d = &vm->devs[vm->ndevs++];
	memset(d, 0, sizeof(*d));
	snprintf(d->address, sizeof(d->address), "0000:%02x:%02x.%x", bus, dev,
		 fn);
	d->bus = bus;
	d->dev = dev;
	d->fn = fn;
	d->vendor = vendor;
	d->device = device;
	d->gpu = gpu;
	if (gpu)
		vm->ncards++;
	d->card = vm->ncards - 1;
}

static inline void vmf_cell(struct pf_plan_vm *vm, const char *cpus,
			    uint64_t gib, int host_node)
{
	struct pf_vm_cell *c;

	vm->cells = realloc(vm->cells, (vm->ncells + 1) * sizeof(*vm->cells));
	assert_non_null(vm->cells);
	c = &vm->cells[vm->ncells];
	c->id = (unsigned)vm->ncells++;
	c->cpus = vmf_strdup(cpus);
	c->memory_bytes = gib << 30;
	c->host_node = host_node;
}

static inline void vmf_pin(struct pf_plan_vm *vm, unsigned vcpu,
			   unsigned host_cpu)
{
	vm->pins = realloc(vm->pins, (vm->npins + 1) * sizeof(*vm->pins));
	assert_non_null(vm->pins);
	vm->pins[vm->npins].vcpu = vcpu;
	vm->pins[vm->npins++].host_cpu = host_cpu;
}

static inline void vmf_disk(struct pf_plan_vm *vm, const char *path,
			    enum pf_disk_format fmt)
{
	vm->disk_source = vmf_strdup("disk.img");
	vm->disk_format = fmt;
	vm->libvirt_disk_path = vmf_strdup(path);
}

static inline void vmf_release(struct pf_plan_vm *vm)
{
	free(vm->name);
	free(vm->devs);
	for (size_t i = 0; i < vm->ncells; i++)
		free(vm->cells[i].cpus);
	free(vm->cells);
	free(vm->pins);
	free(vm->disk_source);
	free(vm->libvirt_disk_path);
	cloudinit_release(&vm->cloudinit);
	memset(vm, 0, sizeof(*vm));
}

/* What plan_artifacts decides for a VM the renderers read: its guest
 * CPU topology. The builders below end with it. */
static inline void vmf_plan(struct pf_plan_vm *vm)
{
	assert_int_equal(plan_guest_topology(vm), 0);
}

/* 4 x Tesla V100 SXM2 16GB, UEFI, no NUMA, a qcow2 disk, cloud-init. */
static inline void vmf_v100x4(struct pf_plan_vm *vm)
{
	static const unsigned bus[] = { 0x1a, 0x1b, 0x3d, 0x3e };

	vmf_init(vm, "v100x4", 32, 128, PF_FIRMWARE_UEFI);
	for (size_t i = 0; i < 4; i++)
		vmf_dev(vm, bus[i], 0, 0, 0x10de, 0x1db1, true);
	vmf_disk(vm, "/var/lib/libvirt/images/v100x4.qcow2", PF_DISK_QCOW2);
	vm->cloudinit.enabled = true;
	vmf_plan(vm);
}

/* GeForce RTX 4070 (10de:2786) and its HDMI audio (10de:22bc), BIOS,
 * hypervisor hidden, a raw disk. */
static inline void vmf_rtx4070(struct pf_plan_vm *vm)
{
	vmf_init(vm, "rtx4070", 8, 16, PF_FIRMWARE_BIOS);
	vm->hide_hypervisor = true;
	vmf_dev(vm, 0x01, 0, 0, 0x10de, 0x2786, true);
	vmf_dev(vm, 0x01, 0, 1, 0x10de, 0x22bc, false);
	vmf_disk(vm, "/srv/vm/rtx4070.raw", PF_DISK_RAW);
	vmf_plan(vm);
}

/* 8 x Tesla V100 SXM2 32GB, UEFI, two guest NUMA cells bound to host nodes
 * 0 and 1, vCPUs 0-7 on host CPUs 0-7 and 8-15 on host CPUs 24-31; no
 * disk (a containerDisk only). */
static inline void vmf_gpu8(struct pf_plan_vm *vm)
{
	static const unsigned bus[] = { 0x1a, 0x1b, 0x1c, 0x1d,
					0x3d, 0x3e, 0x3f, 0x40 };

	vmf_init(vm, "gpu8", 16, 64, PF_FIRMWARE_UEFI);
	for (size_t i = 0; i < 8; i++)
		vmf_dev(vm, bus[i], 0, 0, 0x10de, 0x1db5, true);
	vmf_cell(vm, "0-7", 32, 0);
	vmf_cell(vm, "8-15", 32, 1);
	for (unsigned v = 0; v < 16; v++)
		vmf_pin(vm, v, v < 8 ? v : v + 16);
	vmf_plan(vm);
}

#endif
