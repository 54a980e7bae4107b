/* profile_read: the reader the key tables drive. A mapping's keys are
 * checked against its table (unknown keys with a did-you-mean), read into
 * the object at each entry's offset, and the required ones reported when
 * absent. Types only; semantic checks live in validate/. */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "profile_parser.h"
#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/suggest.h"

#define AT(obj, off, type) ((type *)((char *)(obj) + (off)))

void pp_fail(struct parser *P, int rc)
{
	if (!P->rc)
		P->rc = rc;
}

/* A key the map already has is no answer to "did you mean". */
static int suggest_absent(const struct pf_node *map, const char *word,
			  const struct pf_keymap *km, const char **hint)
{
	const char **absent = calloc(km->n ? km->n : 1, sizeof(*absent));
	size_t m = 0;

	if (!absent)
		return -ENOMEM;
	for (size_t k = 0; k < km->n; k++)
		if (!node_get(map, km->keys[k].name))
			absent[m++] = km->keys[k].name;
	*hint = suggest_closest(word, absent, m);
	free(absent);
	return 0;
}

static void unknown_key(struct parser *P, const struct pf_node *map,
			const struct pf_node *key, const struct pf_keymap *km,
			const char *where)
{
	struct pf_buf list;
	const char *hint = NULL;
	int rc = suggest_absent(map, key->scalar, km, &hint);

	if (rc) {
		pp_fail(P, rc);
		return;
	}
	if (hint) {
		diag_error(P->d, &key->mark,
			   "unknown key '%s' in %s (did you mean '%s'?)",
			   key->scalar, where, hint);
		return;
	}
	buf_init(&list);
	for (size_t k = 0; k < km->n && !rc; k++)
		rc = buf_printf(&list, "%s%s", k ? ", " : "", km->keys[k].name);
	if (rc)
		pp_fail(P, rc);
	else
		diag_error(P->d, &key->mark,
			   "unknown key '%s' in %s (known keys: %s)",
			   key->scalar, where, list.data ? list.data : "");
	buf_release(&list);
}

static const struct pf_key *find_key(const struct pf_keymap *km,
				     const char *name)
{
	for (size_t k = 0; k < km->n; k++)
		if (strcmp(name, km->keys[k].name) == 0)
			return &km->keys[k];
	return NULL;
}

static void check_keys(struct parser *P, const struct pf_node *map,
		       const struct pf_keymap *km, const char *where)
{
	for (size_t i = 0; i < map->n; i++)
		if (!find_key(km, map->pairs[i].key->scalar))
			unknown_key(P, map, map->pairs[i].key, km, where);
}

bool pp_want_kind(struct parser *P, const struct pf_node *n,
		  enum pf_node_kind kind, const char *what)
{
	static const char *const names[] = { "a string", "a list", "a mapping" };

	if (n->kind == kind && !(kind == PF_NODE_SCALAR && node_is_null(n)))
		return true;
	diag_error(P->d, &n->mark, "wrong type for '%s': expected %s, got %s",
		   what, names[kind], node_kind_name(n));
	return false;
}

static void get_str(struct parser *P, const struct pf_node *n,
		    const char *key, struct pf_str *out)
{
	/* The mark says the key was there even when its value was unusable. */
	out->mark = n->mark;
	if (pp_want_kind(P, n, PF_NODE_SCALAR, key))
		out->s = n->scalar;
}

void pp_get_strv(struct parser *P, const struct pf_node *map,
		 const char *key, struct pf_strv *out)
{
	const struct pf_node *n = node_get(map, key);

	if (!n)
		return;
	out->given = true;
	out->mark = n->mark;
	if (node_is_null(n))
		return;	/* "key:" with nothing after it: an empty list */
	if (!pp_want_kind(P, n, PF_NODE_SEQ, key)) {
		out->invalid = true;
		return;
	}
	if (!n->n)
		return;
	out->v = calloc(n->n, sizeof(*out->v));
	if (!out->v) {
		pp_fail(P, -ENOMEM);
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct pf_node *item = n->items[i];
		char what[128];

		snprintf(what, sizeof(what), "%s[%zu]", key, i);
		if (!pp_want_kind(P, item, PF_NODE_SCALAR, what)) {
			out->invalid = true;
			continue;
		}
		out->v[out->n].s = item->scalar;
		out->v[out->n].mark = item->mark;
		out->n++;
	}
}

/* Index of v among the choices (case-insensitive), or -1 (reported with
 * a did-you-mean) when it is none of them. */
static int choose(struct parser *P, const struct pf_str *v,
		  const struct pf_choice *c)
{
	const char *hint;

	for (size_t i = 0; i < c->n; i++)
		if (strcasecmp(v->s, c->names[i]) == 0)
			return (int)i;
	/* a number one digit away from a version is no typo: list them */
	hint = isdigit((unsigned char)v->s[0]) ? NULL :
	       suggest_closest(v->s, c->names, c->n);
	if (hint)
		diag_error(P->d, &v->mark, "unknown %s '%s' (did you mean '%s'?)",
			   c->what, v->s, hint);
	else
		diag_error(P->d, &v->mark, "unknown %s '%s' (expected %s)",
			   c->what, v->s, c->expected);
	return -1;
}

/* A relative from_json, modules_dir, source or cluster_secret path is
 * relative to the profile's directory. */
char *pp_resolve_path(const char *profile, const char *path)
{
	char *copy, *dir, *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	copy = strdup(profile);
	if (!copy)
		return NULL;
	dir = dirname(copy);
	if (strcmp(dir, ".") == 0)
		out = strdup(path);
	else if (asprintf(&out, "%s/%s", dir, path) < 0)
		out = NULL;
	free(copy);
	return out;
}

static void read_str(struct parser *P, const struct pf_node *v,
		     const struct pf_key *k, void *obj)
{
	struct pf_str *s = AT(obj, k->off, struct pf_str);
	int i;

	get_str(P, v, k->name, s);
	if (!s->s)
		return;
	if (k->check)
		k->check(P, s);
	if ((k->flags & PKF_PATH) &&
	    !((k->flags & PKF_LOCAL) && strstr(s->s, "://"))) {
		char **path = AT(obj, k->off_path, char *);

		/* an included file's paths are relative to that file */
		*path = pp_resolve_path(s->mark.file ? s->mark.file :
					P->p->path, s->s);
		if (!*path)
			pp_fail(P, -ENOMEM);
	}
	if (k->choice) {
		i = choose(P, s, k->choice);
		if (i >= 0)
			*AT(obj, k->choice->off_v, int) = k->choice->values[i];
	}
}

static void read_list(struct parser *P, const struct pf_node *l,
		      const struct pf_key *k, void *obj, const char *label)
{
	const struct pf_list *d = k->list;
	size_t *count = AT(obj, d->off_count, size_t);
	void **items = AT(obj, k->off, void *);

	if (node_is_null(l))
		return;
	if (d->off_mark != PK_NONE)
		*AT(obj, d->off_mark, struct pf_mark) = l->mark;
	if (!pp_want_kind(P, l, PF_NODE_SEQ, k->name))
		return;
	if (!l->n) {
		if (d->empty)
			diag_error(P->d, &l->mark, "%s", d->empty);
		return;
	}
	*items = calloc(l->n, d->size);
	if (!*items) {
		pp_fail(P, -ENOMEM);
		return;
	}
	if (!d->compact)
		*count = l->n;
	for (size_t i = 0; i < l->n; i++) {
		const struct pf_node *n = l->items[i];
		void *item = (char *)*items + (d->compact ? *count : i) * d->size;

		if (d->item->init)
			d->item->init(item);
		if (d->mark_any && d->item->off_mark != PK_NONE)
			*AT(item, d->item->off_mark, struct pf_mark) = n->mark;
		if (!pp_want_kind(P, n, PF_NODE_MAP, d->item_what))
			continue;
		pp_read_map(P, n, d->item, item, label);
		if (d->compact)
			(*count)++;
	}
}

/* "missing 'x' in VM '%s' (...)": the label where the message has %s. */
static void report_missing(struct parser *P, const struct pf_node *map,
			   const struct pf_key *k, const char *label)
{
	const char *at = strstr(k->missing, "%s");

	if (!at)
		diag_error(P->d, &map->mark, "%s", k->missing);
	else
		diag_error(P->d, &map->mark, "%.*s%s%s",
			   (int)(at - k->missing), k->missing,
			   label ? label : "?", at + 2);
}

static void read_key(struct parser *P, const struct pf_node *map,
		     const struct pf_key *k, void *obj, const char *label)
{
	const struct pf_node *v = node_get(map, k->name);

	switch (k->kind) {
	case PK_STR:
		if (v)
			read_str(P, v, k, obj);
		break;
	case PK_STRV:
		pp_get_strv(P, map, k->name, AT(obj, k->off, struct pf_strv));
		break;
	case PK_MAP:
		if (v && !node_is_null(v) &&
		    pp_want_kind(P, v, PF_NODE_MAP, k->name))
			pp_read_map(P, v, k->map, AT(obj, k->off, void), label);
		break;
	case PK_LIST:
		if (v)
			read_list(P, v, k, obj, label);
		break;
	case PK_READ:
		k->read(P, map, k, obj, label);
		break;
	}
	if ((k->flags & PKF_REQUIRED) &&
	    (!v || (k->kind == PK_LIST && node_is_null(v))))
		report_missing(P, map, k, label);
}

/* Keys a VM's mapping has but cannot use: said at the key. */
static void reject_in_vm(struct parser *P, const struct pf_node *map,
			 const struct pf_keymap *km, const char *label)
{
	for (size_t i = 0; i < map->n; i++) {
		const struct pf_node *key = map->pairs[i].key;
		const struct pf_key *k = find_key(km, key->scalar);
		const char *at;

		if (!k || !k->vm_reject)
			continue;
		at = strstr(k->vm_reject, "%s");
		if (!at)
			diag_error(P->d, &key->mark, "'%s' %s", key->scalar,
				   k->vm_reject);
		else
			diag_error(P->d, &key->mark, "'%s' %.*s%s%s",
				   key->scalar, (int)(at - k->vm_reject),
				   k->vm_reject, label ? label : "?", at + 2);
	}
}

void pp_read_map(struct parser *P, const struct pf_node *node,
		 const struct pf_keymap *km, void *obj, const char *label)
{
	const char *own;

	if (km->in_vm)
		reject_in_vm(P, node, km, label);
	if (km->off_given != PK_NONE)
		*AT(obj, km->off_given, bool) = true;
	if (km->off_mark != PK_NONE)
		*AT(obj, km->off_mark, struct pf_mark) = node->mark;
	check_keys(P, node, km, km->where ? km->where : label);
	for (size_t k = 0; k < km->n; k++) {
		/* a label read from the object: its name may just have been read */
		own = km->label ? km->label(obj) : label;
		read_key(P, node, &km->keys[k], obj, own);
	}
	if (km->finish)
		km->finish(P, node, obj, km->label ? km->label(obj) : label);
}

static void check_map_deep(struct parser *P, const struct pf_node *map,
			   const struct pf_keymap *km)
{
	check_keys(P, map, km, km->where ? km->where : km->name);
	for (size_t i = 0; i < map->n; i++) {
		const struct pf_key *k = find_key(km, map->pairs[i].key->scalar);

		if (k)
			pp_check_nested_keys(P, map->pairs[i].value, k);
	}
}

void pp_check_nested_keys(struct parser *P, const struct pf_node *v,
			  const struct pf_key *k)
{
	const struct pf_keymap *km = k->kind == PK_LIST ? k->list->item :
				     k->map;

	if (!km || (k->kind != PK_MAP && k->kind != PK_LIST &&
		    k->type != PT_BOOTFILE && k->type != PT_BOOTFILES))
		return;
	if (v->kind == PF_NODE_MAP)
		check_map_deep(P, v, km);
	for (size_t i = 0; v->kind == PF_NODE_SEQ && i < v->n; i++)
		if (v->items[i]->kind == PF_NODE_MAP)
			check_map_deep(P, v->items[i], km);
}
