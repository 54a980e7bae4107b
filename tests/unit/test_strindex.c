/* Unit tests for lib/strindex.c: the first number added for a key is the
 * one found, through many growths; keys differing in one byte stay apart. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/strindex.h"

#define NKEYS 50000

static void test_first_wins(void **state)
{
	struct pf_strindex ix;
	char (*keys)[16] = calloc(NKEYS, sizeof(*keys));
	size_t v;

	(void)state;
	assert_non_null(keys);
	strindex_init(&ix);
	for (size_t i = 0; i < NKEYS; i++) {
		snprintf(keys[i], sizeof(keys[i]), "node%05zu", i);
		v = i;
		assert_int_equal(strindex_add_or_find(&ix, keys[i], &v), 0);
		assert_int_equal(v, i);
	}
	assert_int_equal(ix.n, NKEYS);
	/* a second spelling of each key (another buffer, same bytes) */
	for (size_t i = 0; i < NKEYS; i++) {
		char again[16];

		snprintf(again, sizeof(again), "node%05zu", i);
		v = NKEYS + i;
		assert_int_equal(strindex_add_or_find(&ix, again, &v), 1);
		assert_int_equal(v, i);
	}
	assert_int_equal(ix.n, NKEYS);
	/* find: present keys give their first number, absent ones leave
	 * val alone and are not added */
	v = 12345678;
	assert_int_equal(strindex_find(&ix, "node49999", &v), 1);
	assert_int_equal(v, 49999);
	v = 12345678;
	assert_int_equal(strindex_find(&ix, "node50000", &v), 0);
	assert_int_equal(strindex_find(&ix, "node0000", &v), 0);
	assert_int_equal(v, 12345678);
	assert_int_equal(ix.n, NKEYS);
	v = 7;
	assert_int_equal(strindex_add_or_find(&ix, "node1", &v), 0);
	v = 8;
	assert_int_equal(strindex_add_or_find(&ix, "", &v), 0);
	v = 9;
	assert_int_equal(strindex_add_or_find(&ix, "", &v), 1);
	assert_int_equal(v, 8);
	strindex_release(&ix);
	assert_null(ix.v);
	assert_int_equal(ix.n, 0);
	/* an empty index finds nothing */
	assert_int_equal(strindex_find(&ix, "node1", &v), 0);
	strindex_release(NULL);
	free(keys);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_wins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
