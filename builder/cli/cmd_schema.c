#include <getopt.h>
#include <stdio.h>

#include <jansson.h>

#include "cli.h"
#include "pxeforge/profile/schema.h"

static const char schema_help[] =
	"usage: pxeforge schema\n"
	"\n"
	"Prints the JSON Schema (draft-07) of a version 1 profile on stdout,\n"
	"made from the same key tables the parser reads profiles with: every\n"
	"key with its type and a one-line description, the required keys, the\n"
	"choices, and no other keys. Save it and point an editor at it, e.g.\n"
	"with yaml-language-server's first-line comment:\n"
	"\n"
	"  pxeforge schema > pxeforge-profile.schema.json\n"
	"  # yaml-language-server: $schema=pxeforge-profile.schema.json\n"
	"\n"
	"The schema checks structure and types; 'pxeforge check' checks\n"
	"everything else (MACs, PCI ids, the kernel command line, ...).\n"
	"\n"
	"Exit status: 0 ok, 2 usage, 3 stdout could not be written.\n";

int cmd_schema(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *schema = NULL;
	int c, rc;

	opterr = 0;	/* the message below is the only one */
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(schema_help, stdout);
			return PF_EXIT_OK;
		}
		return cli_usage_error("schema", "unknown option '%s'",
				       argv[optind - 1]);
	}
	if (optind < argc)
		return cli_usage_error("schema", "too many arguments");
	if (profile_schema(&schema)) {
		cli_error("cannot build the schema: out of memory");
		return PF_EXIT_IO;
	}
	rc = json_dumpf(schema, stdout, JSON_INDENT(2));
	json_decref(schema);
	if (rc || putchar('\n') == EOF || fflush(stdout) || ferror(stdout)) {
		cli_error("cannot write the schema to stdout");
		return PF_EXIT_IO;
	}
	return PF_EXIT_OK;
}
