/* Hex digits, one rule for all of pxeforge: what it writes is lowercase;
 * what it reads (a profile's sha256, a manifest, a fetch pin) may be in
 * either case and is lowercased on the way in, so that "ABC…" and "abc…"
 * name the same content and every comparison is a strcmp. */
#ifndef PXEFORGE_LIB_HEX_H
#define PXEFORGE_LIB_HEX_H

#include <stdbool.h>
#include <stddef.h>

/* len bytes as 2 * len lowercase hex digits and a NUL into out. */
void hex_encode(const void *data, size_t len, char *out);
/* The same into a malloc'd string. 0 or -ENOMEM. */
int hex_encode_dup(const void *data, size_t len, char **out);

/* A SHA-256 written out: exactly 64 hex digits, either case. */
bool sha256_hex_valid(const char *s);
/* s, if sha256_hex_valid, lowercased into out (which may be s). 0 or
 * -EINVAL (out untouched); s may be NULL (-EINVAL). */
int sha256_hex_lower(const char *s, char out[65]);

#endif
