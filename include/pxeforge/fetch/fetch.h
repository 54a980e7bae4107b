/* fetch: remote inputs (kernel, initrds, disk images) downloaded over
 * http/https into a content-addressed cache and verified by SHA-256 while
 * they stream (libcurl, OpenSSL EVP).
 *
 * Cache layout under the cache directory:
 *   sha256/<hex>        verified files, named by their SHA-256
 *   partial/<hex>.part  a download in progress (locked with flock)
 * A file is only ever renamed into sha256/ after its hash matched, so a
 * hit is trusted by its name and not re-hashed (re-hashing a 2 GiB image
 * on every build would cost more than it guards; `pxeforge verify`
 * checks OUT against the manifest).
 *
 * A .part is kept only when the process is killed; the next run re-hashes
 * its bytes and resumes with a Range request (a server that answers 200
 * sends it all again, and the .part starts over). Every failure that ends
 * a fetch_cached call deletes it, so a failed fetch leaves nothing
 * partial. When resumed bytes turn out not to belong to the file (416, or
 * the hash is wrong), the file is fetched once more from the start, not
 * counted as a retry. Not retried: DNS failures, HTTP 4xx (but 408, 429),
 * TLS, redirect and hash failures. Two processes sharing a cache wait for
 * each other's download (flock) instead of fetching the file twice.
 *
 * Library state: fetch_cached initialises libcurl itself on first use;
 * fetch_global_cleanup() at exit frees it (optional; not thread-safe). */
#ifndef PXEFORGE_FETCH_H
#define PXEFORGE_FETCH_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define FETCH_MAX_REDIRS 5

struct pf_fetch_opts {
	const char *cache_dir;	/* NULL: $XDG_CACHE_HOME/pxeforge, else
				 * $HOME/.cache/pxeforge */
	const char *ca_file;	/* PEM CAs trusted instead of the system's
				 * store (a private mirror); NULL: system.
				 * Verification itself cannot be turned off. */
	bool progress;		/* bar on stderr; the caller passes
				 * isatty(2) && !quiet */
	unsigned retries;	/* attempts after the first for transient
				 * failures (connect, 5xx, truncation,
				 * stall), with back-off 1 s, 2 s, 4 s…
				 * (base: $PXEFORGE_FETCH_BACKOFF_MS) */
	long connect_timeout_s;
	long low_speed_limit;	/* bytes/s; slower than this for */
	long low_speed_time_s;	/* this long is a stalled transfer */
};

/* Defaults: cache_dir NULL, ca_file NULL, progress off, 3 retries,
 * connect timeout 30 s, stalled below 1024 bytes/s for 60 s. */
void fetch_opts_init(struct pf_fetch_opts *o);

/* curl_global_init, once; fetch_cached calls it when needed. 0 or -EIO. */
int fetch_global_init(void);
void fetch_global_cleanup(void);

/* True for an http:// or https:// URL (scheme case-insensitive): the
 * sources fetch_cached takes; anything else is the caller's local path. */
bool fetch_is_url(const char *source);

/* The cache directory: override if not NULL, else the XDG default (a
 * relative $XDG_CACHE_HOME is ignored, as the spec says). 0 with *dir
 * malloc'd, or -ENOENT with *why when neither XDG_CACHE_HOME nor HOME
 * is set, -ENOMEM. */
int fetch_cache_dir(const char *override, char **dir, char **why);

/* The file at url whose SHA-256 is sha256_hex (64 hex digits, either
 * case), from the cache or downloaded into it. 0 with *cache_path set
 * (malloc'd: <cache>/sha256/<hex>). On failure *why is a malloc'd
 * lowercase reason for "cannot fetch 'URL': <why>" and the result is
 *   -EINVAL   not an http/https URL, or not a SHA-256 (no request made)
 *   -EBADMSG  the body's hash differs: "sha256 mismatch: expected …, got …"
 *   -EIO      network, TLS or HTTP failure: "HTTP 404", "could not resolve
 *             host 'x'", "connection closed after N of M bytes (gave up
 *             after 4 attempts)", "transfer stalled: …", "too many
 *             redirects (more than 5)", "tls certificate verification
 *             failed: …"
 *   -ENOMEM, or -errno of the cache directory ("cannot create 'p': …").
 * Either output may be NULL. Redirects: at most FETCH_MAX_REDIRS, http
 * and https only (an https→http redirect is followed: the hash guards
 * the content). */
int fetch_cached(const struct pf_fetch_opts *o, const char *url,
		 const char *sha256_hex, char **cache_path, char **why);

/* The one wording of a hash that is not the pinned one: the pin, then
 * what was read. */
#define PF_SHA256_MISMATCH "sha256 mismatch: expected %s, got %s"

#endif
