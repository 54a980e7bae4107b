#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/render/render.h"

/* Each load step is retried this often, this many seconds apart. */
#define IPXE_TRIES 3
#define IPXE_RETRY_DELAY_S 2

static const char ipxe_give_up[] =
	"prompt --timeout 30000 Press a key within 30 s for the iPXE shell, "
	"or wait to leave iPXE... && shell ||\n"
	"exit 1\n";

/* One load step: ":<label>_start" resets the counter, ":<label>" loads and
 * on success jumps to next; a failure retries or gives up at fail_<label>. */
static int ipxe_step(struct pf_buf *b, const char *cmd, const char *what,
		     const char *label, const struct pf_plan_file *f,
		     const char *args, const char *next)
{
	int rc;

	rc = buf_printf(b, ":%s_start\n"
			"set pxeforge_try:int32 0\n"
			":%s\n"
			"%s --name %s %s%s%s",
			label, label, cmd, f->name, f->url,
			args && *args ? " " : "", args ? args : "");
	if (rc)
		return rc;
	return buf_printf(b, " && goto %s ||\n"
			  "inc pxeforge_try\n"
			  "iseq ${pxeforge_try} %d && goto fail_%s ||\n"
			  "echo pxeforge: loading %s %s failed "
			  "(try ${pxeforge_try} of %d), retrying in %d s\n"
			  "sleep %d\n"
			  "goto %s\n"
			  "\n",
			  next, IPXE_TRIES, label, what, f->name, IPXE_TRIES,
			  IPXE_RETRY_DELAY_S, IPXE_RETRY_DELAY_S, label);
}

static int ipxe_fail(struct pf_buf *b, const char *what, const char *label,
		     const struct pf_plan_file *f)
{
	return buf_printf(b, ":fail_%s\n"
			  "echo pxeforge: could not load %s %s from %s after %d tries\n"
			  "goto failed\n"
			  "\n",
			  label, what, f->name, f->url, IPXE_TRIES);
}

int render_ipxe(const struct pf_plan *plan, const struct pf_plan_host *h,
		struct pf_buf *out)
{
	struct pf_buf b;
	char label[32], next[40];
	int rc;

	(void)plan;	/* URLs are resolved by plan_build already */
	if (!h->cmdline_text)
		return -EINVAL;	/* not planned */
	buf_init(&b);
	rc = buf_printf(&b, "#!ipxe\n# pxeforge: netboot script for host '%s'",
			h->name);
	for (size_t i = 0; !rc && i < h->macs.n; i++)
		rc = buf_printf(&b, "%s%s", i ? ", " : " (", h->macs.v[i]);
	if (!rc)
		rc = buf_puts(&b, h->macs.n ? ")\n" : "\n");
	if (!rc)
		rc = buf_puts(&b, "# Generated from the profile; edit the profile, "
			      "not this file.\n\n");
	if (rc)
		goto out;

	if (h->ninitrds)
		snprintf(next, sizeof(next), "initrd_0_start");
	else
		snprintf(next, sizeof(next), "boot");
	rc = ipxe_step(&b, "kernel", "kernel", "kernel", &h->kernel,
		       h->cmdline_text, next);
	for (size_t i = 0; !rc && i < h->ninitrds; i++) {
		snprintf(label, sizeof(label), "initrd_%zu", i);
		if (i + 1 < h->ninitrds)
			snprintf(next, sizeof(next), "initrd_%zu_start", i + 1);
		else
			snprintf(next, sizeof(next), "boot");
		rc = ipxe_step(&b, "initrd", "initrd", label, &h->initrds[i],
			       NULL, next);
	}
	if (!rc)
		rc = buf_printf(&b, ":boot\n"
				"boot ||\n"
				"echo pxeforge: booting host '%s' failed: "
				"the kernel did not start\n"
				"goto failed\n"
				"\n",
				h->name);
	if (!rc)
		rc = ipxe_fail(&b, "kernel", "kernel", &h->kernel);
	for (size_t i = 0; !rc && i < h->ninitrds; i++) {
		snprintf(label, sizeof(label), "initrd_%zu", i);
		rc = ipxe_fail(&b, "initrd", label, &h->initrds[i]);
	}
	if (!rc)
		rc = buf_printf(&b, ":failed\n"
				"echo pxeforge: host '%s' cannot boot; "
				"check that the files above are served\n"
				"%s",
				h->name, ipxe_give_up);
	if (!rc)
		rc = buf_append(out, b.data, b.len);
out:
	buf_release(&b);
	return rc;
}

struct mac_entry {
	const char *mac;
	const char *host;
};

static int mac_entry_cmp(const void *pa, const void *pb)
{
	const struct mac_entry *a = pa, *b = pb;
	int c = strcmp(a->mac, b->mac);

	/* Same MAC twice is a validation error; still keep the order total. */
	return c ? c : strcmp(a->host, b->host);
}

int render_dispatcher(const struct pf_plan *plan, struct pf_buf *out)
{
	struct mac_entry *macs = NULL;
	const char *base = "", *sep = "";
	size_t n = 0;
	struct pf_buf b;
	int rc;

	buf_init(&b);
	if (plan->base_url && *plan->base_url) {
		size_t len = strlen(plan->base_url);

		base = plan->base_url;
		sep = plan->base_url[len - 1] == '/' ? "" : "/";
	}
	for (size_t i = 0; i < plan->nhosts; i++)
		n += plan->hosts[i].macs.n;
	if (n) {
		macs = calloc(n, sizeof(*macs));
		if (!macs)
			return -ENOMEM;
	}
	n = 0;
	for (size_t i = 0; i < plan->nhosts; i++) {
		const struct pf_plan_host *h = &plan->hosts[i];

		for (size_t j = 0; j < h->macs.n; j++) {
			macs[n].mac = h->macs.v[j];
			macs[n].host = h->name;
			n++;
		}
	}
	if (n)
		qsort(macs, n, sizeof(*macs), mac_entry_cmp);

	rc = buf_puts(&b, "#!ipxe\n"
		      "# pxeforge: dispatcher; chains the script of this "
		      "machine by its MAC address.\n"
		      "# Known hosts:\n");
	for (size_t i = 0; !rc && i < n; i++)
		rc = buf_printf(&b, "#   %s  %s\n", macs[i].mac, macs[i].host);
	if (!rc)
		rc = buf_printf(&b, "\n"
				":start\n"
				"set pxeforge_try:int32 0\n"
				":chain\n"
				"imgfetch --name pxeforge-host.ipxe "
				"%s%shosts/${mac:hexhyp}.ipxe && goto run ||\n"
				"inc pxeforge_try\n"
				"iseq ${pxeforge_try} %d && goto unknown ||\n"
				"echo pxeforge: no script at %s%shosts/${mac:hexhyp}.ipxe "
				"(try ${pxeforge_try} of %d), retrying in %d s\n"
				"sleep %d\n"
				"goto chain\n"
				"\n"
				":run\n"
				"imgexec --autofree pxeforge-host.ipxe ||\n"
				"exit 1\n"
				"\n"
				":unknown\n"
				"echo pxeforge: no host in the profile has MAC ${mac} "
				"(looked for %s%shosts/${mac:hexhyp}.ipxe)\n"
				"echo pxeforge: add the MAC to a host's macs in the "
				"profile and rebuild\n"
				"%s",
				base, sep, IPXE_TRIES, base, sep, IPXE_TRIES,
				IPXE_RETRY_DELAY_S, IPXE_RETRY_DELAY_S, base, sep,
				ipxe_give_up);
	if (!rc)
		rc = buf_append(out, b.data, b.len);
	free(macs);
	buf_release(&b);
	return rc;
}
