/* Source document tree: YAML (libyaml) or JSON (jansson checks the syntax,
 * libyaml supplies the marks). Every node keeps its place in the file. */
#ifndef PXEFORGE_NODE_H
#define PXEFORGE_NODE_H

#include <stdbool.h>
#include <stddef.h>

#include "pxeforge/lib/diag.h"

enum pf_node_kind { PF_NODE_SCALAR, PF_NODE_SEQ, PF_NODE_MAP };

struct pf_node;

struct pf_node_pair {
	struct pf_node *key;	/* always a scalar */
	struct pf_node *value;
};

struct pf_node {
	enum pf_node_kind kind;
	struct pf_mark mark;	/* mark.file points into the owning pf_doc */
	char *scalar;		/* SCALAR: the text as written (no type resolution) */
	bool quoted;		/* SCALAR: single- or double-quoted in the source */
	/* Merged copies (node_merge.c): where the value came through. */
	const char *group;	/* the group that set it, or NULL */
	bool from_defaults;	/* a value of defaults */
	size_t n;		/* SEQ: items; MAP: pairs */
	struct pf_node **items;
	struct pf_node_pair *pairs;
};

struct pf_doc {
	char *file;		/* the path as given; marks point here */
	struct pf_node *root;	/* NULL for an empty document */
};

/* Loads path, as JSON when it ends in ".json", else as YAML. Syntax errors,
 * duplicate keys and aliases go to d with their marks; then returns -EINVAL.
 * An unreadable file: -errno, message in d at the file. */
int doc_load(const char *path, struct pf_diag *d, struct pf_doc **out);
void doc_free(struct pf_doc *doc);

/* The value of key in a MAP node, or NULL. */
const struct pf_node *node_get(const struct pf_node *map, const char *key);
/* "a mapping", "a list", "a string" — for type errors. */
const char *node_kind_name(const struct pf_node *n);
/* Plain scalar spelling YAML treats as null: "", "~", "null", "Null", "NULL". */
bool node_is_null(const struct pf_node *n);

/* Merged trees (groups, includes) are copies made of these: nodes that
 * borrow scalars and children from loaded documents, owned by an arena
 * and freed with it (never with doc_free). */
struct pf_node_arena {
	struct pf_node **v;
	size_t n, cap;
};

/* A new node of kind, with like's mark, scalar and origin (like may be
 * NULL); NULL when out of memory. */
struct pf_node *node_new(struct pf_node_arena *a, enum pf_node_kind kind,
			 const struct pf_node *like);
int node_append_item(struct pf_node *seq, struct pf_node *item);
int node_append_pair(struct pf_node *map, struct pf_node *key,
		     struct pf_node *value);
void node_arena_release(struct pf_node_arena *a);

#endif
