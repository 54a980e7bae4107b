/* KubeVirt on hand-built VM plans: resource names (built-in cards
 * independent of pci.ids, pci.ids names, unknown devices), the planned
 * memory overhead part by part against numbers computed by hand, vm.yaml
 * and permitted-host-devices.yaml rendered from the plan and parsed back
 * with libyaml (and read by python3-yaml the way kubectl's YAML 1.1 reader
 * types them), the plan's inline vs Secret cloud-init at the 2048-byte
 * boundary and which files it makes secret. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "pxeforge/lib/units.h"
#include "pxeforge/plan/vm.h"
#include "pxeforge/render/render_vm.h"
#include "plan/plan_artifacts.h"

#include "fixture.h"

#define MI PF_MI
#define GI PF_GI

/* A pci.ids without any built-in card: their names must not need it. */
#define PCI_IDS "# test pci.ids\n" \
	"10de  NVIDIA Corporation\n" \
	"\t1eb8  TU104GL [Tesla T4]\n" \
	"1234  Acme Devices\n" \
	"\t5678  Frobnicator 9000 [Super+ Edition]\n"

static int setup(void **state)
{
	static struct fixture f;

	*state = &f;
	return fixture_enter(&f, "kubevirt", PCI_IDS);
}

static int teardown(void **state)
{
	return fixture_leave(*state);
}

/* ---- a small reader over libyaml's document API ---------------------- */

struct docs {
	yaml_document_t d[4];
	size_t n;
};

static void docs_load(struct docs *ds, const char *text)
{
	yaml_parser_t p;

	memset(ds, 0, sizeof(*ds));
	assert_true(yaml_parser_initialize(&p));
	yaml_parser_set_input_string(&p, (const unsigned char *)text,
				     strlen(text));
	for (;;) {
		assert_true(ds->n < 4);
		if (!yaml_parser_load(&p, &ds->d[ds->n])) {
			fprintf(stderr, "yaml: %s at line %zu\n", p.problem,
				p.problem_mark.line + 1);
			fail();
		}
		if (!yaml_document_get_root_node(&ds->d[ds->n])) {
			yaml_document_delete(&ds->d[ds->n]);
			break;
		}
		ds->n++;
	}
	yaml_parser_delete(&p);
}

static void docs_free(struct docs *ds)
{
	for (size_t i = 0; i < ds->n; i++)
		yaml_document_delete(&ds->d[i]);
}

/* Follows keys, or "#N" for item N of a sequence; NULL-terminated. */
static yaml_node_t *get(yaml_document_t *d, ...)
{
	yaml_node_t *n = yaml_document_get_root_node(d);
	const char *k;
	va_list ap;

	va_start(ap, d);
	while (n && (k = va_arg(ap, const char *))) {
		yaml_node_t *next = NULL;

		if (k[0] == '#' && n->type == YAML_SEQUENCE_NODE) {
			long i = strtol(k + 1, NULL, 10);
			yaml_node_item_t *it = n->data.sequence.items.start;

			if (it + i < n->data.sequence.items.top)
				next = yaml_document_get_node(d, it[i]);
		} else if (n->type == YAML_MAPPING_NODE) {
			for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
			     p < n->data.mapping.pairs.top; p++) {
				yaml_node_t *key = yaml_document_get_node(d, p->key);

				if (key->type == YAML_SCALAR_NODE &&
				    strcmp((char *)key->data.scalar.value, k) == 0)
					next = yaml_document_get_node(d, p->value);
			}
		}
		n = next;
	}
	va_end(ap);
	return n;
}

static const char *scalar(yaml_node_t *n)
{
	assert_non_null(n);
	assert_int_equal(n->type, YAML_SCALAR_NODE);
	return (const char *)n->data.scalar.value;
}

static size_t seq_len(yaml_node_t *n)
{
	assert_non_null(n);
	assert_int_equal(n->type, YAML_SEQUENCE_NODE);
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

#define S(doc, ...) scalar(get((doc), __VA_ARGS__, NULL))

/* ---- hand-built plans ------------------------------------------------- */

static char vm_name[] = "gpu-vm";
static char image[] = "registry.example/gpu-vm:1";

static void add_dev(struct pf_plan_vm *vm, uint16_t vendor, uint16_t device,
		    bool gpu, size_t card)
{
	struct pf_vm_pcidev *d = &vm->devs[vm->ndevs++];

	memset(d, 0, sizeof(*d));
	snprintf(d->address, sizeof(d->address), "0000:%02zx:00.%u",
		 0x1a + card, gpu ? 0u : 1u);
	d->vendor = vendor;
	d->device = device;
	d->gpu = gpu;
	d->card = card;
	d->resource = kubevirt_resource_name(vendor, device);	/* as plan_vm */
	assert_non_null(d->resource);
	if (gpu)
		vm->ncards = card + 1;
}

/* The seed: four Tesla V100 SXM2 16GB, 32 vCPUs, 128 Gi, UEFI. */
static void seed_vm(struct pf_plan_vm *vm, struct pf_vm_pcidev *devs)
{
	memset(vm, 0, sizeof(*vm));
	vm->name = vm_name;
	vm->vcpus = 32;
	vm->memory_bytes = 128 * GI;
	vm->firmware = PF_FIRMWARE_UEFI;
	vm->devs = devs;
	for (size_t i = 0; i < 4; i++)
		add_dev(vm, 0x10de, 0x1db1, true, i);
	vm->containerdisk = image;
	cloudinit_init(&vm->cloudinit);
}

/* What plan_artifacts decides for a VM, after the rest of it. */
static void plan(struct pf_plan_vm *vm)
{
	assert_int_equal(plan_nocloud(&vm->cloudinit), 0);
	assert_int_equal(plan_kubevirt(vm), 0);
}

static void vm_done(struct pf_plan_vm *vm)
{
	for (size_t i = 0; i < vm->ndevs; i++)
		free(vm->devs[i].resource);
	vm->ndevs = 0;
	cloudinit_release(&vm->cloudinit);
	free(vm->kubevirt.cloudinit_secret);
	vm->kubevirt.cloudinit_secret = NULL;
}

static char *render(struct pf_plan_vm *vm)
{
	struct pf_buf b;

	plan(vm);
	buf_init(&b);
	assert_int_equal(kubevirt_vm_render(vm, &b), 0);
	return buf_detach(&b);
}

/* ---- resource names ---------------------------------------------------- */

static void assert_resource(uint16_t v, uint16_t d, const char *want)
{
	char *got = kubevirt_resource_name(v, d);

	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

static void test_resource_builtin(void **state)
{
	/* the fixture's pci.ids lacks these: the names come from the table */
	assert_resource(0x10de, 0x1db1, "nvidia.com/GV100GL_TESLA_V100_SXM2_16GB");
	assert_resource(0x10de, 0x2786, "nvidia.com/AD104_GEFORCE_RTX_4070");
	/* the 4070's HDMI audio: its model already starts with the chip */
	assert_resource(0x10de, 0x22bc, "nvidia.com/AD104_HDMI_AUDIO");
	assert_resource(0x10de, 0x20f1, "nvidia.com/GA100_A100_PCIE_40GB_REV_2");
	assert_resource(0x15b3, 0x1021,
			"pci-15b3.pxeforge/MT2910_FAMILY_CONNECTX_7");
}

static void test_resource_pci_ids(void **state)
{
	assert_resource(0x10de, 0x1eb8, "nvidia.com/TU104GL_TESLA_T4");
	assert_resource(0x1234, 0x5678,
			"pci-1234.pxeforge/FROBNICATOR_9000_SUPER_EDITION");
	/* in neither: the id */
	assert_resource(0x1234, 0xabcd, "pci-1234.pxeforge/DEVICE_ABCD");
	assert_resource(0x8086, 0x0bad, "intel.com/DEVICE_0BAD");
	assert_resource(0x1002, 0x73bf, "amd.com/DEVICE_73BF");
}

static void test_resource_every_card_valid(void **state)
{
	size_t n;
	const struct pf_pci_card *cards = pciid_cards(&n);

	/* a Kubernetes extended resource name: domain/NAME, NAME at most 63
	 * of [A-Z0-9_], starting and ending alphanumeric; one per card */
	for (size_t i = 0; i < n; i++) {
		char *r = kubevirt_resource_name(cards[i].vendor, cards[i].device);
		const char *name;

		assert_non_null(r);
		assert_non_null(cards[i].chip);
		name = strchr(r, '/');
		assert_non_null(name);
		name++;
		assert_true(strlen(name) > 0 && strlen(name) <= 63);
		assert_int_equal(strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_"),
				 strlen(name));
		assert_true(name[0] != '_' && name[strlen(name) - 1] != '_');
		assert_null(strstr(name, "__"));
		assert_null(strstr(name, "DEVICE_"));
		for (size_t j = 0; j < i; j++) {
			char *o = kubevirt_resource_name(cards[j].vendor,
							 cards[j].device);

			assert_string_not_equal(r, o);
			free(o);
		}
		free(r);
	}
}

/* ---- overhead ------------------------------------------------------------ */

static void test_overhead_seed(void **state)
{
	struct pf_vm_pcidev devs[4];
	struct pf_plan_vm vm;
	const struct pf_kv_overhead *o = &vm.kubevirt.overhead;

	seed_vm(&vm, devs);
	plan(&vm);
	assert_int_equal(vm.kubevirt.cores, 32);
	assert_false(vm.kubevirt.dedicated_cpus);
	assert_int_equal(o->pagetables, 256 * MI);	/* 128 Gi / 512 */
	assert_int_equal(o->fixed, (25 + 100 + 25 + 40 + 30) * MI);
	assert_int_equal(o->vcpus, 32 * 8 * MI);
	assert_int_equal(o->iothreads, 8 * MI);
	assert_int_equal(o->video, 32 * MI);
	assert_int_equal(o->vfio, GI);
	assert_int_equal(o->dedicated, 0);
	assert_int_equal(vm.kubevirt.hugepage, 0);
	assert_int_equal(o->total, 1796 * MI);
	/* 129.75 Gi: below the seed's 140 Gi, which was a round margin, not
	 * KubeVirt's formula (README: KubeVirt adds its own overhead on top
	 * again for the pod, ~131.5 Gi in all) */
	assert_int_equal(vm.kubevirt.requested, 132868 * MI);
	assert_true(vm.kubevirt.requested < 140 * GI);
	assert_true(vm.kubevirt.requested > 128 * GI + GI);
	/* no cloud-init: nothing inline, no Secret, nothing secret */
	assert_null(vm.kubevirt.cloudinit_secret);
	assert_false(vm.kubevirt.yaml_secret);
	vm_done(&vm);
}

static void test_overhead_parts(void **state)
{
	struct pf_vm_pcidev devs[4];
	struct pf_plan_vm vm;
	const struct pf_kv_overhead *o = &vm.kubevirt.overhead;
	const struct pf_kv_resources *kv = &vm.kubevirt;
	struct pf_vm_cell cell = { 0 };

	/* no device, no vCPU count (KubeVirt's 1), 1000 Mi: page tables
	 * 2000 Ki, no VFIO */
	seed_vm(&vm, devs);
	vm_done(&vm);
	vm.vcpus = 0;
	vm.memory_bytes = 1000 * MI;
	plan(&vm);
	assert_int_equal(kv->cores, 1);
	assert_int_equal(o->pagetables, 2000 * 1024);
	assert_int_equal(o->vcpus, 8 * MI);
	assert_int_equal(o->vfio, 0);
	assert_int_equal(o->total, 2000 * 1024 + (220 + 8 + 8 + 32) * MI);
	/* 1269.95 Mi, up to whole Mi */
	assert_int_equal(kv->requested, 1270 * MI);

	/* NUMA cells: dedicated CPUs (+100 Mi), 1 Gi pages, a request of
	 * whole pages: 128 Gi + 1896 Mi -> 130 Gi */
	seed_vm(&vm, devs);
	vm.cells = &cell;
	vm.ncells = 1;
	plan(&vm);
	assert_true(kv->dedicated_cpus);
	assert_int_equal(o->dedicated, 100 * MI);
	assert_int_equal(o->total, 1896 * MI);
	assert_int_equal(kv->hugepage, GI);
	assert_int_equal(kv->requested, 130 * GI);

	/* not whole Gi: 2 Mi pages */
	vm.memory_bytes = 3 * GI + 512 * MI;
	plan(&vm);
	assert_int_equal(kv->hugepage, 2 * MI);
	assert_int_equal(kv->requested % (2 * MI), 0);
	assert_true(kv->requested >= vm.memory_bytes + o->total);
	assert_true(kv->requested < vm.memory_bytes + o->total + 2 * MI);

	/* vCPU pins alone ask for dedicated CPUs too */
	vm.ncells = 0;
	vm.cells = NULL;
	vm.pins = &(struct pf_vm_vcpupin){ 0, 4 };
	vm.npins = 1;
	plan(&vm);
	assert_true(kv->dedicated_cpus);
	assert_int_equal(kv->hugepage, 2 * MI);

	/* 1 Gi + 1 Mi: no page size fits, so none is planned (validate
	 * rejects such a VM with a containerDisk: tests/bad/55-vm-hugepages) */
	vm.memory_bytes = GI + MI;
	plan(&vm);
	assert_int_equal(kv->hugepage, 0);
	vm_done(&vm);
}

static void test_explain(void **state)
{
	struct pf_vm_pcidev devs[4];
	struct pf_plan_vm vm;
	struct pf_buf b;

	seed_vm(&vm, devs);
	plan(&vm);
	buf_init(&b);
	assert_int_equal(kubevirt_explain_render(&vm, &b), 0);
	assert_non_null(strstr(b.data, "gpu-vm: "));
	assert_non_null(strstr(b.data, "guest / 512 = 131072 Mi / 512"));
	assert_non_null(strstr(b.data, "8 Mi x 32 vCPUs"));
	assert_non_null(strstr(b.data, "1 Gi with VFIO devices (4 here)"));
	assert_non_null(strstr(b.data, "    1796 Mi\n"));
	assert_non_null(strstr(b.data, "  132868 Mi\n"));
	buf_release(&b);
	vm_done(&vm);
}

/* ---- vm.yaml ------------------------------------------------------------- */

static void test_vm_seed(void **state)
{
	struct pf_vm_pcidev devs[4];
	struct pf_plan_vm vm;
	struct docs ds;
	yaml_document_t *d;
	char *y;

	seed_vm(&vm, devs);
	y = render(&vm);
	/* the breakdown leads as a comment */
	assert_memory_equal(y, "# gpu-vm: ", 10);
	assert_non_null(strstr(y, "\n#   overhead "));
	docs_load(&ds, y);
	assert_int_equal(ds.n, 1);
	d = &ds.d[0];
	assert_string_equal(S(d, "apiVersion"), "kubevirt.io/v1");
	assert_string_equal(S(d, "kind"), "VirtualMachine");
	assert_string_equal(S(d, "metadata", "name"), "gpu-vm");
	assert_string_equal(S(d, "spec", "runStrategy"), "Always");
	assert_string_equal(S(d, "spec", "template", "metadata", "labels",
			      "kubevirt.io/vm"), "gpu-vm");
#define DOM "spec", "template", "spec", "domain"
	assert_string_equal(S(d, DOM, "cpu", "cores"), "32");
	assert_int_equal(get(d, DOM, "cpu", "cores", NULL)->data.scalar.style,
			 YAML_PLAIN_SCALAR_STYLE);
	assert_string_equal(S(d, DOM, "cpu", "model"), "host-passthrough");
	assert_null(get(d, DOM, "cpu", "dedicatedCpuPlacement", NULL));
	assert_null(get(d, DOM, "cpu", "numa", NULL));
	assert_string_equal(S(d, DOM, "machine", "type"), "q35");
	assert_string_equal(S(d, DOM, "firmware", "bootloader", "efi",
			      "secureBoot"), "false");
	assert_null(get(d, DOM, "features", NULL));
	assert_string_equal(S(d, DOM, "memory", "guest"), "128Gi");
	assert_null(get(d, DOM, "memory", "hugepages", NULL));
	assert_string_equal(S(d, DOM, "resources", "requests", "memory"),
			    "132868Mi");
	assert_int_equal(seq_len(get(d, DOM, "devices", "gpus", NULL)), 4);
	for (int i = 0; i < 4; i++) {
		char idx[16], name[16];

		snprintf(idx, sizeof(idx), "#%d", i);
		snprintf(name, sizeof(name), "gpu%d", i);
		assert_string_equal(S(d, DOM, "devices", "gpus", idx, "name"), name);
		assert_string_equal(S(d, DOM, "devices", "gpus", idx, "deviceName"),
				    "nvidia.com/GV100GL_TESLA_V100_SXM2_16GB");
	}
	assert_null(get(d, DOM, "devices", "hostDevices", NULL));
	assert_int_equal(seq_len(get(d, DOM, "devices", "disks", NULL)), 1);
	assert_string_equal(S(d, DOM, "devices", "disks", "#0", "name"),
			    "containerdisk");
	assert_string_equal(S(d, DOM, "devices", "disks", "#0", "disk", "bus"),
			    "virtio");
	assert_int_equal(seq_len(get(d, "spec", "template", "spec", "volumes",
				     NULL)), 1);
	assert_string_equal(S(d, "spec", "template", "spec", "volumes", "#0",
			      "containerDisk", "image"), image);
	docs_free(&ds);
	free(y);
	vm_done(&vm);
}

static void test_vm_consumer_numa_bios(void **state)
{
	struct pf_vm_pcidev devs[4];
	struct pf_vm_cell cells[2] = { { 0 }, { 0 } };
	struct pf_plan_vm vm;
	struct docs ds;
	yaml_document_t *d;
	char *y;

	seed_vm(&vm, devs);
	vm_done(&vm);
	add_dev(&vm, 0x10de, 0x2786, true, 0);	/* RTX 4070 */
	add_dev(&vm, 0x10de, 0x22bc, false, 0);	/* its HDMI audio */
	free(vm.devs[0].resource);	/* the plan's is the one used */
	vm.devs[0].resource = strdup("example.com/PLANNED");
	vm.hide_hypervisor = true;
	vm.firmware = PF_FIRMWARE_BIOS;
	vm.vcpus = 8;
	vm.memory_bytes = 16 * GI;
	vm.cells = cells;
	vm.ncells = 2;
	y = render(&vm);
	docs_load(&ds, y);
	d = &ds.d[0];
	assert_string_equal(S(d, DOM, "cpu", "cores"), "8");
	assert_string_equal(S(d, DOM, "cpu", "dedicatedCpuPlacement"), "true");
	assert_non_null(get(d, DOM, "cpu", "numa", "guestMappingPassthrough",
			    NULL));
	assert_int_equal(get(d, DOM, "cpu", "numa", "guestMappingPassthrough",
			     NULL)->type, YAML_MAPPING_NODE);
	assert_non_null(get(d, DOM, "firmware", "bootloader", "bios", NULL));
	assert_null(get(d, DOM, "firmware", "bootloader", "efi", NULL));
	assert_string_equal(S(d, DOM, "features", "kvm", "hidden"), "true");
	assert_string_equal(S(d, DOM, "memory", "guest"), "16Gi");
	assert_string_equal(S(d, DOM, "memory", "hugepages", "pageSize"), "1Gi");
	/* 16 Gi + 32 + 220 + 64 + 8 + 32 + 1024 + 100 Mi -> 18 Gi */
	assert_string_equal(S(d, DOM, "resources", "requests", "memory"),
			    "18432Mi");
	assert_int_equal(seq_len(get(d, DOM, "devices", "gpus", NULL)), 1);
	assert_string_equal(S(d, DOM, "devices", "gpus", "#0", "deviceName"),
			    "example.com/PLANNED");
	assert_int_equal(seq_len(get(d, DOM, "devices", "hostDevices", NULL)), 1);
	assert_string_equal(S(d, DOM, "devices", "hostDevices", "#0", "name"),
			    "hostdev0");
	assert_string_equal(S(d, DOM, "devices", "hostDevices", "#0",
			      "deviceName"), "nvidia.com/AD104_HDMI_AUDIO");
	docs_free(&ds);
	free(y);
	vm_done(&vm);
}

static void test_vm_needs_containerdisk(void **state)
{
	struct pf_vm_pcidev devs[4];
	struct pf_plan_vm vm;
	struct pf_buf b;

	seed_vm(&vm, devs);
	vm.containerdisk = NULL;
	plan(&vm);
	buf_init(&b);
	assert_int_equal(kubevirt_vm_render(&vm, &b), -EINVAL);
	assert_int_equal(b.len, 0);
	buf_release(&b);
	vm_done(&vm);
}

/* A VM not planned (plan_kubevirt never ran) is refused, not guessed. */
static void test_vm_needs_plan(void **state)
{
	struct pf_vm_pcidev devs[4];
	struct pf_plan_vm vm;
	struct pf_buf b;

	seed_vm(&vm, devs);
	buf_init(&b);
	assert_int_equal(kubevirt_explain_render(&vm, &b), -EINVAL);
	vm.cloudinit.enabled = true;	/* and no payload made */
	assert_int_equal(kubevirt_vm_render(&vm, &b), -EINVAL);
	assert_int_equal(b.len, 0);
	buf_release(&b);
	vm.cloudinit.enabled = false;
	vm_done(&vm);
}

/* ---- cloud-init: inline or Secret ------------------------------------ */

/* user-data of exactly len bytes: one authorized key padded to fit;
 * planned, so vm->cloudinit.payload holds it. */
static void cloudinit_of(struct pf_plan_vm *vm, size_t len, bool network)
{
	const struct pf_nocloud *nc = &vm->cloudinit.payload;
	char key[4096];
	size_t pad = 100;

	for (int round = 0; round < 2; round++) {
		cloudinit_release(&vm->cloudinit);
		vm->cloudinit.enabled = true;
		vm->cloudinit.hostname = strdup("gpu-vm");
		snprintf(key, sizeof(key), "ssh-ed25519 %0*d user@example",
			 (int)pad, 0);
		assert_int_equal(strlist_push(&vm->cloudinit.authorized_keys,
					      key), 0);
		if (network) {
			vm->cloudinit.network = true;
			vm->cloudinit.mac = strdup("52:54:00:12:34:56");
			assert_int_equal(strlist_push(&vm->cloudinit.addresses,
						      "10.0.0.5/24"), 0);
		}
		plan(vm);
		pad += len - nc->user_data.len;	/* grows one for one */
	}
	assert_int_equal(nc->user_data.len, len);
}

static void test_cloudinit_inline_2048(void **state)
{
	struct pf_vm_pcidev devs[4];
	struct pf_plan_vm vm;
	const struct pf_nocloud *nc = &vm.cloudinit.payload;
	struct docs ds;
	yaml_document_t *d;
	char *y;

	seed_vm(&vm, devs);
	cloudinit_of(&vm, 2048, true);
	assert_null(vm.kubevirt.cloudinit_secret);	/* planned inline */
	y = render(&vm);
	assert_null(strstr(y, "kind: Secret"));
	docs_load(&ds, y);
	assert_int_equal(ds.n, 1);
	d = &ds.d[0];
	assert_int_equal(seq_len(get(d, DOM, "devices", "disks", NULL)), 2);
	assert_string_equal(S(d, DOM, "devices", "disks", "#1", "name"),
			    "cloudinitdisk");
#define CI "spec", "template", "spec", "volumes", "#1"
	assert_string_equal(S(d, CI, "name"), "cloudinitdisk");
	assert_string_equal(S(d, CI, "cloudInitNoCloud", "userData"),
			    nc->user_data.data);
	assert_string_equal(S(d, CI, "cloudInitNoCloud", "networkData"),
			    nc->network_config.data);
	assert_null(get(d, CI, "cloudInitNoCloud", "secretRef", NULL));
	docs_free(&ds);
	free(y);
	vm_done(&vm);
}

static void test_cloudinit_secret_2049(void **state)
{
	struct pf_vm_pcidev devs[4];
	struct pf_plan_vm vm;
	const struct pf_nocloud *nc = &vm.cloudinit.payload;
	struct docs ds;
	yaml_document_t *s, *d;
	char *y;

	seed_vm(&vm, devs);
	cloudinit_of(&vm, 2049, true);
	assert_string_equal(vm.kubevirt.cloudinit_secret, "gpu-vm-cloud-init");
	y = render(&vm);
	docs_load(&ds, y);
	assert_int_equal(ds.n, 2);
	s = &ds.d[0];
	d = &ds.d[1];
	assert_string_equal(S(s, "apiVersion"), "v1");
	assert_string_equal(S(s, "kind"), "Secret");
	assert_string_equal(S(s, "metadata", "name"), "gpu-vm-cloud-init");
	assert_string_equal(S(s, "type"), "Opaque");
	assert_string_equal(S(s, "stringData", "userdata"), nc->user_data.data);
	assert_string_equal(S(s, "stringData", "networkdata"),
			    nc->network_config.data);
	assert_string_equal(S(d, "kind"), "VirtualMachine");
	assert_string_equal(S(d, CI, "cloudInitNoCloud", "secretRef", "name"),
			    "gpu-vm-cloud-init");
	assert_string_equal(S(d, CI, "cloudInitNoCloud", "networkDataSecretRef",
			      "name"), "gpu-vm-cloud-init");
	assert_null(get(d, CI, "cloudInitNoCloud", "userData", NULL));
	assert_null(get(d, CI, "cloudInitNoCloud", "networkData", NULL));
	docs_free(&ds);
	free(y);

	/* no network-config: no networkdata key, no networkDataSecretRef */
	cloudinit_of(&vm, 3000, false);
	y = render(&vm);
	docs_load(&ds, y);
	assert_int_equal(ds.n, 2);
	assert_null(get(&ds.d[0], "stringData", "networkdata", NULL));
	assert_null(get(&ds.d[1], CI, "cloudInitNoCloud", "networkDataSecretRef",
			NULL));
	assert_string_equal(S(&ds.d[1], CI, "cloudInitNoCloud", "secretRef",
			      "name"), "gpu-vm-cloud-init");
	docs_free(&ds);
	free(y);
	vm_done(&vm);
}

/* The plan's secrecy: the identity (a private host key, a k3s password)
 * makes user-data, cidata.iso and vm.yaml secret, and a host's overlay
 * when it carries the seed; authorized keys alone make nothing secret. */
static void test_secrecy(void **state)
{
	struct pf_vm_pcidev devs[4];
	struct pf_plan_vm vm;

	seed_vm(&vm, devs);
	cloudinit_of(&vm, 2049, false);
	assert_false(vm.cloudinit.secret);
	assert_false(vm.cloudinit.overlay_secret);
	assert_false(vm.kubevirt.yaml_secret);

	vm.cloudinit.node_password = strdup("0123abcd");
	assert_non_null(vm.cloudinit.node_password);
	plan(&vm);
	assert_true(vm.cloudinit.secret);
	assert_false(vm.cloudinit.overlay_secret);	/* seed: none */
	assert_true(vm.kubevirt.yaml_secret);

	vm.cloudinit.seed = PF_SEED_OVERLAY;	/* as a host's may be */
	plan(&vm);
	assert_true(vm.cloudinit.overlay_secret);

	vm.cloudinit.enabled = false;		/* no cloud-init at all */
	plan(&vm);
	assert_false(vm.cloudinit.secret);
	assert_false(vm.kubevirt.yaml_secret);
	assert_null(vm.kubevirt.cloudinit_secret);
	assert_null(vm.cloudinit.payload.user_data.data);
	vm_done(&vm);
}

static void test_vm_deterministic(void **state)
{
	struct pf_vm_pcidev devs[4];
	struct pf_plan_vm vm;
	char *a, *b;

	seed_vm(&vm, devs);
	cloudinit_of(&vm, 2500, false);
	a = render(&vm);
	b = render(&vm);
	assert_string_equal(a, b);
	free(a);
	free(b);
	vm_done(&vm);
}

/* ---- permitted-host-devices.yaml --------------------------------------- */

static void test_permitted(void **state)
{
	struct pf_vm_pcidev d1[4], d2[4], d3[4];
	struct pf_plan_vm vms[3];
	struct pf_vm_cell cell = { 0 };
	struct pf_buf b;
	struct docs ds;
	yaml_document_t *d;
	yaml_node_t *list;

	seed_vm(&vms[0], d1);			/* 4 x 10de:1db1 */
	seed_vm(&vms[1], d2);
	vm_done(&vms[1]);
	add_dev(&vms[1], 0x10de, 0x2786, true, 0);
	add_dev(&vms[1], 0x10de, 0x22bc, false, 0);
	add_dev(&vms[1], 0x10de, 0x1db1, true, 1);
	seed_vm(&vms[2], d3);			/* the seed again */
	for (int i = 0; i < 3; i++)
		plan(&vms[i]);
	buf_init(&b);
	assert_int_equal(kubevirt_permitted_render(vms, 3, &b), 0);
	docs_load(&ds, b.data);
	assert_int_equal(ds.n, 1);
	d = &ds.d[0];
	assert_string_equal(S(d, "apiVersion"), "kubevirt.io/v1");
	assert_string_equal(S(d, "kind"), "KubeVirt");
	assert_string_equal(S(d, "metadata", "name"), "kubevirt");
	assert_string_equal(S(d, "metadata", "namespace"), "kubevirt");
#define PCI "spec", "configuration", "permittedHostDevices", "pciHostDevices"
	list = get(d, PCI, NULL);
	assert_int_equal(seq_len(list), 3);	/* 1db1 once */
	assert_string_equal(S(d, PCI, "#0", "pciVendorSelector"), "10DE:1DB1");
	assert_string_equal(S(d, PCI, "#0", "resourceName"),
			    "nvidia.com/GV100GL_TESLA_V100_SXM2_16GB");
	assert_string_equal(S(d, PCI, "#1", "pciVendorSelector"), "10DE:22BC");
	assert_string_equal(S(d, PCI, "#1", "resourceName"),
			    "nvidia.com/AD104_HDMI_AUDIO");
	assert_string_equal(S(d, PCI, "#2", "pciVendorSelector"), "10DE:2786");
	assert_string_equal(S(d, PCI, "#2", "resourceName"),
			    "nvidia.com/AD104_GEFORCE_RTX_4070");
#define GATES "spec", "configuration", "developerConfiguration", "featureGates"
	assert_int_equal(seq_len(get(d, GATES, NULL)), 2);
	assert_string_equal(S(d, GATES, "#0"), "GPU");
	assert_string_equal(S(d, GATES, "#1"), "HostDevices");
	docs_free(&ds);

	/* a VM with NUMA cells adds CPUManager and NUMA */
	vms[2].cells = &cell;
	vms[2].ncells = 1;
	plan(&vms[2]);
	b.len = 0;
	assert_int_equal(kubevirt_permitted_render(vms, 3, &b), 0);
	docs_load(&ds, b.data);
	d = &ds.d[0];
	assert_int_equal(seq_len(get(d, GATES, NULL)), 4);
	assert_string_equal(S(d, GATES, "#0"), "CPUManager");
	assert_string_equal(S(d, GATES, "#3"), "NUMA");
	docs_free(&ds);
	buf_release(&b);
	for (int i = 0; i < 3; i++)
		vm_done(&vms[i]);
}

/* ---- python3-yaml: the types kubectl's reader gives --------------------- */

static void test_python_yaml(void **state)
{
	static const char script[] =
		"import sys, yaml\n"
		"docs = list(yaml.safe_load_all(open(sys.argv[1])))\n"
		"vm = docs[-1]; d = vm['spec']['template']['spec']['domain']\n"
		"print(len(docs), type(d['cpu']['cores']).__name__, d['cpu']['cores'],\n"
		"      d['firmware']['bootloader']['efi']['secureBoot'],\n"
		"      d['memory']['guest'], d['resources']['requests']['memory'],\n"
		"      len(d['devices']['gpus']))\n"
		"p = yaml.safe_load(open(sys.argv[2]))\n"
		"for e in p['spec']['configuration']['permittedHostDevices']['pciHostDevices']:\n"
		"    print(type(e['pciVendorSelector']).__name__, e['pciVendorSelector'], e['resourceName'])\n";
	struct pf_vm_pcidev devs[4];
	struct pf_plan_vm vm;
	struct pf_buf b;
	char out[512];
	size_t n;
	char *y;
	FILE *fp;

	/* a missing python3-yaml (scripts/deps.sh) fails the test */
	assert_int_equal(system("python3 -c 'import yaml'"), 0);
	seed_vm(&vm, devs);
	cloudinit_of(&vm, 2049, false);
	y = render(&vm);
	fixture_write_file("vm.yaml", y);
	free(y);
	buf_init(&b);
	assert_int_equal(kubevirt_permitted_render(&vm, 1, &b), 0);
	fixture_write_file("permitted.yaml", b.data);
	buf_release(&b);
	fixture_write_file("check.py", script);
	fp = popen("python3 check.py vm.yaml permitted.yaml", "r");
	assert_non_null(fp);
	n = fread(out, 1, sizeof(out) - 1, fp);
	out[n] = '\0';
	assert_int_equal(pclose(fp), 0);
	assert_string_equal(out,
			    "2 int 32 False 128Gi 132868Mi 4\n"
			    "str 10DE:1DB1 nvidia.com/GV100GL_TESLA_V100_SXM2_16GB\n");
	vm_done(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_resource_builtin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resource_pci_ids, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resource_every_card_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overhead_seed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overhead_parts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_explain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_seed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_consumer_numa_bios, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_needs_containerdisk, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_needs_plan, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cloudinit_inline_2048, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cloudinit_secret_2049, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrecy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vm_deterministic, setup, teardown),
		cmocka_unit_test_setup_teardown(test_permitted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_python_yaml, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
