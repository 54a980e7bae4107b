/* The files under cloud-init/ (e.g. the containerd CDI fragments), embedded
 * into the binary at build time by scripts/embed.sh as build/gen/fragments.c. */
#ifndef PXEFORGE_FRAGMENTS_H
#define PXEFORGE_FRAGMENTS_H

#include <stddef.h>

struct pf_fragment {
	const char *name;          /* relative to cloud-init/ */
	const unsigned char *data; /* len bytes, then a NUL not counted in len */
	size_t len;
};

/* name relative to cloud-init/: "containerd/config-v3.toml.tmpl"; NULL when unknown */
const struct pf_fragment *fragment_get(const char *name);

#endif
