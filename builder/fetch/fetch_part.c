/* What fetch.c (the cache) and fetch_http.c (the transfer) share: the
 * download in progress (a .part and the hash of its bytes) and the
 * failure reason. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pxeforge/lib/hashwrite.h"
#include "fetch_part.h"

#define BUF_SIZE (64 * 1024)

void fetch_why(char **why, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (!why)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	free(*why);
	*why = s;
}

int part_rehash(struct pf_part *p)
{
	char *buf = malloc(BUF_SIZE);
	ssize_t n;
	int rc = 0;

	if (!buf)
		return -ENOMEM;
	while ((n = read(p->fd, buf, BUF_SIZE)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (EVP_DigestUpdate(p->md, buf, (size_t)n) != 1) {
			rc = -ENOMEM;
			break;
		}
		p->size += (uint64_t)n;
	}
	free(buf);
	return rc;
}

int part_digest_hex(const struct pf_part *p, char hex[65])
{
	EVP_MD_CTX *copy = EVP_MD_CTX_new();
	int rc = -ENOMEM;

	if (copy && EVP_MD_CTX_copy_ex(copy, p->md) == 1)
		rc = sha256_final_hex(copy, hex);
	EVP_MD_CTX_free(copy);
	return rc;
}

int part_reset(struct pf_part *p)
{
	if (ftruncate(p->fd, 0) != 0 || lseek(p->fd, 0, SEEK_SET) != 0)
		return -errno;
	if (EVP_DigestInit_ex(p->md, EVP_sha256(), NULL) != 1)
		return -ENOMEM;
	p->size = 0;
	return 0;
}

int part_append(struct pf_part *p, const void *data, size_t len)
{
	const char *s = data;
	size_t off = 0;

	while (off < len) {
		ssize_t n = write(p->fd, s + off, len - off);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		off += (size_t)n;
	}
	if (EVP_DigestUpdate(p->md, data, len) != 1)
		return -ENOMEM;
	p->size += len;
	return 0;
}

