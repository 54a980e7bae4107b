/* plan_build: profile text -> parse -> validate -> plan, and the decisions
 * the plan holds: the exact kernel command line, its order and merging,
 * modules, vfio ids, nouveau blacklisting, file names and URLs, MACs.
 * Profiles are written into a fresh mkdtemp directory the process works in;
 * PXEFORGE_PCI_IDS points at a small pci.ids written there. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pxeforge/lib/diag.h"
#include "pxeforge/lib/pciid.h"
#include "pxeforge/plan/plan.h"
#include "pxeforge/profile/profile.h"

#include "pxeforge/validate/values.h"

#include "planfix.h"

static const char pci_ids[] =
	"10de  NVIDIA Corporation\n"
	"\t2236  GA102GL [A10]\n"
	"C 00  Unclassified device\n";

static int setup(void **state)
{
	struct ctx *c = planfix_enter("plan", pci_ids);

	*state = c;
	return c ? 0 : -1;
}

/* Builds a profile that must be clean; returns the named host's plan. */
static const struct pf_plan_host *build_ok(struct ctx *c, const char *text,
					   const char *host)
{
	const struct pf_plan_host *h;

	assert_string_equal(build(c, text), "");
	assert_int_equal(c->rc, 0);
	h = plan_host_find(c->plan, host);
	assert_non_null(h);
	return h;
}

/* The strlist equals the NULL-terminated list of expected strings. */
static void assert_list(const struct pf_strlist *l, const char *const *want)
{
	size_t n = 0;

	for (; want[n]; n++) {
		assert_true(n < l->n);
		assert_string_equal(l->v[n], want[n]);
	}
	assert_int_equal(l->n, n);
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *s = hay; (s = strstr(s, needle)); s += strlen(needle))
		n++;
	return n;
}

#define MAC1 "    macs: [\"b0:26:28:4a:10:01\"]\n"

/* ---- the command line ----------------------------------------------- */

static void c4140_cmdline(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"version: 1\n"
		"defaults:\n"
		"  console: [tty0]\n"
		"hosts:\n"
		"  - name: c4140\n"
		MAC1
		"    cpu: intel\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        id: \"10de:1db1\"\n"
		"        model: Tesla V100 SXM2 16GB\n"
		"        role: vfio\n"
		"      - address: \"0000:1c:00.0\"\n"
		"        id: \"10de:1db1\"\n"
		"        model: Tesla V100 SXM2 16GB\n"
		"        role: vfio\n"
		"    nixos:\n"
		"      toplevel: /nix/store/x-nixos-system-c4140\n"
		"      kernel_params:\n"
		"        - intel_iommu=on\n"
		"        - iommu=pt\n"
		"        - vfio-pci.ids=10de:1db1\n"
		"        - loglevel=4\n"
		"      initrd_modules: [vfio_pci, vfio, vfio_iommu_type1]\n",
		"c4140");

	assert_string_equal(h->cmdline_text,
		"init=/nix/store/x-nixos-system-c4140/init intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1 loglevel=4 console=tty0 initrd=initrd initrd=overlay.cpio.gz");
	assert_true(h->vfio);
	assert_true(h->blacklist_nouveau);
	assert_list(&h->vfio_ids, (const char *[]){ "10de:1db1", NULL });
	assert_list(&h->modules, (const char *[]){ "vfio_pci", "vfio",
						    "vfio_iommu_type1", NULL });
	assert_int_equal(c->plan->nhosts, 1);
	assert_null(c->plan->base_url);
	assert_ptr_equal(h->host, &c->p->hosts[0]);
}

static void cmdline_order_of_sources(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"defaults:\n"
		"  console: [tty0, \"ttyS0,115200n8\"]\n"
		"  kernel_params: [loglevel=4]\n"
		"hosts:\n"
		"  - name: n1\n"
		MAC1
		"    cpu: intel\n"
		"    kernel_params: [mitigations=off]\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"
		"    nixos:\n"
		"      toplevel: /nix/store/x-nixos-system-n1\n"
		"      kernel_params: [quiet]\n",
		"n1");

	/* init, nixos, console, defaults, iommu, vfio-pci.ids, host, initrd= */
	assert_string_equal(h->cmdline_text,
		"init=/nix/store/x-nixos-system-n1/init quiet console=tty0 console=ttyS0,115200n8 loglevel=4 intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1 mitigations=off initrd=initrd initrd=overlay.cpio.gz");
	assert_int_equal(h->cmdline.n, 11);
	assert_string_equal(h->cmdline.v[0].source, "nixos toplevel");
	assert_string_equal(h->cmdline.v[1].source, "nixos kernel_params");
	assert_string_equal(h->cmdline.v[2].source, "console");
	assert_string_equal(h->cmdline.v[4].source, "defaults kernel_params");
	assert_string_equal(h->cmdline.v[5].source, "VFIO on an intel cpu");
	assert_string_equal(h->cmdline.v[7].source, "gpus with role vfio");
	assert_string_equal(h->cmdline.v[8].source, "host kernel_params");
	assert_string_equal(h->cmdline.v[9].source, "initrds");
	assert_string_equal(h->cmdline.v[10].source, "initrds");
}

static void nixos_params_all_kept_iommu_once(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"hosts:\n"
		"  - name: n1\n"
		MAC1
		"    cpu: intel\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"
		"    kernel_params: [iommu=pt, intel_iommu=on]\n"
		"    nixos:\n"
		"      toplevel: /nix/store/x-nixos-system-n1\n"
		"      kernel_params: [loglevel=4, nvidia-drm.modeset=1, quiet, \"systemd.unit=multi-user.target\"]\n",
		"n1");

	/* the NixOS params lack the IOMMU ones: generated, each once */
	assert_string_equal(h->cmdline_text,
		"init=/nix/store/x-nixos-system-n1/init loglevel=4 nvidia-drm.modeset=1 quiet systemd.unit=multi-user.target intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1 initrd=initrd initrd=overlay.cpio.gz");
	assert_int_equal(count(h->cmdline_text, "iommu=pt"), 1);
	assert_int_equal(count(h->cmdline_text, "intel_iommu=on"), 1);
}

static void amd_gets_iommu_pt_only(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"hosts:\n"
		"  - name: ws\n"
		MAC1
		"    cpu: amd\n"
		"    gpus:\n"
		"      - address: \"0000:0b:00.0\"\n"
		"        id: \"10de:2786\"\n"
		"        role: vfio\n"
		"        functions: [{address: \"0000:0b:00.1\", id: \"10de:22bc\"}]\n",
		"ws");

	assert_string_equal(h->cmdline_text,
		"iommu=pt vfio-pci.ids=10de:2786,10de:22bc initrd=initrd initrd=overlay.cpio.gz");
	assert_null(strstr(h->cmdline_text, "amd_iommu"));
	assert_null(strstr(h->cmdline_text, "intel_iommu"));
	assert_string_equal(h->cmdline.v[0].source, "VFIO on an amd cpu");
}

static void no_vfio_no_iommu(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"hosts:\n"
		"  - name: plain\n"
		MAC1
		"    cpu: intel\n"
		"    initrd_modules: [nvme]\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: host}]\n",
		"plain");

	assert_string_equal(h->cmdline_text, "initrd=initrd initrd=overlay.cpio.gz");
	assert_false(h->vfio);
	assert_false(h->blacklist_nouveau);
	assert_int_equal(h->vfio_ids.n, 0);
	assert_list(&h->modules, (const char *[]){ "nvme", NULL });
}

static void vfio_ids_deduplicated_in_profile_order(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"hosts:\n"
		"  - name: ws\n"
		MAC1
		"    cpu: amd\n"
		"    gpus:\n"
		"      - address: \"0000:0b:00.0\"\n"
		"        id: \"10de:2786\"\n"
		"        role: vfio\n"
		"        functions: [{address: \"0000:0b:00.1\", id: \"10de:22bc\"}]\n"
		"      - address: \"0000:0c:00.0\"\n"
		"        id: \"15b3:1021\"\n"
		"        role: host\n"
		"      - address: \"0000:41:00.0\"\n"
		"        id: \"10DE:2684\"\n"
		"        role: vfio\n"
		"        functions: [{address: \"0000:41:00.1\", id: \"10de:22ba\"}]\n"
		"      - address: \"0000:42:00.0\"\n"
		"        id: \"10de:2786\"\n"
		"        role: vfio\n"
		"        functions: [{address: \"0000:42:00.1\", id: \"10de:22BC\"}]\n"
		"      - address: \"0000:43:00.0\"\n"
		"        id: \"10de:2236\"\n"
		"        role: vfio\n",
		"ws");

	/* ids written in upper case come out lower case; the NIC kept by
	 * the host is not among them; 10de:2236 is known from pci.ids */
	assert_list(&h->vfio_ids, (const char *[]){ "10de:2786", "10de:22bc",
		"10de:2684", "10de:22ba", "10de:2236", NULL });
	assert_string_equal(h->cmdline_text,
		"iommu=pt vfio-pci.ids=10de:2786,10de:22bc,10de:2684,10de:22ba,10de:2236 initrd=initrd initrd=overlay.cpio.gz");
}

static void vfio_ids_merge_with_user_spelling(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"hosts:\n"
		"  - name: n1\n"
		MAC1
		"    cpu: intel\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"
		"    kernel_params: [\"vfio-pci.ids=10de:1db1,8086:1572\"]\n"
		"    nixos:\n"
		"      toplevel: /nix/store/x-nixos-system-n1\n"
		"      kernel_params: [\"vfio_pci.ids=10de:1af1\"]\n",
		"n1");

	/* one parameter, the first spelling, every id once */
	assert_string_equal(h->cmdline_text,
		"init=/nix/store/x-nixos-system-n1/init vfio_pci.ids=10de:1af1,10de:1db1,8086:1572 intel_iommu=on iommu=pt initrd=initrd initrd=overlay.cpio.gz");
	/* the plan's own list holds only the profile's GPUs */
	assert_list(&h->vfio_ids, (const char *[]){ "10de:1db1", NULL });
}

static void nixos_params_exclude_init_and_initrd(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"defaults:\n"
		"  console: [ttyS0]\n"
		"hosts:\n"
		"  - name: n1\n"
		MAC1
		"    cpu: intel\n"
		"    initrds: [initrd, extra]\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"
		"    nixos:\n"
		"      toplevel: /nix/store/x-nixos-system-n1\n"
		"      kernel_params: [quiet, \"rd.driver.pre=vfio-pci\"]\n",
		"n1");

	assert_string_equal(h->cmdline_text,
		"init=/nix/store/x-nixos-system-n1/init quiet rd.driver.pre=vfio-pci console=ttyS0 intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1 initrd=initrd initrd=extra initrd=overlay.cpio.gz");
	assert_list(&h->nixos_params, (const char *[]){ "quiet",
		"rd.driver.pre=vfio-pci", "console=ttyS0", "intel_iommu=on",
		"iommu=pt", "vfio-pci.ids=10de:1db1", NULL });
}

static void console_host_overrides_defaults(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h;

	build(c,
		"defaults:\n"
		"  console: [tty0]\n"
		"  kernel_params: [quiet]\n"
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    console: []\n"
		"    kernel_params: [loglevel=7]\n"
		"  - name: b\n"
		"    macs: [\"b0:26:28:4a:10:02\"]\n"
		"    console: [\"ttyS1,115200\"]\n"
		"  - name: c\n"
		"    macs: [\"b0:26:28:4a:10:03\"]\n");
	assert_string_equal(c->out, "");
	assert_int_equal(c->rc, 0);
	/* console replaces the defaults'; kernel_params add to them */
	h = plan_host_find(c->plan, "a");
	assert_string_equal(h->cmdline_text, "quiet loglevel=7 initrd=initrd");
	h = plan_host_find(c->plan, "b");
	assert_string_equal(h->cmdline_text, "console=ttyS1,115200 quiet initrd=initrd");
	h = plan_host_find(c->plan, "c");
	assert_string_equal(h->cmdline_text, "console=tty0 quiet initrd=initrd");
	assert_null(plan_host_find(c->plan, "d"));
}

/* ---- modules and nouveau -------------------------------------------- */

static void modules_vfio_first_and_deduplicated(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"defaults:\n"
		"  initrd_modules: [vfio_iommu_type1, e1000e]\n"
		"hosts:\n"
		"  - name: n1\n"
		MAC1
		"    cpu: intel\n"
		"    initrd_modules: [nvme, ixgbe, vfio-iommu_type1]\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"
		"    nixos:\n"
		"      toplevel: /nix/store/x-nixos-system-n1\n"
		"      initrd_modules: [vfio-pci, nvme]\n",
		"n1");

	/* nixos, defaults, host; '-' and '_' are one character */
	assert_list(&h->modules, (const char *[]){ "vfio_pci", "vfio",
		"vfio_iommu_type1", "nvme", "e1000e", "ixgbe", NULL });
}

static void invalid_module_name(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: n1\n"
		MAC1
		"    initrd_modules: [nvme, \"vfio.ko\", \"\"]\n"),
		"p.yaml:4:28: error: invalid module name 'vfio.ko' (letters, digits, '_' and '-')\n"
		"p.yaml:4:39: error: invalid module name '' (letters, digits, '_' and '-')\n");
	assert_int_equal(c->rc, -EINVAL);
}

static void blacklist_nouveau_rules(void **state)
{
	struct ctx *c = *state;

	build(c,
		"hosts:\n"
		"  - name: vfio-only\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: intel\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"
		"  - name: nvidia-kept\n"
		"    macs: [\"b0:26:28:4a:10:02\"]\n"
		"    cpu: intel\n"
		"    gpus:\n"
		"      - {address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}\n"
		"      - {address: \"0000:02:00.0\", id: \"10de:2684\", role: host}\n"
		"  - name: nic-kept\n"
		"    macs: [\"b0:26:28:4a:10:03\"]\n"
		"    cpu: intel\n"
		"    gpus:\n"
		"      - {address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}\n"
		"      - {address: \"0000:c1:00.0\", id: \"15b3:1021\", role: host}\n"
		"  - name: no-vfio\n"
		"    macs: [\"b0:26:28:4a:10:04\"]\n");
	assert_string_equal(c->out, "");
	assert_int_equal(c->rc, 0);
	assert_true(plan_host_find(c->plan, "vfio-only")->blacklist_nouveau);
	assert_false(plan_host_find(c->plan, "nvidia-kept")->blacklist_nouveau);
	assert_true(plan_host_find(c->plan, "nic-kept")->blacklist_nouveau);
	assert_false(plan_host_find(c->plan, "no-vfio")->blacklist_nouveau);
	assert_list(&plan_host_find(c->plan, "nic-kept")->vfio_ids,
		    (const char *[]){ "10de:1db1", NULL });
}

/* ---- kernel and initrd files ---------------------------------------- */

static void urls_default_relative(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"hosts:\n"
		"  - name: c4140\n"
		MAC1,
		"c4140");

	assert_string_equal(h->kernel.name, "bzImage");
	assert_string_equal(h->kernel.url, "../c4140/bzImage");
	assert_int_equal(h->ninitrds, 1);
	assert_string_equal(h->initrds[0].name, "initrd");
	assert_string_equal(h->initrds[0].url, "../c4140/initrd");
}

static void urls_below_base_url(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"defaults:\n"
		"  base_url: http://x/netboot/\n"
		"  kernel: vmlinuz\n"
		"hosts:\n"
		"  - name: c4140\n"
		MAC1
		"    initrds: [initrd, {name: seed, url: extra/seed.img}]\n",
		"c4140");

	assert_string_equal(c->plan->base_url, "http://x/netboot");
	assert_string_equal(h->kernel.name, "vmlinuz");
	assert_string_equal(h->kernel.url, "http://x/netboot/c4140/vmlinuz");
	assert_int_equal(h->ninitrds, 2);
	assert_string_equal(h->initrds[0].url, "http://x/netboot/c4140/initrd");
	/* a url without a scheme is a path in the served tree */
	assert_string_equal(h->initrds[1].name, "seed");
	assert_string_equal(h->initrds[1].url, "http://x/netboot/extra/seed.img");
	assert_string_equal(h->cmdline_text, "initrd=initrd initrd=seed");
}

static void urls_absolute_and_tree_paths(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"hosts:\n"
		"  - name: ws\n"
		MAC1
		"    kernel: {name: vmlinuz, url: \"https://cdn.example/k/vmlinuz-6.1?x=1\"}\n"
		"    initrds:\n"
		"      - {name: initrd.img, url: images/initrd.img}\n"
		"      - {name: fw, url: \"tftp://10.0.0.1/fw.cpio\"}\n",
		"ws");

	assert_string_equal(h->kernel.url, "https://cdn.example/k/vmlinuz-6.1?x=1");
	/* relative to the script, which sits one level down */
	assert_string_equal(h->initrds[0].url, "../images/initrd.img");
	assert_string_equal(h->initrds[1].url, "tftp://10.0.0.1/fw.cpio");
	assert_string_equal(h->cmdline_text, "initrd=initrd.img initrd=fw");
}

static void no_initrds_no_initrd_param(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h;

	build(c,
		"defaults:\n"
		"  initrds: []\n"
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    kernel_params: [quiet]\n"
		"  - name: b\n"
		"    macs: [\"b0:26:28:4a:10:02\"]\n"
		"    initrds: [initrd]\n");
	assert_string_equal(c->out, "");
	assert_int_equal(c->rc, 0);
	h = plan_host_find(c->plan, "a");
	assert_int_equal(h->ninitrds, 0);
	assert_string_equal(h->cmdline_text, "quiet");
	assert_null(strstr(h->cmdline_text, "initrd"));
	h = plan_host_find(c->plan, "b");
	assert_string_equal(h->cmdline_text, "initrd=initrd");
}

/* ---- errors the plan reports ---------------------------------------- */

static void user_initrd_param_is_error(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    kernel_params: [initrd=extra.img]\n"
		"    nixos:\n"
		"      toplevel: /nix/store/x\n"
		"      kernel_params: [\"initrd=\\\\boot\\\\initrd\"]\n"),
		"p.yaml:4:21: error: kernel parameter 'initrd=extra.img' is not yours to set: pxeforge adds initrd=<name> for each file under 'initrds'\n"
		"p.yaml:7:23: error: kernel parameter 'initrd=\\boot\\initrd' is not yours to set: pxeforge adds initrd=<name> for each file under 'initrds'\n");
	assert_int_equal(c->rc, -EINVAL);
}

static void iommu_conflict_names_both_places(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(build(c,
		"version: 1\n"
		"hosts:\n"
		"  - name: c4140\n"
		MAC1
		"    cpu: intel\n"
		"    kernel_params: [iommu=off]\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        id: \"10de:1db1\"\n"
		"        role: vfio\n"
		"    nixos:\n"
		"      toplevel: /nix/store/x-nixos-system-c4140\n"
		"      kernel_params: [intel_iommu=on, iommu=pt]\n"),
		"p.yaml:6:21: error: conflicting values for kernel parameter 'iommu': 'off' from host kernel_params and 'pt' from nixos kernel_params (p.yaml:13:39)\n");
	assert_int_equal(c->rc, -EINVAL);
	/* without the NixOS one it is the generated parameter that conflicts */
	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: c4140\n"
		MAC1
		"    cpu: intel\n"
		"    kernel_params: [iommu=off]\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"),
		"p.yaml:5:21: error: conflicting values for kernel parameter 'iommu': 'off' from host kernel_params and 'pt' from VFIO on an intel cpu (p.yaml:4:10)\n");
	assert_int_equal(c->rc, -EINVAL);
}

static void from_json_conflict_names_the_file(void **state)
{
	struct ctx *c = *state;

	fixture_write_file("n.json",
		"{\n"
		"  \"toplevel\": \"/nix/store/x-nixos-system-a\",\n"
		"  \"kernel_params\": [\"iommu=pt\", \"loglevel=4\"],\n"
		"  \"initrd_modules\": [\"nvme\"]\n"
		"}\n");
	assert_string_equal(build(c,
		"defaults:\n"
		"  kernel_params: [loglevel=7]\n"
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    nixos: {from_json: n.json}\n"),
		"p.yaml:2:19: error: conflicting values for kernel parameter 'loglevel': '7' from defaults kernel_params and '4' from nixos from_json (n.json:3:33)\n");
	/* the same file without the conflict plans, with its values */
	fixture_write_file("n.json",
		"{\"toplevel\": \"/nix/store/x-nixos-system-a\", \"kernel_params\": [\"iommu=pt\"], \"initrd_modules\": [\"nvme\"]}\n");
	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    nixos: {from_json: n.json}\n"), "");
	assert_string_equal(c->plan->hosts[0].cmdline_text,
		"init=/nix/store/x-nixos-system-a/init iommu=pt initrd=initrd initrd=overlay.cpio.gz");
	assert_list(&c->plan->hosts[0].modules, (const char *[]){ "nvme", NULL });
}

/* The seed's bug: a NixOS configuration without the VFIO parameters.
 * With from_json that configuration is the truth, so it is an error. */
static void from_json_must_carry_vfio(void **state)
{
	struct ctx *c = *state;
	const char *profile =
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    cpu: intel\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio},\n"
		"           {address: \"0000:1b:00.0\", id: \"10de:1db4\", role: vfio}]\n"
		"    nixos: {from_json: n.json}\n";

	fixture_write_file("n.json",
		"{\"toplevel\": \"/nix/store/x-nixos-system-a\", \"kernel_params\": [\"loglevel=4\"],"
		" \"initrd_modules\": [], \"initrd_available_modules\": [\"vfio_pci\"]}\n");
	assert_string_equal(build(c, profile),
		"p.yaml:7:24: error: NixOS configuration 'n.json' cannot bind the GPUs of host 'a' to VFIO: boot.kernelParams lacks intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1,10de:1db4; boot.initrd.kernelModules lacks vfio_pci vfio vfio_iommu_type1 (nixosModules.vfio sets both)\n");
	assert_int_equal(c->rc, -EINVAL);
	/* partly there: only what is missing is named */
	fixture_write_file("n.json",
		"{\"toplevel\": \"/nix/store/x-nixos-system-a\","
		" \"kernel_params\": [\"intel_iommu=on,igfx_off\", \"iommu=pt\", \"vfio_pci.ids=10DE:1DB1\"],"
		" \"initrd_modules\": [\"vfio-pci\", \"vfio\", \"vfio_iommu_type1\"]}\n");
	assert_string_equal(build(c, profile),
		"p.yaml:7:24: error: NixOS configuration 'n.json' cannot bind the GPUs of host 'a' to VFIO: boot.kernelParams lacks vfio-pci.ids=10de:1db4 (nixosModules.vfio sets both)\n");
	/* all there, in other spellings: clean */
	fixture_write_file("n.json",
		"{\"toplevel\": \"/nix/store/x-nixos-system-a\","
		" \"kernel_params\": [\"intel_iommu=on\", \"iommu=pt\", \"vfio-pci.ids=10de:1db4,10de:1db1\"],"
		" \"initrd_modules\": [\"vfio_pci\", \"vfio\", \"vfio-iommu-type1\"]}\n");
	assert_string_equal(build(c, profile), "");
	/* AMD needs no intel_iommu; inline nixos values are not checked */
	fixture_write_file("n.json",
		"{\"toplevel\": \"/nix/store/x-nixos-system-a\", \"kernel_params\": [\"iommu=pt\", \"vfio-pci.ids=10de:1db1\"],"
		" \"initrd_modules\": [\"vfio_pci\", \"vfio\", \"vfio_iommu_type1\"]}\n");
	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    cpu: amd\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"
		"    nixos: {from_json: n.json}\n"
		"  - name: b\n"
		"    macs: [\"b0:26:28:4a:10:02\"]\n"
		"    cpu: intel\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"
		"    nixos: {toplevel: /nix/store/x-nixos-system-b}\n"), "");
}

static void unsafe_tokens_rejected(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    kernel_params:\n"
		"      - \"root=/dev/nfs nfsroot=10.0.0.1:/srv\"\n"
		"      - \"hostname=${hostname}\"\n"
		"      - \"#comment\"\n"
		"      - \"&&\"\n"
		"      - \"\"\n"),
		"p.yaml:5:9: error: kernel parameter 'root=/dev/nfs nfsroot=10.0.0.1:/srv' contains whitespace, and iPXE splits arguments at whitespace and cannot quote or escape\n"
		"p.yaml:6:9: error: kernel parameter 'hostname=${hostname}' contains '${', which iPXE expands as a setting\n"
		"p.yaml:7:9: error: kernel parameter '#comment' starts with '#', which iPXE reads as a comment\n"
		"p.yaml:8:9: error: kernel parameter '&&' is an iPXE command separator\n"
		"p.yaml:9:9: error: kernel parameter '' is empty\n");
	assert_int_equal(c->rc, -EINVAL);
}

/* A host without initrds whose only parameter is "a=bbb…" of len bytes. */
static char *long_profile(size_t len)
{
	char *value = malloc(len + 1), *text = NULL;

	assert_non_null(value);
	memset(value, 'b', len);
	memcpy(value, "a=", 2);
	value[len] = '\0';
	assert_true(asprintf(&text,
		"hosts:\n"
		"  - name: big\n"
		MAC1
		"    initrds: []\n"
		"    kernel_params: [%s]\n", value) > 0);
	free(value);
	return text;
}

static void cmdline_too_long(void **state)
{
	struct ctx *c = *state;
	char *text;

	/* "bzImage " + 2039 bytes = 2047: the most that fits */
	text = long_profile(2039);
	assert_string_equal(build(c, text), "");
	assert_int_equal(c->rc, 0);
	assert_int_equal(strlen(c->plan->hosts[0].cmdline_text), 2039);
	free(text);
	/* one byte more does not */
	text = long_profile(2040);
	assert_string_equal(build(c, text),
		"p.yaml:2:5: error: kernel command line of host 'big' is 2048 bytes, over the 2047 usable (x86 COMMAND_LINE_SIZE 2048 with its NUL; counted with the 'bzImage ' iPXE prepends on UEFI)\n");
	assert_int_equal(c->rc, -EINVAL);
	free(text);
}

static void plan_reports_after_validation_errors(void **state)
{
	struct ctx *c = *state;

	/* a validation error and a plan error end up in one sorted report */
	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:0g\", \"b0:26:28:4a:10:01\"]\n"
		"    kernel_params: [quiet, initrd=x]\n"),
		"p.yaml:3:12: error: invalid MAC address 'b0:26:28:4a:10:0g' (expected six hex pairs, e.g. 'aa:bb:cc:dd:ee:ff')\n"
		"p.yaml:4:28: error: kernel parameter 'initrd=x' is not yours to set: pxeforge adds initrd=<name> for each file under 'initrds'\n");
	assert_int_equal(c->rc, -EINVAL);
}

/* ---- MACs ----------------------------------------------------------- */

static void macs_normalised(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"B0-26-28-4A-10-01\", \"b0:26:28:4a:10:02\", \"AA:bb:CC:dd:EE:f0\"]\n",
		"a");

	assert_list(&h->macs, (const char *[]){ "b0:26:28:4a:10:01",
		"b0:26:28:4a:10:02", "aa:bb:cc:dd:ee:f0", NULL });
}

static void mac_hyphenate_form(void **state)
{
	char out[18];

	(void)state;
	mac_hyphenate("b0:26:28:4a:10:01", out);
	assert_string_equal(out, "b0-26-28-4a-10-01");
	mac_hyphenate("AA:BB:CC:DD:EE:F0", out);
	assert_string_equal(out, "aa-bb-cc-dd-ee-f0");
	mac_hyphenate("aa-bb-cc-dd-ee-f0", out);
	assert_string_equal(out, "aa-bb-cc-dd-ee-f0");
	/* and the profile side: mac_normalise / mac_valid */
	mac_normalise("AA-BB-CC-DD-EE-F0", out);
	assert_string_equal(out, "aa:bb:cc:dd:ee:f0");
	assert_true(mac_valid("aa-bb-cc-dd-ee-f0"));
	assert_false(mac_valid("aa-bb:cc-dd-ee-f0"));
	assert_false(mac_valid("aa:bb:cc:dd:ee:f0:"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static void image_names_unique_across_kernel_and_initrds(void **state)
{
	struct ctx *c = *state;

	/* the implicit kernel name against the defaults' initrds */
	assert_string_equal(build(c,
		"defaults:\n"
		"  initrds: [bzImage, x, x]\n"
		"hosts:\n"
		"  - name: a\n"
		MAC1),
		"p.yaml:2:13: error: image name 'bzImage' of host 'a' is also the name of the kernel; initrd=<name> must tell them apart\n"
		"p.yaml:2:25: error: image name 'x' of host 'a' is also the name of another initrd; initrd=<name> must tell them apart\n");
	assert_int_equal(c->rc, -EINVAL);
	/* a host's kernel against the defaults' initrds */
	assert_string_equal(build(c,
		"defaults:\n"
		"  initrds: [vmlinuz]\n"
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    kernel: vmlinuz\n"),
		"p.yaml:2:13: error: image name 'vmlinuz' of host 'a' is also the name of the kernel; initrd=<name> must tell them apart\n");
}

/* ---- the initrd overlay -------------------------------------------- */

static void overlay_after_base_initrds(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    cpu: amd\n"
		"    initrds: [initrd, extra]\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n",
		"a");

	assert_int_equal(h->ninitrds, 3);
	assert_ptr_equal(h->overlay, &h->initrds[2]);
	assert_string_equal(h->overlay->name, "overlay.cpio.gz");
	assert_string_equal(h->overlay->url, "../a/overlay.cpio.gz");
	assert_int_equal(h->compression, PF_COMPRESS_GZIP);
	assert_false(h->has_closure);
	assert_string_equal(h->cmdline_text,
		"iommu=pt vfio-pci.ids=10de:1db1 initrd=initrd initrd=extra initrd=overlay.cpio.gz");
}

static void overlay_zstd_host_overrides_defaults(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"defaults:\n"
		"  base_url: http://10.0.0.1/nb/\n"
		"  overlay_compression: gzip\n"
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    overlay_compression: ZSTD\n"
		"    initrd_modules: [nvme]\n",
		"a");

	assert_int_equal(h->compression, PF_COMPRESS_ZSTD);
	assert_string_equal(h->overlay->name, "overlay.cpio.zst");
	assert_string_equal(h->overlay->url, "http://10.0.0.1/nb/a/overlay.cpio.zst");
	assert_string_equal(h->cmdline_text, "initrd=initrd initrd=overlay.cpio.zst");
}

static void no_overlay_without_vfio_or_modules(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h = build_ok(c,
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: host}]\n",
		"a");

	assert_null(h->overlay);
	assert_int_equal(h->ninitrds, 1);
	assert_string_equal(h->cmdline_text, "initrd=initrd");
}

static void overlay_name_is_reserved(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    kernel: overlay.cpio.gz\n"
		"    initrds: [initrd, overlay.cpio.gz]\n"
		"    initrd_modules: [nvme]\n"),
		"p.yaml:4:13: error: image name 'overlay.cpio.gz' of host 'a' is also the name of pxeforge's initrd overlay; initrd=<name> must tell them apart\n"
		"p.yaml:5:23: error: image name 'overlay.cpio.gz' of host 'a' is also the name of the kernel; initrd=<name> must tell them apart\n");
	assert_int_equal(c->rc, -EINVAL);
}

static void overlay_compression_unknown(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(build(c,
		"defaults:\n"
		"  overlay_compression: gzpi\n"
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    overlay_compression: xz\n"),
		"p.yaml:2:24: error: unknown overlay_compression 'gzpi' (did you mean 'gzip'?)\n"
		"p.yaml:6:26: error: unknown overlay_compression 'xz' (expected 'gzip' or 'zstd')\n");
}

static void modules_dir_missing_is_error(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(build(c,
		"defaults:\n"
		"  modules_dir: lib/modules/6.1.0-99-amd64\n"
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    initrd_modules: [nvme]\n"),
		"p.yaml:2:16: error: cannot read modules tree 'lib/modules/6.1.0-99-amd64': No such file or directory\n");
	assert_int_equal(c->rc, -EINVAL);
	/* a tree without its index */
	assert_int_equal(mkdir("tree", 0755), 0);
	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    modules_dir: tree/\n"
		"    initrd_modules: [nvme]\n"),
		"p.yaml:4:18: error: modules tree 'tree' has no readable modules.dep and modules.dep.bin (run 'depmod -b' on it)\n");
	/* a file is not a tree */
	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    modules_dir: p.yaml\n"
		"    initrd_modules: [nvme]\n"),
		"p.yaml:4:18: error: cannot read modules tree 'p.yaml': not a directory\n");
	/* the tree's name is the kernel version inside the overlay */
	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    modules_dir: .\n"
		"    initrd_modules: [nvme]\n"),
		"p.yaml:4:18: error: modules tree '.' must be named by its kernel version (e.g. /lib/modules/6.1.0-56-amd64)\n");
}

static void intel_iommu_options_merge(void **state)
{
	struct ctx *c = *state;
	const struct pf_plan_host *h;

	h = build_ok(c,
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    cpu: intel\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"
		"    nixos:\n"
		"      toplevel: /nix/store/x-nixos-system-a\n"
		"      kernel_params: [\"intel_iommu=on,igfx_off\"]\n", "a");
	assert_string_equal(h->cmdline_text,
		"init=/nix/store/x-nixos-system-a/init intel_iommu=on,igfx_off iommu=pt vfio-pci.ids=10de:1db1 initrd=initrd initrd=overlay.cpio.gz");
	assert_string_equal(build(c,
		"hosts:\n"
		"  - name: a\n"
		MAC1
		"    cpu: intel\n"
		"    kernel_params: [\"intel_iommu=off\"]\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"),
		"p.yaml:5:21: error: conflicting values for kernel parameter 'intel_iommu': 'off' from host kernel_params and 'on' from VFIO on an intel cpu (p.yaml:4:10)\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(c4140_cmdline),
		T(cmdline_order_of_sources),
		T(nixos_params_all_kept_iommu_once),
		T(amd_gets_iommu_pt_only),
		T(no_vfio_no_iommu),
		T(vfio_ids_deduplicated_in_profile_order),
		T(vfio_ids_merge_with_user_spelling),
		T(nixos_params_exclude_init_and_initrd),
		T(console_host_overrides_defaults),
		T(modules_vfio_first_and_deduplicated),
		T(invalid_module_name),
		T(blacklist_nouveau_rules),
		T(urls_default_relative),
		T(urls_below_base_url),
		T(urls_absolute_and_tree_paths),
		T(no_initrds_no_initrd_param),
		T(user_initrd_param_is_error),
		T(iommu_conflict_names_both_places),
		T(from_json_conflict_names_the_file),
		T(from_json_must_carry_vfio),
		T(unsafe_tokens_rejected),
		T(cmdline_too_long),
		T(plan_reports_after_validation_errors),
		T(macs_normalised),
		T(mac_hyphenate_form),
		T(image_names_unique_across_kernel_and_initrds),
		T(intel_iommu_options_merge),
		T(overlay_after_base_initrds),
		T(overlay_zstd_host_overrides_defaults),
		T(no_overlay_without_vfio_or_modules),
		T(overlay_name_is_reserved),
		T(overlay_compression_unknown),
		T(modules_dir_missing_is_error),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
