/* Cluster secret: creation (mode, never overwrite, nothing left behind),
 * loading (ssh's permission rule, exact size) and HMAC derivation. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pxeforge/lib/secret.h"

struct tmp {
	char dir[64];
	char cwd[PATH_MAX];
};

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A fresh directory per test, entered, removed afterwards. */
static int setup_tmp(void **state)
{
	struct tmp *t = calloc(1, sizeof(*t));

	if (!t || !getcwd(t->cwd, sizeof(t->cwd)))
		goto fail;
	strcpy(t->dir, "/tmp/pxeforge-secret-XXXXXX");
	if (!mkdtemp(t->dir) || chdir(t->dir) != 0)
		goto fail;
	*state = t;
	return 0;
fail:
	free(t);
	return -1;
}

static int teardown_tmp(void **state)
{
	struct tmp *t = *state;
	int rc = chdir(t->cwd);

	if (nftw(t->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		rc = -1;
	free(t);
	return rc;
}

/* Writes exactly these bytes with exactly this mode. */
static void put_file(const char *path, const void *data, size_t len,
		     mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

static size_t read_file(const char *path, unsigned char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, cap);
	assert_true(n >= 0);
	close(fd);
	return (size_t)n;
}

/* Entries of the current directory other than . and .. */
static int count_entries(void)
{
	DIR *d = opendir(".");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static mode_t file_mode(const char *path)
{
	struct stat st;

	assert_int_equal(lstat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	return st.st_mode & 07777;
}

static void test_create(void **state)
{
	unsigned char a[64], b[64];
	mode_t old = umask(0);

	(void)state;
	/* umask 0 must not widen the mode; under umask 0777 only an explicit
	 * fchmod gives 0600 */
	assert_int_equal(secret_create("cluster.key"), 0);
	umask(0777);
	assert_int_equal(secret_create("other.key"), 0);
	umask(old);
	assert_int_equal(file_mode("cluster.key"), 0600);
	assert_int_equal(file_mode("other.key"), 0600);
	assert_int_equal(read_file("cluster.key", a, sizeof(a)), PF_SECRET_LEN);
	assert_int_equal(read_file("other.key", b, sizeof(b)), PF_SECRET_LEN);
	/* random: two keys are equal with probability 2^-256 */
	assert_memory_not_equal(a, b, PF_SECRET_LEN);
	assert_int_equal(count_entries(), 2);

	assert_int_equal(mkdir("sub", 0755), 0);
	assert_int_equal(secret_create("sub/k"), 0);
	assert_int_equal(file_mode("sub/k"), 0600);
	assert_int_equal(secret_create("/no/such/dir/k"), -ENOENT);
	assert_int_equal(secret_create(""), -EINVAL);
	assert_int_equal(secret_create(NULL), -EINVAL);
}

static void test_create_refuses_existing(void **state)
{
	static const char old[] = "old content, not a key";
	unsigned char buf[64];

	(void)state;
	put_file("cluster.key", old, sizeof(old) - 1, 0644);
	assert_int_equal(secret_create("cluster.key"), -EEXIST);
	assert_int_equal(read_file("cluster.key", buf, sizeof(buf)), sizeof(old) - 1);
	assert_memory_equal(buf, old, sizeof(old) - 1);
	assert_int_equal(file_mode("cluster.key"), 0644);
	/* a dangling symlink is not followed to create its target */
	assert_int_equal(symlink("target.key", "link.key"), 0);
	assert_int_equal(secret_create("link.key"), -EEXIST);
	assert_int_equal(access("target.key", F_OK), -1);
	/* a directory */
	assert_int_equal(mkdir("d", 0700), 0);
	assert_int_equal(secret_create("d"), -EEXIST);
	/* no temp file left behind */
	assert_int_equal(count_entries(), 3);
}

/* link(2) itself fails after the temp file exists: it must be removed. */
static void test_create_failure_leaves_nothing(void **state)
{
	char name[NAME_MAX + 2];

	(void)state;
	memset(name, 'k', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(secret_create(name), -ENAMETOOLONG);
	assert_int_equal(count_entries(), 0);
}

static void test_load(void **state)
{
	unsigned char want[PF_SECRET_LEN], key[PF_SECRET_LEN];
	static const mode_t ok[] = { 0600, 0400 };

	(void)state;
	for (size_t i = 0; i < sizeof(want); i++)
		want[i] = (unsigned char)(0xa0 + i);
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		char path[32];

		snprintf(path, sizeof(path), "k%o", (unsigned)ok[i]);
		put_file(path, want, sizeof(want), ok[i]);
		memset(key, 0, sizeof(key));
		assert_int_equal(secret_load(path, key), 0);
		assert_memory_equal(key, want, sizeof(key));
	}
	/* symlinks are followed; the target's mode is what counts */
	assert_int_equal(symlink("k600", "link"), 0);
	memset(key, 0, sizeof(key));
	assert_int_equal(secret_load("link", key), 0);
	assert_memory_equal(key, want, sizeof(key));

	/* what secret_create writes, secret_load reads */
	assert_int_equal(secret_create("made.key"), 0);
	assert_int_equal(secret_load("made.key", key), 0);
	assert_int_equal(read_file("made.key", want, sizeof(want)), sizeof(want));
	assert_memory_equal(key, want, sizeof(key));
}

static void test_load_refuses_permissions(void **state)
{
	static const mode_t bad[] = { 0640, 0604, 0660, 0644, 0602, 0620, 0610,
				      0601, 0700 | 0004 };
	unsigned char zero[PF_SECRET_LEN] = { 0 }, key[PF_SECRET_LEN];
	unsigned char bytes[PF_SECRET_LEN];

	(void)state;
	memset(bytes, 0x5a, sizeof(bytes));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char path[32];

		snprintf(path, sizeof(path), "k%o", (unsigned)bad[i]);
		put_file(path, bytes, sizeof(bytes), bad[i]);
		memset(key, 0xee, sizeof(key));
		assert_int_equal(secret_load(path, key), -EPERM);
		/* nothing of the key is handed out on failure */
		assert_memory_equal(key, zero, sizeof(key));
	}
	assert_int_equal(symlink("k640", "link"), 0);
	assert_int_equal(secret_load("link", key), -EPERM);
}

static void test_load_refuses_shape(void **state)
{
	unsigned char bytes[PF_SECRET_LEN + 1], key[PF_SECRET_LEN];

	(void)state;
	memset(bytes, 0x33, sizeof(bytes));
	put_file("short", bytes, PF_SECRET_LEN - 1, 0600);
	put_file("long", bytes, PF_SECRET_LEN + 1, 0600);
	put_file("empty", bytes, 0, 0600);
	assert_int_equal(secret_load("short", key), -EINVAL);
	assert_int_equal(secret_load("long", key), -EINVAL);
	assert_int_equal(secret_load("empty", key), -EINVAL);
	assert_int_equal(mkdir("dir", 0700), 0);
	assert_int_equal(secret_load("dir", key), -EINVAL);
	assert_int_equal(mkfifo("fifo", 0600), 0);
	assert_int_equal(secret_load("fifo", key), -EINVAL);
	assert_int_equal(secret_load("missing", key), -ENOENT);
	assert_int_equal(secret_load("short/x", key), -ENOTDIR);
}

static void test_derive(void **state)
{
	unsigned char key[PF_SECRET_LEN], a[32], b[32];
	/* printf 'k3s-node-password\0node1' | openssl dgst -sha256 -mac HMAC \
	 *   -macopt hexkey:000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f */
	static const unsigned char want[32] = {
		0x82, 0x5e, 0x0f, 0x17, 0x56, 0x0a, 0x20, 0x0d,
		0xf9, 0x56, 0x84, 0x72, 0x01, 0x3c, 0x64, 0x25,
		0x94, 0x40, 0x54, 0xd5, 0xdd, 0xb3, 0xad, 0x72,
		0xe5, 0xf6, 0xb9, 0xfc, 0x96, 0xad, 0xbc, 0xda,
	};

	(void)state;
	for (size_t i = 0; i < sizeof(key); i++)
		key[i] = (unsigned char)i;
	assert_int_equal(secret_derive(key, "k3s-node-password", "node1", a), 0);
	assert_memory_equal(a, want, sizeof(want));
	assert_int_equal(secret_derive(key, "k3s-node-password", "node1", b), 0);
	assert_memory_equal(a, b, sizeof(a));

	assert_int_equal(secret_derive(key, "ssh-host-ed25519", "node1", b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(secret_derive(key, "k3s-node-password", "node2", b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	key[31] ^= 1;
	assert_int_equal(secret_derive(key, "k3s-node-password", "node1", b), 0);
	assert_memory_not_equal(a, b, sizeof(a));

	/* the 0x00 separator: where label ends and name begins matters */
	assert_int_equal(secret_derive(key, "ab", "c", a), 0);
	assert_int_equal(secret_derive(key, "a", "bc", b), 0);
	assert_memory_not_equal(a, b, sizeof(a));
	assert_int_equal(secret_derive(key, "abc", "", b), 0);
	assert_memory_not_equal(a, b, sizeof(a));

	assert_int_equal(secret_derive(key, NULL, "n", a), -EINVAL);
	assert_int_equal(secret_derive(key, "l", NULL, a), -EINVAL);
}

static void test_wipe(void **state)
{
	unsigned char buf[16], zero[16] = { 0 };

	(void)state;
	memset(buf, 0xff, sizeof(buf));
	secret_wipe(buf, sizeof(buf));
	assert_memory_equal(buf, zero, sizeof(buf));
	secret_wipe(NULL, 0);
}

/* The phrases follow "cluster secret 'PATH' ". */
static void test_problem(void **state)
{
	(void)state;
	assert_string_equal(secret_problem(-EPERM),
			    "is readable or writable by group or others; run 'chmod 600' on it");
	assert_string_equal(secret_problem(-EINVAL),
			    "is not a 32-byte key made by 'pxeforge secret init'");
	assert_string_equal(secret_problem(-ENOENT),
			    "does not exist; create it with 'pxeforge secret init'");
	assert_string_equal(secret_problem(-EACCES),
			    "cannot be read: Permission denied");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_create_refuses_existing,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_create_failure_leaves_nothing,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_refuses_permissions,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_load_refuses_shape,
						setup_tmp, teardown_tmp),
		cmocka_unit_test(test_derive),
		cmocka_unit_test(test_wipe),
		cmocka_unit_test(test_problem),
	};

	return cmocka_run_group_tests_name("secret", tests, NULL, NULL);
}
