#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pxeforge/render/render.h"

/* Defence in depth: these files are line- and word-oriented, so a value
 * with whitespace or a control character (plan_build never produces one)
 * would add or split directives; refuse rather than render that. */
static bool conf_word_ok(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++)
		if ((unsigned char)*s <= ' ' || *s == 0x7f)
			return false;
	return true;
}

static bool list_ok(const struct pf_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		if (!conf_word_ok(l->v[i]))
			return false;
	return true;
}

int render_cmdline(const struct pf_plan_host *h, struct pf_buf *out)
{
	struct pf_buf b;
	int rc;

	/* One line: a newline inside would end the command line early. */
	if (!h->cmdline_text || strpbrk(h->cmdline_text, "\n\r"))
		return -EINVAL;
	buf_init(&b);
	rc = buf_printf(&b, "%s\n", h->cmdline_text);
	if (!rc)
		rc = buf_append(out, b.data, b.len);
	buf_release(&b);
	return rc;
}

int render_modprobe(const struct pf_plan_host *h, struct pf_buf *out)
{
	struct pf_buf b;
	int rc;

	if (!h->vfio)
		return 0;
	if (!conf_word_ok(h->name) || !list_ok(&h->vfio_ids))
		return -EINVAL;
	buf_init(&b);
	rc = buf_printf(&b, "# pxeforge: VFIO for host '%s'. vfio-pci claims "
			"these ids before any GPU driver.\n", h->name);
	/* "ids=" with nothing after it would be a useless directive. */
	if (!rc && h->vfio_ids.n)
		rc = buf_puts(&b, "options vfio-pci ids=");
	for (size_t i = 0; !rc && i < h->vfio_ids.n; i++)
		rc = buf_printf(&b, "%s%s%s", i ? "," : "", h->vfio_ids.v[i],
				i + 1 == h->vfio_ids.n ? "\n" : "");
	if (!rc)
		rc = buf_puts(&b, "softdep nvidia pre: vfio-pci\n"
			      "softdep nouveau pre: vfio-pci\n");
	if (!rc && h->blacklist_nouveau)
		rc = buf_puts(&b, "blacklist nouveau\n");
	if (!rc)
		rc = buf_append(out, b.data, b.len);
	buf_release(&b);
	return rc;
}

int render_modules_load(const struct pf_plan_host *h, struct pf_buf *out)
{
	struct pf_buf b;
	int rc;

	if (!h->modules.n)
		return 0;
	if (!conf_word_ok(h->name) || !list_ok(&h->modules))
		return -EINVAL;
	buf_init(&b);
	rc = buf_printf(&b, "# pxeforge: early modules for host '%s', "
			"in load order.\n", h->name);
	for (size_t i = 0; !rc && i < h->modules.n; i++)
		rc = buf_printf(&b, "%s\n", h->modules.v[i]);
	if (!rc)
		rc = buf_append(out, b.data, b.len);
	buf_release(&b);
	return rc;
}
