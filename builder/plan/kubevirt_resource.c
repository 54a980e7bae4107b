/* KubeVirt resource names for PCI devices: the name a VM asks for and the
 * KubeVirt CR permits (render_permitted.c writes that fragment). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/pciid.h"
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
