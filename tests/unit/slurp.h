/* slurp: a whole file into memory, for tests. Include after cmocka.h. */
#ifndef PXEFORGE_TEST_SLURP_H
#define PXEFORGE_TEST_SLURP_H

#include <stdio.h>
#include <stdlib.h>

/* The whole file, malloc'd and NUL-terminated; *len (may be NULL) its
 * size. Fails the test when it cannot be read. */
static inline char *slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	char *data;
	long n;

	if (!fp)
		fail_msg("cannot open '%s'", path);
	assert_int_equal(fseek(fp, 0, SEEK_END), 0);
	n = ftell(fp);
	assert_true(n >= 0);
	rewind(fp);
	data = malloc((size_t)n + 1);
	assert_non_null(data);
	assert_int_equal(fread(data, 1, (size_t)n, fp), (size_t)n);
	data[n] = '\0';
	assert_int_equal(fclose(fp), 0);
	if (len)
		*len = (size_t)n;
	return data;
}

#endif
