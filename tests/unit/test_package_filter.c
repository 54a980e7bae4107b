/* Unit tests for package_filter.c: which hosts and VMs build --host
 * renders, and which files of an earlier build it keeps (the writer's
 * keep_prev): a host's directory, its MACs' scripts, its VMs' directories;
 * never a selected host's, a fleet-wide file or an unknown owner's. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "pxeforge/package/filter.h"

struct fleet {
	struct pf_plan plan;
	struct pf_plan_host hosts[3];
	struct pf_plan_vm vms[2];
};

static void fleet_init(struct fleet *f)
{
	static const char *const names[] = { "a", "b", "c" };
	static const char *const macs[][2] = {
		{ "52:54:00:00:00:0a", NULL },
		{ "52:54:00:00:00:0b", "52:54:00:00:01:0b" },
		{ "52:54:00:00:00:0c", NULL },
	};

	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < 3; i++) {
		f->hosts[i].name = (char *)names[i];
		strlist_init(&f->hosts[i].macs);
		for (size_t m = 0; m < 2 && macs[i][m]; m++)
			assert_int_equal(strlist_push(&f->hosts[i].macs,
						      macs[i][m]), 0);
	}
	f->vms[0].name = "b-gpu";
	f->vms[0].host = &f->hosts[1];
	f->vms[1].name = "nogpu";	/* takes no host's GPUs */
	f->plan.hosts = f->hosts;
	f->plan.nhosts = 3;
	f->plan.vms = f->vms;
	f->plan.nvms = 2;
}

static void fleet_release(struct fleet *f)
{
	for (size_t i = 0; i < 3; i++)
		strlist_release(&f->hosts[i].macs);
}

static void test_select_a_keeps_b(void **state)
{
	struct pf_package_filter *pf;
	struct fleet f;

	(void)state;
	fleet_init(&f);
	assert_int_equal(package_filter_new(&f.plan, &pf), 0);
	package_filter_select(pf, &f.hosts[0]);
	assert_int_equal(package_filter_hosts(pf), 1);
	assert_true(package_filter_host(pf, &f.hosts[0]));
	assert_false(package_filter_host(pf, &f.hosts[1]));
	assert_false(package_filter_vm(pf, &f.vms[0]));
	assert_false(package_filter_vm(pf, &f.vms[1]));
	/* b's files, its MACs' scripts, its VM: kept */
	assert_true(package_filter_keeps("b/cmdline", pf));
	assert_true(package_filter_keeps("b/cloud-init/user-data", pf));
	assert_true(package_filter_keeps("hosts/52-54-00-00-00-0b.ipxe", pf));
	assert_true(package_filter_keeps("hosts/52-54-00-00-01-0b.ipxe", pf));
	assert_true(package_filter_keeps("vms/b-gpu/domain.xml", pf));
	assert_true(package_filter_keeps("vms/nogpu/domain.xml", pf));
	assert_true(package_filter_keeps("c/overlay.cpio.gz", pf));
	/* hosts/ and vms/ hold scripts and VMs only (validate reserves
	 * the names) */
	assert_false(package_filter_keeps("vms/cmdline", pf));
	assert_false(package_filter_keeps("hosts/b/x.ipxe", pf));
	/* a's own, the fleet's and strangers': not kept */
	assert_false(package_filter_keeps("a/cmdline", pf));
	assert_false(package_filter_keeps("hosts/52-54-00-00-00-0a.ipxe", pf));
	assert_false(package_filter_keeps("boot.ipxe", pf));
	assert_false(package_filter_keeps("manifest.json", pf));
	assert_false(package_filter_keeps("kubevirt/permitted-host-devices.yaml", pf));
	assert_false(package_filter_keeps("gone/cmdline", pf));
	assert_false(package_filter_keeps("hosts/52-54-00-00-00-ff.ipxe", pf));
	assert_false(package_filter_keeps("hosts/52-54-00-00-00-0b.ipxe.sig", pf));
	assert_false(package_filter_keeps("vms/gone/domain.xml", pf));
	assert_false(package_filter_keeps("b", pf));
	package_filter_free(pf);
	fleet_release(&f);
}

static void test_select_b_takes_its_vm(void **state)
{
	struct pf_package_filter *pf;
	struct fleet f;

	(void)state;
	fleet_init(&f);
	assert_int_equal(package_filter_new(&f.plan, &pf), 0);
	package_filter_select(pf, &f.hosts[1]);
	package_filter_select(pf, &f.hosts[1]);
	assert_int_equal(package_filter_hosts(pf), 1);
	assert_true(package_filter_vm(pf, &f.vms[0]));
	assert_false(package_filter_vm(pf, &f.vms[1]));
	assert_false(package_filter_keeps("vms/b-gpu/vm.yaml", pf));
	assert_false(package_filter_keeps("hosts/52-54-00-00-01-0b.ipxe", pf));
	assert_true(package_filter_keeps("a/cmdline", pf));
	assert_true(package_filter_keeps("hosts/52-54-00-00-00-0a.ipxe", pf));
	package_filter_free(pf);
	fleet_release(&f);
}

static void test_no_filter_renders_all_keeps_none(void **state)
{
	struct fleet f;

	(void)state;
	fleet_init(&f);
	assert_true(package_filter_host(NULL, &f.hosts[2]));
	assert_true(package_filter_vm(NULL, &f.vms[1]));
	assert_false(package_filter_keeps("b/cmdline", NULL));
	package_filter_free(NULL);
	fleet_release(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select_a_keeps_b),
		cmocka_unit_test(test_select_b_takes_its_vm),
		cmocka_unit_test(test_no_filter_renders_all_keeps_none),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
