/* Unit tests for the embedded cloud-init/ files (scripts/embed.sh,
 * build/gen/fragments.c): every file under cloud-init/ comes back
 * byte-identical under its relative name; other names give NULL. Run from
 * the repository root, as tests/run.sh does. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/fragments.h"

#define ROOT "cloud-init/"

static int files_seen;
static int files_wrong;

/* The whole file at path, or NULL; its length in *len. */
static unsigned char *read_all(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	unsigned char *buf = NULL, *grown;
	size_t cap = 0, n;

	*len = 0;
	if (!fp)
		return NULL;
	for (;;) {
		if (*len == cap) {
			cap = cap ? 2 * cap : 4096;
			grown = realloc(buf, cap);
			if (!grown)
				goto fail;
			buf = grown;
		}
		n = fread(buf + *len, 1, cap - *len, fp);
		*len += n;
		if (n == 0)
			break;
	}
	if (ferror(fp))
		goto fail;
	fclose(fp);
	return buf;
fail:
	free(buf);
	fclose(fp);
	return NULL;
}

static int check_file(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	const struct pf_fragment *frag;
	unsigned char *bytes;
	size_t len;

	(void)st;
	(void)ftw;
	if (flag != FTW_F)
		return 0;
	files_seen++;
	frag = fragment_get(path + strlen(ROOT));
	bytes = read_all(path, &len);
	if (!frag || !bytes || frag->len != len ||
	    memcmp(frag->data, bytes, len) != 0 || frag->data[len] != '\0' ||
	    strcmp(frag->name, path + strlen(ROOT)) != 0) {
		print_error("%s: not embedded byte for byte\n", path);
		files_wrong++;
	}
	free(bytes);
	return 0;
}

static void every_file_is_embedded(void **state)
{
	files_seen = files_wrong = 0;
	assert_int_equal(nftw(ROOT, check_file, 16, FTW_PHYS), 0);
	/* at least the four containerd files: a missing tree must not pass */
	assert_true(files_seen >= 4);
	assert_int_equal(files_wrong, 0);
}

static void the_containerd_files_by_name(void **state)
{
	static const char *const names[] = {
		"containerd/config-v3.toml.tmpl",
		"containerd/cdi-v3.toml",
		"containerd/config.toml.tmpl",
		"containerd/cdi-v2.toml",
	};
	const struct pf_fragment *f;
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		f = fragment_get(names[i]);
		assert_non_null(f);
		assert_string_equal(f->name, names[i]);
		assert_true(f->len > 0);
	}
	f = fragment_get("containerd/config-v3.toml.tmpl");
	assert_non_null(f);
	assert_string_equal((const char *)f->data,
			    "imports = [\"/etc/containerd/cdi.toml\"]\n"
			    "{{ template \"base\" . }}\n");
}

static void unknown_names_give_null(void **state)
{
	static const char *const names[] = {
		"",
		"containerd",
		"containerd/",
		"cdi-v3.toml",
		"/containerd/cdi-v3.toml",
		"cloud-init/containerd/cdi-v3.toml",
		"containerd/../containerd/cdi-v3.toml",
		"containerd/cdi-v3.toml ",
		"containerd/CDI-v3.toml",
		"containerd/cdi-v3.tom",
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		assert_null(fragment_get(names[i]));
	assert_null(fragment_get(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(every_file_is_embedded),
		cmocka_unit_test(the_containerd_files_by_name),
		cmocka_unit_test(unknown_names_give_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
