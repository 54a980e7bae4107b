/* The file primitives every writer shares, and the paths of the output
 * tree and of archive entries. */
#ifndef PXEFORGE_LIB_FS_H
#define PXEFORGE_LIB_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* read(2), retried on EINTR: bytes read, 0 at EOF, or -errno. */
ssize_t fs_read_some(int fd, void *buf, size_t len);
/* All of data, retrying short writes and EINTR. 0 or -errno. */
int fs_write_all(int fd, const void *data, size_t len);
/* fs_write_all, and every FS_FLUSH_EVERY bytes (counted in
 * *since_flush) writeback of fd is started, asynchronously, so that the
 * final fsync finds little left to do (the kernel would otherwise hold
 * up to dirty_background_ratio of RAM, gigabytes, until then). */
#define FS_FLUSH_EVERY (16 * 1024 * 1024)
int fs_write_flushing(int fd, const void *p, size_t len,
		      uint64_t *since_flush);
/* mkdir -p (0755) for path, starting at byte `from` (the prefix before
 * it is known to exist); on failure *fail names the directory that could
 * not be made (malloc'd). 0 or -errno. */
int fs_mkdir_p(const char *path, size_t from, char **fail);

/* Large files are read and written past the page cache (O_DIRECT), in
 * buffers and at offsets aligned to PF_DIRECT_ALIGN: the kernel's copy
 * through the cache costs about as much CPU as SHA-256, and the data is
 * not read again soon (bench/packaging.sh's copy row measures it).
 * fs_set_direct: O_DIRECT on or off for fd, false when the file system
 * refuses it. fs_drop_direct: true when fd had O_DIRECT and now has not
 * (an I/O it refused may then be made again). */
#define PF_DIRECT_MIN (16 * 1024 * 1024)
#define PF_DIRECT_ALIGN 4096
bool fs_set_direct(int fd, bool on);
bool fs_drop_direct(int fd);
/* Writes with O_DIRECT while *direct; a write it refuses (a tail that is
 * not a multiple of PF_DIRECT_ALIGN, a file system without O_DIRECT)
 * clears it, and that and the rest go through fs_write_flushing. 0 or
 * -errno. */
int fs_write_direct(int fd, bool *direct, const unsigned char *p,
		    size_t len, uint64_t *since_flush);
/* For bench/packaging.sh only: true when PXEFORGE_BENCH_COPY=plain (read
 * once), and then every copy is the single-threaded one (1 MiB read,
 * SHA-256, write) and fs_set_direct never turns O_DIRECT on, so that the
 * bench measures both paths with one binary in one run. */
bool fs_bench_plain(void);

/* Relative, '/'-separated, no empty, "." or ".." components. */
bool path_normalised(const char *path);
/* dir/rel, with or without a '/' at the end of dir; malloc'd, NULL when
 * out of memory. */
char *path_join(const char *dir, const char *rel);

#endif
