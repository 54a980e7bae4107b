/* What the command line says when it is used wrongly, worded in one place
 * (curl's tool_msgs): stderr, lowercase, problem first, subject quoted,
 * then the hint to the command's --help. */
#ifndef PXEFORGE_CLI_MESSAGES_H
#define PXEFORGE_CLI_MESSAGES_H

#include "pxeforge/out/outwriter.h"

enum cli_opt_problem {
	CLI_OPT_UNKNOWN,	/* opt; detail: the closest option, or NULL */
	CLI_OPT_MISSING_ARG,	/* opt; detail: what the argument is ("OUT") */
	CLI_OPT_UNEXPECTED_ARG,	/* opt: a flag given "--flag=value" */
	CLI_OPT_AMBIGUOUS,	/* opt; detail: the options it could be */
	CLI_ARGS_MISSING,	/* detail: what is missing ("PROFILE") */
	CLI_ARGS_TOO_MANY,
	CLI_ARGS_EMPTY,		/* detail: what is empty ("PROFILE") */
};

/* Prints the problem and the hint for command cmd (NULL: pxeforge
 * itself); returns PF_EXIT_USAGE. */
int cli_option_error(const char *cmd, enum cli_opt_problem problem,
		     const char *opt, const char *detail);

/* "pxeforge: warning: ...". */
void cli_warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The output writer's notes (outwriter.h) on stderr: waiting for OUT's
 * lock once, each file in OUT that is not pxeforge's. */
void cli_outnote(enum pf_outnote what, const char *path, void *ctx);

#endif
