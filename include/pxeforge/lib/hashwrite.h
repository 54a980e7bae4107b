/* hashwrite: the one way pxeforge writes a file. Every byte goes through
 * SHA-256 (OpenSSL EVP) on its way to a temporary file beside the target
 * (mkostemp); commit fsyncs it (unless nosync) and renames it into place, or drops it when
 * the target already holds the same bytes with the same mode, so that the
 * target and its mtime stay. Memory use does not depend on file size. */
#ifndef PXEFORGE_HASHWRITE_H
#define PXEFORGE_HASHWRITE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

/* Temporary files start with this; whoever walks an output tree skips them. */
#define PF_TMP_PREFIX ".pxeforge-tmp-"

struct pf_progress;

/* Size and hex SHA-256 of a file's content. */
struct pf_filesum {
	uint64_t size;
	char sha256[65];
};

struct pf_hashwrite {
	EVP_MD_CTX *md;
	char *target;
	char *tmp;	/* the temporary file, NULL when none is open */
	int fd;
	mode_t mode;
	uint64_t size;
	uint64_t unflushed;	/* written since writeback was last started */
	bool read_failed;	/* the last error came from hashwrite_copy_fd's fd */
	struct pf_progress *bar;	/* advanced by hashwrite_copy_fd, or NULL */
	unsigned char *stage;	/* hashwrite_direct's aligned buffer, or NULL */
	size_t staged;
	bool direct;		/* fd has O_DIRECT */
	/* no fsync at commit or install: set after open by a caller that
	 * syncs the whole tree once (out/'s staging directory) */
	bool nosync;
};

/* Starts a file that will replace target (its directory must exist): the
 * temporary file gets mode & 07777 now, whatever the umask. 0 or -errno;
 * on failure w holds nothing. */
int hashwrite_open(struct pf_hashwrite *w, const char *target, mode_t mode);
/* The same, the temporary file in tmpdir (on target's file system)
 * rather than beside target: a file can be written before its directory
 * exists. */
int hashwrite_open_in(struct pf_hashwrite *w, const char *target,
		      const char *tmpdir, mode_t mode);
/* From now on hashwrite_update's bytes gather in an aligned buffer of
 * 1 MiB that is written past the page cache when full (O_DIRECT:
 * fs.h), the rest when the file ends: for a large file written
 * in small pieces (an archive). 0 or -ENOMEM. */
int hashwrite_direct(struct pf_hashwrite *w);
/* Hashes and writes. 0 or -errno. */
int hashwrite_update(struct pf_hashwrite *w, const void *data, size_t len);
/* Streams fd from its offset to EOF (from 1 MiB on, read, written and
 * hashed on three threads, lib/hashring.c; after hashwrite_direct,
 * through its stage);
 * *copied (may be NULL) counts the bytes. On a read error w->read_failed is set. w->bar
 * (set after hashwrite_open), when not NULL, is advanced against fd's
 * size. */
int hashwrite_copy_fd(struct pf_hashwrite *w, int fd, uint64_t *copied);
/* Ends the file: *sum is what was written. The temporary file is dropped
 * (*replaced false) when target is a regular file with the same mode,
 * size and SHA-256, else fsynced and renamed over target (*replaced true).
 * known, when not NULL, is what the caller knows target holds (it checked
 * that target has not changed since), so target is not read; with NULL a
 * target of the same size is hashed. w holds nothing afterwards, on
 * failure too. 0 or -errno. */
int hashwrite_commit(struct pf_hashwrite *w, const struct pf_filesum *known,
		     struct pf_filesum *sum, bool *replaced);
/* Commit in two steps, for a file that must wait for others before it
 * replaces target. hashwrite_end: *sum is what was written; the
 * temporary file is closed (few descriptors held, however many wait) and
 * kept. hashwrite_install: then what hashwrite_commit does with it. Until
 * then hashwrite_abort drops it. 0 or -errno. */
int hashwrite_end(struct pf_hashwrite *w, struct pf_filesum *sum);
int hashwrite_install(struct pf_hashwrite *w, const struct pf_filesum *sum,
		      const struct pf_filesum *known, bool *replaced);
/* Drops the temporary file. Accepts NULL and a writer already ended. */
void hashwrite_abort(struct pf_hashwrite *w);

/* Whole content in memory: hashed once into *sum, compared with target
 * byte for byte, and only when it differs (or the mode does) written as
 * above. No temporary file is made for an unchanged target. */
int hashwrite_buffer(const char *target, const void *data, size_t len,
		     mode_t mode, struct pf_filesum *sum, bool *replaced);

/* Ends the SHA-256 in md: its 64 lowercase hex digits into hex. 0 or
 * -EIO. */
int sha256_final_hex(EVP_MD_CTX *md, char hex[65]);
/* Hashes fd from its offset to EOF, streaming. 0 or -errno. */
int sha256_fd(int fd, struct pf_filesum *sum);
/* Hex SHA-256 of data into hex[65]. */
int sha256_hex(const void *data, size_t len, char hex[65]);

/* Bytes this process has passed through SHA-256 so far: how tests see
 * that an unchanged input was not read again. */
uint64_t hashwrite_hashed(void);

#endif
