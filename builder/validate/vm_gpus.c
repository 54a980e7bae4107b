/* vm_gpus: the GPUs a VM takes from its host, for validate (which says
 * what is wrong with the selection) and plan (which hands them over). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/pciid.h"
#include "pxeforge/lib/suggest.h"
#include "pxeforge/validate/derive.h"
#include "pxeforge/validate/values.h"

static const char *vm_label(const struct pf_vm *vm)
{
	return vm->name.s ? vm->name.s : "?";
}

static bool gpu_vfio(const struct pf_gpu *g)
{
	return g->role == PF_ROLE_VFIO && pcifn_read(&g->pci).addr_ok;
}

/* The addresses of h's vfio GPUs into *addrs (malloc'd) and as
 * "'0000:0b:00.0', '0000:0c:00.0'" into b. 0 or -ENOMEM. */
static int vfio_list(const struct pf_host *h, struct pf_buf *b,
		     const char ***addrs, size_t *n)
{
	*n = 0;
	*addrs = calloc(h->ngpus ? h->ngpus : 1, sizeof(**addrs));
	if (!*addrs)
		return -ENOMEM;
	for (size_t g = 0; g < h->ngpus; g++) {
		if (!gpu_vfio(&h->gpus[g]))
			continue;
		(*addrs)[(*n)++] = h->gpus[g].pci.address.s;
		if (buf_printf(b, "%s'%s'", b->len ? ", " : "",
			       h->gpus[g].pci.address.s))
			return -ENOMEM;
	}
	return 0;
}

static void report_no_gpu_at(const struct pf_host *h, const struct pf_str *a,
			     struct pf_diag *d)
{
	const char **addrs = NULL, *hint;
	struct pf_buf list;
	size_t n;

	buf_init(&list);
	if (vfio_list(h, &list, &addrs, &n)) {
		diag_error(d, &a->mark, "out of memory");
		goto clean;
	}
	hint = suggest_closest(a->s, addrs, n);
	if (hint)
		diag_error(d, &a->mark,
			   "no vfio GPU at '%s' on host '%s' (did you mean '%s'?)",
			   a->s, h->name.s, hint);
	else
		diag_error(d, &a->mark,
			   "no vfio GPU at '%s' on host '%s' (its vfio GPUs: %s)",
			   a->s, h->name.s, list.len ? list.data : "none");
clean:
	free(addrs);
	buf_release(&list);
}

/* One address of gpus: the vfio GPU there, or NULL (reported). */
static const struct pf_gpu *select_one(const struct pf_host *h,
				       const struct pf_str *a,
				       struct pf_diag *d)
{
	unsigned dom, bus, dev, fn;

	if (pciaddr_parse(a->s, &dom, &bus, &dev, &fn)) {
		report(d, &a->mark,
		       "invalid PCI address '%s' (expected domain:bus:device.function, e.g. '0000:1a:00.0')",
		       a->s);
		return NULL;
	}
	for (size_t g = 0; g < h->ngpus; g++) {
		const struct pf_gpu *gpu = &h->gpus[g];
		struct pf_pci v = pcifn_read(&gpu->pci);

		if (pci_addr_is(&v, dom, bus, dev, fn)) {
			if (gpu->role == PF_ROLE_VFIO)
				return gpu;
			report(d, &a->mark,
			       "GPU '%s' of host '%s' has role host: the host's driver keeps it; give it role vfio to hand it to a VM",
			       a->s, h->name.s);
			return NULL;
		}
		for (size_t f = 0; f < gpu->nfunctions; f++) {
			struct pf_pci fv = pcifn_read(&gpu->functions[f]);

			if (!pci_addr_is(&fv, dom, bus, dev, fn))
				continue;
			report(d, &a->mark,
			       "'%s' is a function of the GPU at '%s', not a GPU; list the GPU, its functions go with it",
			       a->s, gpu->pci.address.s);
			return NULL;
		}
	}
	if (d)
		report_no_gpu_at(h, a, d);
	return NULL;
}

static void report_none(const struct pf_vm *vm, const struct pf_host *h,
			struct pf_diag *d)
{
	const struct pf_mark *at = vm->gpus_all.s ? &vm->gpus_all.mark :
				   &vm->gpus.mark;
	const char **addrs = NULL;
	struct pf_buf list;
	size_t n;

	buf_init(&list);
	if (vfio_list(h, &list, &addrs, &n))
		diag_error(d, at, "out of memory");
	else if (list.len)
		diag_error(d, at,
			   "VM '%s' takes no GPU (the vfio GPUs of host '%s': %s)",
			   vm_label(vm), h->name.s, list.data);
	else
		diag_error(d, at,
			   "VM '%s' takes no GPU: host '%s' has no GPU with role vfio",
			   vm_label(vm), h->name.s);
	free(addrs);
	buf_release(&list);
}

int vm_gpus(const struct pf_vm *vm, const struct pf_host *h,
	    struct pf_diag *d, const struct pf_gpu ***out, size_t *n)
{
	const struct pf_gpu **v;
	bool bad = vm->gpus.invalid;

	*out = NULL;
	*n = 0;
	if (!h || (!vm->gpus_all.s && !vm->gpus.given))
		return 0;
	v = calloc(h->ngpus ? h->ngpus : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t g = 0; vm->gpus_all.s && g < h->ngpus; g++)
		if (gpu_vfio(&h->gpus[g]))
			v[(*n)++] = &h->gpus[g];
	for (size_t i = 0; !vm->gpus_all.s && i < vm->gpus.n; i++) {
		const struct pf_gpu *g = select_one(h, &vm->gpus.v[i], d);
		bool dup = false;

		bad |= !g;
		for (size_t k = 0; g && k < *n && !dup; k++)
			dup = v[k] == g;
		if (dup)
			report(d, &vm->gpus.v[i].mark,
			       "GPU '%s' is listed twice in VM '%s'",
			       vm->gpus.v[i].s, vm_label(vm));
		else if (g && *n < h->ngpus)
			v[(*n)++] = g;
	}
	if (!*n && !bad && d)
		report_none(vm, h, d);
	*out = v;
	return 0;
}
