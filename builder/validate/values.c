/* Readers of a profile's values (MACs, PCI functions, quantities, CPU
 * sets, epochs, the numbers of vms[]), shared by validate and plan. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "pxeforge/lib/pciid.h"
#include "pxeforge/lib/units.h"
#include "pxeforge/validate/values.h"

bool mac_valid(const char *s)
{
	if (strlen(s) != 17)
		return false;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != s[2] || (s[i] != ':' && s[i] != '-'))
				return false;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

/* "AA-BB-..." -> "aa:bb:...", for comparing MACs however written. */
void mac_normalise(const char *s, char out[18])
{
	for (int i = 0; i < 17; i++)
		out[i] = i % 3 == 2 ? ':' : (char)tolower((unsigned char)s[i]);
	out[17] = '\0';
}

struct pf_pci pcifn_read(const struct pf_pcifn *fn)
{
	struct pf_pci v = { 0 };

	v.addr_ok = fn->address.s &&
		    pciaddr_parse(fn->address.s, &v.domain, &v.bus, &v.dev,
				  &v.fn) == 0;
	v.id_ok = fn->id.s &&
		  pciid_parse(fn->id.s, &v.vendor, &v.device) == 0;
	return v;
}

bool pci_addr_is(const struct pf_pci *a, unsigned dom, unsigned bus,
		 unsigned dev, unsigned fn)
{
	return a->addr_ok && a->domain == dom && a->bus == bus &&
	       a->dev == dev && a->fn == fn;
}

const struct pf_host *profile_host_find(const struct pf_profile *p,
					const char *name)
{
	for (size_t i = 0; name && i < p->nhosts; i++)
		if (p->hosts[i].name.s && !strcmp(p->hosts[i].name.s, name))
			return &p->hosts[i];
	return NULL;
}

const struct pf_str *cloudinit_str(const struct pf_str *node,
				   const struct pf_str *dflt)
{
	return node->s ? node : dflt;
}

const struct pf_strv *cloudinit_strv(const struct pf_strv *node,
				     const struct pf_strv *dflt)
{
	return node->given ? node : dflt;
}

enum pf_k3s_role k3s_role(const struct pf_k3s_cfg *node,
			  const struct pf_k3s_cfg *dflt)
{
	return node->role_v ? node->role_v :
	       dflt->role_v ? dflt->role_v : PF_K3S_AGENT;
}

int epoch_parse(const char *s, long long *out)
{
	long long v;
	char *end;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v > 0xffffffffLL)
		return -EINVAL;
	*out = v;
	return 0;
}

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

int uint_parse(const char *s, unsigned *out)
{
	return scan_uint(&s, out) && !*s ? 0 : -EINVAL;
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
	if (v % PF_MI)
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

unsigned vm_vcpus(const struct pf_vm *vm)
{
	unsigned v;

	if (!vm->vcpus.s || uint_parse(vm->vcpus.s, &v) || !v ||
	    v > PF_VM_MAX_VCPUS)
		return 0;
	return v;
}

uint64_t vm_memory(const struct pf_vm *vm)
{
	uint64_t v;

	return vm->memory.s && !quantity_parse(vm->memory.s, &v) ? v : 0;
}

bool vm_consumer_gpu(const struct pf_vm *vm)
{
	return vm->consumer_gpu.s && !strcasecmp(vm->consumer_gpu.s, "true");
}

uint64_t numa_cell_memory(const struct pf_vm_numa_cell *c)
{
	uint64_t v;

	return c->memory.s && !quantity_parse(c->memory.s, &v) ? v : 0;
}

int numa_cell_host_node(const struct pf_vm_numa_cell *c)
{
	unsigned v;

	if (!c->host_node.s || uint_parse(c->host_node.s, &v) ||
	    v >= PF_HOST_MAX_NODES)
		return -1;
	return (int)v;
}
