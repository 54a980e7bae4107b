#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "pxeforge/lib/secret.h"
#include "pxeforge/lib/suggest.h"
#include "pxeforge/package/pack.h"
#include "pxeforge/package/package.h"
#include "pxeforge/render/render.h"

struct target {
	const char *name;
	/* below OUT/<host>/, or below OUT/ for dispatcher; NULL: written by
	 * package_nocloud with the rest of the seed, rendered here for
	 * `pxeforge render` only */
	const char *path;
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

/* user-data is no target: it holds the node's secrets, never printed. */
static int nocloud_part(const struct pf_plan_host *h, bool meta,
			struct pf_buf *out)
{
	struct pf_nocloud nc;
	const struct pf_buf *part;
	int rc;

	if (!h->cloudinit.enabled)
		return -ENODATA;
	nocloud_init(&nc);
	rc = nocloud_render(&h->cloudinit, &nc);
	part = meta ? &nc.meta_data : &nc.network_config;
	if (!rc && !part->len)
		rc = -ENODATA;
	if (!rc)
		rc = buf_append(out, part->data, part->len);
	nocloud_release(&nc);
	return rc;
}

static int meta_data(const struct pf_plan_host *h, struct pf_buf *out)
{
	return nocloud_part(h, true, out);
}

static int network_config(const struct pf_plan_host *h, struct pf_buf *out)
{
	return nocloud_part(h, false, out);
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
	{ "meta-data", NULL, false, false, meta_data, NULL },
	{ "network-config", NULL, false, false, network_config, NULL },
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
 * configuration under etc/ and any NoCloud seed; the module closure goes
 * below lib/modules/. An overlay that carries secrets is itself one. */
static int package_overlay(const struct pf_plan *plan,
			   const struct pf_plan_host *h, struct pf_pack *pack,
			   mode_t mode, struct pf_outtree *t, char **failed)
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
		rc = outtree_add(t, path, b.data, b.len, mode);
	if (mode == 0600)
		secret_wipe(b.data, b.len);
	buf_release(&b);
	return rc;
}

/* One NoCloud file into OUT/<dir>/cloud-init/, the cidata volume and,
 * when the seed travels in an initrd overlay, that overlay. */
static int nocloud_add(const char *dir, const char *name,
		       const struct pf_buf *b, mode_t mode,
		       struct pf_outtree *t, struct pf_pack *iso,
		       struct pf_pack *overlay)
{
	char path[4096];
	int rc;

	snprintf(path, sizeof(path), "%s/cloud-init/%s", dir, name);
	rc = outtree_add(t, path, b->data, b->len, mode);
	if (!rc)
		rc = pack_add_data(iso, name, b->data, b->len, mode);
	if (!rc && overlay) {
		snprintf(path, sizeof(path), PF_NOCLOUD_SEED_DIR "/%s", name);
		rc = pack_add_data(overlay, path, b->data, b->len, mode);
	}
	return rc;
}

int package_nocloud(const struct pf_plan *plan, const char *dir,
		    const struct pf_cloudinit *ci, struct pf_pack *overlay,
		    struct pf_outtree *t, bool *secret, char **failed)
{
	struct pf_nocloud nc;
	struct pf_pack iso;
	struct pf_buf b;
	char path[4096];
	mode_t mode;
	int rc;

	*secret = cloudinit_has_identity(ci);
	mode = *secret ? 0600 : 0644;
	nocloud_init(&nc);
	pack_init(&iso);
	buf_init(&b);
	rc = nocloud_render(ci, &nc);
	if (!rc)
		rc = nocloud_add(dir, "user-data", &nc.user_data, mode, t, &iso,
				 overlay);
	if (!rc)
		rc = nocloud_add(dir, "meta-data", &nc.meta_data, 0644, t, &iso,
				 overlay);
	if (!rc && nc.network_config.len)
		rc = nocloud_add(dir, "network-config", &nc.network_config,
				 0644, t, &iso, overlay);
	if (!rc)
		rc = pack_iso_write(&iso, "cidata", plan->mtime, &b, failed);
	snprintf(path, sizeof(path), "%s/cidata.iso", dir);
	if (!rc)
		rc = outtree_add(t, path, b.data, b.len, mode);
	secret_wipe(b.data, b.len);
	buf_release(&b);
	pack_release(&iso);
	nocloud_release(&nc);
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
	bool secret = false;
	int rc = 0;

	pack_init(&pack);
	buf_init(&b);
	if (h->cloudinit.enabled)
		rc = package_nocloud(plan, h->name, &h->cloudinit,
				     h->cloudinit.seed == PF_SEED_OVERLAY ?
				     &pack : NULL, t, &secret, failed);
	for (size_t i = 0; i < NTARGETS && !rc; i++) {
		if (targets[i].plan_fn == dispatcher || !targets[i].path)
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
		rc = package_overlay(plan, h, &pack,
				     secret && h->cloudinit.seed == PF_SEED_OVERLAY ?
				     0600 : 0644, t, failed);
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
		rc = package_vms(plan, t, failed);
	if (!rc)
		outtree_sort(t);
	buf_release(&b);
	return rc;
}
