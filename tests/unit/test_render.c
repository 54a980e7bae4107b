/* Renderers: exact bytes for hand-built plans; the render target table
 * (its lists, did-you-mean, --help and the dispatch). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/render/render.h"
#include "pxeforge/render/targets.h"

/* builder/plan/cmdline.c is not linked here: the cmdline array is filled and
 * freed by hand. */
static void add_param(struct pf_plan_host *h, const char *key,
		      const char *value)
{
	struct pf_cmdline *cl = &h->cmdline;
	struct pf_param *p;

	if (cl->n == cl->cap) {
		cl->cap = cl->cap ? cl->cap * 2 : 8;
		cl->v = realloc(cl->v, cl->cap * sizeof(*cl->v));
		assert_non_null(cl->v);
	}
	p = &cl->v[cl->n++];
	memset(p, 0, sizeof(*p));
	p->key = strdup(key);
	p->value = value ? strdup(value) : NULL;
	p->source = strdup("test");
	assert_non_null(p->key);
	assert_non_null(p->source);
}

/* Joins the tokens the way plan_build does into cmdline_text. */
static void finish_cmdline(struct pf_plan_host *h)
{
	struct pf_buf b;

	buf_init(&b);
	for (size_t i = 0; i < h->cmdline.n; i++) {
		const struct pf_param *p = &h->cmdline.v[i];

		assert_int_equal(buf_printf(&b, "%s%s%s%s", i ? " " : "",
					    p->key, p->value ? "=" : "",
					    p->value ? p->value : ""), 0);
	}
	free(h->cmdline_text);
	h->cmdline_text = buf_detach(&b);
}

static void host_init(struct pf_plan_host *h, const char *name)
{
	memset(h, 0, sizeof(*h));
	h->name = strdup(name);
	strlist_init(&h->macs);
	strlist_init(&h->nixos_params);
	strlist_init(&h->modules);
	strlist_init(&h->vfio_ids);
	h->kernel.name = strdup("bzImage");
	h->kernel.url = NULL;
	assert_non_null(h->name);
}

static void set_file(struct pf_plan_file *f, const char *name, const char *url)
{
	free(f->name);
	free(f->url);
	f->name = strdup(name);
	f->url = strdup(url);
}

static void add_initrd(struct pf_plan_host *h, const char *name,
		       const char *url)
{
	h->initrds = realloc(h->initrds, (h->ninitrds + 1) * sizeof(*h->initrds));
	assert_non_null(h->initrds);
	memset(&h->initrds[h->ninitrds], 0, sizeof(*h->initrds));
	set_file(&h->initrds[h->ninitrds++], name, url);
}

static void push(struct pf_strlist *l, const char *s)
{
	assert_int_equal(strlist_push(l, s), 0);
}

static void host_release(struct pf_plan_host *h)
{
	free(h->name);
	strlist_release(&h->macs);
	strlist_release(&h->nixos_params);
	strlist_release(&h->modules);
	strlist_release(&h->vfio_ids);
	free(h->kernel.name);
	free(h->kernel.url);
	for (size_t i = 0; i < h->ninitrds; i++) {
		free(h->initrds[i].name);
		free(h->initrds[i].url);
	}
	free(h->initrds);
	for (size_t i = 0; i < h->cmdline.n; i++) {
		free(h->cmdline.v[i].key);
		free(h->cmdline.v[i].value);
		free(h->cmdline.v[i].source);
	}
	free(h->cmdline.v);
	free(h->cmdline_text);
}

/* The V100 host of the examples with n initrds. */
static void c4140(struct pf_plan_host *h, size_t ninitrds)
{
	static const char *const names[] = { "initrd", "overlay" };
	static const char *const urls[] = {
		"../c4140/initrd", "http://10.0.0.1/c4140/overlay.cpio.gz",
	};

	host_init(h, "c4140");
	push(&h->macs, "aa:bb:cc:dd:ee:01");
	push(&h->macs, "aa:bb:cc:dd:ee:02");
	set_file(&h->kernel, "bzImage", "../c4140/bzImage");
	add_param(h, "init", "/nix/store/0000-nixos-system-c4140/init");
	add_param(h, "intel_iommu", "on");
	add_param(h, "iommu", "pt");
	add_param(h, "vfio-pci.ids", "10de:1db1,10de:1aef");
	add_param(h, "quiet", NULL);
	add_param(h, "console", "");
	for (size_t i = 0; i < ninitrds; i++) {
		add_initrd(h, names[i], urls[i]);
		add_param(h, "initrd", names[i]);
	}
	finish_cmdline(h);
	push(&h->nixos_params, "intel_iommu=on");
	push(&h->nixos_params, "iommu=pt");
	push(&h->modules, "vfio_pci");
	push(&h->modules, "vfio");
	push(&h->modules, "vfio_iommu_type1");
	push(&h->vfio_ids, "10de:1db1");
	push(&h->vfio_ids, "10de:1aef");
	h->vfio = true;
	h->blacklist_nouveau = true;
}

#define IPXE_HEAD \
	"#!ipxe\n" \
	"# pxeforge: netboot script for host 'c4140' (aa:bb:cc:dd:ee:01, aa:bb:cc:dd:ee:02)\n" \
	"# Generated from the profile; edit the profile, not this file.\n" \
	"\n" \
	":kernel_start\n" \
	"set pxeforge_try:int32 0\n" \
	":kernel\n" \
	"kernel --name bzImage ../c4140/bzImage init=/nix/store/0000-nixos-system-c4140/init " \
	"intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1,10de:1aef quiet console="

#define IPXE_KERNEL_RETRY \
	"inc pxeforge_try\n" \
	"iseq ${pxeforge_try} 3 && goto fail_kernel ||\n" \
	"echo pxeforge: loading kernel bzImage failed (try ${pxeforge_try} of 3), retrying in 2 s\n" \
	"sleep 2\n" \
	"goto kernel\n" \
	"\n"

#define IPXE_BOOT \
	":boot\n" \
	"boot ||\n" \
	"echo pxeforge: booting host 'c4140' failed: the kernel did not start\n" \
	"goto failed\n" \
	"\n" \
	":fail_kernel\n" \
	"echo pxeforge: could not load kernel bzImage from ../c4140/bzImage after 3 tries\n" \
	"goto failed\n" \
	"\n"

#define IPXE_FAILED \
	":failed\n" \
	"echo pxeforge: host 'c4140' cannot boot; check that the files above are served\n" \
	"prompt --timeout 30000 Press a key within 30 s for the iPXE shell, or wait to leave iPXE... && shell ||\n" \
	"exit 1\n"

static void render_ipxe_host(const struct pf_plan_host *h, const char *want)
{
	struct pf_plan plan = { .hosts = (struct pf_plan_host *)h, .nhosts = 1 };
	struct pf_buf out, again;

	buf_init(&out);
	buf_init(&again);
	assert_int_equal(render_ipxe(&plan, h, &out), 0);
	assert_string_equal(out.data, want);
	/* Pure: the same plan gives the same bytes. */
	assert_int_equal(render_ipxe(&plan, h, &again), 0);
	assert_int_equal(again.len, out.len);
	assert_memory_equal(again.data, out.data, out.len);
	buf_release(&out);
	buf_release(&again);
}

static void test_ipxe_no_initrd(void **state)
{
	struct pf_plan_host h;

	(void)state;
	c4140(&h, 0);
	render_ipxe_host(&h,
		IPXE_HEAD " && goto boot ||\n"
		IPXE_KERNEL_RETRY
		IPXE_BOOT
		IPXE_FAILED);
	host_release(&h);
}

static void test_ipxe_one_initrd(void **state)
{
	struct pf_plan_host h;

	(void)state;
	c4140(&h, 1);
	render_ipxe_host(&h,
		IPXE_HEAD " initrd=initrd && goto initrd_0_start ||\n"
		IPXE_KERNEL_RETRY
		":initrd_0_start\n"
		"set pxeforge_try:int32 0\n"
		":initrd_0\n"
		"initrd --name initrd ../c4140/initrd && goto boot ||\n"
		"inc pxeforge_try\n"
		"iseq ${pxeforge_try} 3 && goto fail_initrd_0 ||\n"
		"echo pxeforge: loading initrd initrd failed (try ${pxeforge_try} of 3), retrying in 2 s\n"
		"sleep 2\n"
		"goto initrd_0\n"
		"\n"
		IPXE_BOOT
		":fail_initrd_0\n"
		"echo pxeforge: could not load initrd initrd from ../c4140/initrd after 3 tries\n"
		"goto failed\n"
		"\n"
		IPXE_FAILED);
	host_release(&h);
}

static void test_ipxe_two_initrds(void **state)
{
	struct pf_plan_host h;

	(void)state;
	c4140(&h, 2);
	render_ipxe_host(&h,
		IPXE_HEAD " initrd=initrd initrd=overlay && goto initrd_0_start ||\n"
		IPXE_KERNEL_RETRY
		":initrd_0_start\n"
		"set pxeforge_try:int32 0\n"
		":initrd_0\n"
		"initrd --name initrd ../c4140/initrd && goto initrd_1_start ||\n"
		"inc pxeforge_try\n"
		"iseq ${pxeforge_try} 3 && goto fail_initrd_0 ||\n"
		"echo pxeforge: loading initrd initrd failed (try ${pxeforge_try} of 3), retrying in 2 s\n"
		"sleep 2\n"
		"goto initrd_0\n"
		"\n"
		":initrd_1_start\n"
		"set pxeforge_try:int32 0\n"
		":initrd_1\n"
		"initrd --name overlay http://10.0.0.1/c4140/overlay.cpio.gz && goto boot ||\n"
		"inc pxeforge_try\n"
		"iseq ${pxeforge_try} 3 && goto fail_initrd_1 ||\n"
		"echo pxeforge: loading initrd overlay failed (try ${pxeforge_try} of 3), retrying in 2 s\n"
		"sleep 2\n"
		"goto initrd_1\n"
		"\n"
		IPXE_BOOT
		":fail_initrd_0\n"
		"echo pxeforge: could not load initrd initrd from ../c4140/initrd after 3 tries\n"
		"goto failed\n"
		"\n"
		":fail_initrd_1\n"
		"echo pxeforge: could not load initrd overlay from http://10.0.0.1/c4140/overlay.cpio.gz after 3 tries\n"
		"goto failed\n"
		"\n"
		IPXE_FAILED);
	host_release(&h);
}

static void test_ipxe_kernel_line_is_cmdline_text(void **state)
{
	struct pf_plan_host h;
	struct pf_plan plan = { .hosts = &h, .nhosts = 1 };
	struct pf_buf out, line;

	(void)state;
	c4140(&h, 2);
	buf_init(&out);
	buf_init(&line);
	assert_int_equal(render_ipxe(&plan, &h, &out), 0);
	assert_int_equal(buf_printf(&line, "\nkernel --name bzImage ../c4140/bzImage %s && ",
				    h.cmdline_text), 0);
	assert_non_null(strstr(out.data, line.data));
	buf_release(&out);
	buf_release(&line);
	host_release(&h);
}

static void test_ipxe_bare_host(void **state)
{
	static const char head[] = "KEEP\n#!ipxe\n"
		"# pxeforge: netboot script for host 'n1'\n"
		"# Generated";
	struct pf_plan_host h;
	struct pf_plan plan = { .hosts = &h, .nhosts = 1 };
	struct pf_buf out;

	(void)state;
	host_init(&h, "n1");
	set_file(&h.kernel, "vmlinuz", "http://x/vmlinuz");
	finish_cmdline(&h);
	buf_init(&out);
	assert_int_equal(buf_puts(&out, "KEEP\n"), 0);
	assert_int_equal(render_ipxe(&plan, &h, &out), 0);
	/* Appends; no MACs means no list; no arguments means no extra space. */
	assert_int_equal(strncmp(out.data, head, strlen(head)), 0);
	assert_non_null(strstr(out.data, "\nkernel --name vmlinuz http://x/vmlinuz && goto boot ||\n"));
	buf_release(&out);
	host_release(&h);
}

static void two_hosts(struct pf_plan *plan, struct pf_plan_host hosts[2])
{
	host_init(&hosts[0], "c4140");
	push(&hosts[0].macs, "aa:bb:cc:dd:ee:02");
	push(&hosts[0].macs, "0a:00:00:00:00:09");
	host_init(&hosts[1], "r740");
	push(&hosts[1].macs, "aa:bb:cc:dd:ee:01");
	memset(plan, 0, sizeof(*plan));
	plan->hosts = hosts;
	plan->nhosts = 2;
}

#define DISPATCH(P) \
	"#!ipxe\n" \
	"# pxeforge: dispatcher; chains the script of this machine by its MAC address.\n" \
	"# Known hosts:\n" \
	"#   0a:00:00:00:00:09  c4140\n" \
	"#   aa:bb:cc:dd:ee:01  r740\n" \
	"#   aa:bb:cc:dd:ee:02  c4140\n" \
	"\n" \
	":start\n" \
	"set pxeforge_try:int32 0\n" \
	":chain\n" \
	"imgfetch --name pxeforge-host.ipxe " P "hosts/${mac:hexhyp}.ipxe && goto run ||\n" \
	"inc pxeforge_try\n" \
	"iseq ${pxeforge_try} 3 && goto unknown ||\n" \
	"echo pxeforge: no script at " P "hosts/${mac:hexhyp}.ipxe (try ${pxeforge_try} of 3), retrying in 2 s\n" \
	"sleep 2\n" \
	"goto chain\n" \
	"\n" \
	":run\n" \
	"imgexec --autofree pxeforge-host.ipxe ||\n" \
	"exit 1\n" \
	"\n" \
	":unknown\n" \
	"echo pxeforge: no host in the profile has MAC ${mac} (looked for " P "hosts/${mac:hexhyp}.ipxe)\n" \
	"echo pxeforge: add the MAC to a host's macs in the profile and rebuild\n" \
	"prompt --timeout 30000 Press a key within 30 s for the iPXE shell, or wait to leave iPXE... && shell ||\n" \
	"exit 1\n"

static void test_dispatcher_relative(void **state)
{
	struct pf_plan_host hosts[2];
	struct pf_plan plan;
	struct pf_buf out;

	(void)state;
	two_hosts(&plan, hosts);
	buf_init(&out);
	assert_int_equal(render_dispatcher(&plan, &out), 0);
	assert_string_equal(out.data, DISPATCH(""));
	buf_release(&out);
	host_release(&hosts[0]);
	host_release(&hosts[1]);
}

static void test_dispatcher_base_url(void **state)
{
	static const char *const urls[] = {
		"http://10.0.0.1/netboot", "http://10.0.0.1/netboot/",
	};
	struct pf_plan_host hosts[2];
	struct pf_plan plan;
	struct pf_buf out;

	(void)state;
	two_hosts(&plan, hosts);
	for (size_t i = 0; i < 2; i++) {
		plan.base_url = (char *)urls[i];
		buf_init(&out);
		assert_int_equal(render_dispatcher(&plan, &out), 0);
		assert_string_equal(out.data, DISPATCH("http://10.0.0.1/netboot/"));
		buf_release(&out);
	}
	host_release(&hosts[0]);
	host_release(&hosts[1]);
}

static void test_cmdline(void **state)
{
	struct pf_plan_host h;
	struct pf_buf out;

	(void)state;
	c4140(&h, 1);
	buf_init(&out);
	assert_int_equal(render_cmdline(&h, &out), 0);
	assert_string_equal(out.data,
		"init=/nix/store/0000-nixos-system-c4140/init intel_iommu=on iommu=pt "
		"vfio-pci.ids=10de:1db1,10de:1aef quiet console= initrd=initrd\n");
	buf_release(&out);
	host_release(&h);
}

static void test_modprobe(void **state)
{
	static const char *const want =
		"# pxeforge: VFIO for host 'c4140'. vfio-pci claims these ids before any GPU driver.\n"
		"options vfio-pci ids=10de:1db1,10de:1aef\n"
		"softdep nvidia pre: vfio-pci\n"
		"softdep nouveau pre: vfio-pci\n";
	struct pf_plan_host h;
	struct pf_buf out;

	(void)state;
	c4140(&h, 1);
	buf_init(&out);
	assert_int_equal(render_modprobe(&h, &out), 0);
	assert_int_equal(strncmp(out.data, want, strlen(want)), 0);
	assert_string_equal(out.data + strlen(want), "blacklist nouveau\n");
	buf_release(&out);

	h.blacklist_nouveau = false;
	assert_int_equal(render_modprobe(&h, &out), 0);
	assert_string_equal(out.data, want);
	buf_release(&out);

	h.vfio = false;
	assert_int_equal(render_modprobe(&h, &out), 0);
	assert_int_equal(out.len, 0);
	buf_release(&out);
	host_release(&h);
}

static void test_modules_load(void **state)
{
	struct pf_plan_host h;
	struct pf_buf out;

	(void)state;
	c4140(&h, 1);
	buf_init(&out);
	assert_int_equal(render_modules_load(&h, &out), 0);
	assert_string_equal(out.data,
		"# pxeforge: early modules for host 'c4140', in load order.\n"
		"vfio_pci\n"
		"vfio\n"
		"vfio_iommu_type1\n");
	buf_release(&out);
	host_release(&h);

	host_init(&h, "bare");
	assert_int_equal(render_modules_load(&h, &out), 0);
	assert_int_equal(out.len, 0);
	host_release(&h);
}

static void test_nixos_vfio(void **state)
{
	struct pf_plan_host h;
	struct pf_buf out;

	(void)state;
	c4140(&h, 1);
	push(&h.nixos_params, "say=\"hi\"");
	push(&h.nixos_params, "path=C:\\x");
	push(&h.nixos_params, "lit=${HOME}");
	buf_init(&out);
	assert_int_equal(render_nixos(&h, &out), 0);
	assert_string_equal(out.data,
		"# pxeforge: boot settings for host 'c4140'. Generated; edit the profile.\n"
		"{ ... }:\n"
		"{\n"
		"  boot.kernelParams = [\n"
		"    \"intel_iommu=on\"\n"
		"    \"iommu=pt\"\n"
		"    \"say=\\\"hi\\\"\"\n"
		"    \"path=C:\\\\x\"\n"
		"    \"lit=\\${HOME}\"\n"
		"  ];\n"
		"  boot.initrd.kernelModules = [\n"
		"    \"vfio_pci\"\n"
		"    \"vfio\"\n"
		"    \"vfio_iommu_type1\"\n"
		"  ];\n"
		"  boot.extraModprobeConfig = ''\n"
		"    options vfio-pci ids=10de:1db1,10de:1aef\n"
		"    softdep nvidia pre: vfio-pci\n"
		"    softdep nouveau pre: vfio-pci\n"
		"  '';\n"
		"  boot.blacklistedKernelModules = [ \"nouveau\" ];\n"
		"}\n");
	buf_release(&out);

	h.blacklist_nouveau = false;
	assert_int_equal(render_nixos(&h, &out), 0);
	assert_null(strstr(out.data, "blacklistedKernelModules"));
	assert_non_null(strstr(out.data, "  '';\n}\n"));
	buf_release(&out);
	host_release(&h);
}

static void test_nixos_empty(void **state)
{
	struct pf_plan_host h;
	struct pf_buf out;

	(void)state;
	host_init(&h, "bare");
	buf_init(&out);
	assert_int_equal(render_nixos(&h, &out), 0);
	assert_string_equal(out.data,
		"# pxeforge: boot settings for host 'bare'. Generated; edit the profile.\n"
		"{ ... }:\n"
		"{\n"
		"  boot.kernelParams = [ ];\n"
		"  boot.initrd.kernelModules = [ ];\n"
		"}\n");
	buf_release(&out);
	host_release(&h);
}

/* ids are hex in practice; the indented string must still be right for
 * anything: "''" and "${" escaped, and a lone "'" never touching an escape. */
static void test_nixos_indented_escapes(void **state)
{
	struct pf_plan_host h;
	struct pf_buf out;
	const char *body;

	(void)state;
	host_init(&h, "odd");
	h.vfio = true;
	push(&h.vfio_ids, "a''b");
	push(&h.vfio_ids, "${x}");
	push(&h.vfio_ids, "q'${y}");
	push(&h.vfio_ids, "t\tn\n'");
	push(&h.vfio_ids, "'''z'");
	buf_init(&out);
	assert_int_equal(render_nixos(&h, &out), 0);
	body = strstr(out.data, "    options");
	assert_non_null(body);
	assert_string_equal(body,
		"    options vfio-pci ids=a'''b,''${x},q''\\'''${y},t''\\tn''\\n''\\',''''z''\\'\n"
		"    softdep nvidia pre: vfio-pci\n"
		"    softdep nouveau pre: vfio-pci\n"
		"  '';\n"
		"}\n");
	buf_release(&out);
	host_release(&h);
}

static void nix_str(const char *in, const char *want)
{
	struct pf_buf out;

	buf_init(&out);
	assert_int_equal(nix_string_append(&out, in), 0);
	assert_string_equal(out.data, want);
	buf_release(&out);
}

static void test_nix_string(void **state)
{
	(void)state;
	nix_str("", "\"\"");
	nix_str("plain", "\"plain\"");
	nix_str("a\"b", "\"a\\\"b\"");
	nix_str("a\\b", "\"a\\\\b\"");
	nix_str("${x}", "\"\\${x}\"");
	nix_str("$${x}", "\"$\\${x}\"");
	nix_str("$x $", "\"$x $\"");
	nix_str("l1\nl2\r\tend", "\"l1\\nl2\\r\\tend\"");
	nix_str("it's {}", "\"it's {}\"");
}

/* ---- the target table ------------------------------------------------ */

static void test_targets_find(void **state)
{
	const struct pf_target *t;

	(void)state;
	t = render_target_find("ipxe");
	assert_non_null(t);
	assert_int_equal(t->group, PF_TARGET_HOST);
	assert_true(t->needs_name && t->host_file && !t->secret);
	assert_string_equal(t->path, "netboot.ipxe");
	t = render_target_find("dispatcher");
	assert_true(t && t->group == PF_TARGET_HOST && !t->needs_name);
	t = render_target_find("user-data");
	assert_true(t && t->secret && !t->render);
	t = render_target_find("kubevirt");
	assert_true(t && t->group == PF_TARGET_VM && t->explain);
	t = render_target_find("permitted-host-devices");
	assert_true(t && t->group == PF_TARGET_FLEET && !t->needs_name);
	assert_null(render_target_find("bogus"));
	assert_null(render_target_find(""));
}

static void test_targets_lists(void **state)
{
	struct pf_buf b;

	(void)state;
	buf_init(&b);
	assert_int_equal(render_target_list(&b), 0);
	assert_string_equal(b.data,
			    "ipxe, cmdline, modprobe, modules-load, nixos, profile, dispatcher, meta-data, network-config; kubevirt, libvirt, opennebula; permitted-host-devices");
	b.len = 0;
	assert_int_equal(render_vm_target_list(&b), 0);
	assert_string_equal(b.data, "kubevirt, libvirt or opennebula");
	buf_release(&b);
	assert_string_equal(render_target_suggest("ipx"), "ipxe");
	assert_string_equal(render_target_suggest("modules_load"), "modules-load");
	assert_string_equal(render_target_suggest("libvirr"), "libvirt");
	assert_string_equal(render_target_suggest("kubevirtt"), "kubevirt");
	assert_null(render_target_suggest("zzzzzzzzzz"));
}

/* Every printable target once, under its group's heading, never user-data. */
static void test_targets_help(void **state)
{
	const struct pf_target *t;
	struct pf_buf b;
	size_t n;
	const char *host, *vm, *fleet;

	(void)state;
	buf_init(&b);
	assert_int_equal(render_targets_help(&b), 0);
	host = strstr(b.data, "For a host, TARGET is one of:\n");
	vm = strstr(b.data, "For a VM (vms[] in the profile):\n");
	fleet = strstr(b.data, "And for the fleet:\n");
	assert_true(host == b.data && vm > host && fleet > vm);
	t = render_targets(&n);
	for (size_t i = 0; i < n; i++) {
		char line[64];
		const char *at;

		snprintf(line, sizeof(line), "\n  %s ", t[i].name);
		at = strstr(b.data, line);
		if (t[i].secret) {
			assert_null(at);
			continue;
		}
		assert_non_null(at);
		assert_null(strstr(at + 1, line));
		assert_true(t[i].group == PF_TARGET_HOST ? at < vm :
			    t[i].group == PF_TARGET_VM ? at > vm && at < fleet :
			    at > fleet);
	}
	assert_non_null(strstr(b.data,
			       "\n  ipxe          OUT/<host>/netboot.ipxe\n"));
	assert_non_null(strstr(b.data,
			       "\n  dispatcher    OUT/boot.ipxe (no --host needed)\n"));
	assert_non_null(strstr(b.data,
			       "; with\n                --explain, how its memory"));
	assert_non_null(strstr(b.data,
			       "\n  permitted-host-devices  OUT/kubevirt/permitted-host-devices.yaml\n"));
	assert_null(strstr(b.data, "user-data"));
	buf_release(&b);
}

/* The dispatch: the plan's payload bytes, -ENODATA without them, the
 * secret refused, --explain only where there is one. */
static void test_targets_render(void **state)
{
	struct pf_plan_host h;
	struct pf_plan plan = { .hosts = &h, .nhosts = 1 };
	struct pf_target_subject s = { &plan, &h, NULL, false };
	const struct pf_target *meta = render_target_find("meta-data");
	const struct pf_target *net = render_target_find("network-config");
	struct pf_buf out;

	(void)state;
	host_init(&h, "c4140");
	buf_init(&out);
	assert_int_equal(render_target(meta, &s, &out), -ENODATA);
	h.cloudinit.enabled = true;
	assert_int_equal(buf_puts(&h.cloudinit.payload.meta_data,
				  "instance-id: iid-0\n"), 0);
	assert_int_equal(render_target(meta, &s, &out), 0);
	assert_string_equal(out.data, "instance-id: iid-0\n");
	assert_int_equal(render_target(net, &s, &out), -ENODATA);
	assert_int_equal(render_target(render_target_find("user-data"), &s,
				       &out), -EPERM);
	assert_true(render_target_secret(render_target_find("user-data"), &s));
	assert_false(render_target_secret(meta, &s));
	s.explain = true;
	assert_int_equal(render_target(meta, &s, &out), -EINVAL);
	assert_string_equal(out.data, "instance-id: iid-0\n");
	buf_release(&out);
	buf_release(&h.cloudinit.payload.meta_data);
	host_release(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipxe_no_initrd),
		cmocka_unit_test(test_ipxe_one_initrd),
		cmocka_unit_test(test_ipxe_two_initrds),
		cmocka_unit_test(test_ipxe_kernel_line_is_cmdline_text),
		cmocka_unit_test(test_ipxe_bare_host),
		cmocka_unit_test(test_dispatcher_relative),
		cmocka_unit_test(test_dispatcher_base_url),
		cmocka_unit_test(test_cmdline),
		cmocka_unit_test(test_modprobe),
		cmocka_unit_test(test_modules_load),
		cmocka_unit_test(test_nixos_vfio),
		cmocka_unit_test(test_nixos_empty),
		cmocka_unit_test(test_nixos_indented_escapes),
		cmocka_unit_test(test_nix_string),
		cmocka_unit_test(test_targets_find),
		cmocka_unit_test(test_targets_lists),
		cmocka_unit_test(test_targets_help),
		cmocka_unit_test(test_targets_render),
	};

	return cmocka_run_group_tests_name("render", tests, NULL, NULL);
}
