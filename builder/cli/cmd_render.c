#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "pxeforge/lib/suggest.h"
#include "pxeforge/lib/buf.h"
#include "pxeforge/render/targets.h"

struct render_values {
	const char *host, *vm, *target;
	bool explain;
};

static const struct cli_option render_options[] = {
	CLI_OPT_ARG('H', "host", "NAME", struct render_values, host,
		    "the host, by its name in the profile"),
	CLI_OPT_ARG('V', "vm", "NAME", struct render_values, vm,
		    "the VM, by its name in the profile"),
	CLI_OPT_FLAG('e', "explain", struct render_values, explain,
		     "with --target kubevirt: the memory breakdown"),
	CLI_OPT_ARG('t', "target", "TARGET", struct render_values, target,
		    "what to print"),
};

/* The targets part of --help, from the render target table, and why
 * some are never printed. */
static void print_targets(FILE *fp)
{
	struct pf_buf b;

	buf_init(&b);
	if (!render_targets_help(&b))
		fputs(b.data, fp);
	buf_release(&b);
	fputs(
	      "\n"
	      "user-data is not printed: it holds the node's SSH host key and k3s\n"
	      "password; build writes it to OUT/<host>/cloud-init/user-data, mode 0600.\n"
	      "For the same reason neither is a VM's vm.yaml when its user-data holds\n"
	      "the VM's identity (build writes it with mode 0600).\n", fp);
}

static const struct cli_command_opts render_cli = {
	.command = "render",
	.usage =
	"usage: pxeforge render PROFILE --host NAME --target TARGET\n"
	"       pxeforge render PROFILE --vm NAME --target kubevirt|libvirt|opennebula\n"
	"                                [--explain]\n"
	"       pxeforge render PROFILE --target permitted-host-devices\n"
	"\n"
	"Prints one artifact of one host or VM to stdout without writing\n"
	"anything (a dry run of build). ",
	.usage_more = print_targets,
	.epilogue =
	"Exit status: 0 ok, 1 invalid profile, 2 usage (unknown host or target),\n"
	"3 I/O error.\n",
	.options = render_options,
	.noptions = sizeof(render_options) / sizeof(render_options[0]),
	.args = "PROFILE", .min_args = 1, .max_args = 1,
};

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
	struct render_values o = { NULL };
	const char *host = NULL, *target = NULL, *vm = NULL;
	bool explain = false, vm_target;
	const struct pf_target *t;
	struct pf_target_subject s = { NULL, NULL, NULL, false };
	struct pf_profile *p = NULL;
	struct pf_plan *plan = NULL;
	struct pf_buf out;
	int nargs, rc, code;

	code = cli_options_parse(&render_cli, argc, argv, &o, &nargs);
	if (code != CLI_PROCEED)
		return code;
	host = o.host;
	vm = o.vm;
	target = o.target;
	explain = o.explain;
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
	code = cli_load(argv[1], &p, &plan);
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
