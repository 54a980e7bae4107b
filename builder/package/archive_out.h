/* libarchive glue shared by the archives written through the hashing
 * writer (the bundle, the containerDisk): the write callback, and the
 * compression filters set up the one deterministic way. */
#ifndef PXEFORGE_ARCHIVE_OUT_H
#define PXEFORGE_ARCHIVE_OUT_H

#include <archive.h>
#include <archive_entry.h>
#include <stdint.h>
#include <sys/types.h>

#include "pxeforge/fetch/fetch.h"
#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/profile/profile.h"

/* archive_write_open2(a, &sink, NULL, archive_out_write, NULL, NULL):
 * every byte libarchive writes goes through hw; err keeps the first
 * error (-errno). */
struct pf_archive_out {
	struct pf_hashwrite hw;
	int err;
};
la_ssize_t archive_out_write(struct archive *a, void *ctx, const void *data,
			     size_t len);

/* gzip (no file name, no timestamp in its header) or zstd at level. zstd
 * runs on min(online CPUs, max_threads) workers, never 0: libzstd's
 * multi-threaded output is the same for any number of workers from 1 up,
 * not for its single-threaded mode. 0 or -EIO. */
int archive_out_compress(struct archive *a, enum pf_compress c, int level,
			 long max_threads);

/* Exactly size bytes of fd, from its offset, into a's current entry,
 * and not one more: a file shorter or longer than size changed while it
 * was read (-ESTALE). *fd_failed (may be NULL) tells fd's failures (a
 * read error, -ESTALE) from a's (-EIO), -ENOMEM. bar (may be NULL) is
 * advanced as bytes go in. fd may have O_DIRECT (fs_set_direct: a file
 * not read again soon); a read it refuses is made through the page cache. */
int archive_out_copy_fd(struct archive *a, int fd, uint64_t size,
			struct pf_progress *bar, bool *fd_failed);

/* Every field a tar header of ours carries, set in one place: path,
 * mode, owner uid:gid named name (NULL: numeric only, "" names),
 * mtime, size (0 but for regular files). */
void archive_out_tar_entry(struct archive_entry *ae, const char *path,
			   mode_t mode, unsigned uid, const char *name,
			   long long mtime, int64_t size);

#endif
