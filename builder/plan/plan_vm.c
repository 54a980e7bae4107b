/* plan_vms: every decision for every VM — the PCI functions it takes,
 * sizes, firmware, disk names and paths, NUMA cells, vCPU pinning and
 * its cloud-init, for a validated profile. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pxeforge/lib/pciid.h"
#include "pxeforge/lib/strindex.h"
#include "pxeforge/plan/plan.h"
#include "pxeforge/plan/vm.h"
#include "pxeforge/validate/derive.h"
#include "pxeforge/validate/values.h"

#define LIBVIRT_IMAGES "/var/lib/libvirt/images"

/* gpu: the card's first function. KubeVirt lists GPUs in gpus[] and
 * everything else (an HDMI audio function, an NVSwitch) in hostDevices[]. */
static int dev_set(struct pf_vm_pcidev *v, const struct pf_pcifn *fn,
		   bool gpu, size_t card)
{
	struct pf_pci a = pcifn_read(fn);
	const struct pf_pci_card *c;

	snprintf(v->address, sizeof(v->address), "%04x:%02x:%02x.%x",
		 a.domain & 0xffff, a.bus & 0xff, a.dev & 0x1f, a.fn & 7);
	v->domain = a.domain;
	v->bus = a.bus;
	v->dev = a.dev;
	v->fn = a.fn;
	v->card = card;
	if (!a.id_ok)
		return 0;	/* no id given */
	v->vendor = a.vendor;
	v->device = a.device;
	v->model = pciid_name(a.vendor, a.device);
	c = pciid_card(a.vendor, a.device);
	v->gpu = gpu && (!c || !strcmp(c->kind, "gpu"));
	v->resource = kubevirt_resource_name(a.vendor, a.device);
	return v->resource ? 0 : -ENOMEM;
}

static int addr_cmp(const void *a, const void *b)
{
	const struct pf_vm_pcidev *x = a, *y = b;

	if (x->domain != y->domain)
		return x->domain < y->domain ? -1 : 1;
	if (x->bus != y->bus)
		return x->bus < y->bus ? -1 : 1;
	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->fn < y->fn ? -1 : x->fn > y->fn;
}

/* Card by card in the VM's order: the GPU, then its other functions by
 * address. */
static int plan_devs(const struct pf_vm *vm, const struct pf_host *h,
		     struct pf_plan_vm *pv)
{
	const struct pf_gpu **gpus;
	size_t n = 0, ngpus;
	int rc = vm_gpus(vm, h, NULL, &gpus, &ngpus);

	if (rc)
		return rc;
	for (size_t g = 0; g < ngpus; g++)
		n += 1 + gpus[g]->nfunctions;
	pv->devs = calloc(n ? n : 1, sizeof(*pv->devs));
	if (!pv->devs) {
		free(gpus);
		return -ENOMEM;
	}
	for (size_t g = 0; g < ngpus && !rc; g++) {
		const struct pf_gpu *gpu = gpus[g];
		struct pf_vm_pcidev *first;

		rc = dev_set(&pv->devs[pv->ndevs], &gpu->pci, true, g);
		if (rc)
			break;
		if (!pv->devs[pv->ndevs].model)
			pv->devs[pv->ndevs].model = gpu->model.s;
		first = &pv->devs[++pv->ndevs];
		for (size_t f = 0; f < gpu->nfunctions && !rc; f++)
			if (pcifn_read(&gpu->functions[f]).addr_ok)
				rc = dev_set(&pv->devs[pv->ndevs++],
					     &gpu->functions[f], false, g);
		qsort(first, (size_t)(&pv->devs[pv->ndevs] - first),
		      sizeof(*first), addr_cmp);
	}
	pv->ncards = ngpus;
	free(gpus);
	return rc;
}

static int dup_or_null(const char *s, char **out)
{
	*out = s ? strdup(s) : NULL;
	return s && !*out ? -ENOMEM : 0;
}

/* qcow2 when the name (without a URL's query) ends in .qcow2, else raw. */
static enum pf_disk_format format_of(const char *name)
{
	size_t len = strcspn(name, strstr(name, "://") ? "?#" : "");

	return len >= 6 && !strncasecmp(name + len - 6, ".qcow2", 6) ?
	       PF_DISK_QCOW2 : PF_DISK_RAW;
}

/* The format given, else by the image's name, else by libvirt_path's. */
static enum pf_disk_format disk_format(const struct pf_vm_disk *k)
{
	if (k->format_v || k->format.mark.file)
		return k->format_v;
	if (k->image.s)
		return format_of(k->image.s);
	return k->libvirt_path.s ? format_of(k->libvirt_path.s) : PF_DISK_UNSET;
}

static int plan_disk(const struct pf_vm *vm, struct pf_plan_vm *pv)
{
	const struct pf_vm_disk *k = &vm->disk;
	const char *ext;
	int rc;

	pv->disk_format = disk_format(k);
	ext = pv->disk_format == PF_DISK_QCOW2 ? "qcow2" : "raw";
	if (k->image.s) {
		pv->disk_source_is_url = !k->image_path;
		rc = dup_or_null(k->image_path ? k->image_path : k->image.s,
				 &pv->disk_source);
		if (!rc)
			rc = dup_or_null(k->sha256.s, &pv->disk_sha256);
		if (rc || asprintf(&pv->disk_file, "disk.%s", ext) < 0)
			return -ENOMEM;
		for (char *c = pv->disk_sha256; c && *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	if (k->libvirt_path.s)
		rc = dup_or_null(k->libvirt_path.s, &pv->libvirt_disk_path);
	else if (pv->disk_format &&
		 asprintf(&pv->libvirt_disk_path, LIBVIRT_IMAGES "/%s.%s",
			  pv->name, ext) < 0)
		rc = -ENOMEM;
	else
		rc = 0;
	if (!rc)
		rc = dup_or_null(k->containerdisk.s, &pv->containerdisk);
	pv->build_containerdisk = pv->disk_source && pv->containerdisk;
	return rc;
}

static int plan_cells(const struct pf_vm *vm, struct pf_plan_vm *pv)
{
	if (!vm->nnuma)
		return 0;
	pv->cells = calloc(vm->nnuma, sizeof(*pv->cells));
	if (!pv->cells)
		return -ENOMEM;
	for (size_t i = 0; i < vm->nnuma; i++) {
		const struct pf_vm_numa_cell *c = &vm->numa[i];
		struct pf_vm_cell *out = &pv->cells[pv->ncells];

		if (!c->cpus.s)
			continue;	/* not a mapping, or no cpus: reported */
		out->id = (unsigned)pv->ncells++;
		out->cpus = strdup(c->cpus.s);
		if (!out->cpus)
			return -ENOMEM;
		out->memory_bytes = numa_cell_memory(c);
		out->host_node = numa_cell_host_node(c);
	}
	return 0;
}

static int pin_cmp(const void *a, const void *b)
{
	const struct pf_vm_vcpupin *x = a, *y = b;

	return x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu;
}

/* Each range pair one to one in ascending order, then all by vCPU. */
static int plan_pins(const struct pf_vm *vm, struct pf_plan_vm *pv)
{
	bool vset[PF_VM_MAX_VCPUS], hset[PF_HOST_MAX_CPUS];
	struct pf_vm_vcpupin *v;
	unsigned bad;

	if (!vm->npinning || !pv->vcpus)
		return 0;
	for (size_t i = 0; i < vm->npinning; i++) {
		const struct pf_vm_pin *p = &vm->pinning[i];
		size_t nv, nh;
		unsigned h = 0;

		if (!p->vcpus.s || !p->host_cpus.s ||
		    cpuset_parse(p->vcpus.s, pv->vcpus, vset, &nv, &bad) ||
		    cpuset_parse(p->host_cpus.s, PF_HOST_MAX_CPUS, hset, &nh,
				 &bad) || nv != nh)
			continue;	/* not a pairing: validate said so */
		v = realloc(pv->pins, (pv->npins + nv) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		pv->pins = v;
		for (unsigned x = 0; x < pv->vcpus; x++) {
			if (!vset[x])
				continue;
			while (!hset[h])
				h++;
			pv->pins[pv->npins++] = (struct pf_vm_vcpupin){ x, h++ };
		}
	}
	if (pv->npins)
		qsort(pv->pins, pv->npins, sizeof(*pv->pins), pin_cmp);
	return 0;
}

/* h: the VM's host (the first of its name), or NULL */
static int plan_vm(const struct pf_plan *plan, const struct pf_vm *vm,
		   const struct pf_host *h, const unsigned char *key,
		   struct pf_plan_vm *pv)
{
	int rc;

	cloudinit_init(&pv->cloudinit);
	pv->vm = vm;
	pv->name = strdup(vm->name.s ? vm->name.s : "");
	if (!pv->name)
		return -ENOMEM;
	/* hosts are planned in profile order */
	pv->host = h ? &plan->hosts[h - plan->profile->hosts] : NULL;
	pv->vcpus = vm_vcpus(vm);
	pv->memory_bytes = vm_memory(vm);
	pv->firmware = vm->firmware_v ? vm->firmware_v : PF_FIRMWARE_UEFI;
	pv->hide_hypervisor = vm_consumer_gpu(vm);
	rc = plan_devs(vm, h, pv);
	if (!rc)
		rc = plan_disk(vm, pv);
	if (!rc)
		rc = plan_cells(vm, pv);
	if (!rc)
		rc = plan_pins(vm, pv);
	if (rc)
		return rc;
	return plan_cloudinit_vm(plan, vm, pv, key, &pv->cloudinit);
}

int plan_vms(struct pf_plan *plan, const unsigned char *key)
{
	const struct pf_profile *p = plan->profile;
	struct pf_strindex hosts;	/* name -> first host: profile_host_find, once */
	int rc = -ENOMEM;

	if (!p->nvms)
		return 0;
	strindex_init(&hosts);
	plan->vms = calloc(p->nvms, sizeof(*plan->vms));
	if (!plan->vms)
		goto out;
	for (size_t i = 0; i < p->nhosts; i++) {
		size_t first = i;

		if (p->hosts[i].name.s &&
		    strindex_add_or_find(&hosts, p->hosts[i].name.s, &first) < 0)
			goto out;
	}
	rc = 0;
	for (size_t i = 0; i < p->nvms && !rc; i++) {
		const char *name = p->vms[i].host.s;
		size_t h;

		rc = plan_vm(plan, &p->vms[i],
			     name && strindex_find(&hosts, name, &h) ? &p->hosts[h] : NULL,
			     key, &plan->vms[i]);
		plan->nvms = i + 1;
	}
out:
	strindex_release(&hosts);
	return rc;
}

void plan_vm_release(struct pf_plan_vm *vm)
{
	if (!vm)
		return;
	free(vm->name);
	for (size_t i = 0; i < vm->ndevs; i++)
		free(vm->devs[i].resource);
	free(vm->devs);
	free(vm->disk_source);
	free(vm->disk_sha256);
	free(vm->disk_file);
	free(vm->libvirt_disk_path);
	free(vm->containerdisk);
	for (size_t i = 0; i < vm->ncells; i++)
		free(vm->cells[i].cpus);
	free(vm->cells);
	free(vm->pins);
	cloudinit_release(&vm->cloudinit);
	free(vm->kubevirt.cloudinit_secret);
	memset(vm, 0, sizeof(*vm));
}

const struct pf_plan_vm *plan_vm_find(const struct pf_plan *plan,
				      const char *name)
{
	for (size_t i = 0; i < plan->nvms; i++)
		if (!strcmp(plan->vms[i].name, name))
			return &plan->vms[i];
	return NULL;
}
