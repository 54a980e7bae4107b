/* --host NAME for check and build: the names checked against the profile
 * (did-you-mean), the hosts and VMs they select, and which of validate's
 * problems check shows: those outside the entries of the hosts not named
 * and of their VMs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pxeforge/lib/suggest.h"
#include "pxeforge/package/filter.h"

/* An unknown name: the closest of names, or how many there are. */
static int unknown_host(const char *cmd, const char *name,
			const char *const *names, size_t n)
{
	const char *hint = suggest_closest(name, names, n);

	if (hint)
		return cli_usage_error(cmd, "unknown host '%s' (did you mean '%s'?)",
				       name, hint);
	return cli_usage_error(cmd, "unknown host '%s' (the profile has %zu host%s)",
			       name, n, n == 1 ? "" : "s");
}

static bool named(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; name && i < n; i++)
		if (!strcmp(name, names[i]))
			return true;
	return false;
}

int cli_hosts_known(const char *cmd, const struct pf_profile *p,
		    const char *const *names, size_t n)
{
	const char **have = calloc(p->nhosts + 1, sizeof(*have));
	int code = PF_EXIT_OK;

	if (!have) {
		cli_error("out of memory");
		return PF_EXIT_IO;
	}
	for (size_t i = 0; i < p->nhosts; i++)
		have[i] = p->hosts[i].name.s ? p->hosts[i].name.s : "";
	for (size_t i = 0; i < n && !code; i++)
		if (!named(names[i], have, p->nhosts))
			code = unknown_host(cmd, names[i], have, p->nhosts);
	free(have);
	return code;
}

/* Where a host's or VM's entry starts in the profile, and whether it
 * is one of those named; or where a top-level key is (named: shown). */
struct entry {
	struct pf_mark at;
	bool named;
};

struct cli_entries {
	struct entry *v;
	size_t n;
};

static int mark_cmp(const struct pf_mark *a, const struct pf_mark *b)
{
	int c = strcmp(a->file, b->file);

	if (c)
		return c;
	if (a->line != b->line)
		return a->line < b->line ? -1 : 1;
	return a->col < b->col ? -1 : a->col > b->col;
}

static int entry_cmp(const void *a, const void *b)
{
	return mark_cmp(&((const struct entry *)a)->at,
			&((const struct entry *)b)->at);
}

int cli_entries_new(const struct pf_profile *p, const char *const *names,
		    size_t n, struct cli_entries **out)
{
	/* top-level places that end the entry before them: shown */
	const struct pf_mark *tops[] = {
		&p->version.mark, &p->base_url.mark, &p->cluster_secret.mark,
		&p->source_date_epoch.mark, &p->cloud_init.mark,
		&p->hosts_mark, &p->vms_mark,
	};
	size_t ntops = sizeof(tops) / sizeof(tops[0]);
	struct cli_entries *e = calloc(1, sizeof(*e));

	*out = NULL;
	if (e)
		e->v = calloc(p->nhosts + p->nvms + ntops, sizeof(*e->v));
	if (!e || !e->v) {
		cli_entries_free(e);
		return -ENOMEM;
	}
	for (size_t i = 0; i < p->nhosts; i++)
		if (p->hosts[i].mark.file)
			e->v[e->n++] = (struct entry){ p->hosts[i].mark,
				named(p->hosts[i].name.s, names, n) };
	/* a VM goes with the host whose GPUs it takes */
	for (size_t i = 0; i < p->nvms; i++)
		if (p->vms[i].mark.file)
			e->v[e->n++] = (struct entry){ p->vms[i].mark,
				named(p->vms[i].host.s, names, n) };
	for (size_t i = 0; i < ntops; i++)
		if (tops[i]->file)
			e->v[e->n++] = (struct entry){ *tops[i], true };
	qsort(e->v, e->n, sizeof(*e->v), entry_cmp);
	*out = e;
	return 0;
}

void cli_entries_free(struct cli_entries *e)
{
	if (!e)
		return;
	free(e->v);
	free(e);
}

/* A place inside the entry of a host or VM not named is not shown: the
 * last entry starting at or before it, in its file, at or left of its
 * column (what lies left of an entry's column is the profile's next
 * top-level key, not the entry). */
bool cli_entries_show(const struct pf_mark *at, void *ctx)
{
	const struct cli_entries *e = ctx;
	const struct entry *last = NULL;

	if (!at->file)
		return true;
	for (size_t lo = 0, hi = e->n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;

		if (mark_cmp(&e->v[mid].at, at) <= 0) {
			last = &e->v[mid];
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (!last || strcmp(last->at.file, at->file))
		return true;
	if (at->line > last->at.line && at->col < last->at.col)
		return true;
	return last->named;
}

int cli_select_hosts(const char *cmd, const struct pf_plan *plan,
		     const char *const *names, size_t n,
		     struct pf_package_filter **filter)
{
	struct pf_package_filter *f = NULL;
	int code = PF_EXIT_OK;

	*filter = NULL;
	if (!n)
		return PF_EXIT_OK;
	if (package_filter_new(plan, &f)) {
		cli_error("out of memory");
		return PF_EXIT_IO;
	}
	for (size_t i = 0; i < n && !code; i++) {
		const struct pf_plan_host *h = plan_host_find(plan, names[i]);

		if (h) {
			package_filter_select(f, h);
			continue;
		}
		code = cli_hosts_known(cmd, plan->profile, names + i, 1);
		if (!code)	/* in the profile, not in the plan: a bug */
			code = PF_EXIT_IO;
	}
	if (code)
		package_filter_free(f);
	else
		*filter = f;
	return code;
}
