/* The packaging copy of a large file. Kept (issue 21) because
 * bench/packaging.sh's copy row measures it (with O_DIRECT) about twice as
 * fast as one thread without O_DIRECT: more than the 1.3x its threads must
 * be worth. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/progress.h"
#include "hashring.h"

/* Large copies run as a pipeline of three threads over a ring of slots:
 * this one reads, one writes, one hashes. SHA-256 costs about as much CPU
 * as the read and the write together, so the copy takes little longer
 * than hashing alone. Slots are hashed in the order they were read, so
 * the digest is the same as in one thread. */
#define SLOTS 8
#define SLOT_SIZE (1024 * 1024)

struct ring {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned char *buf;		/* SLOTS * SLOT_SIZE */
	size_t len[SLOTS];
	uint64_t posted;		/* slots read */
	uint64_t taken[2];		/* slots the writer / the hasher finished */
	bool done;			/* nothing more will be posted */
	int err[2];			/* the writer's / the hasher's error */
	EVP_MD_CTX *md;
	int out;
	bool direct;			/* out has O_DIRECT (fs_write_direct):
					 * from PF_DIRECT_MIN on */
};

struct stage {
	struct ring *r;
	int which;			/* 0 writes, 1 hashes */
};

static int stage_do(struct ring *r, int which, const unsigned char *p,
		    size_t len, uint64_t *since_flush)
{
	if (which == 1)
		return EVP_DigestUpdate(r->md, p, len) ? 0 : -EIO;
	return fs_write_direct(r->out, &r->direct, p, len, since_flush);
}

static void *stage_main(void *arg)
{
	struct stage *st = arg;
	struct ring *r = st->r;
	uint64_t *taken = &r->taken[st->which], since_flush = 0;

	pthread_mutex_lock(&r->lock);
	for (;;) {
		size_t k;
		int rc = 0;

		while (*taken == r->posted && !r->done)
			pthread_cond_wait(&r->cond, &r->lock);
		if (*taken == r->posted)
			break;	/* done, and nothing left */
		k = (size_t)(*taken % SLOTS);
		if (!r->err[st->which]) {	/* after an error: drain only */
			pthread_mutex_unlock(&r->lock);
			rc = stage_do(r, st->which, r->buf + k * SLOT_SIZE,
				      r->len[k], &since_flush);
			pthread_mutex_lock(&r->lock);
			r->err[st->which] = rc;
		}
		++*taken;
		pthread_cond_broadcast(&r->cond);
	}
	pthread_mutex_unlock(&r->lock);
	return NULL;
}

int hashring_copy(struct pf_hashwrite *w, int fd, uint64_t total,
		  uint64_t *copied)
{
	struct ring r = { .md = w->md, .out = w->fd };
	struct stage st[2] = { { &r, 0 }, { &r, 1 } };
	pthread_t tid[2];
	int started = 0, rc = 0;

	if (posix_memalign((void **)&r.buf, PF_DIRECT_ALIGN, SLOTS * SLOT_SIZE))
		return -EAGAIN;
	r.direct = total >= PF_DIRECT_MIN && fs_set_direct(w->fd, true);
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.cond, NULL);
	while (started < 2 &&
	       pthread_create(&tid[started], NULL, stage_main, &st[started]) == 0)
		started++;
	if (started < 2) {
		rc = -EAGAIN;
		goto stop;
	}
	while (!rc) {
		unsigned char *slot;
		ssize_t n;

		pthread_mutex_lock(&r.lock);
		while (!r.err[0] && !r.err[1] &&
		       (r.posted - r.taken[0] == SLOTS ||
			r.posted - r.taken[1] == SLOTS))
			pthread_cond_wait(&r.cond, &r.lock);
		rc = r.err[0] ? r.err[0] : r.err[1];
		pthread_mutex_unlock(&r.lock);
		if (rc)
			break;
		slot = r.buf + (r.posted % SLOTS) * SLOT_SIZE;
		n = fs_read_some(fd, slot, SLOT_SIZE);
		if (n < 0) {
			w->read_failed = true;
			rc = (int)n;
		}
		if (n <= 0)
			break;
		pthread_mutex_lock(&r.lock);
		r.len[r.posted % SLOTS] = (size_t)n;
		r.posted++;
		pthread_cond_broadcast(&r.cond);
		pthread_mutex_unlock(&r.lock);
		*copied += (uint64_t)n;
		if (w->bar)
			progress_update(w->bar, *copied, total);
	}
stop:
	pthread_mutex_lock(&r.lock);
	r.done = true;
	pthread_cond_broadcast(&r.cond);
	pthread_mutex_unlock(&r.lock);
	while (started > 0)
		pthread_join(tid[--started], NULL);
	if (!rc)
		rc = r.err[0] ? r.err[0] : r.err[1];
	w->size += *copied;
	if (r.direct && !fs_set_direct(w->fd, false) && !rc)
		rc = -EIO;
	pthread_cond_destroy(&r.cond);
	pthread_mutex_destroy(&r.lock);
	free(r.buf);
	return rc;
}
