/* profile_view: a host as merged, for `render --target profile`: the
 * defaults' host settings under the host's groups and own keys, by the
 * rules the typed stages apply to defaults (kernel_params and
 * initrd_modules added to, other values overridden, cloud_init key by
 * key). name and macs first, then the host's keys as merged, then keys
 * only the defaults set. */
#include <errno.h>
#include <string.h>

#include "pxeforge/profile/merge.h"

static const struct pf_node_pair *pair_in(const struct pf_node *map,
					  const char *key)
{
	for (size_t i = 0; map && i < map->n; i++)
		if (!strcmp(map->pairs[i].key->scalar, key))
			return &map->pairs[i];
	return NULL;
}

/* defaults, with the kernel_params this host keeps after its removals */
static int view_defaults(const struct pf_profile *p, const struct pf_host *h,
			 struct pf_node_arena *a, struct pf_node *v)
{
	static const char *const not_host[] = { "base_url", NULL };
	static const char *const also_params[] = { "base_url", "kernel_params",
						   NULL };
	const struct pf_node *dn = p->defaults_node;
	const struct pf_node_pair *kp;
	struct pf_node *c;
	int rc;

	if (!dn || dn->kind != PF_NODE_MAP)
		return 0;
	rc = node_merge(a, v, dn, NULL, true, PF_MERGE_DEFAULTS,
			h->has_defaults_params ? also_params : not_host);
	kp = pair_in(dn, "kernel_params");
	if (rc || !h->has_defaults_params || !kp || !h->defaults_params_node)
		return rc;
	c = node_copy(a, h->defaults_params_node, NULL, true);
	if (!c)
		return -ENOMEM;
	return node_append_pair(v, kp->key, c);
}

int profile_host_view(const struct pf_profile *p, const struct pf_host *h,
		      struct pf_node_arena *a, const struct pf_node **out)
{
	static const char *const first[] = { "name", "macs" };
	struct pf_node *v, *ordered;
	int rc;

	*out = NULL;
	if (!h->node)
		return -EINVAL;
	v = node_new(a, PF_NODE_MAP, h->node);
	ordered = node_new(a, PF_NODE_MAP, h->node);
	if (!v || !ordered)
		return -ENOMEM;
	rc = view_defaults(p, h, a, v);
	if (!rc)
		rc = node_merge(a, v, h->node, NULL, false, PF_MERGE_DEFAULTS,
				NULL);
	/* name and macs first, where a reader looks for them */
	for (size_t i = 0; !rc && i < 2; i++) {
		const struct pf_node_pair *pr = pair_in(v, first[i]);

		if (pr)
			rc = node_append_pair(ordered, pr->key, pr->value);
	}
	for (size_t i = 0; !rc && i < h->node->n; i++) {
		const char *key = h->node->pairs[i].key->scalar;
		const struct pf_node_pair *pr = pair_in(v, key);

		if (strcmp(key, first[0]) && strcmp(key, first[1]))
			rc = node_append_pair(ordered, pr->key, pr->value);
	}
	for (size_t i = 0; !rc && i < v->n; i++)
		if (!pair_in(h->node, v->pairs[i].key->scalar))
			rc = node_append_pair(ordered, v->pairs[i].key,
					      v->pairs[i].value);
	if (!rc)
		*out = ordered;
	return rc;
}
