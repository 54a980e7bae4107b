/* Files of OUT streamed from a source file: read only when the source or
 * OUT's copy changed since the state file recorded them, then read once,
 * through the hashing writer, into the staging directory; a pinned one
 * checked against its pin there, before anything is switched. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/lib/progress.h"
#include "pxeforge/out/outstate.h"
#include "outwrite.h"

/* rc, with w's failure naming the source. */
static int source_failed(struct pf_outwriter *w, const char *src, int rc)
{
	w->st.source_failed = true;
	free(w->fail);
	w->fail = strdup(src);
	return rc;
}

/* The source, opened: a regular file, its fingerprint. */
static int source_open(const char *src, int *fd, uint64_t *size,
		       char fp[PF_FINGERPRINT_MAX])
{
	struct stat st;

	/* What is read is what the fd says, whatever stat said before. */
	*fd = open(src, O_RDONLY | O_CLOEXEC);
	if (*fd < 0 || fstat(*fd, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	stat_fingerprint(&st, fp);
	*size = (uint64_t)st.st_size;
	return 0;
}

/* The source still has the fingerprint it had when opened and copied
 * bytes: else it changed while it was read (-EIO). */
static int source_same(int fd, const char *fp, uint64_t copied)
{
	char again[PF_FINGERPRINT_MAX];
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -errno;
	stat_fingerprint(&st, again);
	return strcmp(fp, again) || copied != (uint64_t)st.st_size ? -EIO : 0;
}

/* The source read afresh into the staging directory (not yet renamed
 * into its name there: hw ended). */
static int copy_fresh(struct pf_outwriter *w, struct pf_outfile *f,
		      struct wfile *rec, struct pf_hashwrite *hw,
		      char src_fp[PF_FINGERPRINT_MAX])
{
	struct pf_progress bar;
	uint64_t copied = 0, size = 0;
	char *full = NULL;
	int fd = -1, rc;
	bool src_fault = true;

	rc = source_open(f->src, &fd, &size, src_fp);
	if (rc) {
		rc = source_failed(w, f->src, rc);
		goto out;
	}
	rc = stage_prepare(w, f->path, &full);
	if (!rc)
		rc = hashwrite_open(hw, full, f->mode);
	if (rc) {
		rc = fail_at(w, f->path, rc);
		goto out;
	}
	hw->nosync = true;	/* the staging directory is synced once */
	progress_start(w->opts.progress, &bar, f->path, size);
	hw->bar = &bar;
	rc = hashwrite_copy_fd(hw, fd, &copied);
	progress_end(&bar, rc ? 0 : copied, size);
	hw->bar = NULL;
	if (rc)
		src_fault = hw->read_failed;
	else
		rc = source_same(fd, src_fp, copied);
	if (!rc)
		rc = hashwrite_end(hw, &rec->sum);
	if (rc) {
		hashwrite_abort(hw);
		rc = src_fault ? source_failed(w, f->src, rc) :
		     fail_at(w, f->path, rc);
	}
out:
	if (fd >= 0)
		close(fd);
	free(full);
	return rc;
}

int put_stream(struct pf_outwriter *w, struct pf_outfile *f,
	       struct wfile *rec)
{
	const struct pf_outrecord *prev = outrecords_find(&w->prev, f->path);
	char out_fp[PF_FINGERPRINT_MAX] = "", src_fp[PF_FINGERPRINT_MAX];
	struct pf_hashwrite hw;
	struct stat st;
	bool out_known, replaced;
	int rc;

	rec->source = source_key(f->src);
	if (!rec->source)
		return -ENOMEM;
	if (out_lstat(w, f->path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 07777) == rec->mode)
		stat_fingerprint(&st, out_fp);
	out_known = prev && prev->has_sum && prev->stat &&
		    !strcmp(prev->stat, out_fp);
	/* Unchanged: decided by stat alone, the source is not even opened. */
	if (out_known && prev->source && !strcmp(prev->source, rec->source) &&
	    prev->source_stat && stat(f->src, &st) == 0 && S_ISREG(st.st_mode)) {
		stat_fingerprint(&st, src_fp);
		if (!strcmp(prev->source_stat, src_fp) &&
		    (!f->pin || !strcmp(prev->sum.sha256, f->pin))) {
			rec->sum = prev->sum;
			rec->has_sum = true;
			rec->how = WF_CARRIED;
			rc = wfile_set(&rec->stat, out_fp);
			return rc ? rc : wfile_set(&rec->source_stat, src_fp);
		}
	}
	rc = copy_fresh(w, f, rec, &hw, src_fp);
	if (rc)
		return rc;
	rec->has_sum = true;
	if (f->pin && strcmp(rec->sum.sha256, f->pin)) {
		hashwrite_abort(&hw);
		memcpy(w->st.pin_want, f->pin, 65);
		memcpy(w->st.pin_got, rec->sum.sha256, 65);
		return source_failed(w, f->src, -EBADMSG);
	}
	rc = wfile_set(&rec->source_stat, src_fp);
	if (rc) {
		hashwrite_abort(&hw);
		return rc;
	}
	/* the source was touched, its bytes are the same: OUT's file stays */
	if (out_known && prev->sum.size == rec->sum.size &&
	    !strcmp(prev->sum.sha256, rec->sum.sha256)) {
		hashwrite_abort(&hw);
		rec->how = WF_CARRIED;
		return wfile_set(&rec->stat, out_fp);
	}
	/* nothing is at the staged name: it is renamed there */
	rc = hashwrite_install(&hw, &rec->sum, NULL, &replaced);
	if (!rc) {
		char *full = path_join(w->stage, f->path);

		rc = !full ? -ENOMEM : lstat(full, &st) ? -errno : 0;
		free(full);
	}
	if (rc)
		return fail_at(w, f->path, rc);
	stat_fingerprint(&st, out_fp);
	rec->how = WF_WRITTEN;
	w->st.rewritten++;
	return wfile_set(&rec->stat, out_fp);
}
