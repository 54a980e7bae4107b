#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/hex.h"
#include "pxeforge/out/outstate.h"

#if JSON_INTEGER_IS_LONG_LONG
#define PF_JSON_INT_MAX LLONG_MAX
#else
#define PF_JSON_INT_MAX LONG_MAX
#endif

void stat_fingerprint(const struct stat *st, char out[PF_FINGERPRINT_MAX])
{
	snprintf(out, PF_FINGERPRINT_MAX,
		 "%jd:%jd.%09ld:%jd.%09ld:%ju:%ju", (intmax_t)st->st_size,
		 (intmax_t)st->st_mtim.tv_sec, (long)st->st_mtim.tv_nsec,
		 (intmax_t)st->st_ctim.tv_sec, (long)st->st_ctim.tv_nsec,
		 (uintmax_t)st->st_dev, (uintmax_t)st->st_ino);
}

char *source_key(const char *path)
{
	char *real = realpath(path, NULL);

	return real ? real : strdup(path);
}

void outrecords_init(struct pf_outrecords *r)
{
	r->v = NULL;
	r->n = r->cap = 0;
}

static void record_free(struct pf_outrecord *rec)
{
	free(rec->path);
	free(rec->stat);
	free(rec->source);
	free(rec->source_stat);
}

void outrecords_release(struct pf_outrecords *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		record_free(&r->v[i]);
	free(r->v);
	outrecords_init(r);
}

static int dup_opt(char **dst, const char *src)
{
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -ENOMEM : 0;
}

int outrecords_add(struct pf_outrecords *r, const struct pf_outrecord *rec)
{
	struct pf_outrecord c = *rec;

	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 16;
		struct pf_outrecord *v = realloc(r->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		r->v = v;
		r->cap = cap;
	}
	if (dup_opt(&c.path, rec->path) || dup_opt(&c.stat, rec->stat) ||
	    dup_opt(&c.source, rec->source) ||
	    dup_opt(&c.source_stat, rec->source_stat) || !c.path) {
		record_free(&c);
		return -ENOMEM;
	}
	r->v[r->n++] = c;
	return 0;
}

static int record_cmp(const void *a, const void *b)
{
	return strcmp(((const struct pf_outrecord *)a)->path,
		      ((const struct pf_outrecord *)b)->path);
}

void outrecords_sort(struct pf_outrecords *r)
{
	size_t out = 0;

	if (!r->n)
		return;
	qsort(r->v, r->n, sizeof(*r->v), record_cmp);
	for (size_t i = 0; i < r->n; i++) {
		if (out && !strcmp(r->v[out - 1].path, r->v[i].path)) {
			record_free(&r->v[i]);
			continue;
		}
		r->v[out++] = r->v[i];
	}
	r->n = out;
}

const struct pf_outrecord *outrecords_find(const struct pf_outrecords *r,
					   const char *path)
{
	struct pf_outrecord key = { .path = (char *)path };

	if (!r->n)
		return NULL;
	return bsearch(&key, r->v, r->n, sizeof(*r->v), record_cmp);
}

/* One {"path", "sha256", "size", ...} object. required: sha256 and size
 * must be there (the manifest); else they are optional (the state). */
static int record_parse(json_t *e, bool required, struct pf_outrecord *rec,
			const char **why)
{
	json_t *path = json_object_get(e, "path");
	json_t *sha = json_object_get(e, "sha256");
	json_t *size = json_object_get(e, "size");
	const char *keys[] = { "stat", "source", "source_stat" };
	char **dst[] = { &rec->stat, &rec->source, &rec->source_stat };

	memset(rec, 0, sizeof(*rec));
	*why = "an entry is not an object";
	if (!json_is_object(e))
		return -EINVAL;
	*why = "an entry's path is missing or not normalised";
	if (!json_is_string(path) || !path_normalised(json_string_value(path)))
		return -EINVAL;
	rec->path = (char *)json_string_value(path);
	*why = "an entry's sha256 or size is missing or malformed";
	if (required && (!sha || !size))
		return -EINVAL;
	if (!sha != !size)
		return -EINVAL;
	if (sha) {
		if (!json_is_string(sha) ||
		    sha256_hex_lower(json_string_value(sha), rec->sum.sha256) ||
		    !json_is_integer(size) || json_integer_value(size) < 0)
			return -EINVAL;
		rec->has_sum = true;
		rec->sum.size = (uint64_t)json_integer_value(size);
	}
	*why = "an entry's stat or source is not a string";
	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_object_get(e, keys[i]);

		if (v && !json_is_string(v))
			return -EINVAL;
		*dst[i] = v ? (char *)json_string_value(v) : NULL;
	}
	return 0;
}

/* {"files": [...]} into r (appended, then sorted). */
static int records_parse(const char *text, size_t len, bool required,
			 struct pf_outrecords *r, char *why, size_t whylen)
{
	json_error_t err;
	json_t *root, *files;
	const char *reason = "not an object with a \"files\" array";
	size_t i, before = r->n;
	int rc = -EINVAL;

	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
	if (!root) {
		snprintf(why, whylen, "line %d: %s", err.line, err.text);
		return -EINVAL;
	}
	files = json_object_get(root, "files");
	if (!json_is_object(root) || !json_is_array(files))
		goto out;
	for (i = 0; i < json_array_size(files); i++) {
		struct pf_outrecord rec;

		rc = record_parse(json_array_get(files, i), required, &rec,
				  &reason);
		if (!rc)
			rc = outrecords_add(r, &rec);
		if (rc)
			goto out;
	}
	outrecords_sort(r);
	reason = "a path is listed twice";
	rc = r->n - before == json_array_size(files) ? 0 : -EINVAL;
out:
	if (rc == -EINVAL)
		snprintf(why, whylen, "%s", reason);
	json_decref(root);
	return rc;
}

int manifest_parse(const char *text, size_t len, struct pf_outrecords *r,
		   char *why, size_t whylen)
{
	return records_parse(text, len, true, r, why, whylen);
}

int outstate_slurp(const char *dir, const char *name, char **text,
		   size_t *len)
{
	struct pf_buf b;
	char *path = NULL;
	char chunk[16384];
	int fd = -1, rc = 0;

	buf_init(&b);
	if (asprintf(&path, "%s/%s", dir, name) < 0) {
		path = NULL;
		rc = -ENOMEM;
		goto out;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0) {
		rc = -errno;
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = -errno;
			goto out;
		}
		if (n == 0)
			break;
		rc = buf_append(&b, chunk, (size_t)n);
		if (rc)
			goto out;
	}
	rc = buf_append(&b, "", 0);	/* an empty file still gets a buffer */
out:
	if (fd >= 0)
		close(fd);
	free(path);
	if (rc) {
		buf_release(&b);
		return rc;
	}
	*text = b.data;
	*len = b.len;
	return 0;
}

int manifest_load(const char *dir, struct pf_outrecords *r, char *why,
		  size_t whylen)
{
	char *text = NULL;
	size_t len = 0;
	int rc = outstate_slurp(dir, PF_MANIFEST_NAME, &text, &len);

	if (!rc)
		rc = manifest_parse(text, len, r, why, whylen);
	free(text);
	return rc;
}

/* Fills the fields rec has and into lacks. */
static int record_merge(struct pf_outrecord *into,
			const struct pf_outrecord *rec)
{
	const char *src[] = { rec->stat, rec->source, rec->source_stat };
	char **dst[] = { &into->stat, &into->source, &into->source_stat };

	if (rec->has_sum && !into->has_sum) {
		into->has_sum = true;
		into->sum = rec->sum;
	}
	for (size_t i = 0; i < 3; i++) {
		if (!src[i] || *dst[i])
			continue;
		*dst[i] = strdup(src[i]);
		if (!*dst[i])
			return -ENOMEM;
	}
	return 0;
}

int outstate_load(const char *dir, struct pf_outrecords *r)
{
	struct pf_outrecords st;
	char why[160];
	char *text = NULL;
	size_t len = 0;
	int rc;

	outrecords_init(&st);
	rc = manifest_load(dir, r, why, sizeof(why));
	if (rc == -ENOMEM)
		goto out;
	if (rc)
		outrecords_release(r);	/* not ours, or half read */
	rc = outstate_slurp(dir, PF_STATE_NAME, &text, &len);
	if (!rc)
		rc = records_parse(text, len, false, &st, why, sizeof(why));
	if (rc) {
		rc = rc == -ENOMEM ? rc : 0;
		goto out;
	}
	/* The state's fingerprints are only good with its own sums. Found
	 * among the manifest's records only (sorted); the state's own are
	 * appended and sorted once, at the end. */
	{
		struct pf_outrecords man = { r->v, r->n, r->cap };
		size_t nman = r->n;

		for (size_t i = 0; i < st.n && !rc; i++) {
			struct pf_outrecord *m;

			man.v = r->v;
			man.n = nman;
			m = (struct pf_outrecord *)outrecords_find(&man,
								   st.v[i].path);
			if (m && st.v[i].has_sum && m->has_sum &&
			    (m->sum.size != st.v[i].sum.size ||
			     strcmp(m->sum.sha256, st.v[i].sum.sha256)))
				continue;
			rc = m ? record_merge(m, &st.v[i]) :
			     outrecords_add(r, &st.v[i]);
		}
		if (!rc && r->n > nman)
			outrecords_sort(r);
	}
out:
	free(text);
	outrecords_release(&st);
	return rc;
}

static int state_entry(const struct pf_outrecord *rec, json_t *files)
{
	json_t *e = json_object();
	const char *keys[] = { "stat", "source", "source_stat" };
	const char *vals[] = { rec->stat, rec->source, rec->source_stat };
	int rc = -ENOMEM;

	if (!e || json_object_set_new(e, "path", json_string(rec->path)))
		goto out;
	if (rec->has_sum) {
		if (rec->sum.size > (uint64_t)PF_JSON_INT_MAX) {
			rc = -EOVERFLOW;
			goto out;
		}
		if (json_object_set_new(e, "sha256", json_string(rec->sum.sha256)) ||
		    json_object_set_new(e, "size",
					json_integer((json_int_t)rec->sum.size)))
			goto out;
	}
	for (size_t i = 0; i < 3; i++)
		if (vals[i] && json_object_set_new(e, keys[i],
						   json_string(vals[i])))
			goto out;
	rc = json_array_append(files, e) ? -ENOMEM : 0;
out:
	json_decref(e);
	return rc;
}

int outstate_json_text(const json_t *json, struct pf_buf *out)
{
	char *text = json_dumps(json, JSON_INDENT(2) | JSON_SORT_KEYS);
	int rc = text ? buf_printf(out, "%s\n", text) : -ENOMEM;

	free(text);
	return rc;
}

int outstate_render(const struct pf_outrecords *r, struct pf_buf *out)
{
	json_t *root = json_object(), *files = json_array();
	int rc = -ENOMEM;

	if (!root || !files || json_object_set(root, "files", files))
		goto out;
	rc = 0;
	for (size_t i = 0; i < r->n && !rc; i++)
		rc = state_entry(&r->v[i], files);
	if (!rc)
		rc = outstate_json_text(root, out);
out:
	json_decref(files);
	json_decref(root);
	return rc;
}

/* rel split at '/': a malloc'd copy with NULs, and its components. */
static int split_path(const char *rel, char **copy, char ***comps, size_t *n)
{
	size_t k = 1;
	char *p;

	for (const char *s = rel; *s; s++)
		k += *s == '/';
	*copy = strdup(rel);
	*comps = calloc(k, sizeof(**comps));
	if (!*copy || !*comps) {
		free(*copy);
		free(*comps);
		return -ENOMEM;
	}
	*n = 0;
	for (p = *copy; p; ) {
		char *slash = strchr(p, '/');

		(*comps)[(*n)++] = p;
		if (slash)
			*slash++ = '\0';
		p = slash;
	}
	return 0;
}

int open_parent_below(int root, const char *rel, const char **last)
{
	const char *p = rel;
	int fd = dup(root);

	if (fd < 0)
		return -errno;
	for (;;) {
		const char *slash = strchr(p, '/');
		char name[NAME_MAX + 1];
		size_t len;
		int next;

		if (!slash)
			break;
		len = (size_t)(slash - p);
		if (len > NAME_MAX) {
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		close(fd);
		if (next < 0)
			return -errno;
		fd = next;
		p = slash + 1;
	}
	*last = p;
	return fd;
}

int open_below(int root, const char *rel, int flags)
{
	const char *last;
	int dfd = open_parent_below(root, rel, &last), fd;

	if (dfd < 0)
		return dfd;
	fd = openat(dfd, last, flags | O_NOFOLLOW | O_CLOEXEC);
	fd = fd < 0 ? -errno : fd;
	close(dfd);
	return fd;
}

/* A path that is not there (any more, or not as a directory) is not an
 * error when removing. */
static bool gone(int err)
{
	return err == ENOENT || err == ENOTDIR || err == ELOOP;
}

int remove_below(const char *dir, const char *rel, bool *removed)
{
	char *copy = NULL;
	char **comps = NULL;
	int *fds = NULL;
	size_t n = 0, nfd = 0;
	struct stat st;
	int rc;

	*removed = false;
	if (!path_normalised(rel))
		return -EINVAL;
	rc = split_path(rel, &copy, &comps, &n);
	if (rc)
		return rc;
	fds = malloc(n * sizeof(*fds));
	if (!fds) {
		rc = -ENOMEM;
		goto out;
	}
	fds[0] = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fds[0] < 0) {
		rc = gone(errno) ? 0 : -errno;
		goto out;
	}
	for (nfd = 1; nfd < n; nfd++) {
		fds[nfd] = openat(fds[nfd - 1], comps[nfd - 1],
				   O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fds[nfd] < 0) {
			rc = gone(errno) ? 0 : -errno;
			goto out;
		}
	}
	if (fstatat(fds[n - 1], comps[n - 1], &st, AT_SYMLINK_NOFOLLOW) != 0) {
		rc = gone(errno) ? 0 : -errno;
		if (rc)
			goto out;
	} else if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(fds[n - 1], comps[n - 1], 0) != 0) {
			rc = gone(errno) ? 0 : -errno;
			goto out;
		}
		*removed = true;
	}
	/* Parents left empty go too; the first that is not empty stops it. */
	for (size_t i = n - 1; i > 0; i--)
		if (unlinkat(fds[i - 1], comps[i - 1], AT_REMOVEDIR) != 0)
			break;
out:
	while (nfd > 0)
		close(fds[--nfd]);
	free(fds);
	free(comps);
	free(copy);
	return rc;
}

int outstate_remove_stale(const char *dir, const struct pf_outrecords *prev,
			  bool (*kept)(const char *path, void *ctx), void *ctx,
			  size_t *removed, char **failed)
{
	int rc = 0;

	for (size_t i = 0; i < prev->n && !rc; i++) {
		const char *path = prev->v[i].path;
		bool gone_now;

		if (!strcmp(path, PF_MANIFEST_NAME) ||
		    !strcmp(path, PF_STATE_NAME) || kept(path, ctx))
			continue;
		rc = remove_below(dir, path, &gone_now);
		if (rc)
			*failed = path_join(dir, path);
		else if (gone_now)
			++*removed;
	}
	return rc;
}
