/* The memory KubeVirt's virt-launcher pod needs besides the guest, part by
 * part, and its explanation (`render --target kubevirt --explain`, and the
 * comment at the top of vm.yaml).
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
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pxeforge/plan/vm.h"

#define KI ((uint64_t)1024)
#define MI (KI * KI)
#define GI (MI * KI)

#define KV_MONITOR (25 * MI)
#define KV_LAUNCHER (100 * MI)
#define KV_VIRTLOGD (25 * MI)
#define KV_VIRTQEMUD (40 * MI)
#define KV_QEMU (30 * MI)
#define KV_PER_VCPU (8 * MI)
#define KV_IOTHREAD (8 * MI)
#define KV_VIDEO (32 * MI)
#define KV_VFIO GI
#define KV_DEDICATED (100 * MI)
#define KV_PAGETABLE_DIV 512

static uint64_t round_up(uint64_t v, uint64_t unit)
{
	return (v + unit - 1) / unit * unit;
}

bool kubevirt_dedicated_cpus(const struct pf_plan_vm *vm)
{
	return vm->npins || vm->ncells;
}

void kubevirt_overhead(const struct pf_plan_vm *vm, struct pf_kv_overhead *o)
{
	unsigned vcpus = vm->vcpus ? vm->vcpus : 1;	/* KubeVirt's minimum */

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
	o->dedicated = kubevirt_dedicated_cpus(vm) ? KV_DEDICATED : 0;
	o->total = o->pagetables + o->fixed + o->vcpus + o->iothreads +
		   o->video + o->vfio + o->dedicated;
	/* guestMappingPassthrough needs hugepages, and KubeVirt then wants
	 * the memory request to be a multiple of the page size. */
	if (kubevirt_dedicated_cpus(vm)) {
		if (vm->memory_bytes && vm->memory_bytes % GI == 0)
			o->hugepage = GI;
		else if (vm->memory_bytes && vm->memory_bytes % (2 * MI) == 0)
			o->hugepage = 2 * MI;
	}
	o->requested = round_up(vm->memory_bytes + o->total,
				o->hugepage ? o->hugepage : MI);
}

/* "256 Mi", or "2000 Ki" when not whole Mi, or bytes. */
static void amount(uint64_t v, char *s, size_t n)
{
	if (v % MI == 0)
		snprintf(s, n, "%" PRIu64 " Mi", v / MI);
	else if (v % KI == 0)
		snprintf(s, n, "%" PRIu64 " Ki", v / KI);
	else
		snprintf(s, n, "%" PRIu64 " B", v);
}

static int line(struct pf_buf *out, const char *part, const char *how,
		uint64_t v)
{
	char a[32];

	amount(v, a, sizeof(a));
	return buf_printf(out, "  %-15s %-44s %12s\n", part, how, a);
}

int kubevirt_explain_render(const struct pf_plan_vm *vm, struct pf_buf *out)
{
	struct pf_kv_overhead o;
	char how[96], guest[32], page[32];
	int rc;

	if (!vm->name)
		return -EINVAL;
	kubevirt_overhead(vm, &o);
	amount(vm->memory_bytes, guest, sizeof(guest));
	rc = buf_printf(out,
			"%s: memory for KubeVirt's virt-launcher besides the guest\n"
			"(KubeVirt GetMemoryOverhead, pkg/hypervisor/kvm/launcherhypervisorresources.go)\n",
			vm->name);
	snprintf(how, sizeof(how), "guest / 512 = %s / 512", guest);
	if (!rc)
		rc = line(out, "page tables", how, o.pagetables);
	if (!rc)
		rc = line(out, "fixed", "monitor 25 + launcher 100 + virtlogd 25 +",
			  o.fixed);
	if (!rc)
		rc = buf_printf(out, "  %-15s %s\n", "",
				"virtqemud 40 + qemu 30 (Mi)");
	snprintf(how, sizeof(how), "8 Mi x %u vCPUs", vm->vcpus ? vm->vcpus : 1);
	if (!rc)
		rc = line(out, "vCPUs", how, o.vcpus);
	if (!rc)
		rc = line(out, "IOThread", "fixed", o.iothreads);
	if (!rc)
		rc = line(out, "video", "VGA console (autoattachGraphicsDevice)",
			  o.video);
	snprintf(how, sizeof(how), "1 Gi with VFIO devices (%zu here)",
		 vm->ndevs);
	if (!rc)
		rc = line(out, "VFIO", how, o.vfio);
	if (!rc)
		rc = line(out, "dedicated CPUs",
			  o.dedicated ? "100 Mi with dedicatedCpuPlacement" :
					"100 Mi only with dedicatedCpuPlacement",
			  o.dedicated);
	if (!rc)
		rc = line(out, "overhead", "sum of the above", o.total);
	if (!rc)
		rc = line(out, "guest", "memory.guest", vm->memory_bytes);
	if (o.hugepage) {
		snprintf(page, sizeof(page), "%s",
			 o.hugepage == GI ? "1 Gi" : "2 Mi");
		snprintf(how, sizeof(how),
			 "guest + overhead, up to whole %s pages", page);
	} else {
		snprintf(how, sizeof(how), "guest + overhead, up to whole Mi");
	}
	if (!rc)
		rc = line(out, "requested", how, o.requested);
	if (!rc)
		rc = buf_puts(out,
			      "KubeVirt adds its own overhead to the requested memory once more\n"
			      "for the pod: a margin of the size above.\n");
	return rc;
}
