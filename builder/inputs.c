/* inputs: sources named in the profile, made ready before OUT is touched. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pxeforge/inputs.h"
#include "pxeforge/outstate.h"

void inputs_init(struct pf_inputs *in)
{
	memset(in, 0, sizeof(*in));
}

void inputs_release(struct pf_inputs *in)
{
	if (!in)
		return;
	for (size_t i = 0; i < in->n; i++) {
		free(in->v[i].out);
		free(in->v[i].path);
	}
	free(in->v);
	inputs_init(in);
}

static int inputs_push(struct pf_inputs *in, const char *source,
		       const char *sha256, bool is_url, const char *dir,
		       const char *name)
{
	struct pf_input *n;

	if (in->n == in->cap) {
		size_t cap = in->cap ? in->cap * 2 : 8;

		n = realloc(in->v, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		in->v = n;
		in->cap = cap;
	}
	n = &in->v[in->n];
	memset(n, 0, sizeof(*n));
	n->source = source;
	n->sha256 = sha256;
	n->is_url = is_url;
	if (asprintf(&n->out, "%s/%s", dir, name) < 0)
		return -ENOMEM;
	in->n++;
	return 0;
}

static int push_file(struct pf_inputs *in, const struct pf_plan_file *f,
		     const char *host)
{
	if (!f->source)
		return 0;
	return inputs_push(in, f->source, f->sha256, f->source_is_url, host,
			   f->name);
}

int inputs_collect(const struct pf_plan *plan, struct pf_inputs *in)
{
	int rc = 0;

	for (size_t i = 0; i < plan->nhosts && !rc; i++) {
		const struct pf_plan_host *h = &plan->hosts[i];

		rc = push_file(in, &h->kernel, h->name);
		for (size_t j = 0; j < h->ninitrds && !rc; j++)
			rc = push_file(in, &h->initrds[j], h->name);
	}
	for (size_t i = 0; i < plan->nvms && !rc; i++) {
		const struct pf_plan_vm *vm = &plan->vms[i];
		char *dir;

		if (!vm->disk_source)
			continue;
		if (asprintf(&dir, "vms/%s", vm->name) < 0)
			return -ENOMEM;
		rc = inputs_push(in, vm->disk_source, vm->disk_sha256,
				 vm->disk_source_is_url, dir, vm->disk_file);
		free(dir);
	}
	return rc;
}

/* The state file says OUT/in->out was streamed from this very file, as
 * it is now, and hashed to the pinned value: no need to read it again. */
static bool verified_before(const struct pf_outrecords *prev,
			    const struct pf_input *in)
{
	const struct pf_outrecord *r = outrecords_find(prev, in->out);
	char fp[PF_FINGERPRINT_MAX], *key = NULL;
	struct stat st;
	bool same = false;

	if (!r || !r->has_sum || !r->source || !r->source_stat)
		return false;
	key = source_key(in->source);
	if (key && !strcmp(r->source, key) && stat(in->source, &st) == 0) {
		stat_fingerprint(&st, fp);
		same = !strcmp(fp, r->source_stat) &&
		       !strcmp(r->sum.sha256, in->sha256);
	}
	free(key);
	return same;
}

static int resolve_one(struct pf_input *in, const struct pf_fetch_opts *o,
		       const struct pf_outrecords *prev, char **why)
{
	if (in->is_url)
		return fetch_cached(o, in->source, in->sha256, &in->path, why);
	in->path = strdup(in->source);
	if (!in->path)
		return -ENOMEM;
	if (!in->sha256 || verified_before(prev, in))
		return 0;
	return fetch_verify_file(in->source, in->sha256, why);
}

int inputs_resolve(struct pf_inputs *in, const struct pf_fetch_opts *o,
		   const char *outdir, const struct pf_input **failed,
		   char **why)
{
	struct pf_outrecords prev;
	int rc = 0;

	*failed = NULL;
	*why = NULL;
	outrecords_init(&prev);
	if (in->n)
		rc = outstate_load(outdir, &prev);
	for (size_t i = 0; i < in->n && !rc; i++) {
		rc = resolve_one(&in->v[i], o, &prev, why);
		if (rc)
			*failed = &in->v[i];
	}
	outrecords_release(&prev);
	return rc;
}

int inputs_add(const struct pf_inputs *in, struct pf_outtree *t)
{
	int rc = 0;

	for (size_t i = 0; i < in->n && !rc; i++) {
		const char *pin = in->v[i].sha256;
		char lower[65];

		/* the copy is checked too: the bytes in OUT are the pinned ones */
		if (pin) {
			for (size_t k = 0; k < 65; k++)
				lower[k] = (char)tolower((unsigned char)pin[k]);
			pin = lower;
		}
		rc = outtree_add_pinned(t, in->v[i].out, in->v[i].path, 0644,
					pin);
	}
	return rc;
}
