/* The writer's file system side: OUT read without following a symlink
 * below it, the staging directory beside OUT, the lock, the switch. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/fs.h"
#include "outwrite.h"

void dircache_init(struct dircache *dc, int root, bool make)
{
	dc->root = root;
	dc->rel = NULL;
	dc->fd = -1;
	dc->make = make;
}

void dircache_release(struct dircache *dc)
{
	if (dc->fd >= 0)
		close(dc->fd);
	free(dc->rel);
	dc->rel = NULL;
	dc->fd = -1;
}

/* dir below root, made first when make, nothing followed. */
static int open_dir_below(int root, const char *dir, bool make)
{
	int fd = dup(root);
	const char *p = dir;

	if (fd < 0)
		return -errno;
	while (*p) {
		size_t len = strcspn(p, "/");
		char name[NAME_MAX + 1];
		int next;

		if (len > NAME_MAX) {
			close(fd);
			return -ENAMETOOLONG;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		if (make && mkdirat(fd, name, 0755) != 0 && errno != EEXIST) {
			int err = errno;

			close(fd);
			return -err;
		}
		next = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
			      O_CLOEXEC);
		close(fd);
		if (next < 0)
			return -errno;
		fd = next;
		p += len;
		if (*p == '/')
			p++;
	}
	return fd;
}

int dircache_parent(struct dircache *dc, const char *rel, const char **last)
{
	const char *slash = strrchr(rel, '/');
	size_t len = slash ? (size_t)(slash - rel) : 0;
	int fd;

	*last = slash ? slash + 1 : rel;
	if (dc->root < 0)
		return -ENOENT;
	if (dc->fd >= 0 && strlen(dc->rel) == len && !strncmp(dc->rel, rel, len))
		return dc->fd;
	dircache_release(dc);
	dc->rel = strndup(rel, len);
	if (!dc->rel)
		return -ENOMEM;
	fd = open_dir_below(dc->root, dc->rel, dc->make);
	if (fd < 0) {
		free(dc->rel);
		dc->rel = NULL;
		return fd;
	}
	dc->fd = fd;
	return fd;
}

int out_lstat(struct pf_outwriter *w, const char *rel, struct stat *st)
{
	const char *last;
	int fd = dircache_parent(&w->outdc, rel, &last);

	if (fd < 0)
		return fd;
	return fstatat(fd, last, st, AT_SYMLINK_NOFOLLOW) ? -errno : 0;
}

int out_open(struct pf_outwriter *w, const char *rel)
{
	const char *last;
	int fd = dircache_parent(&w->outdc, rel, &last);

	if (fd < 0)
		return fd;
	fd = openat(fd, last, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int stage_make(struct pf_outwriter *w)
{
	const char *base = strrchr(w->stage, '/') + 1;

	if (w->stagefd >= 0)
		return 0;
	if (mkdirat(w->parentfd, base, 0755) != 0)
		return -errno;
	w->stagefd = openat(w->parentfd, base, O_RDONLY | O_DIRECTORY |
			    O_NOFOLLOW | O_CLOEXEC);
	if (w->stagefd < 0)
		return -errno;
	dircache_init(&w->stagedc, w->stagefd, true);
	return 0;
}

int stage_prepare(struct pf_outwriter *w, const char *rel, char **full)
{
	const char *last;
	int rc = stage_make(w);

	*full = NULL;
	if (!rc)
		rc = dircache_parent(&w->stagedc, rel, &last);
	if (rc < 0)
		return rc;
	*full = path_join(w->stage, rel);
	return *full ? 0 : -ENOMEM;
}

int stage_write(struct pf_outwriter *w, const char *rel, const void *data,
		size_t len, mode_t mode, char fp[PF_FINGERPRINT_MAX])
{
	const char *last;
	struct stat st;
	int fd, rc = stage_make(w);

	if (rc)
		return rc;
	fd = dircache_parent(&w->stagedc, rel, &last);
	if (fd < 0)
		return fd;
	fd = openat(fd, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	/* the mode is the tree's, whatever the umask */
	if (fchmod(fd, mode & 07777) != 0)
		rc = -errno;
	if (!rc)
		rc = fs_write_all(fd, data, len);
	if (!rc && fstat(fd, &st) != 0)
		rc = -errno;
	if (close(fd) != 0 && !rc)
		rc = -errno;
	if (!rc)
		stat_fingerprint(&st, fp);
	return rc;
}

/* OUT's file copied into the staging directory's (its dir is open). */
static int carry_copy(struct pf_outwriter *w, const char *rel, int to,
		      const char *last, mode_t mode)
{
	char buf[65536];
	int in = out_open(w, rel), out = -1, rc = 0;

	if (in < 0)
		return in;
	out = openat(to, last, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		     O_CLOEXEC, 0600);
	if (out < 0 || fchmod(out, mode & 07777) != 0)
		rc = -errno;
	while (!rc) {
		ssize_t n = fs_read_some(in, buf, sizeof(buf));

		if (n <= 0) {
			rc = (int)n;
			break;
		}
		rc = fs_write_all(out, buf, (size_t)n);
	}
	if (!rc) {
		struct stat st;

		/* unchanged, mtime too */
		if (fstat(in, &st) == 0) {
			struct timespec ts[2] = { st.st_atim, st.st_mtim };

			(void)futimens(out, ts);
		}
	}
	if (out >= 0 && close(out) != 0 && !rc)
		rc = -errno;
	close(in);
	return rc;
}

int stage_carry(struct pf_outwriter *w, const char *rel,
		char fp[PF_FINGERPRINT_MAX])
{
	const char *from, *to;
	struct stat st;
	int ofd, sfd, rc = stage_make(w);

	if (rc)
		return rc;
	ofd = dircache_parent(&w->outdc, rel, &from);
	if (ofd < 0)
		return ofd;
	sfd = dircache_parent(&w->stagedc, rel, &to);
	if (sfd < 0)
		return sfd;
	if (fstatat(ofd, from, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;	/* changed since put: a race */
	/* linkat without AT_SYMLINK_FOLLOW: a symlink is never followed
	 * (a foreign one is carried as the link it is) */
	if (linkat(ofd, from, sfd, to, 0) != 0) {
		rc = -errno;
		if (S_ISREG(st.st_mode) &&
		    (rc == -EXDEV || rc == -EMLINK || rc == -EPERM))
			rc = carry_copy(w, rel, sfd, to, st.st_mode);
		if (rc)
			return rc;
	}
	/* link(2) changed the ctime: the fingerprint is taken after */
	if (fstatat(sfd, to, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return -errno;
	stat_fingerprint(&st, fp);
	return 0;
}

static int remove_in(int fd);

/* One entry of the directory fd, a directory emptied first. */
static int remove_entry(int fd, const char *name, unsigned char type)
{
	struct stat st;

	if (type == DT_UNKNOWN) {
		if (fstatat(fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			return errno == ENOENT ? 0 : -errno;
		type = S_ISDIR(st.st_mode) ? DT_DIR : DT_REG;
	}
	if (type == DT_DIR) {
		int sub = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
				 O_CLOEXEC);
		int rc = sub < 0 ? -errno : remove_in(sub);

		if (rc)
			return rc;
		return unlinkat(fd, name, AT_REMOVEDIR) && errno != ENOENT ?
		       -errno : 0;
	}
	return unlinkat(fd, name, 0) && errno != ENOENT ? -errno : 0;
}

/* Empties the directory fd (taken). */
static int remove_in(int fd)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;
	int rc = 0;

	if (!d) {
		rc = -errno;
		close(fd);
		return rc;
	}
	while (!rc && (errno = 0, de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		rc = remove_entry(dirfd(d), de->d_name, de->d_type);
	}
	if (!rc && errno)
		rc = -errno;
	closedir(d);
	return rc;
}

int tree_remove(int dirfd, const char *name)
{
	int rc = remove_entry(dirfd, name, DT_UNKNOWN);

	return rc == -ENOENT ? 0 : rc;
}

int stage_switch(struct pf_outwriter *w)
{
	const char *base = strrchr(w->stage, '/') + 1;
	int rc = 0;

	/* one sync for the whole tree, not one per file */
	if (syncfs(w->stagefd) != 0)
		return -errno;
	dircache_release(&w->stagedc);
	if (w->outfd < 0) {
		if (renameat(w->parentfd, base, w->parentfd, w->name) != 0)
			return -errno;
	} else if (renameat2(w->parentfd, base, w->parentfd, w->name,
			     RENAME_EXCHANGE) != 0) {
		rc = -errno;
		/* no way here to switch without a moment of no or a mixed OUT */
		return rc == -EINVAL || rc == -ENOSYS ? -EOPNOTSUPP : rc;
	}
	if (fsync(w->parentfd) != 0)
		return -errno;
	/* the old tree, now at the staging name */
	close(w->stagefd);
	w->stagefd = -1;
	dircache_release(&w->outdc);
	if (w->outfd >= 0)
		close(w->outfd);
	w->outfd = openat(w->parentfd, w->name, O_RDONLY | O_DIRECTORY |
			  O_NOFOLLOW | O_CLOEXEC);
	dircache_init(&w->outdc, w->outfd, false);
	/* the new OUT is complete and durable: a failure here costs space */
	(void)tree_remove(w->parentfd, base);
	return w->outfd < 0 ? -errno : 0;
}

int lock_out(struct pf_outwriter *w)
{
	char *name = NULL;
	int rc = 0;

	if (asprintf(&name, ".%s" PF_LOCK_SUFFIX, w->name) < 0)
		return -ENOMEM;
	w->lockfd = openat(w->parentfd, name, O_RDWR | O_CREAT | O_NOFOLLOW |
			   O_CLOEXEC, 0644);
	if (w->lockfd < 0) {
		rc = -errno;
		goto out;
	}
	if (flock(w->lockfd, LOCK_EX | LOCK_NB) == 0)
		goto out;
	if (errno != EWOULDBLOCK) {
		rc = -errno;
		goto out;
	}
	if (w->opts.note)
		w->opts.note(PF_OUTNOTE_WAITING, w->dir, w->opts.ctx);
	while (flock(w->lockfd, LOCK_EX) != 0)
		if (errno != EINTR) {
			rc = -errno;
			break;
		}
out:
	if (rc) {
		free(w->fail);
		w->fail = path_join(w->parent, name);
	}
	free(name);
	return rc;
}
