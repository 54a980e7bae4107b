#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "pxeforge/out/verify.h"

static const struct cli_command_opts verify_cli = {
	.command = "verify",
	.usage =
	"usage: pxeforge verify OUT [-q]\n"
	"\n"
	"Checks an output tree against its OUT/manifest.json: every file listed\n"
	"there is hashed again (SHA-256) and its size compared. Each difference\n"
	"goes to stderr, one line per file:\n"
	"  pxeforge: 'PATH': sha256 differs (manifest HASH, file HASH)\n"
	"  pxeforge: 'PATH': size differs (manifest N, file N)\n"
	"  pxeforge: 'PATH': missing\n"
	"  pxeforge: 'PATH': not a regular file\n"
	"  pxeforge: 'PATH': cannot read: REASON\n"
	"  pxeforge: 'PATH': not in manifest\n"
	"  pxeforge: 'STAGE': staging directory of a build running or killed\n"
	"'not in manifest' is a file in OUT that neither the manifest nor the\n"
	"state file records: a stray (a file pxeforge did not write, a killed\n"
	"build's .pxeforge-tmp-*). Secrets (mode 0600, never listed; the state\n"
	"file records them) and pxeforge's own files (.pxeforge-state.json,\n"
	".pxeforge-bundles.json) are not reported. STAGE is\n"
	"OUT's sibling .<name>.pxeforge-stage. Then a summary line on stdout.\n",
	.epilogue =
	"Exit status: 0 everything matches, 1 any difference (or a manifest\n"
	"that is not pxeforge's), 2 usage, 3 the manifest or a file cannot be\n"
	"read.\n",
	.options = cli_quiet_option,
	.noptions = 1,
	.args = "OUT", .min_args = 1, .max_args = 1,
};

static void print_diff(const struct pf_verify_diff *d)
{
	switch (d->kind) {
	case PF_VERIFY_SIZE:
		fprintf(stderr, "pxeforge: '%s': size differs (manifest %" PRIu64
			", file %" PRIu64 ")\n", d->path, d->want.size,
			d->got.size);
		break;
	case PF_VERIFY_SHA256:
		fprintf(stderr, "pxeforge: '%s': sha256 differs (manifest %s, file %s)\n",
			d->path, d->want.sha256, d->got.sha256);
		break;
	case PF_VERIFY_MISSING:
		fprintf(stderr, "pxeforge: '%s': missing\n", d->path);
		break;
	case PF_VERIFY_NOT_REGULAR:
		fprintf(stderr, "pxeforge: '%s': not a regular file\n", d->path);
		break;
	case PF_VERIFY_UNREADABLE:
		fprintf(stderr, "pxeforge: '%s': cannot read: %s\n", d->path,
			strerror(d->err));
		break;
	case PF_VERIFY_EXTRA:
		fprintf(stderr, "pxeforge: '%s': not in manifest\n", d->path);
		break;
	case PF_VERIFY_STAGING:
		fprintf(stderr, "pxeforge: '%s': staging directory of a build "
			"running or killed\n", d->path);
		break;
	}
}

int cmd_verify(int argc, char **argv)
{
	struct cli_quiet_values o = { false };
	struct pf_verify_report r;
	bool quiet, unreadable = false;
	const char *dir;
	char why[200];
	int nargs, rc;

	rc = cli_options_parse(&verify_cli, argc, argv, &o, &nargs);
	if (rc != CLI_PROCEED)
		return rc;
	quiet = o.quiet;
	dir = argv[1];
	rc = verify_tree(dir, &r, why, sizeof(why));
	if (rc == -EINVAL) {
		cli_error("'%s/manifest.json' is not a pxeforge manifest: %s",
			  dir, why);
		return PF_EXIT_INVALID;
	}
	if (rc) {
		cli_error("cannot read '%s/manifest.json': %s", dir,
			  strerror(-rc));
		return PF_EXIT_IO;
	}
	for (size_t i = 0; i < r.n; i++) {
		print_diff(&r.v[i]);
		unreadable |= r.v[i].kind == PF_VERIFY_UNREADABLE;
	}
	if (r.walk_err) {
		cli_error("cannot read all of '%s': %s", dir,
			  strerror(r.walk_err));
		unreadable = true;
	}
	if (!quiet) {
		if (r.n)
			printf("%s: %zu difference%s (%zu files in manifest.json)\n",
			       dir, r.n, r.n == 1 ? "" : "s", r.listed);
		else if (!unreadable)
			printf("%s: ok (%zu files match manifest.json)\n", dir,
			       r.listed);
	}
	rc = unreadable ? PF_EXIT_IO : r.n ? PF_EXIT_INVALID : PF_EXIT_OK;
	verify_report_release(&r);
	return rc;
}
