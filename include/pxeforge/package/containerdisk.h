/* containerdisk: a KubeVirt containerDisk as an OCI image layout archive
 * (what `skopeo copy oci-archive:FILE docker://…` and `podman load` take).
 *
 * The archive is a plain tar (pax-restricted: ustar unless a size or name
 * needs more), entries sorted, owner 0:0 root, one mtime:
 *   blobs/ blobs/sha256/ blobs/sha256/<hex> (layer, config, manifest)
 *   index.json oci-layout
 * The one layer is a gzip or zstd tar holding disk/ (0555) and
 * disk/<name> (0440), both owned by 107:107, the qemu user that reads the
 * disk in KubeVirt's virt-launcher (KubeVirt's docs build the same with
 * `ADD --chown=107:107 disk.qcow2 /disk/`). config, manifest and index
 * are JSON from jansson, keys sorted, compact.
 *
 * Streaming: the disk is read once, through a tar writer (its bytes hash
 * to the config's diff_id) into the compressor (its output hashes to the
 * layer digest) into an unlinked temporary file beside FILE; that file is
 * then copied into the archive. Memory does not depend on the disk's size;
 * the directory of FILE needs room for the compressed layer twice. */
#ifndef PXEFORGE_CONTAINERDISK_H
#define PXEFORGE_CONTAINERDISK_H

#include <stdbool.h>
#include <stdint.h>

#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/profile/profile.h"

#define PF_OCI_MANIFEST_TYPE "application/vnd.oci.image.manifest.v1+json"
#define PF_OCI_INDEX_TYPE "application/vnd.oci.image.index.v1+json"
#define PF_OCI_CONFIG_TYPE "application/vnd.oci.image.config.v1+json"
#define PF_OCI_LAYER_GZIP_TYPE "application/vnd.oci.image.layer.v1.tar+gzip"
#define PF_OCI_LAYER_ZSTD_TYPE "application/vnd.oci.image.layer.v1.tar+zstd"

/* The qemu user and group of KubeVirt's virt-launcher. */
#define PF_CDISK_UID 107
#define PF_CDISK_GID PF_CDISK_UID	/* archive_out_tar_entry: one id for both */
#define PF_CDISK_FILE_MODE 0440
#define PF_CDISK_DIR_MODE 0555

/* Fixed levels: the same disk gives the same bytes. */
#define PF_CDISK_GZIP_LEVEL 6
#define PF_CDISK_ZSTD_LEVEL 3

struct pf_cdisk_opts {
	enum pf_compress compress;	/* PF_COMPRESS_GZIP (also for UNSET)
					 * or PF_COMPRESS_ZSTD */
	long long mtime;	/* every timestamp: SOURCE_DATE_EPOCH, >= 0 */
	const char *disk_name;	/* the file under disk/; NULL: DISK's
				 * basename (containerdisk_name_ok) */
	const char *ref;	/* NULL: none; else index.json names the image
				 * with org.opencontainers.image.ref.name
				 * (a tag such as "latest", for umoci or
				 * `skopeo copy oci-archive:FILE:REF`) */
	bool progress;		/* bar on stderr while the disk is read; the
				 * caller passes isatty(2) && !quiet */
};

/* All zero: gzip, mtime 0, DISK's basename, no ref, no bar. */
void containerdisk_opts_init(struct pf_cdisk_opts *o);

/* A name that can go under disk/: 1 to 255 printable ASCII characters,
 * no '/', not "." or "..". */
bool containerdisk_name_ok(const char *name);
/* The same for an image reference (ref.name): 1 to 128 characters of
 * [A-Za-z0-9._:/@+-], starting with a letter or digit. */
bool containerdisk_ref_ok(const char *ref);

/* Writes the archive file from the disk image disk (a regular file),
 * through the hashing writer (include/pxeforge/hashwrite.h): mode 0644,
 * *sum its size and SHA-256, and an archive that already holds the same
 * bytes is left in place (*replaced false). The same disk and opts give
 * the same bytes. 0, -EINVAL (a bad name, ref or mtime; *failed NULL),
 * -ENOMEM (*failed NULL) or
 * -errno with *failed (malloc'd) naming the path that failed: disk (it
 * cannot be read, is not a regular file: -EISDIR/-EINVAL, or changed
 * size while read: -ESTALE) or file (it or its temporary files could not be
 * written). */
int containerdisk_write(const char *disk, const char *file,
			const struct pf_cdisk_opts *o, struct pf_filesum *sum,
			bool *replaced, char **failed);

/* ---- the layer (containerdisk_layer.c), for containerdisk_write ---- */

struct pf_cdisk_layer {
	int fd;			/* the compressed layer: an unlinked temporary
				 * file, at offset 0 on success; -1: none */
	uint64_t size;		/* compressed bytes */
	char digest[65];	/* their SHA-256: the blob's name */
	char diff_id[65];	/* SHA-256 of the uncompressed tar */
};

/* Streams disk_fd (size bytes, regular file) into the layer as
 * disk/<name>; the temporary file goes beside file (PF_TMP_PREFIX) and is
 * unlinked at once, so it disappears on every path. 0 or -errno;
 * *disk_failed tells whether the disk (not the temporary file) failed.
 * On failure l->fd is -1. */
int containerdisk_layer(int disk_fd, uint64_t size, const char *name,
			const char *file, const struct pf_cdisk_opts *o,
			struct pf_cdisk_layer *l, bool *disk_failed);

#endif
