/* Output tree: path rules, manifest text, atomic and idempotent writes. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ctype.h>
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

#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/lib/progress.h"
#include "pxeforge/out/outtree.h"
#include "tmpdir.h"

#define SHA_ONE "2c8b08da5ce60398e1f19af0e5dccc744df274b826abe585eaba68c525434806"
#define SHA_TWO "27dd8ed44a83ff94d557f9fd0412ed5a8cbca69ea04922d88c01184a07300a5a"

static void add(struct pf_outtree *t, const char *path, const char *text,
		mode_t mode)
{
	assert_int_equal(outtree_add(t, path, text, strlen(text), mode), 0);
}


/* path holds exactly text. */
static void put(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_true(fputs(text, fp) >= 0);
	assert_int_equal(fclose(fp), 0);
}

static void assert_file(const char *dir, const char *rel, const char *want,
			mode_t mode)
{
	char *path = join(dir, rel);
	char *data = slurp(path, NULL);
	struct stat st;

	assert_string_equal(data, want);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, mode);
	free(data);
	free(path);
}

static bool exists(const char *dir, const char *rel);

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
		".pxeforge-state.json", ".pxeforge-tmp-x", "a/.pxeforge-tmp-1",
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
	const char *tmp = *state;
	struct pf_outtree t;
	struct pf_buf out;
	char *m;

	outtree_init(&t);
	add(&t, "z/two", "two\n", 0644);
	add(&t, "secret", "k3s-node-password\n", 0600);
	add(&t, "a/one", "one\n", 0644);
	buf_init(&out);
	/* The sums come from writing: none yet. */
	assert_int_equal(manifest_render(&t, &out), -EINVAL);
	assert_int_equal(outtree_write(&t, tmp, NULL, NULL), 0);
	assert_true(t.files[0].summed && t.files[1].summed && t.files[2].summed);
	assert_string_equal(t.files[0].sum.sha256, SHA_TWO);
	assert_int_equal(t.files[0].sum.size, 4);
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
	m = join(tmp, "manifest.json");
	{
		char *text = slurp(m, NULL);

		assert_string_equal(text, out.data);
		free(text);
	}
	free(m);
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

	outtree_init(&t);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(outtree_add(&t, bad[i], "x", 1, 0644), -EINVAL);
	add(&t, "caf\xc3\xa9", "x", 0644);
	add(&t, "\xe2\x82\xac/\xf0\x9f\x90\xa7", "x", 0644);
	buf_init(&out);
	assert_int_equal(outtree_write(&t, *state, NULL, NULL), 0);
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
	"c4140/modprobe.d/vfio.conf", "manifest.json", ".pxeforge-state.json",
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
	struct pf_outstats ws;
	struct stat st;

	sample_tree(&t, "#!ipxe\nboot\n");
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), 0);
	assert_null(failed);
	assert_int_equal(ws.rewritten, 5);
	assert_int_equal(ws.files, 5);
	assert_int_equal(ws.removed, 0);
	/* One pass: each byte hashed once, the manifest's sums are the
	 * writer's (manifest.json and the state file are not hashed). */
	{
		uint64_t want = 0;

		for (size_t i = 0; i < t.n; i++)
			want += t.files[i].len;
		assert_int_equal(ws.hashed, want);
	}
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
	/* The state file (0600) remembers the secret's path and sum, and
	 * each file's stat fingerprint; the manifest lists no secret. */
	{
		char *p = join(dir, ".pxeforge-state.json");
		char *text = slurp(p, NULL);
		char sum[65];

		assert_int_equal(sha256_hex("hunter2\n", 8, sum), 0);
		assert_non_null(strstr(text, "\"path\": \"c4140/secret\""));
		assert_non_null(strstr(text, sum));
		assert_non_null(strstr(text, "\"stat\": "));
		free(text);
		free(p);
		p = join(dir, "manifest.json");
		text = slurp(p, NULL);
		assert_null(strstr(text, sum));
		free(text);
		free(p);
	}

	/* Unchanged: nothing is rewritten, mtimes stay. */
	age_files(dir);
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), 0);
	assert_int_equal(ws.rewritten, 0);
	/* (the state file is pxeforge's bookkeeping: the files' ctimes
	 * moved, so did their fingerprints) */
	for (size_t i = 0; i < NSAMPLE - 1; i++)
		assert_true(is_old(dir, sample_files[i]));
	outtree_release(&t);

	/* One file changed: that file and the manifest. */
	sample_tree(&t, "#!ipxe\nboot again\n");
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), 0);
	assert_int_equal(ws.rewritten, 2);
	assert_file(dir, "c4140/netboot.ipxe", "#!ipxe\nboot again\n", 0644);
	for (size_t i = 0; i < NSAMPLE; i++) {
		bool changed = !strcmp(sample_files[i], "c4140/netboot.ipxe") ||
			       !strcmp(sample_files[i], "manifest.json") ||
			       !strcmp(sample_files[i], ".pxeforge-state.json");

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
	struct pf_outstats ws;
	char *failed;
	char *data;
	struct stat st;

	assert_int_equal(mkdir(dir, 0755), 0);
	put(victim, "#!ipxe\n");
	assert_int_equal(symlink(victim, link), 0);
	outtree_init(&t);
	add(&t, "boot.ipxe", "#!ipxe\n", 0644);
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), 0);
	assert_int_equal(ws.rewritten, 2);
	assert_int_equal(lstat(link, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	data = slurp(victim, NULL);
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
	struct pf_outstats ws;
	char *failed = NULL;
	FILE *fp;
	int rc;

	sample_tree(&t, "#!ipxe\n");
	fp = fopen(file, "w");
	assert_non_null(fp);
	fclose(fp);

	/* The output directory's parent is a regular file. */
	rc = outtree_write(&t, dir, &ws, &failed);
	assert_true(rc == -ENOTDIR || rc == -EEXIST);
	assert_non_null(failed);
	assert_non_null(strstr(failed, "/file"));
	assert_int_equal(ws.rewritten, 0);
	free(failed);
	failed = NULL;

	/* A file pxeforge did not write where the tree needs a directory:
	 * never deleted, the build fails and OUT is as it was. */
	assert_int_equal(mkdir(out2, 0755), 0);
	fp = fopen(blocker, "w");
	assert_non_null(fp);
	fclose(fp);
	rc = outtree_write(&t, out2, &ws, &failed);
	assert_true(rc == -ENOTDIR || rc == -EEXIST);
	assert_non_null(failed);
	assert_string_equal(failed, blocker);
	assert_false(exists(out2, "boot.ipxe"));
	assert_true(exists(out2, "c4140"));
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
	struct pf_outstats ws;
	char *failed = NULL;

	outtree_init(&t);
	add(&t, "a/b", "b\n", 0644);
	/* A trailing '/' on dir is fine. */
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), 0);
	assert_int_equal(ws.rewritten, 2);
	assert_file(dir, "a/b", "b\n", 0644);
	assert_int_equal(count_tmp_files(tmp), 0);
	/* An empty dir would mean the file system root. */
	assert_int_equal(outtree_write(&t, "", &ws, &failed), -EINVAL);
	assert_non_null(failed);
	assert_int_equal(ws.rewritten, 0);
	free(failed);
	outtree_release(&t);
	free(dir);
}

static void write_text(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
}

static struct timespec mtime_of(const char *dir, const char *rel)
{
	char *p = join(dir, rel);
	struct stat st;

	assert_int_equal(lstat(p, &st), 0);
	free(p);
	return st.st_mtim;
}

static bool exists(const char *dir, const char *rel)
{
	char *p = join(dir, rel);
	struct stat st;
	bool there = lstat(p, &st) == 0;

	free(p);
	return there;
}

static void test_hashwrite_commit(void **state)
{
	const char *tmp = *state;
	char *target = join(tmp, "f");
	struct pf_hashwrite w;
	struct pf_filesum sum, known;
	char hex[65];
	bool replaced;
	uint64_t before;
	struct stat st;
	mode_t old_umask;

	/* fchmod, not the umask, sets the mode. */
	old_umask = umask(0077);
	assert_int_equal(hashwrite_open(&w, target, 0640), 0);
	umask(old_umask);
	assert_int_equal(count_tmp_files(tmp), 1);
	assert_int_equal(hashwrite_update(&w, "hello ", 6), 0);
	assert_int_equal(hashwrite_update(&w, "world\n", 6), 0);
	assert_int_equal(hashwrite_update(&w, NULL, 0), 0);
	assert_int_equal(hashwrite_commit(&w, NULL, &sum, &replaced), 0);
	assert_true(replaced);
	assert_int_equal(sum.size, 12);
	assert_int_equal(sha256_hex("hello world\n", 12, hex), 0);
	assert_string_equal(sum.sha256, hex);
	assert_file(tmp, "f", "hello world\n", 0640);
	assert_int_equal(count_tmp_files(tmp), 0);
	hashwrite_abort(&w);	/* ended: a no-op */

	/* The same bytes again: the temporary file is dropped. */
	{
		const struct timespec times[2] = { old_time, old_time };

		assert_int_equal(utimensat(AT_FDCWD, target, times, 0), 0);
	}
	assert_int_equal(hashwrite_open(&w, target, 0640), 0);
	assert_int_equal(hashwrite_update(&w, "hello world\n", 12), 0);
	assert_int_equal(hashwrite_commit(&w, NULL, &sum, &replaced), 0);
	assert_false(replaced);
	assert_true(is_old(tmp, "f"));
	assert_int_equal(count_tmp_files(tmp), 0);

	/* Same bytes, other mode: replaced. */
	assert_int_equal(hashwrite_open(&w, target, 0600), 0);
	assert_int_equal(hashwrite_update(&w, "hello world\n", 12), 0);
	assert_int_equal(hashwrite_commit(&w, NULL, &sum, &replaced), 0);
	assert_true(replaced);
	assert_file(tmp, "f", "hello world\n", 0600);

	/* known is trusted: the target is not read (only the 12 new bytes
	 * are hashed), so a claim that it holds them keeps it. */
	assert_int_equal(sha256_hex("HELLO WORLD\n", 12, known.sha256), 0);
	known.size = 12;
	before = hashwrite_hashed();
	assert_int_equal(hashwrite_open(&w, target, 0600), 0);
	assert_int_equal(hashwrite_update(&w, "HELLO WORLD\n", 12), 0);
	assert_int_equal(hashwrite_commit(&w, &known, &sum, &replaced), 0);
	assert_false(replaced);
	assert_int_equal(hashwrite_hashed() - before, 12);
	assert_file(tmp, "f", "hello world\n", 0600);
	/* Without it the target is hashed and found to differ. */
	assert_int_equal(hashwrite_open(&w, target, 0600), 0);
	assert_int_equal(hashwrite_update(&w, "HELLO WORLD\n", 12), 0);
	assert_int_equal(hashwrite_commit(&w, NULL, &sum, &replaced), 0);
	assert_true(replaced);
	assert_file(tmp, "f", "HELLO WORLD\n", 0600);

	/* Abort leaves the target as it was and no temporary file. */
	assert_int_equal(hashwrite_open(&w, target, 0644), 0);
	assert_int_equal(hashwrite_update(&w, "junk", 4), 0);
	hashwrite_abort(&w);
	hashwrite_abort(&w);
	hashwrite_abort(NULL);
	assert_file(tmp, "f", "HELLO WORLD\n", 0600);
	assert_int_equal(count_tmp_files(tmp), 0);

	/* No directory to put the temporary file in. */
	{
		char *nodir = join(tmp, "nodir/f");

		assert_int_equal(hashwrite_open(&w, nodir, 0644), -ENOENT);
		hashwrite_abort(&w);
		free(nodir);
	}
	assert_int_equal(stat(target, &st), 0);
	free(target);
}

static void test_hashwrite_buffer(void **state)
{
	const char *tmp = *state;
	char *target = join(tmp, "b");
	const struct timespec times[2] = { old_time, old_time };
	struct pf_filesum sum;
	struct stat dst, dst2;
	bool replaced;
	uint64_t before;

	assert_int_equal(hashwrite_buffer(target, "abc", 3, 0644, &sum,
					  &replaced), 0);
	assert_true(replaced);
	assert_string_equal(sum.sha256, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_int_equal(utimensat(AT_FDCWD, target, times, 0), 0);
	assert_int_equal(utimensat(AT_FDCWD, tmp, times, 0), 0);
	assert_int_equal(stat(tmp, &dst), 0);
	/* Unchanged: hashed once, compared, no temporary file made (the
	 * directory's mtime stays too). */
	before = hashwrite_hashed();
	assert_int_equal(hashwrite_buffer(target, "abc", 3, 0644, &sum,
					  &replaced), 0);
	assert_false(replaced);
	assert_int_equal(hashwrite_hashed() - before, 3);
	assert_true(is_old(tmp, "b"));
	assert_int_equal(stat(tmp, &dst2), 0);
	assert_int_equal(dst2.st_mtim.tv_sec, dst.st_mtim.tv_sec);
	assert_int_equal(dst2.st_mtim.tv_nsec, dst.st_mtim.tv_nsec);
	assert_int_equal(hashwrite_buffer(target, "abd", 3, 0644, &sum,
					  &replaced), 0);
	assert_true(replaced);
	assert_file(tmp, "b", "abd", 0644);
	assert_int_equal(hashwrite_buffer(target, "", 0, 0644, &sum,
					  &replaced), 0);
	assert_true(replaced);
	assert_int_equal(sum.size, 0);
	assert_string_equal(sum.sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(hashwrite_buffer(target, NULL, 1, 0644, &sum,
					  &replaced), -EINVAL);
	assert_int_equal(count_tmp_files(tmp), 0);
	free(target);
}

static void test_hashwrite_copy_fd(void **state)
{
	const char *tmp = *state;
	char *src = join(tmp, "src"), *dst = join(tmp, "dst");
	struct pf_hashwrite w;
	struct pf_filesum sum, want;
	uint64_t copied = 0;
	bool replaced;
	FILE *fp = fopen(src, "w");
	int fd;

	/* Not a multiple of the 64 KiB chunk. */
	assert_non_null(fp);
	for (int i = 0; i < 200000; i++)
		fputc((i * 7 + i / 1000) & 0xff, fp);
	assert_int_equal(fclose(fp), 0);
	fd = open(src, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(sha256_fd(fd, &want), 0);
	assert_int_equal(want.size, 200000);
	assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
	assert_int_equal(hashwrite_open(&w, dst, 0644), 0);
	assert_int_equal(hashwrite_copy_fd(&w, fd, &copied), 0);
	assert_int_equal(copied, 200000);
	assert_int_equal(hashwrite_commit(&w, NULL, &sum, &replaced), 0);
	assert_true(replaced);
	assert_int_equal(sum.size, 200000);
	assert_string_equal(sum.sha256, want.sha256);
	close(fd);
	{
		char *cmd;

		assert_true(asprintf(&cmd, "cmp -s '%s' '%s'", src, dst) > 0);
		assert_int_equal(system(cmd), 0);
		free(cmd);
	}
	/* A read error is the source's. */
	fd = open(tmp, O_RDONLY | O_DIRECTORY);
	assert_true(fd >= 0);
	assert_int_equal(hashwrite_open(&w, dst, 0644), 0);
	assert_int_equal(hashwrite_copy_fd(&w, fd, NULL), -EISDIR);
	assert_true(w.read_failed);
	hashwrite_abort(&w);
	close(fd);
	assert_int_equal(count_tmp_files(tmp), 0);
	free(src);
	free(dst);
}

#define BIG (200ull << 20)

/* A 200 MiB file, sparse but for a few marks, so it is quick to make. */
static void make_big(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)BIG), 0);
	for (uint64_t off = 0; off < BIG; off += 16ull << 20)
		assert_int_equal(pwrite(fd, "pxeforge", 8, (off_t)off), 8);
	assert_int_equal(close(fd), 0);
}

static void big_tree(struct pf_outtree *t, const char *src)
{
	outtree_init(t);
	assert_int_equal(outtree_add_file(t, "img/disk.raw", src, 0644), 0);
	add(t, "boot.ipxe", "#!ipxe\n", 0644);
}

static const char *const big_files[] = {
	"img/disk.raw", "boot.ipxe", "manifest.json", ".pxeforge-state.json",
};

static void snap_mtimes(const char *dir, struct timespec *ts)
{
	for (size_t i = 0; i < 4; i++)
		ts[i] = mtime_of(dir, big_files[i]);
}

static void assert_same_mtimes(const char *dir, const struct timespec *ts)
{
	struct timespec now[4];

	snap_mtimes(dir, now);
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(now[i].tv_sec, ts[i].tv_sec);
		assert_int_equal(now[i].tv_nsec, ts[i].tv_nsec);
	}
}

static void assert_cmp(const char *a, const char *b)
{
	char *cmd;

	assert_true(asprintf(&cmd, "cmp -s '%s' '%s'", a, b) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

/* From 1 MiB up the copy runs on three threads (read, write, hash): the
 * same digest and bytes as one thread, and a failing write neither hangs
 * nor goes unnoticed. */
static void test_hashwrite_copy_fd_threaded(void **state)
{
	/* threaded; from 16 MiB also O_DIRECT, with and without a tail that
	 * is not a multiple of 4 KiB (nor of a slot) */
	static const size_t lens[] = { (3u << 20) + 12345, 17u << 20,
				       (17u << 20) + 12345 };
	const char *tmp = *state;
	char *src = join(tmp, "src"), *dst = join(tmp, "dst");
	unsigned char *data = malloc(lens[2]);

	assert_non_null(data);
	for (size_t i = 0; i < lens[2]; i++)
		data[i] = (unsigned char)(i * 131 + i / 4093);
	for (size_t k = 0; k < 3; k++) {
		struct pf_hashwrite w;
		struct pf_filesum sum;
		char want[65];
		uint64_t copied = 0;
		bool replaced;
		int fd;

		assert_int_equal(sha256_hex(data, lens[k], want), 0);
		fd = open(src, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		assert_true(fd >= 0);
		assert_int_equal(fs_write_all(fd, data, lens[k]), 0);
		assert_int_equal(close(fd), 0);
		fd = open(src, O_RDONLY);
		assert_true(fd >= 0);
		assert_int_equal(hashwrite_open(&w, dst, 0644), 0);
		assert_int_equal(hashwrite_copy_fd(&w, fd, &copied), 0);
		assert_int_equal(copied, lens[k]);
		/* O_DIRECT is off again for whatever comes after */
		assert_int_equal(fcntl(w.fd, F_GETFL) & O_DIRECT, 0);
		assert_int_equal(hashwrite_commit(&w, NULL, &sum, &replaced), 0);
		assert_true(replaced);
		assert_int_equal(sum.size, lens[k]);
		assert_string_equal(sum.sha256, want);
		assert_cmp(src, dst);
		/* The writer fails (ENOSPC from /dev/full): reported as such,
		 * and not as the source's fault. */
		assert_int_equal(lseek(fd, 0, SEEK_SET), 0);
		assert_int_equal(hashwrite_open(&w, dst, 0644), 0);
		assert_int_equal(close(w.fd), 0);
		w.fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
		assert_true(w.fd >= 0);
		assert_int_equal(hashwrite_copy_fd(&w, fd, NULL), -ENOSPC);
		assert_false(w.read_failed);
		hashwrite_abort(&w);
		close(fd);
	}
	assert_int_equal(count_tmp_files(tmp), 0);
	free(data);
	free(src);
	free(dst);
}

/* hashwrite_direct: bytes given in pieces of any size gather into 1 MiB
 * and are written past the page cache where the file system allows it;
 * the same file and digest as without, tails and empty files too, and a
 * failing write is reported. */
static void test_hashwrite_direct(void **state)
{
	static const size_t lens[] = { 0, 1, 4096, 1u << 20, (1u << 20) + 1,
				       (3u << 20) + 12345 };
	const size_t piece[] = { 7919, 2u << 20, 1 };
	const size_t max = lens[sizeof(lens) / sizeof(lens[0]) - 1];
	const char *tmp = *state;
	char *dst = join(tmp, "dst");
	unsigned char *data = malloc(max);
	/* where the file system takes O_DIRECT, the writer must use it */
	int probe = open(dst, O_WRONLY | O_CREAT | O_DIRECT, 0644);
	bool direct_fs = probe >= 0;

	if (probe >= 0) {
		close(probe);
		assert_int_equal(unlink(dst), 0);
	}
	assert_non_null(data);
	for (size_t i = 0; i < max; i++)
		data[i] = (unsigned char)(i * 131 + i / 4093);
	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		struct pf_hashwrite w;
		struct pf_filesum sum;
		char want[65];
		size_t off = 0, len;
		bool replaced;
		char *got;

		assert_int_equal(sha256_hex(data, lens[k], want), 0);
		assert_int_equal(hashwrite_open(&w, dst, 0644), 0);
		assert_int_equal(hashwrite_direct(&w), 0);
		assert_int_equal(w.direct, direct_fs);
		assert_int_equal(!!(fcntl(w.fd, F_GETFL) & O_DIRECT), w.direct);
		for (size_t p = 0; off < lens[k]; p++) {
			size_t n = piece[p % 3];

			if (n > lens[k] - off)
				n = lens[k] - off;
			assert_int_equal(hashwrite_update(&w, data + off, n), 0);
			off += n;
		}
		/* whole stages went out aligned: still direct */
		assert_int_equal(w.direct, direct_fs);
		assert_int_equal(hashwrite_commit(&w, NULL, &sum, &replaced), 0);
		assert_int_equal(sum.size, lens[k]);
		assert_string_equal(sum.sha256, want);
		got = slurp(dst, &len);
		assert_int_equal(len, lens[k]);
		assert_memory_equal(got, data, len);
		free(got);
		assert_int_equal(unlink(dst), 0);
	}
	{
		/* ENOSPC (/dev/full) from a full stage, and from the tail */
		struct pf_hashwrite w;
		struct pf_filesum sum;
		bool replaced;

		for (int tail = 0; tail < 2; tail++) {
			assert_int_equal(hashwrite_open(&w, dst, 0644), 0);
			assert_int_equal(close(w.fd), 0);
			w.fd = open("/dev/full", O_WRONLY | O_CLOEXEC);
			assert_true(w.fd >= 0);
			assert_int_equal(hashwrite_direct(&w), 0);
			assert_int_equal(hashwrite_update(&w, data, tail ? 5 :
							  1u << 20), tail ? 0 : -ENOSPC);
			if (tail)
				assert_int_equal(hashwrite_commit(&w, NULL, &sum,
								  &replaced), -ENOSPC);
			hashwrite_abort(&w);
		}
	}
	assert_int_equal(count_tmp_files(tmp), 0);
	free(data);
	free(dst);
}

/* The incremental contract with a large streamed file: read once when
 * new, not at all when unchanged, once when only touched. */
static void test_stream_incremental(void **state)
{
	const char *tmp = *state;
	char *src = join(tmp, "disk.raw"), *dir = join(tmp, "out");
	char *out = join(dir, "img/disk.raw");
	struct pf_outstats first, ws;
	struct pf_outtree t;
	struct pf_filesum want;
	struct timespec ts[4];
	char *failed = NULL;
	int fd;

	make_big(src);
	fd = open(src, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(sha256_fd(fd, &want), 0);
	close(fd);

	big_tree(&t, src);
	assert_int_equal(outtree_write(&t, dir, &first, &failed), 0);
	assert_int_equal(first.rewritten, 3);
	assert_true(first.hashed >= BIG && first.hashed < BIG + 65536);
	assert_cmp(src, out);
	assert_string_equal(t.files[0].sum.sha256, want.sha256);
	assert_int_equal(t.files[0].sum.size, BIG);
	{
		char *m = join(dir, "manifest.json"), *text = slurp(m, NULL);

		assert_non_null(strstr(text, want.sha256));
		free(text);
		free(m);
	}
	outtree_release(&t);
	snap_mtimes(dir, ts);

	/* Unchanged: nothing rewritten, every mtime kept, and the big file
	 * is not read at all (only the small files are hashed). */
	big_tree(&t, src);
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), 0);
	assert_int_equal(ws.rewritten, 0);
	assert_true(ws.hashed < 65536);
	assert_true(ws.hashed * 3 < first.hashed);
	assert_same_mtimes(dir, ts);
	assert_string_equal(t.files[0].sum.sha256, want.sha256);
	outtree_release(&t);

	/* The source touched, same bytes: read once, the output (known from
	 * the state file) not read, nothing rewritten. */
	{
		const struct timespec times[2] = { old_time, old_time };

		assert_int_equal(utimensat(AT_FDCWD, src, times, 0), 0);
	}
	big_tree(&t, src);
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), 0);
	assert_int_equal(ws.rewritten, 0);
	assert_true(ws.hashed >= BIG && ws.hashed < BIG + 65536);
	assert_int_equal(mtime_of(dir, "img/disk.raw").tv_sec, ts[0].tv_sec);
	assert_int_equal(mtime_of(dir, "img/disk.raw").tv_nsec, ts[0].tv_nsec);
	assert_int_equal(count_tmp_files(dir), 0);
	outtree_release(&t);

	/* One byte of the source changed: the file and the manifest. */
	fd = open(src, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "X", 1, 100 << 20), 1);
	close(fd);
	big_tree(&t, src);
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), 0);
	assert_int_equal(ws.rewritten, 2);
	assert_cmp(src, out);
	assert_string_not_equal(t.files[0].sum.sha256, want.sha256);
	outtree_release(&t);

	/* The output changed behind pxeforge's back: written again. */
	fd = open(out, O_WRONLY);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, "Y", 1, 5), 1);
	close(fd);
	big_tree(&t, src);
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), 0);
	assert_int_equal(ws.rewritten, 1);
	assert_cmp(src, out);
	outtree_release(&t);

	free(out);
	free(dir);
	free(src);
}

/* A pinned source is checked again as it is copied: bytes that are not
 * the pinned ones never land in OUT, also when the state says the
 * source is unchanged. */
static void test_stream_pinned(void **state)
{
	const char *tmp = *state;
	char *dir = join(tmp, "out"), *src = join(tmp, "src");
	char *dst = join(dir, "img/x"), *old;
	static const char good[] = "the pinned bytes\n";
	char pin[65], other[65];
	struct pf_outtree t;
	struct pf_outstats ws;
	char *failed = NULL;

	assert_int_equal(sha256_hex(good, strlen(good), pin), 0);
	assert_int_equal(sha256_hex("x", 1, other), 0);
	put(src, good);
	outtree_init(&t);
	assert_int_equal(outtree_add_pinned(&t, "img/x", src, 0644, "ABC"),
			 -EINVAL);
	assert_int_equal(outtree_add_pinned(&t, "img/x", src, 0644, pin), 0);
	assert_int_equal(outtree_write(&t, dir, &ws, NULL), 0);
	old = slurp(dst, NULL);
	assert_string_equal(old, good);
	outtree_release(&t);
	/* The same pin in upper case (the profile takes either): the same
	 * content, kept as it is. */
	{
		char upper[65];

		for (int i = 0; i < 65; i++)
			upper[i] = (char)toupper((unsigned char)pin[i]);
		outtree_init(&t);
		assert_int_equal(outtree_add_pinned(&t, "img/x", src, 0644,
						    upper), 0);
		assert_string_equal(t.files[0].pin, pin);
		assert_int_equal(outtree_write(&t, dir, &ws, NULL), 0);
		assert_int_equal(ws.rewritten, 0);
		assert_string_equal(t.files[0].sum.sha256, pin);
		outtree_release(&t);
	}
	/* The same source, another pin: not skipped, not written. */
	outtree_init(&t);
	assert_int_equal(outtree_add_pinned(&t, "img/x", src, 0644, other), 0);
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), -EBADMSG);
	assert_true(ws.source_failed);
	assert_string_equal(failed, src);
	assert_string_equal(ws.pin_want, other);
	assert_string_equal(ws.pin_got, pin);
	free(failed);
	free(old);
	old = slurp(dst, NULL);
	assert_string_equal(old, good);
	assert_int_equal(count_tmp_files(dir), 0);
	assert_int_equal(count_tmp_files(tmp), 0);
	outtree_release(&t);
	/* Changed after it was checked: the copy in OUT stays the old one. */
	put(src, "other bytes\n");
	outtree_init(&t);
	assert_int_equal(outtree_add_pinned(&t, "img/x", src, 0644, pin), 0);
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), -EBADMSG);
	free(failed);
	free(old);
	old = slurp(dst, NULL);
	assert_string_equal(old, good);
	outtree_release(&t);
	free(old);
	free(dst);
	free(src);
	free(dir);
}

/* Pinned copies wait until every one matched: one wrong pin installs
 * none, and a first build that fails so leaves no OUT (nor the parents it
 * made). */
static void test_stream_pinned_all_or_none(void **state)
{
	const char *tmp = *state;
	char *top = join(tmp, "new"), *dir = join(top, "out");
	char *a = join(tmp, "a"), *b = join(tmp, "b"), *old;
	char pa[65], pb[65], bad[65];
	struct pf_outtree t;
	struct pf_outstats ws;
	char *failed = NULL;

	put(a, "aaa\n");
	put(b, "bbb\n");
	assert_int_equal(sha256_hex("aaa\n", 4, pa), 0);
	assert_int_equal(sha256_hex("bbb\n", 4, pb), 0);
	assert_int_equal(sha256_hex("zzz\n", 4, bad), 0);
	outtree_init(&t);
	assert_int_equal(outtree_add_pinned(&t, "h/a", a, 0644, pa), 0);
	assert_int_equal(outtree_add_pinned(&t, "h/b", b, 0644, bad), 0);
	add(&t, "boot.ipxe", "#!ipxe\n", 0644);
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), -EBADMSG);
	assert_string_equal(failed, b);
	free(failed);
	assert_int_equal(access(top, F_OK), -1);	/* nothing left */
	assert_int_equal(count_tmp_files(tmp), 0);
	outtree_release(&t);
	/* Written once, then a new a (fine) and a wrong b: a stays old. */
	outtree_init(&t);
	assert_int_equal(outtree_add_pinned(&t, "h/a", a, 0644, pa), 0);
	assert_int_equal(outtree_add_pinned(&t, "h/b", b, 0644, pb), 0);
	assert_int_equal(outtree_write(&t, dir, &ws, NULL), 0);
	outtree_release(&t);
	put(a, "AAA\n");
	assert_int_equal(sha256_hex("AAA\n", 4, pa), 0);
	outtree_init(&t);
	assert_int_equal(outtree_add_pinned(&t, "h/a", a, 0644, pa), 0);
	assert_int_equal(outtree_add_pinned(&t, "h/b", b, 0644, bad), 0);
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), -EBADMSG);
	free(failed);
	free(a);
	a = join(dir, "h/a");
	old = slurp(a, NULL);
	assert_string_equal(old, "aaa\n");
	assert_int_equal(count_tmp_files(dir), 0);
	outtree_release(&t);
	free(old);
	free(a);
	free(b);
	free(dir);
	free(top);
}

static void test_stream_errors(void **state)
{
	const char *tmp = *state;
	char *dir = join(tmp, "out"), *src = join(tmp, "nope");
	struct pf_outtree t;
	struct pf_outstats ws;
	char *failed = NULL;

	outtree_init(&t);
	assert_int_equal(outtree_add_file(&t, "a", NULL, 0644), -EINVAL);
	assert_int_equal(outtree_add_file(&t, "a", "", 0644), -EINVAL);
	assert_int_equal(outtree_add_file(&t, "../a", src, 0644), -EINVAL);
	assert_int_equal(outtree_add_file(&t, "manifest.json", src, 0644),
			 -EINVAL);
	assert_int_equal(outtree_add_file(&t, "a", src, 0644), 0);
	assert_int_equal(outtree_add_file(&t, "a", src, 0644), -EINVAL);
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), -ENOENT);
	assert_true(ws.source_failed);
	assert_string_equal(failed, src);
	free(failed);
	assert_false(exists(dir, "manifest.json"));
	outtree_release(&t);

	/* A directory is no source. */
	outtree_init(&t);
	assert_int_equal(outtree_add_file(&t, "a", tmp, 0644), 0);
	assert_int_equal(outtree_write(&t, dir, &ws, &failed), -EINVAL);
	assert_true(ws.source_failed);
	assert_string_equal(failed, tmp);
	free(failed);
	assert_int_equal(count_tmp_files(tmp), 0);
	outtree_release(&t);
	free(src);
	free(dir);
}

/* Files of an earlier build that this one does not make are removed:
 * listed in the manifest, or (secrets, streamed files) in the state. */
static void test_stale(void **state)
{
	const char *tmp = *state;
	char *dir = join(tmp, "out"), *src = join(tmp, "src");
	char *p;
	struct pf_outtree t;
	struct pf_outstats ws;

	write_text(src, "streamed\n");
	outtree_init(&t);
	add(&t, "a/x", "x\n", 0644);
	add(&t, "keep", "k\n", 0644);
	add(&t, "s", "secret\n", 0600);
	add(&t, "deep/er/f", "f\n", 0644);
	assert_int_equal(outtree_add_file(&t, "img", src, 0644), 0);
	assert_int_equal(outtree_write(&t, dir, &ws, NULL), 0);
	outtree_release(&t);
	assert_true(exists(dir, ".pxeforge-state.json"));
	/* What pxeforge never wrote stays, even in its directories. */
	p = join(dir, "mine");
	write_text(p, "mine\n");
	free(p);
	p = join(dir, "a/user");
	write_text(p, "user\n");
	free(p);

	outtree_init(&t);
	add(&t, "keep", "k\n", 0644);
	assert_int_equal(outtree_write(&t, dir, &ws, NULL), 0);
	assert_int_equal(ws.removed, 4);
	assert_int_equal(ws.rewritten, 1);	/* the manifest */
	outtree_release(&t);
	assert_false(exists(dir, "a/x"));
	assert_false(exists(dir, "s"));
	assert_false(exists(dir, "img"));
	assert_false(exists(dir, "deep"));	/* left empty: removed */
	assert_true(exists(dir, "a/user"));
	assert_true(exists(dir, "mine"));
	assert_true(exists(dir, "keep"));
	/* The state file has only keep's fingerprint left to say. */
	{
		char *text = slurp(p = join(dir, ".pxeforge-state.json"), NULL);

		assert_null(strstr(text, "\"s\""));
		assert_null(strstr(text, "img"));
		assert_non_null(strstr(text, "\"keep\""));
		free(text);
		free(p);
	}
	assert_int_equal(access(src, F_OK), 0);	/* a source is never ours */

	/* A file may become a directory and back. */
	outtree_init(&t);
	add(&t, "keep", "k\n", 0644);
	add(&t, "a/user/f", "now a directory\n", 0644);
	assert_int_equal(outtree_write(&t, dir, &ws, NULL), -ENOTDIR);
	outtree_release(&t);
	outtree_init(&t);
	add(&t, "keep/f", "now a directory\n", 0644);
	assert_int_equal(outtree_write(&t, dir, &ws, NULL), 0);
	assert_int_equal(ws.removed, 1);
	assert_file(dir, "keep/f", "now a directory\n", 0644);
	outtree_release(&t);
	outtree_init(&t);
	add(&t, "keep", "k\n", 0644);
	assert_int_equal(outtree_write(&t, dir, &ws, NULL), 0);
	assert_file(dir, "keep", "k\n", 0644);
	outtree_release(&t);
	free(src);
	free(dir);
}

/* Removing never follows a symlink out of the tree, and a manifest that
 * is not pxeforge's removes nothing. */
static void test_stale_no_follow(void **state)
{
	const char *tmp = *state;
	char *dir = join(tmp, "out"), *victim = join(tmp, "victim");
	char *p, *q;
	struct pf_outtree t;
	struct pf_outstats ws;

	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(mkdir(victim, 0755), 0);
	p = join(victim, "f");
	write_text(p, "victim\n");
	free(p);
	p = join(dir, "d");
	assert_int_equal(symlink(victim, p), 0);
	free(p);
	p = join(dir, "l");
	q = join(victim, "f");
	assert_int_equal(symlink(q, p), 0);
	free(q);
	free(p);
	p = join(dir, "manifest.json");
	write_text(p, "{\"files\": ["
		   "{\"path\": \"d/f\", \"sha256\": \"" SHA_ONE "\", \"size\": 4},"
		   "{\"path\": \"l\", \"sha256\": \"" SHA_ONE "\", \"size\": 4}]}");
	free(p);
	outtree_init(&t);
	add(&t, "keep", "k\n", 0644);
	assert_int_equal(outtree_write(&t, dir, &ws, NULL), 0);
	assert_int_equal(ws.removed, 1);	/* the link l itself */
	assert_false(exists(dir, "l"));
	assert_true(exists(dir, "d"));
	assert_true(exists(victim, "f"));

	/* Not pxeforge's manifest (a path leaving the tree): ignored whole. */
	p = join(dir, "manifest.json");
	write_text(p, "{\"files\": ["
		   "{\"path\": \"keep2\", \"sha256\": \"" SHA_ONE "\", \"size\": 4},"
		   "{\"path\": \"../victim/f\", \"sha256\": \"" SHA_ONE "\", \"size\": 4}]}");
	free(p);
	p = join(dir, "keep2");
	write_text(p, "keep2\n");
	free(p);
	assert_int_equal(outtree_write(&t, dir, &ws, NULL), 0);
	assert_int_equal(ws.removed, 0);
	assert_true(exists(dir, "keep2"));
	assert_true(exists(victim, "f"));
	/* Nor is text that is not JSON. */
	p = join(dir, "manifest.json");
	write_text(p, "keep2\n");
	free(p);
	assert_int_equal(outtree_write(&t, dir, &ws, NULL), 0);
	assert_int_equal(ws.removed, 0);
	assert_true(exists(dir, "keep2"));
	outtree_release(&t);
	free(victim);
	free(dir);
}

/* A generator: target = src upper-cased, through the hashing writer. */
static int gen_calls;
static char *gen_src;	/* what the last call read */

static int gen_upper(void *ctx, const char *src, const char *target,
		     mode_t mode, struct pf_filesum *sum, bool *replaced,
		     char **failed)
{
	struct pf_hashwrite hw;
	char *data = slurp(src, NULL);
	int rc;

	(void)failed;
	gen_calls++;
	free(gen_src);
	gen_src = strdup(src);
	assert_string_equal(ctx, "ctx");
	for (char *c = data; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	rc = hashwrite_open(&hw, target, mode);
	if (!rc)
		rc = hashwrite_update(&hw, data, strlen(data));
	if (!rc)
		rc = hashwrite_commit(&hw, NULL, sum, replaced);
	else
		hashwrite_abort(&hw);
	free(data);
	return rc;
}

/* "vm/in.txt" streamed from src (pinned to pin, when not NULL), and
 * "vm/up.txt" that gen_upper makes from it (sorted before it, made after
 * it). */
static int gen_build(const char *dir, const char *src, const char *pin,
		     const char *recipe, size_t rewritten)
{
	struct pf_outtree t;
	struct pf_outstats st;
	char *failed = NULL;
	int rc;

	outtree_init(&t);
	assert_int_equal(outtree_add_gen(&t, "vm/a-up.txt", "vm/in.txt", recipe,
					 0644, gen_upper, "ctx"), 0);
	assert_int_equal(outtree_add_pinned(&t, "vm/in.txt", src, 0644, pin), 0);
	rc = outtree_write(&t, dir, &st, &failed);
	if (!rc) {
		assert_null(failed);
		assert_int_equal(st.rewritten, rewritten);
	}
	free(failed);
	outtree_release(&t);
	return rc;
}

/* A gen reads OUT's copy of the tree's file, after it is in place: the
 * source is read once, and a pinned one only once it matched. */
static void test_gen_incremental(void **state)
{
	const char *dir = *state;
	char *out = join(dir, "out"), *src = join(dir, "in.txt");
	char *in_out = join(out, "vm/in.txt"), *x = join(dir, "x");
	char one[65], two[65];
	struct pf_outtree t;
	char *failed = NULL;

	assert_int_equal(sha256_hex("one\n", 4, one), 0);
	assert_int_equal(sha256_hex("two\n", 4, two), 0);
	write_text(src, "one\n");
	gen_calls = 0;
	assert_int_equal(gen_build(out, src, one, "upper v1", 3), 0);
	assert_int_equal(gen_calls, 1);
	/* the staged copy, beside OUT, the one OUT will have */
	assert_non_null(strstr(gen_src, "/.out.pxeforge-stage/vm/in.txt"));
	assert_file(out, "vm/a-up.txt", "ONE\n", 0644);
	/* unchanged source, recipe and output: not made again */
	assert_int_equal(gen_build(out, src, one, "upper v1", 0), 0);
	assert_int_equal(gen_calls, 1);
	/* another recipe (an option changed): made again, same bytes kept */
	assert_int_equal(gen_build(out, src, one, "upper v2", 0), 0);
	assert_int_equal(gen_calls, 2);
	/* a changed source whose pin is still the old one: nothing made */
	write_text(src, "two\n");
	assert_int_equal(gen_build(out, src, one, "upper v2", 0), -EBADMSG);
	assert_int_equal(gen_calls, 2);
	assert_file(out, "vm/a-up.txt", "ONE\n", 0644);
	/* and with its pin: made from the new copy */
	assert_int_equal(gen_build(out, src, two, "upper v2", 3), 0);
	assert_int_equal(gen_calls, 3);
	assert_file(out, "vm/a-up.txt", "TWO\n", 0644);
	/* rejected: no recipe, no generator, a from that is no tree path */
	outtree_init(&t);
	assert_int_equal(outtree_add_gen(&t, "a", "b", NULL, 0644, gen_upper,
					 NULL), -EINVAL);
	assert_int_equal(outtree_add_gen(&t, "a", "b", "r", 0644, NULL, NULL),
			 -EINVAL);
	assert_int_equal(outtree_add_gen(&t, "a", "/b", "r", 0644, gen_upper,
					 NULL), -EINVAL);
	assert_int_equal(t.n, 0);
	/* a from the tree lacks, or made by a gen: nothing is written, not
	 * even OUT */
	assert_int_equal(outtree_add_gen(&t, "a", "b", "r", 0644, gen_upper,
					 "ctx"), 0);
	assert_int_equal(outtree_write(&t, x, NULL, &failed), -EINVAL);
	free(failed);
	assert_int_equal(outtree_add_gen(&t, "b", "a", "r", 0644, gen_upper,
					 "ctx"), 0);
	assert_int_equal(outtree_write(&t, x, NULL, &failed), -EINVAL);
	free(failed);
	assert_int_equal(access(x, F_OK), -1);
	assert_int_equal(gen_calls, 3);
	outtree_release(&t);
	free(gen_src);
	gen_src = NULL;
	free(x);
	free(in_out);
	free(out);
	free(src);
}

/* out/ only reports copies: the caller's start function is called for
 * each file read from its source (label and size), and not for one left
 * unchanged (not read at all) or held in memory. */
static int starts;
static uint64_t start_total;
static char start_label[64];

static void count_start(struct pf_progress *bar, const char *label,
			uint64_t total)
{
	starts++;
	start_total = total;
	snprintf(start_label, sizeof(start_label), "%s", label);
	progress_begin(bar, false, stderr, label, 0);
}

static void test_progress_caller(void **state)
{
	const char *tmp = *state;
	char *dir = join(tmp, "out"), *src = join(tmp, "src");
	struct pf_outtree t;

	put(src, "0123456789");
	for (int round = 0; round < 2; round++) {
		outtree_init(&t);
		assert_null(t.progress);
		t.progress = count_start;
		assert_int_equal(outtree_add(&t, "a.txt", "x", 1, 0644), 0);
		assert_int_equal(outtree_add_file(&t, "img/src", src, 0644), 0);
		assert_int_equal(outtree_write(&t, dir, NULL, NULL), 0);
		outtree_release(&t);
	}
	assert_int_equal(starts, 1);	/* the second round read nothing */
	assert_int_equal(start_total, 10);
	assert_string_equal(start_label, "img/src");
	free(dir);
	free(src);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_add_rejects),
		cmocka_unit_test(test_add_copies_and_sort),
		cmocka_unit_test_setup_teardown(test_manifest, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_add_utf8, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_write, setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_write_replaces_symlink,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_write_failures, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_write_dir_forms, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_hashwrite_commit, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_hashwrite_buffer, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_hashwrite_copy_fd, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_hashwrite_copy_fd_threaded,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_hashwrite_direct,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_stream_incremental,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_stream_pinned, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_stream_pinned_all_or_none,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_stream_errors, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_stale, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_gen_incremental, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_stale_no_follow, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_progress_caller, setup_tmp,
						teardown_tmp),
	};

	return cmocka_run_group_tests_name("outtree", tests, NULL, NULL);
}
