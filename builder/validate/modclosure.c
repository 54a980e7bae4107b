/* modclosure_resolve: a host's early modules, their dependencies and
 * pre-softdeps, as files of one kernel modules tree (libkmod). */
#include <errno.h>
#include <libkmod.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/plan/modclosure.h"

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
	struct kmod_ctx *ctx;
	const char *dir;
	size_t dirlen;
	struct pf_modclosure *out;
	struct pf_strlist seen;		/* module names already walked */
	struct pf_diag *d;
	const struct pf_mark *at;	/* the request being resolved */
	const char *asked;		/* its module name */
	int rc;
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

static void walk_fail(struct walk *w, int rc)
{
	if (!w->rc || rc == -ENOMEM)
		w->rc = rc;
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

	if (w->rc == -ENOMEM || strlist_contains(&w->seen, name))
		return;
	if (strlist_push(&w->seen, name)) {
		walk_fail(w, -ENOMEM);
		return;
	}
	if (!path)
		return;	/* built into the kernel */
	if (strncmp(path, w->dir, w->dirlen) != 0 || path[w->dirlen] != '/') {
		diag_error(w->d, w->at,
			   "module '%s' (for '%s') lies outside modules tree '%s': '%s'",
			   name, w->asked, w->out->dir, path);
		walk_fail(w, -EINVAL);
		return;
	}
	if (access(path, R_OK) != 0) {
		diag_error(w->d, w->at,
			   "cannot read module '%s' (for '%s') in modules tree '%s': %s",
			   name, w->asked, w->out->dir, strerror(errno));
		walk_fail(w, -EINVAL);
		return;
	}
	if (!strlist_contains(&w->out->files, path + w->dirlen + 1) &&
	    strlist_push(&w->out->files, path + w->dirlen + 1)) {
		walk_fail(w, -ENOMEM);
		return;
	}
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

static int find_indexes(const char *dir, const struct pf_mark *at,
			struct pf_diag *d, struct pf_strlist *out)
{
	const char *why = NULL;
	struct stat st;
	char path[4096];

	if (stat(dir, &st) != 0)
		why = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		why = "not a directory";
	else if (access(dir, R_OK | X_OK) != 0)
		why = strerror(errno);
	if (why) {
		diag_error(d, at, "cannot read modules tree '%s': %s", dir, why);
		return -EINVAL;
	}
	for (size_t i = 0; i < NINDEXES; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, index_names[i]);
		if (access(path, R_OK) != 0)
			continue;
		if (strlist_push(out, index_names[i]))
			return -ENOMEM;
	}
	/* libkmod resolves through the binary index; modprobe needs it too. */
	if (!strlist_contains(out, "modules.dep.bin") ||
	    !strlist_contains(out, "modules.dep")) {
		diag_error(d, at,
			   "modules tree '%s' has no readable modules.dep and modules.dep.bin (run 'depmod -b' on it)",
			   dir);
		return -EINVAL;
	}
	return 0;
}

int modclosure_resolve(const char *dir, const struct pf_mark *dir_mark,
		       const struct pf_modreq *mods, size_t n,
		       struct pf_diag *d, struct pf_modclosure *out)
{
	static const char *const no_config[] = { NULL };
	struct walk w = { .d = d, .out = out };
	size_t len = strlen(dir);
	const char *slash;
	int rc;

	strlist_init(&w.seen);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	out->dir = strndup(dir, len);
	if (!out->dir)
		return -ENOMEM;
	slash = strrchr(out->dir, '/');
	out->kver = strdup(slash ? slash + 1 : out->dir);
	if (!out->kver)
		return -ENOMEM;
	/* The last component names lib/modules/<kver>/ in the overlay. */
	if (!strcmp(out->kver, ".") || !strcmp(out->kver, "..") ||
	    !*out->kver) {
		diag_error(d, dir_mark,
			   "modules tree '%s' must be named by its kernel version (e.g. /lib/modules/6.1.0-56-amd64)",
			   out->dir);
		return -EINVAL;
	}
	rc = find_indexes(out->dir, dir_mark, d, &out->indexes);
	if (rc)
		return rc;
	/* No modprobe.d: the build machine's configuration is not the
	 * host's. Softdeps the modules declare come from modules.softdep. */
	w.ctx = kmod_new(out->dir, no_config);
	if (!w.ctx)
		return -ENOMEM;
	kmod_set_log_fn(w.ctx, kmod_quiet, NULL);
	/* libkmod makes the tree absolute; module paths are below that. */
	w.dir = kmod_get_dirname(w.ctx);
	w.dirlen = strlen(w.dir);
	for (size_t i = 0; i < n && w.rc != -ENOMEM; i++) {
		struct kmod_list *list = NULL;

		w.at = mods[i].mark.file ? &mods[i].mark : dir_mark;
		w.asked = mods[i].name;
		rc = kmod_module_new_from_lookup(w.ctx, mods[i].name, &list);
		if (rc == -ENOMEM) {
			walk_fail(&w, rc);
		} else if (rc < 0 || !list) {
			diag_error(d, w.at,
				   "module '%s' not found in modules tree '%s' (kernel %s)",
				   mods[i].name, out->dir, out->kver);
			walk_fail(&w, -EINVAL);
		}
		walk_list(&w, list);
		kmod_module_unref_list(list);
	}
	if (out->files.n)	/* qsort's pointer must not be NULL */
		qsort(out->files.v, out->files.n, sizeof(*out->files.v),
		      cmp_str);
	rc = w.rc;
	kmod_unref(w.ctx);
	strlist_release(&w.seen);
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
