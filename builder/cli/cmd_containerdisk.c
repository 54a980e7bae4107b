#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "pxeforge/package/containerdisk.h"

static const char containerdisk_help[] =
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
	"SOURCE_DATE_EPOCH (default 0).\n"
	"\n"
	"Options:\n"
	"  -o, --output FILE     the archive to write (required)\n"
	"  -c, --compress ALG    the layer's compression: gzip (default) or zstd\n"
	"                        (KubeVirt's container runtime must read zstd\n"
	"                        layers: containerd 1.5+, CRI-O)\n"
	"  -n, --name NAME       the file name under disk/ (default: DISK's base\n"
	"                        name); printable ASCII, no '/'\n"
	"  -r, --ref REF         name the image REF in index.json\n"
	"                        (org.opencontainers.image.ref.name, e.g. latest),\n"
	"                        as umoci and oci-archive:FILE:REF expect\n"
	"  -q, --quiet           no progress bar, no summary line\n"
	"  -h, --help            this text\n"
	"\n"
	"A progress bar goes to stderr when it is a terminal; then a summary:\n"
	"FILE, its size and sha256.\n"
	"\n"
	"Exit status: 0 ok, 1 invalid input (a DISK name that cannot go under\n"
	"disk/: use --name), 2 usage, 3 I/O error.\n";

int cmd_containerdisk(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "compress", required_argument, NULL, 'c' },
		{ "name", required_argument, NULL, 'n' },
		{ "ref", required_argument, NULL, 'r' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct pf_cdisk_opts o;
	struct pf_filesum sum;
	const char *out = NULL, *disk, *slash;
	char *failed = NULL;
	bool quiet = false, replaced;
	int c, rc, code = PF_EXIT_OK;

	containerdisk_opts_init(&o);
	while ((c = getopt_long(argc, argv, "o:c:n:r:qh", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'c':
			if (!strcmp(optarg, "gzip"))
				o.compress = PF_COMPRESS_GZIP;
			else if (!strcmp(optarg, "zstd"))
				o.compress = PF_COMPRESS_ZSTD;
			else
				return cli_usage_error("containerdisk",
					"unknown compression '%s' (gzip or zstd)",
					optarg);
			break;
		case 'n':
			if (!containerdisk_name_ok(optarg))
				return cli_usage_error("containerdisk",
					"invalid name '%s': 1 to 255 printable ASCII characters, no '/', not '.' or '..'",
					optarg);
			o.disk_name = optarg;
			break;
		case 'r':
			if (!containerdisk_ref_ok(optarg))
				return cli_usage_error("containerdisk",
					"invalid ref '%s': 1 to 128 of A-Z a-z 0-9 . _ : / @ + -, starting with a letter or digit",
					optarg);
			o.ref = optarg;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(containerdisk_help, stdout);
			return PF_EXIT_OK;
		default:
			return cli_usage_error("containerdisk", "invalid option '%s'",
					       argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("containerdisk", argc - optind ?
				       "too many arguments" : "missing DISK");
	disk = argv[optind];
	if (!out)
		return cli_usage_error("containerdisk", "missing -o FILE");
	if (!*out || !*disk)
		return cli_usage_error("containerdisk", "empty %s",
				       *out ? "DISK" : "FILE");
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
