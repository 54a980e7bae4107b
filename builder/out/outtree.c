#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "pxeforge/fetch/fetch.h"
#include "pxeforge/lib/progress.h"
#include "pxeforge/lib/secret.h"
#include "pxeforge/out/outstate.h"
#include "pxeforge/out/outtree.h"

#if JSON_INTEGER_IS_LONG_LONG
#define PF_JSON_INT_MAX LLONG_MAX
#else
#define PF_JSON_INT_MAX LONG_MAX
#endif


void outtree_init(struct pf_outtree *t)
{
	t->files = NULL;
	t->n = 0;
	t->cap = 0;
	t->progress = false;
}

void outtree_release(struct pf_outtree *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->files[i].path);
		/* owner-only files are secrets (the NoCloud user-data) */
		if (t->files[i].data && outtree_is_secret(t->files[i].mode))
			secret_wipe(t->files[i].data, t->files[i].len);
		free(t->files[i].data);
		free(t->files[i].src);
		free(t->files[i].recipe);
		free(t->files[i].pin);
	}
	free(t->files);
	outtree_init(t);
}

bool path_normalised(const char *path)
{
	const char *p = path;

	if (!*p || *p == '/')
		return false;
	for (;;) {
		size_t len = strcspn(p, "/");

		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		if (!p[len])
			return true;
		p += len + 1;	/* a trailing '/' leaves an empty component */
	}
}

/* Strict UTF-8 (RFC 3629: no overlongs, surrogates or code points past
 * U+10FFFF): manifest.json is JSON, which cannot carry anything else. */
static bool utf8_valid(const char *str)
{
	const unsigned char *s = (const unsigned char *)str;

	while (*s) {
		unsigned char c = *s++, lo = 0x80, hi = 0xbf;
		int more;

		if (c < 0x80)
			continue;
		if (c < 0xc2 || c > 0xf4)
			return false;
		more = c < 0xe0 ? 1 : c < 0xf0 ? 2 : 3;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		for (int i = 0; i < more; i++, s++) {
			if (*s < lo || *s > hi)	/* also stops at the NUL */
				return false;
			lo = 0x80;
			hi = 0xbf;
		}
	}
	return true;
}

/* a equals b, or one is a directory that holds the other: both cannot be
 * files of one tree. */
static bool path_clash(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t l = la < lb ? la : lb;

	if (strncmp(a, b, l) != 0)
		return false;
	return la == lb || (la < lb ? b[la] : a[lb]) == '/';
}

/* pxeforge's own names: the records and the temporary files. */
static bool path_reserved(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strcmp(path, PF_MANIFEST_NAME) || !strcmp(path, PF_STATE_NAME) ||
	       !strncmp(base, PF_TMP_PREFIX, strlen(PF_TMP_PREFIX));
}

static int outtree_push(struct pf_outtree *t, struct pf_outfile *f)
{
	if (!f->path || !path_normalised(f->path) || !utf8_valid(f->path) ||
	    path_reserved(f->path))
		return -EINVAL;
	for (size_t i = 0; i < t->n; i++)
		if (path_clash(t->files[i].path, f->path))
			return -EINVAL;
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		struct pf_outfile *v = realloc(t->files, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		t->files = v;
		t->cap = cap;
	}
	f->path = strdup(f->path);
	if (!f->path)
		return -ENOMEM;
	t->files[t->n++] = *f;
	return 0;
}

int outtree_add(struct pf_outtree *t, const char *path, const void *data,
		size_t len, mode_t mode)
{
	struct pf_outfile f = { .path = (char *)path, .len = len, .mode = mode };
	int rc;

	if (len && !data)
		return -EINVAL;
	if (len == SIZE_MAX)
		return -ENOMEM;
	/* One spare byte keeps text NUL-terminated for callers and tests. */
	f.data = malloc(len + 1);
	if (!f.data)
		return -ENOMEM;
	if (len)
		memcpy(f.data, data, len);
	f.data[len] = '\0';
	rc = outtree_push(t, &f);
	if (rc)
		free(f.data);
	return rc;
}

int outtree_add_pinned(struct pf_outtree *t, const char *path,
		       const char *src, mode_t mode, const char *sha256)
{
	struct pf_outfile f = { .path = (char *)path, .mode = mode };
	int rc = -ENOMEM;

	if (!src || !*src || (sha256 && !is_sha256_hex(sha256)))
		return -EINVAL;
	f.src = strdup(src);
	f.pin = sha256 ? strdup(sha256) : NULL;
	if (f.src && (f.pin || !sha256))
		rc = outtree_push(t, &f);
	if (rc) {
		free(f.src);
		free(f.pin);
	}
	return rc;
}

int outtree_add_file(struct pf_outtree *t, const char *path, const char *src,
		     mode_t mode)
{
	return outtree_add_pinned(t, path, src, mode, NULL);
}

int outtree_add_gen(struct pf_outtree *t, const char *path, const char *from,
		    const char *recipe, mode_t mode, pf_outgen_fn gen,
		    void *ctx)
{
	struct pf_outfile f = { .path = (char *)path, .mode = mode,
				.gen = gen, .gen_ctx = ctx };
	int rc = -ENOMEM;

	if (!from || !path_normalised(from) || !recipe || !gen)
		return -EINVAL;
	f.src = strdup(from);
	f.recipe = strdup(recipe);
	if (f.src && f.recipe)
		rc = outtree_push(t, &f);
	if (rc) {
		free(f.src);
		free(f.recipe);
	}
	return rc;
}

static int outfile_cmp(const void *pa, const void *pb)
{
	const struct pf_outfile *a = pa, *b = pb;

	return strcmp(a->path, b->path);
}

void outtree_sort(struct pf_outtree *t)
{
	if (t->n)
		qsort(t->files, t->n, sizeof(*t->files), outfile_cmp);
}

static int outfile_ptr_cmp(const void *pa, const void *pb)
{
	const struct pf_outfile *const *a = pa, *const *b = pb;

	return strcmp((*a)->path, (*b)->path);
}

/* The files in path order without reordering the tree. */
static int sorted_view(const struct pf_outtree *t, struct pf_outfile ***out)
{
	struct pf_outfile **v;

	*out = NULL;
	if (!t->n)
		return 0;
	v = malloc(t->n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < t->n; i++)
		v[i] = &t->files[i];
	qsort(v, t->n, sizeof(*v), outfile_ptr_cmp);
	*out = v;
	return 0;
}

/* Their hashes stay out of the manifest too. */
bool outtree_is_secret(mode_t mode)
{
	return (mode & 0077) == 0;
}

static int manifest_entry(const struct pf_outfile *f, json_t *files)
{
	json_t *entry, *path;

	if (!f->summed)
		return -EINVAL;
	if (f->sum.size > (uint64_t)PF_JSON_INT_MAX)
		return -EOVERFLOW;
	/* outtree_add admitted only UTF-8 paths: NULL here is no memory. */
	path = json_string(f->path);
	entry = json_object();
	if (!path || !entry) {
		json_decref(path);
		json_decref(entry);
		return -ENOMEM;
	}
	/* The _new setters take the reference even when they fail, and fail
	 * on a NULL value, so a failed json_string() needs no check of its own. */
	if (json_object_set_new(entry, "path", path) ||
	    json_object_set_new(entry, "sha256", json_string(f->sum.sha256)) ||
	    json_object_set_new(entry, "size",
				json_integer((json_int_t)f->sum.size))) {
		json_decref(entry);
		return -ENOMEM;
	}
	return json_array_append_new(files, entry) ? -ENOMEM : 0;
}

int manifest_render(const struct pf_outtree *t, struct pf_buf *out)
{
	struct pf_outfile **v = NULL;
	json_t *root = NULL, *files;
	int rc;

	rc = sorted_view(t, &v);
	if (rc)
		return rc;
	rc = -ENOMEM;
	root = json_object();
	files = json_array();
	if (!root || !files || json_object_set_new(root, "files", files)) {
		if (!root)
			json_decref(files);
		goto out;
	}
	for (size_t i = 0; i < t->n; i++) {
		if (outtree_is_secret(v[i]->mode))
			continue;
		rc = manifest_entry(v[i], files);
		if (rc)
			goto out;
	}
	rc = outstate_json_text(root, out);
out:
	json_decref(root);
	free(v);
	return rc;
}

/* dir/rel, with or without a '/' at the end of dir. NULL: no memory. */
static char *join_path(const char *dir, const char *rel)
{
	size_t dirlen = strlen(dir);
	const char *sep = dirlen && dir[dirlen - 1] == '/' ? "" : "/";
	char *full;

	return asprintf(&full, "%s%s%s", dir, sep, rel) < 0 ? NULL : full;
}

/* What one outtree_write call works with. */
struct writing {
	const char *dir;
	const struct pf_outrecords *prev;	/* the earlier build's records */
	struct pf_outrecords next;		/* the state file's records */
	struct pf_outstats st;
	char *fail;
	bool progress;
	bool staging;	/* the first pass: pinned copies, nothing installed */
};

/* A pinned source's copy made in the first pass: written, hashed and held
 * against the pin, waiting in OUT's top directory to be installed. */
struct parked {
	struct pf_hashwrite hw;
	char src_fp[PF_FINGERPRINT_MAX];
	bool on;
};

/* A file streamed from f->src. Unless the source and the output file are
 * both as the state file recorded them, the source is read once, through
 * the hashing writer. In the first pass (w->staging) a pinned copy stops
 * short of installing and waits in *pk; the second pass installs it. */
static int write_stream(struct writing *w, struct pf_outfile *f,
			struct parked *pk, const char *full, bool *replaced)
{
	const struct pf_outrecord *prev = outrecords_find(w->prev, f->path);
	/* a gen's input is the tree's file, in OUT by now */
	char *in_out = f->gen ? join_path(w->dir, f->src) : NULL;
	const char *src = f->gen ? in_out : f->src;
	/* what the output is made from: the file, or the generator's recipe */
	char *key = f->recipe ? NULL : source_key(f->src);
	const char *from = f->recipe ? f->recipe : key;
	struct pf_outrecord rec = { .path = f->path, .has_sum = true,
				    .source = (char *)from };
	char src_fp[PF_FINGERPRINT_MAX], out_fp[PF_FINGERPRINT_MAX] = "";
	char again_fp[PF_FINGERPRINT_MAX];
	struct pf_hashwrite hw;
	struct pf_progress bar;
	struct stat st, ost;
	bool out_known;
	uint64_t copied;
	int fd = -1, rc = -ENOMEM;

	*replaced = false;
	if (!from || !src)
		goto out;
	if (lstat(full, &ost) == 0 && S_ISREG(ost.st_mode) &&
	    (ost.st_mode & 07777) == (f->mode & 07777))
		stat_fingerprint(&ost, out_fp);
	out_known = prev && prev->has_sum && prev->stat &&
		    !strcmp(prev->stat, out_fp);
	if (pk && pk->on) {
		pk->on = false;
		memcpy(src_fp, pk->src_fp, sizeof(src_fp));
		rc = hashwrite_install(&pk->hw, &f->sum,
				       out_known ? &prev->sum : NULL, replaced);
		goto installed;
	}
	/* Unchanged: decided by stat alone, the source is not even opened. */
	if (out_known && prev->source && !strcmp(prev->source, from) &&
	    prev->source_stat && stat(src, &st) == 0 &&
	    S_ISREG(st.st_mode) && (stat_fingerprint(&st, src_fp),
				    !strcmp(prev->source_stat, src_fp)) &&
	    (!f->pin || !strcmp(prev->sum.sha256, f->pin))) {
		f->sum = prev->sum;
		rc = 0;
		if (w->staging)
			goto out;	/* the second pass records it */
		goto record;
	}
	/* What is read is what the fd says, whatever stat said above. */
	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = -errno;
		goto src_fail;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = -EINVAL;
		goto src_fail;
	}
	stat_fingerprint(&st, src_fp);
	if (f->gen) {
		rc = f->gen(f->gen_ctx, src, full, f->mode, &f->sum,
			    replaced, &w->fail);
		if (rc)
			goto out;
		copied = (uint64_t)st.st_size;
		goto check_source;
	}
	rc = hashwrite_open_in(&hw, full, w->staging ? w->dir : NULL, f->mode);
	if (rc)
		goto out;
	progress_begin(&bar, w->progress && st.st_size >= PF_PROGRESS_MIN,
		       stderr, f->path, 0);
	hw.bar = &bar;
	rc = hashwrite_copy_fd(&hw, fd, &copied);
	progress_end(&bar, rc ? 0 : copied, (uint64_t)st.st_size);
	if (rc) {
		bool read_failed = hw.read_failed;

		hashwrite_abort(&hw);
		if (read_failed)
			goto src_fail;
		goto out;
	}
check_source:
	/* A source that changed while it was read has no one content. */
	if (fstat(fd, &st) != 0)
		rc = -errno;
	else if (stat_fingerprint(&st, again_fp), strcmp(src_fp, again_fp) ||
		 copied != (uint64_t)st.st_size)
		rc = -EIO;
	if (rc) {
		if (!f->gen)
			hashwrite_abort(&hw);
		goto src_fail;
	}
	if (f->gen)
		goto installed;
	rc = hashwrite_end(&hw, &f->sum);
	if (!rc && f->pin && strcmp(f->sum.sha256, f->pin)) {
		hashwrite_abort(&hw);
		memcpy(w->st.pin_want, f->pin, 65);
		memcpy(w->st.pin_got, f->sum.sha256, 65);
		rc = -EBADMSG;
		goto src_fail;
	}
	if (!rc && w->staging && pk) {
		pk->hw = hw;
		pk->hw.bar = NULL;	/* bar is this call's */
		memcpy(pk->src_fp, src_fp, sizeof(src_fp));
		pk->on = true;
		goto out;
	}
	if (rc)
		hashwrite_abort(&hw);
	else
		rc = hashwrite_install(&hw, &f->sum,
				       out_known ? &prev->sum : NULL, replaced);
installed:
	if (!rc && lstat(full, &ost) != 0)
		rc = -errno;
	if (rc)
		goto out;
	stat_fingerprint(&ost, out_fp);
record:
	rec.sum = f->sum;
	rec.stat = out_fp;
	rec.source_stat = src_fp;
	rc = outrecords_add(&w->next, &rec);
	goto out;
src_fail:
	w->st.source_failed = true;
	w->fail = strdup(src);
out:
	if (fd >= 0)
		close(fd);
	free(key);
	free(in_out);
	return rc;
}

static int write_one(struct writing *w, struct pf_outfile *f,
		     struct parked *pk)
{
	char *full = join_path(w->dir, f->path);
	bool replaced = false;
	char *slash;
	int rc;

	if (!full)
		return -ENOMEM;
	slash = strrchr(full, '/');
	*slash = '\0';
	rc = fs_mkdir_p(full, strlen(w->dir), &w->fail);
	*slash = '/';
	if (rc)
		goto out;
	if (f->src) {
		rc = write_stream(w, f, pk, full, &replaced);
	} else {
		rc = hashwrite_buffer(full, f->data, f->len, f->mode, &f->sum,
				      &replaced);
		/* The state file remembers secrets: the manifest cannot. */
		if (!rc && outtree_is_secret(f->mode)) {
			struct pf_outrecord rec = { .path = f->path };

			rc = outrecords_add(&w->next, &rec);
		}
	}
	f->summed = rc == 0;
	w->st.files++;
	if (replaced)
		w->st.rewritten++;
out:
	if (rc && !w->fail)
		w->fail = full;
	else
		free(full);
	return rc;
}

static int path_key_cmp(const void *key, const void *elem)
{
	return strcmp(key, (*(struct pf_outfile *const *)elem)->path);
}

/* Files the earlier build recorded that this tree does not have. */
static int remove_stale(struct writing *w, struct pf_outfile **v, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < w->prev->n && !rc; i++) {
		const char *path = w->prev->v[i].path;
		bool removed;

		if (!strcmp(path, PF_MANIFEST_NAME) ||
		    !strcmp(path, PF_STATE_NAME) ||
		    (n && bsearch(path, v, n, sizeof(*v), path_key_cmp)))
			continue;
		rc = remove_below(w->dir, path, &removed);
		if (rc)
			w->fail = join_path(w->dir, path);
		else if (removed)
			w->st.removed++;
	}
	return rc;
}

/* manifest.json, then the state file (or no state file when there is
 * nothing for it to say). */
static int write_records(struct writing *w, const struct pf_outtree *t)
{
	struct pf_filesum sum;
	struct pf_buf text;
	char *path = NULL;
	bool replaced;
	int rc;

	buf_init(&text);
	rc = manifest_render(t, &text);
	path = join_path(w->dir, PF_MANIFEST_NAME);
	if (!path)
		rc = -ENOMEM;
	if (!rc)
		rc = hashwrite_buffer(path, text.data, text.len, 0644, &sum,
				      &replaced);
	if (rc)
		goto out;
	w->st.files++;
	w->st.rewritten += replaced;
	free(path);
	text.len = 0;
	path = join_path(w->dir, PF_STATE_NAME);
	if (!path) {
		rc = -ENOMEM;
		goto out;
	}
	outrecords_sort(&w->next);
	if (!w->next.n) {
		if (unlink(path) != 0 && errno != ENOENT)
			rc = -errno;
		goto out;
	}
	/* 0600: it may hold the hash of a streamed secret, and it is
	 * pxeforge's bookkeeping, nothing to serve. */
	rc = outstate_render(&w->next, &text);
	if (!rc)
		rc = hashwrite_buffer(path, text.data, text.len, 0600, &sum,
				      &replaced);
out:
	if (rc && !w->fail)
		w->fail = path;
	else
		free(path);
	buf_release(&text);
	return rc;
}

/* The first pass: every pinned source that changed is copied and held
 * against its pin before anything in OUT is replaced or removed, so a
 * wrong one leaves OUT as it was; each byte is still read once. */
static int stage_pinned(struct writing *w, struct pf_outfile **v, size_t n,
			struct parked *pk)
{
	int rc = 0;

	w->staging = true;
	for (size_t i = 0; i < n && !rc; i++) {
		char *full;
		bool replaced;

		if (!v[i]->src || v[i]->gen || !v[i]->pin)
			continue;
		full = join_path(w->dir, v[i]->path);
		rc = full ? write_stream(w, v[i], &pk[i], full, &replaced) :
			    -ENOMEM;
		free(full);
	}
	w->staging = false;
	return rc;
}

/* Every gen reads a file of the tree that no gen makes (a bug in the
 * caller otherwise): checked before anything is written. */
static int gens_check(struct writing *w, struct pf_outfile **v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct pf_outfile **from;

		if (!v[i]->gen)
			continue;
		from = bsearch(v[i]->src, v, n, sizeof(*v), path_key_cmp);
		if (!from || (*from)->gen) {
			w->fail = join_path(w->dir, v[i]->path);
			return -EINVAL;
		}
	}
	return 0;
}

/* dir's longest prefix that exists, as a length: what a failed first
 * build leaves. */
static size_t existing_prefix(const char *dir)
{
	char *p = strdup(dir);
	size_t len = 0;
	struct stat st;

	while (p && *p && stat(p, &st) != 0) {
		char *slash = strrchr(p, '/');

		if (!slash || slash == p) {
			*p = '\0';
			break;
		}
		*slash = '\0';
	}
	if (p)
		len = strlen(p);
	free(p);
	return len;
}

/* Removes dir and its parents down to the first len bytes, each only
 * when empty: the directories a failed first pass made. */
static void unmake_dirs(const char *dir, size_t len)
{
	char *p = strdup(dir);

	while (p && strlen(p) > len && rmdir(p) == 0) {
		char *slash = strrchr(p, '/');

		if (!slash)
			break;
		*slash = '\0';
	}
	free(p);
}

int outtree_write(struct pf_outtree *t, const char *dir,
		  struct pf_outstats *st, char **failed)
{
	struct writing w = { .dir = dir, .progress = t->progress };
	struct pf_outrecords prev;
	struct pf_outfile **v = NULL;
	struct parked *pk = NULL;
	uint64_t hashed = hashwrite_hashed();
	size_t existed = 0;
	bool unmake = false;
	int rc;

	outrecords_init(&prev);
	outrecords_init(&w.next);
	w.prev = &prev;
	/* "" would put the tree at the root of the file system. */
	if (!dir || !*dir) {
		rc = -EINVAL;
		w.fail = strdup("");
		goto out;
	}
	for (size_t i = 0; i < t->n; i++)
		t->files[i].summed = false;
	existed = existing_prefix(dir);
	rc = sorted_view(t, &v);
	if (!rc)
		rc = gens_check(&w, v, t->n);
	if (!rc)
		rc = fs_mkdir_p(dir, 0, &w.fail);
	if (!rc && t->n && !(pk = calloc(t->n, sizeof(*pk))))
		rc = -ENOMEM;
	if (!rc)
		rc = outstate_load(dir, &prev);
	if (!rc) {
		rc = stage_pinned(&w, v, t->n, pk);
		unmake = rc && existed < strlen(dir);	/* as if never begun */
	}
	/* First, so that a file may become a directory and back. */
	if (!rc)
		rc = remove_stale(&w, v, t->n);
	/* the files gens make last, when what they read is in place */
	for (int gens = 0; gens < 2; gens++)
		for (size_t i = 0; !rc && i < t->n; i++)
			if (!!v[i]->gen == gens)
				rc = write_one(&w, v[i], &pk[i]);
	/* Last, so a manifest never lists a file that is not in place yet. */
	if (!rc)
		rc = write_records(&w, t);
out:
	if (rc && !w.fail && dir)
		w.fail = strdup(dir);	/* -ENOMEM before any path was tried */
	for (size_t i = 0; pk && i < t->n; i++)
		if (pk[i].on)
			hashwrite_abort(&pk[i].hw);
	if (unmake)
		unmake_dirs(dir, existed);
	w.st.hashed = hashwrite_hashed() - hashed;
	if (st)
		*st = w.st;
	if (failed)
		*failed = rc ? w.fail : NULL;
	if (!failed || !rc)
		free(w.fail);
	outrecords_release(&w.next);
	outrecords_release(&prev);
	free(pk);
	free(v);
	return rc;
}
