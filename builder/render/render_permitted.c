/* OUT/kubevirt/permitted-host-devices.yaml: the KubeVirt CR patch that
 * permits every PCI device of every VM, by the resource name the plan gave
 * it, with the feature gates the VMs need. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/yaml_emit.h"
#include "pxeforge/render/render_vm.h"

struct permitted {
	uint16_t vendor, device;
	const char *resource;	/* the plan's */
};

static int permitted_cmp(const void *a, const void *b)
{
	const struct permitted *x = a, *y = b;

	if (x->vendor != y->vendor)
		return x->vendor < y->vendor ? -1 : 1;
	if (x->device != y->device)
		return x->device < y->device ? -1 : 1;
	return 0;
}

static void emit_gates(struct pf_yaml *y, bool numa)
{
	/* GPU and HostDevices: what older KubeVirt wants for gpus[] and
	 * hostDevices[] (newer releases accept them and ignore GA gates);
	 * CPUManager and NUMA for dedicatedCpuPlacement with
	 * guestMappingPassthrough. Sorted. */
	static const char *const base[] = { "GPU", "HostDevices" };

	yaml_emit_str(y, "developerConfiguration");
	yaml_emit_map_open(y);
	yaml_emit_str(y, "featureGates");
	yaml_emit_seq_open(y, false);
	if (numa)
		yaml_emit_str(y, "CPUManager");
	for (size_t i = 0; i < 2; i++)
		yaml_emit_str(y, base[i]);
	if (numa)
		yaml_emit_str(y, "NUMA");
	yaml_emit_seq_close(y);
	yaml_emit_map_close(y);
}

int kubevirt_permitted_render(const struct pf_plan_vm *vms, size_t nvms,
			      struct pf_buf *out)
{
	struct permitted *p = NULL;
	size_t n = 0, cap = 0;
	bool numa = false;
	struct pf_yaml y;
	char sel[16];
	int rc = 0;

	for (size_t v = 0; v < nvms && !rc; v++) {
		numa = numa || vms[v].kubevirt.dedicated_cpus;
		for (size_t d = 0; d < vms[v].ndevs; d++) {
			const struct pf_vm_pcidev *dev = &vms[v].devs[d];

			if (n == cap) {
				size_t nc = cap ? cap * 2 : 8;
				struct permitted *g = realloc(p, nc * sizeof(*p));

				if (!g) {
					rc = -ENOMEM;
					break;
				}
				p = g;
				cap = nc;
			}
			if (!dev->resource) {
				rc = -EINVAL;	/* plan names every device */
				break;
			}
			p[n].vendor = dev->vendor;
			p[n].device = dev->device;
			p[n].resource = dev->resource;
			n++;
		}
	}
	if (rc)
		goto out;
	/* stable sort not needed: equal selectors are dropped below */
	if (n)
		qsort(p, n, sizeof(*p), permitted_cmp);

	rc = buf_puts(out,
		      "# pxeforge: the PCI devices the VMs take, for the KubeVirt CR.\n"
		      "# Merge it: kubectl patch kubevirt kubevirt -n kubevirt --type merge\n"
		      "#   --patch-file permitted-host-devices.yaml\n"
		      "# (a merge patch replaces featureGates: add the cluster's own gates)\n");
	if (rc)
		goto out;
	yaml_emit_begin(&y, out);
	yaml_emit_map_open(&y);
	yaml_emit_pair(&y, "apiVersion", "kubevirt.io/v1");
	yaml_emit_pair(&y, "kind", "KubeVirt");
	yaml_emit_str(&y, "metadata");
	yaml_emit_map_open(&y);
	yaml_emit_pair(&y, "name", "kubevirt");
	yaml_emit_pair(&y, "namespace", "kubevirt");
	yaml_emit_map_close(&y);
	yaml_emit_str(&y, "spec");
	yaml_emit_map_open(&y);
	yaml_emit_str(&y, "configuration");
	yaml_emit_map_open(&y);
	emit_gates(&y, numa);
	yaml_emit_str(&y, "permittedHostDevices");
	yaml_emit_map_open(&y);
	yaml_emit_str(&y, "pciHostDevices");
	yaml_emit_seq_open(&y, false);
	for (size_t i = 0; i < n; i++) {
		if (i && permitted_cmp(&p[i - 1], &p[i]) == 0)
			continue;
		snprintf(sel, sizeof(sel), "%04X:%04X", p[i].vendor,
			 p[i].device);
		yaml_emit_map_open(&y);
		yaml_emit_str(&y, "pciVendorSelector");
		yaml_emit_quoted(&y, sel);
		yaml_emit_pair(&y, "resourceName", p[i].resource);
		yaml_emit_map_close(&y);
	}
	yaml_emit_seq_close(&y);
	yaml_emit_map_close(&y);
	yaml_emit_map_close(&y);
	yaml_emit_map_close(&y);
	yaml_emit_map_close(&y);
	rc = yaml_emit_end(&y);
out:
	free(p);
	return rc;
}
