/* Unit tests for lib/hex.c: one encoder (lowercase) and one sha256-hex
 * rule (either case read, lowercase kept). The digest of "abc" is the
 * FIPS 180-2 example, not something pxeforge computed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/lib/hex.h"

#define ABC "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define ABC_UPPER "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"
#define ABC_MIXED "Ba7816bF8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015aD"

static void test_encode(void **state)
{
	const unsigned char bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[2 * sizeof(bytes) + 1], hex[65];
	char *dup = NULL;

	memset(out, 'x', sizeof(out));
	hex_encode(bytes, sizeof(bytes), out);
	assert_string_equal(out, "00017f80abff");
	hex_encode(bytes, 0, out);
	assert_string_equal(out, "");
	assert_int_equal(hex_encode_dup(bytes, sizeof(bytes), &dup), 0);
	assert_string_equal(dup, "00017f80abff");
	free(dup);
	/* the digests pxeforge writes go through the same encoder */
	assert_int_equal(sha256_hex("abc", 3, hex), 0);
	assert_string_equal(hex, ABC);
}

static void test_sha256_either_case(void **state)
{
	char out[65];

	assert_true(sha256_hex_valid(ABC));
	assert_true(sha256_hex_valid(ABC_UPPER));
	assert_true(sha256_hex_valid(ABC_MIXED));
	assert_int_equal(sha256_hex_lower(ABC_UPPER, out), 0);
	assert_string_equal(out, ABC);
	assert_int_equal(sha256_hex_lower(ABC_MIXED, out), 0);
	assert_string_equal(out, ABC);
	assert_int_equal(sha256_hex_lower(ABC, out), 0);
	assert_string_equal(out, ABC);
}

static void test_sha256_in_place(void **state)
{
	char s[65] = ABC_UPPER;

	assert_int_equal(sha256_hex_lower(s, s), 0);
	assert_string_equal(s, ABC);
}

static void test_sha256_rejected(void **state)
{
	const char *bad[] = {
		"",
		ABC "0",			/* 65 digits */
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
		"ga7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
		"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a ",
		" ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
		"0xba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015",
	};
	char out[65] = "untouched";

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(sha256_hex_valid(bad[i]));
		assert_int_equal(sha256_hex_lower(bad[i], out), -EINVAL);
		assert_string_equal(out, "untouched");
	}
	assert_int_equal(sha256_hex_lower(NULL, out), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode),
		cmocka_unit_test(test_sha256_either_case),
		cmocka_unit_test(test_sha256_in_place),
		cmocka_unit_test(test_sha256_rejected),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
