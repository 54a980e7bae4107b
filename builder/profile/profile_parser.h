/* Internal to the profile parser (profile_parse.c, profile_vm.c): the
 * parser state and the helpers that read keys of a document node into
 * struct pf_profile fields, reporting problems with their marks. */
#ifndef PXEFORGE_PROFILE_PARSER_H
#define PXEFORGE_PROFILE_PARSER_H

#include <stdbool.h>
#include <stddef.h>

#include "pxeforge/profile/node.h"
#include "pxeforge/profile/profile.h"

#define NKEYS(a) (sizeof(a) / sizeof((a)[0]))

struct parser {
	struct pf_diag *d;
	struct pf_profile *p;
	int rc;		/* first -ENOMEM or I/O error; problems go to d */
};

/* Records the first hard error (-ENOMEM, I/O). */
void pp_fail(struct parser *P, int rc);
/* Reports every key of map not in keys, with a did-you-mean. */
void pp_check_keys(struct parser *P, const struct pf_node *map,
		   const char *const *keys, size_t n, const char *where);
/* True when n is of kind (a null scalar is not a string); else reports. */
bool pp_want_kind(struct parser *P, const struct pf_node *n,
		  enum pf_node_kind kind, const char *what);
void pp_get_str(struct parser *P, const struct pf_node *map,
		const char *key, struct pf_str *out);
void pp_get_strv(struct parser *P, const struct pf_node *map,
		 const char *key, struct pf_strv *out);
/* The mapping under key (its keys checked against keys), or NULL when
 * absent, null or the wrong type (reported). */
const struct pf_node *pp_get_map(struct parser *P, const struct pf_node *map,
				 const char *key, const char *const *keys,
				 size_t n);
/* Index of v among choices (case-insensitive), or -1, reported. */
int pp_choice(struct parser *P, const struct pf_str *v, const char *what,
	      const char *const *choices, size_t n, const char *expected);
/* path relative to the profile's directory (absolute kept); malloc'd. */
char *pp_resolve_path(const char *profile, const char *path);
/* cloud_init under map into c (hosts, defaults, VMs). */
void pp_cloud_init(struct parser *P, const struct pf_node *map,
		   struct pf_cloudinit_cfg *c);
void pp_cloud_init_release(struct pf_cloudinit_cfg *c);

/* vms[] under root into P->p (builder/profile_vm.c). */
void pp_vms(struct parser *P, const struct pf_node *root);
/* Releases what pp_vms and validation allocated; accepts no VMs. */
void profile_vms_release(struct pf_profile *p);

#endif
