/* modclosure_resolve: a host's early modules, their dependencies and
 * pre-softdeps, as files of one kernel modules tree, from what
 * modtree_read found there. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "pxeforge/validate/modclosure.h"

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int tree_problem(const struct pf_modtree *t, const struct pf_mark *at,
			struct pf_diag *d)
{
	switch (t->status) {
	case PF_MODTREE_OK:
		return 0;
	case PF_MODTREE_BAD_NAME:
		report(d, at,
		       "modules tree '%s' must be named by its kernel version (e.g. /lib/modules/6.1.0-56-amd64)",
		       t->dir);
		break;
	case PF_MODTREE_UNREADABLE:
		report(d, at, "cannot read modules tree '%s': %s", t->dir,
		       t->err ? strerror(t->err) : "not a directory");
		break;
	case PF_MODTREE_NO_INDEX:
		report(d, at,
		       "modules tree '%s' has no readable modules.dep and modules.dep.bin (run 'depmod -b' on it)",
		       t->dir);
		break;
	}
	return -EINVAL;
}

/* The nodes of one lookup as modprobe's walk over all requests meets
 * them: a module reached before (by this or an earlier request) was
 * walked then, with everything below it. */
static int take_nodes(const struct pf_modtree *t, const struct pf_modlookup *l,
		      const struct pf_modreq *req, const struct pf_mark *at,
		      struct pf_strlist *seen, struct pf_diag *d,
		      struct pf_modclosure *out)
{
	int rc = 0;

	for (size_t i = 0; i < l->n; i++) {
		const struct pf_modnode *n = &l->nodes[i];

		if (strlist_contains(seen, n->name))
			continue;
		if (strlist_push(seen, n->name))
			return -ENOMEM;
		switch (n->status) {
		case PF_MODNODE_BUILTIN:
			break;
		case PF_MODNODE_OUTSIDE:
			report(d, at,
			       "module '%s' (for '%s') lies outside modules tree '%s': '%s'",
			       n->name, req->name, t->dir, n->path);
			rc = -EINVAL;
			break;
		case PF_MODNODE_UNREADABLE:
			report(d, at,
			       "cannot read module '%s' (for '%s') in modules tree '%s': %s",
			       n->name, req->name, t->dir, strerror(n->err));
			rc = -EINVAL;
			break;
		case PF_MODNODE_FILE:
			if (!strlist_contains(&out->files, n->path) &&
			    strlist_push(&out->files, n->path))
				return -ENOMEM;
			break;
		}
	}
	return rc;
}

int modclosure_resolve(const struct pf_modtree *t, const struct pf_mark *dir_mark,
		       const struct pf_modreq *mods, size_t n,
		       struct pf_diag *d, struct pf_modclosure *out)
{
	struct pf_strlist seen;
	int rc, bad = 0;

	if (!t)
		return -EINVAL;	/* not read: profile_inputs_read reads every tree */
	out->dir = strdup(t->dir);
	out->kver = strdup(t->kver);
	if (!out->dir || !out->kver)
		return -ENOMEM;
	rc = tree_problem(t, dir_mark, d);
	if (rc)
		return rc;
	for (size_t i = 0; i < t->indexes.n; i++)
		if (strlist_push(&out->indexes, t->indexes.v[i]))
			return -ENOMEM;
	strlist_init(&seen);
	for (size_t i = 0; i < n && rc != -ENOMEM; i++) {
		const struct pf_modlookup *l = modtree_lookup(t, mods[i].name);
		const struct pf_mark *at = mods[i].mark.file ? &mods[i].mark :
					   dir_mark;

		if (!l || !l->found) {
			report(d, at,
			       "module '%s' not found in modules tree '%s' (kernel %s)",
			       mods[i].name, t->dir, t->kver);
			bad = -EINVAL;
			continue;
		}
		rc = take_nodes(t, l, &mods[i], at, &seen, d, out);
		if (rc)
			bad = rc;
	}
	strlist_release(&seen);
	if (rc == -ENOMEM)
		return rc;
	if (out->files.n)	/* qsort's pointer must not be NULL */
		qsort(out->files.v, out->files.n, sizeof(*out->files.v),
		      cmp_str);
	return bad;
}

int host_modclosure(const struct pf_host_facts *f,
		    const struct pf_profile_inputs *in, struct pf_diag *d,
		    struct pf_modclosure *out)
{
	const struct pf_boot *b = f->modules_tree;
	struct pf_modreq *req;
	int rc;

	if (!f->overlay || !b)
		return 0;
	req = calloc(f->modules.n ? f->modules.n : 1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	for (size_t i = 0; i < f->modules.n; i++)
		req[i] = (struct pf_modreq){ f->modules.v[i], f->module_marks[i] };
	rc = modclosure_resolve(profile_inputs_tree(in, b->modules_path),
				&b->modules_dir.mark, req, f->modules.n, d, out);
	free(req);
	return rc;
}

void modclosure_init(struct pf_modclosure *m)
{
	m->dir = NULL;
	m->kver = NULL;
	strlist_init(&m->files);
	strlist_init(&m->indexes);
}

void modclosure_release(struct pf_modclosure *m)
{
	if (!m)
		return;
	free(m->dir);
	free(m->kver);
	strlist_release(&m->files);
	strlist_release(&m->indexes);
}
