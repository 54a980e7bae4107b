/* Internal to lib/: hashwrite_copy_fd's path for large files. */
#ifndef PXEFORGE_LIB_HASHRING_H
#define PXEFORGE_LIB_HASHRING_H

#include <stdint.h>

#include "pxeforge/lib/hashwrite.h"

/* From this size on a copy is worth its threads. */
#define HASHRING_MIN (1024 * 1024)

/* Copies fd from its offset to EOF into w: this thread reads, one writes
 * (with O_DIRECT from PF_DIRECT_MIN of total), one hashes into w->md, in
 * the order read. *copied counts the bytes, w->size grows by them, w->bar
 * (when set) is advanced against total; a read error sets
 * w->read_failed. 0, -errno, or -EAGAIN when no thread could be started
 * (nothing was read). */
int hashring_copy(struct pf_hashwrite *w, int fd, uint64_t total,
		  uint64_t *copied);

#endif
