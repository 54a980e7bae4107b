/* archive_out: libarchive's output through the hashing writer. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/progress.h"
#include "archive_out.h"

la_ssize_t archive_out_write(struct archive *a, void *ctx, const void *data,
			     size_t len)
{
	struct pf_archive_out *s = ctx;

	(void)a;
	s->err = hashwrite_update(&s->hw, data, len);
	return s->err ? -1 : (la_ssize_t)len;
}

void archive_out_tar_entry(struct archive_entry *ae, const char *path,
			   mode_t mode, unsigned uid, const char *name,
			   long long mtime, int64_t size)
{
	archive_entry_clear(ae);
	archive_entry_copy_pathname(ae, path);
	archive_entry_set_mode(ae, mode);
	archive_entry_set_uid(ae, uid);
	archive_entry_set_gid(ae, uid);
	/* without a name, a reader maps the ids as they are */
	archive_entry_copy_uname(ae, name ? name : "");
	archive_entry_copy_gname(ae, name ? name : "");
	archive_entry_set_mtime(ae, (time_t)mtime, 0);
	archive_entry_set_size(ae, S_ISREG(mode) ? (la_int64_t)size : 0);
}

/* Aligned, so that a caller may give fd O_DIRECT (see the header). */
#define CHUNK (1024 * 1024)

/* read(2), retried on EINTR; a read O_DIRECT refuses (EINVAL: an
 * unaligned offset at the end, a file system without it) is made again
 * through the page cache. */
static ssize_t read_chunk(int fd, void *buf, size_t len)
{
	ssize_t r;

	do
		r = read(fd, buf, len);
	while (r < 0 && (errno == EINTR ||
			 (errno == EINVAL && fs_drop_direct(fd))));
	return r;
}

int archive_out_copy_fd(struct archive *a, int fd, uint64_t size,
			struct pf_progress *bar, bool *fd_failed)
{
	void *chunk = NULL;
	uint64_t done = 0;
	bool fd_err = false;
	int rc = posix_memalign(&chunk, PF_DIRECT_ALIGN, CHUNK) ? -ENOMEM : 0;

	while (!rc && done < size) {
		ssize_t r = read_chunk(fd, chunk, CHUNK);

		if (r <= 0 || (uint64_t)r > size - done) {
			/* a read error, or the file shrank or grew */
			rc = r < 0 ? -errno : -ESTALE;
			fd_err = true;
		} else if (archive_write_data(a, chunk, (size_t)r) != r) {
			rc = -EIO;
		} else {
			done += (uint64_t)r;
			if (bar)
				progress_update(bar, done, size);
		}
	}
	/* grown at the very end: the entry's size is already written */
	if (!rc) {
		ssize_t r = read_chunk(fd, chunk, CHUNK);

		if (r != 0) {
			rc = r < 0 ? -errno : -ESTALE;
			fd_err = true;
		}
	}
	free(chunk);
	if (fd_failed)
		*fd_failed = fd_err;
	return rc;
}

int archive_out_compress(struct archive *a, enum pf_compress c, int level,
			 long max_threads)
{
	char lvl[16], threads[24];
	long n;

	snprintf(lvl, sizeof(lvl), "%d", level);
	if (c != PF_COMPRESS_ZSTD)
		return archive_write_add_filter_gzip(a) != ARCHIVE_OK ||
		       archive_write_set_filter_option(a, "gzip",
				"compression-level", lvl) != ARCHIVE_OK ||
		       archive_write_set_filter_option(a, "gzip", "timestamp",
				NULL) != ARCHIVE_OK ? -EIO : 0;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n > max_threads)
		n = max_threads;
	if (n < 1)
		n = 1;
	snprintf(threads, sizeof(threads), "%ld", n);
	return archive_write_add_filter_zstd(a) != ARCHIVE_OK ||
	       archive_write_set_filter_option(a, "zstd", "compression-level",
					       lvl) != ARCHIVE_OK ||
	       archive_write_set_filter_option(a, "zstd", "threads",
					       threads) != ARCHIVE_OK ? -EIO : 0;
}
