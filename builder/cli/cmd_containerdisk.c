#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"
#include "pxeforge/package/containerdisk.h"

struct containerdisk_values {
	const char *output, *compress, *name, *ref;
	bool quiet;
};

static const struct cli_option containerdisk_options[] = {
	CLI_OPT_ARG('o', "output", "FILE", struct containerdisk_values, output,
		    "the archive to write (required)"),
	CLI_OPT_ARG('c', "compress", "ALG", struct containerdisk_values,
		    compress,
		    "the layer's compression: gzip (default) or zstd\n"
		    "(KubeVirt's container runtime must read zstd\n"
		    "layers: containerd 1.5+, CRI-O)"),
	CLI_OPT_ARG('n', "name", "NAME", struct containerdisk_values, name,
		    "the file name under disk/ (default: DISK's base\n"
		    "name); printable ASCII, no '/'"),
	CLI_OPT_ARG('r', "ref", "REF", struct containerdisk_values, ref,
		    "name the image REF in index.json\n"
		    "(org.opencontainers.image.ref.name, e.g. latest),\n"
		    "as umoci and oci-archive:FILE:REF expect"),
	CLI_OPT_FLAG('q', "quiet", struct containerdisk_values, quiet,
		     "no progress bar, no summary line"),
};

static const struct cli_command_opts containerdisk_cli = {
	.command = "containerdisk",
	.usage =
	"usage: pxeforge containerdisk DISK -o FILE [--compress gzip|zstd]\n"
	"                              [--name NAME] [--ref REF] [-q]\n"
	"\n"
	"Writes FILE, a KubeVirt containerDisk of the disk image DISK (qcow2 or\n"
	"raw) as an OCI image layout archive (oci-archive), ready for\n"
	"  skopeo copy oci-archive:FILE docker://REGISTRY/IMAGE:TAG\n"
	"The image has one layer holding DISK as disk/NAME, owned by 107:107\n"
	"(the qemu user of KubeVirt's virt-launcher), mode 0440, in disk/ (0555);\n"
	"its config says linux/amd64.\n"
	"\n"
	"DISK is read once and streamed: memory use does not depend on its size,\n"
	"and FILE's directory needs room for the compressed layer twice while it\n"
	"is written. FILE is written to a temporary name and renamed; a FILE that\n"
	"already holds the same bytes is left as it is. Same DISK and options,\n"
	"same bytes: entries sorted, no host detail, every timestamp\n"
	"SOURCE_DATE_EPOCH (default 0).\n",
	.epilogue =
	"A progress bar goes to stderr when it is a terminal; then a summary:\n"
	"FILE, its size and sha256.\n"
	"\n"
	"Exit status: 0 ok, 1 invalid input (a DISK name that cannot go under\n"
	"disk/: use --name), 2 usage, 3 I/O error.\n",
	.options = containerdisk_options,
	.noptions = sizeof(containerdisk_options) /
		    sizeof(containerdisk_options[0]),
	.args = "DISK", .min_args = 1, .max_args = 1,
};

/* --compress, --name and --ref into o; a usage error for a bad one. */
static int take_options(const struct containerdisk_values *v,
			struct pf_cdisk_opts *o)
{
	if (v->compress && !strcmp(v->compress, "gzip"))
		o->compress = PF_COMPRESS_GZIP;
	else if (v->compress && !strcmp(v->compress, "zstd"))
		o->compress = PF_COMPRESS_ZSTD;
	else if (v->compress)
		return cli_usage_error("containerdisk",
				       "unknown compression '%s' (gzip or zstd)",
				       v->compress);
	if (v->name && !containerdisk_name_ok(v->name))
		return cli_usage_error("containerdisk",
				       "invalid name '%s': 1 to 255 printable ASCII characters, no '/', not '.' or '..'",
				       v->name);
	if (v->ref && !containerdisk_ref_ok(v->ref))
		return cli_usage_error("containerdisk",
				       "invalid ref '%s': 1 to 128 of A-Z a-z 0-9 . _ : / @ + -, starting with a letter or digit",
				       v->ref);
	o->disk_name = v->name;
	o->ref = v->ref;
	return CLI_PROCEED;
}

int cmd_containerdisk(int argc, char **argv)
{
	struct containerdisk_values v = { NULL };
	struct pf_cdisk_opts o;
	struct pf_filesum sum;
	const char *out, *disk, *slash;
	char *failed = NULL;
	bool quiet, replaced;
	int nargs, rc, code = PF_EXIT_OK;

	containerdisk_opts_init(&o);
	rc = cli_options_parse(&containerdisk_cli, argc, argv, &v, &nargs);
	if (rc == CLI_PROCEED)
		rc = take_options(&v, &o);
	if (rc != CLI_PROCEED)
		return rc;
	out = v.output;
	quiet = v.quiet;
	disk = argv[1];
	if (!out)
		return cli_usage_error("containerdisk", "missing -o FILE");
	if (!*out)
		return cli_usage_error("containerdisk", "empty FILE");
	if (cli_source_date_epoch(&o.mtime)) {
		cli_error("SOURCE_DATE_EPOCH '%s' is not a number of seconds since 1970 (0 to 4294967295)",
			  getenv("SOURCE_DATE_EPOCH"));
		return PF_EXIT_USAGE;
	}
	if (!o.disk_name) {
		slash = strrchr(disk, '/');
		if (!containerdisk_name_ok(slash ? slash + 1 : disk)) {
			cli_error("'%s' has no name that can go under disk/ (printable ASCII, no '/'); give one with --name",
				  disk);
			return PF_EXIT_INVALID;
		}
	}
	o.progress = !quiet && isatty(STDERR_FILENO);
	rc = containerdisk_write(disk, out, &o, &sum, &replaced, &failed);
	if (rc) {
		bool reading = failed && !strcmp(failed, disk);

		if (reading && rc == -EINVAL)
			cli_error("cannot read '%s': not a regular file", disk);
		else if (reading && rc == -ESTALE)
			cli_error("cannot read '%s': it changed size while it was read",
				  disk);
		else
			cli_error("cannot %s '%s': %s", reading ? "read" : "write",
				  failed ? failed : out, strerror(-rc));
		code = PF_EXIT_IO;
		goto clean;
	}
	if (!quiet)
		fprintf(stderr, "pxeforge: %s: containerDisk (%s layer), %" PRIu64
			" bytes, sha256 %s%s\n", out,
			o.compress == PF_COMPRESS_ZSTD ? "zstd" : "gzip",
			sum.size, sum.sha256, replaced ? "" : " (unchanged)");
clean:
	free(failed);
	return code;
}
