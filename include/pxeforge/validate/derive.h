/* What a host's or VM's entries imply — VFIO ids, early modules, seed,
 * image names, the kernel command line, the GPUs a VM takes — computed by
 * one function each: validate calls them with a diag and reports what is
 * wrong, plan calls them with d NULL on a validated profile and keeps
 * what they computed. */
#ifndef PXEFORGE_DERIVE_H
#define PXEFORGE_DERIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "pxeforge/lib/diag.h"
#include "pxeforge/lib/strlist.h"
#include "pxeforge/profile/profile.h"
#include "pxeforge/validate/cmdline.h"

struct pf_host_facts {
	const char *name;		/* the host's name, "" when missing */
	bool vfio;			/* a GPU with role vfio */
	struct pf_strlist vfio_ids;	/* "10de:1db1", deduplicated, profile order */
	struct pf_strlist modules;	/* early modules: VFIO's first */
	struct pf_mark *module_marks;	/* where each was asked for (file
					 * NULL: pxeforge's) */
	bool cloudinit;			/* the host or the defaults have cloud_init */
	enum pf_seed seed;		/* with cloudinit: overlay or url */
	char *seed_url;			/* seed url: with its trailing '/' */
	struct pf_mark seed_mark;	/* where seed or seed_url was written */
	enum pf_compress compression;	/* of the overlay: gzip or zstd */
	bool overlay;			/* pxeforge adds its initrd overlay */
	const struct pf_bootfile *kernel_file;	/* the host's or the
						 * defaults', or NULL */
	const struct pf_boot *initrds_from;	/* whose initrds, or NULL:
						 * the one default */
	const struct pf_boot *modules_tree;	/* whose modules_path, or NULL */
	const char *kernel;		/* image names: the kernel's */
	struct pf_strlist initrds;	/* the initrds', the overlay's last */
	struct pf_cmdline cmdline;	/* final, ordered, with init= and initrd= */
};

/* base_url without its trailing '/' (malloc'd; NULL: -ENOMEM). */
char *base_url_trimmed(const struct pf_profile *p);
/* The overlay's image name. */
const char *overlay_name(enum pf_compress c);
/* Module names compare with '-' and '_' as one, as modprobe does. */
bool module_name_equal(const char *a, const char *b);

/* Everything above for host h. Problems (invalid module names, seed,
 * image names that clash, kernel parameters that conflict, are unsafe or
 * too long) go to d when given: then -EINVAL. -ENOMEM, or 0. */
int host_facts(const struct pf_profile *p, const struct pf_host *h,
	       struct pf_diag *d, struct pf_host_facts *out);
void host_facts_release(struct pf_host_facts *f);

/* The vfio GPUs vm takes from h: in the order written, or host order for
 * 'gpus: all', each once. Problems (an address that is no vfio GPU of h,
 * a GPU listed twice, none taken) go to d when given. 0 with *out
 * malloc'd (NULL when the VM names none), or -ENOMEM. */
int vm_gpus(const struct pf_vm *vm, const struct pf_host *h,
	    struct pf_diag *d, const struct pf_gpu ***out, size_t *n);

#endif
