/* The writer: outwriter_open, outwriter_put (files held in memory here,
 * streamed ones in outcopy.c), outwriter_free. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/hashwrite.h"
#include "outwrite.h"

/* dir's longest prefix that exists, as a length: what a failed first
 * build must leave. */
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

/* w->out, w->parent, w->name from w->dir: OUT's parent made when
 * missing, a symlink to OUT followed (its target is switched). */
static int resolve_out(struct pf_outwriter *w)
{
	char *copy = strdup(w->dir), *slash, *real = NULL;
	size_t len;
	struct stat st;
	int rc = 0;

	if (!copy)
		return -ENOMEM;
	for (len = strlen(copy); len > 1 && copy[len - 1] == '/'; len--)
		copy[len - 1] = '\0';
	if (stat(copy, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			rc = fail_at(w, NULL, -ENOTDIR);
			goto out;
		}
		w->out = realpath(copy, NULL);
	} else if (errno != ENOENT) {
		rc = fail_at(w, NULL, -errno);
		goto out;
	} else {
		slash = strrchr(copy, '/');
		w->name = strdup(slash ? slash + 1 : copy);
		if (slash)
			*slash = '\0';
		w->parent = strdup(slash ? (slash == copy ? "/" : copy) : ".");
		if (!w->name || !w->parent) {
			rc = -ENOMEM;
			goto out;
		}
		w->existed = existing_prefix(w->parent);
		w->made = w->existed < strlen(w->parent);
		rc = fs_mkdir_p(w->parent, 0, &w->fail);
		if (rc)
			goto out;
		real = realpath(w->parent, NULL);
		if (!real) {
			rc = fail_at(w, NULL, -errno);
			goto out;
		}
		if (asprintf(&w->out, "%s%s%s", real,
			     strcmp(real, "/") ? "/" : "", w->name) < 0)
			w->out = NULL;
	}
	if (!w->out) {
		rc = -ENOMEM;
		goto out;
	}
	free(w->name);
	free(w->parent);
	slash = strrchr(w->out, '/');
	w->name = strdup(slash + 1);
	w->parent = slash == w->out ? strdup("/") : strndup(w->out,
				(size_t)(slash - w->out));
	if (!w->name || !w->parent)
		rc = -ENOMEM;
	else if (!*w->name)	/* the root itself */
		rc = fail_at(w, NULL, -EINVAL);
out:
	free(real);
	free(copy);
	return rc;
}

/* What the previous build left: records, and the texts as they are. */
static int load_prev(struct pf_outwriter *w)
{
	int rc;

	w->outfd = openat(w->parentfd, w->name, O_RDONLY | O_DIRECTORY |
			  O_NOFOLLOW | O_CLOEXEC);
	if (w->outfd < 0) {
		if (errno == ENOENT)
			return 0;
		return fail_at(w, NULL, errno == ELOOP ? -ENOTDIR : -errno);
	}
	dircache_init(&w->outdc, w->outfd, false);
	rc = outstate_load(w->out, &w->prev);
	if (!rc && outstate_slurp(w->out, PF_MANIFEST_NAME, &w->prev_manifest,
				  &w->prev_manifest_len) == -ENOMEM)
		rc = -ENOMEM;
	if (!rc && outstate_slurp(w->out, PF_STATE_NAME, &w->prev_state,
				  &w->prev_state_len) == -ENOMEM)
		rc = -ENOMEM;
	return rc;
}

int outwriter_open(const char *dir, const struct pf_outwriter_opts *opts,
		   struct pf_outwriter **wp, char **failed)
{
	struct pf_outwriter *w = calloc(1, sizeof(*w));
	char *stagebase = NULL;
	int rc;

	*wp = NULL;
	*failed = NULL;
	if (!w)
		return -ENOMEM;
	w->parentfd = w->outfd = w->lockfd = w->stagefd = -1;
	dircache_init(&w->outdc, -1, false);
	dircache_init(&w->stagedc, -1, true);
	outrecords_init(&w->prev);
	pathset_init(&w->files);
	pathset_init(&w->dirs);
	w->st.hashed = hashwrite_hashed();	/* the start, until commit */
	if (opts)
		w->opts = *opts;
	/* "" would put the tree at the root of the file system. */
	w->dir = strdup(dir ? dir : "");
	if (!w->dir) {
		rc = -ENOMEM;
		goto out;
	}
	if (!*w->dir) {
		rc = fail_at(w, NULL, -EINVAL);
		goto out;
	}
	rc = resolve_out(w);
	if (rc)
		goto out;
	w->parentfd = open(w->parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->parentfd < 0) {
		rc = -errno;
		free(w->fail);
		w->fail = strdup(w->parent);
		goto out;
	}
	rc = lock_out(w);
	if (rc)
		goto out;
	if (asprintf(&stagebase, ".%s" PF_STAGE_SUFFIX, w->name) < 0) {
		stagebase = NULL;
		rc = -ENOMEM;
		goto out;
	}
	w->stage = path_join(w->parent, stagebase);
	/* what a killed build left (we hold the lock: no build is running) */
	rc = w->stage ? tree_remove(w->parentfd, stagebase) : -ENOMEM;
	if (rc && w->stage) {
		free(w->fail);
		w->fail = strdup(w->stage);
	}
	if (!rc)
		rc = load_prev(w);
out:
	free(stagebase);
	if (rc) {
		*failed = w->fail ? w->fail : strdup(dir ? dir : "");
		w->fail = NULL;
		outwriter_free(w);
		return rc;
	}
	*wp = w;
	return 0;
}

/* OUT's file at rec->path is still (fingerprint), or holds (bytes),
 * what f has, with its mode: fp is its fingerprint then. */
static bool data_unchanged(struct pf_outwriter *w, const struct pf_outfile *f,
			   const struct wfile *rec, char fp[PF_FINGERPRINT_MAX])
{
	const struct pf_outrecord *prev = outrecords_find(&w->prev, f->path);
	unsigned char buf[65536];
	size_t off = 0;
	struct stat st;
	bool same = false;
	int fd;

	if (out_lstat(w, f->path, &st) || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 07777) != rec->mode || (uint64_t)st.st_size != f->len)
		return false;
	stat_fingerprint(&st, fp);
	if (prev && prev->stat && prev->has_sum && !strcmp(prev->stat, fp) &&
	    prev->sum.size == rec->sum.size &&
	    !strcmp(prev->sum.sha256, rec->sum.sha256))
		return true;	/* by stat alone: not read */
	fd = out_open(w, f->path);
	while (fd >= 0) {
		ssize_t n = fs_read_some(fd, buf, sizeof(buf));

		if (n <= 0) {
			same = n == 0 && off == f->len;
			break;
		}
		if ((size_t)n > f->len - off || memcmp(buf, f->data + off,
							 (size_t)n))
			break;
		off += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	return same;
}

static int put_data(struct pf_outwriter *w, struct pf_outfile *f,
		    struct wfile *rec)
{
	char fp[PF_FINGERPRINT_MAX];
	int rc = sha256_hex(f->data, f->len, rec->sum.sha256);

	if (rc)
		return rc;
	rec->sum.size = f->len;
	rec->has_sum = true;
	if (data_unchanged(w, f, rec, fp)) {
		rec->how = WF_CARRIED;
		return wfile_set(&rec->stat, fp);
	}
	rc = stage_write(w, f->path, f->data, f->len, f->mode, fp);
	if (rc)
		return fail_at(w, f->path, rc);
	rec->how = WF_WRITTEN;
	w->st.rewritten++;
	return wfile_set(&rec->stat, fp);
}

static int put_one(struct pf_outwriter *w, struct pf_outfile *f)
{
	struct wfile *rec;
	int rc;

	f->summed = false;
	if (!pathset_fits(&w->files, &w->dirs, f->path))
		return fail_at(w, f->path, -EINVAL);
	rc = pathset_put(&w->files, &w->dirs, f->path);
	rec = rc ? NULL : wfile_new(w, f->path, f->mode);
	if (!rec)
		return -ENOMEM;
	if (f->gen) {
		rec->how = WF_GEN;
		rec->gen = f->gen;
		rec->gen_ctx = f->gen_ctx;
		rc = wfile_set(&rec->from, f->src);
		if (!rc)
			rc = wfile_set(&rec->recipe, f->recipe);
	} else if (f->src) {
		rc = put_stream(w, f, rec);
	} else {
		rc = put_data(w, f, rec);
	}
	if (!rc && !f->gen) {
		f->sum = rec->sum;
		f->summed = true;
	}
	w->st.files++;
	return rc;
}

int outwriter_put(struct pf_outwriter *w, struct pf_outtree *chunk,
		  char **failed)
{
	int rc = w->done ? -EINVAL : 0;

	*failed = NULL;
	for (size_t i = 0; i < chunk->n && !rc; i++)
		rc = put_one(w, &chunk->files[i]);
	if (rc) {
		*failed = w->fail ? w->fail : strdup(w->dir);
		w->fail = NULL;
	}
	return rc;
}

const struct pf_outstats *outwriter_stats(const struct pf_outwriter *w)
{
	return &w->st;
}

/* Removes parent and its parents down to the first len bytes, each only
 * when empty: the directories a failed first build made. */
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

void outwriter_free(struct pf_outwriter *w)
{
	bool made_parent;

	if (!w)
		return;
	made_parent = w->made && w->outfd < 0;
	dircache_release(&w->outdc);
	dircache_release(&w->stagedc);
	if (w->stagefd >= 0) {
		close(w->stagefd);
		(void)tree_remove(w->parentfd, strrchr(w->stage, '/') + 1);
	}
	if (w->outfd >= 0)
		close(w->outfd);
	/* a failed first build leaves no trace, the lock file neither */
	if (made_parent && w->lockfd >= 0) {
		char *lock = NULL;

		if (asprintf(&lock, "%s/.%s" PF_LOCK_SUFFIX, w->parent,
			     w->name) >= 0)
			unlink(lock);
		free(lock);
	}
	if (w->lockfd >= 0)
		close(w->lockfd);
	if (w->parentfd >= 0)
		close(w->parentfd);
	if (made_parent)
		unmake_dirs(w->parent, w->existed);
	for (size_t i = 0; i < w->n; i++)
		wfile_release(&w->v[i]);
	free(w->v);
	pathset_release(&w->files);
	pathset_release(&w->dirs);
	outrecords_release(&w->prev);
	free(w->prev_manifest);
	free(w->prev_state);
	free(w->dir);
	free(w->out);
	free(w->parent);
	free(w->name);
	free(w->stage);
	free(w->fail);
	free(w);
}
