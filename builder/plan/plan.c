/* plan_build: every decision for every host — file names and URLs, the
 * ordered kernel command line, early modules, vfio-pci ids. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/secret.h"
#include "pxeforge/plan/plan.h"

#include "plan_artifacts.h"

static const char *const vfio_modules[] = { "vfio_pci", "vfio",
					    "vfio_iommu_type1" };

/* Module names compare with '-' and '_' as one, as modprobe does. */
static bool module_name_equal(const char *a, const char *b)
{
	while (*a && *b && (*a == *b || (strchr("-_", *a) && strchr("-_", *b)))) {
		a++;
		b++;
	}
	return !*a && !*b;
}

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
		     const struct pf_bootfile *f, const char *dflt,
		     struct pf_plan_file *out)
{
	const char *name = f && f->name.s ? f->name.s : dflt;
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

/* Where the host's initrds come from: its own list, the defaults', or
 * neither (NULL: the one default initrd). */
static const struct pf_boot *initrds_source(const struct pf_plan *plan,
					    const struct pf_host *h)
{
	const struct pf_boot *dflt = &plan->profile->defaults;

	return h->boot.has_initrds ? &h->boot : dflt->has_initrds ? dflt : NULL;
}

/* The host's kernel, the defaults', or NULL: the default kernel. */
static const struct pf_bootfile *kernel_source(const struct pf_plan *plan,
					       const struct pf_host *h)
{
	const struct pf_boot *dflt = &plan->profile->defaults;

	return h->boot.has_kernel ? &h->boot.kernel :
	       dflt->has_kernel ? &dflt->kernel : NULL;
}

static int plan_files(const struct pf_plan *plan, const struct pf_host *h,
		      struct pf_plan_host *ph)
{
	const struct pf_boot *b = initrds_source(plan, h);
	const struct pf_bootfile *k = kernel_source(plan, h);
	int rc;

	rc = plan_file(plan, ph->name, k, "bzImage", &ph->kernel);
	if (rc)
		return rc;
	/* NixOS and most distributions boot one kernel and one "initrd". */
	ph->ninitrds = b ? b->ninitrds : 1;
	ph->initrds = calloc(ph->ninitrds ? ph->ninitrds : 1,
			     sizeof(*ph->initrds));
	if (!ph->initrds)
		return -ENOMEM;
	for (size_t i = 0; i < ph->ninitrds; i++) {
		rc = plan_file(plan, ph->name, b ? &b->initrds[i] : NULL,
			       "initrd", &ph->initrds[i]);
		if (rc)
			return rc;
	}
	return 0;
}

static const char *overlay_name(enum pf_compress c)
{
	return c == PF_COMPRESS_ZSTD ? "overlay.cpio.zst" : "overlay.cpio.gz";
}

/* The overlay goes after the base initrds: Linux unpacks them in order, so
 * its files add to (or replace) theirs. It exists when it has something
 * to say: VFIO configuration, early modules or the NoCloud seed. */
static int plan_overlay(const struct pf_plan *plan, const struct pf_host *h,
			struct pf_plan_host *ph, struct pf_diag *d)
{
	const struct pf_boot *dflt = &plan->profile->defaults;
	const struct pf_boot *dir = h->boot.modules_path ? &h->boot :
				    dflt->modules_path ? dflt : NULL;
	struct pf_plan_file *v;
	struct pf_modreq *req;
	int rc;

	ph->compression = h->boot.compression ? h->boot.compression :
			  dflt->compression ? dflt->compression :
			  PF_COMPRESS_GZIP;
	if (!ph->vfio && !ph->modules.n &&
	    !(ph->cloudinit.enabled && ph->cloudinit.seed == PF_SEED_OVERLAY))
		return 0;
	v = realloc(ph->initrds, (ph->ninitrds + 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ph->initrds = v;
	memset(&v[ph->ninitrds], 0, sizeof(*v));
	rc = plan_file(plan, ph->name, NULL, overlay_name(ph->compression),
		       &v[ph->ninitrds]);
	ph->overlay = &v[ph->ninitrds++];
	if (rc || !dir)
		return rc;
	req = calloc(ph->modules.n ? ph->modules.n : 1, sizeof(*req));
	if (!req)
		return -ENOMEM;
	for (size_t i = 0; i < ph->modules.n; i++) {
		req[i].name = ph->modules.v[i];
		req[i].mark = ph->module_marks[i];
	}
	ph->has_closure = true;
	rc = modclosure_resolve(dir->modules_path, &dir->modules_dir.mark, req,
				ph->modules.n, d, &ph->closure);
	free(req);
	return rc;
}

/* iPXE and initrd=<name> tell images apart by name only; the overlay's
 * name is pxeforge's, so the profile's images must avoid it. */
static int plan_check_names(const struct pf_plan *plan, const struct pf_host *h,
			    const struct pf_plan_host *ph, struct pf_diag *d)
{
	const struct pf_boot *b = initrds_source(plan, h);
	const struct pf_bootfile *k = kernel_source(plan, h);
	size_t nuser = ph->ninitrds - (ph->overlay ? 1 : 0);
	int rc = 0;

	for (size_t i = 0; i <= nuser; i++) {
		const char *name = i < nuser ? ph->initrds[i].name :
				   ph->kernel.name;
		const struct pf_bootfile *f = i < nuser ? b ? &b->initrds[i] :
					      NULL : k;
		const struct pf_mark *at = f && f->name.s ? &f->name.mark :
					   &h->mark;
		const char *other = i < nuser && !strcmp(name, ph->kernel.name) ?
				    "the kernel" : NULL;

		for (size_t j = 0; j < i && i < nuser && !other; j++)
			if (!strcmp(name, ph->initrds[j].name))
				other = "another initrd";
		if (!other && ph->overlay && !strcmp(name, ph->overlay->name))
			other = "pxeforge's initrd overlay";
		if (other) {
			diag_error(d, at,
				   "image name '%s' of host '%s' is also the name of %s; initrd=<name> must tell them apart",
				   name, ph->name, other);
			rc = -EINVAL;
		}
	}
	return rc;
}

struct cmdline_ctx {
	struct pf_plan_host *ph;
	struct pf_diag *d;
	int rc;		/* -ENOMEM ends the plan; -EINVAL is remembered */
};

static void add_token(struct cmdline_ctx *c, const char *token,
		      const char *source, const struct pf_mark *at)
{
	int rc;

	if (cmdline_key_equal(token, "initrd")) {
		diag_error(c->d, at,
			   "kernel parameter '%s' is not yours to set: pxeforge adds initrd=<name> for each file under 'initrds'",
			   token);
		rc = -EINVAL;
	} else {
		rc = cmdline_add(&c->ph->cmdline, token, source, at, c->d);
	}
	if (rc && (!c->rc || rc == -ENOMEM))
		c->rc = rc;
}

static void add_list(struct cmdline_ctx *c, const struct pf_strv *v,
		     const char *prefix, const char *source)
{
	for (size_t i = 0; i < v->n; i++) {
		char *token;

		if (asprintf(&token, "%s%s", prefix, v->v[i].s) < 0) {
			c->rc = -ENOMEM;
			return;
		}
		add_token(c, token, source, &v->v[i].mark);
		free(token);
	}
}

static const struct pf_gpu *first_vfio_gpu(const struct pf_host *h)
{
	for (size_t g = 0; g < h->ngpus; g++)
		if (h->gpus[g].role == PF_ROLE_VFIO)
			return &h->gpus[g];
	return NULL;
}

static int plan_vfio(const struct pf_host *h, struct pf_plan_host *ph)
{
	bool host_gpu = false;
	char id[10];
	int rc;

	for (size_t g = 0; g < h->ngpus; g++) {
		const struct pf_gpu *gpu = &h->gpus[g];

		if (gpu->role == PF_ROLE_HOST) {
			/* only an NVIDIA device kept by the host needs nouveau */
			host_gpu |= gpu->pci.id_ok && gpu->pci.vendor == 0x10de;
			continue;
		}
		ph->vfio = true;
		snprintf(id, sizeof(id), "%04x:%04x", gpu->pci.vendor,
			 gpu->pci.device);
		rc = gpu->pci.id_ok ? strlist_push_unique(&ph->vfio_ids, id) : 0;
		for (size_t f = 0; f < gpu->nfunctions && !rc; f++) {
			if (!gpu->functions[f].id_ok)
				continue;
			snprintf(id, sizeof(id), "%04x:%04x",
				 gpu->functions[f].vendor,
				 gpu->functions[f].device);
			rc = strlist_push_unique(&ph->vfio_ids, id);
		}
		if (rc)
			return rc;
	}
	ph->blacklist_nouveau = ph->vfio && !host_gpu;
	return 0;
}

/* With from_json the NixOS configuration is the source of truth: when it
 * lacks what VFIO needs, the host would boot right from iPXE but wrong
 * from anything else NixOS boots it with. Say what is missing. */
static int plan_check_nixos_vfio(const struct pf_host *h,
				 const struct pf_plan_host *ph,
				 struct pf_diag *d)
{
	struct pf_cmdline nx;
	struct pf_diag *scratch = diag_new();
	struct pf_buf params, mods;
	const struct pf_param *p;
	int rc = 0;

	if (!scratch)
		return -ENOMEM;
	cmdline_init(&nx);
	buf_init(&params);
	buf_init(&mods);
	/* conflicts among these are reported by plan_cmdline already */
	for (size_t i = 0; i < h->nixos.kernel_params.n && rc != -ENOMEM; i++)
		rc = cmdline_add(&nx, h->nixos.kernel_params.v[i].s, "nixos",
				 NULL, scratch);
	if (rc == -ENOMEM)
		goto clean;
	rc = 0;
	p = cmdline_find(&nx, "intel_iommu");
	if (h->cpu == PF_CPU_INTEL &&
	    (!p || !cmdline_list_has(p->value, "on", true)))
		rc = buf_puts(&params, " intel_iommu=on");
	p = cmdline_find(&nx, "iommu");
	if (!rc && (!p || !p->value || strcmp(p->value, "pt") != 0))
		rc = buf_puts(&params, " iommu=pt");
	p = cmdline_find(&nx, "vfio_pci.ids");
	for (size_t i = 0, first = 1; i < ph->vfio_ids.n && !rc; i++) {
		if (p && cmdline_list_has(p->value, ph->vfio_ids.v[i], true))
			continue;
		rc = buf_printf(&params, "%s%s", first ? " vfio-pci.ids=" : ",",
				ph->vfio_ids.v[i]);
		first = 0;
	}
	for (size_t i = 0; i < 3 && !rc; i++) {
		bool found = false;

		for (size_t m = 0; m < h->nixos.initrd_modules.n && !found; m++)
			found = module_name_equal(h->nixos.initrd_modules.v[m].s,
						  vfio_modules[i]);
		if (!found)
			rc = buf_printf(&mods, " %s", vfio_modules[i]);
	}
	if (!rc && (params.len || mods.len)) {
		diag_error(d, &h->nixos.from_json.mark,
			   "NixOS configuration '%s' cannot bind the GPUs of host '%s' to VFIO:%s%s%s%s%s (nixosModules.vfio sets both)",
			   h->nixos.from_json.s, ph->name,
			   params.len ? " boot.kernelParams lacks" : "",
			   params.len ? params.data : "",
			   params.len && mods.len ? ";" : "",
			   mods.len ? " boot.initrd.kernelModules lacks" : "",
			   mods.len ? mods.data : "");
		rc = -EINVAL;
	}
clean:
	buf_release(&params);
	buf_release(&mods);
	cmdline_release(&nx);
	diag_free(scratch);
	return rc;
}

static int plan_cmdline(const struct pf_plan *plan, const struct pf_host *h,
			struct pf_plan_host *ph, struct pf_diag *d)
{
	const struct pf_boot *dflt = &plan->profile->defaults;
	const struct pf_strv *console = h->boot.console.given ?
					&h->boot.console : &dflt->console;
	const char *nixos_src = h->nixos.from_json.s ? "nixos from_json" :
						       "nixos kernel_params";
	struct cmdline_ctx c = { ph, d, 0 };
	const struct pf_gpu *gpu = first_vfio_gpu(h);
	char *token = NULL;

	if (h->nixos.toplevel.s) {
		if (asprintf(&token, "init=%s/init", h->nixos.toplevel.s) < 0)
			return -ENOMEM;
		add_token(&c, token, "nixos toplevel", &h->nixos.toplevel.mark);
		free(token);
		token = NULL;
	}
	add_list(&c, &h->nixos.kernel_params, "", nixos_src);
	add_list(&c, console, "console=", "console");
	add_list(&c, &dflt->kernel_params, "", "defaults kernel_params");
	if (ph->vfio && h->cpu == PF_CPU_INTEL)
		add_token(&c, "intel_iommu=on", "VFIO on an intel cpu",
			  &h->cpu_str.mark);
	/* amd_iommu=on is not an option current kernels accept; AMD's IOMMU
	 * is on by default, pass-through mode is what VFIO hosts want. */
	if (ph->vfio && h->cpu != PF_CPU_UNSET)
		add_token(&c, "iommu=pt", h->cpu == PF_CPU_INTEL ?
			  "VFIO on an intel cpu" : "VFIO on an amd cpu",
			  &h->cpu_str.mark);
	if (ph->vfio_ids.n) {
		struct pf_buf b;

		buf_init(&b);
		for (size_t i = 0; i < ph->vfio_ids.n && !c.rc; i++)
			if (buf_printf(&b, "%s%s", i ? "," : "vfio-pci.ids=",
				       ph->vfio_ids.v[i]))
				c.rc = -ENOMEM;
		if (!c.rc)
			add_token(&c, b.data, "gpus with role vfio",
				  &gpu->pci.mark);
		buf_release(&b);
	}
	add_list(&c, &h->boot.kernel_params, "", "host kernel_params");
	if (ph->cloudinit.enabled && ph->cloudinit.seed == PF_SEED_URL) {
		/* NoCloud's own syntax: "s=" then the seed directory, with
		 * its trailing '/'; one token, no quotes. */
		if (asprintf(&token, "ds=nocloud;s=%s",
			     ph->cloudinit.seed_url) < 0)
			return -ENOMEM;
		add_token(&c, token, "cloud_init seed", &ph->cloudinit.seed_mark);
		free(token);
		token = NULL;
	}
	for (size_t i = 0; i < ph->ninitrds && c.rc != -ENOMEM; i++) {
		if (asprintf(&token, "initrd=%s", ph->initrds[i].name) < 0)
			return -ENOMEM;
		if (cmdline_add(&ph->cmdline, token, "initrds", &h->mark, d) ==
		    -ENOMEM)
			c.rc = -ENOMEM;
		free(token);
		token = NULL;
	}
	if (c.rc)
		return c.rc;
	return cmdline_check_length(&ph->cmdline, ph->kernel.name, ph->name,
				    &h->mark, d);
}

static bool module_name_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

static bool module_listed(const struct pf_strlist *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (module_name_equal(l->v[i], name))
			return true;
	return false;
}

static int push_module(struct pf_plan_host *ph, const char *name,
		       const struct pf_mark *at)
{
	struct pf_mark *v = realloc(ph->module_marks,
				    (ph->modules.n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	ph->module_marks = v;
	v[ph->modules.n] = at ? *at : (struct pf_mark){ 0 };
	return strlist_push(&ph->modules, name);
}

static int plan_modules(const struct pf_plan *plan, const struct pf_host *h,
			struct pf_plan_host *ph, struct pf_diag *d)
{
	const struct pf_strv *lists[] = { &h->nixos.initrd_modules,
					  &plan->profile->defaults.initrd_modules,
					  &h->boot.initrd_modules };
	int rc = 0;

	for (size_t i = 0; ph->vfio && i < 3 && !rc; i++)
		rc = push_module(ph, vfio_modules[i], NULL);
	for (size_t l = 0; l < 3 && rc != -ENOMEM; l++) {
		for (size_t i = 0; i < lists[l]->n; i++) {
			const struct pf_str *m = &lists[l]->v[i];

			if (!module_name_valid(m->s)) {
				diag_error(d, &m->mark,
					   "invalid module name '%s' (letters, digits, '_' and '-')",
					   m->s);
				rc = -EINVAL;
			} else if (!module_listed(&ph->modules, m->s) &&
				   push_module(ph, m->s, &m->mark)) {
				return -ENOMEM;
			}
		}
	}
	return rc;
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

static int plan_host(const struct pf_plan *plan, const struct pf_host *h,
		     const unsigned char *key, struct pf_plan_host *ph,
		     struct pf_diag *d)
{
	int rc, first = 0;

	ph->host = h;
	cmdline_init(&ph->cmdline);
	strlist_init(&ph->macs);
	strlist_init(&ph->nixos_params);
	strlist_init(&ph->modules);
	strlist_init(&ph->vfio_ids);
	modclosure_init(&ph->closure);
	cloudinit_init(&ph->cloudinit);
	/* Plan runs on profiles with validation errors too, so that all
	 * problems are reported together: skip what validation rejected. */
	ph->name = strdup(h->name.s ? h->name.s : "");
	if (!ph->name)
		return -ENOMEM;
	for (size_t i = 0; i < h->macs.n; i++) {
		char mac[18];

		if (!mac_valid(h->macs.v[i].s))
			continue;
		mac_normalise(h->macs.v[i].s, mac);
		rc = strlist_push(&ph->macs, mac);
		if (rc)
			return rc;
	}
	rc = plan_files(plan, h, ph);
	if (!rc)
		rc = plan_vfio(h, ph);
	if (rc)
		return rc;
	/* Every check runs so that all of a host's problems are reported. */
	first = ph->vfio && h->nixos.from_json_ok ?
		plan_check_nixos_vfio(h, ph, d) : 0;
	if (first == -ENOMEM)
		return first;
	rc = plan_modules(plan, h, ph, d);
	if (rc == -ENOMEM)
		return rc;
	first = first ? first : rc;
	rc = plan_cloudinit_host(plan, h, ph, key, d, &ph->cloudinit);
	if (rc == -ENOMEM)
		return rc;
	first = first ? first : rc;
	rc = plan_overlay(plan, h, ph, d);
	if (rc == -ENOMEM)
		return rc;
	first = first ? first : rc;
	rc = plan_check_names(plan, h, ph, d);
	first = first ? first : rc;
	rc = plan_cmdline(plan, h, ph, d);
	if (rc == -ENOMEM)
		return rc;
	if (first || rc)
		return first ? first : rc;
	rc = cmdline_format(&ph->cmdline, &ph->cmdline_text);
	if (!rc)
		rc = plan_nixos_params(ph);
	return rc;
}

/* The cluster secret, when the profile names one: checked even when no
 * host uses it, so a bad key file is found before it matters. */
static int plan_secret(const struct pf_profile *p, struct pf_diag *d,
		       unsigned char key[PF_SECRET_LEN], bool *have)
{
	int rc;

	*have = false;
	if (!p->cluster_secret_path)
		return 0;
	rc = secret_load(p->cluster_secret_path, key);
	if (rc == -ENOMEM)
		return rc;
	if (rc) {
		diag_error(d, &p->cluster_secret.mark, "cluster secret '%s' %s",
			   p->cluster_secret_path, secret_problem(rc));
		return -EINVAL;
	}
	*have = true;
	return 0;
}

int plan_build(const struct pf_profile *p, struct pf_diag *d,
	       struct pf_plan **out)
{
	unsigned char key[PF_SECRET_LEN];
	struct pf_plan *plan;
	bool have_key = false;
	int rc = 0, hrc;

	*out = NULL;
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return -ENOMEM;
	plan->profile = p;
	if (p->base_url.s) {
		size_t len = strlen(p->base_url.s);

		while (len > 1 && p->base_url.s[len - 1] == '/')
			len--;
		plan->base_url = strndup(p->base_url.s, len);
		if (!plan->base_url) {
			rc = -ENOMEM;
			goto clean;
		}
	}
	plan->hosts = calloc(p->nhosts ? p->nhosts : 1, sizeof(*plan->hosts));
	if (!plan->hosts) {
		rc = -ENOMEM;
		goto clean;
	}
	rc = plan_secret(p, d, key, &have_key);
	if (rc == -ENOMEM)
		goto clean;
	for (size_t i = 0; i < p->nhosts; i++) {
		hrc = plan_host(plan, &p->hosts[i], have_key ? key : NULL,
				    &plan->hosts[i], d);

		plan->nhosts = i + 1;
		if (hrc == -ENOMEM) {
			rc = hrc;
			goto clean;
		}
		if (hrc && !rc)
			rc = -EINVAL;
	}
	hrc = plan_vms(plan, have_key ? key : NULL, d);
	if (hrc == -ENOMEM) {
		rc = hrc;
		goto clean;
	}
	if (hrc && !rc)
		rc = -EINVAL;
	if (!rc)
		rc = plan_artifacts(plan);
	if (rc)
		goto clean;
	*out = plan;
	plan = NULL;
clean:
	secret_wipe(key, sizeof(key));
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
