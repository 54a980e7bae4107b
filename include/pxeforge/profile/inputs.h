/* The files a profile names, read once before validation: the cluster
 * secret, each kernel modules tree (with every module the profile can ask
 * for resolved in it), and whether each local source can be read. Reading
 * records what it finds, problems included; validate reports them where
 * they matter and plan uses the contents. */
#ifndef PXEFORGE_PROFILE_INPUTS_H
#define PXEFORGE_PROFILE_INPUTS_H

#include <stdbool.h>
#include <stddef.h>

#include "pxeforge/lib/secret.h"
#include "pxeforge/lib/strlist.h"
#include "pxeforge/profile/profile.h"

/* The early modules a host with GPUs for VFIO loads first. */
#define PF_NVFIO_MODULES 3
extern const char *const pf_vfio_modules[PF_NVFIO_MODULES];

enum pf_modtree_status {
	PF_MODTREE_OK,
	PF_MODTREE_BAD_NAME,	/* last component is no kernel version */
	PF_MODTREE_UNREADABLE,	/* err: errno, 0 for "not a directory" */
	PF_MODTREE_NO_INDEX,	/* no readable modules.dep + modules.dep.bin */
};

enum pf_modnode_status {
	PF_MODNODE_FILE,	/* path: relative to the tree */
	PF_MODNODE_BUILTIN,	/* built into the kernel: no file */
	PF_MODNODE_OUTSIDE,	/* path: where libkmod found it, outside */
	PF_MODNODE_UNREADABLE,	/* path: its file; err: errno */
};

/* One module reached from a lookup, in the order modprobe's walk reaches
 * it (dependencies, then pre-softdeps, depth first, each once). */
struct pf_modnode {
	char *name;
	enum pf_modnode_status status;
	char *path;
	int err;
};

/* A module name as the profile gives it and what it resolves to. */
struct pf_modlookup {
	char *asked;
	bool found;
	struct pf_modnode *nodes;
	size_t n;
};

struct pf_modtree {
	char *path;		/* as the profile resolved it: modules_path */
	char *dir;		/* without trailing '/' */
	char *kver;		/* dir's last component */
	enum pf_modtree_status status;
	int err;
	struct pf_strlist indexes;	/* the tree's index files, sorted */
	struct pf_modlookup *mods;
	size_t nmods;
};

/* Reads the tree at path and resolves each name in it (libkmod, without
 * the build machine's modprobe.d). Problems are recorded in out, not
 * reported. 0 or -ENOMEM. */
int modtree_read(const char *path, const char *const *names, size_t n,
		 struct pf_modtree *out);
void modtree_release(struct pf_modtree *t);
/* The lookup of name in t, or NULL when it was not asked. */
const struct pf_modlookup *modtree_lookup(const struct pf_modtree *t,
					  const char *name);

struct pf_readable {
	char *path;
	int err;		/* 0: readable, else access(2)'s errno */
};

struct pf_profile_inputs {
	bool have_key;			/* key holds the cluster secret */
	int key_rc;			/* secret_load's when it failed */
	unsigned char key[PF_SECRET_LEN];
	struct pf_modtree *trees;	/* every modules_path named */
	size_t ntrees;
	struct pf_readable *files;	/* every local source and disk image */
	size_t nfiles;
};

/* Reads every file p names. 0 with *out set, or -ENOMEM. */
int profile_inputs_read(const struct pf_profile *p, struct pf_profile_inputs **out);
void profile_inputs_free(struct pf_profile_inputs *in);	/* wipes the key */
/* The tree read for modules_path, or NULL. */
const struct pf_modtree *profile_inputs_tree(const struct pf_profile_inputs *in,
					const char *path);
/* access(path, R_OK)'s errno as read: 0 when readable, ENOENT for a
 * path that was not read. */
int profile_inputs_access(const struct pf_profile_inputs *in, const char *path);

#endif
