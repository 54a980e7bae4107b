/* The plan: every decision made, immutable afterwards. Renderers read it. */
#ifndef PXEFORGE_PLAN_H
#define PXEFORGE_PLAN_H

#include <stdbool.h>
#include <stddef.h>

#include "pxeforge/lib/diag.h"
#include "pxeforge/lib/strlist.h"
#include "pxeforge/plan/cloudinit.h"
#include "pxeforge/plan/vm.h"
#include "pxeforge/profile/inputs.h"
#include "pxeforge/profile/profile.h"
#include "pxeforge/validate/cmdline.h"
#include "pxeforge/validate/modclosure.h"

struct pf_plan_file {
	char *name;	/* iPXE image name: "bzImage", "initrd" */
	char *url;	/* as the script writes it: absolute, or relative to the
			 * script ("../c4140/bzImage"), see plan_build */
	char *source;	/* NULL, or what build puts at OUT/<host>/<name>: an
			 * http(s) URL (fetched) or a local path (copied) */
	bool source_is_url;
	char *sha256;	/* lowercase hex the source must hash to, or NULL */
};

struct pf_plan_host {
	const struct pf_host *host;	/* for marks in messages */
	char *name;
	struct pf_strlist macs;		/* lowercase "aa:bb:cc:dd:ee:ff", profile order */
	struct pf_plan_file kernel;
	struct pf_plan_file *initrds;	/* the profile's, then the overlay */
	size_t ninitrds;
	const struct pf_plan_file *overlay;	/* the last initrd, or NULL */
	enum pf_compress compression;	/* of the overlay: gzip or zstd */
	bool has_closure;		/* a modules tree was given */
	struct pf_modclosure closure;	/* module files the overlay carries */
	struct pf_cmdline cmdline;	/* final, ordered, includes init= and initrd= */
	char *cmdline_text;		/* joined, one line without newline */
	struct pf_strlist nixos_params;	/* cmdline without init= and initrd= */
	struct pf_strlist modules;	/* early modules: vfio_pci vfio vfio_iommu_type1 first */
	struct pf_mark *module_marks;	/* where each was asked for (file NULL: generated) */
	struct pf_strlist vfio_ids;	/* "10de:1db1", deduplicated, profile order */
	bool vfio;			/* any GPU with role vfio */
	bool blacklist_nouveau;		/* vfio, and no NVIDIA device with role host */
	struct pf_cloudinit cloudinit;	/* NoCloud payloads, when enabled */
};

struct pf_plan {
	const struct pf_profile *profile;
	char *base_url;			/* NULL: scripts use relative URLs */
	struct pf_plan_host *hosts;
	size_t nhosts;
	struct pf_plan_vm *vms;		/* profile order */
	size_t nvms;
	long long mtime;		/* of archive entries: the profile's
					 * source_date_epoch or 0 (the CLI
					 * puts SOURCE_DATE_EPOCH here) */
};

/* Decides everything for every host and VM of a profile that validated
 * (profile_validate reported no error) against in, the files it names
 * as read. Reports nothing: 0, or -ENOMEM. */
int plan_build(const struct pf_profile *p, const struct pf_profile_inputs *in,
	       struct pf_plan **out);
void plan_free(struct pf_plan *plan);
/* The host's cloud-init (builder/plan/plan_cloudinit.c) but its seed,
 * which host_facts decides; key is the cluster secret or NULL. 0 or
 * -ENOMEM. */
int plan_cloudinit_host(const struct pf_plan *plan, const struct pf_host *h,
			const struct pf_plan_host *ph, const unsigned char *key,
			struct pf_cloudinit *ci);
/* The same for a VM (its devs planned): no network-config and no seed
 * (the hypervisor attaches the NoCloud disk); hostname = the VM's name. */
int plan_cloudinit_vm(const struct pf_plan *plan, const struct pf_vm *vm,
		      const struct pf_plan_vm *pv, const unsigned char *key,
		      struct pf_cloudinit *ci);
/* Every VM of the profile into plan->vms (builder/plan/plan_vm.c), after
 * the hosts; key is the cluster secret or NULL. 0 or -ENOMEM. */
int plan_vms(struct pf_plan *plan, const unsigned char *key);
const struct pf_plan_host *plan_host_find(const struct pf_plan *plan,
					  const char *name);
const struct pf_plan_vm *plan_vm_find(const struct pf_plan *plan,
				      const char *name);
/* "aa:bb:cc:dd:ee:ff" -> "aa-bb-cc-dd-ee-ff" (iPXE's ${mac:hexhyp}) into buf[18]. */
void mac_hyphenate(const char *mac, char out[18]);

#endif
