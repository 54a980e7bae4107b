/* Every semantic check of a profile: hosts, VMs, and what their entries
 * imply (kernel command line, early modules, image names, cloud-init),
 * against the files the profile names as read before. */
#ifndef PXEFORGE_VALIDATE_H
#define PXEFORGE_VALIDATE_H

#include "pxeforge/lib/diag.h"
#include "pxeforge/profile/inputs.h"
#include "pxeforge/profile/profile.h"

/* Reports every problem into d; nothing stops at the first. A profile
 * with no error reported plans (plan_build). */
void profile_validate(const struct pf_profile *p, const struct pf_profile_inputs *in,
		      struct pf_diag *d);

#endif
