/* PCI ids: the built-in table of cards users hand to VMs, pci.ids names,
 * and the did-you-mean over both. */
#ifndef PXEFORGE_PCIID_H
#define PXEFORGE_PCIID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pf_pci_card {
	uint16_t vendor, device;
	const char *model;	/* "Tesla V100 SXM2 16GB" */
	const char *kind;	/* "gpu", "audio", "nvswitch", "nic" */
	/* Other functions of the same card that must follow it to vfio-pci
	 * (e.g. the HDMI audio of a consumer GPU): device ids, 0-terminated. */
	uint16_t companions[4];
	/* The chip as pci.ids names it: "GV100GL"; the full name of the
	 * device is "<chip> [<model>]" ("GV100GL [Tesla V100 SXM2 16GB]"),
	 * or the model alone when it starts with the chip ("AD104 HDMI
	 * audio"). */
	const char *chip;
};

/* "10de:1db1" -> vendor, device. Exactly 4 hex : 4 hex; 0 or -EINVAL. */
int pciid_parse(const char *s, uint16_t *vendor, uint16_t *device);
/* "0000:1a:00.0" -> parts. DDDD:BB:DD.F, device <= 1f, function <= 7. */
int pciaddr_parse(const char *s, unsigned *domain, unsigned *bus,
		  unsigned *dev, unsigned *fn);

const struct pf_pci_card *pciid_card(uint16_t vendor, uint16_t device);
/* Built-in card by model name (case-insensitive), or NULL. */
const struct pf_pci_card *pciid_card_by_model(const char *model);
/* The known card whose id is one hex digit away from this one, or NULL. */
const struct pf_pci_card *pciid_card_near(uint16_t vendor, uint16_t device);
/* Closest built-in model name to model, or NULL. */
const char *pciid_model_suggest(const char *model);
const struct pf_pci_card *pciid_cards(size_t *n);

/* Name from the built-in table, else from pci.ids (PXEFORGE_PCI_IDS,
 * /usr/share/misc/pci.ids or /usr/share/hwdata/pci.ids), else NULL.
 * The returned string lives until pciid_cleanup(). */
const char *pciid_name(uint16_t vendor, uint16_t device);
void pciid_cleanup(void);

#endif
