/* Each command declares its options in a table (the iPXE way); one parser
 * reads argv by it, one printer writes the --help option list from it, and
 * every usage message is worded here. */
#ifndef PXEFORGE_CLI_OPTIONS_H
#define PXEFORGE_CLI_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct cli_option {
	const char *name;	/* long name without "--": "output" */
	char shortname;		/* 'o', or 0 for none */
	const char *arg;	/* "OUT" for an option with an argument, NULL for a flag */
	size_t offset;		/* in the command's values: const char * or bool */
	const char *help;	/* for --help; '\n' starts a continuation line */
	bool repeat;		/* may be given again: offset is a struct cli_args */
};

/* The values of a repeatable option, in order; they point into argv.
 * The command frees v. nomem: one did not fit (out of memory). */
struct cli_args {
	const char **v;
	size_t n;
	bool nomem;
};

#define CLI_OPT_ARG(s, l, meta, type, field, text) \
	{ (l), (s), (meta), offsetof(type, field), (text), false }
#define CLI_OPT_LIST(s, l, meta, type, field, text) \
	{ (l), (s), (meta), offsetof(type, field), (text), true }
#define CLI_OPT_FLAG(s, l, type, field, text) \
	{ (l), (s), NULL, offsetof(type, field), (text), false }

struct cli_command_opts {
	const char *command;	/* "build": in messages and the --help hint */
	const char *usage;	/* --help text before "Options:" */
	/* printed right after usage when not NULL (text made from a table) */
	void (*usage_more)(FILE *fp);
	const char *epilogue;	/* --help text after the option list */
	const struct cli_option *options;	/* -h, --help is implied */
	size_t noptions;
	const char *args;	/* what the arguments are, for "missing PROFILE" */
	int min_args, max_args;	/* max_args -1: any number */
	bool stop_at_arg;	/* the first argument ends the options (a subcommand) */
	/* whose help -h prints, when not this one's (secret: secret init's) */
	const struct cli_command_opts *help_of;
};

/* -q, --quiet: "no summary line", the one option of secret init and
 * verify. */
struct cli_quiet_values {
	bool quiet;
};
extern const struct cli_option cli_quiet_option[1];

#define CLI_PROCEED (-1)

/* Reads argv[1..argc-1] by cmd's table into values (the struct the
 * offsets point into; NULL when the table is empty). Options and arguments
 * may be mixed; "--" ends the options; a long name may be abbreviated to
 * an unambiguous prefix; an argument may not be "". Returns CLI_PROCEED with the arguments moved to
 * argv[1..*nargs], or an exit code: PF_EXIT_OK after --help was printed,
 * PF_EXIT_USAGE after the one usage error was printed. */
int cli_options_parse(const struct cli_command_opts *cmd, int argc,
		      char **argv, void *values, int *nargs);

/* The command's --help: usage, "Options:" from its table, epilogue. */
void cli_options_help(const struct cli_command_opts *cmd, FILE *fp);

/* "unknown option '--x'" for a command (NULL: pxeforge itself), with the
 * hint; returns PF_EXIT_USAGE. */
int cli_unknown_option(const struct cli_command_opts *cmd, const char *opt);

#endif
