/* plan_artifacts: the last decisions of plan_build, taken once every host and
 * VM is planned — each node's NoCloud payload (made once; build, render
 * and vm.yaml all read these bytes), which of its files are secret, and
 * each VM's KubeVirt resources. */
#include <errno.h>

#include "pxeforge/plan/plan.h"

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

int plan_artifacts(struct pf_plan *plan)
{
	int rc = 0;

	for (size_t i = 0; i < plan->nhosts && !rc; i++)
		rc = plan_nocloud(&plan->hosts[i].cloudinit);
	for (size_t i = 0; i < plan->nvms && !rc; i++) {
		rc = plan_nocloud(&plan->vms[i].cloudinit);
		if (!rc)
			rc = plan_kubevirt(&plan->vms[i]);
	}
	return rc;
}
