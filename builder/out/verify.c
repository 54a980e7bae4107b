#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/out/bundle_record.h"
#include "pxeforge/out/outstate.h"
#include "pxeforge/out/outtree.h"
#include "pxeforge/out/outwriter.h"
#include "pxeforge/out/verify.h"

void verify_report_release(struct pf_verify_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		free(r->v[i].path);
	free(r->v);
	memset(r, 0, sizeof(*r));
}

static int report(struct pf_verify_report *r, enum pf_verify_kind kind,
		  const char *path, struct pf_verify_diff **out)
{
	struct pf_verify_diff *d;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct pf_verify_diff *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	d = &r->v[r->n];
	memset(d, 0, sizeof(*d));
	d->kind = kind;
	d->path = strdup(path);
	if (!d->path)
		return -ENOMEM;
	r->n++;
	if (out)
		*out = d;
	return 0;
}

/* One listed file against its record. */
static int check_listed(int root, const struct pf_outrecord *rec,
			struct pf_verify_report *r)
{
	struct pf_verify_diff *d;
	struct pf_filesum got;
	struct stat st;
	int fd, rc;

	fd = open_below(root, rec->path, O_RDONLY | O_NONBLOCK);
	rc = fd < 0 ? fd : 0;
	/* ENOTDIR: a file where a directory on the way should be. */
	if (rc == -ENOENT || rc == -ENOTDIR)
		return report(r, PF_VERIFY_MISSING, rec->path, NULL);
	/* A symlink, or one on the way. */
	if (rc == -ELOOP)
		return report(r, PF_VERIFY_NOT_REGULAR, rec->path, NULL);
	if (!rc && fstat(fd, &st) != 0)
		rc = -errno;
	if (rc)
		goto unreadable;
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return report(r, PF_VERIFY_NOT_REGULAR, rec->path, NULL);
	}
	if ((uint64_t)st.st_size != rec->sum.size) {
		close(fd);
		rc = report(r, PF_VERIFY_SIZE, rec->path, &d);
		if (!rc) {
			d->want = rec->sum;
			d->got.size = (uint64_t)st.st_size;
		}
		return rc;
	}
	rc = sha256_fd(fd, &got);
	close(fd);
	fd = -1;
	if (rc == -ENOMEM)
		return rc;
	if (rc)
		goto unreadable;
	if (got.size == rec->sum.size && !strcmp(got.sha256, rec->sum.sha256))
		return 0;
	rc = report(r, got.size == rec->sum.size ? PF_VERIFY_SHA256 :
		    PF_VERIFY_SIZE, rec->path, &d);
	if (!rc) {
		d->want = rec->sum;
		d->got = got;
	}
	return rc;
unreadable:
	if (fd >= 0)
		close(fd);
	{
		int err = -rc;

		rc = report(r, PF_VERIFY_UNREADABLE, rec->path, &d);
		if (!rc)
			d->err = err;
	}
	return rc;
}

/* pxeforge's own files; the secrets the manifest never lists are in the
 * state file. A temporary file is a killed build's leftover: reported. */
static bool not_for_manifest(const char *rel)
{
	return !strcmp(rel, PF_MANIFEST_NAME) || !strcmp(rel, PF_STATE_NAME) ||
	       !strcmp(rel, PF_BUNDLES_NAME);
}

/* Reports what lies below the directory fd (rel is its path in the tree,
 * "" for the top) that the manifest does not list. Takes fd. */
static int walk_extra(int fd, const char *rel, const struct pf_outrecords *m,
		      struct pf_verify_report *r)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		close(fd);
		r->walk_err = errno;
		return 0;
	}
	while (!rc && (errno = 0, de = readdir(d))) {
		char *path = NULL;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (asprintf(&path, "%s%s%s", rel, *rel ? "/" : "",
			     de->d_name) < 0) {
			rc = -ENOMEM;
			break;
		}
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
			r->walk_err = errno;
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY |
					 O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0)
				r->walk_err = errno;
			else
				rc = walk_extra(sub, path, m, r);
		} else if (!outrecords_find(m, path) && !not_for_manifest(path)) {
			rc = report(r, PF_VERIFY_EXTRA, path, NULL);
		}
		free(path);
	}
	if (!rc && !de && errno)
		r->walk_err = errno;
	closedir(d);
	return rc;
}

/* A staging directory beside dir: a build running, or one killed. The
 * writer stages beside what OUT resolves to: for an OUT that is a
 * symlink, beside its target. */
static int check_staging(const char *dir, struct pf_verify_report *r)
{
	char *copy = strdup(dir), *slash, *stage = NULL;
	size_t len;
	struct stat st;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (len = strlen(copy); len > 1 && copy[len - 1] == '/'; len--)
		copy[len - 1] = '\0';
	if (lstat(copy, &st) == 0 && S_ISLNK(st.st_mode)) {
		char *real = realpath(copy, NULL);

		if (real) {
			free(copy);
			copy = real;
		}
	}
	slash = strrchr(copy, '/');
	if (slash)
		*slash = '\0';
	if (asprintf(&stage, "%s%s.%s" PF_STAGE_SUFFIX, slash ? copy : "",
		     slash ? "/" : "", slash ? slash + 1 : copy) < 0) {
		stage = NULL;
		rc = -ENOMEM;
	} else if (lstat(stage, &st) == 0) {
		rc = report(r, PF_VERIFY_STAGING, stage, NULL);
	}
	free(stage);
	free(copy);
	return rc;
}

static int diff_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pf_verify_diff *)a)->path,
		      ((const struct pf_verify_diff *)b)->path);
}

int verify_tree(const char *dir, struct pf_verify_report *r, char *why,
		size_t whylen)
{
	struct pf_outrecords m, known;
	int root = -1, rc;

	memset(r, 0, sizeof(*r));
	outrecords_init(&m);
	outrecords_init(&known);
	snprintf(why, whylen, "%s", "");
	rc = manifest_load(dir, &m, why, whylen);
	if (rc)
		goto out;
	r->listed = m.n;
	root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		rc = -errno;
		goto out;
	}
	for (size_t i = 0; i < m.n && !rc; i++)
		rc = check_listed(root, &m.v[i], r);
	/* what the manifest and the state file know of */
	if (!rc)
		rc = outstate_load(dir, &known);
	if (!rc) {
		int fd = dup(root);

		rc = fd < 0 ? -errno : walk_extra(fd, "", &known, r);
	}
	if (!rc)
		rc = check_staging(dir, r);
	if (!rc && r->n)
		qsort(r->v, r->n, sizeof(*r->v), diff_cmp);
out:
	if (root >= 0)
		close(root);
	outrecords_release(&m);
	outrecords_release(&known);
	if (rc)
		verify_report_release(r);
	return rc;
}
