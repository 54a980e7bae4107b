/* Internal to the fetch stage: what fetch.c (the cache, locking) and
 * fetch_http.c (the transfer, retries) share. */
#ifndef PXEFORGE_FETCH_PART_H
#define PXEFORGE_FETCH_PART_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

/* A download in progress: the locked .part and the hash of its bytes. */
struct pf_part {
	int fd;			/* positioned at its end */
	EVP_MD_CTX *md;		/* SHA-256 of every byte in it */
	uint64_t size;
};

/* Hashes what the .part holds from fd's offset to its end (a .part a
 * killed run left) into md and size. 0 or -errno. */
int part_rehash(struct pf_part *p);
/* Empties the .part and restarts its hash. 0 or -errno. */
int part_reset(struct pf_part *p);
/* Appends data to the .part and its hash. 0 or -errno. */
int part_append(struct pf_part *p, const void *data, size_t len);
/* The hex SHA-256 of the bytes so far; the running hash goes on. */
int part_digest_hex(const struct pf_part *p, char hex[65]);

/* Replaces *why (if why is not NULL) with the formatted reason. */
void fetch_why(char **why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
