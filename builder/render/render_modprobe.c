#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "pxeforge/render/render.h"

int render_cmdline(const struct pf_plan_host *h, struct pf_buf *out)
{
	struct pf_buf b;
	int rc;

	if (!h->cmdline_text)
		return -EINVAL;	/* not planned */
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
