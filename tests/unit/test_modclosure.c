/* modclosure_resolve against the machine's real kernel modules tree: the
 * first /lib/modules/<kver> with a modules.dep.bin (linux-image-amd64 is a
 * project dependency; without a tree the tests fail). What a closure must
 * hold is read from the tree's own text indexes (modules.dep,
 * modules.softdep, modules.alias, modules.builtin) so that the tests stay
 * valid across kernel versions. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fnmatch.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pxeforge/lib/diag.h"
#include "pxeforge/lib/strlist.h"
#include "pxeforge/profile/inputs.h"
#include "pxeforge/validate/modclosure.h"

#include "fixture.h"

/* Where kernel modules trees live: /lib/modules, or elsewhere where there
 * is none (the Nix build sandbox passes the nixpkgs kernel's). */
static const char *modules_root(void)
{
	const char *root = getenv("PXEFORGE_TEST_MODULES_ROOT");

	return root && *root ? root : "/lib/modules";
}

struct ctx {
	struct fixture fx;
	char tree[PATH_MAX];	/* /lib/modules/<kver> */
	const char *kver;	/* points into tree */
	struct pf_diag *d;
	struct pf_modclosure m;
	char *out;		/* diag_print output */
	int rc;			/* modclosure_resolve */
};

static const struct pf_mark dir_mark = { "p.yaml", 3, 16 };

/* The first tree (in name order) with a readable modules.dep.bin, or "". */
static void find_tree(char *tree, size_t size)
{
	struct dirent **names = NULL;
	int n = scandir(modules_root(), &names, NULL, alphasort);

	tree[0] = '\0';
	for (int i = 0; i < n; i++) {
		char bin[PATH_MAX];

		if (!tree[0] && names[i]->d_name[0] != '.') {
			snprintf(bin, sizeof(bin), "%s/%s/modules.dep.bin",
				 modules_root(), names[i]->d_name);
			if (access(bin, R_OK) == 0)
				snprintf(tree, size, "%s/%s", modules_root(),
					 names[i]->d_name);
		}
		free(names[i]);
	}
	free(names);
}

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c || fixture_enter(&c->fx, "modclosure", "") != 0) {
		free(c);
		return -1;
	}
	find_tree(c->tree, sizeof(c->tree));
	c->kver = c->tree[0] ? strrchr(c->tree, '/') + 1 : "";
	modclosure_init(&c->m);
	*state = c;
	return 0;
}

static void reset(struct ctx *c)
{
	modclosure_release(&c->m);
	modclosure_init(&c->m);
	diag_free(c->d);
	c->d = NULL;
	free(c->out);
	c->out = NULL;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	int rc;

	reset(c);
	rc = fixture_leave(&c->fx);
	free(c);
	return rc;
}

/* Every test that needs the real tree starts here. */
static void need_tree(struct ctx *c)
{
	if (!c->tree[0])
		fail_msg("no kernel modules tree: no %s/*/modules.dep.bin on "
			 "this machine (install linux-image-amd64, a dependency "
			 "of pxeforge, or set PXEFORGE_TEST_MODULES_ROOT)",
			 modules_root());
}

/* What the CLI does: the tree read with the modules asked for
 * (modtree_read), then their closure (modclosure_resolve). */
static int read_and_resolve(const char *dir, const struct pf_modreq *mods,
			    size_t n, struct pf_diag *d,
			    struct pf_modclosure *out)
{
	const char **names = calloc(n ? n : 1, sizeof(*names));
	struct pf_modtree t;
	int rc;

	assert_non_null(names);
	for (size_t i = 0; i < n; i++)
		names[i] = mods[i].name;
	rc = modtree_read(dir, names, n, &t);
	free(names);
	if (!rc)
		rc = modclosure_resolve(&t, &dir_mark, mods, n, d, out);
	modtree_release(&t);
	return rc;
}

/* Resolves the n modules in dir; returns the printed diagnostics. */
static const char *resolve(struct ctx *c, const char *dir,
			   const struct pf_modreq *mods, size_t n)
{
	reset(c);
	c->d = diag_new();
	assert_non_null(c->d);
	c->rc = read_and_resolve(dir, mods, n, c->d, &c->m);
	c->out = fixture_diag_text(c->d);
	return c->out;
}

/* Resolves the named modules (reported at no place), which must work. */
static void resolve_ok(struct ctx *c, const char *const *names, size_t n)
{
	struct pf_modreq req[8];

	assert_true(n <= 8);
	for (size_t i = 0; i < n; i++) {
		req[i].name = names[i];
		req[i].mark = (struct pf_mark){ NULL, 0, 0 };
	}
	if (strcmp(resolve(c, c->tree, req, n), "") != 0)
		fail_msg("unexpected diagnostics:\n%s", c->out);
	assert_int_equal(c->rc, 0);
	assert_string_equal(c->m.dir, c->tree);
	assert_string_equal(c->m.kver, c->kver);
}

/* ---- reading the tree's text indexes --------------------------------- */

/* A module's name from its path: basename up to ".ko", '-' as '_'. */
static void module_name(const char *path, char *name, size_t size)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strcspn(base, ".");
	assert_true(len < size);
	for (size_t i = 0; i < len; i++)
		name[i] = base[i] == '-' ? '_' : base[i];
	name[len] = '\0';
}

static void normalize(const char *in, char *out, size_t size)
{
	size_t len = strlen(in);

	assert_true(len < size);
	for (size_t i = 0; i <= len; i++)
		out[i] = in[i] == '-' ? '_' : in[i];
}

/* dir/rel, malloc'd. */
static char *tree_path(const struct ctx *c, const char *rel)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", c->tree, rel) > 0);
	return p;
}

static FILE *open_index(const struct ctx *c, const char *name)
{
	char *path = tree_path(c, name);
	FILE *fp = fopen(path, "r");

	if (!fp)
		fail_msg("cannot read '%s'", path);
	free(path);
	return fp;
}

/* The module file of a module name (normalized), from modules.dep: the
 * tree-relative path, or NULL when the tree has no such loadable module. */
static bool dep_file(const struct ctx *c, const char *modname, char *file,
		     size_t size)
{
	FILE *fp = open_index(c, "modules.dep");
	char *line = NULL, want[256], name[256];
	size_t cap = 0;
	bool found = false;

	normalize(modname, want, sizeof(want));
	while (!found && getline(&line, &cap, fp) > 0) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		*colon = '\0';
		module_name(line, name, sizeof(name));
		if (!strcmp(name, want)) {
			snprintf(file, size, "%s", line);
			found = true;
		}
	}
	free(line);
	fclose(fp);
	return found;
}

/* The module file of modname and every dependency modules.dep lists. */
static void dep_line(const struct ctx *c, const char *modname,
		     struct pf_strlist *out)
{
	FILE *fp = open_index(c, "modules.dep");
	char *line = NULL, want[256], name[256];
	size_t cap = 0;

	normalize(modname, want, sizeof(want));
	while (getline(&line, &cap, fp) > 0) {
		char *colon = strchr(line, ':'), *tok, *save;

		if (!colon)
			continue;
		*colon = '\0';
		module_name(line, name, sizeof(name));
		if (strcmp(name, want) != 0)
			continue;
		assert_int_equal(strlist_push(out, line), 0);
		for (tok = strtok_r(colon + 1, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save))
			assert_int_equal(strlist_push(out, tok), 0);
		break;
	}
	free(line);
	fclose(fp);
	if (!out->n)
		fail_msg("no line for '%s' in %s/modules.dep", modname, c->tree);
}

/* Files of the loadable modules a softdep target names: the module of
 * that name, or any module with a matching alias in modules.alias. */
static void providers(const struct ctx *c, const char *target,
		      struct pf_strlist *out)
{
	FILE *fp = open_index(c, "modules.alias");
	char *line = NULL, file[PATH_MAX];
	size_t cap = 0;

	if (dep_file(c, target, file, sizeof(file)))
		assert_int_equal(strlist_push_unique(out, file), 0);
	while (getline(&line, &cap, fp) > 0) {
		char pattern[512], mod[256];

		if (sscanf(line, "alias %511s %255s", pattern, mod) != 2)
			continue;
		if (fnmatch(pattern, target, 0) == 0 &&
		    dep_file(c, mod, file, sizeof(file)))
			assert_int_equal(strlist_push_unique(out, file), 0);
	}
	free(line);
	fclose(fp);
}

/* The first "softdep MOD pre: T..." whose MOD is a loadable module and
 * whose T some loadable module provides. false: the tree has none. */
static bool find_pre_softdep(const struct ctx *c, char *mod, size_t modsize,
			     char *target, size_t tsize,
			     struct pf_strlist *prov, bool *any_pre)
{
	FILE *fp = open_index(c, "modules.softdep");
	char *line = NULL, file[PATH_MAX];
	size_t cap = 0;
	bool found = false;

	*any_pre = false;
	while (!found && getline(&line, &cap, fp) > 0) {
		char *save, *tok = strtok_r(line, " \t\n", &save);
		const char *name;
		bool pre = false;

		if (!tok || strcmp(tok, "softdep") != 0)
			continue;
		name = strtok_r(NULL, " \t\n", &save);
		if (!name || !dep_file(c, name, file, sizeof(file)))
			continue;
		while (!found && (tok = strtok_r(NULL, " \t\n", &save))) {
			if (!strcmp(tok, "pre:") || !strcmp(tok, "post:")) {
				pre = !strcmp(tok, "pre:");
				*any_pre |= pre;
				continue;
			}
			if (!pre)
				continue;
			providers(c, tok, prov);
			if (prov->n) {
				snprintf(mod, modsize, "%s", name);
				snprintf(target, tsize, "%s", tok);
				found = true;
			}
		}
	}
	free(line);
	fclose(fp);
	return found;
}

/* Whether modules.softdep has a line for any module of the files. */
static bool any_softdep(const struct ctx *c, const struct pf_strlist *files)
{
	FILE *fp = open_index(c, "modules.softdep");
	char *line = NULL, mod[256], want[256], name[256];
	size_t cap = 0;
	bool found = false;

	while (!found && getline(&line, &cap, fp) > 0) {
		if (sscanf(line, "softdep %255s", mod) != 1)
			continue;
		normalize(mod, want, sizeof(want));
		for (size_t i = 0; i < files->n && !found; i++) {
			module_name(files->v[i], name, sizeof(name));
			found = !strcmp(name, want);
		}
	}
	free(line);
	fclose(fp);
	return found;
}

/* ---- closure checks --------------------------------------------------- */

static bool has(const struct pf_strlist *l, const char *s)
{
	return strlist_contains(l, s);
}

/* Sorted bytewise, no duplicates, relative paths of existing .ko files. */
static void assert_files_sane(const struct ctx *c)
{
	const struct pf_strlist *f = &c->m.files;

	for (size_t i = 0; i < f->n; i++) {
		char *path;

		assert_true(f->v[i][0] != '\0' && f->v[i][0] != '/');
		assert_non_null(strstr(f->v[i], ".ko"));
		if (i)
			assert_true(strcmp(f->v[i - 1], f->v[i]) < 0);
		path = tree_path(c, f->v[i]);
		if (access(path, R_OK) != 0)
			fail_msg("closure file '%s' is not readable", path);
		free(path);
	}
	for (size_t i = 0; i < c->m.indexes.n; i++) {
		assert_true(c->m.indexes.v[i][0] != '/');
		if (i)
			assert_true(strcmp(c->m.indexes.v[i - 1],
					   c->m.indexes.v[i]) < 0);
	}
	assert_true(has(&c->m.indexes, "modules.dep"));
	assert_true(has(&c->m.indexes, "modules.dep.bin"));
}

static void assert_contains_all(const struct pf_strlist *files,
				const struct pf_strlist *want)
{
	for (size_t i = 0; i < want->n; i++)
		if (!has(files, want->v[i]))
			fail_msg("closure lacks '%s'", want->v[i]);
}

static void assert_lists_equal(const struct pf_strlist *a,
			       const struct pf_strlist *b)
{
	assert_int_equal(a->n, b->n);
	for (size_t i = 0; i < a->n; i++)
		assert_string_equal(a->v[i], b->v[i]);
}

static void copy_list(const struct pf_strlist *from, struct pf_strlist *to)
{
	strlist_init(to);
	for (size_t i = 0; i < from->n; i++)
		assert_int_equal(strlist_push(to, from->v[i]), 0);
}

/* ---- tests ------------------------------------------------------------ */

static void vfio_pci(void **state)
{
	static const char *const underscore[] = { "vfio_pci" };
	static const char *const dash[] = { "vfio-pci" };
	static const char *const twice[] = { "vfio-pci", "vfio_pci", "vfio-pci" };
	struct ctx *c = *state;
	struct pf_strlist want, first;

	need_tree(c);
	strlist_init(&want);
	dep_line(c, "vfio-pci", &want);
	assert_true(want.n >= 2);	/* vfio-pci has dependencies */

	resolve_ok(c, underscore, 1);
	assert_files_sane(c);
	assert_contains_all(&c->m.files, &want);
	/* Without softdeps the closure is exactly the dep line. */
	if (!any_softdep(c, &want))
		assert_int_equal(c->m.files.n, want.n);
	copy_list(&c->m.files, &first);

	resolve_ok(c, dash, 1);
	assert_files_sane(c);
	assert_lists_equal(&c->m.files, &first);

	/* Asking more than once adds nothing. */
	resolve_ok(c, twice, 3);
	assert_lists_equal(&c->m.files, &first);

	strlist_release(&first);
	strlist_release(&want);
}

/* The union of two closures that share dependencies. */
static void shared_deps(void **state)
{
	static const char *const both[] = { "vfio_pci", "vfio_iommu_type1" };
	static const char *const one[] = { "vfio_iommu_type1" };
	struct ctx *c = *state;
	struct pf_strlist a, b;

	need_tree(c);
	strlist_init(&a);
	strlist_init(&b);
	dep_line(c, "vfio_pci", &a);
	dep_line(c, "vfio_iommu_type1", &b);
	resolve_ok(c, one, 1);
	assert_files_sane(c);
	assert_contains_all(&c->m.files, &b);
	resolve_ok(c, both, 2);
	assert_files_sane(c);
	assert_contains_all(&c->m.files, &a);
	assert_contains_all(&c->m.files, &b);
	strlist_release(&b);
	strlist_release(&a);
}

static void pre_softdep(void **state)
{
	struct ctx *c = *state;
	char mod[256], target[256];
	struct pf_strlist prov, deps;
	const char *names[1] = { mod };
	bool any_pre, hit = false;

	need_tree(c);
	strlist_init(&prov);
	if (!find_pre_softdep(c, mod, sizeof(mod), target, sizeof(target),
			      &prov, &any_pre)) {
		strlist_release(&prov);
		/* counted as skipped, not passed */
		if (!any_pre)
			print_message("SKIP: %s/modules.softdep has no pre: softdep\n",
				      c->tree);
		else
			print_message("SKIP: no pre: softdep in %s/modules.softdep names a loadable module\n",
				      c->tree);
		skip();
	}
	strlist_init(&deps);
	dep_line(c, mod, &deps);
	resolve_ok(c, names, 1);
	assert_files_sane(c);
	assert_contains_all(&c->m.files, &deps);
	for (size_t i = 0; i < prov.n; i++)
		hit |= has(&c->m.files, prov.v[i]);
	if (!hit)
		fail_msg("closure of '%s' has no module for its pre-softdep '%s'",
			 mod, target);
	strlist_release(&deps);
	strlist_release(&prov);
}

static void builtin_module(void **state)
{
	struct ctx *c = *state;
	FILE *fp;
	char *line = NULL, name[256], file[PATH_MAX];
	size_t cap = 0;
	bool found = false;
	const char *names[2] = { name, "vfio_pci" };
	struct pf_strlist vfio;

	need_tree(c);
	fp = open_index(c, "modules.builtin");
	/* The first built-in module that is not also a loadable one. */
	while (!found && getline(&line, &cap, fp) > 0) {
		line[strcspn(line, "\n")] = '\0';
		module_name(line, name, sizeof(name));
		found = name[0] && !dep_file(c, name, file, sizeof(file));
	}
	free(line);
	fclose(fp);
	if (!found)
		fail_msg("%s/modules.builtin names no built-in module", c->tree);
	resolve_ok(c, names, 1);
	assert_int_equal(c->m.files.n, 0);
	assert_files_sane(c);
	/* With another module: only that module's closure. */
	resolve_ok(c, names + 1, 1);
	copy_list(&c->m.files, &vfio);
	resolve_ok(c, names, 2);
	assert_lists_equal(&c->m.files, &vfio);
	strlist_release(&vfio);
}

static void unknown_module(void **state)
{
	struct ctx *c = *state;
	const struct pf_modreq at_mark[] = {
		{ "no_such_module_xyz", { "p.yaml", 7, 9 } },
	};
	const struct pf_modreq at_dir[] = {
		{ "no_such_module_xyz", { NULL, 0, 0 } },
	};
	char *want;

	need_tree(c);
	assert_true(asprintf(&want,
		"p.yaml:7:9: error: module 'no_such_module_xyz' not found in modules tree '%s' (kernel %s)\n",
		c->tree, c->kver) > 0);
	assert_string_equal(resolve(c, c->tree, at_mark, 1), want);
	assert_int_equal(c->rc, -EINVAL);
	free(want);

	assert_true(asprintf(&want,
		"p.yaml:3:16: error: module 'no_such_module_xyz' not found in modules tree '%s' (kernel %s)\n",
		c->tree, c->kver) > 0);
	assert_string_equal(resolve(c, c->tree, at_dir, 1), want);
	assert_int_equal(c->rc, -EINVAL);
	free(want);
}

/* One bad name among good ones: one error, at its own mark. */
static void unknown_among_known(void **state)
{
	struct ctx *c = *state;
	const struct pf_modreq req[] = {
		{ "vfio_pci", { "p.yaml", 5, 9 } },
		{ "vfio_pcj", { "p.yaml", 6, 9 } },
		{ "vfio", { "p.yaml", 7, 9 } },
	};
	char *want;

	need_tree(c);
	assert_true(asprintf(&want,
		"p.yaml:6:9: error: module 'vfio_pcj' not found in modules tree '%s' (kernel %s)\n",
		c->tree, c->kver) > 0);
	assert_string_equal(resolve(c, c->tree, req, 3), want);
	assert_int_equal(c->rc, -EINVAL);
	free(want);
}

static void trailing_slash(void **state)
{
	static const char *const names[] = { "vfio_pci" };
	struct ctx *c = *state;
	struct pf_modreq req = { "vfio_pci", { NULL, 0, 0 } };
	struct pf_strlist plain;
	char dir[PATH_MAX + 2];

	need_tree(c);
	resolve_ok(c, names, 1);
	copy_list(&c->m.files, &plain);
	for (int k = 1; k <= 2; k++) {
		snprintf(dir, sizeof(dir), "%s%s", c->tree, k == 1 ? "/" : "//");
		assert_string_equal(resolve(c, dir, &req, 1), "");
		assert_int_equal(c->rc, 0);
		assert_string_equal(c->m.dir, c->tree);
		assert_string_equal(c->m.kver, c->kver);
		assert_lists_equal(&c->m.files, &plain);
	}
	strlist_release(&plain);
}

/* No modules asked: the indexes alone. */
static void no_modules(void **state)
{
	struct ctx *c = *state;

	need_tree(c);
	assert_string_equal(resolve(c, c->tree, NULL, 0), "");
	assert_int_equal(c->rc, 0);
	assert_int_equal(c->m.files.n, 0);
	assert_files_sane(c);
	assert_string_equal(c->m.kver, c->kver);
}

static void bad_trees(void **state)
{
	struct ctx *c = *state;
	struct pf_modreq req = { "vfio_pci", { "p.yaml", 7, 9 } };

	assert_string_equal(resolve(c, "nope", &req, 1),
		"p.yaml:3:16: error: cannot read modules tree 'nope': No such file or directory\n");
	assert_int_equal(c->rc, -EINVAL);
	assert_int_equal(c->m.files.n, 0);

	assert_int_equal(mkdir("empty", 0755), 0);
	assert_string_equal(resolve(c, "empty/", &req, 1),
		"p.yaml:3:16: error: modules tree 'empty' has no readable modules.dep and modules.dep.bin (run 'depmod -b' on it)\n");
	assert_int_equal(c->rc, -EINVAL);
	assert_int_equal(c->m.files.n, 0);
	assert_string_equal(c->m.kver, "empty");

	/* The text index alone is not enough: libkmod reads the binary one. */
	fixture_write_file("empty/modules.dep", "kernel/a.ko:\n");
	assert_string_equal(resolve(c, "empty", &req, 1),
		"p.yaml:3:16: error: modules tree 'empty' has no readable modules.dep and modules.dep.bin (run 'depmod -b' on it)\n");
	assert_int_equal(c->rc, -EINVAL);

	fixture_write_file("file", "");
	assert_string_equal(resolve(c, "file", &req, 1),
		"p.yaml:3:16: error: cannot read modules tree 'file': not a directory\n");
	assert_int_equal(c->rc, -EINVAL);
}

/* A tree given by a relative path (a profile's modules_dir is relative to
 * the profile's directory) resolves like the absolute one: from the
 * scratch directory, ../../lib/modules/<kver> (one ".." per component). */
static void relative_tree(void **state)
{
	static const char *const names[] = { "vfio_pci" };
	struct ctx *c = *state;
	struct pf_modreq req = { "vfio_pci", { NULL, 0, 0 } };
	struct pf_strlist abs;
	char cwd[PATH_MAX], rel[3 * PATH_MAX] = "..";

	need_tree(c);
	resolve_ok(c, names, 1);
	copy_list(&c->m.files, &abs);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	for (const char *s = strchr(cwd + 1, '/'); s; s = strchr(s + 1, '/'))
		strcat(rel, "/..");
	strcat(rel, c->tree);
	if (strcmp(resolve(c, rel, &req, 1), "") != 0)
		fail_msg("unexpected diagnostics:\n%s", c->out);
	assert_int_equal(c->rc, 0);
	assert_string_equal(c->m.kver, c->kver);
	assert_lists_equal(&c->m.files, &abs);
	strlist_release(&abs);
}

static void release_unused(void **state)
{
	struct pf_modclosure m;

	modclosure_init(&m);
	modclosure_release(&m);
	modclosure_release(NULL);
	assert_null(m.dir);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(vfio_pci),
		T(shared_deps),
		T(pre_softdep),
		T(unknown_among_known),
		T(trailing_slash),
		T(bad_trees),
		cmocka_unit_test(release_unused),
		T(builtin_module),
		T(unknown_module),
		T(no_modules),
		T(relative_tree),
	};
#undef T

	return cmocka_run_group_tests_name("modclosure", tests, NULL, NULL);
}
