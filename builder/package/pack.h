/* pack: archives built from a list of entries (in-memory data or files
 * streamed from disk), deterministically: sorted, uid/gid 0, one mtime,
 * explicit modes, parent directories added. libarchive. */
#ifndef PXEFORGE_PACK_H
#define PXEFORGE_PACK_H

#include <stddef.h>
#include <sys/types.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/profile/profile.h"

struct pf_pack_entry {
	char *path;	/* relative, '/'-separated: "etc/modprobe.d/vfio.conf" */
	mode_t mode;	/* permission bits; directories have S_IFDIR */
	char *data;	/* content, or NULL when src is set */
	size_t len;
	char *src;	/* a file whose content is copied while writing */
};

struct pf_pack {
	struct pf_pack_entry *v;
	size_t n, cap;
};

void pack_init(struct pf_pack *p);
void pack_release(struct pf_pack *p);
/* Adds a copy of data as a regular file. 0, -EINVAL (bad or repeated
 * path: a bug in the caller) or -ENOMEM. */
int pack_add_data(struct pf_pack *p, const char *path, const void *data,
		  size_t len, mode_t mode);
/* Adds the file src, read when the archive is written. */
int pack_add_file(struct pf_pack *p, const char *path, const char *src,
		  mode_t mode);

/* Appends a newc cpio (the format Linux unpacks as an initramfs) of every
 * entry and its parent directories (0755) to out, compressed with gzip or
 * zstd. 0, or -errno with *failed naming the source file that could not
 * be read (malloc'd; NULL for other failures). */
int pack_cpio_write(struct pf_pack *p, enum pf_compress c, long long mtime,
		    struct pf_buf *out, char **failed);

/* Appends an ISO 9660 image of every entry and its parent directories
 * (0755) to out: Rock Ridge (names and modes as given) and Joliet, no
 * boot image, not compressed. volume_id: at most 32 characters; the
 * primary descriptor holds it in upper case, the Joliet one as given
 * (what blkid reports as LABEL). Every timestamp in the image is mtime,
 * in UTC, which must lie in 1970..2155. 0, -EINVAL (a bad volume_id or
 * mtime) or -errno, *failed as for pack_cpio_write. */
int pack_iso_write(struct pf_pack *p, const char *volume_id, long long mtime,
		   struct pf_buf *out, char **failed);

/* For the format writers above: writes every entry of p (parents added,
 * sorted) through a, already set to its format, into out, and closes a.
 * 0 or -errno, *failed as for pack_cpio_write. */
struct archive;
int pack_write_archive(struct pf_pack *p, struct archive *a, long long mtime,
		       struct pf_buf *out, char **failed);

#endif
