/* Internal to the profile parser: includes and groups, expanded at the
 * node level before the typed read (profile_include.c, profile_groups.c). */
#ifndef PXEFORGE_PROFILE_FLEET_H
#define PXEFORGE_PROFILE_FLEET_H

#include <stddef.h>

#include "profile_parser.h"

struct fleet_group {
	const char *name;
	const struct pf_node *key, *value;
	size_t order;		/* in reading order, for duplicates */
	int state;		/* GROUP_NEW, _BUSY, _DONE */
	struct pf_node *resolved;	/* its groups, then its own keys */
};

struct fleet_file {
	char *real;		/* realpath */
	const char *shown;	/* the path marks name */
	struct pf_mark at;	/* where it was included (line 0: the profile) */
};

struct fleet {
	struct parser *P;
	struct pf_node_arena *a;
	struct pf_node *hosts, *vms;		/* every file's, in order */
	const struct pf_node *hosts_key, *vms_key;	/* the first ones */
	struct fleet_group *groups;
	size_t ngroups;
	const char **group_names;		/* sorted, for did-you-mean */
	struct fleet_file *files;		/* every file read */
	size_t nfiles;
	size_t *stack;				/* files being read */
	size_t nstack;
	const char **chain;			/* groups being resolved */
	size_t nchain;
};

/* Reads doc (the profile) and, through include:, every file it names:
 * their hosts, vms and groups into F. Problems go to P->d. */
void fleet_collect(struct fleet *F, const struct pf_doc *doc);
void fleet_release(struct fleet *F);

/* Sorts the groups (duplicates reported) for lookup. */
int fleet_groups_index(struct fleet *F);
/* Host item n merged: its groups in order, then its own keys; kernel
 * parameter removals applied against dparams (the defaults' list, or
 * NULL), whose survivors for this host go to *dparams_out. */
int fleet_merge_host(struct fleet *F, const struct pf_node *n,
		     const struct pf_node *dparams, struct pf_node **out,
		     const struct pf_node **dparams_out);

/* Resolves the groups no host named, for their errors. */
int fleet_check_unused_groups(struct fleet *F);

#endif
