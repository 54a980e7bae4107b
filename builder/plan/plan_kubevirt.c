/* plan_kubevirt: how a VM runs under KubeVirt — its cores, dedicated CPUs
 * and hugepages, the memory KubeVirt's virt-launcher pod needs besides the
 * guest, part by part (explained by `render --target kubevirt --explain`
 * and the comment at the top of vm.yaml), and whether its cloud-init is
 * inline or in a Secret.
 *
 * Facts from KubeVirt's GetMemoryOverhead: kubevirt/kubevirt
 * pkg/hypervisor/kvm/launcherhypervisorresources.go (main, 2025; earlier
 * v1.x releases have it in pkg/virt-controller/services/renderresources.go,
 * constants in template.go, the same values since virtqemud replaced
 * libvirtd). What applies to a pxeforge VM, x86:
 *   page tables      memory request / 512
 *   fixed            virt-launcher-monitor 25Mi, virt-launcher 100Mi,
 *                    virtlogd 25Mi, virtqemud 40Mi, qemu 30Mi
 *   vCPUs            8Mi each
 *   IOThread         8Mi, always
 *   video            32Mi unless autoattachGraphicsDevice is false
 *   VFIO             1Gi when a GPU or host device is passed through
 *   dedicated CPUs   100Mi with dedicatedCpuPlacement
 * Not applicable here: arm64 pflash (128Mi), downward metrics (1Mi), exec
 * probes, SEV (256Mi), TPM (53Mi), the cluster's additionalOverheadRatio. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/units.h"
#include "pxeforge/plan/vm.h"

#include "plan_artifacts.h"

#define KV_MONITOR (25 * PF_MI)
#define KV_LAUNCHER (100 * PF_MI)
#define KV_VIRTLOGD (25 * PF_MI)
#define KV_VIRTQEMUD (40 * PF_MI)
#define KV_QEMU (30 * PF_MI)
#define KV_PER_VCPU (8 * PF_MI)
#define KV_IOTHREAD (8 * PF_MI)
#define KV_VIDEO (32 * PF_MI)
#define KV_VFIO PF_GI
#define KV_DEDICATED (100 * PF_MI)
#define KV_PAGETABLE_DIV 512

static uint64_t round_up(uint64_t v, uint64_t unit)
{
	return (v + unit - 1) / unit * unit;
}

/* KubeVirt places the vCPUs itself (CPU manager): the profile's host
 * pinning and cells become "follow the host's NUMA layout", which needs
 * dedicated CPUs and hugepages. */
static bool wants_dedicated_cpus(const struct pf_plan_vm *vm)
{
	return vm->npins || vm->ncells;
}

static void overhead(const struct pf_plan_vm *vm, unsigned vcpus,
		     bool dedicated, struct pf_kv_overhead *o)
{
	memset(o, 0, sizeof(*o));
	/* KubeVirt divides the pod's memory request; pxeforge divides the
	 * guest, which the request is derived from (see the README). */
	o->pagetables = vm->memory_bytes / KV_PAGETABLE_DIV;
	o->fixed = KV_MONITOR + KV_LAUNCHER + KV_VIRTLOGD + KV_VIRTQEMUD +
		   KV_QEMU;
	o->vcpus = KV_PER_VCPU * vcpus;
	o->iothreads = KV_IOTHREAD;
	o->video = KV_VIDEO;	/* vm.yaml keeps the default VGA console */
	o->vfio = vm->ndevs ? KV_VFIO : 0;
	o->dedicated = dedicated ? KV_DEDICATED : 0;
	o->total = o->pagetables + o->fixed + o->vcpus + o->iothreads +
		   o->video + o->vfio + o->dedicated;
}

int plan_kubevirt(struct pf_plan_vm *vm)
{
	struct pf_kv_resources *kv = &vm->kubevirt;
	const struct pf_nocloud *nc = &vm->cloudinit.payload;

	free(kv->cloudinit_secret);
	memset(kv, 0, sizeof(*kv));
	kv->cores = vm->vcpus ? vm->vcpus : 1;	/* KubeVirt's minimum */
	kv->dedicated_cpus = wants_dedicated_cpus(vm);
	overhead(vm, kv->cores, kv->dedicated_cpus, &kv->overhead);
	/* guestMappingPassthrough needs hugepages, and KubeVirt then wants
	 * the memory request to be a multiple of the page size (validate
	 * rejects a VM with a containerDisk whose guest memory is not whole
	 * 2 Mi pages: only vm.yaml asks for pages). */
	if (kv->dedicated_cpus) {
		if (vm->memory_bytes && vm->memory_bytes % PF_GI == 0)
			kv->hugepage = PF_GI;
		else if (vm->memory_bytes && vm->memory_bytes % (2 * PF_MI) == 0)
			kv->hugepage = 2 * PF_MI;
	}
	kv->requested = round_up(vm->memory_bytes + kv->overhead.total,
				 kv->hugepage ? kv->hugepage : PF_MI);
	if (!vm->cloudinit.enabled)
		return 0;
	/* vm.yaml carries the user-data, inline or in its Secret */
	kv->yaml_secret = vm->cloudinit.secret;
	if ((nc->user_data.len > PF_KV_INLINE_MAX ||
	     nc->network_config.len > PF_KV_INLINE_MAX) &&
	    asprintf(&kv->cloudinit_secret, "%s-cloud-init", vm->name) < 0) {
		kv->cloudinit_secret = NULL;
		return -ENOMEM;
	}
	return 0;
}
