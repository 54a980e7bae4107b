/* The targets of `pxeforge render`, host, VM and fleet ones in one table
 * (builder/render/targets.c): the known-target check, did-you-mean, the
 * list in --help and the dispatch all read it, and build writes the host
 * files it marks. */
#ifndef PXEFORGE_TARGETS_H
#define PXEFORGE_TARGETS_H

#include <stdbool.h>
#include <stddef.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/plan/plan.h"

/* Whose artifact a target is: a host's, a VM's, or the whole profile's
 * (the fleet's; --help lists the dispatcher among the host targets). */
enum pf_target_group {
	PF_TARGET_HOST,
	PF_TARGET_VM,
	PF_TARGET_FLEET,
};

/* What a target is rendered for. */
struct pf_target_subject {
	const struct pf_plan *plan;
	const struct pf_plan_host *host;	/* a host target with needs_name */
	const struct pf_plan_vm *vm;		/* a VM target */
	bool explain;				/* --explain */
};

struct pf_target {
	const char *name;
	enum pf_target_group group;
	bool needs_name;	/* --host NAME, or --vm NAME for a VM target */
	bool secret;		/* never printed: holds the node's identity */
	const char *path;	/* below OUT/<host>/, OUT/vms/<vm>/ or OUT/ */
	const char *note;	/* --help, after the path; '\n' continues */
	int (*render)(const struct pf_target_subject *s, struct pf_buf *out);
	/* --explain, or NULL: the target has none */
	int (*explain)(const struct pf_target_subject *s, struct pf_buf *out);
	/* build writes it to OUT/<host>/<path> (host targets) */
	bool host_file;
	bool skip_empty;	/* no file at all when there is nothing to say */
	bool in_overlay;	/* also in the initrd overlay, below etc/ */
};

/* The table, in --help's order. */
const struct pf_target *render_targets(size_t *n);
/* The target called name, or NULL. */
const struct pf_target *render_target_find(const char *name);
/* The printable host target closest to a misspelt name, else the closest
 * VM target needing --vm, or NULL. */
const char *render_target_suggest(const char *name);
/* The printable targets by group: "ipxe, cmdline, …; kubevirt, …;
 * permitted-host-devices". */
int render_target_list(struct pf_buf *out);
/* The VM targets needing --vm: "kubevirt, libvirt or opennebula". */
int render_vm_target_list(struct pf_buf *out);
/* The targets part of `render --help`: each group's heading, then a line
 * per printable target with its output path and note. */
int render_targets_help(struct pf_buf *out);
/* Whether t's bytes for s are never printed: a secret target, or a VM's
 * vm.yaml that the plan made secret (--explain prints no secret). */
bool render_target_secret(const struct pf_target *t,
			  const struct pf_target_subject *s);
/* Renders t for s into out (--explain when s->explain). -ENODATA: the
 * subject has no such artifact (a host without cloud_init or without
 * addresses, a VM without a containerDisk); -EPERM: a secret;
 * -EINVAL: --explain for a target without one. */
int render_target(const struct pf_target *t,
		  const struct pf_target_subject *s, struct pf_buf *out);

#endif
