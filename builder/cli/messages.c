/* The command line's messages: errors, usage errors and their wording. */
#include <stdarg.h>
#include <stdio.h>

#include "cli.h"
#include "messages.h"

void cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("pxeforge: error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_warning(const char *fmt, ...)
{
	va_list ap;

	fputs("pxeforge: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void cli_outnote(enum pf_outnote what, const char *path, void *ctx)
{
	(void)ctx;
	switch (what) {
	case PF_OUTNOTE_WAITING:
		fprintf(stderr, "pxeforge: waiting for another build of '%s'\n",
			path);
		break;
	case PF_OUTNOTE_KEPT:
		cli_warning("'%s' is not pxeforge's; kept", path);
		break;
	case PF_OUTNOTE_REPLACED:
		cli_warning("'%s' is not pxeforge's and is in the way of the "
			    "tree; replaced", path);
		break;
	}
}

static void usage_hint(const char *cmd)
{
	fprintf(stderr, "Try 'pxeforge %s%s--help'.\n", cmd ? cmd : "",
		cmd ? " " : "");
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fputs("pxeforge: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	usage_hint(cmd);
	return PF_EXIT_USAGE;
}

int cli_option_error(const char *cmd, enum cli_opt_problem problem,
		     const char *opt, const char *detail)
{
	fputs("pxeforge: ", stderr);
	switch (problem) {
	case CLI_OPT_UNKNOWN:
		fprintf(stderr, "unknown option '%s'", opt);
		if (detail)
			fprintf(stderr, " (did you mean '%s'?)", detail);
		break;
	case CLI_OPT_MISSING_ARG:
		fprintf(stderr, "missing %s after option '%s'", detail, opt);
		break;
	case CLI_OPT_UNEXPECTED_ARG:
		fprintf(stderr, "unexpected argument to option '%s'", opt);
		break;
	case CLI_OPT_AMBIGUOUS:
		fprintf(stderr, "ambiguous option '%s' (%s)", opt, detail);
		break;
	case CLI_ARGS_MISSING:
		fprintf(stderr, "missing %s", detail);
		break;
	case CLI_ARGS_TOO_MANY:
		fputs("too many arguments", stderr);
		break;
	case CLI_ARGS_EMPTY:
		fprintf(stderr, "empty %s", detail);
		break;
	}
	fputc('\n', stderr);
	usage_hint(cmd);
	return PF_EXIT_USAGE;
}
