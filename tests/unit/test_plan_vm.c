/* vms[]: profile text -> parse -> validate -> plan, as the CLI does, and
 * what struct pf_plan_vm holds: devices by card with their companion
 * functions, sizes, firmware, disk, NUMA cells, pins, cloud-init; and
 * every error with its place. quantity_parse and cpuset_parse directly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pxeforge/lib/diag.h"
#include "pxeforge/lib/secret.h"
#include "pxeforge/lib/sshkey.h"
#include "pxeforge/plan/cloudinit.h"
#include "pxeforge/plan/plan.h"
#include "pxeforge/plan/vm.h"
#include "pxeforge/profile/profile.h"

#include "pxeforge/validate/values.h"

#include "planfix.h"

static const char pci_ids[] =
	"1002  Advanced Micro Devices, Inc. [AMD/ATI]\n"
	"\t744c  Navi 31 [Radeon RX 7900 XT/7900 XTX]\n"
	"10de  NVIDIA Corporation\n"
	"\t1ad7  TU104 USB 3.1 Host Controller\n"
	"C 00  Unclassified device\n";

static int setup(void **state)
{
	struct ctx *c = planfix_enter("planvm", pci_ids);

	if (!c)
		return -1;
	fixture_write_file("nixos.qcow2", "not really an image\n");
	if (secret_create("k.key") != 0)
		return -1;
	*state = c;
	return 0;
}

static const struct pf_plan_vm *vm_find(const struct pf_plan *plan,
					const char *name)
{
	const struct pf_plan_vm *vm = plan_vm_find(plan, name);

	if (!vm)
		fail_msg("no VM '%s' in the plan", name);
	return vm;
}

static const struct pf_plan_vm *build_ok(struct ctx *c, const char *text,
					 const char *vm)
{
	assert_string_equal(build(c, text), "");
	assert_int_equal(c->rc, 0);
	return vm_find(c->plan, vm);
}

/* Lines 1-24: host ws with two RTX 4070 cards (the second with a USB
 * function listed before its audio) and a GPU the host keeps. */
#define HOSTS \
	"version: 1\n" \
	"cluster_secret: k.key\n" \
	"hosts:\n" \
	"  - name: ws\n" \
	"    macs: [\"9c:6b:00:21:4f:3a\"]\n" \
	"    cpu: amd\n" \
	"    gpus:\n" \
	"      - address: \"0000:0b:00.0\"\n" \
	"        id: \"10de:2786\"\n" \
	"        role: vfio\n" \
	"        functions:\n" \
	"          - address: \"0000:0b:00.1\"\n" \
	"            id: \"10de:22bc\"\n" \
	"      - address: \"0000:0c:00.0\"\n" \
	"        id: \"10de:2786\"\n" \
	"        role: vfio\n" \
	"        functions:\n" \
	"          - address: \"0000:0c:00.3\"\n" \
	"            id: \"10de:1ad7\"\n" \
	"          - address: \"0000:0c:00.1\"\n" \
	"            id: \"10de:22bc\"\n" \
	"      - address: \"0000:0d:00.0\"\n" \
	"        id: \"1002:744c\"\n" \
	"        role: host\n"

/* Lines 25-31: a valid VM; tests append keys or write their own. */
#define VM_HEAD \
	"vms:\n" \
	"  - name: gpu-vm\n" \
	"    host: ws\n"
#define VM_REST \
	"    vcpus: 8\n" \
	"    memory: 16Gi\n" \
	"    disk: { image: nixos.qcow2 }\n"
#define VM_ONE VM_HEAD "    gpus: all\n" VM_REST

static void assert_dev(const struct pf_vm_pcidev *v, const char *addr,
		       uint16_t vendor, uint16_t device, bool gpu, size_t card,
		       const char *model)
{
	char *want;

	assert_string_equal(v->address, addr);
	assert_int_equal(v->vendor, vendor);
	assert_int_equal(v->device, device);
	assert_int_equal(v->gpu, gpu);
	assert_int_equal(v->card, card);
	assert_non_null(v->model);
	assert_string_equal(v->model, model);
	/* the one naming rule, for KubeVirt */
	want = kubevirt_resource_name(vendor, device);
	assert_non_null(v->resource);
	assert_string_equal(v->resource, want);
	free(want);
}

static void good_vm_fully_planned(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_vm *v = build_ok(c, HOSTS
		"defaults:\n"
		"  cloud_init:\n"
		"    ssh_authorized_keys: [\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH2wm7QqTanHIO1uKo+GAb343G8aH9hi0A2R/M3nMLVI me\"]\n"
		"    network: { addresses: [10.0.0.21/24] }\n"
		VM_HEAD
		"    gpus: [\"0000:0c:00.0\", \"0000:0B:00.0\"]\n"
		"    vcpus: 8\n"
		"    memory: 16Gi\n"
		"    consumer_gpu: true\n"
		"    disk:\n"
		"      image: nixos.qcow2\n"
		"      containerdisk: registry.lab.example/nixos-gpu:24.11\n"
		"    cloud_init:\n"
		"      k3s: { server: \"https://10.0.0.1:6443\" }\n"
		"    numa:\n"
		"      - { cpus: 0-3, memory: 8Gi, host_node: 1 }\n"
		"      - { cpus: \"4,5-7\", memory: 8192Mi }\n"
		"    pinning:\n"
		"      - { vcpus: 4-7, host_cpus: \"20,22,24,26\" }\n"
		"      - { vcpus: 0-3, host_cpus: 8-11 }\n", "gpu-vm");
	unsigned char key[PF_SECRET_LEN], seed[32];
	char *priv = NULL, *pub = NULL;
	static const unsigned want_host[] = { 8, 9, 10, 11, 20, 22, 24, 26 };

	assert_int_equal(c->plan->nvms, 1);
	assert_ptr_equal(v->host, plan_host_find(c->plan, "ws"));
	assert_ptr_equal(v->vm, &c->p->vms[0]);
	/* cards in the order written, each GPU then its functions by address */
	assert_int_equal(v->ncards, 2);
	assert_int_equal(v->ndevs, 5);
	assert_dev(&v->devs[0], "0000:0c:00.0", 0x10de, 0x2786, true, 0,
		   "GeForce RTX 4070");
	assert_dev(&v->devs[1], "0000:0c:00.1", 0x10de, 0x22bc, false, 0,
		   "AD104 HDMI audio");
	assert_dev(&v->devs[2], "0000:0c:00.3", 0x10de, 0x1ad7, false, 0,
		   "TU104 USB 3.1 Host Controller");
	assert_dev(&v->devs[3], "0000:0b:00.0", 0x10de, 0x2786, true, 1,
		   "GeForce RTX 4070");
	assert_dev(&v->devs[4], "0000:0b:00.1", 0x10de, 0x22bc, false, 1,
		   "AD104 HDMI audio");
	assert_int_equal(v->devs[2].bus, 0x0c);
	assert_int_equal(v->devs[2].fn, 3);
	assert_int_equal(v->vcpus, 8);
	assert_int_equal(v->memory_bytes, UINT64_C(16) << 30);
	assert_int_equal(v->firmware, PF_FIRMWARE_UEFI);
	assert_true(v->hide_hypervisor);
	/* disk */
	assert_string_equal(v->disk_source, "nixos.qcow2");
	assert_false(v->disk_source_is_url);
	assert_null(v->disk_sha256);
	assert_int_equal(v->disk_format, PF_DISK_QCOW2);
	assert_string_equal(v->disk_file, "disk.qcow2");
	assert_string_equal(v->libvirt_disk_path,
			    "/var/lib/libvirt/images/gpu-vm.qcow2");
	assert_string_equal(v->containerdisk,
			    "registry.lab.example/nixos-gpu:24.11");
	assert_true(v->build_containerdisk);
	/* cells */
	assert_int_equal(v->ncells, 2);
	assert_int_equal(v->cells[0].id, 0);
	assert_string_equal(v->cells[0].cpus, "0-3");
	assert_int_equal(v->cells[0].memory_bytes, UINT64_C(8) << 30);
	assert_int_equal(v->cells[0].host_node, 1);
	assert_int_equal(v->cells[1].id, 1);
	assert_string_equal(v->cells[1].cpus, "4,5-7");
	assert_int_equal(v->cells[1].memory_bytes, UINT64_C(8) << 30);
	assert_int_equal(v->cells[1].host_node, -1);
	/* pins: expanded, paired in ascending order, sorted by vCPU */
	assert_int_equal(v->npins, 8);
	for (unsigned i = 0; i < 8; i++) {
		assert_int_equal(v->pins[i].vcpu, i);
		assert_int_equal(v->pins[i].host_cpu, want_host[i]);
	}
	/* cloud-init: the defaults' keys, the VM's k3s; no network, no seed */
	assert_true(v->cloudinit.enabled);
	assert_string_equal(v->cloudinit.hostname, "gpu-vm");
	assert_int_equal(v->cloudinit.authorized_keys.n, 1);
	assert_true(v->cloudinit.k3s);
	assert_int_equal(v->cloudinit.k3s_role, PF_K3S_AGENT);
	assert_string_equal(v->cloudinit.k3s_server, "https://10.0.0.1:6443");
	assert_true(v->cloudinit.gpu_runtime);
	assert_false(v->cloudinit.network);
	assert_null(v->cloudinit.mac);
	assert_null(v->cloudinit.seed_url);
	/* identity from the cluster secret and the VM's name */
	assert_int_equal(secret_load("k.key", key), 0);
	assert_int_equal(secret_derive(key, PF_LABEL_SSH_HOST_KEY, "gpu-vm",
				       seed), 0);
	assert_int_equal(sshkey_ed25519(seed, "gpu-vm", &priv, &pub), 0);
	assert_string_equal(v->cloudinit.ssh_public, pub);
	assert_int_equal(secret_derive(key, PF_LABEL_K3S_PASSWORD, "gpu-vm",
				       seed), 0);
	assert_non_null(v->cloudinit.node_password);
	assert_int_equal(strlen(v->cloudinit.node_password), 64);
	for (int i = 0; i < 32; i++) {
		char hex[3];

		snprintf(hex, sizeof(hex), "%02x", seed[i]);
		assert_memory_equal(v->cloudinit.node_password + 2 * i, hex, 2);
	}
	/* the host's own plan is untouched by its VM */
	assert_true(plan_host_find(c->plan, "ws")->cloudinit.network);
	free(priv);
	free(pub);
}

static void defaults_and_disk_variants(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_vm *v;

	/* gpus: all takes the host's vfio GPUs in host order; no cloud_init */
	build_ok(c, HOSTS
		"  - name: hgx\n"
		"    macs: [\"9c:6b:00:21:4f:3c\"]\n"
		"    cpu: intel\n"
		"    gpus:\n"
		"      - { address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio }\n"
		"      - { address: \"0000:1b:00.0\", id: \"10de:1db1\", role: vfio }\n"
		"vms:\n"
		"  - name: a\n"
		"    host: ws\n"
		"    gpus: all\n"
		"    vcpus: 1\n"
		"    memory: 1024Ki\n"
		"    firmware: BIOS\n"
		"    consumer_gpu: false\n"
		"    disk:\n"
		"      image: https://images.example/nixos.qcow2?sig=1\n"
		"      sha256: 9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\n"
		"      libvirt_path: /srv/vm/a.img\n"
		"  - name: b\n"
		"    host: hgx\n"
		"    gpus: [\"0000:1b:00.0\"]\n"
		"    vcpus: 2\n"
		"    memory: 1Ti\n"
		"    disk: { containerdisk: \"registry.example/b:1\" }\n"
		"  - name: c\n"
		"    host: hgx\n"
		"    gpus: [\"0000:1a:00.0\"]\n"
		"    vcpus: 1024\n"
		"    memory: 2Gi\n"
		"    disk: { image: nixos.qcow2, format: raw }\n", "a");
	assert_int_equal(c->plan->nvms, 3);
	v = vm_find(c->plan, "a");
	assert_int_equal(v->ncards, 2);
	assert_int_equal(v->ndevs, 5);
	assert_string_equal(v->devs[0].address, "0000:0b:00.0");
	assert_string_equal(v->devs[2].address, "0000:0c:00.0");
	assert_int_equal(v->memory_bytes, UINT64_C(1) << 20);
	assert_int_equal(v->firmware, PF_FIRMWARE_BIOS);
	assert_false(v->hide_hypervisor);
	assert_true(v->disk_source_is_url);
	assert_string_equal(v->disk_source,
			    "https://images.example/nixos.qcow2?sig=1");
	assert_string_equal(v->disk_sha256,
			    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
	assert_int_equal(v->disk_format, PF_DISK_QCOW2);
	assert_string_equal(v->disk_file, "disk.qcow2");
	assert_string_equal(v->libvirt_disk_path, "/srv/vm/a.img");
	assert_null(v->containerdisk);
	assert_false(v->build_containerdisk);
	assert_int_equal(v->ncells, 0);
	assert_int_equal(v->npins, 0);
	assert_false(v->cloudinit.enabled);
	/* a containerDisk only: nothing to copy, nothing for libvirt */
	v = vm_find(c->plan, "b");
	assert_int_equal(v->memory_bytes, UINT64_C(1) << 40);
	assert_int_equal(v->firmware, PF_FIRMWARE_UEFI);
	assert_null(v->disk_source);
	assert_null(v->disk_file);
	assert_null(v->libvirt_disk_path);
	assert_string_equal(v->containerdisk, "registry.example/b:1");
	assert_false(v->build_containerdisk);
	assert_ptr_equal(v->host, plan_host_find(c->plan, "hgx"));
	assert_int_equal(v->ndevs, 1);
	assert_string_equal(v->devs[0].address, "0000:1b:00.0");
	assert_string_equal(v->devs[0].model, "Tesla V100 SXM2 16GB");
	/* format written wins over the extension */
	v = vm_find(c->plan, "c");
	assert_int_equal(v->vcpus, 1024);
	assert_int_equal(v->disk_format, PF_DISK_RAW);
	assert_string_equal(v->disk_file, "disk.raw");
	assert_string_equal(v->libvirt_disk_path,
			    "/var/lib/libvirt/images/c.raw");
}

static void cloud_init_overrides_and_gpu_runtime(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_vm *v;

	/* the defaults' cloud_init reaches a VM without its own; an AMD GPU
	 * needs no NVIDIA runtime; the VM's k3s keys override one by one */
	build_ok(c,
		"version: 1\n"
		"cluster_secret: k.key\n"
		"defaults:\n"
		"  cloud_init:\n"
		"    k3s: { server: \"https://10.0.0.1:6443\", containerd: 2 }\n"
		"hosts:\n"
		"  - name: amd\n"
		"    macs: [\"9c:6b:00:21:4f:3b\"]\n"
		"    cpu: amd\n"
		"    gpus: [{ address: \"0000:03:00.0\", id: \"1002:744c\", role: vfio }]\n"
		"vms:\n"
		"  - name: r\n"
		"    host: amd\n"
		"    gpus: all\n"
		"    vcpus: 4\n"
		"    memory: 8Gi\n"
		"    disk: { containerdisk: \"registry.example/r:1\" }\n"
		"    cloud_init:\n"
		"      k3s: { role: server }\n", "r");
	v = vm_find(c->plan, "r");
	assert_true(v->cloudinit.enabled);
	assert_true(v->cloudinit.k3s);
	assert_int_equal(v->cloudinit.k3s_role, PF_K3S_SERVER);
	assert_string_equal(v->cloudinit.k3s_server, "https://10.0.0.1:6443");
	assert_int_equal(v->cloudinit.containerd, 2);
	assert_false(v->cloudinit.gpu_runtime);
	assert_string_equal(v->devs[0].model,
			    "Navi 31 [Radeon RX 7900 XT/7900 XTX]");
	assert_non_null(v->cloudinit.node_password);
	/* not the host's: identities differ by name */
	assert_string_not_equal(v->cloudinit.node_password,
				plan_host_find(c->plan, "amd")->cloudinit.node_password);
}

/* The VM's lines (from line 25) after HOSTS; expect exactly want. */
static void expect(struct ctx *c, const char *vms, const char *want)
{
	char *text;

	assert_true(asprintf(&text, "%s%s", HOSTS, vms) > 0);
	build(c, text);
	free(text);
	assert_string_equal(c->out, want);
	assert_true(diag_errors(c->d) > 0);
}

static void unknown_keys_and_missing(void **state)
{
	struct ctx *c = *state;

	expect(c, VM_HEAD "    gpus: all\n" VM_REST "    consumer-gpu: true\n"
		  "    disks: {}\n",
	       "p.yaml:32:5: error: unknown key 'consumer-gpu' in VM (did you mean 'consumer_gpu'?)\n"
	       "p.yaml:33:5: error: unknown key 'disks' in VM (known keys: name, host, gpus, vcpus, memory, firmware, consumer_gpu, disk, cloud_init, numa, pinning)\n");
	expect(c, "vms:\n  - { nmae: x }\n",
	       "p.yaml:26:5: error: missing 'name' in VM\n"
	       "p.yaml:26:5: error: missing 'host' in VM '?' (the host whose vfio GPUs it takes)\n"
	       "p.yaml:26:5: error: missing 'gpus' in VM '?' ('all', or a list of the addresses of the host's vfio GPUs)\n"
	       "p.yaml:26:5: error: missing 'vcpus' in VM '?' (its number of virtual CPUs)\n"
	       "p.yaml:26:5: error: missing 'memory' in VM '?' (guest memory, e.g. '128Gi')\n"
	       "p.yaml:26:5: error: missing 'disk' in VM '?' (an 'image', a 'containerdisk' reference, or both)\n"
	       "p.yaml:26:7: error: unknown key 'nmae' in VM (did you mean 'name'?)\n");
	expect(c, "vms: {}\n",
	       "p.yaml:25:6: error: wrong type for 'vms': expected a list, got a mapping\n");
}

static void host_and_gpu_selection(void **state)
{
	struct ctx *c = *state;

	expect(c, VM_HEAD "    gpus: al\n" VM_REST,
	       "p.yaml:28:11: error: invalid gpus 'al' (expected 'all' or a list of the addresses of the host's vfio GPUs)\n");
	expect(c, "vms:\n  - name: v\n    host: wss\n    gpus: all\n" VM_REST,
	       "p.yaml:27:11: error: unknown host 'wss' for VM 'v' (did you mean 'ws'?)\n");
	expect(c, "vms:\n  - name: v\n    host: dgx-h200\n    gpus: all\n" VM_REST,
	       "p.yaml:27:11: error: unknown host 'dgx-h200' for VM 'v' (the profile's hosts: 'ws')\n");
	expect(c, VM_HEAD "    gpus: [\"0000:0d:00.0\", \"0000:0b:00.1\", \"0000:0c:01.0\", \"0000:1b:00.0\", \"0b:00.0\", \"0000:0c:00.0\", \"0000:0C:00.0\"]\n" VM_REST,
	       "p.yaml:28:12: error: GPU '0000:0d:00.0' of host 'ws' has role host: the host's driver keeps it; give it role vfio to hand it to a VM\n"
	       "p.yaml:28:28: error: '0000:0b:00.1' is a function of the GPU at '0000:0b:00.0', not a GPU; list the GPU, its functions go with it\n"
	       "p.yaml:28:44: error: no vfio GPU at '0000:0c:01.0' on host 'ws' (did you mean '0000:0c:00.0'?)\n"
	       "p.yaml:28:60: error: no vfio GPU at '0000:1b:00.0' on host 'ws' (did you mean '0000:0b:00.0'?)\n"
	       "p.yaml:28:76: error: invalid PCI address '0b:00.0' (expected domain:bus:device.function, e.g. '0000:1a:00.0')\n"
	       "p.yaml:28:103: error: GPU '0000:0C:00.0' is listed twice in VM 'gpu-vm'\n");
	expect(c, VM_HEAD "    gpus: [\"0000:ff:1f.7\"]\n" VM_REST,
	       "p.yaml:28:12: error: no vfio GPU at '0000:ff:1f.7' on host 'ws' (its vfio GPUs: '0000:0b:00.0', '0000:0c:00.0')\n");
	expect(c, VM_HEAD "    gpus: []\n" VM_REST,
	       "p.yaml:28:11: error: VM 'gpu-vm' takes no GPU (the vfio GPUs of host 'ws': '0000:0b:00.0', '0000:0c:00.0')\n");
	/* a GPU goes to one VM: reported at the second, all or listed */
	expect(c, VM_HEAD "    gpus: [\"0000:0c:00.0\"]\n" VM_REST
		  "  - name: b\n    host: ws\n    gpus: all\n" VM_REST
		  "  - name: c\n    host: ws\n    gpus: [\"0000:0c:00.0\"]\n" VM_REST,
	       "p.yaml:34:11: error: GPU '0000:0c:00.0' of host 'ws' is already taken by VM 'gpu-vm' (at p.yaml:28:12); a device goes to one VM\n"
	       "p.yaml:40:12: error: GPU '0000:0c:00.0' of host 'ws' is already taken by VM 'gpu-vm' (at p.yaml:28:12); a device goes to one VM\n");
}

static void host_without_vfio_gpu(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: plain\n"
		"    macs: [\"9c:6b:00:21:4f:3b\"]\n"
		"vms:\n"
		"  - name: v\n"
		"    host: plain\n"
		"    gpus: all\n"
		"    vcpus: 1\n"
		"    memory: 1Gi\n"
		"    disk: { containerdisk: x/y }\n"),
		"p.yaml:7:11: error: VM 'v' takes no GPU: host 'plain' has no GPU with role vfio\n");
}

static void names(void **state)
{
	struct ctx *c = *state;

	expect(c, "vms:\n  - name: ws\n    host: ws\n    gpus: all\n" VM_REST
		  "  - name: ws\n    host: ws\n    gpus: []\n" VM_REST
		  "  - name: \"a b\"\n    host: ws\n    gpus: []\n" VM_REST,
	       "p.yaml:26:11: error: VM name 'ws' is also a host's name (at p.yaml:4:11); a node's hostname and identity derive from its name\n"
	       "p.yaml:32:11: error: duplicate VM name 'ws' (first at p.yaml:26:11)\n"
	       "p.yaml:32:11: error: VM name 'ws' is also a host's name (at p.yaml:4:11); a node's hostname and identity derive from its name\n"
	       "p.yaml:34:11: error: VM 'ws' takes no GPU (the vfio GPUs of host 'ws': '0000:0b:00.0', '0000:0c:00.0')\n"
	       "p.yaml:38:11: error: invalid VM name 'a b' (letters, digits, '-', '_' and '.', starting with a letter or digit; it names a directory)\n"
	       "p.yaml:40:11: error: VM 'a b' takes no GPU (the vfio GPUs of host 'ws': '0000:0b:00.0', '0000:0c:00.0')\n");
}

static void scalars(void **state)
{
	struct ctx *c = *state;

	expect(c, VM_HEAD "    gpus: all\n"
		  "    vcpus: 32.5\n    memory: 128G\n    disk: { image: nixos.qcow2 }\n"
		  "    firmware: efi\n    consumer_gpu: yes\n",
	       "p.yaml:29:12: error: invalid vcpus '32.5' (expected a whole number from 1 to 1024)\n"
	       "p.yaml:30:13: error: invalid memory '128G' (expected a whole number and Ki, Mi, Gi or Ti, e.g. '128Gi')\n"
	       "p.yaml:32:15: error: unknown firmware 'efi' (did you mean 'uefi'?)\n"
	       "p.yaml:33:19: error: invalid consumer_gpu 'yes' (expected true or false)\n");
	expect(c, VM_HEAD "    gpus: all\n"
		  "    vcpus: 0\n    memory: 0Gi\n    disk: { image: nixos.qcow2 }\n"
		  "    firmware: [uefi]\n",
	       "p.yaml:29:12: error: invalid vcpus '0' (expected a whole number from 1 to 1024)\n"
	       "p.yaml:30:13: error: memory '0Gi' is zero\n"
	       "p.yaml:32:15: error: wrong type for 'firmware': expected a string, got a list\n");
	expect(c, VM_HEAD "    gpus: all\n"
		  "    vcpus: -1\n    memory: 512Ki\n    disk: { image: nixos.qcow2 }\n",
	       "p.yaml:29:12: error: invalid vcpus '-1' (expected a whole number from 1 to 1024)\n"
	       "p.yaml:30:13: error: memory '512Ki' is not a whole number of Mi (hypervisors size guest memory in MiB)\n");
	expect(c, VM_HEAD "    gpus: all\n"
		  "    vcpus: 1025\n    memory: 99999999999Ti\n    disk: { image: nixos.qcow2 }\n",
	       "p.yaml:29:12: error: invalid vcpus '1025' (expected a whole number from 1 to 1024)\n"
	       "p.yaml:30:13: error: memory '99999999999Ti' is too large\n");
}

static void disks(void **state)
{
	struct ctx *c = *state;

	expect(c, VM_HEAD "    gpus: all\n    vcpus: 1\n    memory: 1Gi\n"
		  "    disk: { libvirt_path: images/x.qcow2, format: vmdk }\n",
	       "p.yaml:31:11: error: disk of VM 'gpu-vm' has neither 'image' (a qcow2 or raw file or URL) nor 'containerdisk' (an image reference KubeVirt pulls); give one or both\n"
	       "p.yaml:31:27: error: invalid libvirt_path 'images/x.qcow2' (an absolute path on the hypervisor, without blanks)\n"
	       "p.yaml:31:51: error: unknown disk format 'vmdk' (expected 'qcow2' or 'raw')\n");
	expect(c, VM_HEAD "    gpus: all\n    vcpus: 1\n    memory: 1Gi\n"
		  "    disk:\n      image: https://x.example/n.qcow2\n"
		  "      containerdisk: docker://x/y:1\n",
	       "p.yaml:32:14: error: image 'https://x.example/n.qcow2' needs 'sha256': a download is used only when its hash matches\n"
	       "p.yaml:33:22: error: invalid containerdisk 'docker://x/y:1' (an image reference such as 'registry.example/nixos-gpu:24.11', no scheme or blanks)\n");
	expect(c, VM_HEAD "    gpus: all\n    vcpus: 1\n    memory: 1Gi\n"
		  "    disk:\n      image: missing.qcow2\n      sha256: abc\n",
	       "p.yaml:32:14: error: cannot read image 'missing.qcow2': No such file or directory\n"
	       "p.yaml:33:15: error: invalid sha256 'abc' (64 hex digits, as sha256sum prints)\n");
	expect(c, VM_HEAD "    gpus: all\n    vcpus: 1\n    memory: 1Gi\n"
		  "    disk: { image: ftp://x/y.raw, sha256: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 }\n",
	       "p.yaml:31:20: error: image 'ftp://x/y.raw' is neither an http:// or https:// URL nor a local path\n");
}

static void cloud_init_keys_a_vm_has_not(void **state)
{
	struct ctx *c = *state;

	expect(c, VM_ONE
		  "    cloud_init:\n"
		  "      seed: overlay\n"
		  "      seed_url: http://10.0.0.1/x\n"
		  "      network: { addresses: [10.0.0.9/24] }\n"
		  "      k3s: {}\n",
	       "p.yaml:33:7: error: 'seed' does not apply to VM 'gpu-vm': a VM's NoCloud seed is its cloud-init disk, which KubeVirt or libvirt attaches\n"
	       "p.yaml:34:7: error: 'seed_url' does not apply to VM 'gpu-vm': a VM's NoCloud seed is its cloud-init disk, which KubeVirt or libvirt attaches\n"
	       "p.yaml:35:7: error: 'network' does not apply to VM 'gpu-vm': its interface is the hypervisor's (KubeVirt's pod network, a libvirt network) and gets its address by DHCP\n"
	       "p.yaml:36:12: error: k3s agent on VM 'gpu-vm' needs 'server' (the URL of a k3s server, e.g. 'https://10.0.0.1:6443')\n");
}

static void numa_cells(void **state)
{
	struct ctx *c = *state;

	/* overlap, out of range, bad syntax, bad host_node */
	expect(c, VM_ONE
		  "    numa:\n"
		  "      - { cpus: 0-4, memory: 8Gi, host_node: x }\n"
		  "      - { cpus: 4-8, memory: 8Gi }\n"
		  "      - { cpus: \"3,\", memory: 1Gi }\n"
		  "      - { cpus: 5-6, memory: 1Gi }\n"
		  "      - { cpus: 1-1-2, memory: 1Gi }\n",
	       "p.yaml:33:46: error: invalid host_node 'x' (a host NUMA node number, e.g. 0)\n"
	       "p.yaml:34:17: error: numa cell cpus '4-8' names vCPU 8, but VM 'gpu-vm' has 8 vCPUs (0-7)\n"
	       "p.yaml:35:17: error: invalid numa cell cpus '3,' (expected CPU numbers and ranges without blanks, e.g. '0-15' or '0-7,16-23')\n"
	       "p.yaml:37:17: error: invalid numa cell cpus '1-1-2' (expected CPU numbers and ranges without blanks, e.g. '0-15' or '0-7,16-23')\n");
	expect(c, VM_ONE
		  "    numa:\n"
		  "      - { cpus: 0-4, memory: 8Gi }\n"
		  "      - { cpus: \"4,2\", memory: 8Gi }\n",
	       "p.yaml:34:17: error: vCPU 2 of VM 'gpu-vm' is in two numa cells (first at p.yaml:33:17)\n");
	/* not a partition, memory not the VM's */
	expect(c, VM_ONE
		  "    numa:\n"
		  "      - { cpus: \"0,2\", memory: 8Gi }\n"
		  "      - { cpus: 4-5, memory: 9Gi }\n",
	       "p.yaml:33:7: error: numa cells of VM 'gpu-vm' leave out vCPUs 1,3,6-7 (each of its 8 vCPUs belongs to exactly one cell)\n"
	       "p.yaml:33:7: error: numa cells of VM 'gpu-vm' hold 17Gi of memory, but the VM has 16Gi\n");
	expect(c, VM_ONE
		  "    numa:\n"
		  "      - { memory: 1Gi, cpu: 0-7 }\n"
		  "      - [0-7]\n",
	       "p.yaml:33:9: error: missing 'cpus' in numa cell (the guest's vCPUs in it, e.g. '0-15')\n"
	       "p.yaml:33:24: error: unknown key 'cpu' in numa cell (did you mean 'cpus'?)\n"
	       "p.yaml:34:9: error: wrong type for 'numa[]': expected a mapping, got a list\n");
}

static void pinning(void **state)
{
	struct ctx *c = *state;

	expect(c, VM_ONE
		  "    pinning:\n"
		  "      - { vcpus: 0-3, host_cpus: 0-2 }\n"
		  "      - { vcpus: 3-4, host_cpus: 8-9 }\n"
		  "      - { vcpus: 7-8, host_cpus: 8-9 }\n"
		  "      - { vcpus: 5, host_cpus: 8192 }\n"
		  "      - { vcpus: 6, host_cpus: \"1,1\" }\n"
		  "      - { vcpus: 6 }\n",
	       "p.yaml:33:9: error: pinning of VM 'gpu-vm' maps 4 vCPUs ('0-3') to 3 host CPUs ('0-2'); give as many of each, they pair one to one in ascending order\n"
	       "p.yaml:34:18: error: vCPU 3 of VM 'gpu-vm' is pinned twice (first at p.yaml:33:18)\n"
	       "p.yaml:35:18: error: pinning vcpus '7-8' names vCPU 8, but VM 'gpu-vm' has 8 vCPUs (0-7)\n"
	       "p.yaml:36:32: error: pinning host_cpus '8192' names CPU 8192; pxeforge knows hosts of up to 8192 CPUs\n"
	       "p.yaml:37:32: error: pinning host_cpus '1,1' lists CPU 1 twice\n"
	       "p.yaml:38:9: error: missing 'host_cpus' in pinning (the host CPUs they run on, e.g. '16-31')\n"
	       "p.yaml:38:18: error: vCPU 6 of VM 'gpu-vm' is pinned twice (first at p.yaml:37:18)\n");
}

static void k3s_in_vm_needs_secret(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: ws\n"
		"    macs: [\"9c:6b:00:21:4f:3a\"]\n"
		"    cpu: amd\n"
		"    gpus: [{ address: \"0000:03:00.0\", id: \"1002:744c\", role: vfio }]\n"
		"vms:\n"
		"  - name: v\n"
		"    host: ws\n"
		"    gpus: all\n"
		"    vcpus: 1\n"
		"    memory: 1Gi\n"
		"    disk: { containerdisk: x/y }\n"
		"    cloud_init: { k3s: { server: \"https://10.0.0.1:6443\" } }\n"),
		"p.yaml:13:24: error: k3s on VM 'v' needs a stable node password: set 'cluster_secret' (create one with 'pxeforge secret init')\n");
	assert_int_equal(c->rc, -EINVAL);
}

static void quantities(void **state)
{
	uint64_t b = 0;

	(void)state;
	assert_int_equal(quantity_parse("1Mi", &b), 0);
	assert_int_equal(b, UINT64_C(1) << 20);
	assert_int_equal(quantity_parse("3Ti", &b), 0);
	assert_int_equal(b, UINT64_C(3) << 40);
	assert_int_equal(quantity_parse("2048Ki", &b), 0);
	assert_int_equal(b, UINT64_C(2) << 20);
	assert_int_equal(quantity_parse("16777215Ti", &b), 0);
	assert_int_equal(quantity_parse("16777216Ti", &b), -EOVERFLOW);
	assert_int_equal(quantity_parse("99999999999999999999999Mi", &b), -EOVERFLOW);
	assert_int_equal(quantity_parse("1Ki", &b), -EDOM);
	assert_int_equal(quantity_parse("0Mi", &b), -ERANGE);
	static const char *const bad[] = { "", "Gi", "1", "1G", "1gi", "1 Gi",
					   "1.5Gi", "-1Gi", "+1Gi", "1Pi",
					   "1Gib", "0x10Gi" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(quantity_parse(bad[i], &b), -EINVAL);
}

static void cpusets(void **state)
{
	bool set[16];
	size_t n = 0;
	unsigned bad = 0;

	(void)state;
	assert_int_equal(cpuset_parse("0-3,8,10-11", 16, set, &n, &bad), 0);
	assert_int_equal(n, 7);
	assert_true(set[0] && set[3] && set[8] && set[11]);
	assert_false(set[4] || set[9] || set[12]);
	assert_int_equal(cpuset_parse("15", 16, set, &n, &bad), 0);
	assert_int_equal(n, 1);
	assert_false(set[0]);	/* cleared first */
	assert_int_equal(cpuset_parse("14-16", 16, set, &n, &bad), -ERANGE);
	assert_int_equal(bad, 16);
	assert_int_equal(cpuset_parse("99999999999", 16, set, &n, &bad), -ERANGE);
	assert_int_equal(cpuset_parse("1-3,2", 16, set, &n, &bad), -EEXIST);
	assert_int_equal(bad, 2);
	static const char *const syntax[] = { "", ",", "1,", ",1", "3-1",
					      "1-", "-1", "1 ,2", "1-2-3",
					      "a", "1;2" };
	for (size_t i = 0; i < sizeof(syntax) / sizeof(syntax[0]); i++)
		assert_int_equal(cpuset_parse(syntax[i], 16, set, &n, &bad),
				 -EINVAL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(good_vm_fully_planned),
		T(defaults_and_disk_variants),
		T(cloud_init_overrides_and_gpu_runtime),
		T(unknown_keys_and_missing),
		T(host_and_gpu_selection),
		T(host_without_vfio_gpu),
		T(names),
		T(scalars),
		T(disks),
		T(cloud_init_keys_a_vm_has_not),
		T(numa_cells),
		T(pinning),
		T(k3s_in_vm_needs_secret),
		cmocka_unit_test(quantities),
		cmocka_unit_test(cpusets),
	};

	return cmocka_run_group_tests_name("plan_vm", tests, NULL, NULL);
}
