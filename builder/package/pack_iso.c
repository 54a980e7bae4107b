/* pack_iso_write: an ISO 9660 image from a pf_pack, the cloud-init NoCloud
 * seed volume. libarchive writes it; then every timestamp in it is set to
 * mtime, in UTC.
 *
 * Why the second step: libarchive 3.6.2 stamps time(NULL) on the volume
 * descriptors (creation, modification, effective dates), on the root
 * directory (which it makes itself: its records in both volume
 * descriptors, its "." and the ".." of its subdirectories, with their
 * Rock Ridge TF entries) and on the ctime() line of the "INFO" block after
 * the descriptor set; it has no option to set that time. And it writes
 * every date in local time with the zone's offset, so even the entries'
 * own times depend on TZ. Found by writing twice, a few seconds apart and
 * under two zones, and comparing every differing byte (cmp -l). */
#include <archive.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pack.h"

#define SECTOR		2048
#define VD_FIRST	16	/* the volume descriptor set starts here */
#define MAX_DEPTH	64	/* nested directories, chained CE areas */

struct iso_img {
	unsigned char *p;
	size_t len;
	unsigned char t7[7];	/* ISO 9660 9.1.5: directory records, TF */
	unsigned char t17[17];	/* ISO 9660 8.4.26.1: descriptors */
};

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/* The n bytes at byte off of sector lba, or NULL past the image's end. */
static unsigned char *iso_at(const struct iso_img *img, uint32_t lba,
			     uint32_t off, uint32_t n)
{
	uint64_t start = (uint64_t)lba * SECTOR + off;

	if (start > img->len || n > img->len - start)
		return NULL;
	return img->p + start;
}

/* The System Use entries from p to end (SUSP 1.12): every TF (RRIP 1.12)
 * timestamp set, CE continuation areas followed. */
static int fix_susp(struct iso_img *img, unsigned char *p, unsigned char *end,
		    int depth)
{
	int rc = 0;

	if (depth > MAX_DEPTH)
		return -EIO;
	while (!rc && end - p >= 4 && memcmp(p, "ST", 2)) {
		size_t len = p[2];

		if (len < 4 || len > (size_t)(end - p))
			return -EIO;
		if (!memcmp(p, "TF", 2) && len >= 5) {
			unsigned flags = p[4];
			size_t size = flags & 0x80 ? 17 : 7, off = 5;

			for (unsigned bit = 0; bit < 7; bit++) {
				if (!(flags & 1u << bit))
					continue;
				if (off + size > len)
					return -EIO;
				memcpy(p + off, size == 17 ? img->t17 : img->t7,
				       size);
				off += size;
			}
		} else if (!memcmp(p, "CE", 2) && len >= 28) {
			uint32_t n = le32(p + 20);
			unsigned char *ce = iso_at(img, le32(p + 4),
						   le32(p + 12), n);

			rc = ce ? fix_susp(img, ce, ce + n, depth + 1) : -EIO;
		}
		p += len;
	}
	return rc;
}

/* Every record of the directory at lba (size bytes) and, below it, of
 * every subdirectory. Records never cross a sector; a zero length byte
 * pads a sector's end. */
static int fix_dir(struct iso_img *img, uint32_t lba, uint32_t size,
		   bool susp, int depth)
{
	unsigned char *d = iso_at(img, lba, 0, size);
	int rc = 0;

	if (!d || depth > MAX_DEPTH)
		return -EIO;
	for (uint32_t off = 0; !rc && off < size;) {
		unsigned char *r = d + off;
		uint32_t len = r[0], id_len;

		if (len == 0) {
			off = (off / SECTOR + 1) * SECTOR;
			continue;
		}
		id_len = r[32];
		if (len < 34 || len > size - off || 33 + id_len > len)
			return -EIO;
		memcpy(r + 18, img->t7, sizeof(img->t7));
		if (susp)	/* after the name and its padding to even */
			rc = fix_susp(img, r + 33 + id_len + !(id_len & 1),
				      r + len, 0);
		/* a directory other than "." (\0) and ".." (\1) */
		if (!rc && (r[25] & 0x02) && !(id_len == 1 && r[33] <= 1))
			rc = fix_dir(img, le32(r + 2), le32(r + 10), susp,
				     depth + 1);
		off += len;
	}
	return rc;
}

/* libarchive's "INFO <ctime>\n<version> <options>" block, if there. */
static int fix_info(struct iso_img *img, uint32_t lba, const struct tm *tm)
{
	unsigned char *b = iso_at(img, lba, 0, SECTOR), *nl;
	char date[64];

	if (!b || memcmp(b, "INFO ", 5))
		return 0;
	nl = memchr(b + 5, '\n', SECTOR - 5);
	/* "Www Mmm dd hh:mm:ss yyyy\n", the C locale's, as ctime writes */
	if (!asctime_r(tm, date) || !nl ||
	    (size_t)(nl + 1 - (b + 5)) != strlen(date))
		return -EIO;
	memcpy(b + 5, date, strlen(date));
	return 0;
}

static int iso_set_times(unsigned char *p, size_t len, long long mtime)
{
	static const unsigned vd_dates[] = { 813, 830, 864 };
	struct iso_img img = { .p = p, .len = len };
	time_t t = (time_t)mtime;
	struct tm tm;
	char digits[64];
	int rc = 0;

	if (!gmtime_r(&t, &tm))
		return -EINVAL;
	img.t7[0] = (unsigned char)tm.tm_year;
	img.t7[1] = (unsigned char)(tm.tm_mon + 1);
	img.t7[2] = (unsigned char)tm.tm_mday;
	img.t7[3] = (unsigned char)tm.tm_hour;
	img.t7[4] = (unsigned char)tm.tm_min;
	img.t7[5] = (unsigned char)tm.tm_sec;
	img.t7[6] = 0;	/* offset from GMT in 15 min units */
	snprintf(digits, sizeof(digits), "%04d%02d%02d%02d%02d%02d00",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec);
	memcpy(img.t17, digits, 16);
	img.t17[16] = 0;
	for (uint32_t lba = VD_FIRST; !rc; lba++) {
		unsigned char *vd = iso_at(&img, lba, 0, SECTOR), *root;

		if (!vd || memcmp(vd + 1, "CD001", 5))
			return -EIO;
		if (vd[0] == 255)	/* the set's terminator */
			return fix_info(&img, lba + 1, &tm);
		if (vd[0] != 1 && vd[0] != 2)	/* primary, Joliet */
			continue;
		/* expiration (847) stays "not specified" */
		for (size_t i = 0; i < sizeof(vd_dates) / sizeof(*vd_dates);
		     i++)
			memcpy(vd + vd_dates[i], img.t17, sizeof(img.t17));
		root = vd + 156;
		memcpy(root + 18, img.t7, sizeof(img.t7));
		/* Rock Ridge is in the primary tree only, Joliet has none */
		rc = fix_dir(&img, le32(root + 2), le32(root + 10), vd[0] == 1,
			     0);
	}
	return rc;
}

static int set_option(struct archive *a, const char *key, const char *value)
{
	return archive_write_set_format_option(a, "iso9660", key, value) ==
	       ARCHIVE_OK ? 0 : -EINVAL;
}

int pack_iso_write(struct pf_pack *p, const char *volume_id, long long mtime,
		   struct pf_buf *out, char **failed)
{
	/* 2155-12-31 23:59:59 UTC: the 7-byte dates count years from 1900
	 * in one byte */
	static const long long last = 5869583999LL;
	struct archive *a = NULL;
	size_t start = out->len;
	int rc;

	*failed = NULL;
	if (mtime < 0 || mtime > last || !volume_id || !*volume_id ||
	    strlen(volume_id) > 32)
		return -EINVAL;
	a = archive_write_new();
	if (!a)
		return -ENOMEM;
	rc = -EIO;
	if (archive_write_set_format_iso9660(a) != ARCHIVE_OK)
		goto clean;
	/* Each option as a value of its own: the volume id may hold ','.
	 * Rock Ridge "strict" keeps the modes (user-data may be 0600), where
	 * the default "useful" makes every file world-readable. */
	rc = set_option(a, "volume-id", volume_id);
	if (!rc)
		rc = set_option(a, "rockridge", "strict");
	if (!rc)
		rc = set_option(a, "joliet", "1");
	if (!rc)
		rc = set_option(a, "iso-level", "1");
	if (!rc)
		rc = set_option(a, "zisofs", NULL);
	if (!rc)	/* 150 zero sectors at the end, as mkisofs does */
		rc = set_option(a, "pad", "1");
	if (rc)
		goto clean;
	rc = pack_write_archive(p, a, mtime, out, failed);
	if (!rc)
		rc = iso_set_times((unsigned char *)out->data + start,
				   out->len - start, mtime);
clean:
	archive_write_free(a);
	return rc;
}
