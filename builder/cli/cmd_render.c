#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pxeforge/lib/suggest.h"
#include "pxeforge/render/targets.h"

static const char render_help_usage[] =
	"usage: pxeforge render PROFILE --host NAME --target TARGET\n"
	"       pxeforge render PROFILE --vm NAME --target kubevirt|libvirt|opennebula\n"
	"                                [--explain]\n"
	"       pxeforge render PROFILE --target permitted-host-devices\n"
	"\n"
	"Prints one artifact of one host or VM to stdout without writing\n"
	"anything (a dry run of build). ";
/* between them: the targets, from the target table */
static const char render_help[] =
	"\n"
	"user-data is not printed: it holds the node's SSH host key and k3s\n"
	"password; build writes it to OUT/<host>/cloud-init/user-data, mode 0600.\n"
	"For the same reason neither is a VM's vm.yaml when its user-data holds\n"
	"the VM's identity (build writes it with mode 0600).\n"
	"\n"
	"Options:\n"
	"  -H, --host NAME      the host, by its name in the profile\n"
	"  -V, --vm NAME        the VM, by its name in the profile\n"
	"  -e, --explain        with --target kubevirt: the memory breakdown\n"
	"  -t, --target TARGET  what to print\n"
	"  -h, --help           this text\n"
	"\n"
	"Exit status: 0 ok, 1 invalid profile, 2 usage (unknown host or target),\n"
	"3 I/O error.\n";

static int print_help(void)
{
	struct pf_buf b;
	int rc;

	buf_init(&b);
	rc = buf_puts(&b, render_help_usage);
	if (!rc)
		rc = render_targets_help(&b);
	if (!rc)
		rc = buf_puts(&b, render_help);
	if (!rc)
		fputs(b.data, stdout);
	buf_release(&b);
	if (rc) {
		cli_error("cannot render the help: %s", strerror(-rc));
		return PF_EXIT_IO;
	}
	return PF_EXIT_OK;
}

static int unknown_target(const char *target)
{
	const char *hint = render_target_suggest(target);
	struct pf_buf list;
	int code;

	if (hint)
		return cli_usage_error("render", "unknown target '%s' (did you mean '%s'?)",
				       target, hint);
	buf_init(&list);
	if (render_target_list(&list))
		code = cli_usage_error("render", "unknown target '%s'", target);
	else
		code = cli_usage_error("render", "unknown target '%s' (%s)",
				       target, list.data);
	buf_release(&list);
	return code;
}

/* An unknown host or VM: the closest of the n names, each the char *
 * at offset off of items[k] (stride bytes apart), or how many there are. */
static int unknown_name(const char *kind, const char *name,
			const void *items, size_t n, size_t stride, size_t off)
{
	const char **names = calloc(n ? n : 1, sizeof(*names));
	const char *hint = NULL;
	int code;

	for (size_t i = 0; names && i < n; i++)
		names[i] = *(char *const *)((const char *)items + i * stride + off);
	if (names)
		hint = suggest_closest(name, names, n);
	if (hint)
		code = cli_usage_error("render", "unknown %s '%s' (did you mean '%s'?)",
				       kind, name, hint);
	else
		code = cli_usage_error("render", "unknown %s '%s' (the profile has %zu %s%s)",
				       kind, name, n, kind, n == 1 ? "" : "s");
	free(names);
	return code;
}

static int unknown_host(const struct pf_plan *plan, const char *host)
{
	return unknown_name("host", host, plan->hosts, plan->nhosts,
			    sizeof(*plan->hosts),
			    offsetof(struct pf_plan_host, name));
}

static int unknown_vm(const struct pf_plan *plan, const char *vm)
{
	return unknown_name("VM", vm, plan->vms, plan->nvms,
			    sizeof(*plan->vms), offsetof(struct pf_plan_vm, name));
}

/* --vm NAME --target T [--explain], or the fleet's permitted devices. */
static int render_vm(const struct pf_plan *plan, const char *name,
		     const struct pf_target *t, bool explain,
		     struct pf_buf *out)
{
	struct pf_target_subject s = { plan, NULL, NULL, explain };
	int rc;

	if (name) {
		s.vm = plan_vm_find(plan, name);
		if (!s.vm)
			return unknown_vm(plan, name);
	}
	if (render_target_secret(t, &s))
		return cli_usage_error("render",
				       "vm.yaml of '%s' is not printed: its cloud-init user-data holds the VM's SSH host key and k3s password (build writes OUT/vms/%s/vm.yaml with mode 0600; --explain prints the memory breakdown)",
				       name, name);
	rc = render_target(t, &s, out);
	if (rc == -ENODATA) {
		cli_error("VM '%s' has no KubeVirt VirtualMachine (give its disk a 'containerdisk')",
			  name);
		return PF_EXIT_INVALID;
	}
	if (rc) {
		cli_error("cannot render '%s': %s", t->name, strerror(-rc));
		return PF_EXIT_IO;
	}
	return PF_EXIT_OK;
}

/* "target 'T' is not a VM's (kubevirt, libvirt or opennebula)" */
static int not_a_vm_target(const char *target)
{
	struct pf_buf list;
	int code;

	buf_init(&list);
	if (render_vm_target_list(&list))
		code = cli_usage_error("render", "target '%s' is not a VM's",
				       target);
	else
		code = cli_usage_error("render", "target '%s' is not a VM's (%s)",
				       target, list.data);
	buf_release(&list);
	return code;
}

int cmd_render(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "host", required_argument, NULL, 'H' },
		{ "target", required_argument, NULL, 't' },
		{ "vm", required_argument, NULL, 'V' },
		{ "explain", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *host = NULL, *target = NULL, *vm = NULL;
	bool explain = false, vm_target;
	const struct pf_target *t;
	struct pf_target_subject s = { NULL, NULL, NULL, false };
	struct pf_profile *p = NULL;
	struct pf_plan *plan = NULL;
	struct pf_buf out;
	int c, rc, code;

	while ((c = getopt_long(argc, argv, "H:t:V:eh", opts, NULL)) != -1) {
		switch (c) {
		case 'V':
			vm = optarg;
			break;
		case 'e':
			explain = true;
			break;
		case 'H':
			host = optarg;
			break;
		case 't':
			target = optarg;
			break;
		case 'h':
			return print_help();
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
	t = render_target_find(target);
	if (t && t->secret)
		return cli_usage_error("render",
				       "%s is not printed: it holds the node's SSH host key and k3s password (build writes OUT/<host>/%s with mode 0600)",
				       t->name, t->path);
	if (!t)
		return unknown_target(target);
	vm_target = t->group != PF_TARGET_HOST;
	if (host && vm)
		return cli_usage_error("render", "--host and --vm together: give one");
	if (explain && !t->explain)
		return cli_usage_error("render", "--explain goes with --target kubevirt");
	if (vm && t->group != PF_TARGET_VM)
		return not_a_vm_target(target);
	if (host && vm_target)
		return cli_usage_error("render", "target '%s' is a VM's: give --vm NAME, not --host",
				       target);
	if (!vm && t->group == PF_TARGET_VM)
		return cli_usage_error("render", "missing --vm for target '%s'",
				       target);
	if (!host && !vm_target && t->needs_name)
		return cli_usage_error("render", "missing --host for target '%s'",
				       target);
	code = cli_load(argv[optind], &p, &plan);
	if (code)
		return code;
	buf_init(&out);
	if (vm_target) {
		code = render_vm(plan, vm, t, explain, &out);
		if (code)
			goto clean;
		goto print;
	}
	s.plan = plan;
	if (host && !(s.host = plan_host_find(plan, host))) {
		code = unknown_host(plan, host);
		goto clean;
	}
	rc = render_target(t, &s, &out);
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
print:
	if (out.len && fwrite(out.data, 1, out.len, stdout) != out.len) {
		cli_error("cannot write to stdout: %s", strerror(errno));
		code = PF_EXIT_IO;
	}
clean:
	buf_release(&out);
	cli_unload(p, plan);
	return code;
}
