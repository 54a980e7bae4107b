#include <stdio.h>

#include <jansson.h>

#include "cli.h"
#include "options.h"
#include "pxeforge/profile/schema.h"

static const struct cli_command_opts schema_cli = {
	.command = "schema",
	.usage =
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
	"everything else (MACs, PCI ids, the kernel command line, ...).\n",
	.epilogue =
	"Exit status: 0 ok, 2 usage, 3 stdout could not be written.\n",
	.min_args = 0, .max_args = 0,
};

int cmd_schema(int argc, char **argv)
{
	json_t *schema = NULL;
	int nargs, code, rc;

	code = cli_options_parse(&schema_cli, argc, argv, NULL, &nargs);
	if (code != CLI_PROCEED)
		return code;
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
