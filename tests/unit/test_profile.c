/* Profile parser and validation: the exact messages users see, with their
 * file:line:col. Each test writes its profile into a fresh mkdtemp
 * directory (the process works inside it, so paths in messages are short
 * and exact) and PXEFORGE_PCI_IDS points at a small pci.ids written there,
 * so no result depends on the machine's pci.ids. */
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
#include "pxeforge/profile/node.h"
#include "pxeforge/profile/inputs.h"
#include "pxeforge/profile/profile.h"
#include "pxeforge/profile/schema.h"
#include "pxeforge/validate/validate.h"
#include "pxeforge/validate/values.h"
#include "profile/profile_parser.h"

#include "fixture.h"

/* pci.ids format: vendor lines, tab + device lines, a class section. */
static const char pci_ids[] =
	"# pci.ids for the unit tests\n"
	"10de  NVIDIA Corporation\n"
	"\t1e04  TU102 [GeForce RTX 2080 Ti]\n"
	"\t2236  GA102GL [A10]\n"
	"\t\t10de 1482  A10\n"
	"8086  Intel Corporation\n"
	"\t1572  Ethernet Controller X710 for 10GbE SFP+\n"
	"C 00  Unclassified device\n"
	"\t00  Non-VGA unclassified device\n";

struct ctx {
	struct fixture fx;
	struct pf_diag *d;
	struct pf_profile *p;
	char *out;	/* diag_print output */
	int rc;		/* profile_parse */
};

static int setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));

	if (!c || fixture_enter(&c->fx, "profile", pci_ids) != 0) {
		free(c);
		return -1;
	}
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	int rc;

	profile_free(c->p);
	diag_free(c->d);
	free(c->out);
	rc = fixture_leave(&c->fx);
	free(c);
	return rc;
}

/* Parses path (validating when the parse returned 0) into a fresh diag and
 * returns everything diag_print printed. */
static const char *load(struct ctx *c, const char *path)
{
	profile_free(c->p);
	c->p = NULL;
	diag_free(c->d);
	free(c->out);
	c->out = NULL;
	c->d = diag_new();
	assert_non_null(c->d);
	c->rc = profile_parse(path, c->d, &c->p);
	if (c->rc == 0) {
		assert_non_null(c->p);
		struct pf_profile_inputs *in;

		assert_int_equal(profile_inputs_read(c->p, &in), 0);
		profile_validate(c->p, in, c->d);
		profile_inputs_free(in);
	} else {
		assert_null(c->p);
	}
	c->out = fixture_diag_text(c->d);
	return c->out;
}

/* Writes text to path, then load(). */
static const char *check(struct ctx *c, const char *path, const char *text)
{
	fixture_write_file(path, text);
	return load(c, path);
}

/* The profile parses (rc 0) and validates with exactly `expected`. */
#define assert_valid_with(c, path, text, expected)                     \
	do {                                                           \
		assert_string_equal(check((c), (path), (text)), (expected)); \
		assert_int_equal((c)->rc, 0);                          \
	} while (0)

/* ---- syntax and structure ------------------------------------------- */

static void yaml_syntax_error(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(check(c, "p.yaml",
		"version: 1\n"
		"hosts:\n"
		"  - name: c4140\n"
		"    macs: [b0:26:28:4a:10:01\n"
		"    cpu: intel\n"),
		"p.yaml:5:8: error: invalid YAML: did not find expected ',' or ']' while parsing a flow sequence (line 4)\n");
	assert_int_equal(c->rc, -EINVAL);
	assert_int_equal(diag_errors(c->d), 1);
}

static void yaml_bad_indentation(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(check(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"   macs: [\"b0:26:28:4a:10:01\"]\n"),
		"p.yaml:3:4: error: invalid YAML: did not find expected '-' indicator while parsing a block collection (line 2)\n");
	assert_int_equal(c->rc, -EINVAL);
}

static void empty_file(void **state)
{
	struct ctx *c = *state;
	const char *msg = "p.yaml:1:1: error: a profile is a mapping with 'version', 'defaults' and 'hosts'; the file is empty\n";

	assert_string_equal(check(c, "p.yaml", ""), msg);
	assert_int_equal(c->rc, -EINVAL);
	/* only a comment is empty too */
	assert_string_equal(check(c, "p.yaml", "# nothing yet\n"), msg);
	assert_int_equal(c->rc, -EINVAL);
}

static void not_a_mapping(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(check(c, "p.yaml", "\n- a\n- b\n"),
		"p.yaml:2:1: error: a profile is a mapping with 'version', 'defaults' and 'hosts'\n");
	assert_int_equal(c->rc, -EINVAL);
}

static void unreadable_profile(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(load(c, "missing.yaml"),
		"missing.yaml: error: cannot read: No such file or directory\n");
	assert_int_equal(c->rc, -ENOENT);
}

static void duplicate_key(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(check(c, "p.yaml",
		"version: 1\n"
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    name: b\n"),
		"p.yaml:5:5: error: duplicate key 'name' (first at p.yaml:3:5)\n");
	assert_int_equal(c->rc, -EINVAL);
}

static void alias_rejected(void **state)
{
	struct ctx *c = *state;

	assert_string_equal(check(c, "p.yaml",
		"version: 1\n"
		"hosts:\n"
		"  - name: a\n"
		"    macs: &m [\"b0:26:28:4a:10:01\"]\n"
		"  - name: b\n"
		"    macs: *m\n"),
		"p.yaml:6:11: error: YAML aliases are not supported in profiles\n");
	assert_int_equal(c->rc, -EINVAL);
}

static void version_2_rejected(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"version: 2\n"
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n",
		"p.yaml:1:10: error: unsupported profile version '2' (this pxeforge reads version 1)\n");
	/* version 1, plain or quoted, is fine */
	assert_valid_with(c, "p.yaml",
		"version: \"1\"\n"
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n", "");
	assert_int_equal(diag_errors(c->d), 0);
}

static void missing_and_empty_hosts(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml", "version: 1\ndefaults: {}\n",
		"p.yaml:1:1: error: missing 'hosts': the profile describes no machine\n");
	assert_valid_with(c, "p.yaml", "version: 1\nhosts: []\n",
		"p.yaml:2:8: error: 'hosts' is empty: the profile describes no machine\n");
}

/* ---- unknown keys --------------------------------------------------- */

static void unknown_key_gpu_suggests_gpus(void **state)
{
	struct ctx *c = *state;

	/* 'gpu' is one edit from both 'gpus' and 'cpu'; the same initial wins */
	assert_valid_with(c, "p.yaml",
		"version: 1\n"
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    gpu: []\n",
		"p.yaml:5:5: error: unknown key 'gpu' in host (did you mean 'gpus'?)\n");
	assert_int_equal(diag_errors(c->d), 1);
}

static void unknown_key_modle_suggests_model(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    gpus:\n"
		"      - address: \"0000:01:00.0\"\n"
		"        id: \"10de:1db1\"\n"
		"        role: host\n"
		"        modle: Tesla V100 SXM2 16GB\n",
		"p.yaml:8:9: error: unknown key 'modle' in gpu (did you mean 'model'?)\n");
}

static void unknown_key_consoel_in_defaults(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"defaults:\n"
		"  consoel: [tty0]\n"
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n",
		"p.yaml:2:3: error: unknown key 'consoel' in defaults (did you mean 'console'?)\n");
}

static void unknown_top_key(void **state)
{
	struct ctx *c = *state;

	/* 'host' for 'hosts': both problems, in file order */
	assert_valid_with(c, "p.yaml",
		"version: 1\n"
		"host:\n"
		"  - name: a\n",
		"p.yaml:1:1: error: missing 'hosts': the profile describes no machine\n"
		"p.yaml:2:1: error: unknown key 'host' in the profile (did you mean 'hosts'?)\n");
}

static void unknown_key_lists_known_keys(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    foo: 1\n"
		"    gpus:\n"
		"      - address: \"0000:01:00.0\"\n"
		"        id: \"10de:1db1\"\n"
		"        role: host\n"
		"        vendor: nvidia\n",
		"p.yaml:4:5: error: unknown key 'foo' in host (known keys: name, macs, cpu, gpus, kernel, initrds, kernel_params, console, initrd_modules, modules_dir, overlay_compression, nixos, cloud_init, groups)\n"
		"p.yaml:9:9: error: unknown key 'vendor' in gpu (known keys: address, id, model, role, functions)\n");
}

static void suggestion_skips_keys_present(void **state)
{
	struct ctx *c = *state;

	/* 'model' is already there, so 'modle' is not a misspelling of it */
	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    gpus:\n"
		"      - address: \"0000:01:00.0\"\n"
		"        id: \"10de:1db1\"\n"
		"        role: host\n"
		"        model: Tesla V100 SXM2 16GB\n"
		"        modle: x\n",
		"p.yaml:9:9: error: unknown key 'modle' in gpu (known keys: address, id, model, role, functions)\n");
}

/* ---- wrong types ---------------------------------------------------- */

static void wrong_type_string_for_list(void **state)
{
	struct ctx *c = *state;

	/* no cascaded "has no MAC addresses" for the unusable macs */
	assert_valid_with(c, "p.yaml",
		"version: 1\n"
		"defaults:\n"
		"  kernel_params: loglevel=4\n"
		"hosts:\n"
		"  - name: a\n"
		"    macs: \"b0:26:28:4a:10:01\"\n",
		"p.yaml:3:18: error: wrong type for 'kernel_params': expected a list, got a string\n"
		"p.yaml:6:11: error: wrong type for 'macs': expected a list, got a string\n");
	assert_int_equal(diag_errors(c->d), 2);
	assert_true(c->p->hosts[0].macs.invalid);
}

static void wrong_type_list_for_string(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: [c4140]\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    gpus:\n"
		"      - address: [\"0000:01:00.0\"]\n"
		"        id: \"10de:1db1\"\n"
		"        role: host\n",
		"p.yaml:2:11: error: wrong type for 'name': expected a string, got a list\n"
		"p.yaml:5:18: error: wrong type for 'address': expected a string, got a list\n");
	assert_null(c->p->hosts[0].name.s);
}

static void wrong_type_mapping_and_null(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name:\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    gpus: {address: \"0000:01:00.0\"}\n"
		"    nixos: [x]\n",
		"p.yaml:2:10: error: wrong type for 'name': expected a string, got null\n"
		"p.yaml:4:11: error: wrong type for 'gpus': expected a list, got a mapping\n"
		"p.yaml:5:12: error: wrong type for 'nixos': expected a mapping, got a list\n");
}

static void missing_required_keys(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - cpu: amd\n"
		"  - name: b\n"
		"    macs: ~\n"
		"    gpus:\n"
		"      - model: Tesla V100 SXM2 16GB\n",
		"p.yaml:2:5: error: missing 'name' in host\n"
		"p.yaml:2:5: error: missing 'macs' in host '?': the dispatcher finds a host by its MAC\n"
		"p.yaml:4:11: error: host 'b' has no MAC addresses\n"
		"p.yaml:6:9: error: missing 'address' (the PCI address, e.g. '0000:1a:00.0')\n"
		"p.yaml:6:9: error: missing 'id' (vendor:device, e.g. '10de:1db1')\n"
		"p.yaml:6:9: error: missing 'role' (vfio: handed to VMs, host: used by the host's own driver)\n");
}

/* ---- MACs and host names -------------------------------------------- */

static void bad_and_multicast_macs(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs:\n"
		"      - \"b0:26:28:4a:10\"\n"
		"      - \"b0-26:28:4a:10:01\"\n"
		"      - \"01:00:5e:00:00:01\"\n"
		"      - \"zz:26:28:4a:10:01\"\n"
		"      - \"B3-00-00-00-00-01\"\n"
		"      - \"b0:26:28:4a:10:0A\"\n",
		"p.yaml:4:9: error: invalid MAC address 'b0:26:28:4a:10' (expected six hex pairs, e.g. 'aa:bb:cc:dd:ee:ff')\n"
		"p.yaml:5:9: error: invalid MAC address 'b0-26:28:4a:10:01' (expected six hex pairs, e.g. 'aa:bb:cc:dd:ee:ff')\n"
		"p.yaml:6:9: error: MAC address '01:00:5e:00:00:01' is a multicast address, not a network card's\n"
		"p.yaml:7:9: error: invalid MAC address 'zz:26:28:4a:10:01' (expected six hex pairs, e.g. 'aa:bb:cc:dd:ee:ff')\n"
		"p.yaml:8:9: error: MAC address 'B3-00-00-00-00-01' is a multicast address, not a network card's\n");
	assert_int_equal(diag_errors(c->d), 5);
}

static void duplicate_mac_any_spelling(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: node1\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"  - name: node2\n"
		"    macs: [\"B0:26:28:4A:10:01\", \"b0-26-28-4a-10-01\", \"b0:26:28:4a:10:02\"]\n"
		"  - name: node3\n"
		"    macs: [\"B0-26-28-4A-10-02\"]\n",
		"p.yaml:5:12: error: duplicate MAC address 'B0:26:28:4A:10:01' (first at p.yaml:3:12, host 'node1')\n"
		"p.yaml:5:33: error: duplicate MAC address 'b0-26-28-4a-10-01' (first at p.yaml:3:12, host 'node1')\n"
		"p.yaml:7:12: error: duplicate MAC address 'B0-26-28-4A-10-02' (first at p.yaml:5:54, host 'node2')\n");
}

static void duplicate_host_name(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: node1\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"  - name: node2\n"
		"    macs: [\"b0:26:28:4a:10:02\"]\n"
		"  - name: node1\n"
		"    macs: [\"b0:26:28:4a:10:03\"]\n",
		"p.yaml:6:11: error: duplicate host name 'node1' (first at p.yaml:2:11)\n");
}

static void reserved_and_bad_host_names(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: hosts\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"  - name: ../x\n"
		"    macs: [\"b0:26:28:4a:10:02\"]\n"
		"  - name: \"a b\"\n"
		"    macs: [\"b0:26:28:4a:10:03\"]\n"
		"  - name: n-1_x.lab\n"
		"    macs: [\"b0:26:28:4a:10:04\"]\n",
		"p.yaml:2:11: error: host name 'hosts' is taken by the output tree (hosts, vms, kubevirt, boot.ipxe, manifest.json)\n"
		"p.yaml:4:11: error: invalid host name '../x' (letters, digits, '-', '_' and '.', starting with a letter or digit; it names a directory)\n"
		"p.yaml:6:11: error: invalid host name 'a b' (letters, digits, '-', '_' and '.', starting with a letter or digit; it names a directory)\n");
}

/* ---- PCI addresses, ids, models, functions -------------------------- */

static void bad_pci_addresses(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    gpus:\n"
		"      - {address: \"1a:00.0\", id: \"10de:1db1\", role: host}\n"
		"      - {address: \"0000:1c:20.0\", id: \"10de:1db1\", role: host}\n"
		"      - {address: \"0000:1d:00.8\", id: \"10de:1db1\", role: host}\n"
		"      - {address: \"0000:1g:00.0\", id: \"10de:1db1\", role: host}\n",
		"p.yaml:5:19: error: invalid PCI address '1a:00.0' (expected domain:bus:device.function, e.g. '0000:1a:00.0')\n"
		"p.yaml:6:19: error: invalid PCI address '0000:1c:20.0' (expected domain:bus:device.function, e.g. '0000:1a:00.0')\n"
		"p.yaml:7:19: error: invalid PCI address '0000:1d:00.8' (expected domain:bus:device.function, e.g. '0000:1a:00.0')\n"
		"p.yaml:8:19: error: invalid PCI address '0000:1g:00.0' (expected domain:bus:device.function, e.g. '0000:1a:00.0')\n");
}

static void bad_pci_ids(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        id: \"10de:1db\"\n"
		"        role: host\n"
		"      - address: \"0000:1b:00.0\"\n"
		"        id: \"10de-1db1\"\n"
		"        role: host\n"
		"      - address: \"0000:1c:00.0\"\n"
		"        id: \"10DE:1DB1\"\n"
		"        role: host\n",
		"p.yaml:6:13: error: invalid PCI id '10de:1db' (expected vendor:device in hex, e.g. '10de:1db1')\n"
		"p.yaml:9:13: error: invalid PCI id '10de-1db1' (expected vendor:device in hex, e.g. '10de:1db1')\n");
	/* upper-case hex is an id like any other */
	assert_true(pcifn_read(&c->p->hosts[0].gpus[2].pci).id_ok);
	assert_int_equal(pcifn_read(&c->p->hosts[0].gpus[2].pci).vendor, 0x10de);
	assert_int_equal(pcifn_read(&c->p->hosts[0].gpus[2].pci).device, 0x1db1);
}

static void model_contradicts_id(void **state)
{
	struct ctx *c = *state;

	/* the seed's mistake: the V100 PCIe 32GB id for an SXM2 16GB card */
	assert_valid_with(c, "p.yaml",
		"version: 1\n"
		"hosts:\n"
		"  - name: c4140\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: intel\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        model: Tesla V100 SXM2 16GB\n"
		"        id: \"10de:1db6\"\n"
		"        role: vfio\n",
		"p.yaml:9:13: error: PCI id '10de:1db6' is the Tesla V100 PCIe 32GB, not the Tesla V100 SXM2 16GB (did you mean '10de:1db1', Tesla V100 SXM2 16GB?)\n");
	assert_int_equal(diag_errors(c->d), 1);
	/* the model compares case-insensitively, and the right id passes */
	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: c4140\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: intel\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        model: tesla v100 sxm2 16gb\n"
		"        id: \"10de:1db1\"\n"
		"        role: vfio\n", "");
}

static void model_typo_suggests_model(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        id: \"10de:1db1\"\n"
		"        model: Tesla V100 SMX2 16GB\n"
		"        role: host\n"
		"      - address: \"0000:1b:00.0\"\n"
		"        id: \"8086:1572\"\n"
		"        model: Something Else Entirely\n"
		"        role: host\n",
		"p.yaml:7:16: error: unknown model 'Tesla V100 SMX2 16GB' (did you mean 'Tesla V100 SXM2 16GB'?)\n"
		"p.yaml:11:16: warning: unknown model 'Something Else Entirely'; its id '8086:1572' cannot be checked against it\n");
	assert_int_equal(diag_errors(c->d), 1);
	assert_int_equal(diag_warnings(c->d), 1);
}

static void unknown_id_near_known_is_error(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: c4140\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: intel\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        id: \"10de:1db9\"\n"
		"        role: vfio\n",
		"p.yaml:7:13: error: unknown PCI id '10de:1db9' (did you mean '10de:1db1', Tesla V100 SXM2 16GB?)\n");
	assert_int_equal(diag_errors(c->d), 1);
	assert_int_equal(diag_warnings(c->d), 0);
}

static void unknown_far_id_is_warning(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: amd\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        id: \"abcd:ef01\"\n"
		"        role: vfio\n",
		"p.yaml:7:13: warning: unknown PCI id 'abcd:ef01' (not in the built-in table or pci.ids); check it with lspci -nn\n");
	assert_int_equal(diag_errors(c->d), 0);
	assert_int_equal(diag_warnings(c->d), 1);
}

static void pci_ids_file_names_ids(void **state)
{
	struct ctx *c = *state;
	const char *text =
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        id: \"8086:1572\"\n"
		"        role: host\n"
		"      - address: \"0000:1b:00.0\"\n"
		"        id: \"10de:2236\"\n"
		"        role: host\n";

	/* both are in the test pci.ids: nothing to say */
	assert_valid_with(c, "p.yaml", text, "");
	assert_string_equal(pciid_name(0x10de, 0x2236), "GA102GL [A10]");
	assert_null(pciid_name(0x10de, 0x1482));	/* a subsystem line */
	/* without pci.ids the far one is only unknown, the near one (10de:2236
	 * is one digit from the RTX 3080's 2206) is taken for a typo */
	pciid_cleanup();
	setenv("PXEFORGE_PCI_IDS", "", 1);
	assert_valid_with(c, "p.yaml", text,
		"p.yaml:6:13: warning: unknown PCI id '8086:1572' (not in the built-in table or pci.ids); check it with lspci -nn\n"
		"p.yaml:9:13: error: unknown PCI id '10de:2236' (did you mean '10de:2206', GeForce RTX 3080?)\n");
}

static void rtx4070_needs_its_audio_function(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: ws\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: amd\n"
		"    gpus:\n"
		"      - address: \"0000:0b:00.0\"\n"
		"        id: \"10de:2786\"\n"
		"        role: vfio\n",
		"p.yaml:7:13: error: the GeForce RTX 4070 at '0000:0b:00.0' has another function, 10de:22bc (AD104 HDMI audio), that must go to vfio-pci with it; add it under 'functions' (same slot, function 1)\n");
	/* with it listed: clean */
	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: ws\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: amd\n"
		"    gpus:\n"
		"      - address: \"0000:0b:00.0\"\n"
		"        id: \"10de:2786\"\n"
		"        role: vfio\n"
		"        functions:\n"
		"          - {address: \"0000:0b:00.1\", id: \"10de:22bc\"}\n", "");
	/* kept by the host, the card needs nothing */
	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: ws\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    gpus:\n"
		"      - address: \"0000:0b:00.0\"\n"
		"        id: \"10de:2786\"\n"
		"        role: host\n", "");
}

static void function_on_another_slot(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: ws\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: amd\n"
		"    gpus:\n"
		"      - address: \"0000:0b:00.0\"\n"
		"        id: \"10de:2786\"\n"
		"        role: vfio\n"
		"        functions:\n"
		"          - address: \"0000:0c:00.1\"\n"
		"            id: \"10de:22bc\"\n"
		"          - address: \"0000:0b:00.0\"\n"
		"            id: \"10de:22bc\"\n",
		"p.yaml:10:22: error: function '0000:0c:00.1' is not on the card at '0000:0b:00.0' (same domain, bus and device expected)\n"
		"p.yaml:12:22: error: function '0000:0b:00.0' is the GPU itself; list only its other functions\n"
		"p.yaml:12:22: error: PCI address '0000:0b:00.0' is listed twice (first at p.yaml:6:18)\n");
}

static void same_id_vfio_and_host(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: c4140\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: intel\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        id: \"10de:1db1\"\n"
		"        role: vfio\n"
		"      - address: \"0000:1b:00.0\"\n"
		"        id: \"10DE:1db1\"\n"
		"        role: host\n",
		"p.yaml:10:13: error: PCI id '10DE:1db1' has role host here and role vfio at p.yaml:7:13; vfio-pci.ids binds every device with that id\n");
}

static void missing_cpu_with_vfio_gpu(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: c4140\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        id: \"10de:1db1\"\n"
		"        role: vfio\n",
		"p.yaml:2:5: error: host 'c4140' hands GPUs to VFIO but has no 'cpu' (intel or amd); the IOMMU parameters depend on it\n");
	/* role host needs no cpu */
	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: c4140\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        id: \"10de:1db1\"\n"
		"        role: host\n", "");
}

static void cpu_case_insensitive(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: Intel\n"
		"  - name: b\n"
		"    macs: [\"b0:26:28:4a:10:02\"]\n"
		"    cpu: AMD\n", "");
	assert_int_equal(c->p->hosts[0].cpu, PF_CPU_INTEL);
	assert_int_equal(c->p->hosts[1].cpu, PF_CPU_AMD);
	assert_string_equal(cpu_name(c->p->hosts[0].cpu), "intel");
	assert_string_equal(cpu_name(c->p->hosts[1].cpu), "amd");
}

static void cpu_typo_suggests(void **state)
{
	struct ctx *c = *state;

	/* an unknown cpu is not also "missing" */
	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: intl\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"
		"  - name: b\n"
		"    macs: [\"b0:26:28:4a:10:02\"]\n"
		"    cpu: arm\n",
		"p.yaml:4:10: error: unknown cpu 'intl' (did you mean 'intel'?)\n"
		"p.yaml:8:10: error: unknown cpu 'arm' (expected 'intel' or 'amd')\n");
}

static void role_typo_suggests(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: intel\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        id: \"10de:1db1\"\n"
		"        role: vfoi\n"
		"      - address: \"0000:1b:00.0\"\n"
		"        id: \"10de:1db1\"\n"
		"        role: passthrough\n"
		"      - address: \"0000:1c:00.0\"\n"
		"        id: \"10de:1db1\"\n"
		"        role: VFIO\n",
		"p.yaml:8:15: error: unknown role 'vfoi' (did you mean 'vfio'?)\n"
		"p.yaml:11:15: error: unknown role 'passthrough' (expected 'vfio' or 'host')\n");
	assert_int_equal(c->p->hosts[0].gpus[2].role, PF_ROLE_VFIO);
}

/* ---- nixos and from_json -------------------------------------------- */

static void nixos_needs_absolute_toplevel(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    nixos:\n"
		"      kernel_params: [quiet]\n"
		"  - name: b\n"
		"    macs: [\"b0:26:28:4a:10:02\"]\n"
		"    nixos:\n"
		"      toplevel: nix/store/x\n",
		"p.yaml:5:7: error: missing 'toplevel' in nixos (the system's store path, for init=<toplevel>/init)\n"
		"p.yaml:9:17: error: nixos toplevel 'nix/store/x' is not an absolute store path\n");
}

static void from_json_values_used(void **state)
{
	struct ctx *c = *state;
	const struct pf_nixos *nx;

	assert_int_equal(mkdir("sub", 0755), 0);
	fixture_write_file("sub/c4140.json",
		"{\"initrd_modules\":[\"vfio_pci\",\"nvme\"],"
		"\"kernel_params\":[\"intel_iommu=on\",\"loglevel=4\"],"
		"\"toplevel\":\"/nix/store/x-nixos-system-c4140\"}\n");
	/* relative to the profile's directory, not to the working directory */
	assert_valid_with(c, "sub/p.yaml",
		"hosts:\n"
		"  - name: c4140\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    nixos:\n"
		"      from_json: c4140.json\n", "");
	nx = &c->p->hosts[0].nixos;
	assert_true(nx->present);
	assert_true(nx->from_json_ok);
	assert_string_equal(nx->toplevel.s, "/nix/store/x-nixos-system-c4140");
	assert_string_equal(nx->toplevel.mark.file, "sub/c4140.json");
	assert_int_equal(nx->toplevel.mark.line, 1);
	assert_int_equal(nx->toplevel.mark.col, 98);
	assert_int_equal(nx->kernel_params.n, 2);
	assert_string_equal(nx->kernel_params.v[0].s, "intel_iommu=on");
	assert_string_equal(nx->kernel_params.v[1].s, "loglevel=4");
	assert_int_equal(nx->initrd_modules.n, 2);
	assert_string_equal(nx->initrd_modules.v[0].s, "vfio_pci");
	assert_string_equal(nx->initrd_modules.v[1].s, "nvme");
	assert_int_equal(c->p->ndocs, 2);
}

static void from_json_and_inline_conflict(void **state)
{
	struct ctx *c = *state;

	fixture_write_file("n.json",
		"{\n"
		"  \"toplevel\": \"/nix/store/x-nixos-system-a\",\n"
		"  \"kernel_params\": [\"iommu=pt\"],\n"
		"  \"initrd_modules\": [],\n"
		"  \"kernelParams\": []\n"
		"}\n");
	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    nixos:\n"
		"      from_json: n.json\n"
		"      kernel_params: [quiet]\n"
		"      toplevel: /nix/store/y\n",
		"n.json:5:3: error: unknown key 'kernelParams' in from_json file (known keys: toplevel, kernel_params, initrd_modules, initrd_available_modules)\n"
		"p.yaml:6:22: error: 'kernel_params' is given both here and in from_json file 'n.json'; keep one\n"
		"p.yaml:7:17: error: 'toplevel' is given both here and in from_json file 'n.json'; keep one\n");
}

static void from_json_missing_file(void **state)
{
	struct ctx *c = *state;

	assert_int_equal(mkdir("sub", 0755), 0);
	/* reported at the from_json value; no cascaded "missing 'toplevel'" */
	assert_valid_with(c, "sub/p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    nixos:\n"
		"      from_json: missing.json\n",
		"sub/p.yaml:5:18: error: cannot read from_json file 'sub/missing.json': No such file or directory\n");
	assert_int_equal(diag_errors(c->d), 1);
}

static void from_json_syntax_error(void **state)
{
	struct ctx *c = *state;

	fixture_write_file("n.json",
		"{\n"
		"\t\"toplevel\": \"/nix/store/x\",\n"
		"\t\"kernel_params\": [\"intel_iommu=on\", \"iommu=pt\",],\n"
		"\t\"initrd_modules\": []\n"
		"}\n");
	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    nixos:\n"
		"      from_json: n.json\n",
		"n.json:3:49: error: invalid JSON: unexpected token near ']'\n");
	assert_false(c->p->hosts[0].nixos.from_json_ok);
}

static void from_json_not_an_object(void **state)
{
	struct ctx *c = *state;

	fixture_write_file("n.json", "\n[\"quiet\"]\n");
	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    nixos: {from_json: n.json}\n",
		"n.json:2:1: error: from_json file must hold an object with toplevel, kernel_params, initrd_modules and initrd_available_modules\n"
		"p.yaml:4:12: error: missing 'toplevel' in nixos (the system's store path, for init=<toplevel>/init)\n");
}

/* ---- JSON profiles -------------------------------------------------- */

static void json_profile_marks(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.json",
		"{\n"
		"  \"version\": 1,\n"
		"  \"hosts\": [\n"
		"    {\n"
		"      \"name\": \"c4140\",\n"
		"      \"macs\": [\"b0:26:28:4a:10:01\"],\n"
		"      \"cpu\": \"intel\",\n"
		"      \"gpus\": [\n"
		"        {\"address\": \"0000:1a:00.0\", \"id\": \"10de:1db1\", \"role\": \"vfio\", \"modle\": \"Tesla V100 SXM2 16GB\"},\n"
		"        {\"address\": \"0000:1b:00.0\", \"id\": \"10de:1db6\", \"role\": \"vfio\", \"model\": \"Tesla V100 SXM2 16GB\"}\n"
		"      ]\n"
		"    }\n"
		"  ]\n"
		"}\n",
		"p.json:9:72: error: unknown key 'modle' in gpu (did you mean 'model'?)\n"
		"p.json:10:43: error: PCI id '10de:1db6' is the Tesla V100 PCIe 32GB, not the Tesla V100 SXM2 16GB (did you mean '10de:1db1', Tesla V100 SXM2 16GB?)\n");
	/* numbers are read as written */
	assert_string_equal(c->p->version.s, "1");
}

static void json_profile_with_tabs(void **state)
{
	struct ctx *c = *state;

	/* tabs are JSON blanks (YAML would refuse them); columns count each
	 * tab as one, as jansson does */
	assert_valid_with(c, "p.json",
		"{\n"
		"\t\"hosts\": [\n"
		"\t\t{\n"
		"\t\t\t\"name\": \"c4140\",\n"
		"\t\t\t\"macs\": [\"b0:26:28:4a:10:0g\"],\n"
		"\t\t\t\"cpu\":\t\"intl\",\n"
		"\t\t\t\"kernel_params\": [\"a\\tb\"]\n"
		"\t\t}\n"
		"\t]\n"
		"}\n",
		"p.json:5:13: error: invalid MAC address 'b0:26:28:4a:10:0g' (expected six hex pairs, e.g. 'aa:bb:cc:dd:ee:ff')\n"
		"p.json:6:11: error: unknown cpu 'intl' (did you mean 'intel'?)\n"
		"p.json:7:22: error: kernel parameter 'a?b' contains whitespace, and iPXE splits arguments at whitespace and cannot quote or escape\n");
	/* the escaped tab inside the string is a real tab in the value */
	assert_string_equal(c->p->hosts[0].boot.kernel_params.v[0].s, "a\tb");
}

static void json_profile_syntax_error(void **state)
{
	struct ctx *c = *state;

	/* jansson places the error at the last character of the offending
	 * token: the closing quote of "macs" */
	assert_string_equal(check(c, "p.json",
		"{\n"
		"\t\"hosts\": [\n"
		"\t\t{\"name\": \"a\" \"macs\": []}\n"
		"\t]\n"
		"}\n"),
		"p.json:3:21: error: invalid JSON: '}' expected near '\"macs\"'\n");
	assert_int_equal(c->rc, -EINVAL);
	/* duplicate keys: jansson's message */
	assert_string_equal(check(c, "p.json",
		"{\"hosts\": [], \"hosts\": []}\n"),
		"p.json:1:21: error: invalid JSON: duplicate object key near '\"hosts\"'\n");
	assert_int_equal(c->rc, -EINVAL);
}

/* ---- everything at once --------------------------------------------- */

static void many_errors_sorted_by_line(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"version: 1\n"
		"defaults:\n"
		"  console: [tty0]\n"
		"  consoel: [ttyS0]\n"
		"hosts:\n"
		"  - name: c4140\n"
		"    macs: [\"b0:26:28:4a:10:0g\"]\n"
		"    cpu: intel\n"
		"    gpus:\n"
		"      - address: \"0000:1a:00.0\"\n"
		"        id: \"10de:1db6\"\n"
		"        model: Tesla V100 SXM2 16GB\n"
		"        role: vfoi\n"
		"  - name: c4140\n"
		"    macs: []\n"
		"    modle: x\n",
		"p.yaml:4:3: error: unknown key 'consoel' in defaults (known keys: base_url, kernel, initrds, kernel_params, console, initrd_modules, modules_dir, overlay_compression, cloud_init)\n"
		"p.yaml:7:12: error: invalid MAC address 'b0:26:28:4a:10:0g' (expected six hex pairs, e.g. 'aa:bb:cc:dd:ee:ff')\n"
		"p.yaml:11:13: error: PCI id '10de:1db6' is the Tesla V100 PCIe 32GB, not the Tesla V100 SXM2 16GB (did you mean '10de:1db1', Tesla V100 SXM2 16GB?)\n"
		"p.yaml:13:15: error: unknown role 'vfoi' (did you mean 'vfio'?)\n"
		"p.yaml:14:11: error: duplicate host name 'c4140' (first at p.yaml:6:11)\n"
		"p.yaml:15:11: error: host 'c4140' has no MAC addresses\n"
		"p.yaml:16:5: error: unknown key 'modle' in host (known keys: name, macs, cpu, gpus, kernel, initrds, kernel_params, console, initrd_modules, modules_dir, overlay_compression, nixos, cloud_init, groups)\n");
	assert_int_equal(diag_errors(c->d), 7);
}

static void image_names_and_urls(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"defaults:\n"
		"  base_url: \"http://x/${net0/ip}\"\n"
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    kernel: {name: vmlinuz, url: \"http://x/a b\"}\n"
		"    initrds: [vmlinuz, ../initrd, {url: \"http://x/i\"}]\n",
		"p.yaml:2:13: error: invalid base_url 'http://x/${net0/ip}' (a URL such as 'http://10.0.0.1/netboot', without blanks or '${')\n"
		"p.yaml:6:34: error: invalid url 'http://x/a b' (iPXE cannot load a URL with blanks or '${')\n"
		"p.yaml:7:15: error: image name 'vmlinuz' of host 'a' is also the name of the kernel; initrd=<name> must tell them apart\n"
		"p.yaml:7:24: error: invalid image name '../initrd' (one file name: no '/', blanks or '${')\n"
		"p.yaml:7:35: error: missing 'name' in 'initrds[2]'\n");
}

/* ---- the key tables and the schema made from them ------------------- */

/* Every entry says where its value goes and how it is read; a required
 * key has its message; no mapping lists a key twice. */
static void key_tables_are_complete(void **state)
{
	(void)state;
	assert_true(pk_nall >= 16);
	for (size_t m = 0; m < pk_nall; m++) {
		const struct pf_keymap *km = pk_all[m];

		assert_non_null(km->name);
		assert_non_null(km->doc);
		assert_true(km->n > 0);
		for (size_t i = 0; i < km->n; i++) {
			const struct pf_key *k = &km->keys[i];

			assert_non_null(k->name);
			assert_non_null(k->doc);
			for (size_t j = i + 1; j < km->n; j++)
				assert_string_not_equal(k->name, km->keys[j].name);
			if (k->flags & PKF_REQUIRED)
				assert_non_null(k->missing);
			if (k->kind == PK_MAP)
				assert_non_null(k->map);
			if (k->kind == PK_LIST)
				assert_true(k->list && k->list->item &&
					    k->list->size && k->list->item_what);
			if (k->kind == PK_READ)
				assert_non_null(k->read);
			if (k->choice)
				assert_true(k->kind == PK_STR && k->choice->n &&
					    k->choice->what && k->choice->expected);
		}
		for (size_t e = 0; e < 2 && km->exclusive[0]; e++) {
			bool found = false;

			for (size_t i = 0; i < km->n; i++)
				found |= !strcmp(km->keys[i].name, km->exclusive[e]);
			assert_true(found);
		}
	}
}

/* The schema has each table's keys with their docs, its required keys,
 * and no other keys; a VM's cloud_init lacks what a VM rejects. */
static void schema_is_the_tables(void **state)
{
	json_t *schema = NULL;

	(void)state;
	assert_int_equal(profile_schema(&schema), 0);
	assert_string_equal(json_string_value(json_object_get(schema, "$schema")),
			    "http://json-schema.org/draft-07/schema#");
	for (size_t m = 0; m < pk_nall; m++) {
		const struct pf_keymap *km = pk_all[m];
		json_t *def = m == 0 ? schema :
			json_object_get(json_object_get(schema, "definitions"),
					km->name);
		json_t *props = json_object_get(def, "properties");
		json_t *req = json_object_get(def, "required");
		size_t nprops = 0, nreq = 0;

		assert_non_null(props);
		assert_true(json_is_false(json_object_get(def, "additionalProperties")));
		assert_string_equal(json_string_value(json_object_get(def, "title")),
				    km->name);
		for (size_t i = 0; i < km->n; i++) {
			const struct pf_key *k = &km->keys[i];
			json_t *p = json_object_get(props, k->name);

			if (km->in_vm && k->vm_reject) {
				assert_null(p);
				continue;
			}
			nprops++;
			assert_non_null(p);
			assert_string_equal(json_string_value(
				json_object_get(p, "description")), k->doc);
			if (k->flags & PKF_REQUIRED) {
				bool listed = false;

				for (size_t r = 0; r < json_array_size(req); r++)
					listed |= !strcmp(json_string_value(
						json_array_get(req, r)), k->name);
				assert_true(listed);
				nreq++;
			}
		}
		assert_int_equal(json_object_size(props), nprops);
		assert_int_equal(json_array_size(req), nreq);
	}
	json_decref(schema);
}

/* Without a near key the message lists them all, however many. */
static void unknown_key_in_vm_lists_every_vm_key(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: intel\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"
		"vms:\n"
		"  - name: v\n"
		"    host: a\n"
		"    gpus: all\n"
		"    vcpus: 4\n"
		"    memory: 4Gi\n"
		"    disk: {containerdisk: registry.example/v:1}\n"
		"    zzzzzzzzzzzz: 1\n",
		"p.yaml:13:5: error: unknown key 'zzzzzzzzzzzz' in VM (known keys: name, host, gpus, vcpus, memory, firmware, consumer_gpu, disk, cloud_init, numa, pinning)\n");
}

/* A key a VM rejects is still read: its value's own error shows too. */
static void vm_seed_rejected_and_checked(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: intel\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n"
		"vms:\n"
		"  - name: v\n"
		"    host: a\n"
		"    gpus: all\n"
		"    vcpus: 4\n"
		"    memory: 4Gi\n"
		"    disk: {containerdisk: registry.example/v:1}\n"
		"    cloud_init: {seed: ovrlay}\n",
		"p.yaml:13:18: error: 'seed' does not apply to VM 'v': a VM's NoCloud seed is its cloud-init disk, which KubeVirt or libvirt attaches\n"
		"p.yaml:13:24: error: unknown seed 'ovrlay' (did you mean 'overlay'?)\n");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

static void wrong_typed_items_do_not_cascade(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [[b0:26:28:4a:10:01]]\n"
		"    cpu: [intel]\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1db1\", role: vfio}]\n",
		"p.yaml:3:12: error: wrong type for 'macs[0]': expected a string, got a list\n"
		"p.yaml:4:10: error: wrong type for 'cpu': expected a string, got a list\n");
}

static void all_reserved_host_names(void **state)
{
	static const char *const names[] = { "manifest.json", "boot.ipxe",
					     "vms", "kubevirt" };
	struct ctx *c = *state;
	char text[256], want[256];

	for (size_t i = 0; i < 4; i++) {
		snprintf(text, sizeof(text),
			 "hosts:\n  - name: %s\n    macs: [\"b0:26:28:4a:10:01\"]\n",
			 names[i]);
		snprintf(want, sizeof(want),
			 "p.yaml:2:11: error: host name '%s' is taken by the output tree (hosts, vms, kubevirt, boot.ipxe, manifest.json)\n",
			 names[i]);
		assert_valid_with(c, "p.yaml", text, want);
	}
}

static void model_named_by_pci_ids_is_accepted(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    cpu: intel\n"
		"    gpus: [{address: \"0000:1a:00.0\", id: \"10de:1e04\", model: GeForce RTX 2080 Ti, role: vfio}]\n",
		"");
}

static void base_url_and_urls_need_a_scheme_or_a_relative_path(void **state)
{
	struct ctx *c = *state;

	assert_valid_with(c, "p.yaml",
		"defaults:\n"
		"  base_url: /\n"
		"hosts:\n"
		"  - name: a\n"
		"    macs: [\"b0:26:28:4a:10:01\"]\n"
		"    initrds: [{name: i, url: /images/initrd}, {name: j, url: \"://x\"}]\n",
		"p.yaml:2:13: error: invalid base_url '/' (a URL such as 'http://10.0.0.1/netboot', without blanks or '${')\n"
		"p.yaml:6:30: error: url '/images/initrd' starts with '/': give a full URL, or a path relative to the served tree\n"
		"p.yaml:6:62: error: invalid url '://x' (no scheme before '://')\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(yaml_syntax_error),
		T(yaml_bad_indentation),
		T(empty_file),
		T(not_a_mapping),
		T(unreadable_profile),
		T(duplicate_key),
		T(alias_rejected),
		T(version_2_rejected),
		T(missing_and_empty_hosts),
		T(unknown_key_gpu_suggests_gpus),
		T(unknown_key_modle_suggests_model),
		T(unknown_key_consoel_in_defaults),
		T(unknown_top_key),
		T(unknown_key_lists_known_keys),
		T(suggestion_skips_keys_present),
		T(wrong_type_string_for_list),
		T(wrong_type_list_for_string),
		T(wrong_type_mapping_and_null),
		T(missing_required_keys),
		T(bad_and_multicast_macs),
		T(duplicate_mac_any_spelling),
		T(duplicate_host_name),
		T(reserved_and_bad_host_names),
		T(bad_pci_addresses),
		T(bad_pci_ids),
		T(model_contradicts_id),
		T(model_typo_suggests_model),
		T(unknown_id_near_known_is_error),
		T(unknown_far_id_is_warning),
		T(pci_ids_file_names_ids),
		T(rtx4070_needs_its_audio_function),
		T(function_on_another_slot),
		T(same_id_vfio_and_host),
		T(missing_cpu_with_vfio_gpu),
		T(cpu_case_insensitive),
		T(cpu_typo_suggests),
		T(role_typo_suggests),
		T(nixos_needs_absolute_toplevel),
		T(from_json_values_used),
		T(from_json_and_inline_conflict),
		T(from_json_missing_file),
		T(from_json_syntax_error),
		T(from_json_not_an_object),
		T(json_profile_marks),
		T(json_profile_with_tabs),
		T(json_profile_syntax_error),
		T(many_errors_sorted_by_line),
		T(image_names_and_urls),
		T(wrong_typed_items_do_not_cascade),
		T(all_reserved_host_names),
		T(model_named_by_pci_ids_is_accepted),
		T(base_url_and_urls_need_a_scheme_or_a_relative_path),
		T(key_tables_are_complete),
		T(schema_is_the_tables),
		T(unknown_key_in_vm_lists_every_vm_key),
		T(vm_seed_rejected_and_checked),
	};

	return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
