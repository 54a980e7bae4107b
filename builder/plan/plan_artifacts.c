/* plan_artifacts: the last decisions of plan_build, taken once every host and
 * VM is planned — each node's NoCloud payload (made once; build, render
 * and vm.yaml all read these bytes), which of its files are secret, and
 * each VM's guest CPU topology and KubeVirt resources. */
#include <errno.h>
#include <stdbool.h>

#include "pxeforge/plan/plan.h"
#include "pxeforge/profile/profile.h"
#include "pxeforge/validate/values.h"

#include "plan_artifacts.h"

int plan_nocloud(struct pf_cloudinit *ci)
{
	int rc;

	nocloud_release(&ci->payload);
	ci->secret = false;
	ci->overlay_secret = false;
	if (!ci->enabled)
		return 0;
	rc = nocloud_build(ci, &ci->payload);
	if (rc) {
		nocloud_release(&ci->payload);
		return rc;
	}
	/* the identity makes user-data and the cidata volume holding it
	 * secret, and an initrd overlay that carries them as the seed */
	ci->secret = cloudinit_has_identity(ci);
	ci->overlay_secret = ci->secret && ci->seed == PF_SEED_OVERLAY;
	return 0;
}

/* One socket per NUMA cell when the vCPUs divide evenly, so the guest sees
 * socket = node (and OpenNebula, which treats a socket as a NUMA node);
 * else one socket. Never a socket per vCPU (libvirt's default), which
 * Windows client editions and some licences refuse. */
int plan_guest_topology(struct pf_plan_vm *vm)
{
	bool set[PF_VM_MAX_VCPUS];

	for (size_t i = 0; i < vm->ncells; i++) {
		struct pf_vm_cell *c = &vm->cells[i];
		unsigned bad;
		size_t n;

		if (!c->cpus || cpuset_parse(c->cpus, PF_VM_MAX_VCPUS, set, &n,
					     &bad) || !n)
			return -EINVAL;
		c->vcpus = (unsigned)n;
	}
	vm->sockets = vm->ncells > 1 && vm->vcpus % vm->ncells == 0 ?
		      (unsigned)vm->ncells : 1;
	vm->cores_per_socket = vm->vcpus / vm->sockets;
	return 0;
}

int plan_artifacts(struct pf_plan *plan)
{
	int rc = 0;

	for (size_t i = 0; i < plan->nhosts && !rc; i++) {
		struct pf_cloudinit *ci = &plan->hosts[i].cloudinit;

		rc = plan_nocloud(ci);
		/* a netbooted host reads its seed from the overlay or the
		 * URL; only BMC virtual media boots from the volume */
		ci->cidata = ci->enabled && ci->seed == PF_SEED_ISO;
	}
	for (size_t i = 0; i < plan->nvms && !rc; i++) {
		rc = plan_nocloud(&plan->vms[i].cloudinit);
		plan->vms[i].cloudinit.cidata = plan->vms[i].cloudinit.enabled;
		if (!rc)
			rc = plan_guest_topology(&plan->vms[i]);
		if (!rc)
			rc = plan_kubevirt(&plan->vms[i]);
	}
	return rc;
}
