/* package: every rendered artifact of a plan, host by host into a sink —
 * per host the files the target table marks, its NoCloud files and its
 * initrd overlay; then each VM (package_vm.c); then the fleet-wide files.
 * Modes and secrecy are the plan's; package applies them. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/secret.h"
#include "pack.h"
#include "pxeforge/package/filter.h"
#include "pxeforge/package/package.h"
#include "pxeforge/render/render.h"
#include "pxeforge/render/targets.h"

#include "package_parts.h"

static int overlay_add_closure(const struct pf_modclosure *m,
			       struct pf_pack *pack)
{
	const struct pf_strlist *lists[] = { &m->files, &m->indexes };
	int rc = 0;

	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < lists[l]->n && !rc; i++) {
			char *path = NULL, *src = NULL;

			if (asprintf(&path, "lib/modules/%s/%s", m->kver,
				     lists[l]->v[i]) < 0)
				path = NULL;
			if (asprintf(&src, "%s/%s", m->dir, lists[l]->v[i]) < 0)
				src = NULL;
			rc = path && src ? pack_add_file(pack, path, src, 0644) :
					   -ENOMEM;
			free(path);
			free(src);
		}
	}
	return rc;
}

/* OUT/<host>/overlay.cpio.*: pack already holds the host's module
 * configuration under etc/ and any NoCloud seed; the module closure goes
 * below lib/modules/. */
static int package_overlay(const struct pf_plan *plan,
			   const struct pf_plan_host *h, struct pf_pack *pack,
			   struct pf_outtree *t, char **failed)
{
	bool secret = h->cloudinit.overlay_secret;
	struct pf_buf b;
	int rc = 0;

	buf_init(&b);
	if (h->has_closure)
		rc = overlay_add_closure(&h->closure, pack);
	if (!rc)
		rc = pack_cpio_write(pack, h->compression, plan->mtime, &b,
				     failed);
	if (!rc)
		rc = package_add(t, b.data, b.len, package_mode(secret),
				 "%s/%s", h->name, h->overlay->name);
	if (secret)
		secret_wipe(b.data, b.len);
	buf_release(&b);
	return rc;
}

/* One target's file: into OUT/<host>/, also into the overlay's etc/ when
 * the table says so, and for iPXE a copy per MAC. */
static int package_target(const struct pf_plan *plan,
			  const struct pf_plan_host *h,
			  const struct pf_target *tg, struct pf_pack *pack,
			  struct pf_outtree *t)
{
	struct pf_target_subject s = { plan, h, NULL, false };
	struct pf_buf b;
	char *path = NULL;
	int rc;

	buf_init(&b);
	rc = render_target(tg, &s, &b);
	if (rc || (!b.len && tg->skip_empty))
		goto out;
	rc = package_add(t, b.data, b.len, 0644, "%s/%s", h->name, tg->path);
	if (!rc && tg->in_overlay && b.len) {
		if (asprintf(&path, "etc/%s", tg->path) < 0) {
			path = NULL;
			rc = -ENOMEM;
			goto out;
		}
		rc = pack_add_data(pack, path, b.data, b.len, 0644);
	}
	if (rc || strcmp(tg->name, "ipxe") != 0)
		goto out;
	/* The dispatcher chains hosts/<mac>.ipxe: a copy per MAC, as TFTP
	 * servers need not follow links. */
	for (size_t m = 0; m < h->macs.n && !rc; m++) {
		char hyp[18];

		mac_hyphenate(h->macs.v[m], hyp);
		rc = package_add(t, b.data, b.len, 0644, "hosts/%s.ipxe", hyp);
	}
out:
	free(path);
	buf_release(&b);
	return rc;
}

/* Renders each target once: into OUT/<host>/, and the in_overlay ones
 * into the overlay's etc/ as well. */
static int package_host(const struct pf_plan *plan,
			const struct pf_plan_host *h, struct pf_outtree *t,
			char **failed)
{
	const struct pf_target *targets;
	struct pf_pack pack;
	size_t n;
	int rc = 0;

	targets = render_targets(&n);
	pack_init(&pack);
	if (h->cloudinit.enabled)
		rc = package_nocloud(plan, h->name, &h->cloudinit,
				     h->cloudinit.seed == PF_SEED_OVERLAY ?
				     &pack : NULL, t, failed);
	for (size_t i = 0; i < n && !rc; i++)
		if (targets[i].host_file)
			rc = package_target(plan, h, &targets[i], &pack, t);
	if (!rc && h->overlay)
		rc = package_overlay(plan, h, &pack, t, failed);
	pack_release(&pack);
	return rc;
}

/* One chunk: filled by fill, sorted, handed to sink, released whatever
 * happened, so that only one host's (or VM's) files are in memory. */
static int chunk_emit(struct pf_outtree *chunk, int fill_rc,
		      pf_package_sink sink, void *ctx, char **failed)
{
	int rc = fill_rc;

	if (!rc) {
		outtree_sort(chunk);
		rc = sink(chunk, ctx, failed);
	}
	outtree_release(chunk);
	return rc;
}

int package_stream(const struct pf_plan *plan,
		   const struct pf_package_filter *only, pf_package_sink sink,
		   void *ctx, char **failed)
{
	struct pf_outtree chunk;
	struct pf_buf b;
	int rc = 0;

	*failed = NULL;
	outtree_init(&chunk);
	buf_init(&b);
	for (size_t i = 0; i < plan->nhosts && !rc; i++)
		if (package_filter_host(only, &plan->hosts[i]))
			rc = chunk_emit(&chunk, package_host(plan,
					&plan->hosts[i], &chunk, failed),
					sink, ctx, failed);
	for (size_t i = 0; i < plan->nvms && !rc; i++)
		if (package_filter_vm(only, &plan->vms[i]))
			rc = chunk_emit(&chunk, package_vm(plan, &plan->vms[i],
					&chunk, failed), sink, ctx, failed);
	/* the fleet-wide files, always from the whole plan */
	if (!rc)
		rc = render_dispatcher(plan, &b);
	if (!rc)
		rc = package_add(&chunk, b.data, b.len, 0644, "boot.ipxe");
	if (!rc)
		rc = package_vms_fleet(plan, &chunk);
	rc = chunk_emit(&chunk, rc, sink, ctx, failed);
	buf_release(&b);
	return rc;
}

int package_sink_tree(struct pf_outtree *chunk, void *ctx, char **failed)
{
	struct pf_outtree *t = ctx;
	int rc = 0;

	(void)failed;
	for (size_t i = 0; i < chunk->n && !rc; i++) {
		const struct pf_outfile *f = &chunk->files[i];

		rc = f->data ? outtree_add(t, f->path, f->data, f->len, f->mode) :
			       -EINVAL;	/* package makes files in memory only */
	}
	return rc;
}

int package_tree(const struct pf_plan *plan, struct pf_outtree *t,
		 char **failed)
{
	int rc = package_stream(plan, NULL, package_sink_tree, t, failed);

	if (!rc)
		outtree_sort(t);
	return rc;
}
