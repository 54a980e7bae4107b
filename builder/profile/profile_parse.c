/* profile_parse: a profile file -> struct pf_profile, its keys read by the
 * tables of profile_keys*.c. Semantic checks live in validate/. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile_fleet.h"
#include "pxeforge/profile/merge.h"
#include "pxeforge/profile/profile.h"
#include "profile_parser.h"

/* What expansion made for the typed read: the merged top level, and per
 * host item its merged node and the defaults' kernel_params it keeps. */
struct expanded {
	struct pf_node *root;
	const struct pf_node **hosts;
	const struct pf_node **dparams;
	size_t nhosts;
	const struct pf_node *dparams_all;
};

/* defaults with its own removals applied to its kernel_params */
static int expand_defaults(struct parser *P, const struct pf_node *v,
			   struct pf_node **out, const struct pf_node **kp)
{
	struct pf_node_arena *a = &P->p->arena;
	const struct pf_node *list = node_get(v, "kernel_params"), *left;
	const struct pf_node *none;
	struct pf_node *c;
	int rc;

	*out = (struct pf_node *)v;
	*kp = NULL;
	if (!list || list->kind != PF_NODE_SEQ)
		return 0;
	rc = kparams_apply_removals(a, P->d, NULL, list, &none, &left);
	if (rc == -ENOMEM)
		return rc;
	*kp = left;
	c = node_new(a, PF_NODE_MAP, v);
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < v->n; i++)
		if (node_append_pair(c, v->pairs[i].key,
				     v->pairs[i].value == list ?
				     (struct pf_node *)left :
				     v->pairs[i].value))
			return -ENOMEM;
	*out = c;
	return 0;
}

static int expand_hosts(struct parser *P, struct fleet *F,
			struct expanded *E)
{
	struct pf_node *merged;
	size_t n = F->hosts ? F->hosts->n : 0;
	int rc = fleet_groups_index(F);

	if (rc)
		return rc;
	if (!n)
		return fleet_check_unused_groups(F);
	E->hosts = calloc(n, sizeof(*E->hosts));
	E->dparams = calloc(n, sizeof(*E->dparams));
	if (!E->hosts || !E->dparams)
		return -ENOMEM;
	E->nhosts = n;
	for (size_t i = 0; i < n; i++) {
		const struct pf_node *h = F->hosts->items[i];

		rc = fleet_merge_host(F, h, E->dparams_all, &merged,
				      &E->dparams[i]);
		if (rc)
			return rc;
		E->hosts[i] = merged ? merged : h;
		if (merged)
			F->hosts->items[i] = merged;
	}
	(void)P;
	return fleet_check_unused_groups(F);
}

/* The top level as the key tables read it: include and groups expanded,
 * every file's hosts and vms in one list each. */
static int expand(struct parser *P, const struct pf_doc *doc,
		  struct expanded *E)
{
	struct fleet F = { .P = P, .a = &P->p->arena };
	const struct pf_node *root = doc->root;
	bool has_hosts = false, has_vms = false;
	struct pf_node *top;
	int rc;

	fleet_collect(&F, doc);
	rc = P->rc;
	top = rc ? NULL : node_new(F.a, PF_NODE_MAP, root);
	if (!rc && !top)
		rc = -ENOMEM;
	for (size_t i = 0; !rc && i < root->n; i++) {
		const struct pf_node_pair *pair = &root->pairs[i];
		const char *key = pair->key->scalar;
		struct pf_node *v = pair->value;

		if (!strcmp(key, "include") || !strcmp(key, "groups"))
			continue;
		if (!strcmp(key, "defaults") && v->kind == PF_NODE_MAP) {
			rc = expand_defaults(P, v, &v, &E->dparams_all);
			P->p->defaults_node = v;
		} else if (!strcmp(key, "hosts") && F.hosts) {
			v = F.hosts;
			has_hosts = true;
		} else if (!strcmp(key, "vms") && F.vms) {
			v = F.vms;
			has_vms = true;
		}
		if (!rc)
			rc = node_append_pair(top, pair->key, v);
	}
	if (!rc && F.hosts && !has_hosts)
		rc = node_append_pair(top, (struct pf_node *)F.hosts_key,
				      F.hosts);
	if (!rc && F.vms && !has_vms)
		rc = node_append_pair(top, (struct pf_node *)F.vms_key, F.vms);
	if (!rc)
		rc = expand_hosts(P, &F, E);
	fleet_release(&F);
	E->root = top;
	return rc;
}

/* The host's merged node and the defaults' kernel_params it keeps. */
static int attach_hosts(struct parser *P, const struct expanded *E)
{
	for (size_t i = 0; i < P->p->nhosts && i < E->nhosts; i++) {
		struct pf_host *h = &P->p->hosts[i];
		const struct pf_node *kp = E->dparams[i];

		h->node = E->hosts[i];
		if (kp == E->dparams_all)
			continue;
		h->has_defaults_params = true;
		h->defaults_params_node = kp;
		h->defaults_params.given = true;
		h->defaults_params.mark = kp ? kp->mark : h->mark;
		if (!kp || !kp->n)
			continue;
		h->defaults_params.v = calloc(kp->n, sizeof(struct pf_str));
		if (!h->defaults_params.v)
			return -ENOMEM;
		for (size_t j = 0; j < kp->n; j++) {
			const struct pf_node *item = kp->items[j];

			if (item->kind != PF_NODE_SCALAR)
				continue;
			h->defaults_params.v[h->defaults_params.n++] =
				(struct pf_str){ item->scalar, item->mark };
		}
	}
	return 0;
}

int profile_parse(const char *path, struct pf_diag *d, struct pf_profile **out)
{
	struct parser P = { .d = d };
	struct expanded E = { 0 };
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
	rc = expand(&P, doc, &E);
	if (rc) {
		pp_fail(&P, rc);
		rc = P.rc;
		goto clean;
	}
	pp_read_map(&P, E.root, &pk_profile, P.p, "the profile");
	rc = P.rc ? P.rc : attach_hosts(&P, &E);
	if (rc)
		goto clean;
	*out = P.p;
	P.p = NULL;
clean:
	free(E.hosts);
	free(E.dparams);
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
		free(h->groups.v);
		free(h->defaults_params.v);
	}
	free(p->hosts);
	profile_vms_release(p);
	boot_release(&p->defaults);
	pp_cloud_init_release(&p->cloud_init);
	free(p->cluster_secret_path);
	for (size_t i = 0; i < p->ndocs; i++)
		doc_free(p->docs[i]);
	free(p->docs);
	node_arena_release(&p->arena);
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
