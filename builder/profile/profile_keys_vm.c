/* profile_keys_vm: the tables of vms[] and of a VM's disk, NUMA cells and
 * pinning. Semantic checks live in validate/validate_vm.c. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "profile_parser.h"

#define OF(type, member) offsetof(type, member)

static const char *const formats[] = { "qcow2", "raw" };
static const int format_values[] = { PF_DISK_QCOW2, PF_DISK_RAW };

static const struct pf_key disk_keys[] = {
	{ .name = "image", .kind = PK_STR, .off = OF(struct pf_vm_disk, image),
	  .flags = PKF_PATH | PKF_LOCAL,
	  .off_path = OF(struct pf_vm_disk, image_path),
	  .doc = "the disk image: a local file (relative to the profile) or an http(s) URL" },
	{ .name = "sha256", .kind = PK_STR, .off = OF(struct pf_vm_disk, sha256),
	  .doc = "the image's SHA-256; required for a URL, checked for a file" },
	{ .name = "format", .kind = PK_STR, .off = OF(struct pf_vm_disk, format),
	  .choice = &(const struct pf_choice){
		  .what = "disk format", .expected = "'qcow2' or 'raw'",
		  .names = formats, .values = format_values, .n = 2,
		  .off_v = OF(struct pf_vm_disk, format_v) },
	  .doc = "default: qcow2 when the image's name ends in .qcow2, else raw" },
	{ .name = "containerdisk", .kind = PK_STR,
	  .off = OF(struct pf_vm_disk, containerdisk),
	  .doc = "the containerDisk image reference KubeVirt pulls, e.g. registry.lab.example/nixos-gpu:24.11" },
	{ .name = "libvirt_path", .kind = PK_STR,
	  .off = OF(struct pf_vm_disk, libvirt_path),
	  .doc = "where domain.xml finds the disk on the hypervisor; default /var/lib/libvirt/images/<vm>.<format>" },
};

const struct pf_keymap pk_disk = {
	.name = "disk", .where = "disk",
	.doc = "the VM's disk: an image, a containerDisk reference, or both",
	.keys = disk_keys, .n = NKEYS(disk_keys),
	.off_given = OF(struct pf_vm_disk, given),
	.off_mark = OF(struct pf_vm_disk, mark),
};

static const struct pf_key cell_keys[] = {
	{ .name = "cpus", .kind = PK_STR, .off = OF(struct pf_vm_numa_cell, cpus),
	  .type = PT_CPUSET, .flags = PKF_REQUIRED,
	  .missing = "missing 'cpus' in numa cell (the guest's vCPUs in it, e.g. '0-15')",
	  .doc = "the guest's vCPUs in this cell: N, N-M, comma lists (0-7,16-23)" },
	{ .name = "memory", .kind = PK_STR,
	  .off = OF(struct pf_vm_numa_cell, memory), .type = PT_QUANTITY,
	  .flags = PKF_REQUIRED,
	  .missing = "missing 'memory' in numa cell (its share of the guest's memory, e.g. '64Gi')",
	  .doc = "its share of the guest's memory, e.g. 64Gi" },
	{ .name = "host_node", .kind = PK_STR,
	  .off = OF(struct pf_vm_numa_cell, host_node), .type = PT_INT,
	  .doc = "the host NUMA node its memory comes from" },
};

static void init_cell(void *obj)
{
	((struct pf_vm_numa_cell *)obj)->host_node_v = -1;
}

const struct pf_keymap pk_numa_cell = {
	.name = "numa_cell", .where = "numa cell",
	.doc = "a guest NUMA cell",
	.keys = cell_keys, .n = NKEYS(cell_keys),
	.off_given = PK_NONE, .off_mark = OF(struct pf_vm_numa_cell, mark),
	.init = init_cell,
};

static const struct pf_key pin_keys[] = {
	{ .name = "vcpus", .kind = PK_STR, .off = OF(struct pf_vm_pin, vcpus),
	  .type = PT_CPUSET, .flags = PKF_REQUIRED,
	  .missing = "missing 'vcpus' in pinning (guest vCPUs, e.g. '0-15')",
	  .doc = "guest vCPUs, e.g. 0-15" },
	{ .name = "host_cpus", .kind = PK_STR, .off = OF(struct pf_vm_pin, host_cpus),
	  .type = PT_CPUSET, .flags = PKF_REQUIRED,
	  .missing = "missing 'host_cpus' in pinning (the host CPUs they run on, e.g. '16-31')",
	  .doc = "the host CPUs they run on, as many as vcpus, paired one to one in ascending order" },
};

const struct pf_keymap pk_pin = {
	.name = "pin", .where = "pinning",
	.doc = "the host CPUs some of the guest's vCPUs run on",
	.keys = pin_keys, .n = NKEYS(pin_keys),
	.off_given = PK_NONE, .off_mark = OF(struct pf_vm_pin, mark),
};

/* gpus: all, or a list of addresses. */
static void read_gpus(struct parser *P, const struct pf_node *map,
		      const struct pf_key *k, void *obj, const char *label)
{
	const struct pf_node *g = node_get(map, k->name);
	struct pf_vm *vm = obj;

	(void)label;
	if (!g)
		return;
	if (g->kind != PF_NODE_SCALAR || node_is_null(g)) {
		pp_get_strv(P, map, k->name, &vm->gpus);
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

static const char *const firmwares[] = { "uefi", "bios" };
static const int firmware_values[] = { PF_FIRMWARE_UEFI, PF_FIRMWARE_BIOS };

static const struct pf_key vm_keys[] = {
	{ .name = "name", .kind = PK_STR, .off = OF(struct pf_vm, name),
	  .flags = PKF_REQUIRED, .missing = "missing 'name' in VM",
	  .doc = "as host names; unique among VMs and not a host's name (hostname and identity derive from it)" },
	{ .name = "host", .kind = PK_STR, .off = OF(struct pf_vm, host),
	  .flags = PKF_REQUIRED,
	  .missing = "missing 'host' in VM '%s' (the host whose vfio GPUs it takes)",
	  .doc = "the host whose vfio GPUs it takes" },
	{ .name = "gpus", .kind = PK_READ, .off = OF(struct pf_vm, gpus),
	  .type = PT_ALL_OR_LIST, .read = read_gpus, .flags = PKF_REQUIRED,
	  .missing = "missing 'gpus' in VM '%s' ('all', or a list of the addresses of the host's vfio GPUs)",
	  .doc = "all: the host's GPUs with role vfio; or a list of their addresses" },
	{ .name = "vcpus", .kind = PK_STR, .off = OF(struct pf_vm, vcpus),
	  .type = PT_INT, .flags = PKF_REQUIRED,
	  .missing = "missing 'vcpus' in VM '%s' (its number of virtual CPUs)",
	  .doc = "its number of virtual CPUs, 1 to 1024" },
	{ .name = "memory", .kind = PK_STR, .off = OF(struct pf_vm, memory),
	  .type = PT_QUANTITY, .flags = PKF_REQUIRED,
	  .missing = "missing 'memory' in VM '%s' (guest memory, e.g. '128Gi')",
	  .doc = "guest memory: a whole number and Ki, Mi, Gi or Ti, a whole number of Mi" },
	{ .name = "firmware", .kind = PK_STR, .off = OF(struct pf_vm, firmware),
	  .choice = &(const struct pf_choice){
		  .what = "firmware", .expected = "'uefi' or 'bios'",
		  .names = firmwares, .values = firmware_values, .n = 2,
		  .off_v = OF(struct pf_vm, firmware_v) },
	  .dflt = "uefi", .doc = "the guest's firmware" },
	{ .name = "consumer_gpu", .kind = PK_STR,
	  .off = OF(struct pf_vm, consumer_gpu), .type = PT_BOOL,
	  .dflt = "false",
	  .doc = "true for a GeForce-class card: hide the hypervisor (older GeForce drivers stop with code 43)" },
	{ .name = "disk", .kind = PK_MAP, .off = OF(struct pf_vm, disk),
	  .map = &pk_disk, .flags = PKF_REQUIRED,
	  .missing = "missing 'disk' in VM '%s' (an 'image', a 'containerdisk' reference, or both)",
	  .doc = "an image, a containerDisk reference, or both" },
	{ .name = "cloud_init", .kind = PK_MAP, .off = OF(struct pf_vm, cloud_init),
	  .map = &pk_vm_cloud_init,
	  .doc = "as a host's, without network, seed and seed_url; each key overrides the defaults' one" },
	{ .name = "numa", .kind = PK_LIST, .off = OF(struct pf_vm, numa),
	  .list = &(const struct pf_list){
		  .item = &pk_numa_cell, .size = sizeof(struct pf_vm_numa_cell),
		  .off_count = OF(struct pf_vm, nnuma),
		  .off_mark = OF(struct pf_vm, numa_mark),
		  .item_what = "numa[]" },
	  .doc = "guest NUMA cells, numbered 0, 1, ... in the order written" },
	{ .name = "pinning", .kind = PK_LIST, .off = OF(struct pf_vm, pinning),
	  .list = &(const struct pf_list){
		  .item = &pk_pin, .size = sizeof(struct pf_vm_pin),
		  .off_count = OF(struct pf_vm, npinning),
		  .off_mark = OF(struct pf_vm, pinning_mark),
		  .item_what = "pinning[]" },
	  .doc = "vCPUs pinned to host CPUs" },
};

static const char *vm_label(const void *obj)
{
	const struct pf_vm *vm = obj;

	return vm->name.s ? vm->name.s : "?";
}

const struct pf_keymap pk_vm = {
	.name = "vm", .where = "VM",
	.doc = "a GPU VM: takes vfio GPUs of one host",
	.keys = vm_keys, .n = NKEYS(vm_keys),
	.off_given = PK_NONE, .off_mark = OF(struct pf_vm, mark),
	.label = vm_label,
};

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
