/* Unit tests for diag.c: messages print sorted by place, and a message
 * repeated at its place (a defaults value checked for every host) prints
 * once. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/diag.h"

/* What diag_print writes, as one string (caller frees). */
static char *printed(struct pf_diag *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&text, &len);

	assert_non_null(fp);
	diag_print(d, fp);
	assert_int_equal(fclose(fp), 0);
	return text;
}

static void test_sorted_by_place(void **state)
{
	struct pf_mark a = { "p.yaml", 9, 3 }, b = { "p.yaml", 2, 7 };
	struct pf_diag *d = diag_new();
	char *out;

	(void)state;
	assert_non_null(d);
	diag_error(d, &a, "second '%s'", "x");
	diag_warn(d, &b, "first");
	diag_error(d, NULL, "no place");
	out = printed(d);
	assert_string_equal(out, "pxeforge: error: no place\n"
				 "p.yaml:2:7: warning: first\n"
				 "p.yaml:9:3: error: second 'x'\n");
	assert_int_equal(diag_errors(d), 2);
	assert_int_equal(diag_warnings(d), 1);
	free(out);
	diag_free(d);
}

static void test_repeat_at_one_place_prints_once(void **state)
{
	struct pf_mark gw = { "p.yaml", 8, 16 }, ns = { "p.yaml", 9, 31 };
	struct pf_mark other = { "q.yaml", 8, 16 };
	struct pf_diag *d = diag_new();
	char *out, *again;

	(void)state;
	assert_non_null(d);
	/* three hosts inherit a bad gateway and nameserver */
	for (int host = 0; host < 3; host++) {
		diag_error(d, &gw, "invalid gateway address '10.0.0.256'");
		diag_error(d, &ns, "invalid nameserver address 'dns'");
		diag_error(d, &gw, "other problem of host %d", host);
	}
	/* the same text elsewhere, or as a warning, is another message */
	diag_error(d, &other, "invalid gateway address '10.0.0.256'");
	diag_warn(d, &gw, "invalid gateway address '10.0.0.256'");
	out = printed(d);
	assert_string_equal(out,
			    "p.yaml:8:16: error: invalid gateway address '10.0.0.256'\n"
			    "p.yaml:8:16: error: other problem of host 0\n"
			    "p.yaml:8:16: error: other problem of host 1\n"
			    "p.yaml:8:16: error: other problem of host 2\n"
			    "p.yaml:8:16: warning: invalid gateway address '10.0.0.256'\n"
			    "p.yaml:9:31: error: invalid nameserver address 'dns'\n"
			    "q.yaml:8:16: error: invalid gateway address '10.0.0.256'\n");
	/* printing again (sorted already) prints the same */
	again = printed(d);
	assert_string_equal(again, out);
	free(again);
	free(out);
	diag_free(d);
}

/* show: only places in q.yaml */
static bool in_q(const struct pf_mark *at, void *ctx)
{
	(void)ctx;
	return at->file && !strcmp(at->file, "q.yaml");
}

static void test_print_some_counts_the_others(void **state)
{
	struct pf_mark p1 = { "p.yaml", 3, 5 }, q1 = { "q.yaml", 2, 1 };
	struct pf_diag *d = diag_new();
	char *text = NULL;
	size_t len = 0, hidden;
	FILE *fp;

	(void)state;
	assert_non_null(d);
	diag_error(d, &p1, "hidden one");
	diag_error(d, &p1, "hidden one");	/* said once, counted once */
	diag_warn(d, &p1, "hidden two");
	diag_error(d, &q1, "shown");
	fp = open_memstream(&text, &len);
	assert_non_null(fp);
	hidden = diag_print_some(d, fp, in_q, NULL);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(hidden, 2);
	assert_string_equal(text, "q.yaml:2:1: error: shown\n");
	/* every error still counts */
	assert_int_equal(diag_errors(d), 3);
	free(text);
	diag_free(d);
}

static void test_free_null(void **state)
{
	(void)state;
	diag_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sorted_by_place),
		cmocka_unit_test(test_repeat_at_one_place_prints_once),
		cmocka_unit_test(test_print_some_counts_the_others),
		cmocka_unit_test(test_free_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
