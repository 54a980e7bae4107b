/* The files both a host and a VM get: a rendered file at a formatted path,
 * and the NoCloud payload (its files, its cidata volume, its seed). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "pxeforge/lib/secret.h"

#include "package_parts.h"

int package_add(struct pf_outtree *t, const void *data, size_t len,
		mode_t mode, const char *fmt, ...)
{
	va_list ap;
	char *path;
	int n, rc;

	va_start(ap, fmt);
	n = vasprintf(&path, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	rc = outtree_add(t, path, data ? data : "", len, mode);
	free(path);
	return rc;
}

/* One NoCloud file into OUT/<dir>/cloud-init/, the cidata volume (unless
 * NULL) and,
 * when the seed travels in an initrd overlay, that overlay. */
static int nocloud_add(const char *dir, const char *name,
		       const struct pf_buf *b, mode_t mode,
		       struct pf_outtree *t, struct pf_pack *iso,
		       struct pf_pack *overlay)
{
	char *path;
	int rc;

	rc = package_add(t, b->data, b->len, mode, "%s/cloud-init/%s", dir,
			 name);
	if (!rc && iso)
		rc = pack_add_data(iso, name, b->data, b->len, mode);
	if (!rc && overlay) {
		if (asprintf(&path, PF_NOCLOUD_SEED_DIR "/%s", name) < 0)
			return -ENOMEM;
		rc = pack_add_data(overlay, path, b->data, b->len, mode);
		free(path);
	}
	return rc;
}

int package_nocloud(const struct pf_plan *plan, const char *dir,
		    const struct pf_cloudinit *ci, struct pf_pack *overlay,
		    struct pf_outtree *t, char **failed)
{
	const struct pf_nocloud *nc = &ci->payload;
	mode_t mode = package_mode(ci->secret);
	struct pf_pack iso, *vol = ci->cidata ? &iso : NULL;
	struct pf_buf b;
	int rc;

	if (!nc->user_data.data)
		return -EINVAL;	/* not planned */
	pack_init(&iso);
	buf_init(&b);
	rc = nocloud_add(dir, "user-data", &nc->user_data, mode, t, vol,
			 overlay);
	if (!rc)
		rc = nocloud_add(dir, "meta-data", &nc->meta_data,
				 package_mode(false), t, vol, overlay);
	if (!rc && nc->network_config.len)
		rc = nocloud_add(dir, "network-config", &nc->network_config,
				 package_mode(false), t, vol, overlay);
	if (!rc && ci->cidata)
		rc = pack_iso_write(&iso, "cidata", plan->mtime, &b, failed);
	if (!rc && ci->cidata)
		rc = package_add(t, b.data, b.len, mode, "%s/cidata.iso", dir);
	secret_wipe(b.data, b.len);
	buf_release(&b);
	pack_release(&iso);
	return rc;
}
