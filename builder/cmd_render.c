#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "pxeforge/cli.h"
#include "pxeforge/package.h"
#include "pxeforge/suggest.h"

static const char render_help[] =
	"usage: pxeforge render PROFILE --host NAME --target TARGET\n"
	"\n"
	"Prints one artifact of one host to stdout without writing anything\n"
	"(a dry run of build). TARGET is one of:\n"
	"  ipxe          OUT/<host>/netboot.ipxe\n"
	"  cmdline       OUT/<host>/cmdline\n"
	"  modprobe      OUT/<host>/modprobe.d/vfio.conf\n"
	"  modules-load  OUT/<host>/modules-load.d/vfio.conf\n"
	"  nixos         OUT/<host>/nixos/boot.nix\n"
	"  dispatcher    OUT/boot.ipxe (no --host needed)\n"
	"  meta-data     OUT/<host>/cloud-init/meta-data (hosts with cloud_init)\n"
	"  network-config OUT/<host>/cloud-init/network-config (with addresses)\n"
	"\n"
	"user-data is not printed: it holds the node's SSH host key and k3s\n"
	"password; build writes it to OUT/<host>/cloud-init/user-data, mode 0600.\n"
	"\n"
	"Options:\n"
	"  -H, --host NAME      the host, by its name in the profile\n"
	"  -t, --target TARGET  what to print\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status: 0 ok, 1 invalid profile, 2 usage (unknown host or target),\n"
	"3 I/O error.\n";

static int unknown_target(const char *target)
{
	const char *hint = package_target_suggest(target);

	if (hint)
		return cli_usage_error("render", "unknown target '%s' (did you mean '%s'?)",
				       target, hint);
	return cli_usage_error("render",
			       "unknown target '%s' (ipxe, cmdline, modprobe, modules-load, nixos, dispatcher, meta-data or network-config)",
			       target);
}

static int unknown_host(const struct pf_plan *plan, const char *host)
{
	const char *names[256];
	size_t n = 0;
	const char *hint;

	for (size_t i = 0; i < plan->nhosts && n < 256; i++)
		names[n++] = plan->hosts[i].name;
	hint = suggest_closest(host, names, n);
	if (hint)
		return cli_usage_error("render", "unknown host '%s' (did you mean '%s'?)",
				       host, hint);
	return cli_usage_error("render", "unknown host '%s' (the profile has %zu host%s)",
			       host, plan->nhosts, plan->nhosts == 1 ? "" : "s");
}

int cmd_render(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "target", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *host = NULL, *target = NULL;
	const struct pf_plan_host *h = NULL;
	struct pf_profile *p = NULL;
	struct pf_plan *plan = NULL;
	struct pf_buf out;
	int c, rc, code;

	while ((c = getopt_long(argc, argv, "H:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'H':
			host = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'h':
			fputs(render_help, stdout);
			return PF_EXIT_OK;
		default:
			return cli_usage_error("render", "invalid option '%s'",
					       argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_usage_error("render", argc - optind ?
				       "too many arguments" :
				       "missing PROFILE");
	if (!target)
		return cli_usage_error("render", "missing --target");
	if (!strcmp(target, "user-data"))
		return cli_usage_error("render",
				       "user-data is not printed: it holds the node's SSH host key and k3s password (build writes OUT/<host>/cloud-init/user-data with mode 0600)");
	if (!package_target_known(target))
		return unknown_target(target);
	if (!host && package_target_needs_host(target))
		return cli_usage_error("render", "missing --host for target '%s'",
				       target);
	code = cli_load(argv[optind], &p, &plan);
	if (code)
		return code;
	buf_init(&out);
	if (host && !(h = plan_host_find(plan, host))) {
		code = unknown_host(plan, host);
		goto clean;
	}
	rc = package_render_target(plan, h, target, &out);
	if (rc == -ENODATA) {
		cli_error("host '%s' has no %s (%s)", host, target,
			  strcmp(target, "meta-data") ?
			  "give cloud_init network addresses" :
			  "give it cloud_init, or defaults.cloud_init");
		code = PF_EXIT_INVALID;
		goto clean;
	}
	if (rc) {
		cli_error("cannot render '%s': %s", target, strerror(-rc));
		code = PF_EXIT_IO;
		goto clean;
	}
	if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
		cli_error("cannot write to stdout: %s", strerror(errno));
		code = PF_EXIT_IO;
	}
clean:
	buf_release(&out);
	cli_unload(p, plan);
	return code;
}
