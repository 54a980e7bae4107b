/* The cluster secret: create, load, derive. Key bytes live only in the
 * caller's key[] and in the file; temporaries are wiped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/secret.h"

#define TMP_NAME ".pxeforge-secret-XXXXXX"

void secret_wipe(void *p, size_t n)
{
	if (p && n)
		OPENSSL_cleanse(p, n);
}

/* "<dir of path>/.pxeforge-secret-XXXXXX": same directory, so link(2)
 * works and the key never crosses a file system. */
static char *temp_template(const char *path)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash ? (int)(slash - path + 1) : 0;
	char *tmp;

	if (asprintf(&tmp, "%.*s" TMP_NAME, dirlen, path) < 0)
		return NULL;
	return tmp;
}

/* Best effort: the new name survives a crash. The file is complete
 * either way, so a failure here is not worth undoing it for. */
static void sync_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path + 1)) : NULL;
	int fd;

	if (slash && !dir)
		return;
	fd = open(dir ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(dir);
}

int secret_create(const char *path)
{
	unsigned char key[PF_SECRET_LEN];
	struct stat st;
	char *tmp = NULL;
	int fd = -1, rc;

	if (!path || !*path)
		return -EINVAL;
	/* Early and clearer than the temp file's error when the directory
	 * is not writable; link(2) below is what really guarantees it. */
	if (lstat(path, &st) == 0)
		return -EEXIST;
	tmp = temp_template(path);
	if (!tmp)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		free(tmp);	/* nothing was created */
		tmp = NULL;
		goto out;
	}
	/* fchmod, not the umask, decides the mode. */
	rc = fchmod(fd, 0600) ? -errno : 0;
	if (!rc && RAND_bytes(key, sizeof(key)) != 1)
		rc = -EIO;
	if (!rc)
		rc = fs_write_all(fd, key, sizeof(key));
	if (!rc && fsync(fd) != 0)
		rc = -errno;
	if (close(fd) != 0 && !rc)
		rc = -errno;
	fd = -1;
	/* link(2), unlike rename(2), fails when path exists. */
	if (!rc && link(tmp, path) != 0)
		rc = -errno;
out:
	secret_wipe(key, sizeof(key));
	if (tmp)
		unlink(tmp);
	if (!rc)
		sync_dir(path);
	free(tmp);
	return rc;
}

static int read_exact(int fd, unsigned char *data, size_t len)
{
	while (len) {
		ssize_t n = read(fd, data, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EINVAL;	/* shrank since fstat */
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

int secret_load(const char *path, unsigned char key[PF_SECRET_LEN])
{
	struct stat st;
	int fd, rc;

	if (!path || !key)
		return -EINVAL;
	/* O_NONBLOCK: a FIFO at path must not hang us before fstat. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	/* fstat the opened file, not the path: what we check is what we read. */
	if (fstat(fd, &st) != 0)
		rc = -errno;
	else if (!S_ISREG(st.st_mode))
		rc = -EINVAL;
	else if (st.st_mode & 077)
		rc = -EPERM;
	else if (st.st_size != PF_SECRET_LEN)
		rc = -EINVAL;
	else
		rc = read_exact(fd, key, PF_SECRET_LEN);
	close(fd);
	if (rc)
		secret_wipe(key, PF_SECRET_LEN);
	return rc;
}

int secret_derive(const unsigned char key[PF_SECRET_LEN], const char *label,
		  const char *name, unsigned char out[32])
{
	static const unsigned char sep = 0;
	OSSL_PARAM params[2];
	EVP_MAC *mac = NULL;
	EVP_MAC_CTX *ctx = NULL;
	size_t outlen = 0;
	int rc = -EIO;

	if (!key || !label || !name || !out)
		return -EINVAL;
	params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
						     (char *)"SHA256", 0);
	params[1] = OSSL_PARAM_construct_end();
	mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	if (mac)
		ctx = EVP_MAC_CTX_new(mac);
	if (!ctx)
		goto out;
	/* Streamed, so label || 0x00 || name is never copied together. */
	if (EVP_MAC_init(ctx, key, PF_SECRET_LEN, params) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)label, strlen(label)) != 1 ||
	    EVP_MAC_update(ctx, &sep, 1) != 1 ||
	    EVP_MAC_update(ctx, (const unsigned char *)name, strlen(name)) != 1 ||
	    EVP_MAC_final(ctx, out, &outlen, 32) != 1 || outlen != 32)
		goto out;
	rc = 0;
out:
	if (rc)
		secret_wipe(out, 32);
	EVP_MAC_CTX_free(ctx);	/* frees (and cleanses) the keyed state */
	EVP_MAC_free(mac);
	return rc;
}

const char *secret_problem(int rc)
{
	static char other[160];

	switch (rc) {
	case -EPERM:
		return "is readable or writable by group or others; run 'chmod 600' on it";
	case -EINVAL:
		return "is not a 32-byte key made by 'pxeforge secret init'";
	case -ENOENT:
		return "does not exist; create it with 'pxeforge secret init'";
	}
	snprintf(other, sizeof(other), "cannot be read: %s", strerror(-rc));
	return other;
}
