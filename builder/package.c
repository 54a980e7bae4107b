#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pxeforge/pack.h"
#include "pxeforge/package.h"
#include "pxeforge/render.h"
#include "pxeforge/suggest.h"

struct target {
	const char *name;
	const char *path;	/* below OUT/<host>/, or below OUT/ for dispatcher */
	bool skip_empty;	/* no file at all when there is nothing to say */
	bool in_overlay;	/* also in the initrd overlay, below etc/ */
	int (*host_fn)(const struct pf_plan_host *h, struct pf_buf *out);
	int (*plan_fn)(const struct pf_plan *plan,
		       const struct pf_plan_host *h, struct pf_buf *out);
};

static int dispatcher(const struct pf_plan *plan, const struct pf_plan_host *h,
		      struct pf_buf *out)
{
	(void)h;
	return render_dispatcher(plan, out);
}

static const struct target targets[] = {
	{ "ipxe", "netboot.ipxe", false, false, NULL, render_ipxe },
	{ "cmdline", "cmdline", false, false, render_cmdline, NULL },
	{ "modprobe", "modprobe.d/vfio.conf", true, true, render_modprobe,
	  NULL },
	{ "modules-load", "modules-load.d/vfio.conf", true, true,
	  render_modules_load, NULL },
	{ "nixos", "nixos/boot.nix", false, false, render_nixos, NULL },
	{ "dispatcher", "boot.ipxe", false, false, NULL, dispatcher },
};

#define NTARGETS (sizeof(targets) / sizeof(targets[0]))

static const struct target *target_find(const char *name)
{
	for (size_t i = 0; i < NTARGETS; i++)
		if (strcmp(targets[i].name, name) == 0)
			return &targets[i];
	return NULL;
}

bool package_target_known(const char *target)
{
	return target_find(target) != NULL;
}

const char *package_target_suggest(const char *target)
{
	const char *names[NTARGETS];

	for (size_t i = 0; i < NTARGETS; i++)
		names[i] = targets[i].name;
	return suggest_closest(target, names, NTARGETS);
}

int package_target_needs_host(const char *target)
{
	return strcmp(target, "dispatcher") != 0;
}

int package_render_target(const struct pf_plan *plan,
			  const struct pf_plan_host *h, const char *target,
			  struct pf_buf *out)
{
	const struct target *t = target_find(target);

	if (!t)
		return -ENOENT;
	return t->host_fn ? t->host_fn(h, out) : t->plan_fn(plan, h, out);
}

static int add_buf(struct pf_outtree *t, const char *path, struct pf_buf *b)
{
	return outtree_add(t, path, b->data ? b->data : "", b->len, 0644);
}

static int overlay_add_closure(const struct pf_modclosure *m,
			       struct pf_pack *pack)
{
	const struct pf_strlist *lists[] = { &m->files, &m->indexes };
	char path[4096], src[4096];
	int rc = 0;

	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < lists[l]->n && !rc; i++) {
			snprintf(path, sizeof(path), "lib/modules/%s/%s",
				 m->kver, lists[l]->v[i]);
			snprintf(src, sizeof(src), "%s/%s", m->dir,
				 lists[l]->v[i]);
			rc = pack_add_file(pack, path, src, 0644);
		}
	}
	return rc;
}

/* OUT/<host>/overlay.cpio.*: pack already holds the host's module
 * configuration under etc/; the module closure goes below lib/modules/. */
static int package_overlay(const struct pf_plan *plan,
			   const struct pf_plan_host *h, struct pf_pack *pack,
			   struct pf_outtree *t, char **failed)
{
	struct pf_buf b;
	char path[4096];
	int rc = 0;

	buf_init(&b);
	if (h->has_closure)
		rc = overlay_add_closure(&h->closure, pack);
	if (!rc)
		rc = pack_cpio_write(pack, h->compression, plan->mtime, &b,
				     failed);
	snprintf(path, sizeof(path), "%s/%s", h->name, h->overlay->name);
	if (!rc)
		rc = add_buf(t, path, &b);
	buf_release(&b);
	return rc;
}

/* Renders each target once: into OUT/<host>/, and the in_overlay ones
 * into the overlay's etc/ as well. */
static int package_host(const struct pf_plan *plan,
			const struct pf_plan_host *h, struct pf_outtree *t,
			char **failed)
{
	struct pf_pack pack;
	struct pf_buf b;
	char path[4096];
	int rc = 0;

	pack_init(&pack);
	buf_init(&b);
	for (size_t i = 0; i < NTARGETS && !rc; i++) {
		if (targets[i].plan_fn == dispatcher)
			continue;
		b.len = 0;
		rc = package_render_target(plan, h, targets[i].name, &b);
		if (rc)
			goto clean;
		if (!b.len && targets[i].skip_empty)
			continue;
		snprintf(path, sizeof(path), "%s/%s", h->name, targets[i].path);
		rc = add_buf(t, path, &b);
		if (!rc && targets[i].in_overlay && b.len) {
			snprintf(path, sizeof(path), "etc/%s", targets[i].path);
			rc = pack_add_data(&pack, path, b.data, b.len, 0644);
		}
		if (rc || strcmp(targets[i].name, "ipxe") != 0)
			continue;
		/* The dispatcher chains hosts/<mac>.ipxe: a copy per MAC, as
		 * TFTP servers need not follow links. */
		for (size_t m = 0; m < h->macs.n && !rc; m++) {
			char hyp[18];

			mac_hyphenate(h->macs.v[m], hyp);
			snprintf(path, sizeof(path), "hosts/%s.ipxe", hyp);
			rc = add_buf(t, path, &b);
		}
	}
	if (!rc && h->overlay)
		rc = package_overlay(plan, h, &pack, t, failed);
clean:
	pack_release(&pack);
	buf_release(&b);
	return rc;
}

int package_tree(const struct pf_plan *plan, struct pf_outtree *t,
		 char **failed)
{
	struct pf_buf b;
	int rc;

	*failed = NULL;
	buf_init(&b);
	rc = render_dispatcher(plan, &b);
	if (!rc)
		rc = add_buf(t, "boot.ipxe", &b);
	for (size_t i = 0; i < plan->nhosts && !rc; i++)
		rc = package_host(plan, &plan->hosts[i], t, failed);
	if (!rc)
		outtree_sort(t);
	buf_release(&b);
	return rc;
}
