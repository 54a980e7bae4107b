/* Output tree: path rules, manifest text, atomic and idempotent writes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/outtree.h"

#define SHA_ONE "2c8b08da5ce60398e1f19af0e5dccc744df274b826abe585eaba68c525434806"
#define SHA_TWO "27dd8ed44a83ff94d557f9fd0412ed5a8cbca69ea04922d88c01184a07300a5a"

static void add(struct pf_outtree *t, const char *path, const char *text,
		mode_t mode)
{
	assert_int_equal(outtree_add(t, path, text, strlen(text), mode), 0);
}

static int rm_entry(const char *path, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* A fresh temp dir per test, removed with everything in it afterwards. */
static int setup_tmp(void **state)
{
	char *dir = strdup("/tmp/pxeforge-outtree-XXXXXX");

	if (!dir || !mkdtemp(dir)) {
		free(dir);
		return -1;
	}
	*state = dir;
	return 0;
}

static int teardown_tmp(void **state)
{
	char *dir = *state;
	int rc = nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

	free(dir);
	return rc;
}

static char *join(const char *a, const char *b)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", a, b) >= 0);
	return p;
}

static char *slurp(const char *path)
{
	FILE *fp = fopen(path, "rb");
	char *data = NULL;
	size_t len = 0;

	assert_non_null(fp);
	assert_int_equal(getdelim(&data, &len, '\0', fp) >= 0 || feof(fp), 1);
	fclose(fp);
	if (!data)	/* empty file */
		data = strdup("");
	assert_non_null(data);
	return data;
}

static void assert_file(const char *dir, const char *rel, const char *want,
			mode_t mode)
{
	char *path = join(dir, rel);
	char *data = slurp(path);
	struct stat st;

	assert_string_equal(data, want);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
	free(data);
	free(path);
}

static void test_sha256(void **state)
{
	char hex[65];

	(void)state;
	assert_int_equal(sha256_hex("", 0, hex), 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(sha256_hex(NULL, 0, hex), 0);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(sha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void test_add_rejects(void **state)
{
	static const char *const bad[] = {
		"", "/etc/passwd", "a//b", "./a", "a/./b", "a/.", "..", ".",
		"../a", "a/../b", "a/..", "a/", "manifest.json",
		/* clash with files added below */
		"c4140/netboot.ipxe", "c4140", "c4140/netboot.ipxe/x",
	};
	struct pf_outtree t;

	(void)state;
	outtree_init(&t);
	add(&t, "c4140/netboot.ipxe", "x", 0644);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(outtree_add(&t, bad[i], "y", 1, 0644), -EINVAL);
	assert_int_equal(outtree_add(&t, NULL, "y", 1, 0644), -EINVAL);
	assert_int_equal(t.n, 1);
	/* Dots inside names and a prefix that is not a directory are fine. */
	add(&t, ".hidden", "", 0644);
	add(&t, "..x/y", "", 0644);
	add(&t, "c4140/netboot.ipxe.bak", "", 0644);
	add(&t, "c41400/a", "", 0644);
	add(&t, "kit/manifest.json", "", 0644);
	assert_int_equal(outtree_add(&t, "empty", NULL, 0, 0644), 0);
	assert_int_equal(t.n, 7);
	outtree_release(&t);
	outtree_release(&t);
	outtree_release(NULL);
}

static void test_add_copies_and_sort(void **state)
{
	char data[] = "abc";
	struct pf_outtree t;

	(void)state;
	outtree_init(&t);
	assert_int_equal(outtree_add(&t, "b", data, 3, 0644), 0);
	data[0] = 'X';
	add(&t, "a/c", "", 0644);
	add(&t, "a.txt", "", 0644);
	add(&t, "B", "", 0644);
	outtree_sort(&t);
	assert_string_equal(t.files[0].path, "B");
	assert_string_equal(t.files[1].path, "a.txt");
	assert_string_equal(t.files[2].path, "a/c");
	assert_string_equal(t.files[3].path, "b");
	assert_int_equal(t.files[3].len, 3);
	assert_memory_equal(t.files[3].data, "abc", 3);
	outtree_release(&t);
}

static void test_manifest(void **state)
{
	struct pf_outtree t;
	struct pf_buf out;

	(void)state;
	outtree_init(&t);
	add(&t, "z/two", "two\n", 0644);
	add(&t, "secret", "k3s-node-password\n", 0600);
	add(&t, "a/one", "one\n", 0644);
	buf_init(&out);
	assert_int_equal(manifest_render(&t, &out), 0);
	assert_string_equal(out.data,
		"{\n"
		"  \"files\": [\n"
		"    {\n"
		"      \"path\": \"a/one\",\n"
		"      \"sha256\": \"" SHA_ONE "\",\n"
		"      \"size\": 4\n"
		"    },\n"
		"    {\n"
		"      \"path\": \"z/two\",\n"
		"      \"sha256\": \"" SHA_TWO "\",\n"
		"      \"size\": 4\n"
		"    }\n"
		"  ]\n"
		"}\n");
	assert_null(strstr(out.data, "secret"));
	/* The tree itself keeps its order. */
	assert_string_equal(t.files[0].path, "z/two");
	assert_string_equal(t.files[2].path, "a/one");
	buf_release(&out);
	outtree_release(&t);

	outtree_init(&t);
	assert_int_equal(manifest_render(&t, &out), 0);
	assert_string_equal(out.data, "{\n  \"files\": []\n}\n");
	buf_release(&out);
}

/* manifest.json cannot carry a path that is not UTF-8. */
static void test_add_utf8(void **state)
{
	static const char *const bad[] = {
		"bad\xff", "\xc0\xaf", "a\xe2\x82", "\xed\xa0\x80", "\xf4\x90\x80\x80",
		"\xe0\x80\xaf", "\x80",
	};
	struct pf_outtree t;
	struct pf_buf out;

	(void)state;
	outtree_init(&t);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(outtree_add(&t, bad[i], "x", 1, 0644), -EINVAL);
	add(&t, "caf\xc3\xa9", "x", 0644);
	add(&t, "\xe2\x82\xac/\xf0\x9f\x90\xa7", "x", 0644);
	buf_init(&out);
	assert_int_equal(manifest_render(&t, &out), 0);
	assert_non_null(strstr(out.data, "\"path\": \"caf\xc3\xa9\""));
	buf_release(&out);
	outtree_release(&t);
}

static void sample_tree(struct pf_outtree *t, const char *netboot)
{
	outtree_init(t);
	add(t, "c4140/netboot.ipxe", netboot, 0644);
	add(t, "boot.ipxe", "#!ipxe\n", 0644);
	add(t, "c4140/secret", "hunter2\n", 0600);
	add(t, "c4140/modprobe.d/vfio.conf", "options vfio-pci ids=10de:1db1\n", 0644);
}

static const char *const sample_files[] = {
	"boot.ipxe", "c4140/netboot.ipxe", "c4140/secret",
	"c4140/modprobe.d/vfio.conf", "manifest.json",
};
#define NSAMPLE (sizeof(sample_files) / sizeof(sample_files[0]))

/* An old, exact mtime: a rewrite cannot keep it by accident. */
static const struct timespec old_time = { .tv_sec = 1000000000, .tv_nsec = 123 };

static void age_files(const char *dir)
{
	const struct timespec times[2] = { old_time, old_time };

	for (size_t i = 0; i < NSAMPLE; i++) {
		char *p = join(dir, sample_files[i]);

		assert_int_equal(utimensat(AT_FDCWD, p, times, 0), 0);
		free(p);
	}
}

static bool is_old(const char *dir, const char *rel)
{
	char *p = join(dir, rel);
	struct stat st;

	assert_int_equal(stat(p, &st), 0);
	free(p);
	return st.st_mtim.tv_sec == old_time.tv_sec &&
	       st.st_mtim.tv_nsec == old_time.tv_nsec;
}

static size_t count_tmp_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d))) {
		char *p;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (!strncmp(e->d_name, ".pxeforge-tmp-", 14))
			n++;
		p = join(dir, e->d_name);
		if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
			n += count_tmp_files(p);
		free(p);
	}
	closedir(d);
	return n;
}

static void test_write(void **state)
{
	const char *tmp = *state;
	char *dir = join(tmp, "out/nested");
	struct pf_outtree t;
	struct pf_buf manifest;
	char *failed = (char *)"unset";
	size_t written = 99;
	struct stat st;

	sample_tree(&t, "#!ipxe\nboot\n");
	assert_int_equal(outtree_write(&t, dir, &written, &failed), 0);
	assert_null(failed);
	assert_int_equal(written, 5);
	assert_int_equal(stat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_file(dir, "boot.ipxe", "#!ipxe\n", 0644);
	assert_file(dir, "c4140/netboot.ipxe", "#!ipxe\nboot\n", 0644);
	assert_file(dir, "c4140/secret", "hunter2\n", 0600);
	assert_file(dir, "c4140/modprobe.d/vfio.conf",
		    "options vfio-pci ids=10de:1db1\n", 0644);
	buf_init(&manifest);
	assert_int_equal(manifest_render(&t, &manifest), 0);
	assert_file(dir, "manifest.json", manifest.data, 0644);
	buf_release(&manifest);
	assert_int_equal(count_tmp_files(tmp), 0);

	/* Unchanged: nothing is rewritten, mtimes stay. */
	age_files(dir);
	assert_int_equal(outtree_write(&t, dir, &written, &failed), 0);
	assert_int_equal(written, 0);
	for (size_t i = 0; i < NSAMPLE; i++)
		assert_true(is_old(dir, sample_files[i]));
	outtree_release(&t);

	/* One file changed: that file and the manifest. */
	sample_tree(&t, "#!ipxe\nboot again\n");
	assert_int_equal(outtree_write(&t, dir, &written, &failed), 0);
	assert_int_equal(written, 2);
	assert_file(dir, "c4140/netboot.ipxe", "#!ipxe\nboot again\n", 0644);
	for (size_t i = 0; i < NSAMPLE; i++) {
		bool changed = !strcmp(sample_files[i], "c4140/netboot.ipxe") ||
			       !strcmp(sample_files[i], "manifest.json");

		assert_int_equal(is_old(dir, sample_files[i]), !changed);
	}
	outtree_release(&t);

	/* Only the mode changed: the file is rewritten, the manifest is not. */
	age_files(dir);
	sample_tree(&t, "#!ipxe\nboot again\n");
	t.files[1].mode = 0755;
	assert_int_equal(outtree_write(&t, dir, NULL, NULL), 0);
	assert_file(dir, "boot.ipxe", "#!ipxe\n", 0755);
	assert_false(is_old(dir, "boot.ipxe"));
	assert_true(is_old(dir, "manifest.json"));
	assert_int_equal(count_tmp_files(tmp), 0);
	outtree_release(&t);
	free(dir);
}

/* A symlink in place of a file is replaced, not written through. */
static void test_write_replaces_symlink(void **state)
{
	const char *tmp = *state;
	char *dir = join(tmp, "out");
	char *victim = join(tmp, "victim");
	char *link = join(dir, "boot.ipxe");
	struct pf_outtree t;
	size_t written;
	char *failed;
	char *data;
	FILE *fp;
	struct stat st;

	assert_int_equal(mkdir(dir, 0755), 0);
	fp = fopen(victim, "w");
	assert_non_null(fp);
	fputs("#!ipxe\n", fp);
	fclose(fp);
	assert_int_equal(symlink(victim, link), 0);
	outtree_init(&t);
	add(&t, "boot.ipxe", "#!ipxe\n", 0644);
	assert_int_equal(outtree_write(&t, dir, &written, &failed), 0);
	assert_int_equal(written, 2);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	data = slurp(victim);
	assert_string_equal(data, "#!ipxe\n");
	free(data);
	outtree_release(&t);
	free(link);
	free(victim);
	free(dir);
}

static void test_write_failures(void **state)
{
	const char *tmp = *state;
	char *file = join(tmp, "file");
	char *dir = join(file, "out");
	char *out2 = join(tmp, "out2");
	char *blocker = join(out2, "c4140");
	struct pf_outtree t;
	size_t written = 99;
	char *failed = NULL;
	FILE *fp;
	int rc;

	sample_tree(&t, "#!ipxe\n");
	fp = fopen(file, "w");
	assert_non_null(fp);
	fclose(fp);

	/* The output directory's parent is a regular file. */
	rc = outtree_write(&t, dir, &written, &failed);
	assert_true(rc == -ENOTDIR || rc == -EEXIST);
	assert_non_null(failed);
	assert_non_null(strstr(failed, "/file"));
	assert_int_equal(written, 0);
	free(failed);
	failed = NULL;

	/* A file inside the tree where a directory is needed: the files
	 * before it are in place, the manifest is not written. */
	assert_int_equal(mkdir(out2, 0755), 0);
	fp = fopen(blocker, "w");
	assert_non_null(fp);
	fclose(fp);
	rc = outtree_write(&t, out2, &written, &failed);
	assert_true(rc == -ENOTDIR || rc == -EEXIST);
	assert_non_null(failed);
	assert_string_equal(failed, blocker);
	assert_int_equal(written, 1);	/* boot.ipxe sorts first */
	assert_file(out2, "boot.ipxe", "#!ipxe\n", 0644);
	{
		char *m = join(out2, "manifest.json");

		assert_int_equal(access(m, F_OK), -1);
		free(m);
	}
	assert_int_equal(count_tmp_files(tmp), 0);
	free(failed);

	/* failed may be NULL. */
	assert_true(outtree_write(&t, dir, NULL, NULL) < 0);

	outtree_release(&t);
	free(blocker);
	free(out2);
	free(dir);
	free(file);
}

static void test_write_dir_forms(void **state)
{
	const char *tmp = *state;
	char *dir = join(tmp, "out3/");
	struct pf_outtree t;
	size_t written;
	char *failed = NULL;

	outtree_init(&t);
	add(&t, "a/b", "b\n", 0644);
	/* A trailing '/' on dir is fine. */
	assert_int_equal(outtree_write(&t, dir, &written, &failed), 0);
	assert_int_equal(written, 2);
	assert_file(dir, "a/b", "b\n", 0644);
	assert_int_equal(count_tmp_files(tmp), 0);
	/* An empty dir would mean the file system root. */
	assert_int_equal(outtree_write(&t, "", &written, &failed), -EINVAL);
	assert_non_null(failed);
	assert_int_equal(written, 0);
	free(failed);
	outtree_release(&t);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_add_rejects),
		cmocka_unit_test(test_add_copies_and_sort),
		cmocka_unit_test(test_manifest),
		cmocka_unit_test(test_add_utf8),
		cmocka_unit_test_setup_teardown(test_write, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_write_replaces_symlink,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_write_failures, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_write_dir_forms, setup_tmp,
						teardown_tmp),
	};

	return cmocka_run_group_tests_name("outtree", tests, NULL, NULL);
}
