/* profile_validate: semantic checks over a parsed profile. Every problem
 * is reported; nothing stops at the first. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "pxeforge/lib/hex.h"
#include "pxeforge/lib/pciid.h"
#include "pxeforge/profile/profile.h"
#include "pxeforge/validate/validate.h"

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

bool profile_name_valid(const char *s)
{
	if (!*s || !isalnum((unsigned char)s[0]))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.", *s))
			return false;
	return true;
}

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

/* Where pxeforge gets a file for OUT: an http(s) URL pinned by its
 * sha256, or a readable local file (sha256 optional, checked if given). */
void check_fetch_source(const struct pf_str *source, const char *local_path,
			const struct pf_str *sha256, const char *key,
			struct pf_diag *d)
{
	const char *src = source->s;

	if (sha256->s && !sha256_hex_valid(sha256->s))
		diag_error(d, &sha256->mark,
			   "invalid sha256 '%s' (64 hex digits, as sha256sum prints)",
			   sha256->s);
	if (!src) {
		if (sha256->s)
			diag_error(d, &sha256->mark,
				   "'sha256' without '%s': it pins the file pxeforge fetches or copies",
				   key);
		return;
	}
	if (strstr(src, "://")) {
		if (strncmp(src, "http://", 7) && strncmp(src, "https://", 8))
			diag_error(d, &source->mark,
				   "%s '%s' is neither an http:// or https:// URL nor a local path",
				   key, src);
		else if (!sha256->s)
			diag_error(d, &source->mark,
				   "%s '%s' needs 'sha256': a download is used only when its hash matches",
				   key, src);
	} else if (local_path && access(local_path, R_OK) != 0) {
		diag_error(d, &source->mark, "cannot read %s '%s': %s", key,
			   local_path, strerror(errno));
	}
}

static void check_bootfile(const struct pf_bootfile *f, struct pf_diag *d)
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
	if (f->url.s && f->source.s)
		diag_error(d, &f->source.mark,
			   "'source' and 'url' together: 'url' makes iPXE load the file from elsewhere, 'source' puts it in OUT/<host>/; give one");
	check_fetch_source(&f->source, f->source_path, &f->sha256, "source",
			   d);
}

static void check_bootfiles(const struct pf_boot *b, struct pf_diag *d)
{
	if (b->has_kernel)
		check_bootfile(&b->kernel, d);
	for (size_t i = 0; i < b->ninitrds; i++)
		check_bootfile(&b->initrds[i], d);
}

static void check_pcifn(struct pf_pcifn *fn, struct pf_diag *d)
{
	if (fn->address.s) {
		fn->addr_ok = pciaddr_parse(fn->address.s, &fn->domain, &fn->bus,
					    &fn->dev, &fn->fn) == 0;
		if (!fn->addr_ok)
			diag_error(d, &fn->address.mark,
				   "invalid PCI address '%s' (expected domain:bus:device.function, e.g. '0000:1a:00.0')",
				   fn->address.s);
	}
	if (fn->id.s) {
		fn->id_ok = pciid_parse(fn->id.s, &fn->vendor, &fn->device) == 0;
		if (!fn->id_ok)
			diag_error(d, &fn->id.mark,
				   "invalid PCI id '%s' (expected vendor:device in hex, e.g. '10de:1db1')",
				   fn->id.s);
	}
}

static void check_known_id(const struct pf_pcifn *fn, struct pf_diag *d)
{
	const struct pf_pci_card *near;

	if (!fn->id_ok || pciid_name(fn->vendor, fn->device))
		return;
	near = pciid_card_near(fn->vendor, fn->device);
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
	const struct pf_pci_card *want, *have;
	const char *name, *hint;

	if (!g->model.s || !g->pci.id_ok)
		return;
	want = pciid_card_by_model(g->model.s);
	if (!want) {
		hint = pciid_model_suggest(g->model.s);
		name = pciid_name(g->pci.vendor, g->pci.device);
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
	if (want->vendor == g->pci.vendor && want->device == g->pci.device)
		return;
	have = pciid_card(g->pci.vendor, g->pci.device);
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
	const struct pf_pci_card *card;

	for (size_t i = 0; i < g->nfunctions; i++) {
		const struct pf_pcifn *f = &g->functions[i];

		if (!f->addr_ok || !g->pci.addr_ok)
			continue;
		if (f->domain != g->pci.domain || f->bus != g->pci.bus ||
		    f->dev != g->pci.dev)
			diag_error(d, &f->address.mark,
				   "function '%s' is not on the card at '%s' (same domain, bus and device expected)",
				   f->address.s, g->pci.address.s);
		else if (f->fn == g->pci.fn)
			diag_error(d, &f->address.mark,
				   "function '%s' is the GPU itself; list only its other functions",
				   f->address.s);
	}
	if (!g->pci.id_ok || g->role != PF_ROLE_VFIO)
		return;
	card = pciid_card(g->pci.vendor, g->pci.device);
	if (!card)
		return;
	for (size_t c = 0; c < 4 && card->companions[c]; c++) {
		const struct pf_pci_card *comp =
			pciid_card(card->vendor, card->companions[c]);
		bool listed = false;

		for (size_t i = 0; i < g->nfunctions && !listed; i++)
			listed = g->functions[i].id_ok &&
				 g->functions[i].vendor == card->vendor &&
				 g->functions[i].device == card->companions[c];
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
};

/* Addresses are unique on a host; vfio-pci.ids binds by id, so an id
 * cannot be both handed to VMs and kept by the host. */
static void check_host_devices(const struct pf_host *h, struct pf_diag *d)
{
	struct fn_ref refs[256];
	size_t n = 0;
	char first[4096];

	for (size_t g = 0; g < h->ngpus; g++) {
		if (n < 256)
			refs[n++] = (struct fn_ref){ &h->gpus[g].pci, &h->gpus[g] };
		for (size_t f = 0; f < h->gpus[g].nfunctions && n < 256; f++)
			refs[n++] = (struct fn_ref){ &h->gpus[g].functions[f],
						     &h->gpus[g] };
	}
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			const struct fn_ref *a = &refs[j], *b = &refs[i];

			if (a->fn->addr_ok && b->fn->addr_ok &&
			    strcasecmp(a->fn->address.s, b->fn->address.s) == 0) {
				diag_error(d, &b->fn->address.mark,
					   "PCI address '%s' is listed twice (first at %s)",
					   b->fn->address.s,
					   mark_format(&a->fn->address.mark, first, sizeof(first)));
				break;
			}
			if (a->fn->id_ok && b->fn->id_ok &&
			    a->fn->vendor == b->fn->vendor &&
			    a->fn->device == b->fn->device &&
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
}

static void check_host(struct pf_host *h, struct pf_diag *d)
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
	check_bootfiles(&h->boot, d);
	for (size_t g = 0; g < h->ngpus; g++) {
		struct pf_gpu *gpu = &h->gpus[g];

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

static void check_epoch(struct pf_profile *p, struct pf_diag *d)
{
	const char *s = p->source_date_epoch.s;

	if (s && epoch_parse(s, &p->source_date_epoch_v))
		diag_error(d, &p->source_date_epoch.mark,
			   "invalid source_date_epoch '%s' (seconds since 1970, 0 to 4294967295, as SOURCE_DATE_EPOCH)",
			   s);
}

void profile_validate(struct pf_profile *p, struct pf_diag *d)
{
	char first[4096];

	check_epoch(p, d);
	check_bootfiles(&p->defaults, d);
	if (p->base_url.s && (!url_valid(p->base_url.s) ||
			      !url_has_scheme(p->base_url.s)))
		diag_error(d, &p->base_url.mark,
			   "invalid base_url '%s' (a URL such as 'http://10.0.0.1/netboot', without blanks or '${')",
			   p->base_url.s);
	for (size_t i = 0; i < p->nhosts; i++)
		check_host(&p->hosts[i], d);
	for (size_t i = 0; i < p->nhosts; i++) {
		const struct pf_host *h = &p->hosts[i];

		for (size_t j = 0; j < i && h->name.s; j++) {
			if (p->hosts[j].name.s &&
			    strcmp(p->hosts[j].name.s, h->name.s) == 0) {
				diag_error(d, &h->name.mark,
					   "duplicate host name '%s' (first at %s)",
					   h->name.s,
					   mark_format(&p->hosts[j].name.mark, first, sizeof(first)));
				break;
			}
		}
		for (size_t m = 0; m < h->macs.n; m++) {
			char a[18], b[18];
			bool dup = false;

			if (!mac_valid(h->macs.v[m].s))
				continue;
			mac_normalise(h->macs.v[m].s, a);
			for (size_t j = 0; j <= i && !dup; j++) {
				const struct pf_host *o = &p->hosts[j];
				size_t end = j == i ? m : o->macs.n;

				for (size_t k = 0; k < end && !dup; k++) {
					if (!mac_valid(o->macs.v[k].s))
						continue;
					mac_normalise(o->macs.v[k].s, b);
					if (strcmp(a, b) != 0)
						continue;
					dup = true;
					diag_error(d, &h->macs.v[m].mark,
						   "duplicate MAC address '%s' (first at %s, host '%s')",
						   h->macs.v[m].s,
						   mark_format(&o->macs.v[k].mark, first, sizeof(first)),
						   o->name.s ? o->name.s : "?");
				}
			}
		}
	}
	profile_validate_vms(p, d);
}
