/* KubeVirt resource names for PCI devices, and the KubeVirt CR fragment
 * that permits them (OUT/kubevirt/permitted-host-devices.yaml). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/pciid.h"
#include "pxeforge/lib/yaml_emit.h"
#include "pxeforge/plan/vm.h"

/* A Kubernetes qualified name's part after the '/': at most 63. */
#define NAME_MAX_LEN 63

static const char *vendor_domain(uint16_t vendor, char *buf, size_t n)
{
	switch (vendor) {
	case 0x10de:
		return "nvidia.com";
	case 0x1002:
		return "amd.com";
	case 0x8086:
		return "intel.com";
	default:
		snprintf(buf, n, "pci-%04x.pxeforge", vendor);
		return buf;
	}
}

/* "GV100GL [Tesla V100 SXM2 16GB]" for a built-in card, whatever pci.ids
 * the machine has; pci.ids' name for the rest. Into buf, or NULL. */
static const char *device_name(uint16_t vendor, uint16_t device, char *buf,
			       size_t n)
{
	const struct pf_pci_card *card = pciid_card(vendor, device);
	size_t len;

	if (!card || !card->chip)
		return pciid_name(vendor, device);
	len = strlen(card->chip);
	if (strncmp(card->model, card->chip, len) == 0 &&
	    card->model[len] == ' ')
		snprintf(buf, n, "%s", card->model);
	else
		snprintf(buf, n, "%s [%s]", card->chip, card->model);
	return buf;
}

/* Upper case, each run of other characters one '_', none at either end. */
static void to_resource(const char *name, char *out, size_t n)
{
	size_t len = 0;
	bool gap = false;

	for (const char *p = name; *p && len + 1 < n; p++) {
		char c = *p;

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) {
			if (gap && len)
				out[len++] = '_';
			gap = false;
			if (len + 1 < n)
				out[len++] = c;
		} else {
			gap = true;
		}
	}
	while (len && out[len - 1] == '_')
		len--;
	out[len] = '\0';
}

char *kubevirt_resource_name(uint16_t vendor, uint16_t device)
{
	char dom[32], full[256], res[NAME_MAX_LEN + 1];
	const char *name = device_name(vendor, device, full, sizeof(full));
	char *out;

	res[0] = '\0';
	if (name)
		to_resource(name, res, sizeof(res));
	if (!res[0])
		snprintf(res, sizeof(res), "DEVICE_%04X", device);
	if (asprintf(&out, "%s/%s", vendor_domain(vendor, dom, sizeof(dom)),
		     res) < 0)
		return NULL;
	return out;
}

struct permitted {
	uint16_t vendor, device;
	char *resource;
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
		numa = numa || kubevirt_dedicated_cpus(&vms[v]);
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
			p[n].vendor = dev->vendor;
			p[n].device = dev->device;
			p[n].resource = dev->resource ? strdup(dev->resource) :
				kubevirt_resource_name(dev->vendor, dev->device);
			if (!p[n].resource) {
				rc = -ENOMEM;
				break;
			}
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
	for (size_t i = 0; i < n; i++)
		free(p[i].resource);
	free(p);
	return rc;
}
