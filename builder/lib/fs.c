#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/fs.h"

bool fs_bench_plain(void)
{
	static int plain = -1;

	if (plain < 0) {
		const char *v = getenv("PXEFORGE_BENCH_COPY");

		plain = v && !strcmp(v, "plain");
	}
	return plain;
}

ssize_t fs_read_some(int fd, void *buf, size_t len)
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

/* see fs_write_flushing */
#define FLUSH_EVERY (16 * 1024 * 1024)

int fs_write_flushing(int fd, const void *p, size_t len,
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

int fs_write_direct(int fd, bool *direct, const unsigned char *p,
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
	return len ? fs_write_flushing(fd, p, len, since_flush) : 0;
}

bool fs_set_direct(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (on && fs_bench_plain())
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

char *path_join(const char *dir, const char *rel)
{
	size_t dirlen = strlen(dir);
	const char *sep = dirlen && dir[dirlen - 1] == '/' ? "" : "/";
	char *full;

	return asprintf(&full, "%s%s%s", dir, sep, rel) < 0 ? NULL : full;
}
