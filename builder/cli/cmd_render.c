#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "options.h"
#include "pxeforge/lib/suggest.h"
#include "pxeforge/package/package.h"

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

static const struct cli_command_opts render_cli = {
	.command = "render",
	.usage =
	"usage: pxeforge render PROFILE --host NAME --target TARGET\n"
	"       pxeforge render PROFILE --vm NAME --target kubevirt|libvirt|opennebula\n"
	"                                [--explain]\n"
	"       pxeforge render PROFILE --target permitted-host-devices\n"
	"\n"
	"Prints one artifact of one host or VM to stdout without writing\n"
	"anything (a dry run of build). For a host, TARGET is one of:\n"
	"  ipxe          OUT/<host>/netboot.ipxe\n"
	"  cmdline       OUT/<host>/cmdline\n"
	"  modprobe      OUT/<host>/modprobe.d/vfio.conf\n"
	"  modules-load  OUT/<host>/modules-load.d/vfio.conf\n"
	"  nixos         OUT/<host>/nixos/boot.nix\n"
	"  dispatcher    OUT/boot.ipxe (no --host needed)\n"
	"  meta-data     OUT/<host>/cloud-init/meta-data (hosts with cloud_init)\n"
	"  network-config OUT/<host>/cloud-init/network-config (with addresses)\n"
	"For a VM (vms[] in the profile):\n"
	"  kubevirt      OUT/vms/<vm>/vm.yaml (VMs with a containerdisk); with\n"
	"                --explain, how its memory request is computed: guest\n"
	"                memory plus KubeVirt's virt-launcher overhead, part by part\n"
	"  libvirt       OUT/vms/<vm>/domain.xml\n"
	"  opennebula    OUT/vms/<vm>/opennebula.tmpl\n"
	"And for the fleet:\n"
	"  permitted-host-devices  OUT/kubevirt/permitted-host-devices.yaml\n"
	"\n"
	"user-data is not printed: it holds the node's SSH host key and k3s\n"
	"password; build writes it to OUT/<host>/cloud-init/user-data, mode 0600.\n"
	"For the same reason neither is a VM's vm.yaml when its user-data holds\n"
	"the VM's identity (build writes it with mode 0600).\n",
	.epilogue =
	"Exit status: 0 ok, 1 invalid profile, 2 usage (unknown host or target),\n"
	"3 I/O error.\n",
	.options = render_options,
	.noptions = sizeof(render_options) / sizeof(render_options[0]),
	.args = "PROFILE", .min_args = 1, .max_args = 1,
};

static int unknown_target(const char *target)
{
	const char *hint = package_target_suggest(target);

	if (!hint)
		hint = package_vm_target_suggest(target);
	if (hint)
		return cli_usage_error("render", "unknown target '%s' (did you mean '%s'?)",
				       target, hint);
	return cli_usage_error("render",
			       "unknown target '%s' (ipxe, cmdline, modprobe, modules-load, nixos, dispatcher, meta-data, network-config; kubevirt, libvirt, opennebula; permitted-host-devices)",
			       target);
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
		     const char *target, bool explain, struct pf_buf *out)
{
	const struct pf_plan_vm *vm;
	int rc;

	if (!name) {
		rc = kubevirt_permitted_render(plan->vms, plan->nvms, out);
		goto done;
	}
	vm = plan_vm_find(plan, name);
	if (!vm)
		return unknown_vm(plan, name);
	if (!strcmp(target, "kubevirt") && !explain &&
	    package_vm_yaml_secret(vm))
		return cli_usage_error("render",
				       "vm.yaml of '%s' is not printed: its cloud-init user-data holds the VM's SSH host key and k3s password (build writes OUT/vms/%s/vm.yaml with mode 0600; --explain prints the memory breakdown)",
				       name, name);
	rc = package_vm_render_target(vm, target, explain, out);
	if (rc == -ENODATA) {
		cli_error("VM '%s' has no KubeVirt VirtualMachine (give its disk a 'containerdisk')",
			  name);
		return PF_EXIT_INVALID;
	}
done:
	if (rc) {
		cli_error("cannot render '%s': %s", target, strerror(-rc));
		return PF_EXIT_IO;
	}
	return PF_EXIT_OK;
}

int cmd_render(int argc, char **argv)
{
	struct render_values o = { NULL };
	const char *host, *target, *vm;
	bool explain, vm_target;
	const struct pf_plan_host *h = NULL;
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
	if (!strcmp(target, "user-data"))
		return cli_usage_error("render",
				       "user-data is not printed: it holds the node's SSH host key and k3s password (build writes OUT/<host>/cloud-init/user-data with mode 0600)");
	vm_target = package_vm_target_known(target) ||
		    !strcmp(target, "permitted-host-devices");
	if (!vm_target && !package_target_known(target))
		return unknown_target(target);
	if (host && vm)
		return cli_usage_error("render", "--host and --vm together: give one");
	if (explain && strcmp(target, "kubevirt"))
		return cli_usage_error("render", "--explain goes with --target kubevirt");
	if (vm && !package_vm_target_known(target))
		return cli_usage_error("render", "target '%s' is not a VM's (kubevirt, libvirt or opennebula)",
				       target);
	if (host && vm_target)
		return cli_usage_error("render", "target '%s' is a VM's: give --vm NAME, not --host",
				       target);
	if (!vm && package_vm_target_known(target))
		return cli_usage_error("render", "missing --vm for target '%s'",
				       target);
	if (!host && !vm_target && package_target_needs_host(target))
		return cli_usage_error("render", "missing --host for target '%s'",
				       target);
	code = cli_load(argv[1], &p, &plan);
	if (code)
		return code;
	buf_init(&out);
	if (vm_target) {
		code = render_vm(plan, vm, target, explain, &out);
		if (code)
			goto clean;
		goto print;
	}
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
