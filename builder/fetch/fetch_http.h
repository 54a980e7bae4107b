/* Internal to the fetch stage: what fetch.c (cache, locking, hashing)
 * and fetch_http.c (the transfer, retries) share. */
#ifndef PXEFORGE_FETCH_HTTP_H
#define PXEFORGE_FETCH_HTTP_H

#include <stdint.h>

#include <openssl/evp.h>

#include "pxeforge/fetch/fetch.h"

/* A download in progress: the locked .part and the hash of its bytes. */
struct pf_part {
	int fd;			/* positioned at its end */
	EVP_MD_CTX *md;		/* SHA-256 of every byte in it */
	uint64_t size;
};

/* Empties the .part and restarts its hash. 0 or -errno. */
int part_reset(struct pf_part *p);
/* Appends data to the .part and its hash. 0 or -errno. */
int part_append(struct pf_part *p, const void *data, size_t len);
/* The hex SHA-256 of the bytes so far; the running hash goes on. */
int part_digest_hex(const struct pf_part *p, char hex[65]);

/* Downloads url into part, resuming from part->size, retrying transient
 * failures; 0 once part hashes to hex. Else as fetch_cached, with the
 * reason in *why (malloc'd). The caller deletes the .part on failure. */
int fetch_download(const struct pf_fetch_opts *o, const char *url,
		   const char *hex, struct pf_part *part, char **why);

/* Replaces *why (if why is not NULL) with the formatted reason. */
void fetch_why(char **why, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
