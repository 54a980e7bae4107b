/* package_vm: the GPU VMs' artifacts. OUT/vms/<vm>/ gets vm.yaml (KubeVirt,
 * when the VM has a containerDisk), domain.xml (libvirt),
 * opennebula.tmpl and, with cloud_init, cloud-init/ and cidata.iso;
 * OUT/kubevirt/permitted-host-devices.yaml lists the fleet's devices. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/secret.h"
#include "pxeforge/out/inputs.h"
#include "pxeforge/package/containerdisk.h"
#include "pxeforge/package/filter.h"
#include "pxeforge/package/package.h"
#include "pxeforge/render/render_vm.h"

#include "package_parts.h"

int package_vm(const struct pf_plan *plan, const struct pf_plan_vm *vm,
	       struct pf_outtree *t, char **failed)
{
	struct pf_buf b;
	char *dir;
	int rc = 0;

	if (asprintf(&dir, "vms/%s", vm->name) < 0)
		return -ENOMEM;
	buf_init(&b);
	if (vm->cloudinit.enabled)
		rc = package_nocloud(plan, dir, &vm->cloudinit, NULL, t, failed);
	if (!rc && vm->containerdisk) {
		rc = kubevirt_vm_render(vm, &b);
		if (!rc)
			rc = package_add(t, b.data, b.len,
					 package_mode(vm->kubevirt.yaml_secret),
					 "%s/vm.yaml", dir);
		secret_wipe(b.data, b.len);
		b.len = 0;
	}
	if (!rc)
		rc = libvirt_domain_render(vm, &b);
	if (!rc)
		rc = package_add(t, b.data, b.len, 0644, "%s/domain.xml", dir);
	b.len = 0;
	if (!rc)
		rc = opennebula_render(vm, &b);
	if (!rc)
		rc = package_add(t, b.data, b.len, 0644, "%s/opennebula.tmpl",
				 dir);
	buf_release(&b);
	free(dir);
	return rc;
}

int package_vms_fleet(const struct pf_plan *plan, struct pf_outtree *t)
{
	struct pf_buf b;
	int rc;

	if (!plan->nvms)
		return 0;
	buf_init(&b);
	rc = kubevirt_permitted_render(plan->vms, plan->nvms, &b);
	if (!rc)
		rc = package_add(t, b.data, b.len, 0644,
				 "kubevirt/permitted-host-devices.yaml");
	buf_release(&b);
	return rc;
}

/* The tag of an image reference ("registry/nixos-gpu:24.11" -> "24.11"),
 * or "latest": index.json's ref.name, what `skopeo copy
 * oci-archive:FILE:TAG` and umoci name the image by. */
static const char *ref_tag(const char *ref)
{
	const char *colon = strrchr(ref, ':'), *slash = strrchr(ref, '/');

	if (strchr(ref, '@') || !colon || (slash && colon < slash))
		return "latest";
	return colon + 1;
}

static int cdisk_gen(void *ctx, const char *src, const char *target,
		     mode_t mode, struct pf_filesum *sum, bool *replaced,
		     char **failed)
{
	(void)mode;	/* an archive of a disk image is no secret: 0644 */
	return containerdisk_write(src, target, ctx, sum, replaced, failed);
}

int package_vm_containerdisks(const struct pf_plan *plan,
			      const struct pf_package_filter *only,
			      const struct pf_inputs *in, bool progress,
			      struct pf_outtree *t, struct pf_cdisk_opts **ctx)
{
	struct pf_cdisk_opts *o;
	int rc = 0;

	*ctx = o = calloc(plan->nvms ? plan->nvms : 1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < plan->nvms && !rc; i++) {
		const struct pf_plan_vm *vm = &plan->vms[i];
		const struct pf_input *disk = NULL;
		char *from = NULL, *path = NULL, *recipe = NULL;

		if (!vm->build_containerdisk || !package_filter_vm(only, vm))
			continue;
		if (asprintf(&from, "vms/%s/%s", vm->name, vm->disk_file) < 0)
			return -ENOMEM;
		for (size_t j = 0; j < in->n && !disk; j++)
			if (!strcmp(in->v[j].out, from))
				disk = &in->v[j];
		if (!disk || !disk->path) {
			free(from);
			return -EINVAL;	/* inputs_resolve ran first */
		}
		containerdisk_opts_init(&o[i]);
		o[i].mtime = plan->mtime;
		o[i].disk_name = vm->disk_file;
		o[i].ref = ref_tag(vm->containerdisk);
		o[i].progress = progress;
		/* made from OUT's disk.<format>: the image checked against its
		 * sha256, read once; its state (as OUT's file) is outtree's */
		if (asprintf(&path, "vms/%s/containerdisk.tar", vm->name) < 0 ||
		    asprintf(&recipe, "containerdisk gzip name=%s ref=%s mtime=%lld",
			     o[i].disk_name, o[i].ref, o[i].mtime) < 0)
			rc = -ENOMEM;
		if (!rc)
			rc = outtree_add_gen(t, path, from, recipe, 0644,
					     cdisk_gen, &o[i]);
		free(from);
		free(path);
		free(recipe);
	}
	return rc;
}
