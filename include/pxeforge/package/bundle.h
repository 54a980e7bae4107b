/* bundle: the whole output tree as one reproducible archive (libarchive):
 * tar in the pax-restricted format, gzip or zstd, entries sorted
 * bytewise by path, directories included, uid/gid 0 ("root"), one mtime,
 * nothing of the build machine (no atime/ctime, no user names, no inode
 * numbers). File contents are streamed from the written tree. */
#ifndef PXEFORGE_BUNDLE_H
#define PXEFORGE_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>

#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/out/outtree.h"

enum pf_bundle_format {
	PF_BUNDLE_UNKNOWN = 0,
	PF_BUNDLE_TAR_GZ,	/* .tar.gz, .tgz */
	PF_BUNDLE_TAR_ZST,	/* .tar.zst, .tzst */
};

/* Levels are fixed: the same input gives the same bytes. zstd 10 is
 * about five times slower than zstd's default 3 and a tenth smaller;
 * 15 and up take minutes per gigabyte. */
#define PF_BUNDLE_ZSTD_LEVEL 10
#define PF_BUNDLE_GZIP_LEVEL 6

/* The accepted extensions, for messages. */
#define PF_BUNDLE_EXTENSIONS ".tar.zst, .tzst, .tar.gz or .tgz"

/* By the file name's extension. */
enum pf_bundle_format bundle_format(const char *file);

struct pf_bundle_result {
	struct pf_filesum sum;	/* of the archive */
	size_t entries;		/* directories and files */
	bool replaced;		/* false: file already held these bytes */
};

/* Writes file (its directory must exist) from the tree t that
 * outtree_write wrote into dir: t's files and dir/manifest.json, read
 * from dir, each of the size outtree_write recorded (else -EIO: the tree
 * changed under us). mtime is every entry's. The archive goes through
 * the hashing writer: mode 0600 when an entry is a secret, else 0644;
 * an unchanged archive is not replaced, and one that is still the file
 * written from the same tree (bundle_record.h) is not even made. With
 * progress, a bar on stderr while each file of 16 MiB or more goes in.
 * 0, or -errno with *failed (malloc'd) naming the path that failed. */
int bundle_write(const struct pf_outtree *t, const char *dir,
		 const char *file, long long mtime, bool progress,
		 struct pf_bundle_result *res, char **failed);

#endif
