/* profile_keys: the tables of the profile's top level, defaults, hosts[],
 * their GPUs, kernel and initrds, and nixos (with its from_json file).
 * VMs are in profile_keys_vm.c, cloud_init in profile_keys_cloudinit.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "profile_parser.h"

#define OF(type, member) offsetof(type, member)

/* --- kernel and initrds ---------------------------------------------------- */

static const struct pf_key bootfile_keys[] = {
	{ .name = "name", .kind = PK_STR, .off = OF(struct pf_bootfile, name),
	  .flags = PKF_REQUIRED, .missing = "missing 'name' in '%s'",
	  .doc = "the image name iPXE gives it (--name) and the kernel line says (initrd=<name>)" },
	{ .name = "url", .kind = PK_STR, .off = OF(struct pf_bootfile, url),
	  .doc = "where iPXE loads it from: a URL with a scheme, or a path in the served tree" },
	{ .name = "source", .kind = PK_STR, .off = OF(struct pf_bootfile, source),
	  .flags = PKF_PATH | PKF_LOCAL,
	  .off_path = OF(struct pf_bootfile, source_path),
	  .doc = "where build gets the file for OUT: a local path (relative to the profile) or an http(s) URL" },
	{ .name = "sha256", .kind = PK_STR, .off = OF(struct pf_bootfile, sha256),
	  .doc = "the file's SHA-256 as sha256sum prints it; required for a URL source" },
};

const struct pf_keymap pk_bootfile = {
	.name = "bootfile", .where = NULL,
	.doc = "a file the iPXE script loads: kernel or initrd",
	.keys = bootfile_keys, .n = NKEYS(bootfile_keys),
	.off_given = PK_NONE, .off_mark = OF(struct pf_bootfile, mark),
	.exclusive = { "url", "source" },
};

static void read_bootfile(struct parser *P, const struct pf_node *n,
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
	pp_read_map(P, n, &pk_bootfile, out, what);
}

static void read_kernel(struct parser *P, const struct pf_node *map,
			const struct pf_key *k, void *obj, const char *label)
{
	const struct pf_node *n = node_get(map, k->name);
	struct pf_boot *b = (struct pf_boot *)((char *)obj + k->off);

	(void)label;
	if (!n)
		return;
	b->has_kernel = true;
	read_bootfile(P, n, "kernel", &b->kernel);
}

static void read_initrds(struct parser *P, const struct pf_node *map,
			 const struct pf_key *k, void *obj, const char *label)
{
	const struct pf_node *n = node_get(map, k->name);
	struct pf_boot *b = (struct pf_boot *)((char *)obj + k->off);

	(void)label;
	if (!n)
		return;
	if (node_is_null(n)) {
		b->has_initrds = true;
		return;
	}
	if (!pp_want_kind(P, n, PF_NODE_SEQ, k->name))
		return;
	b->has_initrds = true;
	b->initrds = calloc(n->n ? n->n : 1, sizeof(*b->initrds));
	if (!b->initrds) {
		pp_fail(P, -ENOMEM);
		return;
	}
	b->ninitrds = n->n;
	for (size_t i = 0; i < n->n; i++) {
		char what[64];

		snprintf(what, sizeof(what), "initrds[%zu]", i);
		read_bootfile(P, n->items[i], what, &b->initrds[i]);
	}
}


/* --- boot settings: in defaults and per host -------------------------------- */

static const char *const compressions[] = { "gzip", "zstd" };
static const int compression_values[] = { PF_COMPRESS_GZIP, PF_COMPRESS_ZSTD };

#define COMPRESSION(off)                                                    \
	(&(const struct pf_choice){                                         \
		.what = "overlay_compression",                              \
		.expected = "'gzip' or 'zstd'", .names = compressions,      \
		.values = compression_values, .n = 2, .off_v = (off) })

/* The keys of struct pf_boot at member b of type; docs per place. */
#define BOOT_STR(type, b, key, field, ...)                                  \
	{ .name = key, .kind = PK_STR, .off = OF(type, b.field), __VA_ARGS__ }
#define BOOT_STRV(type, b, key, ...)                                        \
	{ .name = #key, .kind = PK_STRV, .off = OF(type, b.key), __VA_ARGS__ }

static const struct pf_key defaults_keys[] = {
	{ .name = "base_url", .kind = PK_STR, .off = OF(struct pf_profile, base_url),
	  .doc = "where OUT/ is served (a URL with a scheme); without it the scripts use URLs relative to themselves" },
	{ .name = "kernel", .kind = PK_READ, .off = OF(struct pf_profile, defaults),
	  .type = PT_BOOTFILE, .map = &pk_bootfile, .read = read_kernel,
	  .dflt = "bzImage",
	  .doc = "the kernel: an image name, or a mapping with name and url, or name, source and sha256" },
	{ .name = "initrds", .kind = PK_READ, .off = OF(struct pf_profile, defaults),
	  .type = PT_BOOTFILES, .map = &pk_bootfile, .read = read_initrds,
	  .dflt = "[initrd]",
	  .doc = "the initrds in order: names, or mappings like kernel's; [] for none" },
	BOOT_STRV(struct pf_profile, defaults, kernel_params,
		  .doc = "extra kernel parameters for every host"),
	BOOT_STRV(struct pf_profile, defaults, console,
		  .doc = "each becomes console=<value>, in order"),
	BOOT_STRV(struct pf_profile, defaults, initrd_modules,
		  .doc = "extra early modules for every host"),
	BOOT_STR(struct pf_profile, defaults, "modules_dir", modules_dir,
		 .flags = PKF_PATH,
		 .off_path = OF(struct pf_profile, defaults.modules_path),
		 .doc = "the kernel modules tree the overlay's module closure comes from (relative to the profile)"),
	BOOT_STR(struct pf_profile, defaults, "overlay_compression",
		 overlay_compression,
		 .choice = COMPRESSION(OF(struct pf_profile, defaults.compression)),
		 .dflt = "gzip",
		 .doc = "gzip: overlay.cpio.gz, zstd: overlay.cpio.zst"),
	{ .name = "cloud_init", .kind = PK_MAP,
	  .off = OF(struct pf_profile, cloud_init), .map = &pk_cloud_init,
	  .doc = "NoCloud payloads for every host" },
};

const struct pf_keymap pk_defaults = {
	.name = "defaults", .where = "defaults",
	.doc = "settings shared by all hosts",
	.keys = defaults_keys, .n = NKEYS(defaults_keys),
	.off_given = PK_NONE, .off_mark = PK_NONE,
};

/* --- hosts[] and their GPUs -------------------------------------------------- */

static const struct pf_key function_keys[] = {
	{ .name = "address", .kind = PK_STR, .off = OF(struct pf_pcifn, address),
	  .flags = PKF_REQUIRED,
	  .missing = "missing 'address' (the PCI address, e.g. '0000:1a:00.0')",
	  .doc = "PCI address, domain:bus:device.function, e.g. \"0000:1a:00.1\"" },
	{ .name = "id", .kind = PK_STR, .off = OF(struct pf_pcifn, id),
	  .flags = PKF_REQUIRED,
	  .missing = "missing 'id' (vendor:device, e.g. '10de:1db1')",
	  .doc = "PCI vendor:device as lspci -nn prints it, e.g. \"10de:1aef\"" },
};

const struct pf_keymap pk_function = {
	.name = "function", .where = "function",
	.doc = "another function of the same card (HDMI audio, USB), which follows the GPU to vfio-pci",
	.keys = function_keys, .n = NKEYS(function_keys),
	.off_given = PK_NONE, .off_mark = OF(struct pf_pcifn, mark),
};

static const char *const roles[] = { "vfio", "host" };
static const int role_values[] = { PF_ROLE_VFIO, PF_ROLE_HOST };

static const struct pf_key gpu_keys[] = {
	{ .name = "address", .kind = PK_STR, .off = OF(struct pf_gpu, pci.address),
	  .flags = PKF_REQUIRED,
	  .missing = "missing 'address' (the PCI address, e.g. '0000:1a:00.0')",
	  .doc = "PCI address, domain:bus:device.function, e.g. \"0000:1a:00.0\"" },
	{ .name = "id", .kind = PK_STR, .off = OF(struct pf_gpu, pci.id),
	  .flags = PKF_REQUIRED,
	  .missing = "missing 'id' (vendor:device, e.g. '10de:1db1')",
	  .doc = "PCI vendor:device as lspci -nn prints it, e.g. \"10de:1db1\"" },
	{ .name = "model", .kind = PK_STR, .off = OF(struct pf_gpu, model),
	  .doc = "the card's name, e.g. Tesla V100 SXM2 16GB; checked against id" },
	{ .name = "role", .kind = PK_STR, .off = OF(struct pf_gpu, role_str),
	  .flags = PKF_REQUIRED,
	  .missing = "missing 'role' (vfio: handed to VMs, host: used by the host's own driver)",
	  .choice = &(const struct pf_choice){
		  .what = "role", .expected = "'vfio' or 'host'", .names = roles,
		  .values = role_values, .n = 2, .off_v = OF(struct pf_gpu, role) },
	  .doc = "vfio: handed to VMs through vfio-pci; host: kept by the host's own driver" },
	{ .name = "functions", .kind = PK_LIST, .off = OF(struct pf_gpu, functions),
	  .list = &(const struct pf_list){
		  .item = &pk_function, .size = sizeof(struct pf_pcifn),
		  .off_count = OF(struct pf_gpu, nfunctions), .off_mark = PK_NONE,
		  .item_what = "functions[]", .compact = true },
	  .doc = "the card's other functions, which go to vfio-pci with it" },
};

const struct pf_keymap pk_gpu = {
	.name = "gpu", .where = "gpu",
	.doc = "a PCI device of the host: a GPU, an NVSwitch, a NIC",
	.keys = gpu_keys, .n = NKEYS(gpu_keys),
	.off_given = PK_NONE, .off_mark = OF(struct pf_gpu, pci.mark),
};

static const char *const cpus[] = { "intel", "amd" };
static const int cpu_values[] = { PF_CPU_INTEL, PF_CPU_AMD };

static const struct pf_key host_keys[] = {
	{ .name = "name", .kind = PK_STR, .off = OF(struct pf_host, name),
	  .flags = PKF_REQUIRED, .missing = "missing 'name' in host",
	  .doc = "letters, digits, - _ .; names OUT/<name>/ (not hosts, vms, kubevirt, boot.ipxe or manifest.json)" },
	{ .name = "macs", .kind = PK_STRV, .off = OF(struct pf_host, macs),
	  .doc = "one or more MACs, ':' or '-' separated, quoted; no multicast" },
	{ .name = "cpu", .kind = PK_STR, .off = OF(struct pf_host, cpu_str),
	  .choice = &(const struct pf_choice){
		  .what = "cpu", .expected = "'intel' or 'amd'", .names = cpus,
		  .values = cpu_values, .n = 2, .off_v = OF(struct pf_host, cpu) },
	  .doc = "the CPU vendor; required when a GPU has role vfio" },
	{ .name = "gpus", .kind = PK_LIST, .off = OF(struct pf_host, gpus),
	  .list = &(const struct pf_list){
		  .item = &pk_gpu, .size = sizeof(struct pf_gpu),
		  .off_count = OF(struct pf_host, ngpus), .off_mark = PK_NONE,
		  .item_what = "gpus[]" },
	  .doc = "PCI devices of this host" },
	{ .name = "kernel", .kind = PK_READ, .off = OF(struct pf_host, boot),
	  .type = PT_BOOTFILE, .map = &pk_bootfile, .read = read_kernel,
	  .doc = "overrides defaults.kernel" },
	{ .name = "initrds", .kind = PK_READ, .off = OF(struct pf_host, boot),
	  .type = PT_BOOTFILES, .map = &pk_bootfile, .read = read_initrds,
	  .doc = "overrides defaults.initrds" },
	BOOT_STRV(struct pf_host, boot, kernel_params,
		  .doc = "added after the generated parameters and defaults'"),
	BOOT_STRV(struct pf_host, boot, console,
		  .doc = "overrides defaults.console"),
	BOOT_STRV(struct pf_host, boot, initrd_modules,
		  .doc = "added after the VFIO modules and defaults'"),
	BOOT_STR(struct pf_host, boot, "modules_dir", modules_dir,
		 .flags = PKF_PATH, .off_path = OF(struct pf_host, boot.modules_path),
		 .doc = "overrides defaults.modules_dir"),
	BOOT_STR(struct pf_host, boot, "overlay_compression",
		 overlay_compression,
		 .choice = COMPRESSION(OF(struct pf_host, boot.compression)),
		 .doc = "overrides defaults.overlay_compression"),
	{ .name = "nixos", .kind = PK_MAP, .off = OF(struct pf_host, nixos),
	  .map = &pk_nixos, .doc = "the host runs NixOS" },
	{ .name = "cloud_init", .kind = PK_MAP, .off = OF(struct pf_host, cloud_init),
	  .map = &pk_cloud_init,
	  .doc = "as in defaults; each key (and each key of k3s and network) overrides the defaults' one" },
	{ .name = "groups", .kind = PK_STRV, .off = OF(struct pf_host, groups),
	  .doc = "names of groups (top-level groups) whose settings apply, in order, before the host's own keys" },
};

const struct pf_keymap pk_host = {
	.name = "host", .where = "host",
	.doc = "a machine that netboots",
	.keys = host_keys, .n = NKEYS(host_keys),
	.off_given = PK_NONE, .off_mark = OF(struct pf_host, mark),
};

/* --- nixos and its from_json file --------------------------------------------- */

#define NIXOS_KEYS(toplevel_doc)                                            \
	{ .name = "toplevel", .kind = PK_STR, .off = OF(struct pf_nixos, toplevel), \
	  .doc = toplevel_doc },                                            \
	{ .name = "kernel_params", .kind = PK_STRV,                         \
	  .off = OF(struct pf_nixos, kernel_params),                        \
	  .doc = "config.boot.kernelParams, verbatim" },                    \
	{ .name = "initrd_modules", .kind = PK_STRV,                        \
	  .off = OF(struct pf_nixos, initrd_modules),                       \
	  .doc = "config.boot.initrd.kernelModules" },                      \
	{ .name = "initrd_available_modules", .kind = PK_STRV,              \
	  .off = OF(struct pf_nixos, initrd_available_modules),             \
	  .doc = "config.boot.initrd.availableKernelModules; carried, not used" }

static const struct pf_key nixos_json_keys[] = {
	NIXOS_KEYS("config.system.build.toplevel, the system's store path"),
};

const struct pf_keymap pk_nixos_json = {
	.name = "nixos_from_json", .where = "from_json file",
	.doc = "the file nixos.from_json names, as builtins.toJSON writes it",
	.keys = nixos_json_keys, .n = NKEYS(nixos_json_keys),
	.off_given = PK_NONE, .off_mark = PK_NONE,
};

int pp_push_doc(struct pf_profile *p, struct pf_doc *doc)
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

static void read_nixos_json(struct parser *P, struct pf_nixos *nx)
{
	struct pf_nixos from = { 0 };
	struct pf_doc *doc = NULL;
	char *path;
	int rc;

	path = pp_resolve_path(nx->from_json.mark.file ? nx->from_json.mark.file :
			       P->p->path, nx->from_json.s);
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
	if (pp_push_doc(P->p, doc)) {
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
	pp_read_map(P, doc->root, &pk_nixos_json, &from, "from_json file");
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

/* toplevel is required, but may come from the from_json file. */
static void finish_nixos(struct parser *P, const struct pf_node *map,
			 void *obj, const char *label)
{
	struct pf_nixos *nx = obj;

	(void)label;
	if (nx->from_json.s)
		read_nixos_json(P, nx);
	if (!nx->toplevel.s && !P->rc && (!nx->from_json.s || nx->from_json_ok))
		diag_error(P->d, &map->mark,
			   "missing 'toplevel' in nixos (the system's store path, for init=<toplevel>/init)");
}

static const struct pf_key nixos_keys[] = {
	NIXOS_KEYS("config.system.build.toplevel, the system's store path; required unless from_json gives it"),
	{ .name = "from_json", .kind = PK_STR, .off = OF(struct pf_nixos, from_json),
	  .doc = "a JSON file (relative to the profile) with the four keys above, from builtins.toJSON" },
};

const struct pf_keymap pk_nixos = {
	.name = "nixos", .where = "nixos",
	.doc = "the host runs NixOS: its configuration's boot values",
	.keys = nixos_keys, .n = NKEYS(nixos_keys),
	.off_given = OF(struct pf_nixos, present),
	.off_mark = OF(struct pf_nixos, mark),
	.finish = finish_nixos,
};

/* --- the top level ------------------------------------------------------------- */

static void check_version(struct parser *P, const struct pf_str *v)
{
	if (strcmp(v->s, "1") != 0)
		diag_error(P->d, &v->mark,
			   "unsupported profile version '%s' (this pxeforge reads version 1)",
			   v->s);
}

/* include and groups are expanded before the typed read (profile_include.c,
 * profile_groups.c); the entries are here for the schema and the docs. */
static void read_expanded(struct parser *P, const struct pf_node *map,
			  const struct pf_key *k, void *obj, const char *label)
{
	(void)P, (void)map, (void)k, (void)obj, (void)label;
}

static const struct pf_key profile_keys[] = {
	{ .name = "version", .kind = PK_STR, .off = OF(struct pf_profile, version),
	  .type = PT_VERSION, .check = check_version, .dflt = "1",
	  .doc = "the profile format; only 1 exists" },
	{ .name = "defaults", .kind = PK_MAP, .off = 0, .map = &pk_defaults,
	  .doc = "settings shared by all hosts" },
	{ .name = "hosts", .kind = PK_LIST, .off = OF(struct pf_profile, hosts),
	  .flags = PKF_REQUIRED,
	  .missing = "missing 'hosts': the profile describes no machine",
	  .list = &(const struct pf_list){
		  .item = &pk_host, .size = sizeof(struct pf_host),
		  .off_count = OF(struct pf_profile, nhosts),
		  .off_mark = OF(struct pf_profile, hosts_mark),
		  .item_what = "hosts[]",
		  .empty = "'hosts' is empty: the profile describes no machine",
		  .mark_any = true },
	  .doc = "the machines that netboot; at least one" },
	{ .name = "cluster_secret", .kind = PK_STR,
	  .off = OF(struct pf_profile, cluster_secret), .flags = PKF_PATH,
	  .off_path = OF(struct pf_profile, cluster_secret_path),
	  .doc = "the key file pxeforge secret init made (relative to the profile); every node's identity derives from it" },
	{ .name = "vms", .kind = PK_LIST, .off = OF(struct pf_profile, vms),
	  .list = &(const struct pf_list){
		  .item = &pk_vm, .size = sizeof(struct pf_vm),
		  .off_count = OF(struct pf_profile, nvms),
		  .off_mark = OF(struct pf_profile, vms_mark),
		  .item_what = "vms[]", .mark_any = true },
	  .doc = "GPU VMs, each taking vfio GPUs of one host" },
	{ .name = "source_date_epoch", .kind = PK_STR,
	  .off = OF(struct pf_profile, source_date_epoch), .type = PT_INT,
	  .dflt = "0",
	  .doc = "the mtime of every archive entry when the SOURCE_DATE_EPOCH environment variable is not set (it wins)" },
	{ .name = "groups", .kind = PK_READ, .type = PT_GROUPS,
	  .read = read_expanded,
	  .doc = "named sets of host settings (any host key but name and macs, and groups) that hosts[].groups apply" },
	{ .name = "include", .kind = PK_READ, .type = PT_STRINGS,
	  .read = read_expanded,
	  .doc = "other profile files contributing hosts, vms and groups: glob patterns relative to this file, matches in bytewise order" },
};

const struct pf_keymap pk_profile = {
	.name = "profile", .where = "the profile",
	.doc = "the top level of a pxeforge machine profile, version 1",
	.keys = profile_keys, .n = NKEYS(profile_keys),
	.off_given = PK_NONE, .off_mark = PK_NONE,
};

const struct pf_keymap *const pk_all[] = {
	&pk_profile, &pk_defaults, &pk_host, &pk_gpu, &pk_function,
	&pk_bootfile, &pk_nixos, &pk_nixos_json, &pk_cloud_init, &pk_k3s,
	&pk_network, &pk_vm, &pk_vm_cloud_init, &pk_disk, &pk_numa_cell,
	&pk_pin,
};
const size_t pk_nall = NKEYS(pk_all);
