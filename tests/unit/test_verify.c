/* verify_tree and manifest_parse: a written tree checked against its
 * manifest, and manifests that are not pxeforge's. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/out/outstate.h"
#include "pxeforge/out/outtree.h"
#include "pxeforge/out/verify.h"
#include "tmpdir.h"

#define SHA_X "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"


static void put(const char *dir, const char *rel, const char *text,
		mode_t mode)
{
	char *p = join(dir, rel);
	FILE *fp = fopen(p, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(p, mode), 0);
	free(p);
}

static void test_manifest_parse(void **state)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{}",
		"{\"files\": {}}",
		"{\"files\": [1]}",
		"{\"files\": [{\"path\": \"a\", \"size\": 1}]}",
		"{\"files\": [{\"path\": \"a\", \"sha256\": \"" SHA_X "\"}]}",
		"{\"files\": [{\"path\": \"a\", \"sha256\": \"" SHA_X "\", \"size\": -1}]}",
		"{\"files\": [{\"path\": \"a\", \"sha256\": \"ABC\", \"size\": 1}]}",
		"{\"files\": [{\"path\": \"/etc/passwd\", \"sha256\": \"" SHA_X "\", \"size\": 1}]}",
		"{\"files\": [{\"path\": \"a/../../b\", \"sha256\": \"" SHA_X "\", \"size\": 1}]}",
		"{\"files\": [{\"path\": \"a\", \"sha256\": \"" SHA_X "\", \"size\": 1},"
		" {\"path\": \"a\", \"sha256\": \"" SHA_X "\", \"size\": 1}]}",
	};
	const char *good =
		"{\"files\": [{\"path\": \"z\", \"sha256\": \"" SHA_X "\", \"size\": 7},"
		" {\"path\": \"a/b\", \"sha256\": \"" SHA_X "\", \"size\": 0}]}";
	struct pf_outrecords r;
	const struct pf_outrecord *rec;
	char why[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		outrecords_init(&r);
		why[0] = '\0';
		assert_int_equal(manifest_parse(bad[i], strlen(bad[i]), &r, why,
						sizeof(why)), -EINVAL);
		assert_true(why[0] != '\0');
		outrecords_release(&r);
	}
	outrecords_init(&r);
	assert_int_equal(manifest_parse(good, strlen(good), &r, why,
					sizeof(why)), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].path, "a/b");	/* sorted */
	rec = outrecords_find(&r, "z");
	assert_non_null(rec);
	assert_true(rec->has_sum);
	assert_int_equal(rec->sum.size, 7);
	assert_string_equal(rec->sum.sha256, SHA_X);
	assert_null(outrecords_find(&r, "y"));
	outrecords_release(&r);
	outrecords_release(&r);
	outrecords_release(NULL);
	/* a sha256 in upper case is the same one (lib/hex.h), kept lowercase */
	{
		const char *upper = "{\"files\": [{\"path\": \"z\", \"sha256\": \""
			"0123456789ABCDEF0123456789abcdef0123456789ABCDEF0123456789abcdef"
			"\", \"size\": 7}]}";

		outrecords_init(&r);
		assert_int_equal(manifest_parse(upper, strlen(upper), &r, why,
						sizeof(why)), 0);
		assert_string_equal(r.v[0].sum.sha256, SHA_X);
		outrecords_release(&r);
	}
}

static void written_tree(const char *dir)
{
	struct pf_outtree t;

	outtree_init(&t);
	assert_int_equal(outtree_add(&t, "boot.ipxe", "#!ipxe\n", 7, 0644), 0);
	assert_int_equal(outtree_add(&t, "h/cmdline", "quiet\n", 6, 0644), 0);
	assert_int_equal(outtree_add(&t, "h/nix", "{}\n", 3, 0644), 0);
	assert_int_equal(outtree_add(&t, "h/secret", "pw\n", 3, 0600), 0);
	assert_int_equal(outtree_write(&t, dir, NULL, NULL), 0);
	outtree_release(&t);
}

static void test_verify_ok(void **state)
{
	const char *dir = *state;
	struct pf_verify_report r;
	char why[160];

	written_tree(dir);
	/* Not reported: the secret the state file records, the state file. */
	assert_int_equal(verify_tree(dir, &r, why, sizeof(why)), 0);
	assert_int_equal(r.n, 0);
	assert_int_equal(r.listed, 3);
	assert_int_equal(r.walk_err, 0);
	verify_report_release(&r);
	/* Strays: a secret nothing records, a killed build's temporary file. */
	put(dir, "h/other-secret", "x", 0600);
	put(dir, ".pxeforge-tmp-abc", "x", 0644);
	assert_int_equal(verify_tree(dir, &r, why, sizeof(why)), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.v[0].path, ".pxeforge-tmp-abc");
	assert_int_equal(r.v[0].kind, PF_VERIFY_EXTRA);
	assert_string_equal(r.v[1].path, "h/other-secret");
	verify_report_release(&r);
	verify_report_release(&r);
	verify_report_release(NULL);
}

static void test_verify_differences(void **state)
{
	const char *dir = *state;
	struct pf_verify_report r;
	char why[160], *p, hex[65];

	written_tree(dir);
	put(dir, "boot.ipxe", "#!IPXE\n", 0644);	/* same size */
	put(dir, "h/cmdline", "quiet splash\n", 0644);
	p = join(dir, "h/nix");
	assert_int_equal(unlink(p), 0);
	assert_int_equal(symlink("/etc/hostname", p), 0);
	free(p);
	put(dir, "extra", "x", 0644);
	assert_int_equal(mkdir(p = join(dir, "sub"), 0755), 0);
	free(p);
	put(dir, "sub/extra2", "x", 0644);
	assert_int_equal(verify_tree(dir, &r, why, sizeof(why)), 0);
	assert_int_equal(r.n, 5);
	assert_string_equal(r.v[0].path, "boot.ipxe");
	assert_int_equal(r.v[0].kind, PF_VERIFY_SHA256);
	assert_int_equal(sha256_hex("#!IPXE\n", 7, hex), 0);
	assert_string_equal(r.v[0].got.sha256, hex);
	assert_int_equal(sha256_hex("#!ipxe\n", 7, hex), 0);
	assert_string_equal(r.v[0].want.sha256, hex);
	assert_string_equal(r.v[1].path, "extra");
	assert_int_equal(r.v[1].kind, PF_VERIFY_EXTRA);
	assert_string_equal(r.v[2].path, "h/cmdline");
	assert_int_equal(r.v[2].kind, PF_VERIFY_SIZE);
	assert_int_equal(r.v[2].want.size, 6);
	assert_int_equal(r.v[2].got.size, 13);
	assert_string_equal(r.v[3].path, "h/nix");
	assert_int_equal(r.v[3].kind, PF_VERIFY_NOT_REGULAR);
	assert_string_equal(r.v[4].path, "sub/extra2");
	assert_int_equal(r.v[4].kind, PF_VERIFY_EXTRA);
	verify_report_release(&r);

	/* Missing, also when its directory is gone. */
	p = join(dir, "h/nix");
	assert_int_equal(unlink(p), 0);
	free(p);
	assert_int_equal(verify_tree(dir, &r, why, sizeof(why)), 0);
	assert_int_equal(r.v[3].kind, PF_VERIFY_MISSING);
	verify_report_release(&r);
}

static void test_verify_manifest_errors(void **state)
{
	const char *dir = *state;
	struct pf_verify_report r;
	char why[160];

	assert_int_equal(verify_tree(dir, &r, why, sizeof(why)), -ENOENT);
	put(dir, "manifest.json", "{\"files\": [", 0644);
	assert_int_equal(verify_tree(dir, &r, why, sizeof(why)), -EINVAL);
	assert_non_null(strstr(why, "line 1"));
	put(dir, "manifest.json", "{\"files\": []}", 0000);
	if (geteuid() != 0)	/* root reads it anyway */
		assert_int_equal(verify_tree(dir, &r, why, sizeof(why)), -EACCES);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_manifest_parse),
		cmocka_unit_test_setup_teardown(test_verify_ok, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_verify_differences,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_verify_manifest_errors,
						setup_tmp, teardown_tmp),
	};

	return cmocka_run_group_tests_name("verify", tests, NULL, NULL);
}
