/* pack_iso_write: the NoCloud seed volume. The raw descriptors (volume
 * ids, dates), the entries read back with libarchive, determinism across
 * wall-clock time and time zones, argument and source-file failures, and
 * the image as real readers see it: xorriso (descriptor, extraction) and
 * blkid (the label cloud-init looks for). Each test works in a fresh
 * scratch directory. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pxeforge/lib/buf.h"
#include "package/pack.h"

#include "fixture.h"
#include "slurp.h"

#define SECTOR 2048
#define MTIME 1700000000LL	/* 2023-11-14 22:13:20 UTC */
#define MTIME_DIGITS "2023111422132000"

#define USER_DATA "#cloud-config\nwrite_files:\n" \
	"  - path: /etc/rancher/node/password\n    content: s3cret\n"
#define META_DATA "instance-id: c4140\nlocal-hostname: c4140\n"
#define NETWORK_CONFIG "version: 2\nethernets:\n  eno1:\n    dhcp4: true\n"

static int setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof(*fx));

	if (!fx || fixture_enter(fx, "pack-iso", "") != 0) {
		free(fx);
		return -1;
	}
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *fx = *state;
	int rc = fixture_leave(fx);

	free(fx);
	return rc;
}

static void write_bytes(const char *path, const void *data, size_t len)
{
	FILE *fp = fopen(path, "wb");

	assert_non_null(fp);
	assert_int_equal(fwrite(data, 1, len, fp), len);
	assert_int_equal(fclose(fp), 0);
}
/* The seed: user-data from a file (0600: it holds secrets), meta-data and
 * network-config from memory, added out of order. */
static void seed_pack(struct pf_pack *p)
{
	write_bytes("user-data.src", USER_DATA, strlen(USER_DATA));
	pack_init(p);
	assert_int_equal(pack_add_data(p, "network-config", NETWORK_CONFIG,
				       strlen(NETWORK_CONFIG), 0644), 0);
	assert_int_equal(pack_add_file(p, "user-data", "user-data.src", 0600),
			 0);
	assert_int_equal(pack_add_data(p, "meta-data", META_DATA,
				       strlen(META_DATA), 0644), 0);
}

static void write_ok(struct pf_pack *p, long long mtime, struct pf_buf *out)
{
	char *failed = (char *)"unset";

	buf_init(out);
	assert_int_equal(pack_iso_write(p, "cidata", mtime, out, &failed), 0);
	assert_null(failed);
	assert_non_null(out->data);
	assert_true(out->len >= 18 * SECTOR);
	assert_int_equal(out->len % SECTOR, 0);
}

static void assert_same(const struct pf_buf *a, const struct pf_buf *b)
{
	assert_int_equal(a->len, b->len);
	if (memcmp(a->data, b->data, a->len)) {
		size_t i = 0;

		while (a->data[i] == b->data[i])
			i++;
		fail_msg("images differ, first at byte %zu (sector %zu)", i,
			 i / SECTOR);
	}
}

/* Writes p with TZ set to tz (NULL: unset) for the duration. */
static void write_in_zone(struct pf_pack *p, const char *tz, long long mtime,
			  struct pf_buf *out)
{
	char *old = getenv("TZ") ? strdup(getenv("TZ")) : NULL;

	if (tz)
		assert_int_equal(setenv("TZ", tz, 1), 0);
	else
		assert_int_equal(unsetenv("TZ"), 0);
	tzset();
	write_ok(p, mtime, out);
	if (old)
		assert_int_equal(setenv("TZ", old, 1), 0);
	else
		assert_int_equal(unsetenv("TZ"), 0);
	tzset();
	free(old);
}

/* The volume descriptor of the given type (1 primary, 2 supplementary). */
static const unsigned char *find_vd(const struct pf_buf *b, int type)
{
	for (size_t lba = 16; (lba + 1) * SECTOR <= b->len; lba++) {
		const unsigned char *vd =
			(const unsigned char *)b->data + lba * SECTOR;

		assert_memory_equal(vd + 1, "CD001", 5);
		if (vd[0] == type)
			return vd;
		if (vd[0] == 255)
			break;
	}
	fail_msg("no volume descriptor of type %d", type);
	return NULL;
}

/* ---- entries as libarchive reads them back ----------------------------- */

struct rentry {
	char *path;
	mode_t mode;
	la_int64_t uid, gid, size;
	time_t mtime, atime, ctime;
	char *data;
};

struct rimage {
	struct rentry *v;
	size_t n;
};

static void rimage_release(struct rimage *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->v[i].path);
		free(r->v[i].data);
	}
	free(r->v);
	memset(r, 0, sizeof(*r));
}

/* Every entry but the root ("."). */
static void read_image(const struct pf_buf *b, struct rimage *r)
{
	struct archive *a = archive_read_new();
	struct archive_entry *ae;
	int st;

	memset(r, 0, sizeof(*r));
	assert_non_null(a);
	assert_int_equal(archive_read_support_format_iso9660(a), ARCHIVE_OK);
	assert_int_equal(archive_read_open_memory(a, b->data, b->len),
			 ARCHIVE_OK);
	while ((st = archive_read_next_header(a, &ae)) == ARCHIVE_OK) {
		struct rentry *e;
		la_int64_t size = archive_entry_size(ae);

		if (!strcmp(archive_entry_pathname(ae), "."))
			continue;
		assert_int_equal(archive_format(a),
				 ARCHIVE_FORMAT_ISO9660_ROCKRIDGE);
		r->v = realloc(r->v, (r->n + 1) * sizeof(*r->v));
		assert_non_null(r->v);
		e = &r->v[r->n++];
		e->path = strdup(archive_entry_pathname(ae));
		assert_non_null(e->path);
		e->mode = archive_entry_mode(ae);
		e->uid = archive_entry_uid(ae);
		e->gid = archive_entry_gid(ae);
		e->mtime = archive_entry_mtime(ae);
		e->atime = archive_entry_atime(ae);
		e->ctime = archive_entry_ctime(ae);
		e->size = size;
		e->data = malloc((size_t)size + 1);
		assert_non_null(e->data);
		if (S_ISREG(e->mode))
			assert_int_equal(archive_read_data(a, e->data,
							   (size_t)size), size);
	}
	if (st != ARCHIVE_EOF)
		fail_msg("archive_read_next_header: %d (%s)", st,
			 archive_error_string(a));
	assert_int_equal(archive_read_free(a), ARCHIVE_OK);
}

static const struct rentry *rfind(const struct rimage *r, const char *path)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].path, path))
			return &r->v[i];
	fail_msg("no entry '%s' in the image", path);
	return NULL;
}

static void assert_file(const struct rimage *r, const char *path, mode_t mode,
			const char *content, long long mtime)
{
	const struct rentry *e = rfind(r, path);

	assert_int_equal(e->mode, S_IFREG | mode);
	assert_int_equal(e->uid, 0);
	assert_int_equal(e->gid, 0);
	assert_int_equal(e->mtime, mtime);
	assert_int_equal(e->atime, mtime);
	assert_int_equal(e->ctime, mtime);
	assert_int_equal(e->size, strlen(content));
	assert_memory_equal(e->data, content, strlen(content));
}

static void assert_seed(const struct pf_buf *b, long long mtime)
{
	struct rimage r;

	read_image(b, &r);
	assert_int_equal(r.n, 3);
	assert_file(&r, "meta-data", 0644, META_DATA, mtime);
	assert_file(&r, "network-config", 0644, NETWORK_CONFIG, mtime);
	assert_file(&r, "user-data", 0600, USER_DATA, mtime);
	rimage_release(&r);
}

/* ---- layout ------------------------------------------------------------ */

static void descriptors(void **state)
{
	static const unsigned char t7[7] = { 123, 11, 14, 22, 13, 20, 0 };
	static const unsigned char joliet_id[32] = {
		0, 'c', 0, 'i', 0, 'd', 0, 'a', 0, 't', 0, 'a', 0, ' ', 0, ' ',
		0, ' ', 0, ' ', 0, ' ', 0, ' ', 0, ' ', 0, ' ', 0, ' ', 0, ' ',
	};
	struct pf_pack p;
	struct pf_buf out;
	const unsigned char *pvd, *svd;
	const char *info;

	seed_pack(&p);
	write_ok(&p, MTIME, &out);
	/* the primary descriptor, at sector 16; d-characters: upper case */
	pvd = (const unsigned char *)out.data + 16 * SECTOR;
	assert_int_equal(pvd[0], 1);
	assert_memory_equal(pvd + 40, "CIDATA                          ", 32);
	/* Joliet: UCS-2 level 3 (escape "%/E"), the id as given */
	svd = find_vd(&out, 2);
	assert_memory_equal(svd + 88, "%/E", 3);
	assert_memory_equal(svd + 40, joliet_id, 32);
	/* creation, modification, effective: mtime in UTC (offset 0), not
	 * the time of the build; expiration not specified */
	for (int k = 0; k < 2; k++) {
		const unsigned char *vd = k ? svd : pvd;

		assert_memory_equal(vd + 813, MTIME_DIGITS "\0", 17);
		assert_memory_equal(vd + 830, MTIME_DIGITS "\0", 17);
		assert_memory_equal(vd + 847, "0000000000000000\0", 17);
		assert_memory_equal(vd + 864, MTIME_DIGITS "\0", 17);
		/* the root directory's record */
		assert_memory_equal(vd + 156 + 18, t7, 7);
	}
	/* libarchive's INFO block after the terminator: ctime of mtime */
	info = out.data + (size_t)(svd - (const unsigned char *)out.data) +
	       2 * SECTOR;
	assert_memory_equal(info - SECTOR, "\xff" "CD001", 6);
	assert_memory_equal(info, "INFO Tue Nov 14 22:13:20 2023\n", 30);
	assert_seed(&out, MTIME);
	buf_release(&out);
	pack_release(&p);
}

/* Parents are added (0755), every level has mtime; deep enough for
 * libarchive to relocate directories (Rock Ridge rr_moved). */
static void nested(void **state)
{
	static const char deep[] = "a/b/c/d/e/f/g/h/i/j/k/l/deep-file";
	struct pf_pack p;
	struct pf_buf out, other;
	struct rimage r;
	char dir[sizeof(deep)];

	pack_init(&p);
	assert_int_equal(pack_add_data(&p, deep, "x", 1, 0640), 0);
	assert_int_equal(pack_add_data(&p, "a/top", "t", 1, 0644), 0);
	write_in_zone(&p, "UTC0", MTIME, &out);
	write_in_zone(&p, "JST-9", MTIME, &other);
	assert_same(&out, &other);
	read_image(&out, &r);
	assert_int_equal(r.n, 14);	/* 12 directories, 2 files */
	assert_file(&r, deep, 0640, "x", MTIME);
	assert_file(&r, "a/top", 0644, "t", MTIME);
	memcpy(dir, deep, sizeof(deep));
	for (char *slash; (slash = strrchr(dir, '/'));) {
		const struct rentry *e;

		*slash = '\0';
		e = rfind(&r, dir);
		assert_int_equal(e->mode, S_IFDIR | 0755);
		assert_int_equal(e->mtime, MTIME);
		assert_int_equal(e->ctime, MTIME);
	}
	rimage_release(&r);
	buf_release(&other);
	buf_release(&out);
	pack_release(&p);
}

static void empty_pack(void **state)
{
	struct pf_pack p;
	struct pf_buf out;
	struct rimage r;

	pack_init(&p);
	write_ok(&p, MTIME, &out);
	read_image(&out, &r);
	assert_int_equal(r.n, 0);
	rimage_release(&r);
	buf_release(&out);
	pack_release(&p);
}

/* Appends to what out already holds; the dates are fixed in the image,
 * not at the buffer's start. */
static void appends(void **state)
{
	struct pf_pack p;
	struct pf_buf alone, out;
	char *failed;

	seed_pack(&p);
	write_ok(&p, MTIME, &alone);
	buf_init(&out);
	assert_int_equal(buf_append(&out, "HEAD", 4), 0);
	assert_int_equal(pack_iso_write(&p, "cidata", MTIME, &out, &failed),
			 0);
	assert_null(failed);
	assert_int_equal(out.len, 4 + alone.len);
	assert_memory_equal(out.data, "HEAD", 4);
	assert_memory_equal(out.data + 4, alone.data, alone.len);
	buf_release(&out);
	buf_release(&alone);
	pack_release(&p);
}

/* ---- determinism -------------------------------------------------------- */

/* libarchive stamps the time of the build and writes local time: neither
 * may reach the bytes. */
static void deterministic(void **state)
{
	struct pf_pack p, q;
	struct pf_buf a, later, tokyo, newfoundland, reordered, other;

	seed_pack(&p);
	write_ok(&p, MTIME, &a);
	sleep(1);	/* time(NULL) moves on */
	write_ok(&p, MTIME, &later);
	assert_same(&a, &later);
	/* POSIX zone strings: no tzdata needed */
	write_in_zone(&p, "JST-9", MTIME, &tokyo);
	assert_same(&a, &tokyo);
	write_in_zone(&p, "NST3:30NDT", MTIME, &newfoundland);
	assert_same(&a, &newfoundland);
	/* the order of adding does not matter */
	pack_init(&q);
	assert_int_equal(pack_add_data(&q, "meta-data", META_DATA,
				       strlen(META_DATA), 0644), 0);
	assert_int_equal(pack_add_data(&q, "user-data", USER_DATA,
				       strlen(USER_DATA), 0600), 0);
	assert_int_equal(pack_add_data(&q, "network-config", NETWORK_CONFIG,
				       strlen(NETWORK_CONFIG), 0644), 0);
	write_ok(&q, MTIME, &reordered);
	assert_same(&a, &reordered);
	/* another mtime: other bytes, and that mtime everywhere */
	write_ok(&p, MTIME + 86400 + 1, &other);
	assert_int_equal(other.len, a.len);
	assert_true(memcmp(other.data, a.data, a.len) != 0);
	assert_memory_equal(other.data + 16 * SECTOR + 813,
			    "2023111522132100", 16);
	assert_seed(&other, MTIME + 86400 + 1);
	buf_release(&other);
	buf_release(&reordered);
	buf_release(&newfoundland);
	buf_release(&tokyo);
	buf_release(&later);
	buf_release(&a);
	pack_release(&q);
	pack_release(&p);
}

/* ---- failures ---------------------------------------------------------- */

static void bad_arguments(void **state)
{
	static const struct {
		const char *id;
		long long mtime;
	} bad[] = {
		{ "cidata", -1 },
		{ "cidata", 5869584000LL },	/* 2156: past one byte */
		{ "", MTIME },
		{ "123456789012345678901234567890123", MTIME },	/* 33 */
	};
	struct pf_pack p;
	struct pf_buf out;
	char *failed;

	seed_pack(&p);
	buf_init(&out);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		failed = (char *)"unset";
		assert_int_equal(pack_iso_write(&p, bad[i].id, bad[i].mtime,
						&out, &failed), -EINVAL);
		assert_null(failed);
		assert_int_equal(out.len, 0);
	}
	/* the limits themselves are fine */
	write_ok(&p, 0, &out);
	buf_release(&out);
	write_ok(&p, 5869583999LL, &out);
	assert_memory_equal(out.data + 16 * SECTOR + 813, "2155123123595900",
			    16);
	buf_release(&out);
	buf_init(&out);
	assert_int_equal(pack_iso_write(&p, "12345678901234567890123456789012",
					MTIME, &out, &failed), 0);
	assert_null(failed);
	assert_memory_equal(out.data + 16 * SECTOR + 40,
			    "12345678901234567890123456789012", 32);
	buf_release(&out);
	pack_release(&p);
}

static void missing_source(void **state)
{
	struct pf_pack p;
	struct pf_buf out;
	char *failed = NULL;

	pack_init(&p);
	assert_int_equal(pack_add_data(&p, "meta-data", META_DATA,
				       strlen(META_DATA), 0644), 0);
	assert_int_equal(pack_add_file(&p, "user-data", "gone/user-data",
				       0600), 0);
	buf_init(&out);
	assert_int_equal(pack_iso_write(&p, "cidata", MTIME, &out, &failed),
			 -ENOENT);
	assert_non_null(failed);
	assert_string_equal(failed, "gone/user-data");
	free(failed);
	buf_release(&out);
	pack_release(&p);
}

/* ---- real readers ------------------------------------------------------- */

/* Runs cmd, returns its stdout (malloc'd); its exit status must be 0. */
static char *run(const char *cmd)
{
	FILE *fp = popen(cmd, "r");
	struct pf_buf b;
	char chunk[4096];
	size_t n;
	int st;

	assert_non_null(fp);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	st = pclose(fp);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		fail_msg("'%s' failed (status %d): %s", cmd, st,
			 b.data ? b.data : "");
	return buf_detach(&b);
}

/* The value after "key:" on the line of text starting with key, trimmed. */
static char *field(const char *text, const char *key)
{
	const char *l = text;

	while (*l) {
		const char *v = strchr(l, ':'), *end = strchr(l, '\n');

		if (!end)
			end = l + strlen(l);
		if (!strncmp(l, key, strlen(key)) && v && v < end) {
			for (v++; *v == ' '; v++)
				;
			while (end > v && end[-1] == ' ')
				end--;
			return strndup(v, (size_t)(end - v));
		}
		l = *end ? end + 1 : end;
	}
	fail_msg("no '%s' in:\n%s", key, text);
	return NULL;
}

static void write_seed_iso(void)
{
	struct pf_pack p;
	struct pf_buf out;

	seed_pack(&p);
	write_ok(&p, MTIME, &out);
	write_bytes("seed.iso", out.data, out.len);
	buf_release(&out);
	pack_release(&p);
}

static void xorriso_pvd(void **state)
{
	char *text, *v;

	write_seed_iso();
	text = run("xorriso -indev seed.iso -pvd_info 2>&1");
	v = field(text, "Volume Id");
	/* cloud-init asks blkid for LABEL=CIDATA or LABEL=cidata */
	if (strcasecmp(v, "cidata"))
		fail_msg("Volume Id '%s'", v);
	free(v);
	v = field(text, "Creation Time");
	assert_string_equal(v, MTIME_DIGITS);
	free(v);
	v = field(text, "Modif. Time");
	assert_string_equal(v, MTIME_DIGITS);
	free(v);
	free(text);
}

static void xorriso_extract(void **state)
{
	static const struct {
		const char *name, *content;
		mode_t mode;
	} files[] = {
		{ "meta-data", META_DATA, 0644 },
		{ "network-config", NETWORK_CONFIG, 0644 },
		{ "user-data", USER_DATA, 0600 },
	};
	struct stat st;

	write_seed_iso();
	/* extracting "/" into a directory that exists keeps its mode */
	assert_int_equal(mkdir("x", 0700), 0);
	free(run("xorriso -osirrox on -indev seed.iso -extract / x 2>&1"));
	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		char path[64];
		size_t len;
		char *data;

		snprintf(path, sizeof(path), "x/%s", files[i].name);
		data = slurp(path, &len);
		assert_int_equal(len, strlen(files[i].content));
		assert_memory_equal(data, files[i].content, len);
		free(data);
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, files[i].mode);
		assert_int_equal(st.st_mtime, MTIME);
	}
}

/* blkid is what cloud-init's NoCloud asks for the label; it reports the
 * Joliet volume id, as written. */
static void blkid_label(void **state)
{
	char *label;

	write_seed_iso();
	label = run("PATH=\"$PATH:/usr/sbin:/sbin\" "
		    "blkid -p -o value -s LABEL seed.iso");
	assert_string_equal(label, "cidata\n");
	free(label);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(descriptors),
		T(nested),
		T(empty_pack),
		T(appends),
		T(deterministic),
		T(bad_arguments),
		T(missing_source),
		T(xorriso_pvd),
		T(xorriso_extract),
		T(blkid_label),
	};
#undef T

	return cmocka_run_group_tests_name("pack_iso", tests, NULL, NULL);
}
