/* One option parser for every command, driven by the command's table. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "messages.h"
#include "options.h"
#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/suggest.h"

/* Every command has -h, --help; it comes after the table's own options. */
static const struct cli_option help_option = {
	"help", 'h', NULL, 0, "this text", false,
};

const struct cli_option cli_quiet_option[1] = {
	CLI_OPT_FLAG('q', "quiet", struct cli_quiet_values, quiet,
		     "no summary line"),
};

static size_t option_count(const struct cli_command_opts *cmd)
{
	return cmd->noptions + 1;
}

static const struct cli_option *option_at(const struct cli_command_opts *cmd,
					  size_t k)
{
	return k < cmd->noptions ? &cmd->options[k] : &help_option;
}

static int print_help(const struct cli_command_opts *cmd)
{
	cli_options_help(cmd->help_of ? cmd->help_of : cmd, stdout);
	return PF_EXIT_OK;
}

static void set_value(const struct cli_option *o, void *values,
		      const char *arg)
{
	char *field = (char *)values + o->offset;

	if (o->repeat) {
		struct cli_args *l = (struct cli_args *)(void *)field;
		const char **v = realloc(l->v, (l->n + 1) * sizeof(*v));

		if (!v) {
			l->nomem = true;
			return;
		}
		v[l->n++] = arg;
		l->v = v;
	} else if (o->arg)
		*(const char **)(void *)field = arg;
	else
		*(bool *)(void *)field = true;
}

/* "--output" for a long option that opt (a typo) is close to, or NULL;
 * the caller frees it. */
static char *closest_long(const struct cli_command_opts *cmd, const char *opt)
{
	size_t n = option_count(cmd);
	const char **names = calloc(n, sizeof(*names));
	const char *hint = NULL;
	char *dashed = NULL;

	if (!names)
		return NULL;
	for (size_t k = 0; k < n; k++)
		names[k] = option_at(cmd, k)->name;
	hint = suggest_closest(opt + 2, names, n);
	if (hint && asprintf(&dashed, "--%s", hint) < 0)
		dashed = NULL;
	free(names);
	return dashed;
}

int cli_unknown_option(const struct cli_command_opts *cmd, const char *opt)
{
	char *hint = NULL;
	int code;

	/* a long option may be a typo of one of the table's */
	if (cmd && opt[0] == '-' && opt[1] == '-')
		hint = closest_long(cmd, opt);
	code = cli_option_error(cmd ? cmd->command : NULL, CLI_OPT_UNKNOWN,
				opt, hint);
	free(hint);
	return code;
}

/* "--host or --help": the options the prefix opt (len characters after
 * "--") could be. */
static int ambiguous(const struct cli_command_opts *cmd, const char *opt,
		     size_t len)
{
	struct pf_buf list;
	int code;

	buf_init(&list);
	for (size_t k = 0; k < option_count(cmd); k++) {
		const char *name = option_at(cmd, k)->name;

		if (strncmp(name, opt + 2, len) == 0)
			buf_printf(&list, "%s--%s", list.len ? " or " : "", name);
	}
	/* out of memory: the problem with what of the list fitted */
	code = cli_option_error(cmd->command, CLI_OPT_AMBIGUOUS, opt,
				list.data ? list.data : "");
	buf_release(&list);
	return code;
}

/* argv[*i] is "--name", "--name=value" or a prefix of a name. */
static int parse_long(const struct cli_command_opts *cmd, int argc,
		      char **argv, int *i, void *values)
{
	char *opt = argv[*i], *eq = strchr(opt, '=');
	const struct cli_option *found = NULL;
	size_t len, matches = 0;

	/* the value never goes into a message */
	if (eq)
		*eq = '\0';
	len = strlen(opt + 2);
	for (size_t k = 0; k < option_count(cmd); k++) {
		const struct cli_option *o = option_at(cmd, k);

		if (strncmp(o->name, opt + 2, len))
			continue;
		if (strlen(o->name) == len) {
			found = o;
			matches = 1;
			break;
		}
		found = o;
		matches++;
	}
	if (matches == 0)
		return cli_unknown_option(cmd, opt);
	if (matches > 1)
		return ambiguous(cmd, opt, len);
	if (found == &help_option && !eq)
		return print_help(cmd);
	if (!found->arg && eq)
		return cli_option_error(cmd->command, CLI_OPT_UNEXPECTED_ARG,
					opt, NULL);
	if (!found->arg) {
		set_value(found, values, NULL);
		return CLI_PROCEED;
	}
	if (eq) {
		set_value(found, values, eq + 1);
		return CLI_PROCEED;
	}
	if (*i + 1 >= argc)
		return cli_option_error(cmd->command, CLI_OPT_MISSING_ARG, opt,
					found->arg);
	set_value(found, values, argv[++*i]);
	return CLI_PROCEED;
}

/* argv[*i] is "-q", "-qh", "-oOUT" or "-o" followed by OUT. */
static int parse_short(const struct cli_command_opts *cmd, int argc,
		       char **argv, int *i, void *values)
{
	const char *opt = argv[*i];

	for (size_t j = 1; opt[j]; j++) {
		const struct cli_option *found = NULL;
		char name[3] = { '-', opt[j], '\0' };

		for (size_t k = 0; k < option_count(cmd) && !found; k++)
			if (option_at(cmd, k)->shortname == opt[j])
				found = option_at(cmd, k);
		if (!found)
			return cli_unknown_option(cmd, name);
		if (found == &help_option)
			return print_help(cmd);
		if (!found->arg) {
			set_value(found, values, NULL);
			continue;
		}
		if (opt[j + 1]) {
			set_value(found, values, opt + j + 1);
			return CLI_PROCEED;
		}
		if (*i + 1 >= argc)
			return cli_option_error(cmd->command,
						CLI_OPT_MISSING_ARG, name,
						found->arg);
		set_value(found, values, argv[++*i]);
		return CLI_PROCEED;
	}
	return CLI_PROCEED;
}

int cli_options_parse(const struct cli_command_opts *cmd, int argc,
		      char **argv, void *values, int *nargs)
{
	bool only_args = false;
	int n = 0, rc;

	for (int i = 1; i < argc; i++) {
		char *a = argv[i];

		/* n < i: moving an argument down never overwrites one unread */
		if (only_args || a[0] != '-' || !a[1]) {
			argv[++n] = a;
			only_args = only_args || cmd->stop_at_arg;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = true;
			continue;
		}
		rc = a[1] == '-' ? parse_long(cmd, argc, argv, &i, values) :
				   parse_short(cmd, argc, argv, &i, values);
		if (rc != CLI_PROCEED)
			return rc;
	}
	if (n < cmd->min_args)
		return cli_option_error(cmd->command, CLI_ARGS_MISSING, NULL,
					cmd->args);
	if (cmd->max_args >= 0 && n > cmd->max_args)
		return cli_option_error(cmd->command, CLI_ARGS_TOO_MANY, NULL,
					NULL);
	/* "" is no file name: not "cannot read ''" later (a subcommand's
	 * arguments are its own to check) */
	for (int k = 1; k <= (cmd->stop_at_arg && n ? 1 : n); k++)
		if (!*argv[k])
			return cli_option_error(cmd->command, CLI_ARGS_EMPTY,
						NULL, cmd->args);
	*nargs = n;
	return CLI_PROCEED;
}

/* The width of "-o, --output OUT" or "    --name NAME". */
static int label_width(const struct cli_option *o)
{
	return (int)(6 + strlen(o->name) + (o->arg ? 1 + strlen(o->arg) : 0));
}

/* The label, padded to width. */
static void print_label(const struct cli_option *o, int width, FILE *fp)
{
	if (o->shortname)
		fprintf(fp, "-%c, ", o->shortname);
	else
		fputs("    ", fp);
	fprintf(fp, "--%s%s%s%*s", o->name, o->arg ? " " : "",
		o->arg ? o->arg : "", width - label_width(o), "");
}

void cli_options_help(const struct cli_command_opts *cmd, FILE *fp)
{
	int width = 0;

	for (size_t k = 0; k < option_count(cmd); k++)
		if (label_width(option_at(cmd, k)) > width)
			width = label_width(option_at(cmd, k));
	fputs(cmd->usage, fp);
	if (cmd->usage_more)
		cmd->usage_more(fp);
	fputs("\nOptions:\n", fp);
	for (size_t k = 0; k < option_count(cmd); k++) {
		const struct cli_option *o = option_at(cmd, k);
		const char *line = o->help, *nl;

		fputs("  ", fp);
		print_label(o, width, fp);
		fputs("  ", fp);
		while ((nl = strchr(line, '\n'))) {
			fprintf(fp, "%.*s\n%*s", (int)(nl - line), line,
				width + 4, "");
			line = nl + 1;
		}
		fprintf(fp, "%s\n", line);
	}
	if (cmd->epilogue) {
		fputc('\n', fp);
		fputs(cmd->epilogue, fp);
	}
}
