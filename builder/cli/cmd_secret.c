#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "pxeforge/lib/secret.h"
#include "pxeforge/lib/suggest.h"

#define DEFAULT_FILE "cluster.key"

static const struct cli_command_opts secret_init_cli = {
	.command = "secret",
	.usage =
	"usage: pxeforge secret init [FILE] [-q]\n"
	"\n"
	"Creates the cluster secret FILE (default: " DEFAULT_FILE "): 32 random\n"
	"bytes from OpenSSL's RAND_bytes, mode 0600. An existing FILE is never\n"
	"overwritten; FILE appears complete or not at all.\n"
	"\n"
	"Every node's identity is derived from this secret and its name: the k3s\n"
	"node password and the SSH host key. Rebuilding a node with the same\n"
	"secret gives it the same identity; replacing the secret changes every\n"
	"node's identity at once (k3s rejects the nodes, SSH clients warn about\n"
	"changed host keys). Back it up, keep it out of version control, and\n"
	"keep it readable by its owner only: a secret readable by group or others\n"
	"is refused, as ssh refuses such keys.\n",
	.epilogue =
	"Exit status: 0 ok, 1 FILE already exists, 2 usage, 3 I/O error.\n",
	.options = cli_quiet_option,
	.noptions = 1,
	.args = "FILE", .min_args = 0, .max_args = 1,
};

/* "secret" itself: a subcommand; its --help is the one subcommand's. */
static const struct cli_command_opts secret_cli = {
	.command = "secret",
	.args = "subcommand (init)", .min_args = 1, .max_args = -1,
	.stop_at_arg = true,
	.help_of = &secret_init_cli,
};

static int secret_init(int argc, char **argv)
{
	struct cli_quiet_values o = { false };
	const char *path = DEFAULT_FILE;
	int nargs, rc;

	rc = cli_options_parse(&secret_init_cli, argc, argv, &o, &nargs);
	if (rc != CLI_PROCEED)
		return rc;
	if (nargs == 1)
		path = argv[1];
	rc = secret_create(path);
	if (rc == -EEXIST) {
		cli_error("'%s' already exists; pxeforge never overwrites a cluster secret (every node's identity derives from it)",
			  path);
		return PF_EXIT_INVALID;
	}
	if (rc) {
		cli_error("cannot create '%s': %s", path, strerror(-rc));
		return PF_EXIT_IO;
	}
	if (!o.quiet)
		fprintf(stderr, "pxeforge: wrote cluster secret '%s' (%d bytes, mode 0600)\n",
			path, PF_SECRET_LEN);
	return PF_EXIT_OK;
}

int cmd_secret(int argc, char **argv)
{
	static const char *const subcommands[] = { "init" };
	const char *hint;
	int nargs, rc;

	rc = cli_options_parse(&secret_cli, argc, argv, NULL, &nargs);
	if (rc != CLI_PROCEED)
		return rc;
	if (strcmp(argv[1], "init") == 0)
		return secret_init(nargs, argv + 1);
	hint = suggest_closest(argv[1], subcommands, 1);
	if (hint)
		return cli_usage_error("secret", "unknown subcommand '%s' (did you mean '%s'?)",
				       argv[1], hint);
	return cli_usage_error("secret", "unknown subcommand '%s'", argv[1]);
}
