/* inputs: sources named in the profile, made ready before OUT is touched. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "pxeforge/out/inputs.h"
#include "pxeforge/out/outstate.h"

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

/* A URL is fetched into the cache (verified while it streams); a local
 * source is used where it is: a pinned one is checked as it is copied
 * (outtree_add_pinned), before anything in OUT is replaced. */
static int resolve_one(struct pf_input *in, const struct pf_fetch_opts *o,
		       char **why)
{
	if (in->is_url)
		return fetch_cached(o, in->source, in->sha256, &in->path, why);
	in->path = strdup(in->source);
	return in->path ? 0 : -ENOMEM;
}

int inputs_resolve(struct pf_inputs *in, const struct pf_fetch_opts *o,
		   const struct pf_input **failed, char **why)
{
	int rc = 0;

	*failed = NULL;
	*why = NULL;
	for (size_t i = 0; i < in->n && !rc; i++) {
		rc = resolve_one(&in->v[i], o, why);
		if (rc)
			*failed = &in->v[i];
	}
	return rc;
}

int inputs_add(const struct pf_inputs *in, struct pf_outtree *t)
{
	int rc = 0;

	/* the copy is held against the pin: the bytes in OUT are the
	 * pinned ones, also those copied from the cache */
	for (size_t i = 0; i < in->n && !rc; i++)
		rc = outtree_add_pinned(t, in->v[i].out, in->v[i].path, 0644,
					in->v[i].sha256);
	return rc;
}
