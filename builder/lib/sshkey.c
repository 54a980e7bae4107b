/* OpenSSH's own key file format (PROTOCOL.key in the OpenSSH sources),
 * built from raw bytes because OpenSSL writes only PKCS#8, which sshd
 * reads but ssh-keygen would rewrite. Every buffer that holds private
 * bytes is wiped before it is freed. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "pxeforge/lib/secret.h"
#include "pxeforge/lib/sshkey.h"

#define KEY_TYPE "ssh-ed25519"
#define ARMOUR_BEGIN "-----BEGIN OPENSSH PRIVATE KEY-----\n"
#define ARMOUR_END "-----END OPENSSH PRIVATE KEY-----\n"
#define LINE_LEN 70	/* what ssh-keygen writes */
#define BLOCK_LEN 8	/* cipher "none" pads to 8 */

/* The SSH wire format being built. It grows by copying, never realloc,
 * so no freed block keeps private bytes. */
struct wire {
	unsigned char *p;
	size_t len, cap;
	int err;	/* first failure, sticky */
};

static void wire_put(struct wire *w, const void *data, size_t len)
{
	if (w->err || !len)
		return;
	if (len > w->cap - w->len) {
		size_t cap = w->cap ? w->cap : 256;
		unsigned char *p;

		while (cap - w->len < len) {
			if (cap > SIZE_MAX / 2) {
				w->err = -ENOMEM;
				return;
			}
			cap *= 2;
		}
		p = malloc(cap);
		if (!p) {
			w->err = -ENOMEM;
			return;
		}
		if (w->len)
			memcpy(p, w->p, w->len);
		secret_wipe(w->p, w->cap);
		free(w->p);
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->len, data, len);
	w->len += len;
}

static void wire_u32(struct wire *w, uint32_t v)
{
	unsigned char b[4] = { v >> 24, v >> 16, v >> 8, v };

	wire_put(w, b, 4);
}

/* SSH "string": uint32 length, then the bytes. */
static void wire_string(struct wire *w, const void *data, size_t len)
{
	if (len > UINT32_MAX) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	wire_u32(w, (uint32_t)len);
	wire_put(w, data, len);
}

static void wire_cstring(struct wire *w, const char *s)
{
	wire_string(w, s, strlen(s));
}

static void wire_release(struct wire *w)
{
	secret_wipe(w->p, w->cap);
	free(w->p);
	w->p = NULL;
	w->len = w->cap = 0;
}

/* Base64 of data (EVP_EncodeBlock: no newlines), malloc'd. */
static char *base64(const unsigned char *data, size_t len, size_t *outlen)
{
	size_t n;
	char *out;

	if (len > INT32_MAX / 4 * 3 - 3)
		return NULL;
	n = (len + 2) / 3 * 4;
	out = malloc(n + 1);
	if (!out)
		return NULL;
	*outlen = (size_t)EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

static int public_key(const unsigned char seed[32], unsigned char pub[32])
{
	EVP_PKEY *pkey;
	size_t len = 32;
	int rc = -EIO;

	pkey = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, seed, 32);
	if (pkey && EVP_PKEY_get_raw_public_key(pkey, pub, &len) == 1 &&
	    len == 32)
		rc = 0;
	EVP_PKEY_free(pkey);	/* cleanses its copy of the seed */
	return rc;
}

/* string("ssh-ed25519") || string(pub): the public key blob. */
static void wire_pubkey(struct wire *w, const unsigned char pub[32])
{
	wire_cstring(w, KEY_TYPE);
	wire_string(w, pub, 32);
}

/* The two equal check ints tell a right passphrase from a wrong one; with
 * no cipher they only need to be equal, and deterministic. */
static int checkint(const unsigned char seed[32], uint32_t *out)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(seed, 32, md, &mdlen, EVP_sha256(), NULL) || mdlen < 4)
		return -EIO;
	*out = (uint32_t)md[0] << 24 | (uint32_t)md[1] << 16 |
	       (uint32_t)md[2] << 8 | md[3];
	secret_wipe(md, sizeof(md));
	return 0;
}

static int private_blob(const unsigned char seed[32],
			const unsigned char pub[32], const char *comment,
			struct wire *w)
{
	struct wire priv = { 0 };
	uint32_t check;
	int rc;

	rc = checkint(seed, &check);
	if (rc)
		return rc;
	wire_u32(&priv, check);
	wire_u32(&priv, check);
	wire_pubkey(&priv, pub);
	/* OpenSSH's "private key" is seed || public key. */
	wire_u32(&priv, 64);
	wire_put(&priv, seed, 32);
	wire_put(&priv, pub, 32);
	wire_cstring(&priv, comment);
	for (unsigned char pad = 1; !priv.err && priv.len % BLOCK_LEN; pad++)
		wire_put(&priv, &pad, 1);

	wire_put(w, "openssh-key-v1", sizeof("openssh-key-v1"));	/* with NUL */
	wire_cstring(w, "none");	/* cipher */
	wire_cstring(w, "none");	/* kdf */
	wire_string(w, "", 0);		/* kdf options */
	wire_u32(w, 1);			/* number of keys */
	wire_u32(w, 4 + sizeof(KEY_TYPE) - 1 + 4 + 32);
	wire_pubkey(w, pub);
	if (!priv.err)
		wire_string(w, priv.p, priv.len);
	rc = priv.err ? priv.err : w->err;
	wire_release(&priv);
	return rc;
}

/* ARMOUR_BEGIN, b64 in lines of LINE_LEN, ARMOUR_END. */
static char *armour(const char *b64, size_t len)
{
	size_t lines = (len + LINE_LEN - 1) / LINE_LEN;
	size_t total = strlen(ARMOUR_BEGIN) + len + lines + strlen(ARMOUR_END);
	char *out = malloc(total + 1), *p;

	if (!out)
		return NULL;
	p = stpcpy(out, ARMOUR_BEGIN);
	for (size_t off = 0; off < len; off += LINE_LEN) {
		size_t n = len - off < LINE_LEN ? len - off : LINE_LEN;

		memcpy(p, b64 + off, n);
		p += n;
		*p++ = '\n';
	}
	strcpy(p, ARMOUR_END);
	return out;
}

int sshkey_ed25519(const unsigned char seed[32], const char *comment,
		   char **private_text, char **public_line)
{
	unsigned char pub[32];
	struct wire blob = { 0 };
	char *b64 = NULL, *priv = NULL, *line = NULL;
	size_t b64len = 0;
	int rc;

	if (private_text)
		*private_text = NULL;
	if (public_line)
		*public_line = NULL;
	if (!seed || !comment || !private_text || !public_line ||
	    strpbrk(comment, "\r\n"))
		return -EINVAL;
	rc = public_key(seed, pub);
	if (rc)
		goto out;

	rc = private_blob(seed, pub, comment, &blob);
	if (rc)
		goto out;
	rc = -ENOMEM;
	b64 = base64(blob.p, blob.len, &b64len);
	if (!b64)
		goto out;
	priv = armour(b64, b64len);
	if (!priv)
		goto out;

	secret_wipe(b64, b64len);
	free(b64);
	b64 = NULL;
	/* The public line: base64 of string(type) || string(pub). */
	wire_release(&blob);
	wire_pubkey(&blob, pub);
	if (blob.err) {
		rc = blob.err;
		goto out;
	}
	line = base64(blob.p, blob.len, &b64len);
	if (!line || asprintf(public_line, "%s %s%s%s", KEY_TYPE, line,
			      *comment ? " " : "", comment) < 0) {
		*public_line = NULL;
		goto out;
	}
	*private_text = priv;
	priv = NULL;
	rc = 0;
out:
	if (priv) {
		secret_wipe(priv, strlen(priv));
		free(priv);
	}
	if (b64) {
		secret_wipe(b64, b64len);
		free(b64);
	}
	free(line);
	wire_release(&blob);
	return rc;
}
