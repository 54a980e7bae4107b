/* Command layer: argv parsing and the messages users see. Stages below
 * return error codes; only this layer prints. */
#ifndef PXEFORGE_CLI_H
#define PXEFORGE_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "pxeforge/plan/plan.h"
#include "pxeforge/profile/profile.h"

#define PXEFORGE_VERSION "0.1.0"

enum pf_exit {
	PF_EXIT_OK = 0,
	PF_EXIT_INVALID = 1,	/* the profile or input is invalid */
	PF_EXIT_USAGE = 2,
	PF_EXIT_IO = 3,		/* I/O, network or external failure */
};

struct pf_command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;	/* "build PROFILE [-o OUT]" */
	const char *summary;	/* one line for the overview */
};

int cmd_build(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_containerdisk(int argc, char **argv);
int cmd_render(int argc, char **argv);
int cmd_schema(int argc, char **argv);
int cmd_secret(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* Parse, validate and plan; prints every problem (sorted) to stderr.
 * Returns PF_EXIT_OK with *profile and *plan set, or an exit code. */
int cli_load(const char *path, struct pf_profile **profile,
	     struct pf_plan **plan);
void cli_unload(struct pf_profile *profile, struct pf_plan *plan);
/* cli_load for check --host (cmd "check"): the n names must be hosts of
 * the profile (else a usage error with the closest name, PF_EXIT_USAGE);
 * the whole profile is validated, fleet-wide rules and every host, but
 * of the problems only those outside the entries of the hosts not named
 * (and of their VMs) are printed, the others counted in one line. n 0:
 * cli_load. */
int cli_load_hosts(const char *path, const char *cmd,
		   const char *const *names, size_t n,
		   struct pf_profile **profile, struct pf_plan **plan);

/* builder/cli/cli_hosts.c. Each name of names (n) is a host of p; else
 * reports the first that is not, with the closest host name, and
 * returns PF_EXIT_USAGE (PF_EXIT_IO: out of memory). */
int cli_hosts_known(const char *cmd, const struct pf_profile *p,
		    const char *const *names, size_t n);
/* The entries of p's hosts and VMs, each marked named or not: a VM is
 * named with its host. 0 or -ENOMEM. */
struct cli_entries;
int cli_entries_new(const struct pf_profile *p, const char *const *names,
		    size_t n, struct cli_entries **e);
void cli_entries_free(struct cli_entries *e);
/* diag_print_some's show (ctx: the entries): at is not inside the entry
 * of a host or VM that is not named. */
bool cli_entries_show(const struct pf_mark *at, void *ctx);
/* --host NAME (n of them) of cmd: *filter selects those hosts and their
 * VMs (NULL when n is 0). PF_EXIT_OK, PF_EXIT_USAGE after an unknown name
 * was reported with the closest host name, PF_EXIT_IO out of memory. */
struct pf_package_filter;
int cli_select_hosts(const char *cmd, const struct pf_plan *plan,
		     const char *const *names, size_t n,
		     struct pf_package_filter **filter);
/* "2 hosts" or "1 host, 1 VM": what a plan holds, for summaries. */
void cli_print_counts(FILE *fp, const struct pf_plan *plan);

/* SOURCE_DATE_EPOCH (0 to 4294967295) into *out, 0 when unset; -EINVAL
 * when it is not such a number. */
int cli_source_date_epoch(long long *out);

/* "pxeforge: error: ..." / usage errors with the hint to --help
 * (messages.c, beside the option errors' wording). */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
