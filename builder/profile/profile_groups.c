/* profile_groups: groups: {name: host settings} and hosts[].groups. A
 * group's own groups apply before its keys, a host's groups in order
 * before the host's keys: scalars override, lists append, mappings merge
 * key by key (node_merge.c). Unknown groups and cycles are errors. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "profile_fleet.h"
#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/suggest.h"
#include "pxeforge/profile/merge.h"

enum { GROUP_NEW, GROUP_BUSY, GROUP_DONE };

/* Keys a group cannot set: each host has its own. */
static const char *const group_skip[] = { "groups", "name", "macs", NULL };
static const char *const host_skip[] = { "groups", NULL };

static int by_name(const void *pa, const void *pb)
{
	const struct fleet_group *a = pa, *b = pb;
	int c = strcmp(a->name, b->name);

	return c ? c : (a->order > b->order) - (a->order < b->order);
}

int fleet_groups_index(struct fleet *F)
{
	size_t n = 0;

	if (!F->ngroups)
		return 0;
	qsort(F->groups, F->ngroups, sizeof(*F->groups), by_name);
	for (size_t i = 0; i < F->ngroups; i++) {
		char first[4096];

		if (n && !strcmp(F->groups[n - 1].name, F->groups[i].name)) {
			diag_error(F->P->d, &F->groups[i].key->mark,
				   "duplicate group '%s' (first at %s)",
				   F->groups[i].name,
				   mark_format(&F->groups[n - 1].key->mark,
					       first, sizeof(first)));
			continue;
		}
		F->groups[n++] = F->groups[i];
	}
	F->ngroups = n;
	F->group_names = calloc(n, sizeof(*F->group_names));
	F->chain = calloc(n + 1, sizeof(*F->chain));
	if (!F->group_names || !F->chain)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++)
		F->group_names[i] = F->groups[i].name;
	return 0;
}

static struct fleet_group *find_group(struct fleet *F, const char *name)
{
	struct fleet_group key = { .name = name };
	size_t lo = 0, hi = F->ngroups;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, F->groups[mid].name);

		if (!c)
			return &F->groups[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	(void)key;
	return NULL;
}

static void report_cycle(struct fleet *F, const char *again,
			 const struct pf_mark *at)
{
	struct pf_buf b;
	size_t from = 0;
	int rc = 0;

	buf_init(&b);
	while (from < F->nchain && strcmp(F->chain[from], again))
		from++;
	for (size_t i = from; i < F->nchain && !rc; i++)
		rc = buf_printf(&b, "%s -> ", F->chain[i]);
	if (!rc)
		rc = buf_puts(&b, again);
	if (rc)
		pp_fail(F->P, rc);
	else
		diag_error(F->P->d, at, "group cycle: %s", b.data);
	buf_release(&b);
}

static void report_unknown(struct fleet *F, const struct pf_node *item)
{
	const char *hint = suggest_closest(item->scalar, F->group_names,
					   F->ngroups);

	if (hint)
		diag_error(F->P->d, &item->mark,
			   "unknown group '%s' (did you mean '%s'?)",
			   item->scalar, hint);
	else
		diag_error(F->P->d, &item->mark, "unknown group '%s'%s",
			   item->scalar,
			   F->ngroups ? "" : " (the profile defines no groups)");
}

static int apply_groups(struct fleet *F, const struct pf_node *refs,
			struct pf_node *dst);

static bool group_key(const char *name)
{
	if (!strcmp(name, "name") || !strcmp(name, "macs"))
		return false;
	for (size_t k = 0; k < pk_host.n; k++)
		if (!strcmp(name, pk_host.keys[k].name))
			return true;
	return false;
}

/* "unknown key 'x' in group 'g' (did you mean ...)", as for a host */
static void unknown_key(struct fleet *F, const struct fleet_group *g,
			const struct pf_node *key)
{
	const char **names = calloc(pk_host.n, sizeof(*names));
	const char *hint;
	size_t n = 0;
	struct pf_buf list;
	int rc = 0;

	if (!names) {
		pp_fail(F->P, -ENOMEM);
		return;
	}
	/* a key the group already has is no answer to "did you mean" */
	for (size_t k = 0; k < pk_host.n; k++)
		if (group_key(pk_host.keys[k].name) &&
		    !node_get(g->value, pk_host.keys[k].name))
			names[n++] = pk_host.keys[k].name;
	hint = suggest_closest(key->scalar, names, n);
	free(names);
	if (hint) {
		diag_error(F->P->d, &key->mark,
			   "unknown key '%s' in group '%s' (did you mean '%s'?)",
			   key->scalar, g->name, hint);
		return;
	}
	buf_init(&list);
	for (size_t k = 0, i = 0; k < pk_host.n && !rc; k++)
		if (group_key(pk_host.keys[k].name))
			rc = buf_printf(&list, "%s%s", i++ ? ", " : "",
					pk_host.keys[k].name);
	if (rc)
		pp_fail(F->P, rc);
	else
		diag_error(F->P->d, &key->mark,
			   "unknown key '%s' in group '%s' (known keys: %s)",
			   key->scalar, g->name, list.data ? list.data : "");
	buf_release(&list);
}

/* A host's own keys and unknown keys: reported here, once, and left out
 * of the merge (*skip: NULL-terminated, malloc'd). */
static int check_group_keys(struct fleet *F, const struct fleet_group *g,
			    const char ***skip)
{
	const struct pf_node *v = g->value;
	const char **s = calloc(v->n + NKEYS(group_skip), sizeof(*s));
	size_t n = 0;

	*skip = s;
	if (!s)
		return -ENOMEM;
	for (size_t i = 0; group_skip[i]; i++)
		s[n++] = group_skip[i];
	for (size_t i = 0; i < v->n; i++) {
		const struct pf_node *key = v->pairs[i].key;

		if (!strcmp(key->scalar, "groups") || group_key(key->scalar))
			continue;
		if (!strcmp(key->scalar, "name") || !strcmp(key->scalar, "macs"))
			diag_error(F->P->d, &key->mark,
				   "'%s' cannot be set in group '%s': each host has its own",
				   key->scalar, g->name);
		else
			unknown_key(F, g, key);
		s[n++] = key->scalar;
	}
	return 0;
}

/* The group's groups, then its own keys, once. */
static int resolve(struct fleet *F, struct fleet_group *g)
{
	const struct pf_node *v = g->value;
	const char **skip = NULL;
	int rc;

	g->state = GROUP_BUSY;
	g->resolved = node_new(F->a, PF_NODE_MAP, v);
	if (!g->resolved)
		return -ENOMEM;
	g->resolved->group = g->name;
	rc = 0;
	if (node_is_null(v))
		goto done;
	if (v->kind != PF_NODE_MAP) {
		diag_error(F->P->d, &v->mark,
			   "wrong type for group '%s': expected a mapping of host settings, got %s",
			   g->name, node_kind_name(v));
		goto done;
	}
	rc = check_group_keys(F, g, &skip);
	F->chain[F->nchain++] = g->name;
	if (!rc)
		rc = apply_groups(F, node_get(v, "groups"), g->resolved);
	F->nchain--;
	if (!rc)
		rc = node_merge(F->a, g->resolved, v, g->name, false,
				PF_MERGE_GROUP, skip);
	free(skip);
done:
	g->state = GROUP_DONE;
	return rc;
}

static int apply_groups(struct fleet *F, const struct pf_node *refs,
			struct pf_node *dst)
{
	int rc;

	if (!refs || node_is_null(refs) ||
	    !pp_want_kind(F->P, refs, PF_NODE_SEQ, "groups"))
		return 0;
	for (size_t i = 0; i < refs->n; i++) {
		const struct pf_node *item = refs->items[i];
		struct fleet_group *g;

		if (!pp_want_kind(F->P, item, PF_NODE_SCALAR, "groups[]"))
			continue;
		g = find_group(F, item->scalar);
		if (!g) {
			report_unknown(F, item);
			continue;
		}
		if (g->state == GROUP_BUSY) {
			report_cycle(F, g->name, &item->mark);
			continue;
		}
		if (g->state == GROUP_NEW) {
			rc = resolve(F, g);
			if (rc)
				return rc;
		}
		rc = node_merge(F->a, dst, g->resolved, NULL, false,
				PF_MERGE_GROUP, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

static struct pf_node_pair *pair_of(struct pf_node *map, const char *key)
{
	for (size_t i = 0; map && map->kind == PF_NODE_MAP && i < map->n; i++)
		if (!strcmp(map->pairs[i].key->scalar, key))
			return &map->pairs[i];
	return NULL;
}

/* Removals in a kernel parameter list of the merged host. */
static int remove_params(struct fleet *F, struct pf_node *map,
			 const struct pf_node *prior,
			 const struct pf_node **prior_out)
{
	struct pf_node_pair *kp = pair_of(map, "kernel_params");
	const struct pf_node *list;
	int rc;

	*prior_out = prior;
	if (!kp || kp->value->kind != PF_NODE_SEQ)
		return 0;
	rc = kparams_apply_removals(F->a, F->P->d, prior, kp->value,
				    prior_out, &list);
	if (rc == -ENOMEM)
		return rc;
	/* list is a copy made here, or the merged copy itself */
	kp->value = (struct pf_node *)list;
	return 0;
}

int fleet_check_unused_groups(struct fleet *F)
{
	int rc = 0;

	for (size_t i = 0; i < F->ngroups && !rc; i++) {
		const struct pf_node *v = F->groups[i].value;

		if (F->groups[i].state != GROUP_NEW)
			continue;
		F->nchain = 0;
		rc = resolve(F, &F->groups[i]);
		/* no host reads its values: their keys are checked here */
		for (size_t k = 0; !rc && v->kind == PF_NODE_MAP && k < v->n;
		     k++)
			for (size_t h = 0; h < pk_host.n; h++)
				if (group_key(v->pairs[k].key->scalar) &&
				    !strcmp(pk_host.keys[h].name,
					    v->pairs[k].key->scalar))
					pp_check_nested_keys(F->P,
							     v->pairs[k].value,
							     &pk_host.keys[h]);
	}
	return rc;
}

int fleet_merge_host(struct fleet *F, const struct pf_node *n,
		     const struct pf_node *dparams, struct pf_node **out,
		     const struct pf_node **dparams_out)
{
	struct pf_node *m;
	struct pf_node_pair *nixos;
	const struct pf_node *unused;
	int rc;

	*out = NULL;
	*dparams_out = dparams;
	if (n->kind != PF_NODE_MAP)
		return 0;
	m = node_new(F->a, PF_NODE_MAP, n);
	if (!m)
		return -ENOMEM;
	F->nchain = 0;
	rc = apply_groups(F, node_get(n, "groups"), m);
	if (!rc)
		rc = node_merge(F->a, m, n, NULL, false, PF_MERGE_GROUP,
				host_skip);
	if (!rc)
		rc = remove_params(F, m, dparams, dparams_out);
	nixos = pair_of(m, "nixos");
	if (!rc && nixos)
		rc = remove_params(F, nixos->value, NULL, &unused);
	if (!rc)
		*out = m;
	return rc;
}
