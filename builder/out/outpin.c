/* Pinned sources: files of OUT copied from a source that must have a
 * given SHA-256. All of them are copied and checked in a first pass,
 * before anything in OUT is replaced or removed, so that one wrong source
 * leaves OUT as it was (all or none); each byte is still read once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/fs.h"
#include "pxeforge/lib/hashwrite.h"
#include "outwrite.h"

/* What was read is what the pin says, else -EBADMSG and hw dropped. */
static int pin_check(struct writing *w, const struct pf_outfile *f,
		     const struct streaming *s, struct pf_hashwrite *hw)
{
	if (!strcmp(f->sum.sha256, f->pin))
		return 0;
	hashwrite_abort(hw);
	memcpy(w->st.pin_want, f->pin, 65);
	memcpy(w->st.pin_got, f->sum.sha256, 65);
	return stream_source_failed(w, s, -EBADMSG);
}

/* A changed pinned source copied into OUT's top directory (the file's
 * own may not exist yet) and parked in pk, checked. */
static int stage_one(struct writing *w, struct pf_outfile *f,
		     struct parked *pk)
{
	char *full = path_join(w->dir, f->path);
	struct streaming s;
	int rc = -ENOMEM;

	if (!full)
		return rc;
	rc = stream_begin(w, f, full, NULL, NULL, &s);
	/* unchanged: the second pass records it */
	if (rc || stream_unchanged(f, &s))
		goto out;
	rc = stream_fresh(w, f, &s, full, w->dir, &pk->hw);
	if (!rc)
		rc = pin_check(w, f, &s, &pk->hw);
	if (!rc) {
		memcpy(pk->src_fp, s.src_fp, sizeof(pk->src_fp));
		pk->on = true;
	}
out:
	stream_end(&s);
	free(full);
	return rc;
}

int stage_pinned(struct writing *w, struct pf_outfile **v, size_t n,
		 struct parked *pk)
{
	int rc = 0;

	for (size_t i = 0; i < n && !rc; i++)
		if (v[i]->src && !v[i]->gen && v[i]->pin)
			rc = stage_one(w, v[i], &pk[i]);
	return rc;
}

int write_pinned(struct writing *w, struct pf_outfile *f, struct parked *pk,
		 const char *full, bool *replaced)
{
	struct pf_hashwrite hw;
	struct streaming s;
	int rc;

	*replaced = false;
	rc = stream_begin(w, f, full, NULL, NULL, &s);
	if (rc)
		goto out;
	if (pk->on) {
		pk->on = false;
		memcpy(s.src_fp, pk->src_fp, sizeof(s.src_fp));
		rc = stream_install(&s, f, &pk->hw, replaced);
	} else if (stream_unchanged(f, &s)) {
		rc = stream_record(w, f, &s, NULL);
		goto out;
	} else {	/* it changed since the first pass: checked all the same */
		rc = stream_fresh(w, f, &s, full, NULL, &hw);
		if (!rc)
			rc = pin_check(w, f, &s, &hw);
		if (!rc)
			rc = stream_install(&s, f, &hw, replaced);
	}
	if (!rc)
		rc = stream_record(w, f, &s, full);
out:
	stream_end(&s);
	return rc;
}

void parked_drop(struct parked *pk, size_t n)
{
	for (size_t i = 0; pk && i < n; i++)
		if (pk[i].on)
			hashwrite_abort(&pk[i].hw);
}
