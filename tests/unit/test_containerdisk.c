/* containerdisk_write: the archive read back with libarchive and jansson
 * (digests, diff_id, layer content and owners), byte-identical across
 * runs, not replaced when unchanged, the failures it names, and memory
 * that does not grow with the disk. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "pxeforge/package/containerdisk.h"
#include "tmpdir.h"

#define DISK_SIZE 300001	/* not a multiple of any block size */

/* Bytes that do not compress to nothing: a fixed xorshift stream. */
static void write_disk(const char *path, size_t size, uint32_t seed)
{
	FILE *fp = fopen(path, "wb");
	uint32_t x = seed ? seed : 1;

	assert_non_null(fp);
	for (size_t i = 0; i < size; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		/* half random, half runs: something for gzip to do */
		assert_int_not_equal(fputc((i / 4096) % 2 ? 'a' : (int)(x & 0xff),
					   fp), EOF);
	}
	assert_int_equal(fclose(fp), 0);
}

/* No PF_TMP_PREFIX file left in dir. */
static void assert_no_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	assert_non_null(d);
	while ((e = readdir(d)))
		assert_true(strncmp(e->d_name, PF_TMP_PREFIX,
				    strlen(PF_TMP_PREFIX)) != 0);
	closedir(d);
}

/* ---- reading an archive back ---- */

struct blob {
	char *path;
	mode_t mode;
	char *uname;
	unsigned char *data;
	size_t len;
};

struct image {
	struct blob e[8];
	size_t n;
};

static void image_free(struct image *im)
{
	for (size_t i = 0; i < im->n; i++) {
		free(im->e[i].path);
		free(im->e[i].uname);
		free(im->e[i].data);
	}
}

/* Every entry of an uncompressed tar in order, each checked for
 * owner, mode and mtime. */
static void read_tar(const unsigned char *data, size_t len,
		     struct image *im, long long uid, long long mtime)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	int r;

	assert_non_null(a);
	im->n = 0;
	assert_int_equal(archive_read_support_format_tar(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_memory(a, data, len), ARCHIVE_OK);
	while ((r = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		struct blob *b = &im->e[im->n];
		int64_t size = archive_entry_size(ae);
		la_ssize_t got;

		assert_true(im->n < 8);
		assert_int_equal(archive_entry_uid(ae), uid);
		assert_int_equal(archive_entry_gid(ae), uid);
		assert_int_equal(archive_entry_mtime(ae), mtime);
		assert_false(archive_entry_atime_is_set(ae));
		assert_false(archive_entry_ctime_is_set(ae));
		b->path = strdup(archive_entry_pathname(ae));
		b->mode = archive_entry_mode(ae);
		b->uname = strdup(archive_entry_uname(ae) ?
				  archive_entry_uname(ae) : "");
		b->len = (size_t)size;
		b->data = malloc(b->len + 1);
		assert_non_null(b->data);
		got = archive_read_data(a, b->data, b->len + 1);
		assert_int_equal(got, size);
		b->data[b->len] = '\0';
		im->n++;
	}
	assert_int_equal(r, ARCHIVE_EOF);
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
}

static const struct blob *find(const struct image *im, const char *path)
{
	for (size_t i = 0; i < im->n; i++)
		if (!strcmp(im->e[i].path, path))
			return &im->e[i];
	fail_msg("no entry '%s'", path);
	return NULL;
}

/* "sha256:<hex>" names a blob whose SHA-256 it is; returns the blob. */
static const struct blob *blob_of(const struct image *im, const char *digest)
{
	char hex[65], path[100];
	const struct blob *b;

	assert_non_null(digest);
	assert_int_equal(strncmp(digest, "sha256:", 7), 0);
	snprintf(path, sizeof(path), "blobs/sha256/%s", digest + 7);
	b = find(im, path);
	assert_int_equal(sha256_hex(b->data, b->len, hex), 0);
	assert_string_equal(hex, digest + 7);
	return b;
}

static json_t *parse(const struct blob *b)
{
	json_error_t err;
	json_t *j = json_loadb((const char *)b->data, b->len,
			       JSON_REJECT_DUPLICATES, &err);

	if (!j)
		fail_msg("%s: %s", b->path, err.text);
	return j;
}

/* The layer blob decompressed by libarchive (raw format, any filter). */
static unsigned char *decompress(const struct blob *b, size_t *len)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	unsigned char *out = NULL;
	size_t cap = 0;
	la_ssize_t n;

	*len = 0;
	assert_int_equal(archive_read_support_filter_all(a), ARCHIVE_OK);
	assert_int_equal(archive_read_support_format_raw(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_memory(a, b->data, b->len), ARCHIVE_OK);
	assert_int_equal(archive_read_next_header(a, &ae), ARCHIVE_OK);
	do {
		if (cap - *len < 65536) {
			cap = cap ? 2 * cap : 1 << 20;
			out = realloc(out, cap);
			assert_non_null(out);
		}
		n = archive_read_data(a, out + *len, cap - *len);
		assert_true(n >= 0);
		*len += (size_t)n;
	} while (n > 0);
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
	return out;
}

/* The whole image: layout, index, manifest, config and layer, every
 * digest recomputed, the layer's two entries and their bytes. */
static void check_image(const char *file, const char *disk, const char *name,
			enum pf_compress c, const char *ref, long long mtime)
{
	static const char *const order[] = { "blobs/", "blobs/sha256/" };
	size_t flen, dlen, tlen;
	unsigned char *fdata = (unsigned char *)slurp(file, &flen);
	unsigned char *ddata = (unsigned char *)slurp(disk, &dlen);
	unsigned char *tar;
	struct image im, layer;
	const struct blob *mb, *cb, *lb;
	json_t *index, *manifest, *config, *m, *l;
	char hex[65], want[80], path[300];

	read_tar(fdata, flen, &im, 0, mtime);
	/* sorted: two directories, three blobs, index.json, oci-layout */
	assert_int_equal(im.n, 7);
	for (size_t i = 0; i < 2; i++)
		assert_string_equal(im.e[i].path, order[i]);
	for (size_t i = 2; i < 5; i++) {
		assert_int_equal(strncmp(im.e[i].path, "blobs/sha256/", 13), 0);
		assert_int_equal(strlen(im.e[i].path), 13 + 64);
		if (i > 2)
			assert_true(strcmp(im.e[i - 1].path, im.e[i].path) < 0);
	}
	for (size_t i = 0; i < 7; i++) {
		assert_int_equal(im.e[i].mode, i < 2 ? S_IFDIR | 0755 :
						       S_IFREG | 0644);
		assert_string_equal(im.e[i].uname, "root");
	}
	assert_string_equal(im.e[5].path, "index.json");
	assert_string_equal(im.e[6].path, "oci-layout");
	assert_string_equal((const char *)im.e[6].data,
			    "{\"imageLayoutVersion\":\"1.0.0\"}");

	index = parse(&im.e[5]);
	assert_int_equal(json_integer_value(json_object_get(index, "schemaVersion")), 2);
	assert_int_equal(json_array_size(json_object_get(index, "manifests")), 1);
	m = json_array_get(json_object_get(index, "manifests"), 0);
	assert_string_equal(json_string_value(json_object_get(m, "mediaType")),
			    PF_OCI_MANIFEST_TYPE);
	if (ref)
		assert_string_equal(json_string_value(json_object_get(
			json_object_get(m, "annotations"),
			"org.opencontainers.image.ref.name")), ref);
	else
		assert_null(json_object_get(m, "annotations"));
	mb = blob_of(&im, json_string_value(json_object_get(m, "digest")));
	assert_int_equal(json_integer_value(json_object_get(m, "size")), mb->len);

	manifest = parse(mb);
	assert_string_equal(json_string_value(json_object_get(manifest, "mediaType")),
			    PF_OCI_MANIFEST_TYPE);
	m = json_object_get(manifest, "config");
	assert_string_equal(json_string_value(json_object_get(m, "mediaType")),
			    PF_OCI_CONFIG_TYPE);
	cb = blob_of(&im, json_string_value(json_object_get(m, "digest")));
	assert_int_equal(json_integer_value(json_object_get(m, "size")), cb->len);
	assert_int_equal(json_array_size(json_object_get(manifest, "layers")), 1);
	l = json_array_get(json_object_get(manifest, "layers"), 0);
	assert_string_equal(json_string_value(json_object_get(l, "mediaType")),
			    c == PF_COMPRESS_ZSTD ? PF_OCI_LAYER_ZSTD_TYPE :
						    PF_OCI_LAYER_GZIP_TYPE);
	lb = blob_of(&im, json_string_value(json_object_get(l, "digest")));
	assert_int_equal(json_integer_value(json_object_get(l, "size")), lb->len);
	if (c == PF_COMPRESS_ZSTD) {
		assert_memory_equal(lb->data, "\x28\xb5\x2f\xfd", 4);
	} else {
		/* gzip: no name (FLG 0), no time (MTIME 0) */
		assert_int_equal(lb->data[0], 0x1f);
		assert_int_equal(lb->data[1], 0x8b);
		assert_int_equal(lb->data[3], 0);
		assert_int_equal(lb->data[4] | lb->data[5] | lb->data[6] |
				 lb->data[7], 0);
	}

	config = parse(cb);
	assert_string_equal(json_string_value(json_object_get(config, "architecture")),
			    "amd64");
	assert_string_equal(json_string_value(json_object_get(config, "os")), "linux");
	m = json_object_get(config, "rootfs");
	assert_string_equal(json_string_value(json_object_get(m, "type")), "layers");
	assert_int_equal(json_array_size(json_object_get(m, "diff_ids")), 1);
	/* diff_id: SHA-256 of the decompressed layer */
	tar = decompress(lb, &tlen);
	assert_int_equal(sha256_hex(tar, tlen, hex), 0);
	snprintf(want, sizeof(want), "sha256:%s", hex);
	assert_string_equal(json_string_value(json_array_get(
		json_object_get(m, "diff_ids"), 0)), want);

	/* the layer: exactly disk/ and disk/<name>, 107:107, the disk's bytes */
	read_tar(tar, tlen, &layer, 107, mtime);
	assert_int_equal(layer.n, 2);
	assert_string_equal(layer.e[0].path, "disk/");
	assert_int_equal(layer.e[0].mode, S_IFDIR | 0555);
	assert_int_equal(layer.e[0].len, 0);
	snprintf(path, sizeof(path), "disk/%s", name);
	assert_string_equal(layer.e[1].path, path);
	assert_int_equal(layer.e[1].mode, S_IFREG | 0440);
	/* numeric owner only: a name would map to the reader's own ids */
	assert_string_equal(layer.e[0].uname, "");
	assert_string_equal(layer.e[1].uname, "");
	assert_int_equal(layer.e[1].len, dlen);
	assert_memory_equal(layer.e[1].data, ddata, dlen);

	image_free(&layer);
	free(tar);
	json_decref(config);
	json_decref(manifest);
	json_decref(index);
	image_free(&im);
	free(ddata);
	free(fdata);
}

/* ---- tests ---- */

/* First, while the process is small: a 256 MiB disk must not raise the
 * peak resident size by anything near its size. */
static void test_memory_does_not_grow(void **state)
{
	const char *tmp = *state;
	char *disk = join(tmp, "big.raw"), *file = join(tmp, "big.tar");
	struct pf_cdisk_opts o;
	struct pf_filesum sum;
	struct rusage before, after;
	char *failed = NULL;
	bool replaced;
	int fd;

	fd = open(disk, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 256LL << 20), 0);	/* sparse */
	assert_int_equal(close(fd), 0);
	/* gzip: single-threaded, unlike zstd whose workers' buffers grow
	 * with the machine's CPU count (not with the disk) */
	containerdisk_opts_init(&o);
	assert_int_equal(getrusage(RUSAGE_SELF, &before), 0);
	assert_int_equal(containerdisk_write(disk, file, &o, &sum, &replaced,
					     &failed), 0);
	assert_int_equal(getrusage(RUSAGE_SELF, &after), 0);
	assert_null(failed);
	assert_true(replaced);
	/* ru_maxrss in KiB: a few MiB of buffers, far below 256 MiB */
	assert_true(after.ru_maxrss - before.ru_maxrss < 32 * 1024);
	assert_no_tmp(tmp);
	free(file);
	free(disk);
}

static void test_archive_gzip_and_zstd(void **state)
{
	const char *tmp = *state;
	char *disk = join(tmp, "fedora.qcow2");
	struct pf_cdisk_opts o;
	struct pf_filesum sum;
	struct stat st;
	char *failed = NULL;
	bool replaced;

	write_disk(disk, DISK_SIZE, 7);
	for (int c = PF_COMPRESS_UNSET; c <= PF_COMPRESS_ZSTD; c++) {
		static const char *const names[] = { "u.tar", "g.tar", "z.tar" };
		char *file = join(tmp, names[c]);

		containerdisk_opts_init(&o);
		o.compress = (enum pf_compress)c;
		o.mtime = 1700000000;
		assert_int_equal(containerdisk_write(disk, file, &o, &sum,
						     &replaced, &failed), 0);
		assert_null(failed);
		assert_true(replaced);
		assert_int_equal(stat(file, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0644);
		assert_int_equal(sum.size, (uint64_t)st.st_size);
		check_image(file, disk, "fedora.qcow2",
			    c == PF_COMPRESS_ZSTD ? PF_COMPRESS_ZSTD :
						    PF_COMPRESS_GZIP,
			    NULL, 1700000000);
		free(file);
	}
	/* a name and a ref of the caller's */
	{
		char *file = join(tmp, "named.tar");

		containerdisk_opts_init(&o);
		o.disk_name = "disk.img";
		o.ref = "latest";
		assert_int_equal(containerdisk_write(disk, file, &o, &sum,
						     &replaced, &failed), 0);
		check_image(file, disk, "disk.img", PF_COMPRESS_GZIP, "latest", 0);
		free(file);
	}
	assert_no_tmp(tmp);
	free(disk);
}

static void test_deterministic_and_unchanged(void **state)
{
	const char *tmp = *state;
	char *disk = join(tmp, "d.raw"), *sub = join(tmp, "sub");
	char *a = join(tmp, "a.tar"), *b = join(sub, "b.tar");
	struct pf_cdisk_opts o;
	struct pf_filesum s1, s2;
	struct stat st1, st2;
	unsigned char *d1, *d2;
	size_t l1, l2;
	char *failed = NULL;
	bool replaced;

	write_disk(disk, DISK_SIZE, 3);
	assert_int_equal(mkdir(sub, 0755), 0);
	for (int c = PF_COMPRESS_GZIP; c <= PF_COMPRESS_ZSTD; c++) {
		containerdisk_opts_init(&o);
		o.compress = (enum pf_compress)c;
		o.disk_name = "d.raw";
		assert_int_equal(containerdisk_write(disk, a, &o, &s1, &replaced,
						     &failed), 0);
		assert_true(replaced);
		assert_int_equal(stat(a, &st1), 0);
		sleep(1);	/* a timestamp leaking in would show */
		/* another directory, another name: the same bytes */
		assert_int_equal(containerdisk_write(disk, b, &o, &s2, &replaced,
						     &failed), 0);
		assert_string_equal(s1.sha256, s2.sha256);
		d1 = (unsigned char *)slurp(a, &l1);
		d2 = (unsigned char *)slurp(b, &l2);
		assert_int_equal(l1, l2);
		assert_memory_equal(d1, d2, l1);
		free(d1);
		free(d2);
		/* again into a: unchanged, not replaced, the same inode */
		assert_int_equal(containerdisk_write(disk, a, &o, &s2, &replaced,
						     &failed), 0);
		assert_false(replaced);
		assert_string_equal(s1.sha256, s2.sha256);
		assert_int_equal(stat(a, &st2), 0);
		assert_int_equal(st2.st_ino, st1.st_ino);
		/* another mtime: other bytes, replaced */
		o.mtime = 1;
		assert_int_equal(containerdisk_write(disk, a, &o, &s2, &replaced,
						     &failed), 0);
		assert_true(replaced);
		assert_string_not_equal(s1.sha256, s2.sha256);
		unlink(a);
		unlink(b);
	}
	assert_no_tmp(tmp);
	assert_no_tmp(sub);
	free(b);
	free(a);
	free(sub);
	free(disk);
}

static void test_failures(void **state)
{
	const char *tmp = *state;
	char *disk = join(tmp, "d.raw"), *missing = join(tmp, "missing.raw");
	char *file = join(tmp, "out.tar"), *nodir = join(tmp, "no/out.tar");
	struct pf_cdisk_opts o;
	struct pf_filesum sum;
	struct stat st;
	char *failed = NULL;
	bool replaced = true;

	write_disk(disk, 1000, 5);
	containerdisk_opts_init(&o);
	/* DISK missing: named, nothing written */
	assert_int_equal(containerdisk_write(missing, file, &o, &sum, &replaced,
					     &failed), -ENOENT);
	assert_string_equal(failed, missing);
	assert_false(replaced);
	assert_int_not_equal(stat(file, &st), 0);
	free(failed);
	failed = NULL;
	/* DISK a directory */
	o.disk_name = "x";
	assert_int_equal(containerdisk_write(tmp, file, &o, &sum, &replaced,
					     &failed), -EISDIR);
	assert_string_equal(failed, tmp);
	free(failed);
	failed = NULL;
	/* DISK not a regular file */
	assert_int_equal(containerdisk_write("/dev/null", file, &o, &sum,
					     &replaced, &failed), -EINVAL);
	assert_string_equal(failed, "/dev/null");
	free(failed);
	failed = NULL;
	/* FILE's directory missing: FILE named */
	assert_int_equal(containerdisk_write(disk, nodir, &o, &sum, &replaced,
					     &failed), -ENOENT);
	assert_string_equal(failed, nodir);
	free(failed);
	failed = NULL;
	/* FILE's directory not writable (as root: a directory in its place) */
	assert_int_equal(mkdir(file, 0755), 0);
	assert_true(containerdisk_write(disk, file, &o, &sum, &replaced,
					&failed) < 0);
	assert_string_equal(failed, file);
	free(failed);
	failed = NULL;
	assert_int_equal(rmdir(file), 0);
	/* bad names, refs, mtime: -EINVAL, nothing named */
	o.disk_name = "a/b";
	assert_int_equal(containerdisk_write(disk, file, &o, &sum, &replaced,
					     &failed), -EINVAL);
	assert_null(failed);
	o.disk_name = NULL;
	o.ref = "-x";
	assert_int_equal(containerdisk_write(disk, file, &o, &sum, &replaced,
					     &failed), -EINVAL);
	o.ref = NULL;
	o.mtime = -1;
	assert_int_equal(containerdisk_write(disk, file, &o, &sum, &replaced,
					     &failed), -EINVAL);
	assert_null(failed);
	assert_int_not_equal(stat(file, &st), 0);
	assert_no_tmp(tmp);
	free(nodir);
	free(file);
	free(missing);
	free(disk);
}

static void test_names(void **state)
{
	char long_name[300];

	(void)state;
	assert_true(containerdisk_name_ok("disk.qcow2"));
	assert_true(containerdisk_name_ok("a b"));
	assert_true(containerdisk_name_ok("..."));
	assert_false(containerdisk_name_ok(NULL));
	assert_false(containerdisk_name_ok(""));
	assert_false(containerdisk_name_ok("."));
	assert_false(containerdisk_name_ok(".."));
	assert_false(containerdisk_name_ok("a/b"));
	assert_false(containerdisk_name_ok("tab\there"));
	assert_false(containerdisk_name_ok("caf\xc3\xa9"));
	memset(long_name, 'a', 255);
	long_name[255] = '\0';
	assert_true(containerdisk_name_ok(long_name));
	long_name[255] = 'a';
	long_name[256] = '\0';
	assert_false(containerdisk_name_ok(long_name));
	assert_true(containerdisk_ref_ok("latest"));
	assert_true(containerdisk_ref_ok("registry.example/vm/fedora:42"));
	assert_false(containerdisk_ref_ok(""));
	assert_false(containerdisk_ref_ok("-x"));
	assert_false(containerdisk_ref_ok("a b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_memory_does_not_grow,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_archive_gzip_and_zstd,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_deterministic_and_unchanged,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_failures, setup_tmp,
						teardown_tmp),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
