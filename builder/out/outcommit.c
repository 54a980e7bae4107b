/* outwriter_commit: what OUT holds besides the tree (files kept for
 * keep_prev, files pxeforge did not write, leftovers), the records
 * (manifest.json, the state file), then either nothing (a rebuild that
 * changes nothing) or the staging directory completed and switched in. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/fs.h"
#include "pxeforge/out/bundle_record.h"
#include "outwrite.h"

#if JSON_INTEGER_IS_LONG_LONG
#define PF_JSON_INT_MAX LLONG_MAX
#else
#define PF_JSON_INT_MAX LONG_MAX
#endif

/* Files of the previous build that keep_prev says stay as they are. */
static int keep_prev_files(struct pf_outwriter *w)
{
	for (size_t i = 0; w->opts.keep_prev && i < w->prev.n; i++) {
		const struct pf_outrecord *p = &w->prev.v[i];
		char fp[PF_FINGERPRINT_MAX];
		struct wfile *rec;
		struct stat st;
		int rc;

		if (!strcmp(p->path, PF_MANIFEST_NAME) ||
		    !strcmp(p->path, PF_STATE_NAME) ||
		    !pathset_fits(&w->files, &w->dirs, p->path) ||
		    !w->opts.keep_prev(p->path, w->opts.ctx))
			continue;
		if (out_lstat(w, p->path, &st) || !S_ISREG(st.st_mode))
			continue;	/* gone meanwhile: nothing to keep */
		stat_fingerprint(&st, fp);
		rec = wfile_new(w, p->path, st.st_mode);
		rc = rec ? pathset_put(&w->files, &w->dirs, p->path) : -ENOMEM;
		if (rc)
			return rc;
		rec->how = WF_CARRIED;
		rec->has_sum = p->has_sum;
		rec->sum = p->sum;
		/* a fingerprint that is not the recorded one is not vouched for */
		rc = wfile_set(&rec->stat, p->stat && !strcmp(p->stat, fp) ?
			       fp : NULL);
		if (!rc)
			rc = wfile_set(&rec->source, p->source);
		if (!rc)
			rc = wfile_set(&rec->source_stat, p->source_stat);
		if (rc)
			return rc;
		w->st.files++;
	}
	return 0;
}

/* One file of OUT the tree does not put. */
static int found(struct pf_outwriter *w, const char *path, const char *name,
		 bool top, const struct stat *st)
{
	char *shown;
	struct wfile *rec;
	bool fits;

	if (top && (!strcmp(name, PF_MANIFEST_NAME) ||
		    !strcmp(name, PF_STATE_NAME)))
		return 0;
	if (!strncmp(name, PF_TMP_PREFIX, strlen(PF_TMP_PREFIX))) {
		w->stray = true;	/* a killed build's: not carried */
		return 0;
	}
	if (pathset_has(&w->files, path, strlen(path)))
		return 0;
	if (outrecords_find(&w->prev, path)) {
		w->st.removed++;	/* an earlier build's, not this one's */
		w->stray = true;
		return 0;
	}
	fits = pathset_fits(&w->files, &w->dirs, path);
	if (fits && !(top && !strcmp(name, PF_BUNDLES_NAME)) && w->opts.note) {
		shown = path_join(w->dir, path);
		if (!shown)
			return -ENOMEM;
		w->opts.note(PF_OUTNOTE_KEPT, shown, w->opts.ctx);
		free(shown);
	}
	if (!fits && S_ISREG(st->st_mode))	/* never deleted: the build fails */
		return fail_at(w, path, -ENOTDIR);
	if (!fits) {
		w->stray = true;
		if (w->opts.note && (shown = path_join(w->dir, path))) {
			w->opts.note(PF_OUTNOTE_REPLACED, shown, w->opts.ctx);
			free(shown);
		}
		return 0;
	}
	rec = wfile_new(w, path, st->st_mode);
	if (!rec)
		return -ENOMEM;
	rec->how = WF_CARRIED;
	rec->foreign = true;
	return 0;
}

/* What lies below the directory fd (taken), rel its path in OUT. */
static int walk(struct pf_outwriter *w, int fd, const char *rel)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		rc = -errno;
		close(fd);
		return fail_at(w, *rel ? rel : NULL, rc);
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
			rc = fail_at(w, path, -errno);
		} else if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd(d), de->d_name, O_RDONLY |
					 O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			rc = sub < 0 ? fail_at(w, path, -errno) : walk(w, sub, path);
		} else {
			rc = found(w, path, de->d_name, !*rel, &st);
		}
		free(path);
	}
	if (!rc && !de && errno)
		rc = fail_at(w, *rel ? rel : NULL, -errno);
	closedir(d);
	return rc;
}

static int wfile_cmp(const void *a, const void *b)
{
	return strcmp(((const struct wfile *)a)->path,
		      ((const struct wfile *)b)->path);
}

static int entry_add(json_t *files, json_t *e)
{
	return e ? json_array_append_new(files, e) ? -ENOMEM : 0 : -ENOMEM;
}

/* {"path","sha256","size"} (with_sum), and stat, source, source_stat
 * when set (state). */
static json_t *entry(const struct wfile *f, bool with_sum, bool with_stat)
{
	json_t *e = json_object();
	const char *keys[] = { "stat", "source", "source_stat" };
	const char *vals[] = { f->stat, f->source, f->source_stat };

	if (!e || json_object_set_new(e, "path", json_string(f->path)))
		goto fail;
	if (with_sum && (json_object_set_new(e, "sha256",
					     json_string(f->sum.sha256)) ||
			 json_object_set_new(e, "size",
					     json_integer((json_int_t)f->sum.size))))
		goto fail;
	for (size_t i = 0; with_stat && i < 3; i++)
		if (vals[i] && json_object_set_new(e, keys[i], json_string(vals[i])))
			goto fail;
	return e;
fail:
	json_decref(e);
	return NULL;
}

/* The manifest (every file but secrets and foreign ones) or the state
 * (pxeforge's files with their fingerprints; secrets' and streamed
 * files' sums too, the manifest lacking or not vouching for them). */
static int render(const struct pf_outwriter *w, bool state, struct pf_buf *out)
{
	json_t *root = json_object(), *files = json_array();
	size_t n = 0;
	int rc = -ENOMEM;

	if (!root || !files || json_object_set(root, "files", files))
		goto out;
	rc = 0;
	for (size_t i = 0; i < w->n && !rc; i++) {
		const struct wfile *f = &w->v[i];
		bool secret = outtree_is_secret(f->mode);

		if (f->foreign || (!state && (secret || !f->has_sum)))
			continue;
		if (f->has_sum && f->sum.size > (uint64_t)PF_JSON_INT_MAX)
			rc = -EOVERFLOW;
		else
			rc = entry_add(files, entry(f, f->has_sum &&
					 (!state || secret || f->source), state));
		n++;
	}
	if (!rc && (n || !state))
		rc = outstate_json_text(root, out);
out:
	json_decref(files);
	json_decref(root);
	return rc;
}

static bool same_text(const struct pf_buf *b, const char *text, size_t len)
{
	return text && b->len == len && !memcmp(b->data, text, len);
}

/* Carried files into the staging directory, then the gens. */
static int stage_rest(struct pf_outwriter *w)
{
	char fp[PF_FINGERPRINT_MAX];
	int rc = stage_make(w);

	for (size_t i = 0; i < w->n && !rc; i++) {
		struct wfile *f = &w->v[i];

		if (f->how != WF_CARRIED)
			continue;
		rc = stage_carry(w, f->path, fp);
		if (rc)
			return fail_at(w, f->path, rc);
		if (f->stat)
			rc = wfile_set(&f->stat, fp);
	}
	return rc ? rc : gens_run(w);
}

/* After the switch, unlinking the old names changed the carried files'
 * ctimes: their fingerprints again, and the state file rewritten in OUT
 * when one moved (a crash before costs a copy next time, nothing more). */
static int refresh_state(struct pf_outwriter *w)
{
	bool moved = false, replaced;
	struct pf_filesum sum;
	struct pf_buf text;
	char fp[PF_FINGERPRINT_MAX], *path;
	int rc = 0;

	for (size_t i = 0; i < w->n && !rc; i++) {
		struct wfile *f = &w->v[i];
		struct stat st;

		if (f->how != WF_CARRIED || !f->stat ||
		    out_lstat(w, f->path, &st) != 0)
			continue;
		stat_fingerprint(&st, fp);
		if (strcmp(fp, f->stat)) {
			moved = true;
			rc = wfile_set(&f->stat, fp);
		}
	}
	if (rc || !moved)
		return rc;
	buf_init(&text);
	rc = render(w, true, &text);
	path = path_join(w->out, PF_STATE_NAME);
	if (!rc && !path)
		rc = -ENOMEM;
	if (!rc && text.len)
		rc = hashwrite_buffer(path, text.data, text.len, 0600, &sum,
				      &replaced);
	if (!rc && fsync(w->outfd) != 0)
		rc = -errno;
	free(path);
	buf_release(&text);
	return rc ? fail_at(w, PF_STATE_NAME, rc) : 0;
}

int commit_records(struct pf_outwriter *w)
{
	struct pf_buf manifest, state;
	char fp[PF_FINGERPRINT_MAX];
	bool run = false;
	int rc;

	buf_init(&manifest);
	buf_init(&state);
	rc = keep_prev_files(w);
	if (!rc && w->outfd >= 0) {
		int fd = dup(w->outfd);

		rc = fd < 0 ? -errno : walk(w, fd, "");
	}
	if (rc)
		goto out;
	if (w->n)
		qsort(w->v, w->n, sizeof(*w->v), wfile_cmp);
	rc = gens_decide(w, &run);
	if (!rc && !run)
		rc = render(w, false, &manifest);
	if (!rc)
		rc = render(w, true, &state);
	if (rc)
		goto out;
	w->st.files++;	/* manifest.json */
	/* Nothing would change: OUT stays as it is, not even switched. */
	if (w->stagefd < 0 && !run && !w->stray && w->outfd >= 0 &&
	    same_text(&manifest, w->prev_manifest, w->prev_manifest_len) &&
	    (state.len ? same_text(&state, w->prev_state, w->prev_state_len) :
	     !w->prev_state))
		goto out;
	rc = stage_rest(w);
	/* with what the gens made */
	if (!rc && run) {
		manifest.len = 0;
		rc = render(w, false, &manifest);
	}
	if (rc)
		goto out;
	if (same_text(&manifest, w->prev_manifest, w->prev_manifest_len)) {
		rc = stage_carry(w, PF_MANIFEST_NAME, fp);
	} else {
		w->st.rewritten++;
		rc = stage_write(w, PF_MANIFEST_NAME, manifest.data,
				 manifest.len, 0644, fp);
	}
	if (rc) {
		rc = fail_at(w, PF_MANIFEST_NAME, rc);
		goto out;
	}
	/* the carried files' fingerprints are the linked ones now */
	state.len = 0;
	rc = render(w, true, &state);
	if (!rc && state.len)
		rc = stage_write(w, PF_STATE_NAME, state.data, state.len, 0600,
				 fp);
	if (rc) {
		rc = fail_at(w, PF_STATE_NAME, rc);
		goto out;
	}
	rc = stage_switch(w);
	if (rc) {
		fail_at(w, NULL, rc);
		goto out;
	}
	rc = refresh_state(w);
out:
	buf_release(&manifest);
	buf_release(&state);
	return rc;
}

int outwriter_commit(struct pf_outwriter *w, struct pf_outstats *st,
		     char **failed)
{
	int rc = w->done ? -EINVAL : commit_records(w);

	w->done = true;
	w->st.hashed = hashwrite_hashed() - w->st.hashed;
	if (st)
		*st = w->st;
	*failed = NULL;
	if (rc) {
		*failed = w->fail ? w->fail : strdup(w->dir);
		w->fail = NULL;
	}
	return rc;
}
