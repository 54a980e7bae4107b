/* package_filter: the hosts and VMs `build --host` renders, and the files
 * of an earlier build it keeps. Paths are looked up by binary search in
 * one sorted index of host names, MACs and VM names, so keeping a
 * fleet's files costs O(log n) each. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/package/filter.h"

enum owner_kind { OWNER_HOST, OWNER_MAC, OWNER_VM };

struct owner {
	enum owner_kind kind;
	char key[18];		/* OWNER_MAC: hyphenated, as in hosts/ */
	const char *name;	/* else: the host's or VM's name (the plan's) */
	size_t index;		/* into plan->hosts or plan->vms */
};

struct pf_package_filter {
	const struct pf_plan *plan;
	bool *host;		/* plan->nhosts: selected */
	bool *vm;		/* plan->nvms */
	struct owner *owners;	/* sorted by (kind, name) */
	size_t nowners;
};

/* a MAC's name is its own key, which moves with the entry */
static const char *owner_name(const struct owner *o)
{
	return o->kind == OWNER_MAC ? o->key : o->name;
}

static int owner_cmp(const void *a, const void *b)
{
	const struct owner *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(owner_name(x), owner_name(y));
}

int package_filter_new(const struct pf_plan *plan,
		       struct pf_package_filter **out)
{
	struct pf_package_filter *f;
	size_t n = plan->nhosts + plan->nvms, k = 0;

	*out = NULL;
	for (size_t i = 0; i < plan->nhosts; i++)
		n += plan->hosts[i].macs.n;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->plan = plan;
	f->host = calloc(plan->nhosts + 1, sizeof(*f->host));
	f->vm = calloc(plan->nvms + 1, sizeof(*f->vm));
	f->owners = calloc(n + 1, sizeof(*f->owners));
	if (!f->host || !f->vm || !f->owners) {
		package_filter_free(f);
		return -ENOMEM;
	}
	for (size_t i = 0; i < plan->nhosts; i++) {
		const struct pf_plan_host *h = &plan->hosts[i];

		f->owners[k++] = (struct owner){ OWNER_HOST, "", h->name, i };
		for (size_t m = 0; m < h->macs.n; m++, k++) {
			f->owners[k] = (struct owner){ .kind = OWNER_MAC,
						       .index = i };
			mac_hyphenate(h->macs.v[m], f->owners[k].key);
		}
	}
	for (size_t i = 0; i < plan->nvms; i++)
		f->owners[k++] = (struct owner){ OWNER_VM, "",
						 plan->vms[i].name, i };
	f->nowners = k;
	qsort(f->owners, k, sizeof(*f->owners), owner_cmp);
	*out = f;
	return 0;
}

void package_filter_free(struct pf_package_filter *f)
{
	if (!f)
		return;
	free(f->host);
	free(f->vm);
	free(f->owners);
	free(f);
}

void package_filter_select(struct pf_package_filter *f,
			   const struct pf_plan_host *h)
{
	const struct pf_plan *plan = f->plan;

	f->host[h - plan->hosts] = true;
	for (size_t i = 0; i < plan->nvms; i++)
		if (plan->vms[i].host == h)
			f->vm[i] = true;
}

size_t package_filter_hosts(const struct pf_package_filter *f)
{
	size_t k = 0;

	for (size_t i = 0; i < f->plan->nhosts; i++)
		k += f->host[i];
	return k;
}

bool package_filter_host(const struct pf_package_filter *f,
			 const struct pf_plan_host *h)
{
	return !f || f->host[h - f->plan->hosts];
}

bool package_filter_vm(const struct pf_package_filter *f,
		       const struct pf_plan_vm *vm)
{
	return !f || f->vm[vm - f->plan->vms];
}

/* Whether the owner named by len bytes of name is in the plan and not
 * selected. */
static bool owner_unselected(const struct pf_package_filter *f,
			     enum owner_kind kind, const char *name,
			     size_t len)
{
	struct owner want = { .kind = kind };
	const struct owner *o;
	char *copy;

	if (kind == OWNER_MAC && len >= sizeof(want.key))
		return false;
	copy = strndup(name, len);
	if (!copy)
		return false;	/* not kept: rewritten or removed, never lost */
	if (kind == OWNER_MAC)
		memcpy(want.key, copy, len + 1);
	want.name = copy;
	o = bsearch(&want, f->owners, f->nowners, sizeof(*f->owners),
		    owner_cmp);
	free(copy);
	if (!o)
		return false;
	return kind == OWNER_VM ? !f->vm[o->index] : !f->host[o->index];
}

bool package_filter_keeps(const char *path, void *ctx)
{
	const struct pf_package_filter *f = ctx;
	const char *slash = strchr(path, '/'), *rest;
	size_t len;

	if (!f || !slash)
		return false;
	rest = slash + 1;
	/* no host has these names (validate reserves them) */
	if (!strncmp(path, "hosts/", 6)) {
		len = strlen(rest);
		return !strchr(rest, '/') && len > 5 &&
		       !strcmp(rest + len - 5, ".ipxe") &&
		       owner_unselected(f, OWNER_MAC, rest, len - 5);
	}
	if (!strncmp(path, "vms/", 4))
		return strchr(rest, '/') &&
		       owner_unselected(f, OWNER_VM, rest, strcspn(rest, "/"));
	return owner_unselected(f, OWNER_HOST, path, (size_t)(slash - path));
}
