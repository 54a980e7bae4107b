/* pack_cpio_write: a compressed newc cpio from a pf_pack. */
#include <archive.h>
#include <errno.h>

#include "pack.h"

int pack_cpio_write(struct pf_pack *p, enum pf_compress c, long long mtime,
		    struct pf_buf *out, char **failed)
{
	struct archive *a = archive_write_new();
	int rc = -EIO;

	*failed = NULL;
	if (!a)
		return -ENOMEM;
	if (archive_write_set_format_cpio_newc(a) != ARCHIVE_OK)
		goto clean;
	if (c == PF_COMPRESS_ZSTD) {
		if (archive_write_add_filter_zstd(a) != ARCHIVE_OK)
			goto clean;
	} else if (archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
		   /* the gzip header would carry the time of the build */
		   archive_write_set_filter_option(a, "gzip", "timestamp",
						   NULL) != ARCHIVE_OK) {
		goto clean;
	}
	rc = pack_write_archive(p, a, mtime, out, failed);
clean:
	archive_write_free(a);
	return rc;
}
