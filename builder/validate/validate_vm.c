/* validate_vm: semantic checks over vms[] — names, the host and the GPUs
 * taken from it, vCPUs, memory, disk, NUMA cells and pinning. Every
 * problem is reported; nothing stops at the first. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/pciid.h"
#include "pxeforge/lib/strindex.h"
#include "pxeforge/lib/suggest.h"
#include "pxeforge/lib/units.h"
#include "pxeforge/validate/derive.h"
#include "pxeforge/validate/values.h"

/* What the checks of one VM read as they go, and the later VMs' checks
 * read of it (the GPUs it took). */
struct vm_state {
	const struct pf_vm *vm;
	const struct pf_host *host;
	const struct pf_gpu **gpus;
	size_t ngpus;
	unsigned vcpus;		/* 0: not given or invalid */
	uint64_t memory;
	size_t same_name;	/* an earlier VM of this name, or SIZE_MAX */
};

/* Lookups over all hosts and VMs, made once: each VM's checks would
 * otherwise scan every host and every earlier VM (quadratic in a fleet
 * with a VM per host). */
struct vm_lookup {
	struct pf_strindex hosts;	/* name -> first host of that name */
	struct pf_strindex vms;		/* name -> first VM of that name */
	size_t *gpu_base;		/* per host: its GPUs' first slot in owner */
	size_t *owner;			/* per host GPU: 1 + the first VM taking it, or 0 */
};

static void lookup_release(struct vm_lookup *lk)
{
	strindex_release(&lk->hosts);
	strindex_release(&lk->vms);
	free(lk->gpu_base);
	free(lk->owner);
}

/* 0 or -ENOMEM (lk released). */
static int lookup_init(const struct pf_profile *p, struct vm_lookup *lk)
{
	size_t ngpus = 0;
	int rc = -ENOMEM;

	strindex_init(&lk->hosts);
	strindex_init(&lk->vms);
	lk->owner = NULL;
	lk->gpu_base = calloc(p->nhosts ? p->nhosts : 1, sizeof(*lk->gpu_base));
	if (!lk->gpu_base)
		goto out;
	for (size_t i = 0; i < p->nhosts; i++) {
		size_t first = i;

		lk->gpu_base[i] = ngpus;
		ngpus += p->hosts[i].ngpus;
		if (p->hosts[i].name.s &&
		    strindex_add_or_find(&lk->hosts, p->hosts[i].name.s, &first) < 0)
			goto out;
	}
	lk->owner = calloc(ngpus ? ngpus : 1, sizeof(*lk->owner));
	if (lk->owner)
		rc = 0;
out:
	if (rc)
		lookup_release(lk);
	return rc;
}

/* profile_host_find, through the index: the first host of that name. */
static const struct pf_host *lookup_host(const struct pf_profile *p,
					 const struct vm_lookup *lk, const char *name)
{
	size_t i;

	return name && strindex_find(&lk->hosts, name, &i) ? &p->hosts[i] : NULL;
}

/* "1024Gi": the largest unit that divides bytes. */
static const char *quantity_format(uint64_t bytes, char buf[32])
{
	static const char *const units[] = { "Ti", "Gi", "Mi", "Ki" };

	for (int i = 0; i < 4; i++) {
		int shift = 10 * (4 - i);

		if (bytes && bytes % (UINT64_C(1) << shift) == 0) {
			snprintf(buf, 32, "%llu%s",
				 (unsigned long long)(bytes >> shift), units[i]);
			return buf;
		}
	}
	snprintf(buf, 32, "%llu bytes", (unsigned long long)bytes);
	return buf;
}

/* The members of set (or, with want false, the non-members) as "0-3,8". */
static void cpuset_format(const bool *set, unsigned limit, bool want,
			  struct pf_buf *b)
{
	for (unsigned x = 0; x < limit; x++) {
		unsigned y = x;

		if (set[x] != want)
			continue;
		while (y + 1 < limit && set[y + 1] == want)
			y++;
		if (y == x)
			buf_printf(b, "%s%u", b->len ? "," : "", x);
		else
			buf_printf(b, "%s%u-%u", b->len ? "," : "", x, y);
		x = y;
	}
}

static const char *vm_label(const struct pf_vm *vm)
{
	return vm->name.s ? vm->name.s : "?";
}

static bool check_quantity(const struct pf_str *v, const char *what,
			   uint64_t *out, struct pf_diag *d)
{
	int rc;

	if (!v->s)
		return false;
	rc = quantity_parse(v->s, out);
	if (rc == -EINVAL)
		diag_error(d, &v->mark,
			   "invalid %s '%s' (expected a whole number and Ki, Mi, Gi or Ti, e.g. '128Gi')",
			   what, v->s);
	else if (rc == -ERANGE)
		diag_error(d, &v->mark, "%s '%s' is zero", what, v->s);
	else if (rc == -EOVERFLOW)
		diag_error(d, &v->mark, "%s '%s' is too large", what, v->s);
	else if (rc == -EDOM)
		diag_error(d, &v->mark,
			   "%s '%s' is not a whole number of Mi (hypervisors size guest memory in MiB)",
			   what, v->s);
	return rc == 0;
}

static void check_scalars(struct vm_state *st, struct pf_diag *d)
{
	const struct pf_vm *vm = st->vm;

	if (vm->name.s && !profile_name_valid(vm->name.s))
		diag_error(d, &vm->name.mark,
			   "invalid VM name '%s' (letters, digits, '-', '_' and '.', starting with a letter or digit; it names a directory)",
			   vm->name.s);
	st->vcpus = vm_vcpus(vm);
	if (vm->vcpus.s && !st->vcpus)
		diag_error(d, &vm->vcpus.mark,
			   "invalid vcpus '%s' (expected a whole number from 1 to %u)",
			   vm->vcpus.s, PF_VM_MAX_VCPUS);
	if (!check_quantity(&vm->memory, "memory", &st->memory, d))
		st->memory = 0;
	if (!vm->consumer_gpu.s)
		return;
	if (strcasecmp(vm->consumer_gpu.s, "true") &&
	    strcasecmp(vm->consumer_gpu.s, "false"))
		diag_error(d, &vm->consumer_gpu.mark,
			   "invalid consumer_gpu '%s' (expected true or false)",
			   vm->consumer_gpu.s);
}

static bool has_blank(const char *s)
{
	for (; *s; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s))
			return true;
	return false;
}

static void check_disk(const struct pf_vm *vm, const struct pf_profile_inputs *in,
		       struct pf_diag *d)
{
	const struct pf_vm_disk *k = &vm->disk;

	if (!k->given)
		return;	/* missing or not a mapping: reported */
	if (!k->image.mark.file && !k->containerdisk.mark.file)
		diag_error(d, &k->mark,
			   "disk of VM '%s' has neither 'image' (a qcow2 or raw file or URL) nor 'containerdisk' (an image reference KubeVirt pulls); give one or both",
			   vm_label(vm));
	check_fetch_source(&k->image, k->image_path, &k->sha256, "image", in,
			   d);
	if (k->containerdisk.s && (!*k->containerdisk.s ||
				   has_blank(k->containerdisk.s) ||
				   strstr(k->containerdisk.s, "://")))
		diag_error(d, &k->containerdisk.mark,
			   "invalid containerdisk '%s' (an image reference such as 'registry.example/nixos-gpu:24.11', no scheme or blanks)",
			   k->containerdisk.s);
	if (k->libvirt_path.s && (k->libvirt_path.s[0] != '/' ||
				  has_blank(k->libvirt_path.s)))
		diag_error(d, &k->libvirt_path.mark,
			   "invalid libvirt_path '%s' (an absolute path on the hypervisor, without blanks)",
			   k->libvirt_path.s);
}

static void check_host_ref(const struct pf_profile *p, const struct vm_lookup *lk,
			   struct vm_state *st, struct pf_diag *d)
{
	const struct pf_vm *vm = st->vm;
	const char **names, *hint;
	struct pf_buf list;
	size_t n = 0;

	if (!vm->host.s)
		return;
	st->host = lookup_host(p, lk, vm->host.s);
	if (st->host)
		return;
	names = calloc(p->nhosts ? p->nhosts : 1, sizeof(*names));
	if (!names) {
		diag_error(d, &vm->host.mark, "out of memory");
		return;
	}
	buf_init(&list);
	for (size_t i = 0; i < p->nhosts; i++) {
		if (!p->hosts[i].name.s)
			continue;
		names[n++] = p->hosts[i].name.s;
		buf_printf(&list, "%s'%s'", list.len ? ", " : "",
			   p->hosts[i].name.s);
	}
	hint = suggest_closest(vm->host.s, names, n);
	if (hint)
		diag_error(d, &vm->host.mark,
			   "unknown host '%s' for VM '%s' (did you mean '%s'?)",
			   vm->host.s, vm_label(vm), hint);
	else
		diag_error(d, &vm->host.mark,
			   "unknown host '%s' for VM '%s' (the profile's hosts: %s)",
			   vm->host.s, vm_label(vm), list.len ? list.data : "none");
	buf_release(&list);
	free(names);
}

/* Where the VM asked for gpu: its list entry, or 'gpus: all'. */
static const struct pf_mark *gpu_mark(const struct pf_vm *vm,
				      const struct pf_gpu *gpu)
{
	struct pf_pci v = pcifn_read(&gpu->pci);
	unsigned dom, bus, dev, fn;

	for (size_t i = 0; i < vm->gpus.n; i++)
		if (!pciaddr_parse(vm->gpus.v[i].s, &dom, &bus, &dev, &fn) &&
		    pci_addr_is(&v, dom, bus, dev, fn))
			return &vm->gpus.v[i].mark;
	return &vm->gpus_all.mark;
}

/* A cpuset value of vms[]; false when it is unusable (reported when it
 * is wrong, silent when the limit is unknown). */
static bool check_cpuset(const struct vm_state *st, const struct pf_str *v,
			 const char *what, bool host, bool *set, size_t *n,
			 struct pf_diag *d)
{
	const struct pf_vm *vm = st->vm;
	unsigned limit = host ? PF_HOST_MAX_CPUS : st->vcpus;
	unsigned bad = 0;
	int rc;

	if (!v->s)
		return false;
	rc = cpuset_parse(v->s, limit ? limit : PF_VM_MAX_VCPUS, set, n, &bad);
	if (rc == -EINVAL)
		diag_error(d, &v->mark,
			   "invalid %s '%s' (expected CPU numbers and ranges without blanks, e.g. '0-15' or '0-7,16-23')",
			   what, v->s);
	else if (rc == -EEXIST)
		diag_error(d, &v->mark, "%s '%s' lists CPU %u twice", what,
			   v->s, bad);
	else if (rc == -ERANGE && host)
		diag_error(d, &v->mark,
			   "%s '%s' names CPU %u; pxeforge knows hosts of up to %u CPUs",
			   what, v->s, bad, PF_HOST_MAX_CPUS);
	else if (rc == -ERANGE && limit)
		diag_error(d, &v->mark,
			   "%s '%s' names vCPU %u, but VM '%s' has %u vCPUs (0-%u)",
			   what, v->s, bad, vm_label(vm), limit, limit - 1);
	return !rc && (limit || host);
}

static void check_numa(const struct vm_state *st, struct pf_diag *d)
{
	const struct pf_vm *vm = st->vm;
	unsigned short owner[PF_VM_MAX_VCPUS] = { 0 };
	bool set[PF_VM_MAX_VCPUS];
	char first[4096], a[32], b[32];
	uint64_t sum = 0;
	bool ok = true;
	size_t n;

	for (size_t i = 0; i < vm->nnuma; i++) {
		const struct pf_vm_numa_cell *c = &vm->numa[i];
		uint64_t bytes;

		if (!c->mark.file) {
			ok = false;
			continue;
		}
		if (check_quantity(&c->memory, "numa cell memory", &bytes, d))
			sum += bytes;
		else
			ok = false;
		if (c->host_node.s && numa_cell_host_node(c) < 0)
			diag_error(d, &c->host_node.mark,
				   "invalid host_node '%s' (a host NUMA node number, e.g. 0)",
				   c->host_node.s);
		if (!check_cpuset(st, &c->cpus, "numa cell cpus", false, set,
				  &n, d)) {
			ok = false;
			continue;
		}
		for (unsigned x = 0; x < st->vcpus; x++) {
			if (!set[x])
				continue;
			if (owner[x]) {
				diag_error(d, &c->cpus.mark,
					   "vCPU %u of VM '%s' is in two numa cells (first at %s)",
					   x, vm_label(vm),
					   mark_format(&vm->numa[owner[x] - 1].cpus.mark,
						       first, sizeof(first)));
				ok = false;
				break;
			}
			owner[x] = (unsigned short)(i + 1);
		}
	}
	if (!ok || !vm->nnuma)
		return;
	for (unsigned x = 0; x < st->vcpus; x++)
		set[x] = owner[x] != 0;
	n = 0;
	for (unsigned x = 0; x < st->vcpus; x++)
		n += set[x];
	if (n < st->vcpus) {
		struct pf_buf miss;

		buf_init(&miss);
		cpuset_format(set, st->vcpus, false, &miss);
		diag_error(d, &vm->numa_mark,
			   "numa cells of VM '%s' leave out vCPUs %s (each of its %u vCPUs belongs to exactly one cell)",
			   vm_label(vm), miss.data ? miss.data : "?",
			   st->vcpus);
		buf_release(&miss);
	}
	if (st->memory && sum != st->memory)
		diag_error(d, &vm->numa_mark,
			   "numa cells of VM '%s' hold %s of memory, but the VM has %s",
			   vm_label(vm), quantity_format(sum, a),
			   quantity_format(st->memory, b));
}

static void check_pinning(const struct vm_state *st, struct pf_diag *d)
{
	const struct pf_vm *vm = st->vm;
	bool host[PF_HOST_MAX_CPUS];
	unsigned short by[PF_VM_MAX_VCPUS] = { 0 };
	bool set[PF_VM_MAX_VCPUS];
	char first[4096];

	for (size_t i = 0; i < vm->npinning; i++) {
		const struct pf_vm_pin *pin = &vm->pinning[i];
		size_t nv = 0, nh = 0;
		bool v_ok, h_ok;

		if (!pin->mark.file)
			continue;
		v_ok = check_cpuset(st, &pin->vcpus, "pinning vcpus", false,
				    set, &nv, d);
		h_ok = check_cpuset(st, &pin->host_cpus, "pinning host_cpus",
				    true, host, &nh, d);
		if (v_ok && h_ok && nv != nh)
			diag_error(d, &pin->mark,
				   "pinning of VM '%s' maps %zu vCPUs ('%s') to %zu host CPUs ('%s'); give as many of each, they pair one to one in ascending order",
				   vm_label(vm), nv, pin->vcpus.s, nh,
				   pin->host_cpus.s);
		for (unsigned x = 0; v_ok && x < st->vcpus; x++) {
			if (!set[x])
				continue;
			if (by[x]) {
				diag_error(d, &pin->vcpus.mark,
					   "vCPU %u of VM '%s' is pinned twice (first at %s)",
					   x, vm_label(vm),
					   mark_format(&vm->pinning[by[x] - 1].vcpus.mark,
						       first, sizeof(first)));
				break;
			}
			by[x] = (unsigned short)(i + 1);
		}
	}
}

/* Names unique among VMs and apart from hosts' (hostname and identity
 * derive from them); a GPU goes to one VM. */
/* Where the lookup keeps the owner of a host's GPU (gpu points into
 * host->gpus, as vm_gpus gives it). */
static size_t *gpu_owner(const struct pf_profile *p, const struct vm_lookup *lk,
			 const struct pf_host *host, const struct pf_gpu *gpu)
{
	if (!host || gpu < host->gpus || gpu >= host->gpus + host->ngpus)
		return NULL;
	return &lk->owner[lk->gpu_base[host - p->hosts] + (size_t)(gpu - host->gpus)];
}

static void check_across(const struct pf_profile *p, struct vm_lookup *lk,
			 const struct vm_state *vms, size_t i,
			 struct pf_diag *d)
{
	const struct pf_vm *vm = vms[i].vm;
	const struct pf_host *same;
	char first[4096];

	if (vms[i].same_name != SIZE_MAX)
		diag_error(d, &vm->name.mark,
			   "duplicate VM name '%s' (first at %s)", vm->name.s,
			   mark_format(&p->vms[vms[i].same_name].name.mark, first,
				       sizeof(first)));
	same = lookup_host(p, lk, vm->name.s);
	if (same)
		diag_error(d, &vm->name.mark,
			   "VM name '%s' is also a host's name (at %s); a node's hostname and identity derive from its name",
			   vm->name.s,
			   mark_format(&same->name.mark, first, sizeof(first)));
	/* the first VM that took a GPU owns it; a later one is told so */
	for (size_t g = 0; g < vms[i].ngpus; g++) {
		const struct pf_gpu *gpu = vms[i].gpus[g];
		size_t *owner = gpu_owner(p, lk, vms[i].host, gpu);
		const struct pf_vm *o;

		if (!owner)
			continue;
		if (!*owner) {
			*owner = i + 1;
			continue;
		}
		if (*owner - 1 == i)
			continue;
		o = vms[*owner - 1].vm;
		diag_error(d, gpu_mark(vm, gpu),
			   "GPU '%s' of host '%s' is already taken by VM '%s' (at %s); a device goes to one VM",
			   gpu->pci.address.s, vms[i].host->name.s,
			   vm_label(o),
			   mark_format(gpu_mark(o, gpu), first,
				       sizeof(first)));
	}
}

/* KubeVirt runs a VM with guest NUMA or pinned vCPUs on dedicated CPUs
 * with hugepages, and asks for whole pages. */
static void check_hugepages(const struct vm_state *st, struct pf_diag *d)
{
	const struct pf_vm *vm = st->vm;

	if ((!vm->nnuma && !vm->npinning) || !vm->disk.containerdisk.s ||
	    !st->memory || st->memory % (2 * PF_MI) == 0)
		return;
	diag_error(d, &vm->memory.mark,
		   "memory '%s' of VM '%s' is not a whole number of 2Mi hugepages, which KubeVirt needs with numa or pinning",
		   vm->memory.s, vm->name.s ? vm->name.s : "");
}

void validate_vms(const struct pf_profile *p, const struct pf_profile_inputs *in,
		  struct pf_diag *d)
{
	struct vm_state *vms = calloc(p->nvms ? p->nvms : 1, sizeof(*vms));
	struct vm_lookup lk;

	if (!vms || lookup_init(p, &lk)) {
		diag_error(d, &p->vms_mark, "out of memory");
		free(vms);
		return;
	}
	for (size_t i = 0; i < p->nvms; i++) {
		struct vm_state *st = &vms[i];
		size_t first = i;

		st->vm = &p->vms[i];
		st->same_name = SIZE_MAX;
		if (st->vm->name.s) {
			int found = strindex_add_or_find(&lk.vms, st->vm->name.s, &first);

			if (found < 0) {
				diag_error(d, &st->vm->mark, "out of memory");
				break;
			}
			if (found)
				st->same_name = first;
		}
		if (!st->vm->mark.file)
			continue;
		check_scalars(st, d);
		check_disk(st->vm, in, d);
		check_host_ref(p, &lk, st, d);
		if (vm_gpus(st->vm, st->host, d, &st->gpus, &st->ngpus))
			diag_error(d, &st->vm->mark, "out of memory");
		check_numa(st, d);
		check_pinning(st, d);
		check_hugepages(st, d);
		check_across(p, &lk, vms, i, d);
	}
	for (size_t i = 0; i < p->nvms; i++)
		free(vms[i].gpus);
	free(vms);
	lookup_release(&lk);
}
