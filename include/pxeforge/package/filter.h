/* Which hosts and VMs a build renders (`build --host NAME`), and which
 * files of an earlier build in OUT it leaves as they are: those of the
 * hosts and VMs it does not render. */
#ifndef PXEFORGE_PACKAGE_FILTER_H
#define PXEFORGE_PACKAGE_FILTER_H

#include <stdbool.h>

#include "pxeforge/plan/plan.h"

struct pf_package_filter;

/* A filter over plan (borrowed: it must outlive the filter) that selects
 * nothing yet. 0 or -ENOMEM. */
int package_filter_new(const struct pf_plan *plan,
		       struct pf_package_filter **f);
void package_filter_free(struct pf_package_filter *f);
/* Selects h, one of the plan's hosts, and the VMs that take its GPUs. */
void package_filter_select(struct pf_package_filter *f,
			   const struct pf_plan_host *h);

/* How many hosts are selected. */
size_t package_filter_hosts(const struct pf_package_filter *f);
/* Whether h (a VM: vm) is rendered; a NULL filter renders everything. A
 * VM without GPUs belongs to no host: rendered only without a filter. */
bool package_filter_host(const struct pf_package_filter *f,
			 const struct pf_plan_host *h);
bool package_filter_vm(const struct pf_package_filter *f,
		       const struct pf_plan_vm *vm);

/* The writer's keep_prev (ctx: the filter): path, relative to OUT, of a
 * file an earlier build wrote, belongs to a host or VM of the plan that
 * is not selected (OUT/<host>/…, OUT/hosts/<mac>.ipxe of its MACs,
 * OUT/vms/<vm>/…), so this build leaves it as it is. Files of selected
 * hosts and VMs, fleet-wide files and files of hosts no longer in the
 * profile: false. */
bool package_filter_keeps(const char *path, void *ctx);

#endif
