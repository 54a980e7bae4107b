#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/hex.h"

void hex_encode(const void *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const unsigned char *p = data;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 0xf];
	}
	out[2 * len] = '\0';
}

int hex_encode_dup(const void *data, size_t len, char **out)
{
	*out = len < (SIZE_MAX - 1) / 2 ? malloc(2 * len + 1) : NULL;
	if (!*out)
		return -ENOMEM;
	hex_encode(data, len, *out);
	return 0;
}

bool sha256_hex_valid(const char *s)
{
	size_t n = 0;

	while (n < 64 && isxdigit((unsigned char)s[n]))
		n++;
	return n == 64 && !s[n];
}

int sha256_hex_lower(const char *s, char out[65])
{
	if (!s || !sha256_hex_valid(s))
		return -EINVAL;
	for (size_t i = 0; i < 64; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[64] = '\0';
	return 0;
}
