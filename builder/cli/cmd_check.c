#include <getopt.h>
#include <stdio.h>

#include "cli.h"

static const char check_help[] =
	"usage: pxeforge check PROFILE\n"
	"\n"
	"Validates PROFILE (YAML, or JSON when it ends in .json) without writing\n"
	"anything: keys and types, MACs, PCI addresses and ids, GPU models, the\n"
	"functions of each card, and the kernel command line each host would get.\n"
	"Every problem is printed together as FILE:LINE:COL: error: MESSAGE.\n"
	"\n"
	"Exit status: 0 valid (warnings may be printed), 1 invalid, 2 usage,\n"
	"3 the profile could not be read.\n";

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pf_profile *p;
	struct pf_plan *plan;
	int c, code;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(check_help, stdout);
			return PF_EXIT_OK;
		}
		return cli_usage_error("check", "unknown option '%s'",
				       argv[optind - 1]);
	}
	if (argc - optind != 1)
		return cli_usage_error("check", argc - optind ?
				       "too many arguments" :
				       "missing PROFILE");
	code = cli_load(argv[optind], &p, &plan);
	if (code)
		return code;
	printf("%s: ok (", argv[optind]);
	cli_print_counts(stdout, plan);
	puts(")");
	cli_unload(p, plan);
	return PF_EXIT_OK;
}
