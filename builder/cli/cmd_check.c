#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"

struct check_values {
	struct cli_args hosts;
};

static const struct cli_option check_options[] = {
	CLI_OPT_LIST('H', "host", "NAME", struct check_values, hosts,
		     "report the problems of this host (repeatable) and\n"
		     "the fleet-wide ones; the other hosts' are counted"),
};

static const struct cli_command_opts check_cli = {
	.command = "check",
	.usage =
	"usage: pxeforge check PROFILE [--host NAME]...\n"
	"\n"
	"Validates PROFILE (YAML, or JSON when it ends in .json) without writing\n"
	"anything: keys and types, MACs, PCI addresses and ids, GPU models, the\n"
	"functions of each card, and the kernel command line each host would get.\n"
	"Every problem is printed together as FILE:LINE:COL: error: MESSAGE.\n"
	"\n"
	"With --host, the whole profile is still validated (names, MACs and\n"
	"addresses must be unique across all hosts, and build --host needs the\n"
	"whole profile valid), but only the problems outside the entries of the\n"
	"other hosts and of their VMs are printed; those inside are counted in\n"
	"one line and still make the exit status 1. An unknown name is a usage\n"
	"error (exit 2) with the closest host name.\n",
	.epilogue =
	"Exit status: 0 valid (warnings may be printed), 1 invalid, 2 usage\n"
	"(an unknown --host too), 3 the profile could not be read.\n",
	.options = check_options,
	.noptions = sizeof(check_options) / sizeof(check_options[0]),
	.args = "PROFILE", .min_args = 1, .max_args = 1,
};

/* --host a --host a names one host */
static size_t distinct(const char *const *v, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j = 0;

		while (j < i && strcmp(v[j], v[i]))
			j++;
		k += j == i;
	}
	return k;
}

int cmd_check(int argc, char **argv)
{
	struct check_values o = { { NULL, 0, false } };
	struct pf_profile *p;
	struct pf_plan *plan;
	int nargs, code;

	code = cli_options_parse(&check_cli, argc, argv, &o, &nargs);
	if (code != CLI_PROCEED)
		goto clean;
	if (o.hosts.nomem) {
		cli_error("out of memory");
		code = PF_EXIT_IO;
		goto clean;
	}
	code = cli_load_hosts(argv[1], "check", o.hosts.v, o.hosts.n, &p,
			      &plan);
	if (code)
		goto clean;
	printf("%s: ok (", argv[1]);
	if (o.hosts.n)
		printf("%zu of ", distinct(o.hosts.v, o.hosts.n));
	cli_print_counts(stdout, plan);
	puts(")");
	cli_unload(p, plan);
clean:
	free(o.hosts.v);
	return code;
}
