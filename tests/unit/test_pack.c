/* pack: newc cpio archives from a pf_pack, read back with libarchive: the
 * entries (sorted, parents first, every header field), their content, the
 * compression filter, determinism, path rules and source-file failures.
 * Source files are written into a fresh scratch directory per test. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pxeforge/lib/buf.h"
#include "package/pack.h"
#include "pxeforge/profile/profile.h"

#include "fixture.h"

#define MTIME 1700000000LL

/* One entry as libarchive reads it back. */
struct rentry {
	char *path;
	mode_t mode;
	la_int64_t uid, gid, ino, size;
	time_t mtime;
	long mtime_nsec;
	unsigned nlink;
	char *data;	/* size bytes (malloc'd, never NULL) */
};

struct rarchive {
	struct rentry *v;
	size_t n;
	int format;	/* archive_format() after the last header */
	int filter;	/* archive_filter_code(a, 0) */
};

struct ctx {
	struct fixture fx;
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c || fixture_enter(&c->fx, "pack", "") != 0) {
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	int rc = fixture_leave(&c->fx);

	free(c);
	return rc;
}

static void rarchive_release(struct rarchive *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].path);
		free(r->v[i].data);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Reads the whole archive in b; any libarchive error fails the test. */
static void read_archive(const struct pf_buf *b, struct rarchive *r)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	int st;

	memset(r, 0, sizeof(*r));
	assert_non_null(a);
	assert_int_equal(archive_read_support_filter_all(a), ARCHIVE_OK);
	assert_int_equal(archive_read_support_format_cpio(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_memory(a, b->data, b->len),
			 ARCHIVE_OK);
	while ((st = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		struct rentry *e;
		la_int64_t size = archive_entry_size(ae);
		la_ssize_t got;

		r->v = realloc(r->v, (r->n + 1) * sizeof(*r->v));
		assert_non_null(r->v);
		e = &r->v[r->n++];
		memset(e, 0, sizeof(*e));
		e->path = strdup(archive_entry_pathname(ae));
		assert_non_null(e->path);
		e->mode = archive_entry_mode(ae);
		e->uid = archive_entry_uid(ae);
		e->gid = archive_entry_gid(ae);
		e->ino = archive_entry_ino64(ae);
		e->mtime = archive_entry_mtime(ae);
		e->mtime_nsec = archive_entry_mtime_nsec(ae);
		e->nlink = archive_entry_nlink(ae);
		e->size = size;
		assert_true(size >= 0);
		e->data = malloc((size_t)size + 1);
		assert_non_null(e->data);
		got = size ? archive_read_data(a, e->data, (size_t)size) : 0;
		assert_int_equal(got, size);
		/* nothing after the declared size */
		assert_int_equal(archive_read_data(a, e->data, 1), 0);
		r->format = archive_format(a);
	}
	if (st != ARCHIVE_EOF)
		fail_msg("archive_read_next_header: %d (%s)", st,
			 archive_error_string(a));
	r->filter = archive_filter_code(a, 0);
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
}

static const struct rentry *rfind(const struct rarchive *r, const char *path)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].path, path))
			return &r->v[i];
	return NULL;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}

static void add_data(struct pf_pack *p, const char *path, const char *text,
		     mode_t mode)
{
	assert_int_equal(pack_add_data(p, path, text, strlen(text), mode), 0);
}

/* Writes p, which must succeed; out is initialised here. */
static void write_ok(struct pf_pack *p, enum pf_compress c, long long mtime,
		     struct pf_buf *out)
{
	char *failed = (char *)"unset";

	buf_init(out);
	assert_int_equal(pack_cpio_write(p, c, mtime, out, &failed), 0);
	assert_null(failed);
	assert_non_null(out->data);
	assert_true(out->len > 0);
}

/* Every structural rule: strictly increasing bytewise order, each parent
 * directory present before its children, unique non-zero inodes, fixed
 * owner and time, nlink by type, directories empty. */
static void assert_well_formed(const struct rarchive *r, long long mtime)
{
	for (size_t i = 0; i < r->n; i++) {
		const struct rentry *e = &r->v[i];
		char *dir = strdup(e->path), *slash;

		assert_non_null(dir);
		if (i)
			assert_true(strcmp(r->v[i - 1].path, e->path) < 0);
		while ((slash = strrchr(dir, '/'))) {
			const struct rentry *parent;

			*slash = '\0';
			parent = rfind(r, dir);
			if (!parent)
				fail_msg("'%s' has no entry for its parent '%s'",
					 e->path, dir);
			assert_true(parent < e);
			assert_int_equal(parent->mode, S_IFDIR | 0755);
		}
		free(dir);
		assert_int_equal(e->uid, 0);
		assert_int_equal(e->gid, 0);
		assert_int_equal(e->mtime, mtime);
		assert_int_equal(e->mtime_nsec, 0);
		assert_true(e->ino > 0);
		for (size_t j = 0; j < i; j++)
			assert_true(r->v[j].ino != e->ino);
		if (S_ISDIR(e->mode)) {
			assert_int_equal(e->nlink, 2);
			assert_int_equal(e->size, 0);
		} else {
			assert_true(S_ISREG(e->mode));
			assert_int_equal(e->nlink, 1);
		}
	}
}

static void assert_entry(const struct rarchive *r, size_t i, const char *path,
			 mode_t mode, const char *content)
{
	const struct rentry *e;

	assert_true(i < r->n);
	e = &r->v[i];
	assert_string_equal(e->path, path);
	assert_int_equal(e->mode, mode);
	if (content) {
		assert_int_equal(e->size, strlen(content));
		assert_memory_equal(e->data, content, strlen(content));
	}
}

#define VFIO_CONF "options vfio-pci ids=10de:1db1\nsoftdep nouveau pre: vfio-pci\n"
#define INIT_SH "#!/bin/sh\nexec /sbin/init \"$@\"\n"

/* The sample: data and file entries, nested and top-level, an empty one,
 * modes other than 0644, and names whose bytewise order is not the
 * "directory first" order ('-' < '/', 'Z' < 'a'). */
static void sample_pack(struct pf_pack *p)
{
	char ko[] = "\x7f" "ELF ko";

	write_bytes("init.sh", INIT_SH, strlen(INIT_SH));
	pack_init(p);
	add_data(p, "lib/modules/k/kernel/a.ko", ko, 0644);
	ko[0] = 'X';	/* the pack keeps its own copy */
	add_data(p, "etc/modprobe.d/vfio.conf", VFIO_CONF, 0644);
	assert_int_equal(pack_add_file(p, "init", "init.sh", 0755), 0);
	add_data(p, "etc-x", "x\n", 0600);
	add_data(p, "empty", "", 0644);
	add_data(p, "Zed", "z", 0644);
	add_data(p, "etc/hostname", "c4140\n", 0644);
	assert_int_equal(p->n, 7);	/* parents only appear when written */
}

static void check_sample(const struct rarchive *r, long long mtime)
{
	size_t i = 0;

	assert_well_formed(r, mtime);
	assert_entry(r, i++, "Zed", S_IFREG | 0644, "z");
	assert_entry(r, i++, "empty", S_IFREG | 0644, "");
	assert_entry(r, i++, "etc", S_IFDIR | 0755, NULL);
	assert_entry(r, i++, "etc-x", S_IFREG | 0600, "x\n");
	assert_entry(r, i++, "etc/hostname", S_IFREG | 0644, "c4140\n");
	assert_entry(r, i++, "etc/modprobe.d", S_IFDIR | 0755, NULL);
	assert_entry(r, i++, "etc/modprobe.d/vfio.conf", S_IFREG | 0644,
		     VFIO_CONF);
	assert_entry(r, i++, "init", S_IFREG | 0755, INIT_SH);
	assert_entry(r, i++, "lib", S_IFDIR | 0755, NULL);
	assert_entry(r, i++, "lib/modules", S_IFDIR | 0755, NULL);
	assert_entry(r, i++, "lib/modules/k", S_IFDIR | 0755, NULL);
	assert_entry(r, i++, "lib/modules/k/kernel", S_IFDIR | 0755, NULL);
	assert_entry(r, i++, "lib/modules/k/kernel/a.ko", S_IFREG | 0644,
		     "\x7f" "ELF ko");
	assert_int_equal(r->n, i);
	assert_int_equal(rfind(r, "empty")->size, 0);
}

/* ---- layout and format ------------------------------------------------ */

static void layout_gzip(void **state)
{
	struct pf_pack p;
	struct pf_buf out;
	struct rarchive r;
	const unsigned char *raw;

	sample_pack(&p);
	write_ok(&p, PF_COMPRESS_GZIP, MTIME, &out);
	raw = (const unsigned char *)out.data;
	assert_true(out.len > 10);
	assert_int_equal(raw[0], 0x1f);
	assert_int_equal(raw[1], 0x8b);
	/* MTIME in the gzip header: zero, not the time of the build */
	assert_int_equal(raw[4] | raw[5] | raw[6] | raw[7], 0);
	read_archive(&out, &r);
	assert_int_equal(r.format, ARCHIVE_FORMAT_CPIO_SVR4_NOCRC);
	assert_int_equal(r.filter, ARCHIVE_FILTER_GZIP);
	check_sample(&r, MTIME);
	rarchive_release(&r);
	buf_release(&out);
	pack_release(&p);
}

static void layout_zstd(void **state)
{
	static const unsigned char magic[] = { 0x28, 0xb5, 0x2f, 0xfd };
	struct pf_pack p;
	struct pf_buf out;
	struct rarchive r;

	sample_pack(&p);
	write_ok(&p, PF_COMPRESS_ZSTD, 0, &out);
	assert_true(out.len > sizeof(magic));
	assert_memory_equal(out.data, magic, sizeof(magic));
	read_archive(&out, &r);
	assert_int_equal(r.format, ARCHIVE_FORMAT_CPIO_SVR4_NOCRC);
	assert_int_equal(r.filter, ARCHIVE_FILTER_ZSTD);
	check_sample(&r, 0);
	rarchive_release(&r);
	buf_release(&out);
	pack_release(&p);
}

/* The raw newc stream inside the gzip: magic 070701 on every header, the
 * header fields in ASCII hex, the TRAILER!!! entry last, 4-byte padding. */
static void newc_raw(void **state)
{
	struct pf_pack p;
	struct pf_buf out, raw;
	struct archive *a;
	struct archive_entry *ae;
	char chunk[4096];
	la_ssize_t got;
	const char *trailer;

	pack_init(&p);
	add_data(&p, "a", "1", 0644);
	write_ok(&p, PF_COMPRESS_GZIP, MTIME, &out);
	/* Decompress only. */
	a = archive_read_new();
	assert_non_null(a);
	assert_int_equal(archive_read_support_filter_all(a), ARCHIVE_OK);
	assert_int_equal(archive_read_support_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_memory(a, out.data, out.len),
			 ARCHIVE_OK);
	assert_int_equal(archive_read_next_header(a, &ae), ARCHIVE_OK);
	buf_init(&raw);
	while ((got = archive_read_data(a, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_append(&raw, chunk, (size_t)got), 0);
	assert_int_equal(got, 0);
	archive_read_free(a);
	/* header (110) + "a\0" padded to 4 + "1" padded to 4, then the
	 * trailer header + "TRAILER!!!\0" padded to 4 */
	assert_int_equal(raw.len, 110 + 2 + 0 + 4 + 110 + 11 + 3);
	assert_memory_equal(raw.data, "070701", 6);
	/* c_mode 000081a4, c_uid 0, c_gid 0, c_nlink 1, c_mtime */
	assert_memory_equal(raw.data + 14, "000081a4" "00000000" "00000000"
			    "00000001" "6553f100", 40);
	/* c_filesize 1, c_namesize 2 */
	assert_memory_equal(raw.data + 54, "00000001", 8);
	assert_memory_equal(raw.data + 94, "00000002", 8);
	assert_memory_equal(raw.data + 110, "a\0", 2);
	assert_memory_equal(raw.data + 112, "1\0\0\0", 4);
	trailer = raw.data + 116;
	assert_memory_equal(trailer, "070701", 6);
	assert_memory_equal(trailer + 110, "TRAILER!!!", 11);
	assert_int_equal(raw.len % 4, 0);
	buf_release(&raw);
	buf_release(&out);
	pack_release(&p);
}

static void empty_pack(void **state)
{
	struct pf_pack p;
	struct pf_buf out;
	struct rarchive r;

	pack_init(&p);
	write_ok(&p, PF_COMPRESS_GZIP, MTIME, &out);
	read_archive(&out, &r);
	assert_int_equal(r.n, 0);
	rarchive_release(&r);
	buf_release(&out);
	pack_release(&p);
	pack_release(&p);
	pack_release(NULL);
}

/* The mode's type bits are ignored: every added entry is a regular file;
 * set-id and sticky bits are kept. */
static void modes(void **state)
{
	struct pf_pack p;
	struct pf_buf out;
	struct rarchive r;

	write_bytes("src", "s", 1);
	pack_init(&p);
	add_data(&p, "d", "d", S_IFDIR | 0700);
	add_data(&p, "s", "s", 04755);
	assert_int_equal(pack_add_file(&p, "f", "src", S_IFLNK | 0444), 0);
	write_ok(&p, PF_COMPRESS_GZIP, MTIME, &out);
	read_archive(&out, &r);
	assert_well_formed(&r, MTIME);
	assert_int_equal(r.n, 3);
	assert_entry(&r, 0, "d", S_IFREG | 0700, "d");
	assert_entry(&r, 1, "f", S_IFREG | 0444, "s");
	assert_entry(&r, 2, "s", S_IFREG | 04755, "s");
	rarchive_release(&r);
	buf_release(&out);
	pack_release(&p);
}

/* ---- determinism ------------------------------------------------------ */

static void build_forward(struct pf_pack *p)
{
	pack_init(p);
	add_data(p, "etc/modprobe.d/vfio.conf", VFIO_CONF, 0644);
	add_data(p, "etc/hostname", "c4140\n", 0644);
	assert_int_equal(pack_add_file(p, "init", "init.sh", 0755), 0);
	add_data(p, "lib/modules/k/kernel/a.ko", "ko", 0644);
}

static void build_backward(struct pf_pack *p)
{
	pack_init(p);
	add_data(p, "lib/modules/k/kernel/a.ko", "ko", 0644);
	assert_int_equal(pack_add_file(p, "init", "init.sh", 0755), 0);
	add_data(p, "etc/hostname", "c4140\n", 0644);
	add_data(p, "etc/modprobe.d/vfio.conf", VFIO_CONF, 0644);
}

static void deterministic(void **state)
{
	static const enum pf_compress cs[] = {
		PF_COMPRESS_GZIP, PF_COMPRESS_ZSTD,
	};

	write_bytes("init.sh", INIT_SH, strlen(INIT_SH));
	for (size_t k = 0; k < 2; k++) {
		struct pf_pack p1, p2;
		struct pf_buf a, b, again, later;
		struct rarchive r;

		build_forward(&p1);
		build_backward(&p2);
		write_ok(&p1, cs[k], MTIME, &a);
		write_ok(&p2, cs[k], MTIME, &b);
		assert_int_equal(a.len, b.len);
		assert_memory_equal(a.data, b.data, a.len);
		/* Writing the same pack again gives the same bytes. */
		write_ok(&p1, cs[k], MTIME, &again);
		assert_int_equal(again.len, a.len);
		assert_memory_equal(again.data, a.data, a.len);
		/* Another mtime: other bytes, and that mtime everywhere. */
		write_ok(&p1, cs[k], MTIME + 1, &later);
		assert_false(later.len == a.len &&
			     !memcmp(later.data, a.data, a.len));
		read_archive(&later, &r);
		assert_int_equal(r.n, 10);
		assert_well_formed(&r, MTIME + 1);
		rarchive_release(&r);
		buf_release(&later);
		buf_release(&again);
		buf_release(&b);
		buf_release(&a);
		pack_release(&p2);
		pack_release(&p1);
	}
}

/* Appends to what out already holds. */
static void appends(void **state)
{
	struct pf_pack p;
	struct pf_buf alone, out;
	char *failed;

	pack_init(&p);
	add_data(&p, "a", "1", 0644);
	write_ok(&p, PF_COMPRESS_GZIP, MTIME, &alone);
	buf_init(&out);
	assert_int_equal(buf_append(&out, "HEAD", 4), 0);
	assert_int_equal(pack_cpio_write(&p, PF_COMPRESS_GZIP, MTIME, &out,
					 &failed), 0);
	assert_null(failed);
	assert_int_equal(out.len, 4 + alone.len);
	assert_memory_equal(out.data, "HEAD", 4);
	assert_memory_equal(out.data + 4, alone.data, alone.len);
	buf_release(&out);
	buf_release(&alone);
	pack_release(&p);
}

/* ---- path rules ------------------------------------------------------- */

static void bad_paths(void **state)
{
	static const char *const bad[] = {
		"", "/abs", "/", "a/../b", "..", "../a", "a/..", ".", "./a",
		"a/./b", "a/.", "a//b", "a/", "dup", "dir/dup",
	};
	struct pf_pack p;

	write_bytes("src", "s", 1);
	pack_init(&p);
	add_data(&p, "dup", "1", 0644);
	assert_int_equal(pack_add_file(&p, "dir/dup", "src", 0644), 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (pack_add_data(&p, bad[i], "x", 1, 0644) != -EINVAL)
			fail_msg("pack_add_data accepted '%s'", bad[i]);
		if (pack_add_file(&p, bad[i], "src", 0644) != -EINVAL)
			fail_msg("pack_add_file accepted '%s'", bad[i]);
	}
	assert_int_equal(p.n, 2);
	/* Dots inside names are fine. */
	add_data(&p, ".hidden", "", 0644);
	add_data(&p, "..x/y...", "", 0644);
	add_data(&p, "a.d/b", "", 0644);
	assert_int_equal(p.n, 5);
	pack_release(&p);
}

/* ---- source files ----------------------------------------------------- */

static void missing_source(void **state)
{
	struct pf_pack p;
	struct pf_buf out;
	char *failed = NULL;

	write_bytes("here", "h", 1);
	pack_init(&p);
	assert_int_equal(pack_add_file(&p, "a/here", "here", 0644), 0);
	/* added without a check: the file is read while writing */
	assert_int_equal(pack_add_file(&p, "b/gone", "sub/gone.ko", 0644), 0);
	add_data(&p, "c", "c", 0644);
	buf_init(&out);
	assert_int_equal(pack_cpio_write(&p, PF_COMPRESS_GZIP, MTIME, &out,
					 &failed), -ENOENT);
	assert_non_null(failed);
	assert_string_equal(failed, "sub/gone.ko");
	free(failed);
	failed = NULL;
	/* Same with zstd. */
	assert_int_equal(pack_cpio_write(&p, PF_COMPRESS_ZSTD, MTIME, &out,
					 &failed), -ENOENT);
	assert_non_null(failed);
	assert_string_equal(failed, "sub/gone.ko");
	free(failed);
	buf_release(&out);
	pack_release(&p);
}

/* A source that is a directory is not a file to copy. */
/* A regular file where a directory must be cannot be unpacked. */
static void file_where_directory_must_be(void **state)
{
	struct pf_pack p;
	struct pf_buf out;
	char *failed = NULL;

	pack_init(&p);
	add_data(&p, "a", "file", 0644);
	add_data(&p, "a/b", "below a file", 0644);
	buf_init(&out);
	assert_int_equal(pack_cpio_write(&p, PF_COMPRESS_GZIP, MTIME, &out,
					 &failed), -EINVAL);
	assert_null(failed);
	buf_release(&out);
	pack_release(&p);
}

static void directory_source(void **state)
{
	struct pf_pack p;
	struct pf_buf out;
	char *failed = NULL;

	assert_int_equal(mkdir("adir", 0755), 0);
	pack_init(&p);
	assert_int_equal(pack_add_file(&p, "x", "adir", 0644), 0);
	buf_init(&out);
	assert_int_equal(pack_cpio_write(&p, PF_COMPRESS_GZIP, MTIME, &out,
					 &failed), -EINVAL);
	assert_non_null(failed);
	assert_string_equal(failed, "adir");
	free(failed);
	buf_release(&out);
	pack_release(&p);
}

#define BIG (3u * 1024 * 1024 + 12345)	/* several 64 KiB chunks, unaligned */

static void large_file(void **state)
{
	static const enum pf_compress cs[] = {
		PF_COMPRESS_GZIP, PF_COMPRESS_ZSTD,
	};
	unsigned char *big = malloc(BIG);
	uint64_t x = 0x9e3779b97f4a7c15ull;

	assert_non_null(big);
	/* xorshift64: incompressible, and the same every run */
	for (size_t i = 0; i < BIG; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		big[i] = (unsigned char)(x >> 24);
	}
	write_bytes("big.bin", big, BIG);
	for (size_t k = 0; k < 2; k++) {
		struct pf_pack p;
		struct pf_buf out;
		struct rarchive r;
		const struct rentry *e;

		pack_init(&p);
		assert_int_equal(pack_add_file(&p, "lib/firmware/big.bin",
					       "big.bin", 0644), 0);
		add_data(&p, "lib/firmware/small", "after the big one", 0644);
		write_ok(&p, cs[k], MTIME, &out);
		assert_true(out.len > BIG);	/* random data does not shrink */
		read_archive(&out, &r);
		assert_well_formed(&r, MTIME);
		assert_int_equal(r.n, 4);
		e = rfind(&r, "lib/firmware/big.bin");
		assert_non_null(e);
		assert_int_equal(e->size, BIG);
		assert_true(memcmp(e->data, big, BIG) == 0);
		assert_entry(&r, 3, "lib/firmware/small", S_IFREG | 0644,
			     "after the big one");
		rarchive_release(&r);
		buf_release(&out);
		pack_release(&p);
	}
	free(big);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(layout_gzip),
		T(layout_zstd),
		T(newc_raw),
		T(modes),
		T(deterministic),
		T(appends),
		T(bad_paths),
		T(missing_source),
		T(file_where_directory_must_be),
		T(directory_source),
		T(large_file),
		T(empty_pack),
	};
#undef T

	return cmocka_run_group_tests_name("pack", tests, NULL, NULL);
}
