/* containerdisk_write: the layer (containerdisk_layer.c), then config,
 * manifest and index.json (jansson), then all of it as one sorted tar
 * through the hashing writer. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "archive_out.h"
#include "pxeforge/package/containerdisk.h"

#define JSON_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

void containerdisk_opts_init(struct pf_cdisk_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->compress = PF_COMPRESS_GZIP;
}

bool containerdisk_name_ok(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > 255 || !strcmp(name, ".") || !strcmp(name, ".."))
		return false;
	for (size_t i = 0; i < len; i++)
		if (name[i] < 0x20 || name[i] > 0x7e || name[i] == '/')
			return false;
	return true;
}

bool containerdisk_ref_ok(const char *ref)
{
	size_t len = ref ? strlen(ref) : 0;

	if (len == 0 || len > 128 ||
	    !strchr("0123456789abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ", ref[0]))
		return false;
	for (size_t i = 0; i < len; i++)
		if (!strchr("0123456789abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ._:/@+-", ref[i]))
			return false;
	return true;
}

/* ---- JSON documents ---- */

/* A descriptor: {"digest","mediaType","size"}. */
static json_t *descriptor(const char *type, const char *hex, uint64_t size)
{
	char digest[80];

	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	return json_pack("{s:s, s:s, s:I}", "digest", digest, "mediaType", type,
			 "size", (json_int_t)size);
}

/* json_pack steals the references ("o"), also on failure. */
static char *dump(json_t *doc)
{
	char *text = doc ? json_dumps(doc, JSON_FLAGS) : NULL;

	json_decref(doc);
	return text;
}

static char *config_json(const struct pf_cdisk_layer *l, long long mtime)
{
	char created[32], diff_id[80];
	time_t t = (time_t)mtime;
	struct tm tm;

	if (!gmtime_r(&t, &tm) ||
	    !strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return NULL;
	snprintf(diff_id, sizeof(diff_id), "sha256:%s", l->diff_id);
	return dump(json_pack("{s:s, s:s, s:s, s:{s:[s], s:s}}",
			      "architecture", "amd64", "created", created,
			      "os", "linux", "rootfs", "diff_ids", diff_id,
			      "type", "layers"));
}

static char *manifest_json(const struct pf_cdisk_layer *l,
			   enum pf_compress c, const char *config_hex,
			   size_t config_len)
{
	const char *type = c == PF_COMPRESS_ZSTD ? PF_OCI_LAYER_ZSTD_TYPE :
						   PF_OCI_LAYER_GZIP_TYPE;

	return dump(json_pack("{s:o, s:[o], s:s, s:i}",
			      "config", descriptor(PF_OCI_CONFIG_TYPE,
						   config_hex, config_len),
			      "layers", descriptor(type, l->digest, l->size),
			      "mediaType", PF_OCI_MANIFEST_TYPE,
			      "schemaVersion", 2));
}

static char *index_json(const char *manifest_hex, size_t manifest_len,
			const char *ref)
{
	json_t *m = descriptor(PF_OCI_MANIFEST_TYPE, manifest_hex, manifest_len);

	if (m && json_object_set_new(m, "platform",
				     json_pack("{s:s, s:s}", "architecture",
					       "amd64", "os", "linux")) != 0) {
		json_decref(m);
		return NULL;
	}
	if (m && ref &&
	    json_object_set_new(m, "annotations",
				json_pack("{s:s}", "org.opencontainers.image.ref.name",
					  ref)) != 0) {
		json_decref(m);
		return NULL;
	}
	return dump(json_pack("{s:[o], s:s, s:i}", "manifests", m, "mediaType",
			      PF_OCI_INDEX_TYPE, "schemaVersion", 2));
}

/* ---- the outer tar ---- */

struct entry {
	char path[96];
	mode_t mode;
	const char *data;	/* NULL: fd */
	uint64_t len;
	int fd;
};

static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path,
		      ((const struct entry *)b)->path);
}

/* Exactly len bytes of fd (the layer's temporary file) into a. */
static int write_entry(struct archive *a, struct archive_entry *ae,
		       const struct entry *e, long long mtime)
{
	archive_out_tar_entry(ae, e->path, e->mode, 0, "root", mtime,
			      (int64_t)e->len);
	if (archive_write_header(a, ae) != ARCHIVE_OK)
		return -EIO;
	if (!S_ISREG(e->mode))
		return 0;
	if (!e->data)
		return archive_out_copy_fd(a, e->fd, e->len, NULL, NULL);
	return archive_write_data(a, e->data, (size_t)e->len) ==
	       (la_ssize_t)e->len ? 0 : -EIO;
}

/* The archive from the finished layer and the three JSON texts. */
static int write_archive(const char *file, const struct pf_cdisk_layer *l,
			 const char *config, const char *manifest,
			 const char *index, long long mtime,
			 struct pf_filesum *sum, bool *replaced)
{
	static const char layout[] = "{\"imageLayoutVersion\":\"1.0.0\"}";
	struct entry e[8] = {
		{ "blobs/", S_IFDIR | 0755, NULL, 0, -1 },
		{ "blobs/sha256/", S_IFDIR | 0755, NULL, 0, -1 },
		{ "", S_IFREG | 0644, NULL, l->size, l->fd },
		{ "", S_IFREG | 0644, config, strlen(config), -1 },
		{ "", S_IFREG | 0644, manifest, strlen(manifest), -1 },
		{ "index.json", S_IFREG | 0644, index, strlen(index), -1 },
		{ "oci-layout", S_IFREG | 0644, layout, strlen(layout), -1 },
	};
	const size_t n = 7;
	struct pf_archive_out s = { .err = 0 };
	struct archive *a = NULL;
	struct archive_entry *ae = NULL;
	int rc;

	snprintf(e[2].path, sizeof(e[2].path), "blobs/sha256/%s", l->digest);
	for (int i = 3; i <= 4; i++) {
		char hex[65];

		rc = sha256_hex(e[i].data, e[i].len, hex);
		if (rc)
			return rc;
		snprintf(e[i].path, sizeof(e[i].path), "blobs/sha256/%s", hex);
	}
	qsort(e, n, sizeof(e[0]), entry_cmp);
	rc = hashwrite_open(&s.hw, file, 0644);
	if (rc)
		return rc;
	a = archive_write_new();
	ae = archive_entry_new();
	if (!a || !ae) {
		rc = -ENOMEM;
		goto out;
	}
	/* ustar; a pax header only for a layer of 8 GiB or more */
	if (archive_write_set_format_pax_restricted(a) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(a, 10240) != ARCHIVE_OK ||
	    archive_write_open2(a, &s, NULL, archive_out_write, NULL, NULL) !=
	    ARCHIVE_OK)
		rc = -EIO;
	for (size_t i = 0; i < n && !rc; i++)
		rc = write_entry(a, ae, &e[i], mtime);
	if (!rc && archive_write_close(a) != ARCHIVE_OK)
		rc = -EIO;
	if (rc && s.err)
		rc = s.err;
	if (!rc)
		rc = hashwrite_commit(&s.hw, NULL, sum, replaced);
out:
	archive_entry_free(ae);
	if (a)
		archive_write_free(a);
	hashwrite_abort(&s.hw);
	return rc;
}

int containerdisk_write(const char *disk, const char *file,
			const struct pf_cdisk_opts *o, struct pf_filesum *sum,
			bool *replaced, char **failed)
{
	struct pf_cdisk_opts opts = *o;
	struct pf_cdisk_layer l = { .fd = -1 };
	char *config = NULL, *manifest = NULL, *index = NULL;
	char config_hex[65], manifest_hex[65];
	const char *slash;
	bool disk_failed = false;
	struct stat st;
	int fd, rc;

	*failed = NULL;
	*replaced = false;
	if (opts.compress == PF_COMPRESS_UNSET)
		opts.compress = PF_COMPRESS_GZIP;
	if (!opts.disk_name) {
		slash = strrchr(disk, '/');
		opts.disk_name = slash ? slash + 1 : disk;
	}
	if (!containerdisk_name_ok(opts.disk_name) || opts.mtime < 0 ||
	    (opts.ref && !containerdisk_ref_ok(opts.ref)))
		return -EINVAL;
	fd = open(disk, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		rc = -errno;
		disk_failed = true;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL;
		disk_failed = true;
		goto out;
	}
	rc = containerdisk_layer(fd, (uint64_t)st.st_size, opts.disk_name, file,
				 &opts, &l, &disk_failed);
	if (rc)
		goto out;
	/* each text's digest names its blob and goes into the next one */
	rc = -ENOMEM;
	config = config_json(&l, opts.mtime);
	if (!config || sha256_hex(config, strlen(config), config_hex))
		goto out;
	manifest = manifest_json(&l, opts.compress, config_hex, strlen(config));
	if (!manifest || sha256_hex(manifest, strlen(manifest), manifest_hex))
		goto out;
	index = index_json(manifest_hex, strlen(manifest), opts.ref);
	if (!index)
		goto out;
	rc = write_archive(file, &l, config, manifest, index, opts.mtime, sum,
			   replaced);
out:
	if (rc && rc != -ENOMEM)
		*failed = strdup(disk_failed ? disk : file);
	if (fd >= 0)
		close(fd);
	if (l.fd >= 0)
		close(l.fd);
	free(config);
	free(manifest);
	free(index);
	return rc;
}
