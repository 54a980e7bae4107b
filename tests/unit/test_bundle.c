/* bundle_write: read back with libarchive, byte-identical across trees
 * and runs, modes, and the failures it names. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/fs.h"
#include "pxeforge/out/bundle_record.h"
#include "pxeforge/out/outtree.h"
#include "pxeforge/package/bundle.h"
#include "tmpdir.h"


static void sample(struct pf_outtree *t, bool secret)
{
	outtree_init(t);
	assert_int_equal(outtree_add(t, "boot.ipxe", "#!ipxe\n", 7, 0644), 0);
	assert_int_equal(outtree_add(t, "c4140-x", "x\n", 2, 0644), 0);
	assert_int_equal(outtree_add(t, "c4140/cmdline", "quiet\n", 6, 0644), 0);
	assert_int_equal(outtree_add(t, "c4140/nixos/boot.nix", "{}\n", 3, 0644), 0);
	if (secret)
		assert_int_equal(outtree_add(t, "c4140/password", "pw\n", 3,
					     0600), 0);
}

static void test_format(void **state)
{
	(void)state;
	assert_int_equal(bundle_format("a.tar.zst"), PF_BUNDLE_TAR_ZST);
	assert_int_equal(bundle_format("dir/a.tzst"), PF_BUNDLE_TAR_ZST);
	assert_int_equal(bundle_format("a.tar.gz"), PF_BUNDLE_TAR_GZ);
	assert_int_equal(bundle_format("a.tgz"), PF_BUNDLE_TAR_GZ);
	assert_int_equal(bundle_format(".tgz"), PF_BUNDLE_UNKNOWN);
	assert_int_equal(bundle_format("a.tar"), PF_BUNDLE_UNKNOWN);
	assert_int_equal(bundle_format("a.zip"), PF_BUNDLE_UNKNOWN);
	assert_int_equal(bundle_format("a.tar.xz"), PF_BUNDLE_UNKNOWN);
	assert_int_equal(bundle_format("a.gz"), PF_BUNDLE_UNKNOWN);
}

static const struct {
	const char *path;
	mode_t mode;
	const char *data;
} want[] = {
	{ "boot.ipxe", S_IFREG | 0644, "#!ipxe\n" },
	{ "c4140-x", S_IFREG | 0644, "x\n" },
	{ "c4140/", S_IFDIR | 0755, NULL },
	{ "c4140/cmdline", S_IFREG | 0644, "quiet\n" },
	{ "c4140/nixos/", S_IFDIR | 0755, NULL },
	{ "c4140/nixos/boot.nix", S_IFREG | 0644, "{}\n" },
	{ "c4140/password", S_IFREG | 0600, "pw\n" },
	{ "manifest.json", S_IFREG | 0644, NULL },
};
#define NWANT (sizeof(want) / sizeof(want[0]))

/* Every entry: in order, owned by root, one mtime, the right content. */
static void check_archive(const char *file, long long mtime)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	size_t i = 0;

	assert_non_null(a);
	assert_int_equal(archive_read_support_filter_all(a), ARCHIVE_OK);
	assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_filename(a, file, 10240), ARCHIVE_OK);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		char buf[64] = "";
		la_ssize_t n;

		assert_true(i < NWANT);
		assert_string_equal(archive_entry_pathname(ae), want[i].path);
		assert_int_equal(archive_entry_mode(ae), want[i].mode);
		assert_int_equal(archive_entry_uid(ae), 0);
		assert_int_equal(archive_entry_gid(ae), 0);
		assert_string_equal(archive_entry_uname(ae), "root");
		assert_string_equal(archive_entry_gname(ae), "root");
		assert_int_equal(archive_entry_mtime(ae), mtime);
		assert_false(archive_entry_atime_is_set(ae));
		assert_false(archive_entry_ctime_is_set(ae));
		n = archive_read_data(a, buf, sizeof(buf) - 1);
		assert_true(n >= 0);
		if (want[i].data)
			assert_string_equal(buf, want[i].data);
		i++;
	}
	assert_int_equal(i, NWANT);
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
}

static void assert_same_bytes(const char *a, const char *b)
{
	size_t la, lb;
	char *da = slurp(a, &la), *db = slurp(b, &lb);

	assert_int_equal(la, lb);
	assert_memory_equal(da, db, la);
	free(da);
	free(db);
}

static void test_bundle(void **state)
{
	static const char *const names[] = { "b.tar.gz", "b.tar.zst" };
	const char *tmp = *state;
	char *out1 = join(tmp, "out1"), *out2 = join(tmp, "elsewhere");
	struct pf_outtree t1, t2;
	struct pf_bundle_result res;
	char *failed = (char *)"unset";

	sample(&t1, true);
	sample(&t2, true);
	assert_int_equal(outtree_write(&t1, out1, NULL, NULL), 0);
	assert_int_equal(outtree_write(&t2, out2, NULL, NULL), 0);
	for (size_t i = 0; i < 2; i++) {
		char *f1 = join(out1, names[i]);	/* inside OUT: not in it */
		char *f2 = join(tmp, names[i]);
		struct stat st, st2;

		assert_int_equal(bundle_write(&t1, out1, f1, 1234567890, false, &res,
					      &failed), 0);
		assert_null(failed);
		assert_true(res.replaced);
		assert_int_equal(res.entries, NWANT);
		check_archive(f1, 1234567890);
		/* A secret inside: the bundle is one too. */
		assert_int_equal(stat(f1, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0600);
		assert_int_equal(res.sum.size, (uint64_t)st.st_size);
		/* Another tree, same content: the same bytes. */
		assert_int_equal(bundle_write(&t2, out2, f2, 1234567890, false, &res,
					      &failed), 0);
		assert_same_bytes(f1, f2);
		/* Again: unchanged, not replaced. */
		assert_int_equal(bundle_write(&t1, out1, f1, 1234567890, false, &res,
					      &failed), 0);
		assert_false(res.replaced);
		assert_int_equal(stat(f1, &st2), 0);
		assert_int_equal(st2.st_ino, st.st_ino);
		free(f2);
		free(f1);
	}
	{
		/* gzip: no name (FLG 0), no time (MTIME 0). */
		char *f = join(out1, "b.tar.gz");
		size_t len;
		unsigned char *d = (unsigned char *)slurp(f, &len);

		assert_true(len > 10);
		assert_int_equal(d[0], 0x1f);
		assert_int_equal(d[1], 0x8b);
		assert_int_equal(d[3], 0);
		assert_int_equal(d[4] | d[5] | d[6] | d[7], 0);
		free(d);
		free(f);
	}
	outtree_release(&t2);
	outtree_release(&t1);
	free(out2);
	free(out1);
}

static void test_bundle_modes_and_failures(void **state)
{
	const char *tmp = *state;
	char *out = join(tmp, "out"), *f = join(tmp, "b.tgz");
	char *nodir = join(tmp, "no/b.tgz"), *changed;
	struct pf_outtree t;
	struct pf_bundle_result res;
	char *failed = NULL;
	struct stat st;
	FILE *fp;

	sample(&t, false);
	/* Not written yet: no sums to go by. */
	assert_int_equal(bundle_write(&t, out, f, 0, false, &res, &failed), -EINVAL);
	free(failed);
	assert_int_equal(outtree_write(&t, out, NULL, NULL), 0);
	assert_int_equal(bundle_write(&t, out, f, 0, false, &res, &failed), 0);
	assert_int_equal(stat(f, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(bundle_write(&t, out, "b.zip", 0, false, &res, &failed),
			 -EINVAL);
	free(failed);
	assert_int_equal(bundle_write(&t, out, nodir, 0, false, &res, &failed),
			 -ENOENT);
	assert_string_equal(failed, nodir);
	free(failed);
	/* A file that changed since it was written is named. */
	changed = join(out, "c4140/cmdline");
	fp = fopen(changed, "a");
	assert_non_null(fp);
	fputs("more\n", fp);
	fclose(fp);
	assert_int_equal(unlink(f), 0);	/* else the record would skip it */
	assert_int_equal(bundle_write(&t, out, f, 0, false, &res, &failed), -EIO);
	assert_string_equal(failed, changed);
	free(failed);
	assert_int_equal(unlink(changed), 0);
	assert_int_equal(bundle_write(&t, out, f, 0, false, &res, &failed), -ENOENT);
	assert_string_equal(failed, changed);
	free(failed);
	free(changed);
	outtree_release(&t);
	free(nodir);
	free(f);
	free(out);
}

/* The record of bundles: an archive still as written, from the same
 * tree, is neither read nor made again; anything else is. */
static void test_bundle_record(void **state)
{
	const char *tmp = *state;
	char *out = join(tmp, "out"), *f = join(tmp, "b.tar.zst");
	char *g = join(tmp, "b.tgz"), *rec = join(out, PF_BUNDLES_NAME);
	char *gone = join(out, "c4140/cmdline"), *away = join(tmp, "away");
	char *want, *text;
	struct pf_outtree t, t2;
	struct pf_bundle_result res, first;
	char *failed = NULL;
	struct stat st, st2;
	size_t len, wlen;
	FILE *fp;

	sample(&t, false);
	assert_int_equal(outtree_write(&t, out, NULL, NULL), 0);
	assert_int_equal(bundle_write(&t, out, f, 7, false, &first, &failed), 0);
	assert_true(first.replaced);
	assert_int_equal(stat(rec, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	want = slurp(f, &wlen);
	assert_int_equal(stat(f, &st), 0);
	/* Skipped: a repack would fail on the file now missing from OUT. */
	assert_int_equal(rename(gone, away), 0);
	assert_int_equal(bundle_write(&t, out, f, 7, false, &res, &failed), 0);
	assert_false(res.replaced);
	assert_int_equal(res.entries, first.entries);
	assert_string_equal(res.sum.sha256, first.sum.sha256);
	assert_int_equal(res.sum.size, first.sum.size);
	assert_int_equal(stat(f, &st2), 0);
	assert_int_equal(st2.st_ino, st.st_ino);
	/* Another mtime is another recipe: made again, and it fails. */
	assert_int_equal(bundle_write(&t, out, f, 8, false, &res, &failed), -ENOENT);
	assert_string_equal(failed, gone);
	free(failed);
	assert_int_equal(outtree_write(&t, out, NULL, NULL), 0);
	/* The archive changed behind our back: made again, same bytes. */
	fp = fopen(f, "a");
	assert_non_null(fp);
	fputs("x", fp);
	fclose(fp);
	assert_int_equal(bundle_write(&t, out, f, 7, false, &res, &failed), 0);
	assert_true(res.replaced);
	text = slurp(f, &len);
	assert_int_equal(len, wlen);
	assert_memory_equal(text, want, len);
	free(text);
	/* A second archive of the same OUT is remembered beside the first. */
	assert_int_equal(bundle_write(&t, out, g, 7, false, &res, &failed), 0);
	assert_int_equal(bundle_write(&t, out, f, 7, false, &res, &failed), 0);
	assert_false(res.replaced);
	text = slurp(rec, &len);
	assert_non_null(memmem(text, len, "/b.tar.zst\"", strlen("/b.tar.zst\"")));
	assert_non_null(memmem(text, len, "/b.tgz\"", strlen("/b.tgz\"")));
	free(text);
	/* A garbled record costs a repack, not a failure. */
	fp = fopen(rec, "w");
	assert_non_null(fp);
	fputs("{\"bundles\": [{\"file\": 1}]}", fp);
	fclose(fp);
	assert_int_equal(bundle_write(&t, out, f, 7, false, &res, &failed), 0);
	assert_false(res.replaced);	/* made again: the same bytes */
	text = slurp(rec, &len);
	assert_non_null(memmem(text, len, first.sum.sha256, strlen(first.sum.sha256)));
	assert_null(memmem(text, len, "/b.tgz\"", strlen("/b.tgz\"")));	/* the rest is lost */
	free(text);
	/* Another tree: made again. */
	sample(&t2, true);
	assert_int_equal(outtree_write(&t2, out, NULL, NULL), 0);
	assert_int_equal(bundle_write(&t2, out, f, 7, false, &res, &failed), 0);
	assert_true(res.replaced);
	assert_string_not_equal(res.sum.sha256, first.sum.sha256);
	outtree_release(&t2);
	outtree_release(&t);
	free(want);
	free(away);
	free(gone);
	free(rec);
	free(g);
	free(f);
	free(out);
}

/* A file of 16 MiB and more is read from OUT past the page cache, and
 * the archive (over 1 MiB) written past it: the entry holds the file's
 * bytes to the last one (its size no multiple of 4 KiB), and the sum is
 * the archive's. */
static void test_bundle_large(void **state)
{
	const size_t size = (17u << 20) + 12345;
	const char *tmp = *state;
	char *src = join(tmp, "src"), *out = join(tmp, "out");
	char *f = join(tmp, "b.tar.zst");
	unsigned char *data = malloc(size), *back = malloc(size);
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	struct pf_bundle_result res;
	struct pf_filesum sum;
	struct pf_outtree t;
	char *failed = NULL;
	uint64_t x = 88172645463325252ull;
	size_t got = 0;
	int fd;

	assert_non_null(data);
	assert_non_null(back);
	for (size_t i = 0; i < size; i++) {	/* xorshift: incompressible */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		data[i] = (unsigned char)x;
	}
	fd = open(src, O_WRONLY | O_CREAT | O_EXCL, 0644);
	assert_true(fd >= 0);
	assert_int_equal(fs_write_all(fd, data, size), 0);
	assert_int_equal(close(fd), 0);
	outtree_init(&t);
	assert_int_equal(outtree_add_file(&t, "c4140/disk.img", src, 0644), 0);
	assert_int_equal(outtree_write(&t, out, NULL, NULL), 0);
	assert_int_equal(bundle_write(&t, out, f, 0, false, &res, &failed), 0);
	assert_null(failed);
	fd = open(f, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(sha256_fd(fd, &sum), 0);
	close(fd);
	assert_true(sum.size > size);
	assert_int_equal(res.sum.size, sum.size);
	assert_string_equal(res.sum.sha256, sum.sha256);
	assert_non_null(a);
	assert_int_equal(archive_read_support_filter_all(a), ARCHIVE_OK);
	assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_filename(a, f, 65536), ARCHIVE_OK);
	while (archive_read_next_header(a, &ae) == ARCHIVE_OK) {
		la_ssize_t n;

		if (strcmp(archive_entry_pathname(ae), "c4140/disk.img"))
			continue;
		assert_int_equal(archive_entry_size(ae), (la_int64_t)size);
		while ((n = archive_read_data(a, back + got, size - got)) > 0)
			got += (size_t)n;
		assert_int_equal(n, 0);
	}
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
	assert_int_equal(got, size);
	assert_memory_equal(back, data, size);
	outtree_release(&t);
	free(back);
	free(data);
	free(f);
	free(out);
	free(src);
}

/* What the bundle's determinism rests on: libzstd's multi-threaded output
 * does not depend on the number of workers (1 and up). */
static void test_zstd_threads(void **state)
{
	const size_t size = 40u << 20;
	unsigned char *data = malloc(size);
	char *files[2];
	const char *threads[2] = { "1", "3" };

	assert_non_null(data);
	for (size_t i = 0; i < size; i++)
		data[i] = (unsigned char)((i * 7 + i / 1000) % 251 ^ (i >> 12));
	for (int k = 0; k < 2; k++) {
		struct archive *a = archive_write_new();
		struct archive_entry *ae = archive_entry_new();

		files[k] = join(*state, threads[k]);
		assert_int_equal(archive_write_set_format_pax_restricted(a), 0);
		assert_int_equal(archive_write_add_filter_zstd(a), 0);
		assert_int_equal(archive_write_set_filter_option(a, "zstd",
				 "compression-level", "10"), 0);
		assert_int_equal(archive_write_set_filter_option(a, "zstd",
				 "threads", threads[k]), 0);
		assert_int_equal(archive_write_open_filename(a, files[k]), 0);
		archive_entry_set_pathname(ae, "data");
		archive_entry_set_mode(ae, S_IFREG | 0644);
		archive_entry_set_size(ae, (la_int64_t)size);
		assert_int_equal(archive_write_header(a, ae), 0);
		assert_int_equal(archive_write_data(a, data, size), (la_ssize_t)size);
		assert_int_equal(archive_write_close(a), 0);
		archive_write_free(a);
		archive_entry_free(ae);
	}
	assert_same_bytes(files[0], files[1]);
	free(files[0]);
	free(files[1]);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test_setup_teardown(test_bundle, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_bundle_modes_and_failures,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_bundle_record, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_bundle_large, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_zstd_threads, setup_tmp,
						teardown_tmp),
	};

	return cmocka_run_group_tests_name("bundle", tests, NULL, NULL);
}
