/* OUT/vms/<vm>/vm.yaml: the KubeVirt VirtualMachine, with the memory
 * overhead breakdown as a leading comment (libyaml cannot emit comments),
 * and, when the plan put the cloud-init payload in a Secret, that Secret
 * ahead of the VM. All of it as plan_kubevirt decided. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "pxeforge/lib/units.h"
#include "pxeforge/lib/yaml_emit.h"
#include "pxeforge/render/render_vm.h"

/* A Kubernetes quantity: "128Gi", "1536Mi", bytes otherwise. */
static void quantity(uint64_t v, char *s, size_t n)
{
	if (v && v % PF_GI == 0)
		snprintf(s, n, "%" PRIu64 "Gi", v / PF_GI);
	else if (v && v % PF_MI == 0)
		snprintf(s, n, "%" PRIu64 "Mi", v / PF_MI);
	else
		snprintf(s, n, "%" PRIu64, v);
}

/* Requests in Mi always, so the exact figure reads the same everywhere. */
static void quantity_mi(uint64_t v, char *s, size_t n)
{
	snprintf(s, n, "%" PRIu64 "Mi", (v + PF_MI - 1) / PF_MI);
}

static int comment(const struct pf_plan_vm *vm, struct pf_buf *out)
{
	struct pf_buf text;
	int rc;

	buf_init(&text);
	rc = kubevirt_explain_render(vm, &text);
	for (const char *p = text.data; !rc && p && *p;) {
		size_t len = strcspn(p, "\n");

		rc = buf_printf(out, "# %.*s\n", (int)len, p);
		p += len + (p[len] == '\n');
	}
	buf_release(&text);
	return rc;
}

static void emit_secret(struct pf_yaml *y, const char *name,
			const struct pf_nocloud *nc)
{
	yaml_emit_map_open(y);
	yaml_emit_pair(y, "apiVersion", "v1");
	yaml_emit_pair(y, "kind", "Secret");
	yaml_emit_str(y, "metadata");
	yaml_emit_map_open(y);
	yaml_emit_pair(y, "name", name);
	yaml_emit_map_close(y);
	yaml_emit_pair(y, "type", "Opaque");
	/* the keys KubeVirt reads from a NoCloud secret */
	yaml_emit_str(y, "stringData");
	yaml_emit_map_open(y);
	yaml_emit_pair(y, "userdata", nc->user_data.data);
	if (nc->network_config.len)
		yaml_emit_pair(y, "networkdata", nc->network_config.data);
	yaml_emit_map_close(y);
	yaml_emit_map_close(y);
}

static void emit_cpu(struct pf_yaml *y, const struct pf_plan_vm *vm)
{
	char n[16];

	yaml_emit_str(y, "cpu");
	yaml_emit_map_open(y);
	snprintf(n, sizeof(n), "%u", vm->kubevirt.cores);
	yaml_emit_str(y, "cores");
	yaml_emit_plain(y, n);
	yaml_emit_str(y, "sockets");
	yaml_emit_plain(y, "1");
	yaml_emit_str(y, "threads");
	yaml_emit_plain(y, "1");
	yaml_emit_pair(y, "model", "host-passthrough");
	if (vm->kubevirt.dedicated_cpus) {
		/* the profile's host pinning and cells, as KubeVirt's CPU
		 * manager takes them: follow the host's NUMA layout */
		yaml_emit_str(y, "dedicatedCpuPlacement");
		yaml_emit_plain(y, "true");
		yaml_emit_str(y, "numa");
		yaml_emit_map_open(y);
		yaml_emit_str(y, "guestMappingPassthrough");
		yaml_emit_map_open(y);
		yaml_emit_map_close(y);
		yaml_emit_map_close(y);
	}
	yaml_emit_map_close(y);
}

static void emit_firmware(struct pf_yaml *y, const struct pf_plan_vm *vm)
{
	yaml_emit_str(y, "firmware");
	yaml_emit_map_open(y);
	yaml_emit_str(y, "bootloader");
	yaml_emit_map_open(y);
	if (vm->firmware == PF_FIRMWARE_BIOS) {
		yaml_emit_str(y, "bios");
		yaml_emit_map_open(y);
		yaml_emit_map_close(y);
	} else {
		yaml_emit_str(y, "efi");
		yaml_emit_map_open(y);
		yaml_emit_str(y, "secureBoot");
		yaml_emit_plain(y, "false");
		yaml_emit_map_close(y);
	}
	yaml_emit_map_close(y);
	yaml_emit_map_close(y);
}

static void emit_memory(struct pf_yaml *y, const struct pf_plan_vm *vm)
{
	const struct pf_kv_resources *kv = &vm->kubevirt;
	char q[32];

	yaml_emit_str(y, "memory");
	yaml_emit_map_open(y);
	quantity(vm->memory_bytes, q, sizeof(q));
	yaml_emit_pair(y, "guest", q);
	if (kv->hugepage) {
		quantity(kv->hugepage, q, sizeof(q));
		yaml_emit_str(y, "hugepages");
		yaml_emit_map_open(y);
		yaml_emit_pair(y, "pageSize", q);
		yaml_emit_map_close(y);
	}
	yaml_emit_map_close(y);
	yaml_emit_str(y, "resources");
	yaml_emit_map_open(y);
	yaml_emit_str(y, "requests");
	yaml_emit_map_open(y);
	quantity_mi(kv->requested, q, sizeof(q));
	yaml_emit_pair(y, "memory", q);
	yaml_emit_map_close(y);
	yaml_emit_map_close(y);
}

/* gpus[] for the GPUs, hostDevices[] for their other functions. */
static int emit_pci(struct pf_yaml *y, const struct pf_plan_vm *vm, bool gpus)
{
	char name[32];
	size_t k = 0;
	int rc = 0;

	yaml_emit_str(y, gpus ? "gpus" : "hostDevices");
	yaml_emit_seq_open(y, false);
	for (size_t i = 0; i < vm->ndevs && !rc; i++) {
		const struct pf_vm_pcidev *d = &vm->devs[i];

		if (d->gpu != gpus)
			continue;
		if (!d->resource) {
			rc = -EINVAL;	/* plan names every device */
			break;
		}
		snprintf(name, sizeof(name), "%s%zu", gpus ? "gpu" : "hostdev",
			 k++);
		yaml_emit_map_open(y);
		yaml_emit_pair(y, "name", name);
		yaml_emit_pair(y, "deviceName", d->resource);
		yaml_emit_map_close(y);
	}
	yaml_emit_seq_close(y);
	return rc;
}

static void emit_disk(struct pf_yaml *y, const char *name)
{
	yaml_emit_map_open(y);
	yaml_emit_pair(y, "name", name);
	yaml_emit_str(y, "disk");
	yaml_emit_map_open(y);
	yaml_emit_pair(y, "bus", "virtio");
	yaml_emit_map_close(y);
	yaml_emit_map_close(y);
}

static int emit_devices(struct pf_yaml *y, const struct pf_plan_vm *vm)
{
	bool companions = false;
	int rc;

	for (size_t i = 0; i < vm->ndevs; i++)
		companions = companions || !vm->devs[i].gpu;
	yaml_emit_str(y, "devices");
	yaml_emit_map_open(y);
	rc = emit_pci(y, vm, true);
	if (!rc && companions)
		rc = emit_pci(y, vm, false);
	yaml_emit_str(y, "disks");
	yaml_emit_seq_open(y, false);
	emit_disk(y, "containerdisk");
	if (vm->cloudinit.enabled)
		emit_disk(y, "cloudinitdisk");
	yaml_emit_seq_close(y);
	yaml_emit_map_close(y);
	return rc;
}

static void emit_ref(struct pf_yaml *y, const char *key, const char *name)
{
	yaml_emit_str(y, key);
	yaml_emit_map_open(y);
	yaml_emit_pair(y, "name", name);
	yaml_emit_map_close(y);
}

static void emit_volumes(struct pf_yaml *y, const struct pf_plan_vm *vm)
{
	const struct pf_nocloud *nc = &vm->cloudinit.payload;
	const char *secret = vm->kubevirt.cloudinit_secret;

	yaml_emit_str(y, "volumes");
	yaml_emit_seq_open(y, false);
	yaml_emit_map_open(y);
	yaml_emit_pair(y, "name", "containerdisk");
	yaml_emit_str(y, "containerDisk");
	yaml_emit_map_open(y);
	yaml_emit_pair(y, "image", vm->containerdisk);
	yaml_emit_map_close(y);
	yaml_emit_map_close(y);
	if (vm->cloudinit.enabled) {
		yaml_emit_map_open(y);
		yaml_emit_pair(y, "name", "cloudinitdisk");
		yaml_emit_str(y, "cloudInitNoCloud");
		yaml_emit_map_open(y);
		if (secret) {
			/* KubeVirt reads the "userdata" key for secretRef
			 * and "networkdata" for networkDataSecretRef. */
			emit_ref(y, "secretRef", secret);
			if (nc->network_config.len)
				emit_ref(y, "networkDataSecretRef", secret);
		} else {
			yaml_emit_pair(y, "userData", nc->user_data.data);
			if (nc->network_config.len)
				yaml_emit_pair(y, "networkData",
					       nc->network_config.data);
		}
		yaml_emit_map_close(y);
		yaml_emit_map_close(y);
	}
	yaml_emit_seq_close(y);
}

static int emit_vm(struct pf_yaml *y, const struct pf_plan_vm *vm)
{
	int rc;

	yaml_emit_map_open(y);
	yaml_emit_pair(y, "apiVersion", "kubevirt.io/v1");
	yaml_emit_pair(y, "kind", "VirtualMachine");
	yaml_emit_str(y, "metadata");
	yaml_emit_map_open(y);
	yaml_emit_pair(y, "name", vm->name);
	yaml_emit_map_close(y);
	yaml_emit_str(y, "spec");
	yaml_emit_map_open(y);
	/* Always: applying the file runs the VM, and KubeVirt restarts it
	 * after a crash or a node reboot, as the netbooted host itself. */
	yaml_emit_pair(y, "runStrategy", "Always");
	yaml_emit_str(y, "template");
	yaml_emit_map_open(y);
	yaml_emit_str(y, "metadata");
	yaml_emit_map_open(y);
	yaml_emit_str(y, "labels");
	yaml_emit_map_open(y);
	yaml_emit_pair(y, "kubevirt.io/vm", vm->name);
	yaml_emit_map_close(y);
	yaml_emit_map_close(y);
	yaml_emit_str(y, "spec");
	yaml_emit_map_open(y);
	yaml_emit_str(y, "domain");
	yaml_emit_map_open(y);
	emit_cpu(y, vm);
	yaml_emit_str(y, "machine");
	yaml_emit_map_open(y);
	yaml_emit_pair(y, "type", "q35");
	yaml_emit_map_close(y);
	emit_firmware(y, vm);
	if (vm->hide_hypervisor) {
		/* consumer NVIDIA drivers refuse to start under a hypervisor */
		yaml_emit_str(y, "features");
		yaml_emit_map_open(y);
		yaml_emit_str(y, "kvm");
		yaml_emit_map_open(y);
		yaml_emit_str(y, "hidden");
		yaml_emit_plain(y, "true");
		yaml_emit_map_close(y);
		yaml_emit_map_close(y);
	}
	emit_memory(y, vm);
	rc = emit_devices(y, vm);
	yaml_emit_map_close(y);	/* domain */
	emit_volumes(y, vm);
	yaml_emit_map_close(y);	/* template.spec */
	yaml_emit_map_close(y);	/* template */
	yaml_emit_map_close(y);	/* spec */
	yaml_emit_map_close(y);
	return rc;
}

int kubevirt_vm_render(const struct pf_plan_vm *vm, struct pf_buf *out)
{
	const char *secret = vm->kubevirt.cloudinit_secret;
	struct pf_yaml y;
	int rc, erc;

	if (!vm->name || !vm->containerdisk ||
	    (vm->cloudinit.enabled && !vm->cloudinit.payload.user_data.data))
		return -EINVAL;	/* not planned */
	rc = comment(vm, out);
	if (rc)
		return rc;
	if (vm->cloudinit.enabled && secret) {
		yaml_emit_begin(&y, out);
		emit_secret(&y, secret, &vm->cloudinit.payload);
		rc = yaml_emit_end(&y);
		if (!rc)
			rc = buf_puts(out, "---\n");
		if (rc)
			return rc;
	}
	yaml_emit_begin(&y, out);
	rc = emit_vm(&y, vm);
	erc = yaml_emit_end(&y);
	return rc ? rc : erc;
}

/* ---- the explanation ---------------------------------------------------- */

/* "256 Mi", or "2000 Ki" when not whole Mi, or bytes. */
static void amount(uint64_t v, char *s, size_t n)
{
	if (v % PF_MI == 0)
		snprintf(s, n, "%" PRIu64 " Mi", v / PF_MI);
	else if (v % PF_KI == 0)
		snprintf(s, n, "%" PRIu64 " Ki", v / PF_KI);
	else
		snprintf(s, n, "%" PRIu64 " B", v);
}

static int line(struct pf_buf *out, const char *part, const char *how,
		uint64_t v)
{
	char a[32];

	amount(v, a, sizeof(a));
	return buf_printf(out, "  %-15s %-44s %12s\n", part, how, a);
}

int kubevirt_explain_render(const struct pf_plan_vm *vm, struct pf_buf *out)
{
	const struct pf_kv_resources *kv = &vm->kubevirt;
	const struct pf_kv_overhead *o = &kv->overhead;
	char how[96], guest[32], page[32];
	int rc;

	if (!vm->name || !kv->cores)
		return -EINVAL;	/* not planned */
	amount(vm->memory_bytes, guest, sizeof(guest));
	rc = buf_printf(out,
			"%s: memory for KubeVirt's virt-launcher besides the guest\n"
			"(KubeVirt GetMemoryOverhead, pkg/hypervisor/kvm/launcherhypervisorresources.go)\n",
			vm->name);
	snprintf(how, sizeof(how), "guest / 512 = %s / 512", guest);
	if (!rc)
		rc = line(out, "page tables", how, o->pagetables);
	if (!rc)
		rc = line(out, "fixed", "monitor 25 + launcher 100 + virtlogd 25 +",
			  o->fixed);
	if (!rc)
		rc = buf_printf(out, "  %-15s %s\n", "",
				"virtqemud 40 + qemu 30 (Mi)");
	snprintf(how, sizeof(how), "8 Mi x %u vCPUs", kv->cores);
	if (!rc)
		rc = line(out, "vCPUs", how, o->vcpus);
	if (!rc)
		rc = line(out, "IOThread", "fixed", o->iothreads);
	if (!rc)
		rc = line(out, "video", "VGA console (autoattachGraphicsDevice)",
			  o->video);
	snprintf(how, sizeof(how), "1 Gi with VFIO devices (%zu here)",
		 vm->ndevs);
	if (!rc)
		rc = line(out, "VFIO", how, o->vfio);
	if (!rc)
		rc = line(out, "dedicated CPUs",
			  o->dedicated ? "100 Mi with dedicatedCpuPlacement" :
					"100 Mi only with dedicatedCpuPlacement",
			  o->dedicated);
	if (!rc)
		rc = line(out, "overhead", "sum of the above", o->total);
	if (!rc)
		rc = line(out, "guest", "memory.guest", vm->memory_bytes);
	if (kv->hugepage) {
		snprintf(page, sizeof(page), "%s",
			 kv->hugepage == PF_GI ? "1 Gi" : "2 Mi");
		snprintf(how, sizeof(how),
			 "guest + overhead, up to whole %s pages", page);
	} else {
		snprintf(how, sizeof(how), "guest + overhead, up to whole Mi");
	}
	if (!rc)
		rc = line(out, "requested", how, kv->requested);
	if (!rc)
		rc = buf_puts(out,
			      "KubeVirt adds its own overhead to the requested memory once more\n"
			      "for the pod: a margin of the size above.\n");
	return rc;
}
