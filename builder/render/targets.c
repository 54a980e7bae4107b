/* The one table of render targets: host, VM and fleet targets, each with
 * what it needs, whether it is ever printed, where build puts it, its
 * help and its renderer. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pxeforge/lib/suggest.h"
#include "pxeforge/render/render.h"
#include "pxeforge/render/render_vm.h"
#include "pxeforge/render/targets.h"

static int ipxe(const struct pf_target_subject *s, struct pf_buf *out)
{
	return render_ipxe(s->plan, s->host, out);
}

static int cmdline(const struct pf_target_subject *s, struct pf_buf *out)
{
	return render_cmdline(s->host, out);
}

static int modprobe(const struct pf_target_subject *s, struct pf_buf *out)
{
	return render_modprobe(s->host, out);
}

static int modules_load(const struct pf_target_subject *s, struct pf_buf *out)
{
	return render_modules_load(s->host, out);
}

static int nixos(const struct pf_target_subject *s, struct pf_buf *out)
{
	return render_nixos(s->host, out);
}

static int profile(const struct pf_target_subject *s, struct pf_buf *out)
{
	return render_profile(s->plan, s->host, out);
}

static int dispatcher(const struct pf_target_subject *s, struct pf_buf *out)
{
	return render_dispatcher(s->plan, out);
}

/* The plan's payload bytes, as build writes them. */
static int payload_part(const struct pf_plan_host *h, bool meta,
			struct pf_buf *out)
{
	const struct pf_nocloud *nc = &h->cloudinit.payload;
	const struct pf_buf *part = meta ? &nc->meta_data : &nc->network_config;

	if (!h->cloudinit.enabled || !part->len)
		return -ENODATA;
	return buf_append(out, part->data, part->len);
}

static int meta_data(const struct pf_target_subject *s, struct pf_buf *out)
{
	return payload_part(s->host, true, out);
}

static int network_config(const struct pf_target_subject *s,
			  struct pf_buf *out)
{
	return payload_part(s->host, false, out);
}

static int kubevirt(const struct pf_target_subject *s, struct pf_buf *out)
{
	return s->vm->containerdisk ? kubevirt_vm_render(s->vm, out) : -ENODATA;
}

static int kubevirt_explain(const struct pf_target_subject *s,
			    struct pf_buf *out)
{
	return s->vm->containerdisk ? kubevirt_explain_render(s->vm, out) :
				      -ENODATA;
}

static int libvirt(const struct pf_target_subject *s, struct pf_buf *out)
{
	return libvirt_domain_render(s->vm, out);
}

static int opennebula(const struct pf_target_subject *s, struct pf_buf *out)
{
	return opennebula_render(s->vm, out);
}

static int permitted(const struct pf_target_subject *s, struct pf_buf *out)
{
	return kubevirt_permitted_render(s->plan->vms, s->plan->nvms, out);
}

#define HOST PF_TARGET_HOST
#define VM PF_TARGET_VM
#define FLEET PF_TARGET_FLEET

static const struct pf_target targets[] = {
	/* name, group, needs_name, secret, path, note, render, explain,
	 * host_file, skip_empty, in_overlay */
	{ "ipxe", HOST, true, false, "netboot.ipxe", NULL, ipxe, NULL,
	  true, false, false },
	{ "cmdline", HOST, true, false, "cmdline", NULL, cmdline, NULL,
	  true, false, false },
	{ "modprobe", HOST, true, false, "modprobe.d/vfio.conf", NULL,
	  modprobe, NULL, true, true, true },
	{ "modules-load", HOST, true, false, "modules-load.d/vfio.conf", NULL,
	  modules_load, NULL, true, true, true },
	{ "nixos", HOST, true, false, "nixos/boot.nix", NULL, nixos, NULL,
	  true, false, false },
	{ "profile", HOST, true, false, NULL,
	  "the host as merged (defaults, groups, its\n"
	  "own keys), each value's origin in a comment",
	  profile, NULL, false, false, false },
	{ "dispatcher", HOST, false, false, "boot.ipxe", "(no --host needed)",
	  dispatcher, NULL, false, false, false },
	{ "meta-data", HOST, true, false, "cloud-init/meta-data",
	  "(hosts with cloud_init)", meta_data, NULL, false, false, false },
	{ "network-config", HOST, true, false, "cloud-init/network-config",
	  "(with addresses)", network_config, NULL, false, false, false },
	/* the node's SSH host key and k3s password */
	{ "user-data", HOST, true, true, "cloud-init/user-data", NULL, NULL,
	  NULL, false, false, false },
	{ "kubevirt", VM, true, false, "vm.yaml",
	  "(VMs with a containerdisk); with\n"
	  "--explain, how its memory request is computed: guest\n"
	  "memory plus KubeVirt's virt-launcher overhead, part by part",
	  kubevirt, kubevirt_explain, false, false, false },
	{ "libvirt", VM, true, false, "domain.xml", NULL, libvirt, NULL,
	  false, false, false },
	{ "opennebula", VM, true, false, "opennebula.tmpl", NULL, opennebula,
	  NULL, false, false, false },
	{ "permitted-host-devices", FLEET, false, false,
	  "kubevirt/permitted-host-devices.yaml", NULL, permitted, NULL,
	  false, false, false },
};

#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

/* --help: a heading per group, and the width of its name column. */
static const struct {
	const char *heading;
	int width;
} groups[] = {
	[PF_TARGET_HOST] = { "For a host, TARGET is one of:", 13 },
	[PF_TARGET_VM] = { "For a VM (vms[] in the profile):", 13 },
	[PF_TARGET_FLEET] = { "And for the fleet:", 23 },
};

const struct pf_target *render_targets(size_t *n)
{
	*n = NTARGETS;
	return targets;
}

const struct pf_target *render_target_find(const char *name)
{
	for (size_t i = 0; i < NTARGETS; i++)
		if (!strcmp(targets[i].name, name))
			return &targets[i];
	return NULL;
}

/* The printable targets of a host, then those of a VM. */
const char *render_target_suggest(const char *name)
{
	static const enum pf_target_group order[] = { PF_TARGET_HOST,
						      PF_TARGET_VM };
	const char *names[NTARGETS], *hint = NULL;

	for (size_t g = 0; g < 2 && !hint; g++) {
		size_t n = 0;

		for (size_t i = 0; i < NTARGETS; i++)
			if (targets[i].group == order[g] && !targets[i].secret)
				names[n++] = targets[i].name;
		hint = suggest_closest(name, names, n);
	}
	return hint;
}

int render_target_list(struct pf_buf *out)
{
	int rc = 0;
	int last = -1;

	for (size_t i = 0; i < NTARGETS && !rc; i++) {
		const struct pf_target *t = &targets[i];

		if (t->secret)
			continue;
		if (last >= 0)
			rc = buf_puts(out, (int)t->group == last ? ", " : "; ");
		if (!rc)
			rc = buf_puts(out, t->name);
		last = (int)t->group;
	}
	return rc;
}

int render_vm_target_list(struct pf_buf *out)
{
	size_t n = 0, k = 0;
	int rc = 0;

	for (size_t i = 0; i < NTARGETS; i++)
		n += targets[i].group == PF_TARGET_VM;
	for (size_t i = 0; i < NTARGETS && !rc; i++) {
		if (targets[i].group != PF_TARGET_VM)
			continue;
		if (k)
			rc = buf_puts(out, k + 1 == n ? " or " : ", ");
		if (!rc)
			rc = buf_puts(out, targets[i].name);
		k++;
	}
	return rc;
}

static const char *path_prefix(const struct pf_target *t)
{
	if (!t->needs_name)
		return "OUT/";
	return t->group == PF_TARGET_VM ? "OUT/vms/<vm>/" : "OUT/<host>/";
}

/* "  name  OUT/…/path note", the note's further lines under the path. */
static int help_line(const struct pf_target *t, struct pf_buf *out)
{
	int width = groups[t->group].width;
	const char *note = t->note;
	int rc;

	/* a target build does not write: its note alone */
	rc = t->path ? buf_printf(out, "  %-*s %s%s", width, t->name,
				  path_prefix(t), t->path) :
		       buf_printf(out, "  %-*s", width, t->name);
	while (!rc && note) {
		size_t len = strcspn(note, "\n");

		rc = buf_printf(out, note == t->note ? " %.*s" : "%.*s",
				(int)len, note);
		note = note[len] ? note + len + 1 : NULL;
		if (!rc)
			rc = buf_puts(out, "\n");
		if (!rc && note)
			rc = buf_printf(out, "%*s", width + 3, "");
	}
	if (!rc && !t->note)
		rc = buf_puts(out, "\n");
	return rc;
}

int render_targets_help(struct pf_buf *out)
{
	int last = -1;
	int rc = 0;

	for (size_t i = 0; i < NTARGETS && !rc; i++) {
		const struct pf_target *t = &targets[i];

		if (t->secret)
			continue;
		if ((int)t->group != last)
			rc = buf_printf(out, "%s\n", groups[t->group].heading);
		if (!rc)
			rc = help_line(t, out);
		last = (int)t->group;
	}
	return rc;
}

bool render_target_secret(const struct pf_target *t,
			  const struct pf_target_subject *s)
{
	if (t->secret)
		return true;
	/* vm.yaml carries the user-data; its explanation does not */
	return t->group == PF_TARGET_VM && t->render == kubevirt &&
	       !s->explain && s->vm && s->vm->kubevirt.yaml_secret;
}

int render_target(const struct pf_target *t,
		  const struct pf_target_subject *s, struct pf_buf *out)
{
	if (render_target_secret(t, s) || !t->render)
		return -EPERM;
	if (s->explain)
		return t->explain ? t->explain(s, out) : -EINVAL;
	return t->render(s, out);
}
