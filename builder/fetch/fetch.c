/* fetch: the content-addressed cache around fetch_download, and
 * verification of local files. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "pxeforge/fetch/fetch.h"
#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/hex.h"
#include "fetch_http.h"
#include "fetch_part.h"

#define LOCK_TRIES 100

void fetch_opts_init(struct pf_fetch_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->retries = 3;
	o->connect_timeout_s = 30;
	o->low_speed_limit = 1024;
	o->low_speed_time_s = 60;
}

bool fetch_is_url(const char *source)
{
	return source && (strncasecmp(source, "http://", 7) == 0 ||
			  strncasecmp(source, "https://", 8) == 0);
}

int fetch_cache_dir(const char *override, char **dir, char **why)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	int n;

	*dir = NULL;
	if (override && !override[0]) {
		fetch_why(why, "empty cache directory");
		return -EINVAL;
	}
	if (override)
		n = asprintf(dir, "%s", override);
	else if (xdg && xdg[0] == '/')
		n = asprintf(dir, "%s/pxeforge", xdg);
	else if (home && home[0])
		n = asprintf(dir, "%s/.cache/pxeforge", home);
	else {
		fetch_why(why, "no cache directory: neither XDG_CACHE_HOME nor HOME is set");
		return -ENOENT;
	}
	if (n < 0) {
		*dir = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int check_sha256(const char *in, char hex[65], char **why)
{
	if (sha256_hex_lower(in, hex) == 0)
		return 0;
	fetch_why(why, "invalid sha256 '%.80s' (64 hex digits expected)",
		  in ? in : "");
	return -EINVAL;
}

static int check_url(const char *url, char **why)
{
	CURLU *u = NULL;
	int rc = -EINVAL;

	if (!fetch_is_url(url)) {
		fetch_why(why, "not an http or https url");
		return -EINVAL;
	}
	u = curl_url();
	if (!u)
		return -ENOMEM;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		fetch_why(why, "invalid url");
	else
		rc = 0;
	curl_url_cleanup(u);
	return rc;
}

/* mkdir -p, 0755; the reason names the whole path, as the cache's. */
static int mkdir_p(const char *path, char **why)
{
	char *fail = NULL;
	int rc = fs_mkdir_p(path, 0, &fail);

	if (rc)
		fetch_why(why, "cannot create '%s': %s", path, strerror(-rc));
	free(fail);
	return rc;
}

static bool is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Opens path (created if missing) and takes its lock. A holder that gave
 * up unlinks the file while holding the lock, and one that succeeded
 * renames it: the lock then belongs to an inode no longer at path, so a
 * waiter checks it got the file still there, else opens again. */
static int open_locked(const char *path)
{
	for (int i = 0; i < LOCK_TRIES; i++) {
		struct stat a, b;
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644), rc;

		if (fd < 0)
			return -errno;
		while ((rc = flock(fd, LOCK_EX)) != 0 && errno == EINTR)
			;
		if (rc != 0) {
			rc = -errno;
			close(fd);
			return rc;
		}
		if (fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
		    a.st_dev == b.st_dev && a.st_ino == b.st_ino)
			return fd;
		close(fd);
	}
	return -EAGAIN;
}

/* The verified .part becomes sha256/<hex>, durably. */
static int part_finish(struct pf_part *p, const char *part,
		       const char *final, const char *final_dir, char **why)
{
	int dfd, rc = 0;

	if (fsync(p->fd) != 0 || rename(part, final) != 0) {
		rc = -errno;
		fetch_why(why, "cannot store '%s': %s", final, strerror(-rc));
		return rc;
	}
	dfd = open(final_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	return 0;
}

int fetch_cached(const struct pf_fetch_opts *o, const char *url,
		 const char *sha256_hex, char **cache_path, char **why)
{
	struct pf_fetch_opts defaults;
	struct pf_part p = { .fd = -1 };
	char hex[65], got[65];
	char *dir = NULL, *final_dir = NULL, *part_dir = NULL;
	char *final = NULL, *part = NULL, *reason = NULL;
	int rc;

	if (cache_path)
		*cache_path = NULL;
	if (!o) {
		fetch_opts_init(&defaults);
		o = &defaults;
	}
	rc = check_sha256(sha256_hex, hex, &reason);
	if (!rc)
		rc = check_url(url, &reason);
	if (!rc)
		rc = fetch_cache_dir(o->cache_dir, &dir, &reason);
	if (rc)
		goto out;
	if (asprintf(&final_dir, "%s/sha256", dir) < 0)
		final_dir = NULL;
	if (asprintf(&part_dir, "%s/partial", dir) < 0)
		part_dir = NULL;
	if (asprintf(&final, "%s/%s", final_dir, hex) < 0)
		final = NULL;
	if (asprintf(&part, "%s/%s.part", part_dir, hex) < 0)
		part = NULL;
	if (!final_dir || !part_dir || !final || !part) {
		rc = -ENOMEM;
		goto out;
	}
	if (is_file(final))
		goto out;
	rc = mkdir_p(final_dir, &reason);
	if (!rc)
		rc = mkdir_p(part_dir, &reason);
	if (rc)
		goto out;
	p.fd = open_locked(part);
	if (p.fd < 0) {
		rc = p.fd;
		fetch_why(&reason, "cannot open '%s': %s", part, strerror(-rc));
		goto out;
	}
	/* Another process may have finished it while we waited. */
	if (is_file(final)) {
		unlink(part);
		goto out;
	}
	p.md = EVP_MD_CTX_new();
	if (!p.md || EVP_DigestInit_ex(p.md, EVP_sha256(), NULL) != 1) {
		rc = -ENOMEM;
		goto out;
	}
	/* A .part left by a killed run: hash what it has, then resume. */
	rc = part_rehash(&p);
	if (rc) {
		fetch_why(&reason, "cannot read '%s': %s", part, strerror(-rc));
		goto out;
	}
	rc = p.size ? part_digest_hex(&p, got) : 0;
	if (!rc && (!p.size || strcmp(got, hex) != 0))
		rc = fetch_download(o, url, hex, &p, &reason);
	if (!rc)
		rc = part_finish(&p, part, final, final_dir, &reason);
out:
	/* Nothing partial is left behind a failure; we hold the lock. */
	if (rc && p.fd >= 0)
		unlink(part);
	if (p.fd >= 0)
		close(p.fd);
	EVP_MD_CTX_free(p.md);
	if (!rc && cache_path) {
		*cache_path = final;
		final = NULL;
	}
	if (!rc) {		/* an attempt that failed before one that worked */
		free(reason);
		reason = NULL;
	} else if (!reason) {
		fetch_why(&reason, "%s", strerror(-rc));
	}
	if (why)
		*why = reason;
	else
		free(reason);
	free(dir);
	free(final_dir);
	free(part_dir);
	free(final);
	free(part);
	return rc;
}

