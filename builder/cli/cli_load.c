/* The shared front half of every command: parse, validate, plan. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pxeforge/lib/pciid.h"

/* Archive entries carry one mtime: SOURCE_DATE_EPOCH (the reproducible
 * builds convention) or 0. */
int cli_source_date_epoch(long long *out)
{
	const char *s = getenv("SOURCE_DATE_EPOCH");

	*out = 0;
	return s && *s ? epoch_parse(s, out) : 0;
}

void cli_print_counts(FILE *fp, const struct pf_plan *plan)
{
	fprintf(fp, "%zu host%s", plan->nhosts, plan->nhosts == 1 ? "" : "s");
	if (plan->nvms)
		fprintf(fp, ", %zu VM%s", plan->nvms,
			plan->nvms == 1 ? "" : "s");
}

int cli_load(const char *path, struct pf_profile **profile,
	     struct pf_plan **plan)
{
	struct pf_diag *d = diag_new();
	struct pf_profile *p = NULL;
	struct pf_plan *pl = NULL;
	long long mtime;
	int rc, code = PF_EXIT_OK;

	*profile = NULL;
	*plan = NULL;
	if (!d) {
		cli_error("out of memory");
		return PF_EXIT_IO;
	}
	if (cli_source_date_epoch(&mtime)) {
		cli_error("SOURCE_DATE_EPOCH '%s' is not a number of seconds since 1970 (0 to 4294967295)",
			  getenv("SOURCE_DATE_EPOCH"));
		diag_free(d);
		return PF_EXIT_USAGE;
	}
	rc = profile_parse(path, d, &p);
	if (rc == -ENOMEM) {
		code = PF_EXIT_IO;
		goto clean;
	}
	if (rc == -EINVAL) {
		code = PF_EXIT_INVALID;
		goto clean;
	}
	if (rc) {
		/* the profile itself could not be read */
		code = PF_EXIT_IO;
		goto clean;
	}
	profile_validate(p, d);
	/* Plan even after validation errors: its problems (parameter
	 * conflicts, unsafe tokens, length) belong in the same report. */
	rc = plan_build(p, d, &pl);
	if (rc == -ENOMEM) {
		code = PF_EXIT_IO;
		goto clean;
	}
	if (rc || diag_errors(d)) {
		code = PF_EXIT_INVALID;
		goto clean;
	}
	/* the environment wins: the reproducible-builds convention */
	if (!getenv("SOURCE_DATE_EPOCH") || !*getenv("SOURCE_DATE_EPOCH"))
		mtime = p->source_date_epoch_v;
	pl->mtime = mtime;
	*profile = p;
	*plan = pl;
	p = NULL;
	pl = NULL;
clean:
	diag_print(d, stderr);
	if (code == PF_EXIT_IO && rc == -ENOMEM)
		cli_error("out of memory");
	plan_free(pl);
	profile_free(p);
	diag_free(d);
	return code;
}

void cli_unload(struct pf_profile *profile, struct pf_plan *plan)
{
	plan_free(plan);
	profile_free(profile);
	pciid_cleanup();
}
