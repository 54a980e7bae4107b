/* modtree_read: a kernel modules tree and the modules a profile names in
 * it, resolved with libkmod as modprobe would (dependencies and
 * pre-softdeps), recorded for validate to check and plan to copy. */
#include <errno.h>
#include <libkmod.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/profile/inputs.h"

/* The indexes modprobe (kmod or busybox) reads. They are copied from the
 * tree rather than regenerated for the closure: the overlay's copy
 * replaces the base initrd's, whose own modules must stay resolvable. */
static const char *const index_names[] = {
	"modules.alias", "modules.alias.bin", "modules.builtin",
	"modules.builtin.alias.bin", "modules.builtin.bin",
	"modules.builtin.modinfo", "modules.dep", "modules.dep.bin",
	"modules.devname", "modules.order", "modules.softdep",
	"modules.symbols", "modules.symbols.bin",
};

#define NINDEXES (sizeof(index_names) / sizeof(index_names[0]))

struct walk {
	const char *dir;		/* libkmod's absolute tree */
	size_t dirlen;
	struct pf_strlist seen;		/* module names already walked */
	struct pf_modlookup *out;
	size_t cap;
	int rc;				/* -ENOMEM */
};

static void kmod_quiet(void *data, int priority, const char *file, int line,
		       const char *fn, const char *format, va_list args)
{
	(void)data, (void)priority, (void)file, (void)line, (void)fn;
	(void)format, (void)args;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static struct pf_modnode *node_push(struct walk *w, const char *name,
				    enum pf_modnode_status status,
				    const char *path, int err)
{
	struct pf_modlookup *l = w->out;
	struct pf_modnode *n;

	if (l->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 8;

		n = realloc(l->nodes, cap * sizeof(*n));
		if (!n)
			return NULL;
		l->nodes = n;
		w->cap = cap;
	}
	n = &l->nodes[l->n];
	n->name = strdup(name);
	n->path = path ? strdup(path) : NULL;
	n->status = status;
	n->err = err;
	if (!n->name || (path && !n->path)) {
		free(n->name);
		free(n->path);
		return NULL;
	}
	l->n++;
	return n;
}

static void walk_module(struct walk *w, struct kmod_module *mod);

static void walk_list(struct walk *w, struct kmod_list *list)
{
	struct kmod_list *it;

	kmod_list_foreach(it, list) {
		struct kmod_module *m = kmod_module_get_module(it);

		walk_module(w, m);
		kmod_module_unref(m);
	}
}

static void walk_module(struct walk *w, struct kmod_module *mod)
{
	const char *name = kmod_module_get_name(mod);
	const char *path = kmod_module_get_path(mod);
	struct kmod_list *deps, *pre = NULL, *post = NULL;
	enum pf_modnode_status status = PF_MODNODE_FILE;
	int err = 0;

	if (w->rc || strlist_contains(&w->seen, name))
		return;
	if (strlist_push(&w->seen, name)) {
		w->rc = -ENOMEM;
		return;
	}
	if (!path)
		status = PF_MODNODE_BUILTIN;
	else if (strncmp(path, w->dir, w->dirlen) != 0 || path[w->dirlen] != '/')
		status = PF_MODNODE_OUTSIDE;
	else if (access(path, R_OK) != 0)
		status = PF_MODNODE_UNREADABLE, err = errno;
	if (!node_push(w, name, status,
		       status == PF_MODNODE_FILE ? path + w->dirlen + 1 : path,
		       err)) {
		w->rc = -ENOMEM;
		return;
	}
	if (status != PF_MODNODE_FILE)
		return;
	deps = kmod_module_get_dependencies(mod);
	walk_list(w, deps);
	kmod_module_unref_list(deps);
	/* modprobe loads pre-softdeps first: they must be there too. */
	if (kmod_module_get_softdeps(mod, &pre, &post) == 0) {
		walk_list(w, pre);
		kmod_module_unref_list(pre);
		kmod_module_unref_list(post);
	}
}

static int find_indexes(struct pf_modtree *t)
{
	struct pf_buf path;
	struct stat st;
	int rc = 0;

	if (stat(t->dir, &st) != 0 || (S_ISDIR(st.st_mode) &&
					access(t->dir, R_OK | X_OK) != 0)) {
		t->status = PF_MODTREE_UNREADABLE;
		t->err = errno;
		return 0;
	}
	if (!S_ISDIR(st.st_mode)) {
		t->status = PF_MODTREE_UNREADABLE;
		return 0;
	}
	buf_init(&path);
	for (size_t i = 0; i < NINDEXES && !rc; i++) {
		path.len = 0;
		rc = buf_printf(&path, "%s/%s", t->dir, index_names[i]);
		if (!rc && access(path.data, R_OK) == 0)
			rc = strlist_push(&t->indexes, index_names[i]);
	}
	buf_release(&path);
	if (rc)
		return rc;
	/* libkmod resolves through the binary index; modprobe needs it too. */
	if (!strlist_contains(&t->indexes, "modules.dep.bin") ||
	    !strlist_contains(&t->indexes, "modules.dep"))
		t->status = PF_MODTREE_NO_INDEX;
	return 0;
}

static int lookup(struct kmod_ctx *ctx, const char *name,
		  struct pf_modlookup *out)
{
	struct walk w = { .out = out };
	struct kmod_list *list = NULL;
	int rc;

	out->asked = strdup(name);
	if (!out->asked)
		return -ENOMEM;
	w.dir = kmod_get_dirname(ctx);
	w.dirlen = strlen(w.dir);
	strlist_init(&w.seen);
	rc = kmod_module_new_from_lookup(ctx, name, &list);
	if (rc == -ENOMEM)
		return rc;
	out->found = rc >= 0 && list;
	walk_list(&w, list);
	kmod_module_unref_list(list);
	strlist_release(&w.seen);
	return w.rc;
}

int modtree_read(const char *path, const char *const *names, size_t n,
		 struct pf_modtree *out)
{
	static const char *const no_config[] = { NULL };
	size_t len = strlen(path);
	struct kmod_ctx *ctx;
	const char *slash;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	strlist_init(&out->indexes);
	while (len > 1 && path[len - 1] == '/')
		len--;
	out->path = strdup(path);
	out->dir = strndup(path, len);
	if (!out->path || !out->dir)
		return -ENOMEM;
	slash = strrchr(out->dir, '/');
	out->kver = strdup(slash ? slash + 1 : out->dir);
	if (!out->kver)
		return -ENOMEM;
	/* The last component names lib/modules/<kver>/ in the overlay. */
	if (!strcmp(out->kver, ".") || !strcmp(out->kver, "..") ||
	    !*out->kver) {
		out->status = PF_MODTREE_BAD_NAME;
		return 0;
	}
	rc = find_indexes(out);
	if (rc || out->status != PF_MODTREE_OK)
		return rc;
	if (out->indexes.n)	/* qsort's pointer must not be NULL */
		qsort(out->indexes.v, out->indexes.n, sizeof(*out->indexes.v),
		      cmp_str);
	out->mods = calloc(n ? n : 1, sizeof(*out->mods));
	if (!out->mods)
		return -ENOMEM;
	/* No modprobe.d: the build machine's configuration is not the
	 * host's. Softdeps the modules declare come from modules.softdep. */
	ctx = kmod_new(out->dir, no_config);
	if (!ctx)
		return -ENOMEM;
	kmod_set_log_fn(ctx, kmod_quiet, NULL);
	for (size_t i = 0; i < n && !rc; i++, out->nmods++)
		rc = lookup(ctx, names[i], &out->mods[i]);
	kmod_unref(ctx);
	return rc;
}

const struct pf_modlookup *modtree_lookup(const struct pf_modtree *t,
					  const char *name)
{
	for (size_t i = 0; t && i < t->nmods; i++)
		if (!strcmp(t->mods[i].asked, name))
			return &t->mods[i];
	return NULL;
}

void modtree_release(struct pf_modtree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nmods; i++) {
		for (size_t k = 0; k < t->mods[i].n; k++) {
			free(t->mods[i].nodes[k].name);
			free(t->mods[i].nodes[k].path);
		}
		free(t->mods[i].nodes);
		free(t->mods[i].asked);
	}
	free(t->mods);
	free(t->path);
	free(t->dir);
	free(t->kver);
	strlist_release(&t->indexes);
	memset(t, 0, sizeof(*t));
}
