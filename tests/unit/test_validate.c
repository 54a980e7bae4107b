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
#include <unistd.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/secret.h"
#include "pxeforge/plan/plan.h"
#include "pxeforge/profile/inputs.h"
#include "pxeforge/validate/validate.h"

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

static const char *validate_text(struct ctx *c, const struct pf_profile_inputs *in)
{
	diag_free(c->d);
	free(c->out);
	c->d = diag_new();
	assert_non_null(c->d);
	profile_validate(c->p, in, c->d);
	c->out = fixture_diag_text(c->d);
	return c->out;
}

static void validate_reads_no_file(void **state)
{
	struct ctx *c = *state;
	struct pf_profile_inputs *in, *later;
	unsigned char key[PF_SECRET_LEN];
	char *found;

	build(c, "cluster_secret: k.key\n"
		 "hosts:\n"
		 "  - name: a\n"
		 "    macs: [\"b0:26:28:4a:10:01\"]\n"
		 "    kernel: {name: bzImage, source: vmlinuz}\n"
		 "    cloud_init: {ssh_authorized_keys: [\"ssh-ed25519 AAAA a@b\"]}\n");
	/* what the files were when read: neither exists */
	assert_int_equal(profile_inputs_read(c->p, &in), 0);
	found = strdup(c->out);
	assert_non_null(found);
	assert_string_equal(found,
			    "p.yaml:1:17: error: cluster secret 'k.key' does not exist; create it with 'pxeforge secret init'\n"
			    "p.yaml:5:37: error: cannot read source 'vmlinuz': No such file or directory\n");
	/* both appear: validate still judges what was read */
	fixture_write_file("vmlinuz", "a kernel\n");
	assert_int_equal(secret_create("k.key"), 0);
	assert_string_equal(validate_text(c, in), found);
	free(found);
	profile_inputs_free(in);
	/* read again, the profile is valid; plan derives the identity from
	 * the key as read, even when the file changes after */
	assert_int_equal(profile_inputs_read(c->p, &later), 0);
	assert_string_equal(validate_text(c, later), "");
	assert_int_equal(secret_load("k.key", key), 0);
	assert_int_equal(unlink("k.key"), 0);
	assert_int_equal(secret_create("k.key"), 0);
	assert_int_equal(plan_build(c->p, later, &c->plan), 0);
	assert_memory_equal(later->key, key, sizeof(key));
	assert_non_null(c->plan->hosts[0].cloudinit.ssh_private);
	profile_inputs_free(later);
	secret_wipe(key, sizeof(key));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(functions_past_256),
		T(hosts_past_64),
		T(vfio_gpus_past_256),
		T(validate_reads_no_file),
	};

	return cmocka_run_group_tests_name("validate", tests, NULL, NULL);
}
