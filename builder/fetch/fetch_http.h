/* Internal to the fetch stage: the transfer (fetch_http.c), used by the
 * cache (fetch.c). */
#ifndef PXEFORGE_FETCH_HTTP_H
#define PXEFORGE_FETCH_HTTP_H

#include "pxeforge/fetch/fetch.h"
#include "fetch_part.h"

/* Downloads url into part, resuming from part->size, retrying transient
 * failures; 0 once part hashes to hex. Else as fetch_cached, with the
 * reason in *why (malloc'd). The caller deletes the .part on failure. */
int fetch_download(const struct pf_fetch_opts *o, const char *url,
		   const char *hex, struct pf_part *part, char **why);

#endif
