/* node_merge: copies and merges of document trees (groups over hosts,
 * hosts over defaults) and kernel parameter removals, at the node level
 * so that every merged value still carries its own mark. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/profile/merge.h"

struct pf_node *node_new(struct pf_node_arena *a, enum pf_node_kind kind,
			 const struct pf_node *like)
{
	struct pf_node *n;

	/* a fleet's merged hosts make many nodes: grow by doubling */
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		struct pf_node **v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		a->v = v;
		a->cap = cap;
	}
	n = calloc(1, sizeof(*n));
	if (!n)
		return NULL;
	if (like) {
		n->mark = like->mark;
		n->scalar = like->scalar;
		n->quoted = like->quoted;
		n->group = like->group;
		n->from_defaults = like->from_defaults;
	}
	n->kind = kind;
	a->v[a->n++] = n;
	return n;
}

int node_append_item(struct pf_node *seq, struct pf_node *item)
{
	struct pf_node **v = realloc(seq->items, (seq->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	seq->items = v;
	seq->items[seq->n++] = item;
	return 0;
}

int node_append_pair(struct pf_node *map, struct pf_node *key,
		     struct pf_node *value)
{
	struct pf_node_pair *v = realloc(map->pairs, (map->n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	map->pairs = v;
	map->pairs[map->n].key = key;
	map->pairs[map->n].value = value;
	map->n++;
	return 0;
}

void node_arena_release(struct pf_node_arena *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->n; i++) {
		free(a->v[i]->items);
		free(a->v[i]->pairs);
		free(a->v[i]);
	}
	free(a->v);
	a->v = NULL;
	a->n = a->cap = 0;
}

struct pf_node *node_copy(struct pf_node_arena *a, const struct pf_node *n,
			  const char *group, bool from_defaults)
{
	struct pf_node *c = node_new(a, n->kind, n);

	if (!c)
		return NULL;
	if (!c->group && !c->from_defaults) {
		c->group = group;
		c->from_defaults = from_defaults;
	}
	for (size_t i = 0; i < n->n && n->kind == PF_NODE_SEQ; i++) {
		struct pf_node *item = node_copy(a, n->items[i], group,
						 from_defaults);

		if (!item || node_append_item(c, item))
			return NULL;
	}
	for (size_t i = 0; i < n->n && n->kind == PF_NODE_MAP; i++) {
		struct pf_node *value = node_copy(a, n->pairs[i].value, group,
						  from_defaults);

		if (!value || node_append_pair(c, n->pairs[i].key, value))
			return NULL;
	}
	return c;
}

static bool skipped(const char *key, const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (!strcmp(key, *skip))
			return true;
	return false;
}

static struct pf_node_pair *find_pair(struct pf_node *map, const char *key)
{
	for (size_t i = 0; i < map->n; i++)
		if (!strcmp(map->pairs[i].key->scalar, key))
			return &map->pairs[i];
	return NULL;
}

/* Whether a list under key appends to the one below it. */
static bool appends(enum pf_merge_mode mode, const char *key, unsigned depth)
{
	if (mode == PF_MERGE_GROUP)
		return true;
	return depth == 0 && (!strcmp(key, "kernel_params") ||
			      !strcmp(key, "initrd_modules"));
}

static int merge_at(struct pf_node_arena *a, struct pf_node *dst,
		    const struct pf_node *src, const char *group,
		    bool from_defaults, enum pf_merge_mode mode,
		    const char *const *skip, unsigned depth)
{
	for (size_t i = 0; i < src->n; i++) {
		const struct pf_node *v = src->pairs[i].value;
		const char *key = src->pairs[i].key->scalar;
		struct pf_node_pair *have;
		struct pf_node *c;
		int rc;

		if (skipped(key, depth ? NULL : skip))
			continue;
		have = find_pair(dst, key);
		if (have && have->value->kind == PF_NODE_MAP &&
		    v->kind == PF_NODE_MAP) {
			/* the later mapping's place is where it now lives */
			have->value->mark = v->mark;
			rc = merge_at(a, have->value, v, group, from_defaults,
				      mode, NULL, depth + 1);
			if (rc)
				return rc;
			continue;
		}
		if (have && have->value->kind == PF_NODE_SEQ &&
		    v->kind == PF_NODE_SEQ && appends(mode, key, depth)) {
			for (size_t j = 0; j < v->n; j++) {
				c = node_copy(a, v->items[j], group,
					      from_defaults);
				if (!c || node_append_item(have->value, c))
					return -ENOMEM;
			}
			continue;
		}
		c = node_copy(a, v, group, from_defaults);
		if (!c)
			return -ENOMEM;
		if (have) {
			have->key = src->pairs[i].key;
			have->value = c;
		} else if (node_append_pair(dst, src->pairs[i].key, c)) {
			return -ENOMEM;
		}
	}
	return 0;
}

int node_merge(struct pf_node_arena *a, struct pf_node *dst,
	       const struct pf_node *src, const char *group,
	       bool from_defaults, enum pf_merge_mode mode,
	       const char *const *skip)
{
	if (!src || src->kind != PF_NODE_MAP)
		return 0;
	return merge_at(a, dst, src, group, from_defaults, mode, skip, 0);
}

/* --- kernel parameter removals ----------------------------------------------- */

static bool is_removal(const struct pf_node *n)
{
	/* "--" is the kernel's own: what follows goes to init */
	return n->kind == PF_NODE_SCALAR && n->scalar[0] == '-' &&
	       n->scalar[1] && n->scalar[1] != '-' && n->scalar[1] != '=';
}

static size_t name_len(const char *s)
{
	return strcspn(s, "=");
}

/* The kernel's parameq(): '-' and '_' in names are one character. */
static bool names_equal(const char *a, size_t alen, const char *b,
			size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		char x = a[i] == '-' ? '_' : a[i], y = b[i] == '-' ? '_' : b[i];

		if (x != y)
			return false;
	}
	return true;
}

static bool removes(const char *removal, const char *param)
{
	size_t rl = name_len(removal), pl = name_len(param);

	if (!names_equal(removal, rl, param, pl))
		return false;
	if (!removal[rl])
		return true;
	return param[pl] == '=' && !strcmp(removal + rl, param + pl);
}

static int keep_alive(struct pf_node_arena *a, const struct pf_node *from,
		      const bool *dead, size_t base, const struct pf_node **out)
{
	struct pf_node *c;
	bool changed = false;

	for (size_t i = 0; i < from->n; i++)
		changed |= dead[base + i] || is_removal(from->items[i]);
	if (!changed) {
		*out = from;
		return 0;
	}
	c = node_new(a, PF_NODE_SEQ, from);
	if (!c)
		return -ENOMEM;
	for (size_t i = 0; i < from->n; i++)
		if (!dead[base + i] && !is_removal(from->items[i]) &&
		    node_append_item(c, from->items[i]))
			return -ENOMEM;
	*out = c;
	return 0;
}

static size_t seq_len(const struct pf_node *n)
{
	return n && n->kind == PF_NODE_SEQ ? n->n : 0;
}

static const struct pf_node *item_at(const struct pf_node *prior,
				     const struct pf_node *list, size_t i)
{
	size_t np = seq_len(prior);

	return i < np ? prior->items[i] : list->items[i - np];
}

int kparams_apply_removals(struct pf_node_arena *a, struct pf_diag *d,
			   const struct pf_node *prior,
			   const struct pf_node *list,
			   const struct pf_node **prior_out,
			   const struct pf_node **list_out)
{
	size_t np = seq_len(prior), n = np + seq_len(list);
	bool *dead;
	int rc = 0;

	*prior_out = prior;
	*list_out = list;
	if (!n)
		return 0;
	dead = calloc(n, sizeof(*dead));
	if (!dead)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const struct pf_node *r = item_at(prior, list, i);
		size_t hits = 0;

		if (!is_removal(r))
			continue;
		for (size_t j = 0; j < i; j++) {
			const struct pf_node *p = item_at(prior, list, j);

			if (dead[j] || is_removal(p) ||
			    p->kind != PF_NODE_SCALAR ||
			    !removes(r->scalar + 1, p->scalar))
				continue;
			dead[j] = true;
			hits++;
		}
		if (!hits) {
			diag_error(d, &r->mark,
				   "kernel parameter removal '%s' removes nothing: no '%s' before it (from the defaults, a group or the host)",
				   r->scalar, r->scalar + 1);
			rc = -EINVAL;
		}
	}
	if (seq_len(prior) && keep_alive(a, prior, dead, 0, prior_out))
		rc = -ENOMEM;
	if (rc != -ENOMEM && seq_len(list) &&
	    keep_alive(a, list, dead, np, list_out))
		rc = -ENOMEM;
	free(dead);
	return rc;
}
