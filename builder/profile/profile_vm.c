/* profile_vm: the profile's vms[] -> struct pf_vm, checking keys and
 * types. Semantic checks live in validate_vm.c. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pxeforge/profile/profile.h"
#include "profile_parser.h"

static const char *const vm_keys[] = { "name", "host", "gpus", "vcpus",
				       "memory", "firmware", "consumer_gpu",
				       "disk", "cloud_init", "numa",
				       "pinning" };
static const char *const disk_keys[] = { "image", "sha256", "format",
					 "containerdisk", "libvirt_path" };
static const char *const cell_keys[] = { "cpus", "memory", "host_node" };
static const char *const pin_keys[] = { "vcpus", "host_cpus" };

static const char *vm_label(const struct pf_vm *vm)
{
	return vm->name.s ? vm->name.s : "?";
}

/* gpus: all, or a list of addresses. */
static void parse_gpus(struct parser *P, const struct pf_node *n,
		       struct pf_vm *vm)
{
	const struct pf_node *g = node_get(n, "gpus");

	if (!g) {
		diag_error(P->d, &n->mark,
			   "missing 'gpus' in VM '%s' ('all', or a list of the addresses of the host's vfio GPUs)",
			   vm_label(vm));
		return;
	}
	if (g->kind != PF_NODE_SCALAR || node_is_null(g)) {
		pp_get_strv(P, n, "gpus", &vm->gpus);
		return;
	}
	vm->gpus_all.mark = g->mark;
	if (strcasecmp(g->scalar, "all") == 0)
		vm->gpus_all.s = g->scalar;
	else
		diag_error(P->d, &g->mark,
			   "invalid gpus '%s' (expected 'all' or a list of the addresses of the host's vfio GPUs)",
			   g->scalar);
}

static void parse_disk(struct parser *P, const struct pf_node *n,
		       struct pf_vm *vm)
{
	static const char *const formats[] = { "qcow2", "raw" };
	struct pf_vm_disk *disk = &vm->disk;
	const struct pf_node *m;
	int i;

	if (!node_get(n, "disk")) {
		diag_error(P->d, &n->mark,
			   "missing 'disk' in VM '%s' (an 'image', a 'containerdisk' reference, or both)",
			   vm_label(vm));
		return;
	}
	m = pp_get_map(P, n, "disk", disk_keys, NKEYS(disk_keys));
	if (!m)
		return;
	disk->given = true;
	disk->mark = m->mark;
	pp_get_str(P, m, "image", &disk->image);
	pp_get_str(P, m, "sha256", &disk->sha256);
	pp_get_str(P, m, "format", &disk->format);
	pp_get_str(P, m, "containerdisk", &disk->containerdisk);
	pp_get_str(P, m, "libvirt_path", &disk->libvirt_path);
	if (disk->image.s && !strstr(disk->image.s, "://")) {
		disk->image_path = pp_resolve_path(P->p->path, disk->image.s);
		if (!disk->image_path)
			pp_fail(P, -ENOMEM);
	}
	if (!disk->format.s)
		return;
	i = pp_choice(P, &disk->format, "disk format", formats, 2,
		      "'qcow2' or 'raw'");
	if (i >= 0)
		disk->format_v = i == 0 ? PF_DISK_QCOW2 : PF_DISK_RAW;
}

/* A host's cloud_init has keys a VM cannot use: say so at the key. */
static void parse_cloud_init(struct parser *P, const struct pf_node *n,
			     struct pf_vm *vm)
{
	const struct pf_node *ci = node_get(n, "cloud_init");

	for (size_t i = 0; ci && ci->kind == PF_NODE_MAP && i < ci->n; i++) {
		const struct pf_node *key = ci->pairs[i].key;

		if (!strcmp(key->scalar, "seed") ||
		    !strcmp(key->scalar, "seed_url"))
			diag_error(P->d, &key->mark,
				   "'%s' does not apply to VM '%s': a VM's NoCloud seed is its cloud-init disk, which KubeVirt or libvirt attaches",
				   key->scalar, vm_label(vm));
		else if (!strcmp(key->scalar, "network"))
			diag_error(P->d, &key->mark,
				   "'network' does not apply to VM '%s': its interface is the hypervisor's (KubeVirt's pod network, a libvirt network) and gets its address by DHCP",
				   vm_label(vm));
	}
	pp_cloud_init(P, n, &vm->cloud_init);
}

/* numa: or pinning: a list of mappings; each item gets parse(). Items
 * that are not mappings are reported and keep a zero mark. */
static void *parse_list(struct parser *P, const struct pf_node *n,
			const char *key, size_t size, size_t *count,
			struct pf_mark *mark)
{
	const struct pf_node *l = node_get(n, key);
	void *v;

	*count = 0;
	if (!l || node_is_null(l))
		return NULL;
	*mark = l->mark;
	if (!pp_want_kind(P, l, PF_NODE_SEQ, key) || !l->n)
		return NULL;
	v = calloc(l->n, size);
	if (!v) {
		pp_fail(P, -ENOMEM);
		return NULL;
	}
	*count = l->n;
	return v;
}

static void parse_numa(struct parser *P, const struct pf_node *n,
		       struct pf_vm *vm)
{
	const struct pf_node *l;

	vm->numa = parse_list(P, n, "numa", sizeof(*vm->numa), &vm->nnuma,
			      &vm->numa_mark);
	l = node_get(n, "numa");
	for (size_t i = 0; i < vm->nnuma; i++) {
		const struct pf_node *c = l->items[i];
		struct pf_vm_numa_cell *cell = &vm->numa[i];

		cell->host_node_v = -1;
		if (!pp_want_kind(P, c, PF_NODE_MAP, "numa[]"))
			continue;
		cell->mark = c->mark;
		pp_check_keys(P, c, cell_keys, NKEYS(cell_keys), "numa cell");
		pp_get_str(P, c, "cpus", &cell->cpus);
		pp_get_str(P, c, "memory", &cell->memory);
		pp_get_str(P, c, "host_node", &cell->host_node);
		if (!node_get(c, "cpus"))
			diag_error(P->d, &c->mark,
				   "missing 'cpus' in numa cell (the guest's vCPUs in it, e.g. '0-15')");
		if (!node_get(c, "memory"))
			diag_error(P->d, &c->mark,
				   "missing 'memory' in numa cell (its share of the guest's memory, e.g. '64Gi')");
	}
}

static void parse_pinning(struct parser *P, const struct pf_node *n,
			  struct pf_vm *vm)
{
	const struct pf_node *l;

	vm->pinning = parse_list(P, n, "pinning", sizeof(*vm->pinning),
				 &vm->npinning, &vm->pinning_mark);
	l = node_get(n, "pinning");
	for (size_t i = 0; i < vm->npinning; i++) {
		const struct pf_node *c = l->items[i];
		struct pf_vm_pin *pin = &vm->pinning[i];

		if (!pp_want_kind(P, c, PF_NODE_MAP, "pinning[]"))
			continue;
		pin->mark = c->mark;
		pp_check_keys(P, c, pin_keys, NKEYS(pin_keys), "pinning");
		pp_get_str(P, c, "vcpus", &pin->vcpus);
		pp_get_str(P, c, "host_cpus", &pin->host_cpus);
		if (!node_get(c, "vcpus"))
			diag_error(P->d, &c->mark,
				   "missing 'vcpus' in pinning (guest vCPUs, e.g. '0-15')");
		if (!node_get(c, "host_cpus"))
			diag_error(P->d, &c->mark,
				   "missing 'host_cpus' in pinning (the host CPUs they run on, e.g. '16-31')");
	}
}

static void parse_vm(struct parser *P, const struct pf_node *n,
		     struct pf_vm *vm)
{
	static const char *const firmwares[] = { "uefi", "bios" };
	int i;

	vm->mark = n->mark;
	if (!pp_want_kind(P, n, PF_NODE_MAP, "vms[]"))
		return;
	pp_check_keys(P, n, vm_keys, NKEYS(vm_keys), "VM");
	pp_get_str(P, n, "name", &vm->name);
	if (!node_get(n, "name"))
		diag_error(P->d, &n->mark, "missing 'name' in VM");
	pp_get_str(P, n, "host", &vm->host);
	if (!node_get(n, "host"))
		diag_error(P->d, &n->mark,
			   "missing 'host' in VM '%s' (the host whose vfio GPUs it takes)",
			   vm_label(vm));
	parse_gpus(P, n, vm);
	pp_get_str(P, n, "vcpus", &vm->vcpus);
	if (!node_get(n, "vcpus"))
		diag_error(P->d, &n->mark,
			   "missing 'vcpus' in VM '%s' (its number of virtual CPUs)",
			   vm_label(vm));
	pp_get_str(P, n, "memory", &vm->memory);
	if (!node_get(n, "memory"))
		diag_error(P->d, &n->mark,
			   "missing 'memory' in VM '%s' (guest memory, e.g. '128Gi')",
			   vm_label(vm));
	pp_get_str(P, n, "firmware", &vm->firmware);
	if (vm->firmware.s) {
		i = pp_choice(P, &vm->firmware, "firmware", firmwares, 2,
			      "'uefi' or 'bios'");
		if (i >= 0)
			vm->firmware_v = i == 0 ? PF_FIRMWARE_UEFI :
						  PF_FIRMWARE_BIOS;
	}
	pp_get_str(P, n, "consumer_gpu", &vm->consumer_gpu);
	parse_disk(P, n, vm);
	parse_cloud_init(P, n, vm);
	parse_numa(P, n, vm);
	parse_pinning(P, n, vm);
}

void pp_vms(struct parser *P, const struct pf_node *root)
{
	const struct pf_node *vms = node_get(root, "vms");
	struct pf_profile *p = P->p;

	if (!vms || node_is_null(vms))
		return;
	p->vms_mark = vms->mark;
	if (!pp_want_kind(P, vms, PF_NODE_SEQ, "vms") || !vms->n)
		return;
	p->vms = calloc(vms->n, sizeof(*p->vms));
	if (!p->vms) {
		pp_fail(P, -ENOMEM);
		return;
	}
	p->nvms = vms->n;
	for (size_t i = 0; i < vms->n; i++)
		parse_vm(P, vms->items[i], &p->vms[i]);
}

void profile_vms_release(struct pf_profile *p)
{
	for (size_t i = 0; i < p->nvms; i++) {
		struct pf_vm *vm = &p->vms[i];

		free(vm->gpus.v);
		free(vm->disk.image_path);
		pp_cloud_init_release(&vm->cloud_init);
		free(vm->numa);
		free(vm->pinning);
		free(vm->gpus_v);
	}
	free(p->vms);
	p->vms = NULL;
	p->nvms = 0;
}
