/* Validation past sizes that once truncated silently: a host with more
 * than 256 PCI functions (duplicates and role conflicts late in the
 * list), a profile with more than 64 hosts (did-you-mean over all of
 * them), a host with more than 256 vfio GPUs (the hint and the list of
 * its GPUs). Profiles are generated; every error is checked with its
 * place, and a clean profile of that size plans. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/plan/plan.h"

#include "planfix.h"

static int setup(void **state)
{
	struct ctx *c = planfix_enter("validate", "");

	if (!c)
		return -1;
	*state = c;
	return 0;
}

/* Host "big": ngpus V100s at 0000:<bus>:<dev>.0 (bus 0x10 + i / 32, dev
 * i % 32) with role role, each with nfn other functions .1 … (HDMI audio
 * ids). Five lines, then 3 per card, and 1 + 2 per function. */
static void big_host(struct pf_buf *b, size_t ngpus, size_t nfn,
		     const char *role)
{
	assert_int_equal(buf_printf(b,
				    "hosts:\n"
				    "  - name: big\n"
				    "    macs: [\"b0:26:28:4a:10:01\"]\n"
				    "    cpu: intel\n"
				    "    gpus:\n"), 0);
	for (size_t g = 0; g < ngpus; g++) {
		assert_int_equal(buf_printf(b,
					    "      - address: \"0000:%02zx:%02zx.0\"\n"
					    "        id: \"10de:1db1\"\n"
					    "        role: %s\n",
					    0x10 + g / 32, g % 32, role), 0);
		if (!nfn)
			continue;
		assert_int_equal(buf_puts(b, "        functions:\n"), 0);
		for (size_t f = 1; f <= nfn; f++)
			assert_int_equal(buf_printf(b,
						    "          - address: \"0000:%02zx:%02zx.%zu\"\n"
						    "            id: \"10de:1aef\"\n",
						    0x10 + g / 32, g % 32, f), 0);
	}
}

static void functions_past_256(void **state)
{
	struct ctx *c = *state;
	struct pf_buf b;
	char want[1024];

	/* 40 cards of 8 functions: 320, the last ones beyond 256 */
	buf_init(&b);
	big_host(&b, 40, 7, "host");
	/* the last card lists .1 again (lines 5 + 40 * 18 + 1), and one more
	 * card takes a host card's id for VFIO */
	assert_int_equal(buf_printf(&b,
				    "          - address: \"0000:11:07.1\"\n"
				    "            id: \"10de:1aef\"\n"
				    "      - address: \"0000:20:00.0\"\n"
				    "        id: \"10de:1db1\"\n"
				    "        role: vfio\n"), 0);
	snprintf(want, sizeof(want),
		 "p.yaml:726:22: error: PCI address '0000:11:07.1' is listed twice (first at p.yaml:712:22)\n"
		 "p.yaml:729:13: error: PCI id '10de:1db1' has role vfio here and role host at p.yaml:7:13; vfio-pci.ids binds every device with that id\n");
	assert_string_equal(build(c, b.data), want);
	assert_int_equal(c->rc, -EINVAL);
	buf_release(&b);

	/* the same size without the mistakes plans */
	buf_init(&b);
	big_host(&b, 40, 7, "vfio");
	assert_string_equal(build(c, b.data), "");
	assert_int_equal(c->rc, 0);
	assert_non_null(strstr(c->plan->hosts[0].cmdline_text,
			       " vfio-pci.ids=10de:1db1,10de:1aef "));
	buf_release(&b);
}

static void hosts_past_64(void **state)
{
	struct ctx *c = *state;
	struct pf_buf b;

	buf_init(&b);
	assert_int_equal(buf_puts(&b, "hosts:\n"), 0);
	for (size_t i = 0; i < 69; i++)
		assert_int_equal(buf_printf(&b,
					    "  - {name: rack%02zu, macs: [\"b0:26:28:4a:11:%02zx\"]}\n",
					    i, i), 0);
	assert_int_equal(buf_puts(&b,
				  "  - {name: zebrafish, macs: [\"b0:26:28:4a:12:01\"], cpu: intel,\n"
				  "     gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]}\n"
				  "vms:\n"
				  "  - name: v\n"
				  "    host: zebrafsh\n"
				  "    gpus: all\n"
				  "    vcpus: 4\n"
				  "    memory: 8Gi\n"
				  "    disk: {containerdisk: \"registry.example/v:1\"}\n"), 0);
	/* the 70th host is the one meant */
	assert_string_equal(build(c, b.data),
			    "p.yaml:75:11: error: unknown host 'zebrafsh' for VM 'v' (did you mean 'zebrafish'?)\n");
	buf_release(&b);
}

static void vfio_gpus_past_256(void **state)
{
	struct ctx *c = *state;
	struct pf_buf b, text;

	buf_init(&b);
	big_host(&b, 300, 0, "vfio");
	buf_init(&text);
	assert_int_equal(buf_printf(&text,
				    "%s"
				    "vms:\n"
				    "  - name: v\n"
				    "    host: big\n"
				    "    gpus: [\"0000:19:0b.1\"]\n"
				    "    vcpus: 4\n"
				    "    memory: 8Gi\n"
				    "    disk: {containerdisk: \"registry.example/v:1\"}\n",
				    b.data), 0);
	/* the 300th GPU is 0000:19:0b.0; the VM's gpus are on line 909 */
	assert_string_equal(build(c, text.data),
			    "p.yaml:909:12: error: no vfio GPU at '0000:19:0b.1' on host 'big' (did you mean '0000:19:0b.0'?)\n");
	buf_release(&text);

	/* all 300 taken: one device each, in host order */
	buf_init(&text);
	assert_int_equal(buf_printf(&text,
				    "%s"
				    "vms:\n"
				    "  - name: v\n"
				    "    host: big\n"
				    "    gpus: all\n"
				    "    vcpus: 4\n"
				    "    memory: 8Gi\n"
				    "    disk: {containerdisk: \"registry.example/v:1\"}\n",
				    b.data), 0);
	assert_string_equal(build(c, text.data), "");
	assert_int_equal(c->plan->vms[0].ndevs, 300);
	assert_string_equal(c->plan->vms[0].devs[299].address, "0000:19:0b.0");
	buf_release(&text);
	buf_release(&b);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(functions_past_256),
		T(hosts_past_64),
		T(vfio_gpus_past_256),
	};

	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
