#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pxeforge/render/render.h"

/* Appends the bytes in [run, end) and then esc; 0 or -ENOMEM. */
static int flush_escape(struct pf_buf *b, const char *run, const char *end,
			const char *esc)
{
	int rc = buf_append(b, run, (size_t)(end - run));

	return rc ? rc : buf_puts(b, esc);
}

int nix_string_append(struct pf_buf *out, const char *s)
{
	const char *run = s, *p;
	struct pf_buf b;
	int rc;

	buf_init(&b);
	rc = buf_puts(&b, "\"");
	for (p = s; !rc && *p; p++) {
		const char *esc = NULL;

		switch (*p) {
		case '"':
			esc = "\\\"";
			break;
		case '\\':
			esc = "\\\\";
			break;
		case '\n':
			esc = "\\n";
			break;
		case '\r':
			esc = "\\r";
			break;
		case '\t':
			esc = "\\t";
			break;
		case '$':
			/* Only "${" interpolates; "\$" also covers "$${". */
			if (p[1] == '{')
				esc = "\\$";
			break;
		}
		if (!esc)
			continue;
		rc = flush_escape(&b, run, p, esc);
		run = p + 1;
	}
	if (!rc)
		rc = flush_escape(&b, run, p, "\"");
	if (!rc)
		rc = buf_append(out, b.data, b.len);
	buf_release(&b);
	return rc;
}

/* True when a lone "'" may stand before c unescaped. Every escape in an
 * indented string starts with "''", so "'" before one (or before "$", or
 * before whatever the caller appends next) would pair up with it. */
static bool ind_quote_plain_before(char c)
{
	return c && c != '\'' && c != '$' && c != '\n' && c != '\r' &&
	       c != '\t';
}

/* Appends s escaped for a Nix indented ('') string. */
static int nix_ind_append(struct pf_buf *b, const char *s)
{
	const char *run = s, *p = s;
	int rc = 0;

	while (!rc && *p) {
		const char *esc = NULL;
		size_t skip = 1;

		if (p[0] == '\'' && p[1] == '\'') {
			esc = "'''";
			skip = 2;
		} else if (p[0] == '\'' && !ind_quote_plain_before(p[1])) {
			esc = "''\\'";
		} else if (p[0] == '$' && p[1] == '{') {
			esc = "''${";
			skip = 2;
		} else if (*p == '\n') {
			esc = "''\\n";
		} else if (*p == '\r') {
			esc = "''\\r";
		} else if (*p == '\t') {
			esc = "''\\t";
		}
		if (!esc) {
			p++;
			continue;
		}
		rc = flush_escape(b, run, p, esc);
		p += skip;
		run = p;
	}
	if (!rc)
		rc = buf_append(b, run, (size_t)(p - run));
	return rc;
}

static int nix_list(struct pf_buf *b, const char *attr,
		    const struct pf_strlist *l)
{
	int rc;

	if (!l->n)
		return buf_printf(b, "  %s = [ ];\n", attr);
	rc = buf_printf(b, "  %s = [\n", attr);
	for (size_t i = 0; !rc && i < l->n; i++) {
		rc = buf_puts(b, "    ");
		if (!rc)
			rc = nix_string_append(b, l->v[i]);
		if (!rc)
			rc = buf_puts(b, "\n");
	}
	return rc ? rc : buf_puts(b, "  ];\n");
}

static int nix_modprobe_config(struct pf_buf *b, const struct pf_plan_host *h)
{
	int rc;

	rc = buf_puts(b, "  boot.extraModprobeConfig = ''\n");
	if (!rc && h->vfio_ids.n)
		rc = buf_puts(b, "    options vfio-pci ids=");
	for (size_t i = 0; !rc && i < h->vfio_ids.n; i++) {
		if (i)
			rc = buf_puts(b, ",");
		if (!rc)
			rc = nix_ind_append(b, h->vfio_ids.v[i]);
		if (!rc && i + 1 == h->vfio_ids.n)
			rc = buf_puts(b, "\n");
	}
	if (!rc)
		rc = buf_puts(b, "    softdep nvidia pre: vfio-pci\n"
			      "    softdep nouveau pre: vfio-pci\n"
			      "  '';\n");
	if (!rc && h->blacklist_nouveau)
		rc = buf_puts(b, "  boot.blacklistedKernelModules = "
			      "[ \"nouveau\" ];\n");
	return rc;
}

int render_nixos(const struct pf_plan_host *h, struct pf_buf *out)
{
	struct pf_buf b;
	int rc;

	if (!h->name)
		return -EINVAL;	/* not planned */
	buf_init(&b);
	rc = buf_printf(&b, "# pxeforge: boot settings for host '%s'. "
			"Generated; edit the profile.\n"
			"{ ... }:\n"
			"{\n", h->name);
	if (!rc)
		rc = nix_list(&b, "boot.kernelParams", &h->nixos_params);
	if (!rc)
		rc = nix_list(&b, "boot.initrd.kernelModules", &h->modules);
	if (!rc && h->vfio)
		rc = nix_modprobe_config(&b, h);
	if (!rc)
		rc = buf_puts(&b, "}\n");
	if (!rc)
		rc = buf_append(out, b.data, b.len);
	buf_release(&b);
	return rc;
}
