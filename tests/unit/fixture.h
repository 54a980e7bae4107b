/* Shared by the stage tests: a scratch directory each test works inside
 * (so paths in messages are short and exact), with a small pci.ids so no
 * result depends on the machine's. Include after cmocka.h. */
#ifndef PXEFORGE_TEST_FIXTURE_H
#define PXEFORGE_TEST_FIXTURE_H

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pxeforge/lib/diag.h"
#include "pxeforge/lib/pciid.h"

struct fixture {
	char dir[64];
	char cwd[PATH_MAX];
};

static inline void fixture_write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, strlen(text), fp), strlen(text));
	assert_int_equal(fclose(fp), 0);
}

/* mkdtemp /tmp/pxeforge-test-<tag>-XXXXXX, chdir into it, write pci_ids
 * there and point PXEFORGE_PCI_IDS at it. 0 or -1. */
static inline int fixture_enter(struct fixture *f, const char *tag,
				const char *pci_ids)
{
	char ids[128];

	if (!getcwd(f->cwd, sizeof(f->cwd)))
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/pxeforge-test-%s-XXXXXX", tag);
	if (!mkdtemp(f->dir) || chdir(f->dir) != 0)
		return -1;
	fixture_write_file("pci.ids", pci_ids);
	snprintf(ids, sizeof(ids), "%s/pci.ids", f->dir);
	setenv("PXEFORGE_PCI_IDS", ids, 1);
	return 0;
}

static inline int fixture_remove_entry(const char *path, const struct stat *st,
				       int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Back to the old directory, scratch directory removed. 0 or -1. */
static inline int fixture_leave(struct fixture *f)
{
	int rc;

	pciid_cleanup();
	unsetenv("PXEFORGE_PCI_IDS");
	rc = chdir(f->cwd);
	if (nftw(f->dir, fixture_remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		rc = -1;
	return rc ? -1 : 0;
}

/* Everything diag_print prints, as a malloc'd string. */
static inline char *fixture_diag_text(struct pf_diag *d)
{
	char *out = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&out, &len);

	assert_non_null(mem);
	diag_print(d, mem);
	assert_int_equal(fclose(mem), 0);
	return out;
}

#endif
