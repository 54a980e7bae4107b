/* The output tree, held in memory until every file is rendered, then
 * written: each file to a temp file and renamed into place, unchanged
 * files left alone (their mtime too), manifest.json last. */
#ifndef PXEFORGE_OUTTREE_H
#define PXEFORGE_OUTTREE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "pxeforge/buf.h"

struct pf_outfile {
	char *path;	/* relative, '/'-separated: "c4140/netboot.ipxe" */
	char *data;
	size_t len;
	mode_t mode;	/* 0644, or 0600 for secrets (kept out of the manifest) */
};

struct pf_outtree {
	struct pf_outfile *files;
	size_t n, cap;
};

void outtree_init(struct pf_outtree *t);
void outtree_release(struct pf_outtree *t);
/* Adds a copy of data; a path added twice or not relative/normalised is
 * -EINVAL (a bug in the caller), -ENOMEM on allocation failure. */
int outtree_add(struct pf_outtree *t, const char *path, const void *data,
		size_t len, mode_t mode);
/* Sorts the files by path (bytewise). */
void outtree_sort(struct pf_outtree *t);

/* manifest.json: {"files":[{"path","sha256","size"}...]} sorted by path,
 * jansson, 2-space indent, trailing newline. Secrets (mode 0600) are left
 * out. */
int manifest_render(const struct pf_outtree *t, struct pf_buf *out);

/* Writes every file under dir (created with parents, 0755) and then
 * dir/manifest.json. Returns 0, or -errno with *failed set to the path
 * (malloc'd) that failed. *written counts files actually rewritten. */
int outtree_write(const struct pf_outtree *t, const char *dir,
		  size_t *written, char **failed);

/* Relative, '/'-separated, no empty, "." or ".." components: the paths
 * of the output tree and of archive entries. */
bool path_normalised(const char *path);

/* Hex SHA-256 of data into hex[65] (OpenSSL EVP). */
int sha256_hex(const void *data, size_t len, char hex[65]);

#endif
