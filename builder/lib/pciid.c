#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pxeforge/lib/pciid.h"
#include "pxeforge/lib/suggest.h"

/* The cards users hand to VMs; ids checked against pci.ids and NVIDIA's
 * own device-id lists. companions: functions of the same card that must
 * follow the GPU to vfio-pci. chip: pci.ids' name before the brackets
 * (pci.ids 2023-04-10; 2335, 22a3, 22a4 and 22bc are newer than that file
 * and follow their siblings), so KubeVirt resource names do not depend on
 * the machine's pci.ids. */
static const struct pf_pci_card cards[] = {
	{ 0x10de, 0x1db1, "Tesla V100 SXM2 16GB", "gpu", { 0 }, "GV100GL" },
	{ 0x10de, 0x1db4, "Tesla V100 PCIe 16GB", "gpu", { 0 }, "GV100GL" },
	{ 0x10de, 0x1db5, "Tesla V100 SXM2 32GB", "gpu", { 0 }, "GV100GL" },
	{ 0x10de, 0x1db6, "Tesla V100 PCIe 32GB", "gpu", { 0 }, "GV100GL" },
	{ 0x10de, 0x20b0, "A100 SXM4 40GB", "gpu", { 0 }, "GA100" },
	{ 0x10de, 0x20b1, "A100 PCIe 40GB", "gpu", { 0 }, "GA100" },
	{ 0x10de, 0x20b2, "A100 SXM4 80GB", "gpu", { 0 }, "GA100" },
	{ 0x10de, 0x20b5, "A100 PCIe 80GB", "gpu", { 0 }, "GA100" },
	{ 0x10de, 0x20f1, "A100 PCIe 40GB (rev. 2)", "gpu", { 0 }, "GA100" },
	{ 0x10de, 0x2330, "H100 SXM5 80GB", "gpu", { 0 }, "GH100" },
	{ 0x10de, 0x2331, "H100 PCIe 80GB", "gpu", { 0 }, "GH100" },
	{ 0x10de, 0x2335, "H200 SXM 141GB", "gpu", { 0 }, "GH100" },
	{ 0x10de, 0x1af1, "A100 NVSwitch", "nvswitch", { 0 }, "GA100" },
	{ 0x10de, 0x22a3, "H100 NVSwitch (LS10)", "nvswitch", { 0 }, "GH100" },
	{ 0x10de, 0x22a4, "NVSwitch (LS10)", "nvswitch", { 0 }, "GH100" },
	{ 0x10de, 0x2204, "GeForce RTX 3090", "gpu", { 0x1aef, 0 }, "GA102" },
	{ 0x10de, 0x2206, "GeForce RTX 3080", "gpu", { 0x1aef, 0 }, "GA102" },
	{ 0x10de, 0x1aef, "GA102 HDMI audio", "audio", { 0 }, "GA102" },
	{ 0x10de, 0x2684, "GeForce RTX 4090", "gpu", { 0x22ba, 0 }, "AD102" },
	{ 0x10de, 0x22ba, "AD102 HDMI audio", "audio", { 0 }, "AD102" },
	{ 0x10de, 0x2786, "GeForce RTX 4070", "gpu", { 0x22bc, 0 }, "AD104" },
	{ 0x10de, 0x22bc, "AD104 HDMI audio", "audio", { 0 }, "AD104" },
	{ 0x15b3, 0x1021, "ConnectX-7", "nic", { 0 }, "MT2910 Family" },
};

#define NCARDS (sizeof(cards) / sizeof(cards[0]))

static int hex_field(const char *s, size_t len, unsigned *out)
{
	unsigned v = 0;

	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 16 + (unsigned)(isdigit((unsigned char)s[i]) ?
					s[i] - '0' :
					tolower((unsigned char)s[i]) - 'a' + 10);
	}
	*out = v;
	return 0;
}

int pciid_parse(const char *s, uint16_t *vendor, uint16_t *device)
{
	unsigned v, d;

	if (strlen(s) != 9 || s[4] != ':' || hex_field(s, 4, &v) ||
	    hex_field(s + 5, 4, &d))
		return -EINVAL;
	*vendor = (uint16_t)v;
	*device = (uint16_t)d;
	return 0;
}

int pciaddr_parse(const char *s, unsigned *domain, unsigned *bus,
		  unsigned *dev, unsigned *fn)
{
	if (strlen(s) != 12 || s[4] != ':' || s[7] != ':' || s[10] != '.' ||
	    hex_field(s, 4, domain) || hex_field(s + 5, 2, bus) ||
	    hex_field(s + 8, 2, dev) || hex_field(s + 11, 1, fn) ||
	    *dev > 0x1f || *fn > 7)
		return -EINVAL;
	return 0;
}

const struct pf_pci_card *pciid_card(uint16_t vendor, uint16_t device)
{
	for (size_t i = 0; i < NCARDS; i++)
		if (cards[i].vendor == vendor && cards[i].device == device)
			return &cards[i];
	return NULL;
}

const struct pf_pci_card *pciid_card_by_model(const char *model)
{
	for (size_t i = 0; i < NCARDS; i++)
		if (strcasecmp(cards[i].model, model) == 0)
			return &cards[i];
	return NULL;
}

static unsigned hex_digits_differing(unsigned a, unsigned b)
{
	unsigned n = 0;

	for (int i = 0; i < 4; i++, a >>= 4, b >>= 4)
		n += (a & 0xf) != (b & 0xf);
	return n;
}

const struct pf_pci_card *pciid_card_near(uint16_t vendor, uint16_t device)
{
	for (size_t i = 0; i < NCARDS; i++) {
		unsigned dv = hex_digits_differing(vendor, cards[i].vendor);
		unsigned dd = hex_digits_differing(device, cards[i].device);

		if (dv + dd == 1)
			return &cards[i];
	}
	return NULL;
}

const char *pciid_model_suggest(const char *model)
{
	const char *names[NCARDS];

	for (size_t i = 0; i < NCARDS; i++)
		names[i] = cards[i].model;
	return suggest_closest(model, names, NCARDS);
}

const struct pf_pci_card *pciid_cards(size_t *n)
{
	*n = NCARDS;
	return cards;
}

/* pci.ids is read once, lazily, and only the names asked for are kept. */
struct pciids_name {
	uint16_t vendor, device;
	char *name;
};

static struct pciids_name *names;
static size_t nnames;

static const char *pciids_path(void)
{
	static const char *const paths[] = { "/usr/share/misc/pci.ids",
					     "/usr/share/hwdata/pci.ids" };
	const char *env = getenv("PXEFORGE_PCI_IDS");

	if (env)
		return *env ? env : NULL;
	for (size_t i = 0; i < 2; i++) {
		FILE *fp = fopen(paths[i], "r");

		if (fp) {
			fclose(fp);
			return paths[i];
		}
	}
	return NULL;
}

static char *pciids_lookup(uint16_t vendor, uint16_t device)
{
	const char *path = pciids_path();
	char line[512], want_v[8], want_d[8];
	bool in_vendor = false;
	char *found = NULL;
	FILE *fp;

	if (!path || !(fp = fopen(path, "r")))
		return NULL;
	snprintf(want_v, sizeof(want_v), "%04x", vendor);
	snprintf(want_d, sizeof(want_d), "%04x", device);
	while (fgets(line, sizeof(line), fp)) {
		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (line[0] != '\t') {
			if (in_vendor || strncmp(line, "C ", 2) == 0)
				break;	/* past our vendor, or into classes */
			in_vendor = strncmp(line, want_v, 4) == 0 &&
				    line[4] == ' ';
			continue;
		}
		if (in_vendor && line[1] != '\t' &&
		    strncmp(line + 1, want_d, 4) == 0 && line[5] == ' ') {
			char *name = line + 6;

			while (*name == ' ')
				name++;
			name[strcspn(name, "\r\n")] = '\0';
			found = strdup(name);
			break;
		}
	}
	fclose(fp);
	return found;
}

const char *pciid_name(uint16_t vendor, uint16_t device)
{
	const struct pf_pci_card *card = pciid_card(vendor, device);
	struct pciids_name *grown;
	char *name;

	if (card)
		return card->model;
	for (size_t i = 0; i < nnames; i++)
		if (names[i].vendor == vendor && names[i].device == device)
			return names[i].name;
	name = pciids_lookup(vendor, device);
	if (!name)
		return NULL;
	grown = realloc(names, (nnames + 1) * sizeof(*names));
	if (!grown) {
		free(name);
		return NULL;
	}
	names = grown;
	names[nnames++] = (struct pciids_name){ vendor, device, name };
	return name;
}

void pciid_cleanup(void)
{
	for (size_t i = 0; i < nnames; i++)
		free(names[i].name);
	free(names);
	names = NULL;
	nnames = 0;
}
