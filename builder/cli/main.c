/* pxeforge: netboot artifacts for diskless (GPU) hosts. */
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "pxeforge/lib/suggest.h"

static const struct pf_command commands[] = {
	{ "build", cmd_build, "build PROFILE [-o OUT] [--bundle FILE]",
	  "write all artifacts for all hosts and VMs into OUT (default: out)" },
	{ "check", cmd_check, "check PROFILE",
	  "validate only; every problem as file:line:col: message" },
	{ "containerdisk", cmd_containerdisk, "containerdisk DISK -o FILE",
	  "write a KubeVirt containerDisk (OCI archive) of DISK" },
	{ "render", cmd_render, "render PROFILE --host|--vm NAME --target T",
	  "print one artifact to stdout (dry run)" },
	{ "schema", cmd_schema, "schema",
	  "print the profile's JSON Schema (for editors) to stdout" },
	{ "secret", cmd_secret, "secret init [FILE]",
	  "create the cluster secret (32 random bytes, mode 0600)" },
	{ "verify", cmd_verify, "verify OUT",
	  "check OUT against OUT/manifest.json (sizes, sha256)" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *fp)
{
	fputs("usage: pxeforge COMMAND [ARGS]\n"
	      "\n"
	      "Builds what diskless hosts need to PXE-boot with iPXE, above all GPU\n"
	      "hosts whose GPUs go to VMs through VFIO: iPXE scripts with the full\n"
	      "kernel command line, VFIO module configuration and NixOS modules,\n"
	      "cloud-init NoCloud seeds with a stable identity per node, and the\n"
	      "GPU VMs' KubeVirt VirtualMachines, containerDisks, libvirt domains\n"
	      "and OpenNebula templates, from one machine profile (YAML or JSON).\n"
	      "\n"
	      "Commands:\n", fp);
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(fp, "  %-42s %s\n", commands[i].synopsis,
			commands[i].summary);
	fputs("\n"
	      "Options:\n"
	      "  -h, --help     this text; 'pxeforge COMMAND --help' (or 'pxeforge help\n"
	      "                 COMMAND') for a command\n"
	      "  -V, --version  print the version\n"
	      "\n"
	      "Exit status: 0 ok, 1 invalid profile or input, 2 usage, 3 I/O,\n"
	      "network or external failure. Errors go to stderr as\n"
	      "FILE:LINE:COL: error: MESSAGE.\n", fp);
}

static const struct pf_command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(name, commands[i].name) == 0)
			return &commands[i];
	return NULL;
}

static int unknown_command(const char *name)
{
	const char *names[NCOMMANDS], *hint;

	for (size_t i = 0; i < NCOMMANDS; i++)
		names[i] = commands[i].name;
	hint = suggest_closest(name, names, NCOMMANDS);
	if (hint)
		return cli_usage_error(NULL, "unknown command '%s' (did you mean '%s'?)",
				       name, hint);
	return cli_usage_error(NULL, "unknown command '%s'", name);
}

/* "pxeforge help COMMAND" is "pxeforge COMMAND --help". */
static int help_of(const char *name)
{
	const struct pf_command *cmd = find_command(name);
	char help[] = "--help";
	char *args[] = { (char *)name, help, NULL };

	return cmd ? cmd->run(2, args) : unknown_command(name);
}

int main(int argc, char **argv)
{
	const struct pf_command *cmd;

	/* Deterministic output: no locale-dependent formatting. */
	setlocale(LC_ALL, "C");
	if (argc < 2) {
		usage(stderr);
		return PF_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "help") && argc > 2)
		return help_of(argv[2]);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return PF_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("pxeforge %s\n", PXEFORGE_VERSION);
		return PF_EXIT_OK;
	}
	if (argv[1][0] == '-')
		return cli_unknown_option(NULL, argv[1]);
	cmd = find_command(argv[1]);
	return cmd ? cmd->run(argc - 1, argv + 1) : unknown_command(argv[1]);
}
