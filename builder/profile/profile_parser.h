/* Internal to the profile parser: the key tables (one per mapping of the
 * profile) and the reader they drive. A table entry says what a key is,
 * where its value goes and what it means; parsing, unknown-key errors,
 * required-key errors, `pxeforge schema` and docs/profile.md all come
 * from the same entries. */
#ifndef PXEFORGE_PROFILE_PARSER_H
#define PXEFORGE_PROFILE_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "pxeforge/profile/node.h"
#include "pxeforge/profile/profile.h"

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))
/* An offset a mapping or list does not have (no given flag, no mark). */
#define PK_NONE ((size_t)-1)

struct parser {
	struct pf_diag *d;
	struct pf_profile *p;
	int rc;		/* first -ENOMEM or I/O error; problems go to d */
};

struct pf_key;

enum pk_kind {
	PK_STR,		/* a scalar into the struct pf_str at off */
	PK_STRV,	/* a list of scalars into the struct pf_strv at off */
	PK_MAP,		/* a mapping: map's keys into the object at off */
	PK_LIST,	/* a list of mappings: list describes the array */
	PK_READ,	/* read() reads it; off is where the value goes */
};

/* What the value looks like, for the schema and the docs (the parser
 * reads every scalar as the text written). */
enum pk_type {
	PT_TEXT,	/* a string (quote MACs, addresses, ids) */
	PT_INT,		/* a whole number (or one in quotes) */
	PT_BOOL,	/* true or false */
	PT_CPUSET,	/* "0-3,8": a number or a string */
	PT_QUANTITY,	/* "128Gi" */
	PT_VERSION,	/* 1 */
	PT_BOOTFILE,	/* a name, or a mapping of map */
	PT_BOOTFILES,	/* a list of those */
	PT_ALL_OR_LIST,	/* "all" or a list of strings */
	PT_STRINGS,	/* a list of strings */
	PT_GROUPS,	/* a mapping of names to groups */
};

/* A value from a closed set (compared without case) and the enum value
 * stored for it at off_v, an int-sized enum or int of the object. */
struct pf_choice {
	const char *what;	/* "unknown <what> 'x'" */
	const char *expected;	/* "(expected <expected>)" */
	const char *const *names;
	const int *values;
	size_t n;
	size_t off_v;
};

struct pf_keymap;

/* A list of mappings: an array of size-byte items at the key's off (a
 * pointer), its count at off_count, its mark at off_mark. */
struct pf_list {
	const struct pf_keymap *item;
	size_t size;
	size_t off_count;
	size_t off_mark;	/* or PK_NONE */
	const char *item_what;	/* "hosts[]", in type errors */
	const char *empty;	/* error when the list is [], or NULL */
	bool compact;		/* items that are not mappings take no slot */
	bool mark_any;		/* an item's mark is set even when it is not a
				 * mapping */
};

enum {
	PKF_REQUIRED = 1 << 0,	/* absent (a list: absent or null): missing */
	PKF_PATH = 1 << 1,	/* also resolved into the char * at off_path */
	PKF_LOCAL = 1 << 2,	/* with PKF_PATH: only when not a URL */
};

struct pf_key {
	const char *name;
	enum pk_kind kind;
	size_t off;
	enum pk_type type;
	unsigned flags;
	size_t off_path;			/* PKF_PATH */
	const struct pf_choice *choice;		/* PK_STR: a closed set */
	const struct pf_keymap *map;		/* PK_MAP, PT_BOOTFILE(S) */
	const struct pf_list *list;		/* PK_LIST */
	void (*read)(struct parser *P, const struct pf_node *map,
		     const struct pf_key *k, void *obj, const char *label);
	void (*check)(struct parser *P, const struct pf_str *v);
	const char *missing;	/* PKF_REQUIRED; "%s" stands for the label */
	const char *vm_reject;	/* error in a VM's mapping ("%s": the VM) */
	const char *dflt;	/* the default, as written in a profile */
	const char *doc;	/* one line: what it is */
};

struct pf_keymap {
	const char *name;	/* in the schema's definitions and the docs */
	const char *where;	/* "unknown key 'x' in <where>"; NULL: label */
	const char *doc;
	const struct pf_key *keys;
	size_t n;
	size_t off_given;	/* bool set when the mapping is read, or PK_NONE */
	size_t off_mark;	/* its mark, or PK_NONE */
	const char *exclusive[2];	/* two keys not to be given together */
	bool in_vm;		/* keys with vm_reject are errors here */
	/* the name missing-key messages say; NULL: the parent's label */
	const char *(*label)(const void *obj);
	void (*init)(void *obj);	/* before the item is read */
	void (*finish)(struct parser *P, const struct pf_node *map, void *obj,
		       const char *label);
};

/* The tables (profile_keys.c, profile_keys_vm.c,
 * profile_keys_cloudinit.c). */
extern const struct pf_keymap pk_profile, pk_defaults, pk_host, pk_gpu,
	pk_function, pk_bootfile, pk_nixos, pk_nixos_json;
extern const struct pf_keymap pk_cloud_init, pk_vm_cloud_init, pk_k3s,
	pk_network;
extern const struct pf_keymap pk_vm, pk_disk, pk_numa_cell, pk_pin;
/* Every mapping, in the order the schema and the docs list them. */
extern const struct pf_keymap *const pk_all[];
extern const size_t pk_nall;

/* profile_read.c: the reader. */
/* Records the first hard error (-ENOMEM, I/O). */
void pp_fail(struct parser *P, int rc);
/* True when n is of kind (a null scalar is not a string); else reports. */
bool pp_want_kind(struct parser *P, const struct pf_node *n,
		  enum pf_node_kind kind, const char *what);
void pp_get_strv(struct parser *P, const struct pf_node *map,
		 const char *key, struct pf_strv *out);
/* path relative to the profile's directory (absolute kept); malloc'd. */
char *pp_resolve_path(const char *profile, const char *path);
/* The keys of mapping node into obj by km: unknown keys reported, each
 * key read, required ones checked. label names the object in messages
 * when km has no label of its own. */
void pp_read_map(struct parser *P, const struct pf_node *node,
		 const struct pf_keymap *km, void *obj, const char *label);

/* Unknown keys only, below a value of key k (a mapping, a list of them,
 * a bootfile): for settings no host reads, as a group no host names. */
void pp_check_nested_keys(struct parser *P, const struct pf_node *v,
			  const struct pf_key *k);

/* Adds doc to the profile's documents (which own the marks). */
int pp_push_doc(struct pf_profile *p, struct pf_doc *doc);

/* Releases what parsing and validation allocated for vms[]. */
void profile_vms_release(struct pf_profile *p);
void pp_cloud_init_release(struct pf_cloudinit_cfg *c);

#endif
