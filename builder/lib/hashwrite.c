#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/lib/progress.h"

#define CHUNK 65536

static uint64_t hashed_total;

/* For bench/packaging.sh only: PXEFORGE_BENCH_COPY=plain makes every copy
 * the single-threaded one (1 MiB read, SHA-256, write) and turns O_DIRECT
 * off, so that both paths are measured in one run with one binary. Read
 * once. */
static bool bench_plain(void)
{
	static int plain = -1;

	if (plain < 0) {
		const char *v = getenv("PXEFORGE_BENCH_COPY");

		plain = v && !strcmp(v, "plain");
	}
	return plain;
}

uint64_t hashwrite_hashed(void)
{
	return hashed_total;
}

static void to_hex(const unsigned char *md, char hex[65])
{
	static const char digits[] = "0123456789abcdef";

	for (unsigned int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 0xf];
	}
	hex[64] = '\0';
}

int sha256_hex(const void *data, size_t len, char hex[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (!EVP_Digest(len ? data : "", len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32)
		return -EIO;
	hashed_total += len;
	to_hex(md, hex);
	return 0;
}

int sha256_final_hex(EVP_MD_CTX *md, char hex[65])
{
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (!EVP_DigestFinal_ex(md, out, &len) || len != 32)
		return -EIO;
	to_hex(out, hex);
	return 0;
}

static ssize_t read_some(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int fs_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* mkdir -p for path, starting at byte `from` (the prefix before it is known
 * to exist). On failure *fail names the directory that could not be made. */
int fs_mkdir_p(const char *path, size_t from, char **fail)
{
	struct stat st;
	char *p;
	int rc = 0;

	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		return 0;
	p = strdup(path);
	if (!p)
		return -ENOMEM;
	if (from > strlen(p))
		from = strlen(p);
	for (size_t i = from; !rc; i++) {
		char c = p[i];

		if (c != '/' && c != '\0')
			continue;
		if (i == 0 || p[i - 1] == '/') {	/* root, or "a//b" */
			if (!c)
				break;
			continue;
		}
		p[i] = '\0';
		if (mkdir(p, 0755) != 0) {
			if (errno != EEXIST)
				rc = -errno;
			else if (stat(p, &st) != 0)
				rc = -errno;
			else if (!S_ISDIR(st.st_mode))
				rc = -ENOTDIR;
		}
		if (rc) {
			*fail = p;
			return rc;
		}
		if (!c)
			break;
		p[i] = c;
	}
	free(p);
	return rc;
}

int sha256_fd(int fd, struct pf_filesum *sum)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char *chunk = malloc(CHUNK);
	uint64_t size = 0;
	int rc = -ENOMEM;

	if (!md || !chunk)
		goto out;
	rc = -EIO;
	if (!EVP_DigestInit_ex(md, EVP_sha256(), NULL))
		goto out;
	for (;;) {
		ssize_t n = read_some(fd, chunk, CHUNK);

		if (n < 0) {
			rc = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		if (!EVP_DigestUpdate(md, chunk, (size_t)n)) {
			rc = -EIO;
			goto out;
		}
		size += (uint64_t)n;
		hashed_total += (uint64_t)n;
	}
	rc = sha256_final_hex(md, sum->sha256);
	sum->size = size;
out:
	free(chunk);
	EVP_MD_CTX_free(md);
	return rc;
}

static void writer_clear(struct pf_hashwrite *w)
{
	w->md = NULL;
	w->target = NULL;
	w->tmp = NULL;
	w->fd = -1;
	w->size = 0;
	w->unflushed = 0;
	w->bar = NULL;
	w->stage = NULL;
	w->staged = 0;
	w->direct = false;
}

void hashwrite_abort(struct pf_hashwrite *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	free(w->tmp);
	free(w->target);
	free(w->stage);
	EVP_MD_CTX_free(w->md);
	writer_clear(w);
}

/* The temporary file only: hashing is the caller's business. It goes in
 * tmpdir, or beside target when tmpdir is NULL. */
static int tmp_open(struct pf_hashwrite *w, const char *target,
		    const char *tmpdir, mode_t mode)
{
	const char *slash = strrchr(target, '/');
	int dirlen = slash ? (int)(slash - target) + 1 : 0;
	int rc = 0;

	writer_clear(w);
	w->read_failed = false;
	w->mode = mode & 07777;
	w->target = strdup(target);
	if (!w->target ||
	    (tmpdir ? asprintf(&w->tmp, "%s/" PF_TMP_PREFIX "XXXXXX", tmpdir) :
	     asprintf(&w->tmp, "%.*s" PF_TMP_PREFIX "XXXXXX", dirlen, target)) < 0) {
		w->tmp = NULL;
		rc = -ENOMEM;
		goto out;
	}
	w->fd = mkostemp(w->tmp, O_CLOEXEC);
	if (w->fd < 0) {
		rc = -errno;
		free(w->tmp);	/* nothing was created */
		w->tmp = NULL;
		goto out;
	}
	/* fchmod, not the umask, decides: mkstemp's 0600 until then. */
	if (fchmod(w->fd, w->mode) != 0)
		rc = -errno;
out:
	if (rc)
		hashwrite_abort(w);
	return rc;
}

int hashwrite_open(struct pf_hashwrite *w, const char *target, mode_t mode)
{
	return hashwrite_open_in(w, target, NULL, mode);
}

int hashwrite_open_in(struct pf_hashwrite *w, const char *target,
		      const char *tmpdir, mode_t mode)
{
	int rc = tmp_open(w, target, tmpdir, mode);

	if (rc)
		return rc;
	w->md = EVP_MD_CTX_new();
	rc = w->md ? 0 : -ENOMEM;
	if (!rc && !EVP_DigestInit_ex(w->md, EVP_sha256(), NULL))
		rc = -EIO;
	if (rc)
		hashwrite_abort(w);
	return rc;
}

/* Writeback is started every this many bytes, so that the final fsync
 * finds little left to do (the kernel would otherwise hold up to
 * dirty_background_ratio of RAM, gigabytes, until then). */
#define FLUSH_EVERY (16 * 1024 * 1024)

static int write_flushing(int fd, const void *p, size_t len,
			  uint64_t *since_flush)
{
	int rc = fs_write_all(fd, p, len);

	*since_flush += len;
	if (!rc && *since_flush >= FLUSH_EVERY) {
		/* Asynchronous: only queues the dirty pages for writeback. */
		(void)sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE);
		*since_flush = 0;
	}
	return rc;
}

/* Writes with O_DIRECT while *direct; a write it refuses (a tail that
 * is not a multiple of PF_DIRECT_ALIGN, a file system without O_DIRECT)
 * clears it, and that and the rest go through the page cache. */
static int write_out(int fd, bool *direct, const unsigned char *p,
		     size_t len, uint64_t *since_flush)
{
	while (*direct && len) {
		ssize_t n = 0;

		if (len % PF_DIRECT_ALIGN == 0) {
			n = write(fd, p, len);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno != EINVAL)
				return -errno;
		}
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		}
		/* refused, a tail, or no longer aligned: the page cache */
		if (n <= 0 || (size_t)n % PF_DIRECT_ALIGN) {
			if (!fs_set_direct(fd, false))
				return -EIO;
			*direct = false;
		}
	}
	return len ? write_flushing(fd, p, len, since_flush) : 0;
}

#define STAGE_SIZE (1024 * 1024)

int hashwrite_direct(struct pf_hashwrite *w)
{
	if (w->stage || bench_plain())
		return 0;
	if (posix_memalign((void **)&w->stage, PF_DIRECT_ALIGN, STAGE_SIZE)) {
		w->stage = NULL;
		return -ENOMEM;
	}
	w->staged = 0;
	w->direct = fs_set_direct(w->fd, true);
	return 0;
}

/* What waits in the stage goes out; the file has O_DIRECT no more. */
static int stage_flush(struct pf_hashwrite *w)
{
	int rc = 0;

	if (w->staged)
		rc = write_out(w->fd, &w->direct, w->stage, w->staged,
			       &w->unflushed);
	w->staged = 0;
	if (w->direct && !fs_set_direct(w->fd, false) && !rc)
		rc = -EIO;
	w->direct = false;
	return rc;
}

int hashwrite_update(struct pf_hashwrite *w, const void *data, size_t len)
{
	const unsigned char *p = data;
	int rc = 0;

	if (!len)
		return 0;
	if (!EVP_DigestUpdate(w->md, data, len))
		return -EIO;
	hashed_total += len;
	w->size += len;
	if (!w->stage)
		return write_flushing(w->fd, data, len, &w->unflushed);
	while (len && !rc) {
		size_t n = STAGE_SIZE - w->staged;

		if (n > len)
			n = len;
		memcpy(w->stage + w->staged, p, n);
		w->staged += n;
		p += n;
		len -= n;
		if (w->staged == STAGE_SIZE) {
			rc = write_out(w->fd, &w->direct, w->stage, STAGE_SIZE,
				       &w->unflushed);
			w->staged = 0;
		}
	}
	return rc;
}

#define COPY_CHUNK (1024 * 1024)

static int copy_plain(struct pf_hashwrite *w, int fd, uint64_t total,
		      uint64_t *copied)
{
	unsigned char *chunk = malloc(COPY_CHUNK);
	int rc = chunk ? 0 : -ENOMEM;

	while (!rc) {
		ssize_t r = read_some(fd, chunk, COPY_CHUNK);

		if (r < 0) {
			w->read_failed = true;
			rc = (int)r;
		} else if (r == 0) {
			break;
		} else {
			rc = hashwrite_update(w, chunk, (size_t)r);
			*copied += (uint64_t)r;
			if (w->bar)
				progress_update(w->bar, *copied, total);
		}
	}
	free(chunk);
	return rc;
}

/* Large copies run as a pipeline of three threads over a ring of slots:
 * this one reads, one writes, one hashes. SHA-256 costs about as much CPU
 * as the read and the write together, so the copy takes little longer
 * than hashing alone. Slots are hashed in the order they were read, so
 * the digest is the same as in one thread. */
#define SLOTS 8
#define SLOT_SIZE (1024 * 1024)
#define THREADED_MIN (1024 * 1024)

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
	bool direct;			/* out has O_DIRECT (write_out):
					 * from PF_DIRECT_MIN on */
};

struct stage {
	struct ring *r;
	int which;			/* 0 writes, 1 hashes */
};

bool fs_set_direct(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (on && bench_plain())
		return false;
	return fl >= 0 && fcntl(fd, F_SETFL, on ? fl | O_DIRECT :
				fl & ~O_DIRECT) == 0;
}

bool fs_drop_direct(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	return fl >= 0 && (fl & O_DIRECT) &&
	       fcntl(fd, F_SETFL, fl & ~O_DIRECT) == 0;
}

static int stage_do(struct ring *r, int which, const unsigned char *p,
		    size_t len, uint64_t *since_flush)
{
	if (which == 1)
		return EVP_DigestUpdate(r->md, p, len) ? 0 : -EIO;
	return write_out(r->out, &r->direct, p, len, since_flush);
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

/* -EAGAIN: no thread could be started, nothing was read. */
static int copy_threaded(struct pf_hashwrite *w, int fd, uint64_t total,
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
		n = read_some(fd, slot, SLOT_SIZE);
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
	hashed_total += *copied;
	w->size += *copied;
	if (r.direct && !fs_set_direct(w->fd, false) && !rc)
		rc = -EIO;
	pthread_cond_destroy(&r.cond);
	pthread_mutex_destroy(&r.lock);
	free(r.buf);
	return rc;
}

int hashwrite_copy_fd(struct pf_hashwrite *w, int fd, uint64_t *copied)
{
	uint64_t n = 0, total = 0;
	struct stat st;
	int rc = -EAGAIN;

	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode))
		total = (uint64_t)st.st_size;	/* else 0: unknown, for the bar */
	if (total >= THREADED_MIN && !w->stage && !bench_plain())
		rc = copy_threaded(w, fd, total, &n);
	if (rc == -EAGAIN)
		rc = copy_plain(w, fd, total, &n);
	if (copied)
		*copied = n;
	return rc;
}

/* Does path already hold sum's content with this mode? Any doubt
 * (missing, unreadable, symlink, other size) means no. */
static bool target_holds(const char *path, mode_t mode,
			 const struct pf_filesum *sum,
			 const struct pf_filesum *known)
{
	struct pf_filesum have;
	struct stat st;
	bool same;
	int fd;

	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 07777) != mode || (uint64_t)st.st_size != sum->size)
		return false;
	if (known)
		return known->size == sum->size &&
		       !strcmp(known->sha256, sum->sha256);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return false;
	same = sha256_fd(fd, &have) == 0 && have.size == sum->size &&
	       !strcmp(have.sha256, sum->sha256);
	close(fd);
	return same;
}

/* fsync, close and rename the temporary file over the target (a writer
 * ended by hashwrite_end has closed it: it is opened again to fsync). */
static int tmp_install(struct pf_hashwrite *w)
{
	int fd = w->fd >= 0 ? w->fd : open(w->tmp, O_RDONLY | O_CLOEXEC);
	int rc = fd < 0 ? -errno : 0;

	if (!rc && fsync(fd) != 0)
		rc = -errno;
	if (fd >= 0 && close(fd) != 0 && !rc)
		rc = -errno;
	w->fd = -1;
	if (!rc && rename(w->tmp, w->target) != 0)
		rc = -errno;
	if (!rc) {
		free(w->tmp);	/* it is the target now: not to be unlinked */
		w->tmp = NULL;
	}
	return rc;
}

int hashwrite_commit(struct pf_hashwrite *w, const struct pf_filesum *known,
		     struct pf_filesum *sum, bool *replaced)
{
	int rc;

	*replaced = false;
	rc = sha256_final_hex(w->md, sum->sha256);
	sum->size = w->size;
	if (!rc)
		rc = stage_flush(w);
	if (rc) {
		hashwrite_abort(w);
		return rc;
	}
	return hashwrite_install(w, sum, known, replaced);	/* fd still open */
}

int hashwrite_end(struct pf_hashwrite *w, struct pf_filesum *sum)
{
	int rc = sha256_final_hex(w->md, sum->sha256);

	if (!rc)
		rc = stage_flush(w);
	sum->size = w->size;
	EVP_MD_CTX_free(w->md);
	w->md = NULL;
	if (close(w->fd) != 0 && !rc)
		rc = -errno;
	w->fd = -1;
	return rc;
}

int hashwrite_install(struct pf_hashwrite *w, const struct pf_filesum *sum,
		      const struct pf_filesum *known, bool *replaced)
{
	int rc = 0;

	*replaced = false;
	if (!target_holds(w->target, w->mode, sum, known)) {
		rc = tmp_install(w);
		*replaced = rc == 0;
	}
	hashwrite_abort(w);
	return rc;
}

/* path is a regular file with exactly these bytes and this mode. */
static bool same_bytes(const char *path, const char *data, size_t len,
		       mode_t mode)
{
	unsigned char *chunk;
	struct stat st;
	size_t off = 0;
	bool same = false;
	int fd;

	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (st.st_mode & 07777) != (mode & 07777) ||
	    (uint64_t)st.st_size != (uint64_t)len)
		return false;
	chunk = malloc(CHUNK);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	while (chunk && fd >= 0) {
		ssize_t n = read_some(fd, chunk, CHUNK);

		if (n < 0)
			break;
		if (n == 0) {
			same = off == len;
			break;
		}
		if ((size_t)n > len - off || memcmp(chunk, data + off, (size_t)n))
			break;
		off += (size_t)n;
	}
	if (fd >= 0)
		close(fd);
	free(chunk);
	return same;
}

int hashwrite_buffer(const char *target, const void *data, size_t len,
		     mode_t mode, struct pf_filesum *sum, bool *replaced)
{
	struct pf_hashwrite w;
	int rc;

	*replaced = false;
	if (len && !data)
		return -EINVAL;
	rc = sha256_hex(data, len, sum->sha256);
	sum->size = len;
	if (rc || same_bytes(target, data, len, mode))
		return rc;
	rc = tmp_open(&w, target, NULL, mode);
	if (rc)
		return rc;
	rc = fs_write_all(w.fd, data, len);
	if (!rc)
		rc = tmp_install(&w);
	*replaced = rc == 0;
	hashwrite_abort(&w);
	return rc;
}
