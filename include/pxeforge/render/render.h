/* Renderers: pure functions from the plan to bytes, no I/O.
 * Each returns 0 or a negative errno and appends to out: -ENOMEM, or
 * -EINVAL for a plan that is not complete (refused, not written). They
 * decide nothing and re-check nothing: validate checked, plan decided. */
#ifndef PXEFORGE_RENDER_H
#define PXEFORGE_RENDER_H

#include "pxeforge/lib/buf.h"
#include "pxeforge/plan/plan.h"

/* OUT/<host>/netboot.ipxe (also copied to OUT/hosts/<mac>.ipxe). */
int render_ipxe(const struct pf_plan *plan, const struct pf_plan_host *h,
		struct pf_buf *out);
/* OUT/boot.ipxe: chains hosts/${mac:hexhyp}.ipxe. */
int render_dispatcher(const struct pf_plan *plan, struct pf_buf *out);
/* OUT/<host>/cmdline: the exact kernel command line and a newline. */
int render_cmdline(const struct pf_plan_host *h, struct pf_buf *out);
/* OUT/<host>/modprobe.d/vfio.conf */
int render_modprobe(const struct pf_plan_host *h, struct pf_buf *out);
/* OUT/<host>/modules-load.d/vfio.conf */
int render_modules_load(const struct pf_plan_host *h, struct pf_buf *out);
/* OUT/<host>/nixos/boot.nix: an importable NixOS module. */
int render_nixos(const struct pf_plan_host *h, struct pf_buf *out);
/* The host as merged, YAML, each value's origin in a comment
 * (render_profile.c). */
int render_profile(const struct pf_plan *plan, const struct pf_plan_host *h,
		   struct pf_buf *out);

/* Appends s as a double-quoted Nix string, escaping '"', '\\', "${" and
 * control characters. */
int nix_string_append(struct pf_buf *out, const char *s);

#endif
