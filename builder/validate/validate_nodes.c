/* validate_nodes: what a profile's entries imply, checked — the cluster
 * secret, and for each host its early modules, seed, image names, modules
 * tree and kernel command line (host_facts, as plan computes them), NixOS
 * VFIO settings and cloud-init; then each VM's cloud-init. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/secret.h"
#include "pxeforge/validate/derive.h"
#include "pxeforge/validate/modclosure.h"
#include "pxeforge/validate/values.h"

/* With from_json the NixOS configuration is the source of truth: when it
 * lacks what VFIO needs, the host would boot right from iPXE but wrong
 * from anything else NixOS boots it with. Say what is missing. */
static int check_nixos_vfio(const struct pf_host *h,
			    const struct pf_host_facts *f, struct pf_diag *d)
{
	struct pf_cmdline nx;
	struct pf_buf params, mods;
	const struct pf_param *p;
	int rc = 0;

	cmdline_init(&nx);
	buf_init(&params);
	buf_init(&mods);
	/* conflicts among these are reported with the command line */
	for (size_t i = 0; i < h->nixos.kernel_params.n && rc != -ENOMEM; i++)
		rc = cmdline_add(&nx, h->nixos.kernel_params.v[i].s, "nixos",
				 NULL, NULL);
	if (rc == -ENOMEM)
		goto clean;
	rc = 0;
	p = cmdline_find(&nx, "intel_iommu");
	if (h->cpu == PF_CPU_INTEL &&
	    (!p || !cmdline_list_has(p->value, "on", true)))
		rc = buf_puts(&params, " intel_iommu=on");
	p = cmdline_find(&nx, "iommu");
	if (!rc && (!p || !p->value || strcmp(p->value, "pt") != 0))
		rc = buf_puts(&params, " iommu=pt");
	p = cmdline_find(&nx, "vfio_pci.ids");
	for (size_t i = 0, first = 1; i < f->vfio_ids.n && !rc; i++) {
		if (p && cmdline_list_has(p->value, f->vfio_ids.v[i], true))
			continue;
		rc = buf_printf(&params, "%s%s", first ? " vfio-pci.ids=" : ",",
				f->vfio_ids.v[i]);
		first = 0;
	}
	for (size_t i = 0; i < PF_NVFIO_MODULES && !rc; i++) {
		bool found = false;

		for (size_t m = 0; m < h->nixos.initrd_modules.n && !found; m++)
			found = module_name_equal(h->nixos.initrd_modules.v[m].s,
						  pf_vfio_modules[i]);
		if (!found)
			rc = buf_printf(&mods, " %s", pf_vfio_modules[i]);
	}
	if (!rc && (params.len || mods.len))
		diag_error(d, &h->nixos.from_json.mark,
			   "NixOS configuration '%s' cannot bind the GPUs of host '%s' to VFIO:%s%s%s%s%s (nixosModules.vfio sets both)",
			   h->nixos.from_json.s, f->name,
			   params.len ? " boot.kernelParams lacks" : "",
			   params.len ? params.data : "",
			   params.len && mods.len ? ";" : "",
			   mods.len ? " boot.initrd.kernelModules lacks" : "",
			   mods.len ? mods.data : "");
clean:
	buf_release(&params);
	buf_release(&mods);
	cmdline_release(&nx);
	return rc;
}

/* The overlay carries the closure of the early modules in the tree. */
static int check_modules_tree(const struct pf_host_facts *f,
			      const struct pf_profile_inputs *in,
			      struct pf_diag *d)
{
	struct pf_modclosure closure;
	int rc;

	modclosure_init(&closure);
	rc = host_modclosure(f, in, d, &closure);
	modclosure_release(&closure);
	return rc == -ENOMEM ? rc : 0;
}

static long valid_macs(const struct pf_host *h)
{
	long n = 0;

	for (size_t i = 0; i < h->macs.n; i++)
		n += mac_valid(h->macs.v[i].s);
	return n;
}

static int check_host(const struct pf_profile *p, const struct pf_host *h,
		      const struct pf_profile_inputs *in, struct pf_diag *d)
{
	struct pf_host_facts f;
	int rc = host_facts(p, h, d, &f);

	if (rc != -ENOMEM && f.vfio && h->nixos.from_json_ok)
		rc = check_nixos_vfio(h, &f, d);
	if (rc != -ENOMEM && f.cloudinit)
		validate_cloudinit(p, &h->cloud_init, "host", f.name,
				   valid_macs(h), d);
	if (rc != -ENOMEM)
		rc = check_modules_tree(&f, in, d);
	host_facts_release(&f);
	return rc;
}

void validate_nodes(const struct pf_profile *p, const struct pf_profile_inputs *in,
		    struct pf_diag *d)
{
	/* checked even when no host uses it, so a bad key file is found
	 * before it matters */
	if (p->cluster_secret_path && !in->have_key)
		diag_error(d, &p->cluster_secret.mark, "cluster secret '%s' %s",
			   p->cluster_secret_path, secret_problem(in->key_rc));
	for (size_t i = 0; i < p->nhosts; i++)
		if (check_host(p, &p->hosts[i], in, d) == -ENOMEM)
			diag_error(d, &p->hosts[i].mark, "out of memory");
	for (size_t i = 0; i < p->nvms; i++) {
		const struct pf_vm *vm = &p->vms[i];

		if (vm->cloud_init.given || p->cloud_init.given)
			validate_cloudinit(p, &vm->cloud_init, "VM",
					   vm->name.s ? vm->name.s : "", -1, d);
	}
}
