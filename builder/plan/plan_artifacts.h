/* The decisions taken once a plan's hosts and VMs are planned: each
 * node's NoCloud payload (made once, here), which files are secret, and
 * how each VM runs under KubeVirt. Private to the plan stage (plan.c
 * calls plan_artifacts; the unit tests call the parts). */
#ifndef PXEFORGE_PLAN_ARTIFACTS_H
#define PXEFORGE_PLAN_ARTIFACTS_H

#include "pxeforge/plan/plan.h"

/* KubeVirt rejects inline cloudInitNoCloud data longer than this: over it,
 * user-data and network-config go in a Secret named <vm>-cloud-init. */
#define PF_KV_INLINE_MAX 2048

/* Every host's and VM's NoCloud payload, file secrecy and cidata volume, the VMs' guest
 * CPU topology and KubeVirt resources. 0, -ENOMEM, -EINVAL (a payload that cannot be
 * made, e.g. a build without its cloud-init fragments). */
int plan_artifacts(struct pf_plan *plan);

/* ci->payload (when enabled), ci->secret and ci->overlay_secret. */
int plan_nocloud(struct pf_cloudinit *ci);
/* vm->sockets, vm->cores_per_socket and each cell's vcpus. 0, or
 * -EINVAL for a cell cpuset validate should have rejected. */
int plan_guest_topology(struct pf_plan_vm *vm);
/* vm->kubevirt, from the rest of vm (its cloud-init planned by
 * plan_nocloud first). 0 or -ENOMEM. */
int plan_kubevirt(struct pf_plan_vm *vm);
/* user-data (#cloud-config), network-config, then meta-data whose
 * instance-id hashes the other two, into nc (builder/plan/nocloud.c).
 * 0, -ENOMEM, -EINVAL (ci not enabled), -ENOENT (no fragments). */
int nocloud_build(const struct pf_cloudinit *ci, struct pf_nocloud *nc);

#endif
