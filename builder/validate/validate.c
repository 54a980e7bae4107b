/* profile_validate: semantic checks over a parsed profile, its hosts
 * here (vms[] in validate_vm.c, what the entries imply in
 * validate_nodes.c). Every problem is reported; nothing stops at the
 * first. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "checks.h"
#include "pxeforge/lib/pciid.h"
#include "pxeforge/lib/strindex.h"
#include "pxeforge/validate/cmdline.h"
#include "pxeforge/validate/validate.h"
#include "pxeforge/validate/values.h"

/* Top-level names of the output tree: a host cannot be called so. */
static const char reserved_names[] = "hosts, vms, kubevirt, boot.ipxe, manifest.json";

static bool name_reserved(const char *s)
{
	static const char *const names[] = { "hosts", "vms", "kubevirt",
					     "boot.ipxe", "manifest.json" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i]) == 0)
			return true;
	return false;
}

static bool url_valid(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s) ||
		    (s[0] == '$' && s[1] == '{'))
			return false;
	return true;
}

/* A file name iPXE loads and names: one path component of a URL. */
static bool image_name_valid(const char *s)
{
	return url_valid(s) && !strchr(s, '/') && strcmp(s, ".") != 0 &&
	       strcmp(s, "..") != 0;
}

static bool url_has_scheme(const char *s)
{
	const char *sep = strstr(s, "://");

	if (!sep || sep == s)
		return false;
	for (const char *p = s; p < sep; p++)
		if (!isalnum((unsigned char)*p) && !strchr("+-.", *p))
			return false;
	return true;
}

/* The script writes image names and URLs as words of iPXE commands:
 * a word iPXE reads as a comment or a command separator would end the
 * command early (blanks, control characters and '${' are refused above). */
static void check_script_word(const struct pf_str *v, const char *what,
			      struct pf_diag *d)
{
	const char *problem = cmdline_token_problem(v->s);

	if (problem)
		diag_error(d, &v->mark, "invalid %s '%s': it %s", what, v->s,
			   problem);
}

static void check_bootfile(const struct pf_bootfile *f,
			   const struct pf_profile_inputs *in, struct pf_diag *d)
{
	if (f->name.s && !image_name_valid(f->name.s))
		diag_error(d, &f->name.mark,
			   "invalid image name '%s' (one file name: no '/', blanks or '${')",
			   f->name.s);
	if (f->url.s && !url_valid(f->url.s))
		diag_error(d, &f->url.mark,
			   "invalid url '%s' (iPXE cannot load a URL with blanks or '${')",
			   f->url.s);
	else if (f->url.s && strstr(f->url.s, "://") && !url_has_scheme(f->url.s))
		diag_error(d, &f->url.mark, "invalid url '%s' (no scheme before '://')",
			   f->url.s);
	else if (f->url.s && !url_has_scheme(f->url.s) && f->url.s[0] == '/')
		diag_error(d, &f->url.mark,
			   "url '%s' starts with '/': give a full URL, or a path relative to the served tree",
			   f->url.s);
	if (f->name.s && image_name_valid(f->name.s))
		check_script_word(&f->name, "image name", d);
	if (f->url.s && url_valid(f->url.s))
		check_script_word(&f->url, "url", d);
	if (f->url.s && f->source.s)
		diag_error(d, &f->source.mark,
			   "'source' and 'url' together: 'url' makes iPXE load the file from elsewhere, 'source' puts it in OUT/<host>/; give one");
	check_fetch_source(&f->source, f->source_path, &f->sha256, "source",
			   in, d);
}

static void check_bootfiles(const struct pf_boot *b,
			    const struct pf_profile_inputs *in, struct pf_diag *d)
{
	if (b->has_kernel)
		check_bootfile(&b->kernel, in, d);
	for (size_t i = 0; i < b->ninitrds; i++)
		check_bootfile(&b->initrds[i], in, d);
}

static void check_pcifn(const struct pf_pcifn *fn, struct pf_diag *d)
{
	struct pf_pci v = pcifn_read(fn);

	if (fn->address.s && !v.addr_ok)
		diag_error(d, &fn->address.mark,
			   "invalid PCI address '%s' (expected domain:bus:device.function, e.g. '0000:1a:00.0')",
			   fn->address.s);
	if (fn->id.s && !v.id_ok)
		diag_error(d, &fn->id.mark,
			   "invalid PCI id '%s' (expected vendor:device in hex, e.g. '10de:1db1')",
			   fn->id.s);
}

static void check_known_id(const struct pf_pcifn *fn, struct pf_diag *d)
{
	struct pf_pci v = pcifn_read(fn);
	const struct pf_pci_card *near;

	if (!v.id_ok || pciid_name(v.vendor, v.device))
		return;
	near = pciid_card_near(v.vendor, v.device);
	if (near)
		diag_error(d, &fn->id.mark,
			   "unknown PCI id '%s' (did you mean '%04x:%04x', %s?)",
			   fn->id.s, near->vendor, near->device, near->model);
	else
		diag_warn(d, &fn->id.mark,
			  "unknown PCI id '%s' (not in the built-in table or pci.ids); check it with lspci -nn",
			  fn->id.s);
}

static void check_model(const struct pf_gpu *g, struct pf_diag *d)
{
	struct pf_pci v = pcifn_read(&g->pci);
	const struct pf_pci_card *want, *have;
	const char *name, *hint;

	if (!g->model.s || !v.id_ok)
		return;
	want = pciid_card_by_model(g->model.s);
	if (!want) {
		hint = pciid_model_suggest(g->model.s);
		name = pciid_name(v.vendor, v.device);
		if (name && strcasestr(name, g->model.s))
			return;	/* pci.ids agrees: "TU102 [GeForce RTX 2080 Ti]" */
		if (hint)
			diag_error(d, &g->model.mark,
				   "unknown model '%s' (did you mean '%s'?)",
				   g->model.s, hint);
		else
			diag_warn(d, &g->model.mark,
				  "unknown model '%s'; its id '%s' cannot be checked against it",
				  g->model.s, g->pci.id.s);
		return;
	}
	if (want->vendor == v.vendor && want->device == v.device)
		return;
	have = pciid_card(v.vendor, v.device);
	if (have)
		diag_error(d, &g->pci.id.mark,
			   "PCI id '%s' is the %s, not the %s (did you mean '%04x:%04x', %s?)",
			   g->pci.id.s, have->model, want->model, want->vendor,
			   want->device, want->model);
	else
		diag_error(d, &g->pci.id.mark,
			   "PCI id '%s' is not the %s (did you mean '%04x:%04x', %s?)",
			   g->pci.id.s, want->model, want->vendor, want->device,
			   want->model);
}

/* Every function of a card must follow it to vfio-pci: the card's known
 * companions must be listed, and listed functions must be on its slot. */
static void check_functions(const struct pf_gpu *g, struct pf_diag *d)
{
	struct pf_pci gv = pcifn_read(&g->pci);
	const struct pf_pci_card *card;

	for (size_t i = 0; i < g->nfunctions; i++) {
		const struct pf_pcifn *f = &g->functions[i];
		struct pf_pci fv = pcifn_read(f);

		if (!fv.addr_ok || !gv.addr_ok)
			continue;
		if (fv.domain != gv.domain || fv.bus != gv.bus ||
		    fv.dev != gv.dev)
			diag_error(d, &f->address.mark,
				   "function '%s' is not on the card at '%s' (same domain, bus and device expected)",
				   f->address.s, g->pci.address.s);
		else if (fv.fn == gv.fn)
			diag_error(d, &f->address.mark,
				   "function '%s' is the GPU itself; list only its other functions",
				   f->address.s);
	}
	if (!gv.id_ok || g->role != PF_ROLE_VFIO)
		return;
	card = pciid_card(gv.vendor, gv.device);
	if (!card)
		return;
	for (size_t c = 0; c < 4 && card->companions[c]; c++) {
		const struct pf_pci_card *comp =
			pciid_card(card->vendor, card->companions[c]);
		bool listed = false;

		for (size_t i = 0; i < g->nfunctions && !listed; i++) {
			struct pf_pci fv = pcifn_read(&g->functions[i]);

			listed = fv.id_ok && fv.vendor == card->vendor &&
				 fv.device == card->companions[c];
		}
		if (!listed)
			diag_error(d, &g->pci.id.mark,
				   "the %s at '%s' has another function, %04x:%04x (%s), that must go to vfio-pci with it; add it under 'functions' (same slot, function 1)",
				   card->model, g->pci.address.s ? g->pci.address.s : "?",
				   card->vendor, card->companions[c],
				   comp ? comp->model : "other function");
	}
}

struct fn_ref {
	const struct pf_pcifn *fn;
	const struct pf_gpu *gpu;
	struct pf_pci v;
};

/* Addresses are unique on a host; vfio-pci.ids binds by id, so an id
 * cannot be both handed to VMs and kept by the host. */
static void check_host_devices(const struct pf_host *h, struct pf_diag *d)
{
	struct fn_ref *refs;
	size_t n = 0, total = 0;
	char first[4096];

	for (size_t g = 0; g < h->ngpus; g++)
		total += 1 + h->gpus[g].nfunctions;
	refs = calloc(total ? total : 1, sizeof(*refs));
	if (!refs) {
		diag_error(d, &h->mark, "out of memory");
		return;
	}
	for (size_t g = 0; g < h->ngpus; g++) {
		const struct pf_gpu *gpu = &h->gpus[g];

		refs[n++] = (struct fn_ref){ &gpu->pci, gpu,
					     pcifn_read(&gpu->pci) };
		for (size_t f = 0; f < gpu->nfunctions; f++)
			refs[n++] = (struct fn_ref){ &gpu->functions[f], gpu,
						     pcifn_read(&gpu->functions[f]) };
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			const struct fn_ref *a = &refs[j], *b = &refs[i];

			if (a->v.addr_ok && b->v.addr_ok &&
			    strcasecmp(a->fn->address.s, b->fn->address.s) == 0) {
				diag_error(d, &b->fn->address.mark,
					   "PCI address '%s' is listed twice (first at %s)",
					   b->fn->address.s,
					   mark_format(&a->fn->address.mark, first, sizeof(first)));
				break;
			}
			if (a->v.id_ok && b->v.id_ok &&
			    a->v.vendor == b->v.vendor &&
			    a->v.device == b->v.device &&
			    a->gpu->role != b->gpu->role) {
				diag_error(d, &b->fn->id.mark,
					   "PCI id '%s' has role %s here and role %s at %s; vfio-pci.ids binds every device with that id",
					   b->fn->id.s, role_name(b->gpu->role),
					   role_name(a->gpu->role),
					   mark_format(&a->fn->id.mark, first, sizeof(first)));
				break;
			}
		}
	}
	free(refs);
}

static void check_host(const struct pf_host *h, const struct pf_profile_inputs *in,
		       struct pf_diag *d)
{
	bool vfio = false;

	if (h->name.s && name_reserved(h->name.s))
		diag_error(d, &h->name.mark,
			   "host name '%s' is taken by the output tree (%s)",
			   h->name.s, reserved_names);
	else if (h->name.s && !profile_name_valid(h->name.s))
		diag_error(d, &h->name.mark,
			   "invalid host name '%s' (letters, digits, '-', '_' and '.', starting with a letter or digit; it names a directory)",
			   h->name.s);
	if (!h->macs.given)
		diag_error(d, &h->mark,
			   "missing 'macs' in host '%s': the dispatcher finds a host by its MAC",
			   h->name.s ? h->name.s : "?");
	else if (!h->macs.n && !h->macs.invalid)
		diag_error(d, &h->macs.mark, "host '%s' has no MAC addresses",
			   h->name.s ? h->name.s : "?");
	for (size_t i = 0; i < h->macs.n; i++) {
		const struct pf_str *m = &h->macs.v[i];

		if (!mac_valid(m->s))
			diag_error(d, &m->mark,
				   "invalid MAC address '%s' (expected six hex pairs, e.g. 'aa:bb:cc:dd:ee:ff')",
				   m->s);
		else if (isxdigit((unsigned char)m->s[1]) &&
			 (strchr("13579bdfBDF", m->s[1])))
			diag_error(d, &m->mark,
				   "MAC address '%s' is a multicast address, not a network card's",
				   m->s);
	}
	check_bootfiles(&h->boot, in, d);
	for (size_t g = 0; g < h->ngpus; g++) {
		const struct pf_gpu *gpu = &h->gpus[g];

		check_pcifn(&gpu->pci, d);
		for (size_t f = 0; f < gpu->nfunctions; f++)
			check_pcifn(&gpu->functions[f], d);
		check_known_id(&gpu->pci, d);
		for (size_t f = 0; f < gpu->nfunctions; f++)
			check_known_id(&gpu->functions[f], d);
		check_model(gpu, d);
		check_functions(gpu, d);
		if (gpu->role_str.s && gpu->role == PF_ROLE_VFIO)
			vfio = true;
	}
	check_host_devices(h, d);
	if (vfio && h->cpu == PF_CPU_UNSET && !h->cpu_str.mark.file)
		diag_error(d, &h->mark,
			   "host '%s' hands GPUs to VFIO but has no 'cpu' (intel or amd); the IOMMU parameters depend on it",
			   h->name.s ? h->name.s : "?");
	if (h->nixos.toplevel.s && h->nixos.toplevel.s[0] != '/')
		diag_error(d, &h->nixos.toplevel.mark,
			   "nixos toplevel '%s' is not an absolute store path",
			   h->nixos.toplevel.s);
}

static void check_epoch(const struct pf_profile *p, struct pf_diag *d)
{
	const char *s = p->source_date_epoch.s;
	long long v;

	if (s && epoch_parse(s, &v))
		diag_error(d, &p->source_date_epoch.mark,
			   "invalid source_date_epoch '%s' (seconds since 1970, 0 to 4294967295, as SOURCE_DATE_EPOCH)",
			   s);
}

/* A MAC as compared (lowercase, ':'), and where it was written. */
struct mac_at {
	char norm[18];
	size_t host, mac;
};

static void report_duplicate_name(const struct pf_profile *p, size_t i,
				  size_t first_i, struct pf_diag *d)
{
	char first[4096];

	diag_error(d, &p->hosts[i].name.mark, "duplicate host name '%s' (first at %s)",
		   p->hosts[i].name.s,
		   mark_format(&p->hosts[first_i].name.mark, first, sizeof(first)));
}

static void report_duplicate_mac(const struct pf_profile *p, const struct mac_at *at,
				 const struct mac_at *first_at, struct pf_diag *d)
{
	const struct pf_host *o = &p->hosts[first_at->host];
	char first[4096];

	diag_error(d, &p->hosts[at->host].macs.v[at->mac].mark,
		   "duplicate MAC address '%s' (first at %s, host '%s')",
		   p->hosts[at->host].macs.v[at->mac].s,
		   mark_format(&o->macs.v[first_at->mac].mark, first, sizeof(first)),
		   o->name.s ? o->name.s : "?");
}

/* Host names and MACs seen twice, each reported where it is repeated and
 * citing its first place; one pass with hash indexes (issue 19: pairwise
 * it took 50 s for 20,000 hosts). 0 or -ENOMEM. */
static int check_duplicates(const struct pf_profile *p, struct pf_diag *d)
{
	struct pf_strindex names, macs;
	struct mac_at *at = NULL;
	size_t nmacs = 0, n = 0;
	int rc = -ENOMEM;

	strindex_init(&names);
	strindex_init(&macs);
	for (size_t i = 0; i < p->nhosts; i++)
		nmacs += p->hosts[i].macs.n;
	at = calloc(nmacs ? nmacs : 1, sizeof(*at));
	if (!at)
		goto out;
	for (size_t i = 0; i < p->nhosts; i++) {
		const struct pf_host *h = &p->hosts[i];
		size_t first = i;
		int found;

		if (h->name.s) {
			found = strindex_add_or_find(&names, h->name.s, &first);
			if (found < 0)
				goto out;
			if (found)
				report_duplicate_name(p, i, first, d);
		}
		for (size_t m = 0; m < h->macs.n; m++) {
			if (!mac_valid(h->macs.v[m].s))
				continue;
			mac_normalise(h->macs.v[m].s, at[n].norm);
			at[n].host = i;
			at[n].mac = m;
			first = n;
			found = strindex_add_or_find(&macs, at[n].norm, &first);
			if (found < 0)
				goto out;
			if (found)
				report_duplicate_mac(p, &at[n], &at[first], d);
			n++;
		}
	}
	rc = 0;
out:
	strindex_release(&names);
	strindex_release(&macs);
	free(at);
	return rc;
}

void profile_validate(const struct pf_profile *p, const struct pf_profile_inputs *in,
		      struct pf_diag *d)
{
	check_epoch(p, d);
	check_bootfiles(&p->defaults, in, d);
	if (p->base_url.s && (!url_valid(p->base_url.s) ||
			      !url_has_scheme(p->base_url.s)))
		diag_error(d, &p->base_url.mark,
			   "invalid base_url '%s' (a URL such as 'http://10.0.0.1/netboot', without blanks or '${')",
			   p->base_url.s);
	for (size_t i = 0; i < p->nhosts; i++)
		check_host(&p->hosts[i], in, d);
	if (check_duplicates(p, d))
		diag_error(d, NULL, "out of memory while looking for duplicate hosts and MACs");
	validate_vms(p, in, d);
	validate_nodes(p, in, d);
}
