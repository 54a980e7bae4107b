/* OUT/.pxeforge-bundles.json: which archives build --bundle need not
 * make again. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/hex.h"
#include "pxeforge/out/bundle_record.h"

static void record_release(struct pf_bundle_record *rec)
{
	free(rec->file);
	free(rec->recipe);
	free(rec->stat);
}

void bundle_records_release(struct pf_bundle_records *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		record_release(&r->v[i]);
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

/* One {"file", "recipe", "sha256", "size", "stat"}; -EINVAL when it is
 * not as bundle_records_save writes it. */
static int record_parse(json_t *e, struct pf_bundle_record *rec)
{
	const char *keys[] = { "file", "recipe", "stat" };
	char **dst[] = { &rec->file, &rec->recipe, &rec->stat };
	json_t *sha = json_object_get(e, "sha256");
	json_t *size = json_object_get(e, "size");

	memset(rec, 0, sizeof(*rec));
	if (!json_is_string(sha) ||
	    sha256_hex_lower(json_string_value(sha), rec->sum.sha256) ||
	    !json_is_integer(size) || json_integer_value(size) < 0)
		return -EINVAL;
	rec->sum.size = (uint64_t)json_integer_value(size);
	for (size_t i = 0; i < 3; i++) {
		json_t *v = json_object_get(e, keys[i]);

		if (!json_is_string(v))
			return -EINVAL;
		*dst[i] = strdup(json_string_value(v));
		if (!*dst[i])
			return -ENOMEM;
	}
	/* in place: the recipe's hash read as lowercase */
	return rec->file[0] == '/' && !sha256_hex_lower(rec->recipe, rec->recipe) ?
	       0 : -EINVAL;
}

int bundle_records_load(const char *dir, struct pf_bundle_records *r)
{
	char *text = NULL;
	size_t len = 0;
	json_t *root = NULL, *list;
	int rc;

	r->v = NULL;
	r->n = 0;
	if (outstate_slurp(dir, PF_BUNDLES_NAME, &text, &len) != 0)
		return 0;	/* none yet, or unreadable: made again */
	root = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
	list = json_object_get(root, "bundles");
	rc = json_is_array(list) ? 0 : -EINVAL;
	if (!rc && json_array_size(list)) {
		r->v = calloc(json_array_size(list), sizeof(*r->v));
		rc = r->v ? 0 : -ENOMEM;
	}
	for (size_t i = 0; !rc && i < json_array_size(list); i++) {
		rc = record_parse(json_array_get(list, i), &r->v[i]);
		r->n++;
	}
	if (rc)
		bundle_records_release(r);
	json_decref(root);
	free(text);
	return rc == -ENOMEM ? rc : 0;
}

const struct pf_bundle_record *
bundle_records_find(const struct pf_bundle_records *r, const char *file)
{
	for (size_t i = 0; i < r->n; i++)
		if (!strcmp(r->v[i].file, file))
			return &r->v[i];
	return NULL;
}

static int record_json(const struct pf_bundle_record *rec, json_t *list)
{
	json_t *e = json_pack("{s:s, s:s, s:s, s:I, s:s}", "file", rec->file,
			      "recipe", rec->recipe, "sha256", rec->sum.sha256,
			      "size", (json_int_t)rec->sum.size, "stat",
			      rec->stat);

	return e && !json_array_append_new(list, e) ? 0 : -ENOMEM;
}

bool bundle_record_current(const struct pf_bundle_record *rec,
			   struct stat *st)
{
	char fp[PF_FINGERPRINT_MAX];

	if (lstat(rec->file, st) != 0 || !S_ISREG(st->st_mode))
		return false;
	stat_fingerprint(st, fp);
	return !strcmp(fp, rec->stat);
}

static int file_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct pf_bundle_record *const *)a)->file,
		      (*(const struct pf_bundle_record *const *)b)->file);
}

int bundle_records_save(const char *dir, const struct pf_bundle_records *old,
			const struct pf_bundle_record *rec)
{
	const struct pf_bundle_record **keep;
	struct stat st;
	json_t *root = json_object(), *list = json_array();
	struct pf_filesum sum;
	struct pf_buf out;
	char *path = NULL;
	size_t n = 0;
	bool replaced;
	int rc = -ENOMEM;

	buf_init(&out);
	keep = calloc(old->n + 1, sizeof(*keep));
	if (!keep || !root || !list || json_object_set(root, "bundles", list))
		goto out;
	keep[n++] = rec;
	for (size_t i = 0; i < old->n; i++)
		if (strcmp(old->v[i].file, rec->file) &&
		    bundle_record_current(&old->v[i], &st))
			keep[n++] = &old->v[i];
	qsort(keep, n, sizeof(*keep), file_cmp);
	rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = record_json(keep[i], list);
	if (rc)
		goto out;
	rc = outstate_json_text(root, &out);
	if (!rc && asprintf(&path, "%s/%s", dir, PF_BUNDLES_NAME) < 0) {
		path = NULL;
		rc = -ENOMEM;
	}
	if (rc)
		goto out;
	/* 0600: pxeforge's bookkeeping, like the state file. */
	rc = hashwrite_buffer(path, out.data, out.len, 0600, &sum, &replaced);
out:
	json_decref(list);
	json_decref(root);
	buf_release(&out);
	free(path);
	free(keep);
	return rc;
}
