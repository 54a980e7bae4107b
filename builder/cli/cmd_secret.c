#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pxeforge/lib/secret.h"
#include "pxeforge/lib/suggest.h"

#define DEFAULT_FILE "cluster.key"

static const char secret_help[] =
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
	"is refused, as ssh refuses such keys.\n"
	"\n"
	"Options:\n"
	"  -q, --quiet  no summary line\n"
	"  -h, --help   this text\n"
	"\n"
	"Exit status: 0 ok, 1 FILE already exists, 2 usage, 3 I/O error.\n";

static int secret_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = DEFAULT_FILE;
	bool quiet = false;
	int c, rc;

	optind = 0;	/* glibc: restart the scan on this argv */
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(secret_help, stdout);
			return PF_EXIT_OK;
		default:
			return cli_usage_error("secret", "invalid option '%s'",
					       argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		return cli_usage_error("secret", "too many arguments");
	if (argc - optind == 1)
		path = argv[optind];
	if (!*path)
		return cli_usage_error("secret", "empty FILE");
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
	if (!quiet)
		fprintf(stderr, "pxeforge: wrote cluster secret '%s' (%d bytes, mode 0600)\n",
			path, PF_SECRET_LEN);
	return PF_EXIT_OK;
}

int cmd_secret(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const subcommands[] = { "init" };
	const char *hint;
	int c;

	/* '+': stop at the subcommand; its options are its own. */
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		if (c == 'h') {
			fputs(secret_help, stdout);
			return PF_EXIT_OK;
		}
		return cli_usage_error("secret", "invalid option '%s'",
				       argv[optind - 1]);
	}
	if (optind >= argc)
		return cli_usage_error("secret", "missing subcommand (init)");
	if (strcmp(argv[optind], "init") == 0)
		return secret_init(argc - optind, argv + optind);
	hint = suggest_closest(argv[optind], subcommands, 1);
	if (hint)
		return cli_usage_error("secret", "unknown subcommand '%s' (did you mean '%s'?)",
				       argv[optind], hint);
	return cli_usage_error("secret", "unknown subcommand '%s'", argv[optind]);
}
