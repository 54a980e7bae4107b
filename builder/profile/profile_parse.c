/* profile_parse: a profile file -> struct pf_profile, its keys read by the
 * tables of profile_keys*.c. Semantic checks live in validate/. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/profile/profile.h"
#include "profile_parser.h"

int profile_parse(const char *path, struct pf_diag *d, struct pf_profile **out)
{
	struct parser P = { .d = d };
	struct pf_doc *doc = NULL;
	int rc;

	*out = NULL;
	P.p = calloc(1, sizeof(*P.p));
	if (!P.p || !(P.p->path = strdup(path))) {
		rc = -ENOMEM;
		goto clean;
	}
	rc = doc_load(path, d, &doc);
	if (rc)
		goto clean;
	rc = pp_push_doc(P.p, doc);
	if (rc) {
		doc_free(doc);
		goto clean;
	}
	if (!doc->root || doc->root->kind != PF_NODE_MAP) {
		struct pf_mark at = { doc->file, 1, 1 };

		diag_error(d, doc->root ? &doc->root->mark : &at,
			   "a profile is a mapping with 'version', 'defaults' and 'hosts'%s",
			   doc->root ? "" : "; the file is empty");
		rc = -EINVAL;
		goto clean;
	}
	pp_read_map(&P, doc->root, &pk_profile, P.p, "the profile");
	rc = P.rc;
	if (rc)
		goto clean;
	*out = P.p;
	P.p = NULL;
clean:
	profile_free(P.p);
	return rc;
}

static void boot_release(struct pf_boot *b)
{
	free(b->kernel.source_path);
	for (size_t i = 0; i < b->ninitrds; i++)
		free(b->initrds[i].source_path);
	free(b->initrds);
	free(b->console.v);
	free(b->kernel_params.v);
	free(b->initrd_modules.v);
	free(b->modules_path);
}

void profile_free(struct pf_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nhosts; i++) {
		struct pf_host *h = &p->hosts[i];

		free(h->macs.v);
		for (size_t g = 0; g < h->ngpus; g++)
			free(h->gpus[g].functions);
		free(h->gpus);
		boot_release(&h->boot);
		free(h->nixos.kernel_params.v);
		free(h->nixos.initrd_modules.v);
		free(h->nixos.initrd_available_modules.v);
		pp_cloud_init_release(&h->cloud_init);
	}
	free(p->hosts);
	profile_vms_release(p);
	boot_release(&p->defaults);
	pp_cloud_init_release(&p->cloud_init);
	free(p->cluster_secret_path);
	for (size_t i = 0; i < p->ndocs; i++)
		doc_free(p->docs[i]);
	free(p->docs);
	free(p->path);
	free(p);
}

const char *cpu_name(enum pf_cpu cpu)
{
	return cpu == PF_CPU_INTEL ? "intel" : cpu == PF_CPU_AMD ? "amd" : "unset";
}

const char *role_name(enum pf_role role)
{
	return role == PF_ROLE_HOST ? "host" : "vfio";
}
