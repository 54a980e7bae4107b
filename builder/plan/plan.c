/* plan_build: every decision for every host of a validated profile —
 * file names and URLs, the ordered kernel command line, early modules and
 * their closure, vfio-pci ids — taken from what host_facts computed. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/secret.h"
#include "pxeforge/plan/plan.h"
#include "pxeforge/validate/derive.h"
#include "pxeforge/validate/values.h"

#include "plan_artifacts.h"

void mac_hyphenate(const char *mac, char out[18])
{
	for (int i = 0; i < 17; i++)
		out[i] = i % 3 == 2 ? '-' : (char)tolower((unsigned char)mac[i]);
	out[17] = '\0';
}

/* A url without a scheme is a path in the served tree: below base_url,
 * or relative to the scripts (which sit one level down: hosts/, <host>/). */
static int file_url(const struct pf_plan *plan, const char *path, char **out)
{
	if (strstr(path, "://"))
		*out = strdup(path);
	else if (plan->base_url)
		return asprintf(out, "%s/%s", plan->base_url, path) < 0 ? -ENOMEM : 0;
	else
		return asprintf(out, "../%s", path) < 0 ? -ENOMEM : 0;
	return *out ? 0 : -ENOMEM;
}

static int plan_file(const struct pf_plan *plan, const char *host,
		     const struct pf_bootfile *f, const char *name,
		     struct pf_plan_file *out)
{
	char *path = NULL;
	int rc;

	out->name = strdup(name);
	if (!out->name)
		return -ENOMEM;
	if (f && f->source.s) {
		out->source_is_url = !f->source_path;
		out->source = strdup(f->source_path ? f->source_path :
						      f->source.s);
		if (!out->source)
			return -ENOMEM;
	}
	if (f && f->source.s && f->sha256.s) {
		out->sha256 = strdup(f->sha256.s);
		if (!out->sha256)
			return -ENOMEM;
		for (char *c = out->sha256; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	if (f && f->url.s)
		return file_url(plan, f->url.s, &out->url);
	if (asprintf(&path, "%s/%s", host, name) < 0)
		return -ENOMEM;
	rc = file_url(plan, path, &out->url);
	free(path);
	return rc;
}

/* The kernel, the initrds, then the overlay, named as host_facts did. */
static int plan_files(const struct pf_plan *plan, const struct pf_host_facts *f,
		      struct pf_plan_host *ph)
{
	const struct pf_boot *b = f->initrds_from;
	size_t nuser = f->initrds.n - (f->overlay ? 1 : 0);
	int rc;

	rc = plan_file(plan, ph->name, f->kernel_file, f->kernel, &ph->kernel);
	if (rc)
		return rc;
	ph->initrds = calloc(f->initrds.n ? f->initrds.n : 1,
			     sizeof(*ph->initrds));
	if (!ph->initrds)
		return -ENOMEM;
	for (size_t i = 0; i < f->initrds.n; i++) {
		rc = plan_file(plan, ph->name,
			       b && i < nuser ? &b->initrds[i] : NULL,
			       f->initrds.v[i], &ph->initrds[i]);
		ph->ninitrds = i + 1;
		if (rc)
			return rc;
	}
	if (f->overlay)
		ph->overlay = &ph->initrds[ph->ninitrds - 1];
	return 0;
}

/* nouveau is blacklisted unless the host keeps an NVIDIA device. */
static bool host_keeps_nvidia(const struct pf_host *h)
{
	for (size_t g = 0; g < h->ngpus; g++) {
		struct pf_pci v = pcifn_read(&h->gpus[g].pci);

		if (h->gpus[g].role == PF_ROLE_HOST && v.id_ok &&
		    v.vendor == 0x10de)
			return true;
	}
	return false;
}

static int plan_nixos_params(struct pf_plan_host *ph)
{
	struct pf_buf token;
	int rc = 0;

	buf_init(&token);
	for (size_t i = 0; i < ph->cmdline.n && !rc; i++) {
		const struct pf_param *p = &ph->cmdline.v[i];

		if (cmdline_key_equal(p->key, "init") ||
		    cmdline_key_equal(p->key, "initrd"))
			continue;
		token.len = 0;
		rc = cmdline_param_append(&token, p);
		if (!rc)
			rc = strlist_push(&ph->nixos_params, token.data);
	}
	buf_release(&token);
	return rc;
}

/* What host_facts computed becomes the host's: moved, not copied. */
static void adopt_facts(struct pf_host_facts *f, struct pf_plan_host *ph)
{
	ph->vfio = f->vfio;
	ph->vfio_ids = f->vfio_ids;
	strlist_init(&f->vfio_ids);
	ph->modules = f->modules;
	strlist_init(&f->modules);
	ph->module_marks = f->module_marks;
	f->module_marks = NULL;
	ph->compression = f->compression;
	ph->cmdline = f->cmdline;
	cmdline_init(&f->cmdline);
	if (f->cloudinit) {
		ph->cloudinit.seed = f->seed;
		ph->cloudinit.seed_url = f->seed_url;
		ph->cloudinit.seed_mark = f->seed_mark;
		f->seed_url = NULL;
	}
}

static int plan_host(const struct pf_plan *plan, const struct pf_profile_inputs *in,
		     const struct pf_host *h, const unsigned char *key,
		     struct pf_plan_host *ph)
{
	struct pf_host_facts f;
	int rc;

	ph->host = h;
	cmdline_init(&ph->cmdline);
	strlist_init(&ph->macs);
	strlist_init(&ph->nixos_params);
	strlist_init(&ph->modules);
	strlist_init(&ph->vfio_ids);
	modclosure_init(&ph->closure);
	cloudinit_init(&ph->cloudinit);
	ph->name = strdup(h->name.s ? h->name.s : "");
	if (!ph->name)
		return -ENOMEM;
	for (size_t i = 0; i < h->macs.n; i++) {
		char mac[18];

		if (!mac_valid(h->macs.v[i].s))
			continue;	/* validate rejects it */
		mac_normalise(h->macs.v[i].s, mac);
		rc = strlist_push(&ph->macs, mac);
		if (rc)
			return rc;
	}
	rc = host_facts(plan->profile, h, NULL, &f);
	if (!rc)
		rc = plan_files(plan, &f, ph);
	ph->has_closure = f.overlay && f.modules_tree;
	if (!rc)
		rc = host_modclosure(&f, in, NULL, &ph->closure);
	if (!rc)
		adopt_facts(&f, ph);
	host_facts_release(&f);
	if (rc)
		return rc;
	ph->blacklist_nouveau = ph->vfio && !host_keeps_nvidia(h);
	rc = plan_cloudinit_host(plan, h, ph, key, &ph->cloudinit);
	if (!rc)
		rc = cmdline_format(&ph->cmdline, &ph->cmdline_text);
	if (!rc)
		rc = plan_nixos_params(ph);
	return rc;
}

/* Archive entries carry one mtime: the profile's source_date_epoch, or 0
 * (SOURCE_DATE_EPOCH, read by the CLI, wins over both). */
static long long profile_mtime(const struct pf_profile *p)
{
	long long v;

	return p->source_date_epoch.s &&
	       !epoch_parse(p->source_date_epoch.s, &v) ? v : 0;
}

int plan_build(const struct pf_profile *p, const struct pf_profile_inputs *in,
	       struct pf_plan **out)
{
	const unsigned char *key = in->have_key ? in->key : NULL;
	struct pf_plan *plan;
	int rc = 0;

	*out = NULL;
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return -ENOMEM;
	plan->profile = p;
	plan->mtime = profile_mtime(p);
	if (p->base_url.s && !(plan->base_url = base_url_trimmed(p))) {
		rc = -ENOMEM;
		goto clean;
	}
	plan->hosts = calloc(p->nhosts ? p->nhosts : 1, sizeof(*plan->hosts));
	if (!plan->hosts) {
		rc = -ENOMEM;
		goto clean;
	}
	for (size_t i = 0; i < p->nhosts && !rc; i++) {
		rc = plan_host(plan, in, &p->hosts[i], key, &plan->hosts[i]);
		plan->nhosts = i + 1;
	}
	if (!rc)
		rc = plan_vms(plan, key);
	if (!rc)
		rc = plan_artifacts(plan);
	if (rc)
		goto clean;
	*out = plan;
	plan = NULL;
clean:
	plan_free(plan);
	return rc;
}

static void plan_file_release(struct pf_plan_file *f)
{
	free(f->name);
	free(f->url);
	free(f->source);
	free(f->sha256);
}

void plan_free(struct pf_plan *plan)
{
	if (!plan)
		return;
	for (size_t i = 0; i < plan->nhosts; i++) {
		struct pf_plan_host *ph = &plan->hosts[i];

		free(ph->name);
		strlist_release(&ph->macs);
		plan_file_release(&ph->kernel);
		for (size_t k = 0; ph->initrds && k < ph->ninitrds; k++)
			plan_file_release(&ph->initrds[k]);
		free(ph->initrds);
		cmdline_release(&ph->cmdline);
		free(ph->cmdline_text);
		strlist_release(&ph->nixos_params);
		strlist_release(&ph->modules);
		free(ph->module_marks);
		strlist_release(&ph->vfio_ids);
		modclosure_release(&ph->closure);
		cloudinit_release(&ph->cloudinit);
	}
	free(plan->hosts);
	for (size_t i = 0; i < plan->nvms; i++)
		plan_vm_release(&plan->vms[i]);
	free(plan->vms);
	free(plan->base_url);
	free(plan);
}

const struct pf_plan_host *plan_host_find(const struct pf_plan *plan,
					  const char *name)
{
	for (size_t i = 0; i < plan->nhosts; i++)
		if (strcmp(plan->hosts[i].name, name) == 0)
			return &plan->hosts[i];
	return NULL;
}
