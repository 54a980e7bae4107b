/* host_facts: what a host's entries imply — its VFIO ids, early modules,
 * seed, image names and kernel command line — for validate to check and
 * plan to keep. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "pxeforge/lib/buf.h"
#include "pxeforge/profile/inputs.h"
#include "pxeforge/validate/derive.h"
#include "pxeforge/validate/values.h"

bool module_name_equal(const char *a, const char *b)
{
	while (*a && *b && (*a == *b || (strchr("-_", *a) && strchr("-_", *b)))) {
		a++;
		b++;
	}
	return !*a && !*b;
}

const char *overlay_name(enum pf_compress c)
{
	return c == PF_COMPRESS_ZSTD ? "overlay.cpio.zst" : "overlay.cpio.gz";
}

/* vfio-pci binds by id: each id of a GPU with role vfio and of its other
 * functions, once. */
static int host_vfio(const struct pf_host *h, struct pf_host_facts *f)
{
	char id[10];
	int rc = 0;

	for (size_t g = 0; g < h->ngpus && !rc; g++) {
		const struct pf_gpu *gpu = &h->gpus[g];
		struct pf_pci v = pcifn_read(&gpu->pci);

		if (gpu->role == PF_ROLE_HOST)
			continue;
		f->vfio = true;
		snprintf(id, sizeof(id), "%04x:%04x", v.vendor, v.device);
		rc = v.id_ok ? strlist_push_unique(&f->vfio_ids, id) : 0;
		for (size_t i = 0; i < gpu->nfunctions && !rc; i++) {
			v = pcifn_read(&gpu->functions[i]);
			if (!v.id_ok)
				continue;
			snprintf(id, sizeof(id), "%04x:%04x", v.vendor, v.device);
			rc = strlist_push_unique(&f->vfio_ids, id);
		}
	}
	return rc;
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

static int push_module(struct pf_host_facts *f, const char *name,
		       const struct pf_mark *at)
{
	struct pf_mark *v = realloc(f->module_marks,
				    (f->modules.n + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	f->module_marks = v;
	v[f->modules.n] = at ? *at : (struct pf_mark){ 0 };
	return strlist_push(&f->modules, name);
}

/* VFIO's modules first, then NixOS's, the defaults' and the host's. */
static int host_modules(const struct pf_profile *p, const struct pf_host *h,
			struct pf_diag *d, struct pf_host_facts *f)
{
	const struct pf_strv *lists[] = { &h->nixos.initrd_modules,
					  &p->defaults.initrd_modules,
					  &h->boot.initrd_modules };
	int rc = 0;

	for (size_t i = 0; f->vfio && i < PF_NVFIO_MODULES && !rc; i++)
		rc = push_module(f, pf_vfio_modules[i], NULL);
	for (size_t l = 0; l < 3 && rc != -ENOMEM; l++) {
		for (size_t i = 0; i < lists[l]->n; i++) {
			const struct pf_str *m = &lists[l]->v[i];

			if (!module_name_valid(m->s)) {
				report(d, &m->mark,
				       "invalid module name '%s' (letters, digits, '_' and '-')",
				       m->s);
				rc = -EINVAL;
			} else if (!module_listed(&f->modules, m->s) &&
				   push_module(f, m->s, &m->mark)) {
				return -ENOMEM;
			}
		}
	}
	return rc;
}

static bool http_url(const char *s)
{
	return (!strncmp(s, "http://", 7) && s[7]) ||
	       (!strncmp(s, "https://", 8) && s[8]);
}

char *base_url_trimmed(const struct pf_profile *p)
{
	size_t len = strlen(p->base_url.s);

	while (len > 1 && p->base_url.s[len - 1] == '/')
		len--;
	return strndup(p->base_url.s, len);
}

/* ds=nocloud;s=<url>/: cloud-init fetches <url>/user-data and the rest. */
static int host_seed(const struct pf_profile *p, const struct pf_host *h,
		     struct pf_diag *d, struct pf_host_facts *f)
{
	const struct pf_cloudinit_cfg *hc = &h->cloud_init, *dc = &p->cloud_init;
	const struct pf_str *url = cloudinit_str(&hc->seed_url, &dc->seed_url);
	const struct pf_str *seed = cloudinit_str(&hc->seed, &dc->seed);
	const struct pf_mark *at = seed->s ? &seed->mark : &url->mark;
	enum pf_seed v = hc->seed_v ? hc->seed_v : dc->seed_v;
	char *base_url = NULL;
	const char *base;
	size_t len;
	int rc = 0;

	f->seed = v ? v : url->s ? PF_SEED_URL : PF_SEED_OVERLAY;
	f->seed_mark = *at;
	/* checked even with seed: overlay, as every value is */
	if (url->s && !http_url(url->s)) {
		report(d, &url->mark,
		       "seed_url '%s' is not an http:// or https:// URL", url->s);
		return -EINVAL;
	}
	if (f->seed == PF_SEED_OVERLAY || f->seed == PF_SEED_ISO)
		return 0;	/* iso: found by its label, no URL */
	/* base_url as the scripts use it: without its trailing '/' */
	if (!url->s && p->base_url.s && !(base_url = base_url_trimmed(p)))
		return -ENOMEM;
	base = url->s ? url->s : base_url;
	if (!base || !http_url(base)) {
		report(d, at,
		       "seed: url for host '%s' needs 'seed_url' or an http:// or https:// base_url to serve the seed from",
		       f->name);
		rc = -EINVAL;
		goto clean;
	}
	len = strlen(base);
	while (len > 1 && base[len - 1] == '/')
		len--;
	if (asprintf(&f->seed_url, "%.*s/%s/cloud-init/", (int)len, base,
		     f->name) < 0) {
		f->seed_url = NULL;
		rc = -ENOMEM;
	}
clean:
	free(base_url);
	return rc;
}

/* Image names: the profile's or the defaults ("bzImage", one "initrd"),
 * then the overlay. */
static int host_images(const struct pf_profile *p, const struct pf_host *h,
		       struct pf_host_facts *f)
{
	const struct pf_boot *dflt = &p->defaults;
	const struct pf_boot *b;
	int rc = 0;

	f->kernel_file = h->boot.has_kernel ? &h->boot.kernel :
			 dflt->has_kernel ? &dflt->kernel : NULL;
	b = h->boot.has_initrds ? &h->boot : dflt->has_initrds ? dflt : NULL;
	f->initrds_from = b;
	f->kernel = f->kernel_file && f->kernel_file->name.s ?
		    f->kernel_file->name.s : "bzImage";
	/* NixOS and most distributions boot one kernel and one "initrd". */
	for (size_t i = 0; i < (b ? b->ninitrds : 1) && !rc; i++)
		rc = strlist_push(&f->initrds, b && b->initrds[i].name.s ?
					       b->initrds[i].name.s : "initrd");
	if (!rc && f->overlay)
		rc = strlist_push(&f->initrds, overlay_name(f->compression));
	return rc;
}

/* iPXE and initrd=<name> tell images apart by name only; the overlay's
 * name is pxeforge's, so the profile's images must avoid it. */
static int check_images(const struct pf_host *h, const struct pf_host_facts *f,
			struct pf_diag *d)
{
	size_t nuser = f->initrds.n - (f->overlay ? 1 : 0);
	int rc = 0;

	for (size_t i = 0; i <= nuser; i++) {
		const char *name = i < nuser ? f->initrds.v[i] : f->kernel;
		const struct pf_bootfile *file =
			i < nuser ? f->initrds_from ?
				    &f->initrds_from->initrds[i] : NULL :
				    f->kernel_file;
		const struct pf_mark *at = file && file->name.s ?
					   &file->name.mark : &h->mark;
		const char *other = i < nuser && !strcmp(name, f->kernel) ?
				    "the kernel" : NULL;

		for (size_t j = 0; j < i && i < nuser && !other; j++)
			if (!strcmp(name, f->initrds.v[j]))
				other = "another initrd";
		if (!other && f->overlay &&
		    !strcmp(name, f->initrds.v[f->initrds.n - 1]))
			other = "pxeforge's initrd overlay";
		if (other) {
			report(d, at,
			       "image name '%s' of host '%s' is also the name of %s; initrd=<name> must tell them apart",
			       name, f->name, other);
			rc = -EINVAL;
		}
	}
	return rc;
}

struct cmdline_ctx {
	struct pf_cmdline *cl;
	struct pf_diag *d;
	int rc;		/* -ENOMEM ends it; -EINVAL is remembered */
};

static void add_token(struct cmdline_ctx *c, const char *token,
		      const char *source, const struct pf_mark *at)
{
	int rc;

	if (cmdline_key_equal(token, "initrd")) {
		report(c->d, at,
		       "kernel parameter '%s' is not yours to set: pxeforge adds initrd=<name> for each file under 'initrds'",
		       token);
		rc = -EINVAL;
	} else {
		rc = cmdline_add(c->cl, token, source, at, c->d);
	}
	if (rc && (!c->rc || rc == -ENOMEM))
		c->rc = rc;
}

/* "<prefix><value>" as one token. */
static void add_joined(struct cmdline_ctx *c, const char *prefix,
		       const char *value, const char *suffix,
		       const char *source, const struct pf_mark *at)
{
	char *token;

	if (asprintf(&token, "%s%s%s", prefix, value, suffix) < 0) {
		c->rc = -ENOMEM;
		return;
	}
	add_token(c, token, source, at);
	free(token);
}

static void add_list(struct cmdline_ctx *c, const struct pf_strv *v,
		     const char *prefix, const char *source)
{
	for (size_t i = 0; i < v->n && c->rc != -ENOMEM; i++)
		add_joined(c, prefix, v->v[i].s, "", source, &v->v[i].mark);
}

static const struct pf_gpu *first_vfio_gpu(const struct pf_host *h)
{
	for (size_t g = 0; g < h->ngpus; g++)
		if (h->gpus[g].role == PF_ROLE_VFIO)
			return &h->gpus[g];
	return NULL;
}

static int host_cmdline(const struct pf_profile *p, const struct pf_host *h,
			struct pf_diag *d, struct pf_host_facts *f)
{
	const struct pf_boot *dflt = &p->defaults;
	const struct pf_strv *console = h->boot.console.given ?
					&h->boot.console : &dflt->console;
	const char *nixos_src = h->nixos.from_json.s ? "nixos from_json" :
						       "nixos kernel_params";
	struct cmdline_ctx c = { &f->cmdline, d, 0 };
	const struct pf_gpu *gpu = first_vfio_gpu(h);

	if (h->nixos.toplevel.s)
		add_joined(&c, "init=", h->nixos.toplevel.s, "/init",
			   "nixos toplevel", &h->nixos.toplevel.mark);
	add_list(&c, &h->nixos.kernel_params, "", nixos_src);
	add_list(&c, console, "console=", "console");
	/* without what the host's '-name' entries removed */
	add_list(&c, h->has_defaults_params ? &h->defaults_params :
		 &dflt->kernel_params, "", "defaults kernel_params");
	if (f->vfio && h->cpu == PF_CPU_INTEL)
		add_token(&c, "intel_iommu=on", "VFIO on an intel cpu",
			  &h->cpu_str.mark);
	/* amd_iommu=on is not an option current kernels accept; AMD's IOMMU
	 * is on by default, pass-through mode is what VFIO hosts want. */
	if (f->vfio && h->cpu != PF_CPU_UNSET)
		add_token(&c, "iommu=pt", h->cpu == PF_CPU_INTEL ?
			  "VFIO on an intel cpu" : "VFIO on an amd cpu",
			  &h->cpu_str.mark);
	if (f->vfio_ids.n && c.rc != -ENOMEM) {
		struct pf_buf b;

		buf_init(&b);
		for (size_t i = 0; i < f->vfio_ids.n && !c.rc; i++)
			if (buf_printf(&b, "%s%s", i ? "," : "vfio-pci.ids=",
				       f->vfio_ids.v[i]))
				c.rc = -ENOMEM;
		if (!c.rc)
			add_token(&c, b.data, "gpus with role vfio",
				  &gpu->pci.mark);
		buf_release(&b);
	}
	add_list(&c, &h->boot.kernel_params, "", "host kernel_params");
	/* NoCloud's own syntax: "s=" then the seed directory, with its
	 * trailing '/'; one token, no quotes. */
	if (f->cloudinit && f->seed == PF_SEED_URL && f->seed_url)
		add_joined(&c, "ds=nocloud;s=", f->seed_url, "",
			   "cloud_init seed", &f->seed_mark);
	for (size_t i = 0; i < f->initrds.n && c.rc != -ENOMEM; i++) {
		char *token;

		if (asprintf(&token, "initrd=%s", f->initrds.v[i]) < 0)
			return -ENOMEM;
		if (cmdline_add(&f->cmdline, token, "initrds", &h->mark, d) ==
		    -ENOMEM)
			c.rc = -ENOMEM;
		free(token);
	}
	if (c.rc)
		return c.rc;
	return cmdline_check_length(&f->cmdline, f->kernel, f->name, &h->mark,
				    d) ? -EINVAL : 0;
}

static void keep_first(int *bad, int rc)
{
	if (rc && (!*bad || rc == -ENOMEM))
		*bad = rc;
}

int host_facts(const struct pf_profile *p, const struct pf_host *h,
	       struct pf_diag *d, struct pf_host_facts *f)
{
	const struct pf_boot *dflt = &p->defaults;
	int bad = 0;

	memset(f, 0, sizeof(*f));
	strlist_init(&f->vfio_ids);
	strlist_init(&f->modules);
	strlist_init(&f->initrds);
	cmdline_init(&f->cmdline);
	f->name = h->name.s ? h->name.s : "";
	keep_first(&bad, host_vfio(h, f));
	if (bad == -ENOMEM)
		return bad;
	keep_first(&bad, host_modules(p, h, d, f));
	f->cloudinit = h->cloud_init.given || p->cloud_init.given;
	if (bad != -ENOMEM && f->cloudinit)
		keep_first(&bad, host_seed(p, h, d, f));
	if (bad == -ENOMEM)
		return bad;
	f->compression = h->boot.compression ? h->boot.compression :
			 dflt->compression ? dflt->compression :
			 PF_COMPRESS_GZIP;
	/* The overlay exists when it has something to say: VFIO
	 * configuration, early modules or the NoCloud seed. */
	f->overlay = f->vfio || f->modules.n ||
		     (f->cloudinit && f->seed == PF_SEED_OVERLAY);
	f->modules_tree = h->boot.modules_path ? &h->boot :
			  dflt->modules_path ? dflt : NULL;
	keep_first(&bad, host_images(p, h, f));
	if (bad == -ENOMEM)
		return bad;
	keep_first(&bad, check_images(h, f, d));
	keep_first(&bad, host_cmdline(p, h, d, f));
	return bad;
}

void host_facts_release(struct pf_host_facts *f)
{
	if (!f)
		return;
	strlist_release(&f->vfio_ids);
	strlist_release(&f->modules);
	free(f->module_marks);
	free(f->seed_url);
	strlist_release(&f->initrds);
	cmdline_release(&f->cmdline);
	memset(f, 0, sizeof(*f));
}
