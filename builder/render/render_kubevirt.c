/* OUT/vms/<vm>/vm.yaml: the KubeVirt VirtualMachine, with the memory
 * overhead breakdown as a leading comment (libyaml cannot emit comments),
 * and, when the cloud-init payload is too big to be inline, the Secret
 * holding it ahead of the VM. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/yaml_emit.h"
#include "pxeforge/plan/vm.h"

#define MI ((uint64_t)1024 * 1024)
#define GI (MI * 1024)

/* A Kubernetes quantity: "128Gi", "1536Mi", bytes otherwise. */
static void quantity(uint64_t v, char *s, size_t n)
{
	if (v && v % GI == 0)
		snprintf(s, n, "%" PRIu64 "Gi", v / GI);
	else if (v && v % MI == 0)
		snprintf(s, n, "%" PRIu64 "Mi", v / MI);
	else
		snprintf(s, n, "%" PRIu64, v);
}

/* Requests in Mi always, so the exact figure reads the same everywhere. */
static void quantity_mi(uint64_t v, char *s, size_t n)
{
	snprintf(s, n, "%" PRIu64 "Mi", (v + MI - 1) / MI);
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
	snprintf(n, sizeof(n), "%u", vm->vcpus ? vm->vcpus : 1);
	yaml_emit_str(y, "cores");
	yaml_emit_plain(y, n);
	yaml_emit_str(y, "sockets");
	yaml_emit_plain(y, "1");
	yaml_emit_str(y, "threads");
	yaml_emit_plain(y, "1");
	yaml_emit_pair(y, "model", "host-passthrough");
	if (kubevirt_dedicated_cpus(vm)) {
		/* KubeVirt places the vCPUs itself (CPU manager); the
		 * profile's host pinning and cells become "follow the host's
		 * NUMA layout", which needs dedicated CPUs and hugepages. */
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

static void emit_memory(struct pf_yaml *y, const struct pf_plan_vm *vm,
			const struct pf_kv_overhead *o)
{
	char q[32];

	yaml_emit_str(y, "memory");
	yaml_emit_map_open(y);
	quantity(vm->memory_bytes, q, sizeof(q));
	yaml_emit_pair(y, "guest", q);
	if (o->hugepage) {
		quantity(o->hugepage, q, sizeof(q));
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
	quantity_mi(o->requested, q, sizeof(q));
	yaml_emit_pair(y, "memory", q);
	yaml_emit_map_close(y);
	yaml_emit_map_close(y);
}

/* gpus[] for the GPUs, hostDevices[] for their other functions. */
static int emit_pci(struct pf_yaml *y, const struct pf_plan_vm *vm, bool gpus)
{
	char name[32];
	size_t k = 0;

	yaml_emit_str(y, gpus ? "gpus" : "hostDevices");
	yaml_emit_seq_open(y, false);
	for (size_t i = 0; i < vm->ndevs; i++) {
		const struct pf_vm_pcidev *d = &vm->devs[i];
		char *res;

		if (d->gpu != gpus)
			continue;
		res = d->resource ? NULL :
			kubevirt_resource_name(d->vendor, d->device);
		if (!d->resource && !res)
			return -ENOMEM;
		snprintf(name, sizeof(name), "%s%zu", gpus ? "gpu" : "hostdev",
			 k++);
		yaml_emit_map_open(y);
		yaml_emit_pair(y, "name", name);
		yaml_emit_pair(y, "deviceName", d->resource ? d->resource : res);
		yaml_emit_map_close(y);
		free(res);
	}
	yaml_emit_seq_close(y);
	return 0;
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

static void emit_volumes(struct pf_yaml *y, const struct pf_plan_vm *vm,
			 const struct pf_nocloud *nc, const char *secret)
{
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

static int emit_vm(struct pf_yaml *y, const struct pf_plan_vm *vm,
		   const struct pf_kv_overhead *o, const struct pf_nocloud *nc,
		   const char *secret)
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
	emit_memory(y, vm, o);
	rc = emit_devices(y, vm);
	yaml_emit_map_close(y);	/* domain */
	emit_volumes(y, vm, nc, secret);
	yaml_emit_map_close(y);	/* template.spec */
	yaml_emit_map_close(y);	/* template */
	yaml_emit_map_close(y);	/* spec */
	yaml_emit_map_close(y);
	return rc;
}

int kubevirt_vm_render(const struct pf_plan_vm *vm, struct pf_buf *out)
{
	struct pf_kv_overhead o;
	struct pf_nocloud nc;
	struct pf_yaml y;
	char *secret = NULL;
	int rc, erc;

	nocloud_init(&nc);
	if (!vm->name || !vm->containerdisk) {
		rc = -EINVAL;
		goto out;
	}
	kubevirt_overhead(vm, &o);
	if (kubevirt_dedicated_cpus(vm) && !o.hugepage) {
		rc = -EINVAL;	/* guest memory not a whole number of pages */
		goto out;
	}
	if (vm->cloudinit.enabled) {
		rc = nocloud_render(&vm->cloudinit, &nc);
		if (rc)
			goto out;
		if ((nc.user_data.len > PF_KV_INLINE_MAX ||
		     nc.network_config.len > PF_KV_INLINE_MAX) &&
		    asprintf(&secret, "%s-cloud-init", vm->name) < 0) {
			secret = NULL;
			rc = -ENOMEM;
			goto out;
		}
	}
	rc = comment(vm, out);
	if (rc)
		goto out;
	if (secret) {
		yaml_emit_begin(&y, out);
		emit_secret(&y, secret, &nc);
		rc = yaml_emit_end(&y);
		if (!rc)
			rc = buf_puts(out, "---\n");
		if (rc)
			goto out;
	}
	yaml_emit_begin(&y, out);
	rc = emit_vm(&y, vm, &o, &nc, secret);
	erc = yaml_emit_end(&y);
	rc = rc ? rc : erc;
out:
	free(secret);
	nocloud_release(&nc);
	return rc;
}
