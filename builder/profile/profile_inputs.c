/* profile_inputs_read: the files a profile names, read before validation
 * so that validate does no I/O and plan meets no surprises. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pxeforge/profile/inputs.h"

const char *const pf_vfio_modules[PF_NVFIO_MODULES] = {
	"vfio_pci", "vfio", "vfio_iommu_type1"
};

static int push_names(struct pf_strlist *names, const struct pf_strv *v)
{
	for (size_t i = 0; i < v->n; i++)
		if (v->v[i].s && !strlist_contains(names, v->v[i].s) &&
		    strlist_push(names, v->v[i].s))
			return -ENOMEM;
	return 0;
}

/* Every module name a host can ask for, in any tree: pxeforge's VFIO
 * modules and every initrd_modules list. */
static int module_names(const struct pf_profile *p, struct pf_strlist *names)
{
	int rc = 0;

	for (size_t i = 0; i < PF_NVFIO_MODULES && !rc; i++)
		rc = strlist_push(names, pf_vfio_modules[i]);
	if (!rc)
		rc = push_names(names, &p->defaults.initrd_modules);
	for (size_t h = 0; h < p->nhosts && !rc; h++) {
		rc = push_names(names, &p->hosts[h].nixos.initrd_modules);
		if (!rc)
			rc = push_names(names, &p->hosts[h].boot.initrd_modules);
	}
	return rc;
}

static int read_tree(struct pf_profile_inputs *in, const char *path,
		     const struct pf_strlist *names)
{
	struct pf_modtree *v;

	if (!path || profile_inputs_tree(in, path))
		return 0;
	v = realloc(in->trees, (in->ntrees + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	in->trees = v;
	return modtree_read(path, (const char *const *)names->v, names->n,
			    &in->trees[in->ntrees++]);
}

static int read_trees(const struct pf_profile *p, struct pf_profile_inputs *in)
{
	struct pf_strlist names;
	int rc;

	strlist_init(&names);
	rc = module_names(p, &names);
	if (!rc)
		rc = read_tree(in, p->defaults.modules_path, &names);
	for (size_t h = 0; h < p->nhosts && !rc; h++)
		rc = read_tree(in, p->hosts[h].boot.modules_path, &names);
	strlist_release(&names);
	return rc;
}

static int check_readable(struct pf_profile_inputs *in, const char *path)
{
	struct pf_readable *v;

	if (!path)
		return 0;
	for (size_t i = 0; i < in->nfiles; i++)
		if (!strcmp(in->files[i].path, path))
			return 0;
	v = realloc(in->files, (in->nfiles + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	in->files = v;
	v[in->nfiles].path = strdup(path);
	if (!v[in->nfiles].path)
		return -ENOMEM;
	v[in->nfiles++].err = access(path, R_OK) == 0 ? 0 : errno;
	return 0;
}

static int check_boot(struct pf_profile_inputs *in, const struct pf_boot *b)
{
	int rc = b->has_kernel ? check_readable(in, b->kernel.source_path) : 0;

	for (size_t i = 0; i < b->ninitrds && !rc; i++)
		rc = check_readable(in, b->initrds[i].source_path);
	return rc;
}

static int check_sources(const struct pf_profile *p, struct pf_profile_inputs *in)
{
	int rc = check_boot(in, &p->defaults);

	for (size_t h = 0; h < p->nhosts && !rc; h++)
		rc = check_boot(in, &p->hosts[h].boot);
	for (size_t v = 0; v < p->nvms && !rc; v++)
		rc = check_readable(in, p->vms[v].disk.image_path);
	return rc;
}

int profile_inputs_read(const struct pf_profile *p, struct pf_profile_inputs **out)
{
	struct pf_profile_inputs *in = calloc(1, sizeof(*in));
	int rc;

	*out = NULL;
	if (!in)
		return -ENOMEM;
	if (p->cluster_secret_path) {
		in->key_rc = secret_load(p->cluster_secret_path, in->key);
		in->have_key = in->key_rc == 0;
		if (in->key_rc == -ENOMEM) {
			rc = -ENOMEM;
			goto clean;
		}
	}
	rc = read_trees(p, in);
	if (!rc)
		rc = check_sources(p, in);
	if (rc)
		goto clean;
	*out = in;
	in = NULL;
clean:
	profile_inputs_free(in);
	return rc;
}

void profile_inputs_free(struct pf_profile_inputs *in)
{
	if (!in)
		return;
	secret_wipe(in->key, sizeof(in->key));
	for (size_t i = 0; i < in->ntrees; i++)
		modtree_release(&in->trees[i]);
	free(in->trees);
	for (size_t i = 0; i < in->nfiles; i++)
		free(in->files[i].path);
	free(in->files);
	free(in);
}

const struct pf_modtree *profile_inputs_tree(const struct pf_profile_inputs *in,
					const char *path)
{
	for (size_t i = 0; in && path && i < in->ntrees; i++)
		if (!strcmp(in->trees[i].path, path))
			return &in->trees[i];
	return NULL;
}

int profile_inputs_access(const struct pf_profile_inputs *in, const char *path)
{
	for (size_t i = 0; in && path && i < in->nfiles; i++)
		if (!strcmp(in->files[i].path, path))
			return in->files[i].err;
	return ENOENT;
}
