/* The bundles made from an output tree, recorded in
 * OUT/.pxeforge-bundles.json (mode 0600, never bundled or served): for
 * each, the archive's absolute path, its stat fingerprint when written,
 * its size and SHA-256, and the recipe (a SHA-256 of everything its bytes
 * depend on). A later build skips an archive that is still that file and
 * would be made from the same recipe. The record is advisory: missing or
 * not as pxeforge writes it, it is empty, and the archive is made again. */
#ifndef PXEFORGE_BUNDLE_RECORD_H
#define PXEFORGE_BUNDLE_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/out/outstate.h"

#define PF_BUNDLES_NAME ".pxeforge-bundles.json"

struct pf_bundle_record {
	char *file;	/* absolute */
	char *recipe;	/* 64 hex digits */
	char *stat;	/* stat_fingerprint of file when written */
	struct pf_filesum sum;
};

struct pf_bundle_records {
	struct pf_bundle_record *v;
	size_t n;
};

void bundle_records_release(struct pf_bundle_records *r);
/* dir's record; a missing or garbled one is empty. 0 or -ENOMEM. */
int bundle_records_load(const char *dir, struct pf_bundle_records *r);
/* The record for file (absolute), or NULL. */
const struct pf_bundle_record *
bundle_records_find(const struct pf_bundle_records *r, const char *file);
/* rec's file is still the one it describes (a regular file with the
 * recorded stat fingerprint); *st is what lstat found. */
bool bundle_record_current(const struct pf_bundle_record *rec,
			   struct stat *st);
/* Writes dir's record anew: rec, and those of old for other files that
 * are still as recorded (a file replaced or removed since is not ours to
 * remember). 0 or -errno. */
int bundle_records_save(const char *dir, const struct pf_bundle_records *old,
			const struct pf_bundle_record *rec);

#endif
