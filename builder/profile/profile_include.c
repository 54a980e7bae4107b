/* profile_include: include: [patterns] at the top level. Each pattern is
 * a glob(3) relative to the including file's directory; its matches are
 * read in bytewise order, each contributing hosts, vms and groups (and
 * including further files). A pattern that matches nothing, a file
 * included twice and an include cycle are errors. */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_fleet.h"
#include "pxeforge/lib/buf.h"

/* glob(3)'s error callback has no argument of its own: the first
 * directory it could not read (a missing one is only no match). */
static int glob_errno;

static int glob_error(const char *path, int err)
{
	(void)path;
	if (err == ENOENT || err == ENOTDIR)
		return 0;
	glob_errno = err;
	return 1;
}

static int by_bytes(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void add_items(struct fleet *F, struct pf_node **into,
		      const struct pf_node **key_at,
		      const struct pf_node_pair *pair)
{
	const struct pf_node *v = pair->value;

	if (node_is_null(v))
		return;
	if (!pp_want_kind(F->P, v, PF_NODE_SEQ, pair->key->scalar))
		return;
	if (!*into) {
		*into = node_new(F->a, PF_NODE_SEQ, v);
		*key_at = pair->key;
		if (!*into) {
			pp_fail(F->P, -ENOMEM);
			return;
		}
	}
	for (size_t i = 0; i < v->n; i++)
		if (node_append_item(*into, v->items[i]))
			pp_fail(F->P, -ENOMEM);
}

static void add_groups(struct fleet *F, const struct pf_node *v)
{
	struct fleet_group *g;

	if (node_is_null(v) || !pp_want_kind(F->P, v, PF_NODE_MAP, "groups"))
		return;
	g = realloc(F->groups, (F->ngroups + v->n) * sizeof(*g));
	if (!g) {
		pp_fail(F->P, -ENOMEM);
		return;
	}
	F->groups = g;
	for (size_t i = 0; i < v->n; i++, F->ngroups++)
		F->groups[F->ngroups] = (struct fleet_group){
			.name = v->pairs[i].key->scalar,
			.key = v->pairs[i].key, .value = v->pairs[i].value,
			.order = F->ngroups,
		};
}

/* "a.yaml -> racks/b.yaml -> a.yaml": the files from the one included
 * again, then that one. */
static void report_cycle(struct fleet *F, size_t again,
			 const struct pf_mark *at)
{
	struct pf_buf b;
	size_t from = 0;
	int rc = 0;

	buf_init(&b);
	while (from < F->nstack && F->stack[from] != again)
		from++;
	for (size_t i = from; i < F->nstack && !rc; i++)
		rc = buf_printf(&b, "%s -> ", F->files[F->stack[i]].shown);
	if (!rc)
		rc = buf_puts(&b, F->files[again].shown);
	if (rc)
		pp_fail(F->P, rc);
	else
		diag_error(F->P->d, at, "include cycle: %s", b.data);
	buf_release(&b);
}

static void collect_doc(struct fleet *F, const struct pf_doc *doc,
			bool included);

/* One file a pattern matched. */
static void include_file(struct fleet *F, const char *path,
			 const struct pf_mark *at)
{
	char real[PATH_MAX];
	struct fleet_file *files;
	struct pf_doc *doc = NULL;
	size_t *stack;
	int rc;

	if (!realpath(path, real)) {
		diag_error(F->P->d, at, "cannot read included file '%s': %s",
			   path, strerror(errno));
		return;
	}
	for (size_t i = 0; i < F->nfiles; i++) {
		char first[4096];

		if (strcmp(F->files[i].real, real))
			continue;
		for (size_t s = 0; s < F->nstack; s++)
			if (F->stack[s] == i) {
				report_cycle(F, i, at);
				return;
			}
		diag_error(F->P->d, at, "file '%s' is included twice (first at %s)",
			   path, mark_format(&F->files[i].at, first,
					     sizeof(first)));
		return;
	}
	rc = doc_load(path, F->P->d, &doc);
	if (rc) {
		if (rc != -EINVAL)
			pp_fail(F->P, rc);
		return;
	}
	files = realloc(F->files, (F->nfiles + 1) * sizeof(*files));
	stack = realloc(F->stack, (F->nstack + 1) * sizeof(*stack));
	if (files)
		F->files = files;
	if (stack)
		F->stack = stack;
	if (!files || !stack || pp_push_doc(F->P->p, doc)) {
		doc_free(doc);
		pp_fail(F->P, -ENOMEM);
		return;
	}
	F->files[F->nfiles] = (struct fleet_file){ strdup(real), doc->file,
						   *at };
	if (!F->files[F->nfiles].real) {
		pp_fail(F->P, -ENOMEM);
		return;
	}
	F->stack[F->nstack++] = F->nfiles++;
	collect_doc(F, doc, true);
	F->nstack--;
}

static void include_pattern(struct fleet *F, const struct pf_doc *doc,
			    const struct pf_node *item)
{
	glob_t g = { 0 };
	char *pattern;
	int rc;

	if (!pp_want_kind(F->P, item, PF_NODE_SCALAR, "include[]"))
		return;
	pattern = pp_resolve_path(doc->file, item->scalar);
	if (!pattern) {
		pp_fail(F->P, -ENOMEM);
		return;
	}
	glob_errno = 0;
	rc = glob(pattern, GLOB_NOSORT, glob_error, &g);
	if (rc == GLOB_NOMATCH)
		diag_error(F->P->d, &item->mark,
			   "include pattern '%s' matches no file", item->scalar);
	else if (rc == GLOB_NOSPACE)
		pp_fail(F->P, -ENOMEM);
	else if (rc)
		diag_error(F->P->d, &item->mark,
			   "cannot read include pattern '%s': %s", item->scalar,
			   strerror(glob_errno ? glob_errno : EIO));
	if (!rc) {
		qsort(g.gl_pathv, g.gl_pathc, sizeof(*g.gl_pathv), by_bytes);
		for (size_t i = 0; i < g.gl_pathc && !F->P->rc; i++)
			include_file(F, g.gl_pathv[i], &item->mark);
	}
	globfree(&g);
	free(pattern);
}

static void collect_doc(struct fleet *F, const struct pf_doc *doc,
			bool included)
{
	const struct pf_node *root = doc->root, *inc = NULL;

	if (!root)
		return;
	if (root->kind != PF_NODE_MAP) {
		diag_error(F->P->d, &root->mark,
			   "an included file is a mapping with 'hosts', 'vms', 'groups' or 'include'");
		return;
	}
	for (size_t i = 0; i < root->n; i++) {
		const struct pf_node_pair *pair = &root->pairs[i];
		const char *key = pair->key->scalar;

		if (!strcmp(key, "hosts"))
			add_items(F, &F->hosts, &F->hosts_key, pair);
		else if (!strcmp(key, "vms"))
			add_items(F, &F->vms, &F->vms_key, pair);
		else if (!strcmp(key, "groups"))
			add_groups(F, pair->value);
		else if (!strcmp(key, "include"))
			inc = pair->value;
		else if (included)
			diag_error(F->P->d, &pair->key->mark,
				   "key '%s' is not allowed in an included file (only hosts, vms, groups and include)",
				   key);
	}
	if (!inc || node_is_null(inc) ||
	    !pp_want_kind(F->P, inc, PF_NODE_SEQ, "include"))
		return;
	for (size_t i = 0; i < inc->n && !F->P->rc; i++)
		include_pattern(F, doc, inc->items[i]);
}

void fleet_collect(struct fleet *F, const struct pf_doc *doc)
{
	char real[PATH_MAX];

	F->files = calloc(1, sizeof(*F->files));
	F->stack = calloc(1, sizeof(*F->stack));
	if (!F->files || !F->stack || !realpath(doc->file, real) ||
	    !(F->files[0].real = strdup(real))) {
		pp_fail(F->P, -ENOMEM);
		return;
	}
	F->files[0].shown = doc->file;
	F->files[0].at = (struct pf_mark){ doc->file, 0, 0 };
	F->nfiles = 1;
	F->stack[F->nstack++] = 0;
	collect_doc(F, doc, false);
	F->nstack--;
}

void fleet_release(struct fleet *F)
{
	if (!F)
		return;
	for (size_t i = 0; i < F->nfiles; i++)
		free(F->files[i].real);
	free(F->files);
	free(F->stack);
	free(F->groups);
	free(F->group_names);
	free(F->chain);
}
