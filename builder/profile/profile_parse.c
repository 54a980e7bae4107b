/* profile_parse: document tree -> struct pf_profile, checking keys and
 * types. Semantic checks live in validate.c. */
#include <ctype.h>
#include <errno.h>
#include <unistd.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pxeforge/profile/profile.h"
#include "profile_parser.h"
#include "pxeforge/lib/suggest.h"

static const char *const top_keys[] = { "version", "defaults", "hosts",
					"cluster_secret", "vms",
					"source_date_epoch" };
static const char *const defaults_keys[] = { "base_url", "kernel", "initrds",
					     "kernel_params", "console",
					     "initrd_modules", "modules_dir",
					     "overlay_compression",
					     "cloud_init" };
static const char *const host_keys[] = { "name", "macs", "cpu", "gpus",
					 "kernel", "initrds", "kernel_params",
					 "console", "initrd_modules",
					 "modules_dir", "overlay_compression",
					 "nixos", "cloud_init" };
static const char *const gpu_keys[] = { "address", "id", "model", "role",
					"functions" };
static const char *const function_keys[] = { "address", "id" };
static const char *const bootfile_keys[] = { "name", "url", "source",
					     "sha256" };
static const char *const nixos_keys[] = { "toplevel", "kernel_params",
					  "initrd_modules",
					  "initrd_available_modules",
					  "from_json" };
static const char *const cloud_init_keys[] = { "seed", "seed_url",
					       "ssh_authorized_keys", "k3s",
					       "network" };
static const char *const k3s_keys[] = { "role", "server", "token_file",
					"containerd" };
static const char *const network_keys[] = { "addresses", "gateway",
					    "nameservers", "search" };
static const char *const nixos_json_keys[] = { "toplevel", "kernel_params",
					       "initrd_modules",
					       "initrd_available_modules" };

void pp_fail(struct parser *P, int rc)
{
	if (!P->rc)
		P->rc = rc;
}

/* A key the map already has is no answer to "did you mean". */
static const char *suggest_absent(const struct pf_node *map, const char *word,
				  const char *const *keys, size_t n)
{
	const char *absent[16];
	size_t m = 0;

	for (size_t k = 0; k < n && m < 16; k++)
		if (!node_get(map, keys[k]))
			absent[m++] = keys[k];
	return suggest_closest(word, absent, m);
}

void pp_check_keys(struct parser *P, const struct pf_node *map,
		   const char *const *keys, size_t n, const char *where)
{
	for (size_t i = 0; i < map->n; i++) {
		const struct pf_node *key = map->pairs[i].key;
		const char *hint;
		bool known = false;

		for (size_t k = 0; k < n && !known; k++)
			known = strcmp(key->scalar, keys[k]) == 0;
		if (known)
			continue;
		hint = suggest_absent(map, key->scalar, keys, n);
		if (hint) {
			diag_error(P->d, &key->mark,
				   "unknown key '%s' in %s (did you mean '%s'?)",
				   key->scalar, where, hint);
		} else {
			char list[512] = "";

			for (size_t k = 0; k < n; k++) {
				strncat(list, k ? ", " : "", sizeof(list) - strlen(list) - 1);
				strncat(list, keys[k], sizeof(list) - strlen(list) - 1);
			}
			diag_error(P->d, &key->mark,
				   "unknown key '%s' in %s (known keys: %s)",
				   key->scalar, where, list);
		}
	}
}

bool pp_want_kind(struct parser *P, const struct pf_node *n,
		  enum pf_node_kind kind, const char *what)
{
	static const char *const names[] = { "a string", "a list", "a mapping" };

	if (n->kind == kind && !(kind == PF_NODE_SCALAR && node_is_null(n)))
		return true;
	diag_error(P->d, &n->mark, "wrong type for '%s': expected %s, got %s",
		   what, names[kind], node_kind_name(n));
	return false;
}

void pp_get_str(struct parser *P, const struct pf_node *map,
		const char *key, struct pf_str *out)
{
	const struct pf_node *n = node_get(map, key);

	if (!n)
		return;
	/* The mark says the key was there even when its value was unusable. */
	out->mark = n->mark;
	if (pp_want_kind(P, n, PF_NODE_SCALAR, key))
		out->s = n->scalar;
}

void pp_get_strv(struct parser *P, const struct pf_node *map,
		 const char *key, struct pf_strv *out)
{
	const struct pf_node *n = node_get(map, key);

	if (!n)
		return;
	out->given = true;
	out->mark = n->mark;
	if (node_is_null(n))
		return;	/* "key:" with nothing after it: an empty list */
	if (!pp_want_kind(P, n, PF_NODE_SEQ, key)) {
		out->invalid = true;
		return;
	}
	if (!n->n)
		return;
	out->v = calloc(n->n, sizeof(*out->v));
	if (!out->v) {
		pp_fail(P, -ENOMEM);
		return;
	}
	for (size_t i = 0; i < n->n; i++) {
		const struct pf_node *item = n->items[i];
		char what[128];

		snprintf(what, sizeof(what), "%s[%zu]", key, i);
		if (!pp_want_kind(P, item, PF_NODE_SCALAR, what)) {
			out->invalid = true;
			continue;
		}
		out->v[out->n].s = item->scalar;
		out->v[out->n].mark = item->mark;
		out->n++;
	}
}

/* A value from a closed set, compared without case: its index, or -1
 * (reported with a did-you-mean) when it is none of them. */
int pp_choice(struct parser *P, const struct pf_str *v,
	      const char *what, const char *const *choices, size_t n,
	      const char *expected)
{
	const char *hint;

	for (size_t i = 0; i < n; i++)
		if (strcasecmp(v->s, choices[i]) == 0)
			return (int)i;
	/* a number one digit away from a version is no typo: list them */
	hint = isdigit((unsigned char)v->s[0]) ? NULL :
	       suggest_closest(v->s, choices, n);
	if (hint)
		diag_error(P->d, &v->mark, "unknown %s '%s' (did you mean '%s'?)",
			   what, v->s, hint);
	else
		diag_error(P->d, &v->mark, "unknown %s '%s' (expected %s)",
			   what, v->s, expected);
	return -1;
}

/* A relative from_json, modules_dir, source or cluster_secret path is
 * relative to the profile's directory. */
char *pp_resolve_path(const char *profile, const char *path)
{
	char *copy, *dir, *out = NULL;

	if (path[0] == '/')
		return strdup(path);
	copy = strdup(profile);
	if (!copy)
		return NULL;
	dir = dirname(copy);
	if (strcmp(dir, ".") == 0)
		out = strdup(path);
	else if (asprintf(&out, "%s/%s", dir, path) < 0)
		out = NULL;
	free(copy);
	return out;
}

static void parse_bootfile(struct parser *P, const struct pf_node *n,
			   const char *what, struct pf_bootfile *out)
{
	out->mark = n->mark;
	if (n->kind == PF_NODE_SCALAR && !node_is_null(n)) {
		out->name.s = n->scalar;
		out->name.mark = n->mark;
		return;
	}
	if (n->kind != PF_NODE_MAP) {
		diag_error(P->d, &n->mark,
			   "wrong type for '%s': expected a file name or a mapping with 'name' and 'url', got %s",
			   what, node_kind_name(n));
		return;
	}
	pp_check_keys(P, n, bootfile_keys, NKEYS(bootfile_keys), what);
	pp_get_str(P, n, "name", &out->name);
	pp_get_str(P, n, "url", &out->url);
	pp_get_str(P, n, "source", &out->source);
	pp_get_str(P, n, "sha256", &out->sha256);
	if (out->source.s && !strstr(out->source.s, "://")) {
		out->source_path = pp_resolve_path(P->p->path, out->source.s);
		if (!out->source_path)
			pp_fail(P, -ENOMEM);
	}
	if (!out->name.s && !node_get(n, "name"))
		diag_error(P->d, &n->mark, "missing 'name' in '%s'", what);
}

static void parse_overlay(struct parser *P, const struct pf_node *map,
			  struct pf_boot *b)
{
	static const char *const methods[] = { "gzip", "zstd" };
	int i;

	pp_get_str(P, map, "modules_dir", &b->modules_dir);
	if (b->modules_dir.s) {
		b->modules_path = pp_resolve_path(P->p->path, b->modules_dir.s);
		if (!b->modules_path)
			pp_fail(P, -ENOMEM);
	}
	pp_get_str(P, map, "overlay_compression", &b->overlay_compression);
	if (!b->overlay_compression.s)
		return;
	i = pp_choice(P, &b->overlay_compression, "overlay_compression",
			 methods, 2, "'gzip' or 'zstd'");
	if (i >= 0)
		b->compression = i == 0 ? PF_COMPRESS_GZIP : PF_COMPRESS_ZSTD;
}

static void parse_boot(struct parser *P, const struct pf_node *map,
		       struct pf_boot *b)
{
	const struct pf_node *kernel = node_get(map, "kernel");
	const struct pf_node *initrds = node_get(map, "initrds");

	if (kernel) {
		b->has_kernel = true;
		parse_bootfile(P, kernel, "kernel", &b->kernel);
	}
	if (initrds && node_is_null(initrds)) {
		b->has_initrds = true;
	} else if (initrds && pp_want_kind(P, initrds, PF_NODE_SEQ, "initrds")) {
		b->has_initrds = true;
		b->initrds = calloc(initrds->n ? initrds->n : 1,
				    sizeof(*b->initrds));
		if (!b->initrds) {
			pp_fail(P, -ENOMEM);
			return;
		}
		b->ninitrds = initrds->n;
		for (size_t i = 0; i < initrds->n; i++) {
			char what[64];

			snprintf(what, sizeof(what), "initrds[%zu]", i);
			parse_bootfile(P, initrds->items[i], what,
				       &b->initrds[i]);
		}
	}
	pp_get_strv(P, map, "console", &b->console);
	pp_get_strv(P, map, "kernel_params", &b->kernel_params);
	pp_get_strv(P, map, "initrd_modules", &b->initrd_modules);
	parse_overlay(P, map, b);
}

static void parse_pcifn(struct parser *P, const struct pf_node *n,
			struct pf_pcifn *fn)
{
	fn->mark = n->mark;
	pp_get_str(P, n, "address", &fn->address);
	pp_get_str(P, n, "id", &fn->id);
	if (!node_get(n, "address"))
		diag_error(P->d, &n->mark,
			   "missing 'address' (the PCI address, e.g. '0000:1a:00.0')");
	if (!node_get(n, "id"))
		diag_error(P->d, &n->mark,
			   "missing 'id' (vendor:device, e.g. '10de:1db1')");
}

static void parse_role(struct parser *P, const struct pf_node *gpu_node,
		       struct pf_gpu *gpu)
{
	static const char *const roles[] = { "vfio", "host" };
	int i;

	pp_get_str(P, gpu_node, "role", &gpu->role_str);
	if (!node_get(gpu_node, "role")) {
		diag_error(P->d, &gpu_node->mark,
			   "missing 'role' (vfio: handed to VMs, host: used by the host's own driver)");
		return;
	}
	if (!gpu->role_str.s)
		return;
	i = pp_choice(P, &gpu->role_str, "role", roles, 2,
			 "'vfio' or 'host'");
	if (i >= 0)
		gpu->role = i == 0 ? PF_ROLE_VFIO : PF_ROLE_HOST;
}

static void parse_gpu(struct parser *P, const struct pf_node *n,
		      struct pf_gpu *gpu)
{
	const struct pf_node *fns;

	if (!pp_want_kind(P, n, PF_NODE_MAP, "gpus[]"))
		return;
	pp_check_keys(P, n, gpu_keys, NKEYS(gpu_keys), "gpu");
	parse_pcifn(P, n, &gpu->pci);
	pp_get_str(P, n, "model", &gpu->model);
	parse_role(P, n, gpu);
	fns = node_get(n, "functions");
	if (!fns || node_is_null(fns) ||
	    !pp_want_kind(P, fns, PF_NODE_SEQ, "functions") || !fns->n)
		return;
	gpu->functions = calloc(fns->n, sizeof(*gpu->functions));
	if (!gpu->functions) {
		pp_fail(P, -ENOMEM);
		return;
	}
	for (size_t i = 0; i < fns->n; i++) {
		const struct pf_node *f = fns->items[i];

		if (!pp_want_kind(P, f, PF_NODE_MAP, "functions[]"))
			continue;
		pp_check_keys(P, f, function_keys, NKEYS(function_keys),
			   "function");
		parse_pcifn(P, f, &gpu->functions[gpu->nfunctions++]);
	}
}

static void parse_cpu(struct parser *P, const struct pf_node *map,
		      struct pf_host *h)
{
	static const char *const cpus[] = { "intel", "amd" };
	int i;

	pp_get_str(P, map, "cpu", &h->cpu_str);
	if (!h->cpu_str.s)
		return;
	i = pp_choice(P, &h->cpu_str, "cpu", cpus, 2, "'intel' or 'amd'");
	if (i >= 0)
		h->cpu = i == 0 ? PF_CPU_INTEL : PF_CPU_AMD;
}

static int push_doc(struct pf_profile *p, struct pf_doc *doc)
{
	struct pf_doc **v = realloc(p->docs, (p->ndocs + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	p->docs = v;
	p->docs[p->ndocs++] = doc;
	return 0;
}

static void merge_nixos_list(struct parser *P, struct pf_strv *inline_v,
			     struct pf_strv *json_v, const char *key,
			     const char *file)
{
	if (!json_v->given)
		return;
	if (inline_v->given) {
		diag_error(P->d, &inline_v->mark,
			   "'%s' is given both here and in from_json file '%s'; keep one",
			   key, file);
		free(json_v->v);
		return;
	}
	*inline_v = *json_v;
}

static void parse_nixos_json(struct parser *P, struct pf_nixos *nx)
{
	struct pf_nixos from = { 0 };
	struct pf_doc *doc = NULL;
	char *path;
	int rc;

	path = pp_resolve_path(P->p->path, nx->from_json.s);
	if (!path) {
		pp_fail(P, -ENOMEM);
		return;
	}
	/* Say where the name was written; doc_load would name only the path. */
	if (access(path, R_OK) != 0) {
		diag_error(P->d, &nx->from_json.mark,
			   "cannot read from_json file '%s': %s", path,
			   strerror(errno));
		free(path);
		return;
	}
	rc = doc_load(path, P->d, &doc);
	free(path);
	if (rc == -ENOMEM)
		pp_fail(P, rc);
	if (rc)
		return;
	nx->from_json_ok = true;
	if (push_doc(P->p, doc)) {
		doc_free(doc);
		pp_fail(P, -ENOMEM);
		return;
	}
	if (!doc->root || doc->root->kind != PF_NODE_MAP) {
		struct pf_mark at = { doc->file, 1, 1 };

		diag_error(P->d, doc->root ? &doc->root->mark : &at,
			   "from_json file must hold an object with toplevel, kernel_params, initrd_modules and initrd_available_modules");
		return;
	}
	pp_check_keys(P, doc->root, nixos_json_keys, NKEYS(nixos_json_keys),
		   "from_json file");
	pp_get_str(P, doc->root, "toplevel", &from.toplevel);
	pp_get_strv(P, doc->root, "kernel_params", &from.kernel_params);
	pp_get_strv(P, doc->root, "initrd_modules", &from.initrd_modules);
	pp_get_strv(P, doc->root, "initrd_available_modules",
		 &from.initrd_available_modules);
	if (from.toplevel.s && nx->toplevel.s)
		diag_error(P->d, &nx->toplevel.mark,
			   "'toplevel' is given both here and in from_json file '%s'; keep one",
			   nx->from_json.s);
	else if (from.toplevel.s)
		nx->toplevel = from.toplevel;
	merge_nixos_list(P, &nx->kernel_params, &from.kernel_params,
			 "kernel_params", nx->from_json.s);
	merge_nixos_list(P, &nx->initrd_modules, &from.initrd_modules,
			 "initrd_modules", nx->from_json.s);
	merge_nixos_list(P, &nx->initrd_available_modules,
			 &from.initrd_available_modules,
			 "initrd_available_modules", nx->from_json.s);
}

static void parse_nixos(struct parser *P, const struct pf_node *n,
			struct pf_nixos *nx)
{
	if (!pp_want_kind(P, n, PF_NODE_MAP, "nixos"))
		return;
	nx->present = true;
	nx->mark = n->mark;
	pp_check_keys(P, n, nixos_keys, NKEYS(nixos_keys), "nixos");
	pp_get_str(P, n, "toplevel", &nx->toplevel);
	pp_get_strv(P, n, "kernel_params", &nx->kernel_params);
	pp_get_strv(P, n, "initrd_modules", &nx->initrd_modules);
	pp_get_strv(P, n, "initrd_available_modules",
		 &nx->initrd_available_modules);
	pp_get_str(P, n, "from_json", &nx->from_json);
	if (nx->from_json.s)
		parse_nixos_json(P, nx);
	if (!nx->toplevel.s && !P->rc && (!nx->from_json.s || nx->from_json_ok))
		diag_error(P->d, &n->mark,
			   "missing 'toplevel' in nixos (the system's store path, for init=<toplevel>/init)");
}

/* A mapping-valued key: the node when it is a mapping, else NULL (absent,
 * null, or the wrong type, reported). */
const struct pf_node *pp_get_map(struct parser *P,
				 const struct pf_node *map, const char *key,
				 const char *const *keys, size_t n)
{
	const struct pf_node *v = node_get(map, key);

	if (!v || node_is_null(v) || !pp_want_kind(P, v, PF_NODE_MAP, key))
		return NULL;
	pp_check_keys(P, v, keys, n, key);
	return v;
}

static void parse_k3s(struct parser *P, const struct pf_node *map,
		      struct pf_k3s_cfg *k)
{
	static const char *const roles[] = { "agent", "server" };
	static const char *const versions[] = { "2", "3" };
	const struct pf_node *n = pp_get_map(P, map, "k3s", k3s_keys,
					  NKEYS(k3s_keys));
	int i;

	if (!n)
		return;
	k->given = true;
	k->mark = n->mark;
	pp_get_str(P, n, "role", &k->role);
	pp_get_str(P, n, "server", &k->server);
	pp_get_str(P, n, "token_file", &k->token_file);
	pp_get_str(P, n, "containerd", &k->containerd);
	if (k->role.s) {
		i = pp_choice(P, &k->role, "k3s role", roles, 2,
				 "'agent' or 'server'");
		if (i >= 0)
			k->role_v = i == 0 ? PF_K3S_AGENT : PF_K3S_SERVER;
	}
	if (k->containerd.s) {
		i = pp_choice(P, &k->containerd,
				 "containerd config version", versions, 2,
				 "2 (containerd 1.7) or 3 (containerd 2.x)");
		if (i >= 0)
			k->containerd_v = i + 2;
	}
}

void pp_cloud_init(struct parser *P, const struct pf_node *map,
		   struct pf_cloudinit_cfg *c)
{
	static const char *const seeds[] = { "overlay", "url" };
	const struct pf_node *n = pp_get_map(P, map, "cloud_init", cloud_init_keys,
					  NKEYS(cloud_init_keys));
	const struct pf_node *net;
	int i;

	if (!n)
		return;
	c->given = true;
	c->mark = n->mark;
	pp_get_str(P, n, "seed", &c->seed);
	pp_get_str(P, n, "seed_url", &c->seed_url);
	pp_get_strv(P, n, "ssh_authorized_keys", &c->ssh_authorized_keys);
	if (c->seed.s) {
		i = pp_choice(P, &c->seed, "seed", seeds, 2,
				 "'overlay' or 'url'");
		if (i >= 0)
			c->seed_v = i == 0 ? PF_SEED_OVERLAY : PF_SEED_URL;
	}
	parse_k3s(P, n, &c->k3s);
	net = pp_get_map(P, n, "network", network_keys, NKEYS(network_keys));
	if (!net)
		return;
	c->network.given = true;
	c->network.mark = net->mark;
	pp_get_strv(P, net, "addresses", &c->network.addresses);
	pp_get_str(P, net, "gateway", &c->network.gateway);
	pp_get_strv(P, net, "nameservers", &c->network.nameservers);
	pp_get_strv(P, net, "search", &c->network.search);
}

static void parse_host(struct parser *P, const struct pf_node *n,
		       struct pf_host *h)
{
	const struct pf_node *gpus, *nixos;

	h->mark = n->mark;
	if (!pp_want_kind(P, n, PF_NODE_MAP, "hosts[]"))
		return;
	pp_check_keys(P, n, host_keys, NKEYS(host_keys), "host");
	pp_get_str(P, n, "name", &h->name);
	if (!node_get(n, "name"))
		diag_error(P->d, &n->mark, "missing 'name' in host");
	pp_get_strv(P, n, "macs", &h->macs);
	parse_cpu(P, n, h);
	parse_boot(P, n, &h->boot);
	gpus = node_get(n, "gpus");
	if (gpus && !node_is_null(gpus) &&
	    pp_want_kind(P, gpus, PF_NODE_SEQ, "gpus") && gpus->n) {
		h->gpus = calloc(gpus->n, sizeof(*h->gpus));
		if (!h->gpus) {
			pp_fail(P, -ENOMEM);
			return;
		}
		h->ngpus = gpus->n;
		for (size_t i = 0; i < gpus->n; i++)
			parse_gpu(P, gpus->items[i], &h->gpus[i]);
	}
	nixos = node_get(n, "nixos");
	if (nixos && !node_is_null(nixos))
		parse_nixos(P, nixos, &h->nixos);
	pp_cloud_init(P, n, &h->cloud_init);
}

static void parse_root(struct parser *P, const struct pf_node *root)
{
	const struct pf_node *defaults, *hosts;
	struct pf_profile *p = P->p;

	pp_check_keys(P, root, top_keys, NKEYS(top_keys), "the profile");
	pp_get_str(P, root, "version", &p->version);
	if (p->version.s && strcmp(p->version.s, "1") != 0)
		diag_error(P->d, &p->version.mark,
			   "unsupported profile version '%s' (this pxeforge reads version 1)",
			   p->version.s);
	defaults = node_get(root, "defaults");
	if (defaults && !node_is_null(defaults) &&
	    pp_want_kind(P, defaults, PF_NODE_MAP, "defaults")) {
		pp_check_keys(P, defaults, defaults_keys, NKEYS(defaults_keys),
			   "defaults");
		pp_get_str(P, defaults, "base_url", &p->base_url);
		parse_boot(P, defaults, &p->defaults);
		pp_cloud_init(P, defaults, &p->cloud_init);
	}
	pp_get_str(P, root, "source_date_epoch", &p->source_date_epoch);
	pp_get_str(P, root, "cluster_secret", &p->cluster_secret);
	if (p->cluster_secret.s) {
		p->cluster_secret_path = pp_resolve_path(p->path,
						      p->cluster_secret.s);
		if (!p->cluster_secret_path)
			pp_fail(P, -ENOMEM);
	}
	pp_vms(P, root);
	hosts = node_get(root, "hosts");
	if (!hosts || node_is_null(hosts)) {
		diag_error(P->d, &root->mark,
			   "missing 'hosts': the profile describes no machine");
		return;
	}
	p->hosts_mark = hosts->mark;
	if (!pp_want_kind(P, hosts, PF_NODE_SEQ, "hosts"))
		return;
	if (!hosts->n) {
		diag_error(P->d, &hosts->mark,
			   "'hosts' is empty: the profile describes no machine");
		return;
	}
	p->hosts = calloc(hosts->n, sizeof(*p->hosts));
	if (!p->hosts) {
		pp_fail(P, -ENOMEM);
		return;
	}
	p->nhosts = hosts->n;
	for (size_t i = 0; i < hosts->n; i++)
		parse_host(P, hosts->items[i], &p->hosts[i]);
}

int profile_parse(const char *path, struct pf_diag *d, struct pf_profile **out)
{
	struct parser P = { .d = d };
	struct pf_doc *doc = NULL;
	int rc;

	*out = NULL;
	P.p = calloc(1, sizeof(*P.p));
	if (!P.p || !(P.p->path = strdup(path))) {
		rc = -ENOMEM;
		goto clean;
	}
	rc = doc_load(path, d, &doc);
	if (rc)
		goto clean;
	rc = push_doc(P.p, doc);
	if (rc) {
		doc_free(doc);
		goto clean;
	}
	if (!doc->root || doc->root->kind != PF_NODE_MAP) {
		struct pf_mark at = { doc->file, 1, 1 };

		diag_error(d, doc->root ? &doc->root->mark : &at,
			   "a profile is a mapping with 'version', 'defaults' and 'hosts'%s",
			   doc->root ? "" : "; the file is empty");
		rc = -EINVAL;
		goto clean;
	}
	parse_root(&P, doc->root);
	rc = P.rc;
	if (rc)
		goto clean;
	*out = P.p;
	P.p = NULL;
clean:
	profile_free(P.p);
	return rc;
}

void pp_cloud_init_release(struct pf_cloudinit_cfg *c)
{
	free(c->ssh_authorized_keys.v);
	free(c->network.addresses.v);
	free(c->network.nameservers.v);
	free(c->network.search.v);
}

static void boot_release(struct pf_boot *b)
{
	free(b->kernel.source_path);
	for (size_t i = 0; i < b->ninitrds; i++)
		free(b->initrds[i].source_path);
	free(b->initrds);
	free(b->console.v);
	free(b->kernel_params.v);
	free(b->initrd_modules.v);
	free(b->modules_path);
}

void profile_free(struct pf_profile *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nhosts; i++) {
		struct pf_host *h = &p->hosts[i];

		free(h->macs.v);
		for (size_t g = 0; g < h->ngpus; g++)
			free(h->gpus[g].functions);
		free(h->gpus);
		boot_release(&h->boot);
		free(h->nixos.kernel_params.v);
		free(h->nixos.initrd_modules.v);
		free(h->nixos.initrd_available_modules.v);
		pp_cloud_init_release(&h->cloud_init);
	}
	free(p->hosts);
	profile_vms_release(p);
	boot_release(&p->defaults);
	pp_cloud_init_release(&p->cloud_init);
	free(p->cluster_secret_path);
	for (size_t i = 0; i < p->ndocs; i++)
		doc_free(p->docs[i]);
	free(p->docs);
	free(p->path);
	free(p);
}

const char *cpu_name(enum pf_cpu cpu)
{
	return cpu == PF_CPU_INTEL ? "intel" : cpu == PF_CPU_AMD ? "amd" : "unset";
}

const char *role_name(enum pf_role role)
{
	return role == PF_ROLE_HOST ? "host" : "vfio";
}
