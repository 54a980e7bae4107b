/* The shared front half of every command: parse, read what the profile
 * names, validate, plan. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pxeforge/lib/pciid.h"
#include "pxeforge/profile/inputs.h"
#include "pxeforge/validate/validate.h"
#include "pxeforge/validate/values.h"

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
	return cli_load_hosts(path, NULL, NULL, 0, profile, plan);
}

int cli_load_hosts(const char *path, const char *cmd,
		   const char *const *names, size_t n,
		   struct pf_profile **profile, struct pf_plan **plan)
{
	struct pf_diag *d = diag_new();
	struct cli_entries *shown = NULL;
	size_t hidden;
	struct pf_profile_inputs *in = NULL;
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
	if (n) {
		code = cli_hosts_known(cmd, p, names, n);
		if (code)
			goto clean;
		rc = cli_entries_new(p, names, n, &shown);
		if (rc) {
			code = PF_EXIT_IO;
			goto clean;
		}
	}
	rc = profile_inputs_read(p, &in);
	if (rc) {
		code = PF_EXIT_IO;
		goto clean;
	}
	profile_validate(p, in, d);
	if (diag_errors(d)) {
		code = PF_EXIT_INVALID;
		goto clean;
	}
	rc = plan_build(p, in, &pl);
	if (rc) {
		code = PF_EXIT_IO;
		goto clean;
	}
	/* the environment wins: the reproducible-builds convention */
	if (getenv("SOURCE_DATE_EPOCH") && *getenv("SOURCE_DATE_EPOCH"))
		pl->mtime = mtime;
	*profile = p;
	*plan = pl;
	p = NULL;
	pl = NULL;
clean:
	hidden = diag_print_some(d, stderr, shown ? cli_entries_show : NULL,
				 shown);
	if (hidden)
		cli_error("%zu more problem%s in the entries of hosts not named by --host (check without --host lists them)",
			  hidden, hidden == 1 ? "" : "s");
	cli_entries_free(shown);
	if (code == PF_EXIT_IO && rc == -ENOMEM)
		cli_error("out of memory");
	plan_free(pl);
	profile_inputs_free(in);
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

