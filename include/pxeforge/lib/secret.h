/* The cluster secret: 32 random bytes in a 0600 file, from which every
 * node's identity (k3s node password, SSH host key, ...) is derived with
 * HMAC-SHA256, so rebuilding a node gives it the same identity. */
#ifndef PXEFORGE_SECRET_H
#define PXEFORGE_SECRET_H

#include <stddef.h>

#define PF_SECRET_LEN 32

/* Writes PF_SECRET_LEN bytes from RAND_bytes to path, mode 0600 whatever
 * the umask. Never overwrites: -EEXIST when path exists (even as a
 * dangling symlink). The bytes go to a temp file in the same directory
 * that is fsync'd and then link(2)ed to path, so path appears complete or
 * not at all; nothing is left behind on failure. 0 or -errno. */
int secret_create(const char *path);

/* Reads the key at path (symlinks followed). -EINVAL unless it is a
 * regular file of exactly PF_SECRET_LEN bytes; -EPERM when group or
 * others have any permission on it (as ssh refuses such keys); other
 * failures -errno. key is wiped on failure. */
int secret_load(const char *path, unsigned char key[PF_SECRET_LEN]);

/* out = HMAC-SHA256(key, label || 0x00 || name). Each use takes its own
 * label ("k3s-node-password", ...) so no two uses share a value.
 * 0, -EINVAL (NULL label or name) or -EIO/-ENOMEM (OpenSSL). */
int secret_derive(const unsigned char key[PF_SECRET_LEN], const char *label,
		  const char *name, unsigned char out[32]);

/* Why secret_load() failed (its return code rc), as a phrase that
 * follows "cluster secret 'PATH' ": "is readable by group or others; ...".
 * May point into a static buffer, valid until the next call. */
const char *secret_problem(int rc);

/* Zeroes p in a way the compiler cannot drop (OPENSSL_cleanse). */
void secret_wipe(void *p, size_t n);

#endif
