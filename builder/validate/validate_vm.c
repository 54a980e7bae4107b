/* validate_vm: semantic checks over vms[] — names, the host and the GPUs
 * taken from it, vCPUs, memory, disk, NUMA cells and pinning. Every
 * problem is reported; nothing stops at the first. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/pciid.h"
#include "pxeforge/lib/suggest.h"
#include "pxeforge/profile/profile.h"
#include "pxeforge/validate/validate.h"

#define MI (UINT64_C(1) << 20)

/* Digits only; saturates at UINT_MAX. False when there is no digit. */
static bool scan_uint(const char **p, unsigned *out)
{
	unsigned long long v = 0;
	const char *s = *p;

	if (!isdigit((unsigned char)*s))
		return false;
	for (; isdigit((unsigned char)*s); s++)
		if ((v = v * 10 + (unsigned)(*s - '0')) > 0xffffffffULL)
			v = 0xffffffffULL;
	*p = s;
	*out = (unsigned)v;
	return true;
}

int quantity_parse(const char *s, uint64_t *bytes)
{
	static const char units[] = "KMGT";
	const char *unit;
	uint64_t v = 0;
	bool over = false;
	int shift;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		over |= v > (UINT64_MAX - 9) / 10;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	unit = *s ? strchr(units, *s) : NULL;
	if (!unit || s[1] != 'i' || s[2])
		return -EINVAL;
	shift = 10 * (int)(unit - units + 1);
	if (over || v > (UINT64_MAX >> shift))
		return -EOVERFLOW;
	if (!v)
		return -ERANGE;
	v <<= shift;
	if (v % MI)
		return -EDOM;
	*bytes = v;
	return 0;
}

int cpuset_parse(const char *s, unsigned limit, bool *set, size_t *n,
		 unsigned *bad)
{
	memset(set, 0, limit * sizeof(*set));
	*n = 0;
	for (;;) {
		unsigned a, b;

		if (!scan_uint(&s, &a))
			return -EINVAL;
		b = a;
		if (*s == '-' && (s++, !scan_uint(&s, &b)))
			return -EINVAL;
		if (b < a || (*s && *s != ','))
			return -EINVAL;
		for (unsigned long x = a; x <= b; x++) {
			if (x >= limit) {
				*bad = (unsigned)x;
				return -ERANGE;
			}
			if (set[x]) {
				*bad = (unsigned)x;
				return -EEXIST;
			}
			set[x] = true;
			(*n)++;
		}
		if (!*s)
			return 0;
		s++;
	}
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

static void check_scalars(struct pf_vm *vm, struct pf_diag *d)
{
	const char *s;
	unsigned v;

	if (vm->name.s && !profile_name_valid(vm->name.s))
		diag_error(d, &vm->name.mark,
			   "invalid VM name '%s' (letters, digits, '-', '_' and '.', starting with a letter or digit; it names a directory)",
			   vm->name.s);
	s = vm->vcpus.s;
	if (s && (!scan_uint(&s, &v) || *s || !v || v > PF_VM_MAX_VCPUS))
		diag_error(d, &vm->vcpus.mark,
			   "invalid vcpus '%s' (expected a whole number from 1 to %u)",
			   vm->vcpus.s, PF_VM_MAX_VCPUS);
	else if (s)
		vm->vcpus_v = v;
	check_quantity(&vm->memory, "memory", &vm->memory_bytes, d);
	if (!vm->consumer_gpu.s)
		return;
	if (!strcasecmp(vm->consumer_gpu.s, "true"))
		vm->consumer_gpu_v = true;
	else if (strcasecmp(vm->consumer_gpu.s, "false"))
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

/* qcow2 when the name (without a URL's query) ends in .qcow2, else raw. */
static enum pf_disk_format format_of(const char *name)
{
	size_t len = strcspn(name, strstr(name, "://") ? "?#" : "");

	return len >= 6 && !strncasecmp(name + len - 6, ".qcow2", 6) ?
	       PF_DISK_QCOW2 : PF_DISK_RAW;
}

static void check_disk(struct pf_vm *vm, struct pf_diag *d)
{
	struct pf_vm_disk *k = &vm->disk;

	if (!k->given)
		return;	/* missing or not a mapping: reported */
	if (!k->image.mark.file && !k->containerdisk.mark.file)
		diag_error(d, &k->mark,
			   "disk of VM '%s' has neither 'image' (a qcow2 or raw file or URL) nor 'containerdisk' (an image reference KubeVirt pulls); give one or both",
			   vm_label(vm));
	check_fetch_source(&k->image, k->image_path, &k->sha256, "image", d);
	if (!k->format_v && !k->format.mark.file && k->image.s)
		k->format_v = format_of(k->image.s);
	else if (!k->format_v && !k->format.mark.file && k->libvirt_path.s)
		k->format_v = format_of(k->libvirt_path.s);
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

static const struct pf_host *find_host(const struct pf_profile *p,
				       const char *name)
{
	for (size_t i = 0; i < p->nhosts; i++)
		if (p->hosts[i].name.s && !strcmp(p->hosts[i].name.s, name))
			return &p->hosts[i];
	return NULL;
}

static void check_host_ref(const struct pf_profile *p, struct pf_vm *vm,
			   struct pf_diag *d)
{
	const char *names[64];
	const char *hint;
	struct pf_buf list;
	size_t n = 0;

	if (!vm->host.s)
		return;
	vm->host_v = find_host(p, vm->host.s);
	if (vm->host_v)
		return;
	buf_init(&list);
	for (size_t i = 0; i < p->nhosts; i++) {
		if (!p->hosts[i].name.s)
			continue;
		if (n < 64)
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
}

static bool addr_is(const struct pf_pcifn *fn, unsigned dom, unsigned bus,
		    unsigned dev, unsigned f)
{
	return fn->addr_ok && fn->domain == dom && fn->bus == bus &&
	       fn->dev == dev && fn->fn == f;
}

static bool gpu_vfio(const struct pf_gpu *g)
{
	return g->role == PF_ROLE_VFIO && g->pci.addr_ok;
}

/* "'0000:0b:00.0', '0000:0c:00.0'" or "none". */
static void vfio_list(const struct pf_host *h, struct pf_buf *b,
		      const char **addrs, size_t *n)
{
	*n = 0;
	for (size_t g = 0; g < h->ngpus; g++) {
		if (!gpu_vfio(&h->gpus[g]))
			continue;
		addrs[(*n)++] = h->gpus[g].pci.address.s;
		buf_printf(b, "%s'%s'", b->len ? ", " : "",
			   h->gpus[g].pci.address.s);
	}
}

/* One address of gpus: the vfio GPU there, or NULL (reported). */
static const struct pf_gpu *select_one(const struct pf_vm *vm,
				       const struct pf_str *a,
				       struct pf_diag *d)
{
	const struct pf_host *h = vm->host_v;
	const char *addrs[256], *hint;
	unsigned dom, bus, dev, fn;
	struct pf_buf list;
	size_t n;

	if (pciaddr_parse(a->s, &dom, &bus, &dev, &fn)) {
		diag_error(d, &a->mark,
			   "invalid PCI address '%s' (expected domain:bus:device.function, e.g. '0000:1a:00.0')",
			   a->s);
		return NULL;
	}
	for (size_t g = 0; g < h->ngpus; g++) {
		const struct pf_gpu *gpu = &h->gpus[g];

		if (addr_is(&gpu->pci, dom, bus, dev, fn)) {
			if (gpu->role == PF_ROLE_VFIO)
				return gpu;
			diag_error(d, &a->mark,
				   "GPU '%s' of host '%s' has role host: the host's driver keeps it; give it role vfio to hand it to a VM",
				   a->s, h->name.s);
			return NULL;
		}
		for (size_t f = 0; f < gpu->nfunctions; f++) {
			if (!addr_is(&gpu->functions[f], dom, bus, dev, fn))
				continue;
			diag_error(d, &a->mark,
				   "'%s' is a function of the GPU at '%s', not a GPU; list the GPU, its functions go with it",
				   a->s, gpu->pci.address.s);
			return NULL;
		}
	}
	buf_init(&list);
	if (h->ngpus <= 256)
		vfio_list(h, &list, addrs, &n);
	else
		n = 0;
	hint = suggest_closest(a->s, addrs, n);
	if (hint)
		diag_error(d, &a->mark,
			   "no vfio GPU at '%s' on host '%s' (did you mean '%s'?)",
			   a->s, h->name.s, hint);
	else
		diag_error(d, &a->mark,
			   "no vfio GPU at '%s' on host '%s' (its vfio GPUs: %s)",
			   a->s, h->name.s, list.len ? list.data : "none");
	buf_release(&list);
	return NULL;
}

static void select_gpus(struct pf_vm *vm, struct pf_diag *d)
{
	const struct pf_host *h = vm->host_v;
	const struct pf_mark *at = vm->gpus_all.s ? &vm->gpus_all.mark :
				   &vm->gpus.mark;
	const char *addrs[256];
	struct pf_buf list;
	bool bad = vm->gpus.invalid;
	size_t n;

	if (!h || (!vm->gpus_all.s && !vm->gpus.given))
		return;
	vm->gpus_v = calloc(h->ngpus ? h->ngpus : 1, sizeof(*vm->gpus_v));
	if (!vm->gpus_v) {
		diag_error(d, &vm->mark, "out of memory");
		return;
	}
	for (size_t g = 0; vm->gpus_all.s && g < h->ngpus; g++)
		if (gpu_vfio(&h->gpus[g]))
			vm->gpus_v[vm->ngpus_v++] = &h->gpus[g];
	for (size_t i = 0; !vm->gpus_all.s && i < vm->gpus.n; i++) {
		const struct pf_gpu *g = select_one(vm, &vm->gpus.v[i], d);
		bool dup = false;

		bad |= !g;
		for (size_t k = 0; g && k < vm->ngpus_v && !dup; k++)
			dup = vm->gpus_v[k] == g;
		if (dup)
			diag_error(d, &vm->gpus.v[i].mark,
				   "GPU '%s' is listed twice in VM '%s'",
				   vm->gpus.v[i].s, vm_label(vm));
		else if (g && vm->ngpus_v < h->ngpus)
			vm->gpus_v[vm->ngpus_v++] = g;
	}
	if (vm->ngpus_v || bad)
		return;
	buf_init(&list);
	if (h->ngpus <= 256)
		vfio_list(h, &list, addrs, &n);
	if (list.len)
		diag_error(d, at,
			   "VM '%s' takes no GPU (the vfio GPUs of host '%s': %s)",
			   vm_label(vm), h->name.s, list.data);
	else
		diag_error(d, at,
			   "VM '%s' takes no GPU: host '%s' has no GPU with role vfio",
			   vm_label(vm), h->name.s);
	buf_release(&list);
}

/* Where the VM asked for gpu: its list entry, or 'gpus: all'. */
static const struct pf_mark *gpu_mark(const struct pf_vm *vm,
				      const struct pf_gpu *gpu)
{
	unsigned dom, bus, dev, fn;

	for (size_t i = 0; i < vm->gpus.n; i++)
		if (!pciaddr_parse(vm->gpus.v[i].s, &dom, &bus, &dev, &fn) &&
		    addr_is(&gpu->pci, dom, bus, dev, fn))
			return &vm->gpus.v[i].mark;
	return &vm->gpus_all.mark;
}

/* A cpuset value of vms[]; false when it is unusable (reported when it
 * is wrong, silent when the limit is unknown). */
static bool check_cpuset(const struct pf_vm *vm, const struct pf_str *v,
			 const char *what, bool host, bool *set, size_t *n,
			 struct pf_diag *d)
{
	unsigned limit = host ? PF_HOST_MAX_CPUS : vm->vcpus_v;
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

static void check_numa(struct pf_vm *vm, struct pf_diag *d)
{
	unsigned short owner[PF_VM_MAX_VCPUS] = { 0 };
	bool set[PF_VM_MAX_VCPUS];
	char first[4096], a[32], b[32];
	uint64_t sum = 0;
	bool ok = true;
	size_t n;

	for (size_t i = 0; i < vm->nnuma; i++) {
		struct pf_vm_numa_cell *c = &vm->numa[i];
		const char *s = c->host_node.s;
		unsigned node;

		if (!c->mark.file) {
			ok = false;
			continue;
		}
		if (check_quantity(&c->memory, "numa cell memory",
				   &c->memory_bytes, d))
			sum += c->memory_bytes;
		else
			ok = false;
		if (s && (!scan_uint(&s, &node) || *s ||
			  node >= PF_HOST_MAX_NODES))
			diag_error(d, &c->host_node.mark,
				   "invalid host_node '%s' (a host NUMA node number, e.g. 0)",
				   c->host_node.s);
		else if (s)
			c->host_node_v = (int)node;
		if (!check_cpuset(vm, &c->cpus, "numa cell cpus", false, set,
				  &n, d)) {
			ok = false;
			continue;
		}
		for (unsigned x = 0; x < vm->vcpus_v; x++) {
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
	for (unsigned x = 0; x < vm->vcpus_v; x++)
		set[x] = owner[x] != 0;
	n = 0;
	for (unsigned x = 0; x < vm->vcpus_v; x++)
		n += set[x];
	if (n < vm->vcpus_v) {
		struct pf_buf miss;

		buf_init(&miss);
		cpuset_format(set, vm->vcpus_v, false, &miss);
		diag_error(d, &vm->numa_mark,
			   "numa cells of VM '%s' leave out vCPUs %s (each of its %u vCPUs belongs to exactly one cell)",
			   vm_label(vm), miss.data ? miss.data : "?",
			   vm->vcpus_v);
		buf_release(&miss);
	}
	if (vm->memory_bytes && sum != vm->memory_bytes)
		diag_error(d, &vm->numa_mark,
			   "numa cells of VM '%s' hold %s of memory, but the VM has %s",
			   vm_label(vm), quantity_format(sum, a),
			   quantity_format(vm->memory_bytes, b));
}

static void check_pinning(struct pf_vm *vm, struct pf_diag *d)
{
	bool host[PF_HOST_MAX_CPUS];
	unsigned short by[PF_VM_MAX_VCPUS] = { 0 };
	bool set[PF_VM_MAX_VCPUS];
	char first[4096];

	for (size_t i = 0; i < vm->npinning; i++) {
		struct pf_vm_pin *pin = &vm->pinning[i];
		size_t nv = 0, nh = 0;
		bool v_ok, h_ok;

		if (!pin->mark.file)
			continue;
		v_ok = check_cpuset(vm, &pin->vcpus, "pinning vcpus", false,
				    set, &nv, d);
		h_ok = check_cpuset(vm, &pin->host_cpus, "pinning host_cpus",
				    true, host, &nh, d);
		if (v_ok && h_ok && nv != nh)
			diag_error(d, &pin->mark,
				   "pinning of VM '%s' maps %zu vCPUs ('%s') to %zu host CPUs ('%s'); give as many of each, they pair one to one in ascending order",
				   vm_label(vm), nv, pin->vcpus.s, nh,
				   pin->host_cpus.s);
		for (unsigned x = 0; v_ok && x < vm->vcpus_v; x++) {
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
static void check_across(struct pf_profile *p, size_t i, struct pf_diag *d)
{
	const struct pf_vm *vm = &p->vms[i];
	char first[4096];

	for (size_t j = 0; j < i && vm->name.s; j++) {
		if (!p->vms[j].name.s || strcmp(p->vms[j].name.s, vm->name.s))
			continue;
		diag_error(d, &vm->name.mark,
			   "duplicate VM name '%s' (first at %s)", vm->name.s,
			   mark_format(&p->vms[j].name.mark, first,
				       sizeof(first)));
		break;
	}
	if (vm->name.s && find_host(p, vm->name.s))
		diag_error(d, &vm->name.mark,
			   "VM name '%s' is also a host's name (at %s); a node's hostname and identity derive from its name",
			   vm->name.s,
			   mark_format(&find_host(p, vm->name.s)->name.mark,
				       first, sizeof(first)));
	for (size_t g = 0; g < vm->ngpus_v; g++) {
		const struct pf_gpu *gpu = vm->gpus_v[g];
		bool taken = false;

		for (size_t j = 0; j < i && !taken; j++) {
			const struct pf_vm *o = &p->vms[j];

			for (size_t k = 0; k < o->ngpus_v && !taken; k++)
				taken = o->gpus_v[k] == gpu;
			if (taken)
				diag_error(d, gpu_mark(vm, gpu),
					   "GPU '%s' of host '%s' is already taken by VM '%s' (at %s); a device goes to one VM",
					   gpu->pci.address.s, vm->host_v->name.s,
					   vm_label(o),
					   mark_format(gpu_mark(o, gpu), first,
						       sizeof(first)));
		}
	}
}

/* KubeVirt runs a VM with guest NUMA or pinned vCPUs on dedicated CPUs
 * with hugepages, and asks for whole pages (render_kubevirt.c). */
static void check_hugepages(const struct pf_vm *vm, struct pf_diag *d)
{
	if ((!vm->nnuma && !vm->npinning) || !vm->disk.containerdisk.s ||
	    !vm->memory_bytes || vm->memory_bytes % (2u << 20) == 0)
		return;
	diag_error(d, &vm->memory.mark,
		   "memory '%s' of VM '%s' is not a whole number of 2Mi hugepages, which KubeVirt needs with numa or pinning",
		   vm->memory.s, vm->name.s ? vm->name.s : "");
}

void profile_validate_vms(struct pf_profile *p, struct pf_diag *d)
{
	for (size_t i = 0; i < p->nvms; i++) {
		struct pf_vm *vm = &p->vms[i];

		if (!vm->mark.file)
			continue;
		check_scalars(vm, d);
		check_disk(vm, d);
		check_host_ref(p, vm, d);
		select_gpus(vm, d);
		check_numa(vm, d);
		check_pinning(vm, d);
		check_hugepages(vm, d);
		check_across(p, i, d);
	}
}
