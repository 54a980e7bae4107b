#include <stdio.h>

#include "cli.h"
#include "options.h"

static const struct cli_command_opts check_cli = {
	.command = "check",
	.usage =
	"usage: pxeforge check PROFILE\n"
	"\n"
	"Validates PROFILE (YAML, or JSON when it ends in .json) without writing\n"
	"anything: keys and types, MACs, PCI addresses and ids, GPU models, the\n"
	"functions of each card, and the kernel command line each host would get.\n"
	"Every problem is printed together as FILE:LINE:COL: error: MESSAGE.\n",
	.epilogue =
	"Exit status: 0 valid (warnings may be printed), 1 invalid, 2 usage,\n"
	"3 the profile could not be read.\n",
	.args = "PROFILE", .min_args = 1, .max_args = 1,
};

int cmd_check(int argc, char **argv)
{
	struct pf_profile *p;
	struct pf_plan *plan;
	int nargs, code;

	code = cli_options_parse(&check_cli, argc, argv, NULL, &nargs);
	if (code != CLI_PROCEED)
		return code;
	code = cli_load(argv[1], &p, &plan);
	if (code)
		return code;
	printf("%s: ok (", argv[1]);
	cli_print_counts(stdout, plan);
	puts(")");
	cli_unload(p, plan);
	return PF_EXIT_OK;
}
