/* Files of OUT streamed from a source file: read only when the source or
 * OUT's copy changed since the state file recorded them, then read once,
 * through the hashing writer. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/lib/progress.h"
#include "pxeforge/out/outstate.h"
#include "outwrite.h"

int stream_begin(struct writing *w, const struct pf_outfile *f,
		 const char *full, const char *src, const char *from,
		 struct streaming *s)
{
	struct stat ost;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	s->prev = outrecords_find(w->prev, f->path);
	s->src = src ? src : f->src;
	/* what the output is made from: the file, or a generator's recipe */
	if (!from)
		from = s->key = source_key(f->src);
	s->from = from;
	if (!from)
		return -ENOMEM;
	if (lstat(full, &ost) == 0 && S_ISREG(ost.st_mode) &&
	    (ost.st_mode & 07777) == (f->mode & 07777))
		stat_fingerprint(&ost, s->out_fp);
	s->out_known = s->prev && s->prev->has_sum && s->prev->stat &&
		       !strcmp(s->prev->stat, s->out_fp);
	return 0;
}

bool stream_unchanged(struct pf_outfile *f, struct streaming *s)
{
	const struct pf_outrecord *prev = s->prev;
	struct stat st;

	if (!s->out_known || !prev->source || strcmp(prev->source, s->from) ||
	    !prev->source_stat || stat(s->src, &st) != 0 ||
	    !S_ISREG(st.st_mode))
		return false;
	stat_fingerprint(&st, s->src_fp);
	if (strcmp(prev->source_stat, s->src_fp) ||
	    (f->pin && strcmp(prev->sum.sha256, f->pin)))
		return false;
	f->sum = prev->sum;
	return true;
}

int stream_open(struct streaming *s)
{
	struct stat st;

	/* What is read is what the fd says, whatever stat said before. */
	s->fd = open(s->src, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0 || fstat(s->fd, &st) != 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return -EINVAL;
	stat_fingerprint(&st, s->src_fp);
	s->size = (uint64_t)st.st_size;
	return 0;
}

int stream_same_source(const struct streaming *s, uint64_t copied)
{
	char again[PF_FINGERPRINT_MAX];
	struct stat st;

	/* A source that changed while it was read has no one content. */
	if (fstat(s->fd, &st) != 0)
		return -errno;
	stat_fingerprint(&st, again);
	return strcmp(s->src_fp, again) || copied != (uint64_t)st.st_size ?
	       -EIO : 0;
}

int stream_fresh(struct writing *w, struct pf_outfile *f, struct streaming *s,
		 const char *full, const char *tmpdir, struct pf_hashwrite *hw)
{
	struct pf_progress bar;
	uint64_t copied = 0;
	bool source_failed = true;
	int rc;

	rc = stream_open(s);
	if (rc)
		return stream_source_failed(w, s, rc);
	rc = hashwrite_open_in(hw, full, tmpdir, f->mode);
	if (rc)
		return rc;
	progress_start(w->progress, &bar, f->path, s->size);
	hw->bar = &bar;
	rc = hashwrite_copy_fd(hw, s->fd, &copied);
	progress_end(&bar, rc ? 0 : copied, s->size);
	hw->bar = NULL;		/* bar is this call's */
	if (rc)
		source_failed = hw->read_failed;
	else
		rc = stream_same_source(s, copied);
	if (rc) {
		hashwrite_abort(hw);
		return source_failed ? stream_source_failed(w, s, rc) : rc;
	}
	rc = hashwrite_end(hw, &f->sum);
	if (rc)
		hashwrite_abort(hw);
	return rc;
}

int stream_install(struct streaming *s, struct pf_outfile *f,
		   struct pf_hashwrite *hw, bool *replaced)
{
	return hashwrite_install(hw, &f->sum, s->out_known ? &s->prev->sum :
				 NULL, replaced);
}

int stream_record(struct writing *w, const struct pf_outfile *f,
		  struct streaming *s, const char *full)
{
	struct pf_outrecord rec = { .path = f->path, .has_sum = true,
				    .sum = f->sum, .stat = s->out_fp,
				    .source = (char *)s->from,
				    .source_stat = s->src_fp };
	struct stat ost;

	if (full) {
		if (lstat(full, &ost) != 0)
			return -errno;
		stat_fingerprint(&ost, s->out_fp);
	}
	return outrecords_add(&w->next, &rec);
}

int stream_source_failed(struct writing *w, const struct streaming *s,
			 int rc)
{
	w->st.source_failed = true;
	free(w->fail);
	w->fail = strdup(s->src);
	return rc;
}

void stream_end(struct streaming *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	free(s->key);
	s->key = NULL;
}

int write_stream(struct writing *w, struct pf_outfile *f, const char *full,
		 bool *replaced)
{
	struct pf_hashwrite hw;
	struct streaming s;
	int rc;

	*replaced = false;
	rc = stream_begin(w, f, full, NULL, NULL, &s);
	if (rc)
		goto out;
	/* Unchanged: decided by stat alone, the source is not even opened. */
	if (stream_unchanged(f, &s)) {
		rc = stream_record(w, f, &s, NULL);
		goto out;
	}
	rc = stream_fresh(w, f, &s, full, NULL, &hw);
	if (!rc)
		rc = stream_install(&s, f, &hw, replaced);
	if (!rc)
		rc = stream_record(w, f, &s, full);
out:
	stream_end(&s);
	return rc;
}
