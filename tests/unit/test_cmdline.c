/* Unit tests for builder/plan/cmdline.c: merging, repeats, conflicts, the
 * tokens iPXE would misread, and the UEFI length limit. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/diag.h"
#include "pxeforge/validate/cmdline.h"

struct fx {
	struct pf_cmdline cl;
	struct pf_diag *d;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	cmdline_init(&f->cl);
	f->d = diag_new();
	if (!f->d) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	cmdline_release(&f->cl);
	diag_free(f->d);
	free(f);
	return 0;
}

/* Adds tokens that must all be accepted. */
static void add_ok(struct fx *f, const char *const *tokens, size_t n)
{
	for (size_t i = 0; i < n; i++)
		assert_int_equal(cmdline_add(&f->cl, tokens[i], "test", NULL,
					     f->d), 0);
}
#define ADD_OK(f, ...) do { \
	const char *const toks_[] = { __VA_ARGS__ }; \
	add_ok((f), toks_, sizeof(toks_) / sizeof(toks_[0])); \
} while (0)

static void assert_line(const struct pf_cmdline *cl, const char *want)
{
	char *line = NULL;
	char copy[4096];

	assert_int_equal(cmdline_format(cl, &line), 0);
	assert_non_null(line);
	/* Copy so a failing comparison does not leak the line. */
	snprintf(copy, sizeof(copy), "%s", line);
	assert_int_equal(strlen(line), cmdline_length(cl));
	free(line);
	assert_string_equal(copy, want);
}

/* Everything diag_print would show, as one string. */
static void assert_diag(struct pf_diag *d, const char *want)
{
	char *text = NULL;
	size_t len = 0;
	char copy[8192];
	FILE *fp = open_memstream(&text, &len);

	assert_non_null(fp);
	diag_print(d, fp);
	assert_int_equal(fclose(fp), 0);
	snprintf(copy, sizeof(copy), "%s", text ? text : "");
	free(text);
	assert_string_equal(copy, want);
}

static void test_vfio_ids_merge_spellings(void **state)
{
	struct fx *f = *state;

	ADD_OK(f, "intel_iommu=on", "vfio-pci.ids=10de:1db1", "quiet",
	       "vfio_pci.ids=10de:1aef,10de:1db1");
	assert_int_equal(f->cl.n, 3);
	assert_line(&f->cl,
		    "intel_iommu=on vfio-pci.ids=10de:1db1,10de:1aef quiet");
	assert_int_equal(diag_errors(f->d), 0);
}

static void test_vfio_ids_merge_keeps_first_source(void **state)
{
	struct fx *f = *state;
	struct pf_mark m1 = { "a.yaml", 2, 3 }, m2 = { "b.yaml", 9, 1 };
	const struct pf_param *p;

	assert_int_equal(cmdline_add(&f->cl, "vfio_pci.ids=10de:2204",
				     "profile", &m1, f->d), 0);
	assert_int_equal(cmdline_add(&f->cl, "vfio-pci.ids=10de:1aef",
				     "host", &m2, f->d), 0);
	p = cmdline_find(&f->cl, "vfio-pci.ids");
	assert_non_null(p);
	assert_string_equal(p->key, "vfio_pci.ids");
	assert_string_equal(p->value, "10de:2204,10de:1aef");
	assert_string_equal(p->source, "profile");
	assert_int_equal(p->mark.line, 2);
}

static void test_modprobe_blacklist_dedupe(void **state)
{
	struct fx *f = *state;

	ADD_OK(f, "modprobe.blacklist=nouveau,nvidia",
	       "modprobe.blacklist=nvidia,,nvidiafb,nouveau");
	assert_line(&f->cl, "modprobe.blacklist=nouveau,nvidia,nvidiafb");
}

static void test_rd_driver_pre_dedupe(void **state)
{
	struct fx *f = *state;

	ADD_OK(f, "rd.driver.pre=vfio_pci", "root=/dev/sda1",
	       "rd.driver.pre=vfio,vfio_pci", "rd.driver.pre=vfio_iommu_type1");
	assert_line(&f->cl,
		    "rd.driver.pre=vfio_pci,vfio,vfio_iommu_type1 root=/dev/sda1");
}

static void test_list_single_occurrence_cleaned(void **state)
{
	struct fx *f = *state;

	ADD_OK(f, "module_blacklist=nouveau,,nouveau,", "initcall_blacklist=");
	assert_line(&f->cl, "module_blacklist=nouveau initcall_blacklist=");
}

static void test_list_bare_then_valued(void **state)
{
	struct fx *f = *state;

	ADD_OK(f, "rd.driver.blacklist", "rd.driver.blacklist=nouveau",
	       "rd.driver.blacklist");
	assert_line(&f->cl, "rd.driver.blacklist=nouveau");
	assert_int_equal(diag_errors(f->d), 0);
}

static void test_console_repeated_in_order(void **state)
{
	struct fx *f = *state;

	ADD_OK(f, "console=tty0", "quiet", "console=ttyS0,115200n8");
	assert_int_equal(f->cl.n, 3);
	assert_line(&f->cl, "console=tty0 quiet console=ttyS0,115200n8");
}

static void test_console_exact_duplicate_dropped(void **state)
{
	struct fx *f = *state;

	ADD_OK(f, "console=ttyS0,115200", "console=tty0",
	       "console=ttyS0,115200", "console=tty0");
	assert_line(&f->cl, "console=ttyS0,115200 console=tty0");
	assert_int_equal(diag_errors(f->d), 0);
}

static void test_initrd_and_ip_repeated(void **state)
{
	struct fx *f = *state;

	ADD_OK(f, "initrd=initrd.img", "ip=dhcp", "initrd=overlay.cpio.gz",
	       "ip=eth1:dhcp", "initrd=initrd.img");
	assert_line(&f->cl,
		    "initrd=initrd.img ip=dhcp initrd=overlay.cpio.gz ip=eth1:dhcp");
}

static void test_single_duplicate_dropped(void **state)
{
	struct fx *f = *state;

	ADD_OK(f, "iommu=pt", "quiet", "iommu=pt", "quiet", "intel-iommu=on",
	       "intel_iommu=on");
	assert_line(&f->cl, "iommu=pt quiet intel-iommu=on");
	assert_int_equal(diag_errors(f->d), 0);
}

static void test_conflict_message(void **state)
{
	struct fx *f = *state;
	struct pf_mark m1 = { "site.yaml", 12, 7 }, m2 = { "site.yaml", 40, 9 };

	assert_int_equal(cmdline_add(&f->cl, "iommu=pt",
				     "profiles.gpu.kernel_params", &m1, f->d), 0);
	assert_int_equal(cmdline_add(&f->cl, "iommu=off",
				     "hosts[0].kernel_params", &m2, f->d),
			 -EINVAL);
	assert_int_equal(diag_errors(f->d), 1);
	assert_diag(f->d, "site.yaml:40:9: error: conflicting values for "
		    "kernel parameter 'iommu': 'off' from hosts[0].kernel_params"
		    " and 'pt' from profiles.gpu.kernel_params (site.yaml:12:7)\n");
	/* The first value stays. */
	assert_line(&f->cl, "iommu=pt");
}

static void test_conflict_old_mark_without_file(void **state)
{
	struct fx *f = *state;
	struct pf_mark m2 = { "h.yaml", 3, 1 };

	assert_int_equal(cmdline_add(&f->cl, "iommu=pt", "built-in defaults",
				     NULL, f->d), 0);
	assert_int_equal(cmdline_add(&f->cl, "iommu=off", "hosts[1]", &m2,
				     f->d), -EINVAL);
	assert_diag(f->d, "h.yaml:3:1: error: conflicting values for kernel "
		    "parameter 'iommu': 'off' from hosts[1] and 'pt' from "
		    "built-in defaults\n");
}

static void test_conflict_under_dash_rule(void **state)
{
	struct fx *f = *state;
	struct pf_mark m1 = { "p.yaml", 1, 2 };

	assert_int_equal(cmdline_add(&f->cl, "intel_iommu=on", "a", &m1, f->d),
			 0);
	assert_int_equal(cmdline_add(&f->cl, "intel-iommu=off", "b", NULL,
				     f->d), -EINVAL);
	assert_diag(f->d, "pxeforge: error: conflicting values for kernel "
		    "parameter 'intel_iommu': 'off' from b and 'on' from a "
		    "(p.yaml:1:2)\n");
}

static void test_bare_vs_valued_conflict(void **state)
{
	struct fx *f = *state;
	struct pf_mark m1 = { "p.yaml", 5, 3 }, m2 = { "p.yaml", 6, 3 };

	assert_int_equal(cmdline_add(&f->cl, "nomodeset", "first", &m1, f->d),
			 0);
	assert_int_equal(cmdline_add(&f->cl, "nomodeset=1", "second", &m2,
				     f->d), -EINVAL);
	assert_int_equal(cmdline_add(&f->cl, "splash=", "third", &m1, f->d), 0);
	assert_int_equal(cmdline_add(&f->cl, "splash", "fourth", &m2, f->d),
			 -EINVAL);
	assert_int_equal(diag_errors(f->d), 2);
	assert_diag(f->d,
		    "p.yaml:6:3: error: conflicting values for kernel parameter "
		    "'nomodeset': '1' from second and (no value) from first "
		    "(p.yaml:5:3)\n"
		    "p.yaml:6:3: error: conflicting values for kernel parameter "
		    "'splash': (no value) from fourth and '' from third "
		    "(p.yaml:5:3)\n");
	assert_line(&f->cl, "nomodeset splash=");
}

static void test_whitespace_rejected(void **state)
{
	struct fx *f = *state;
	struct pf_mark m = { "w.yaml", 4, 8 };

	assert_int_equal(cmdline_add(&f->cl, "a b", "s", &m, f->d), -EINVAL);
	assert_int_equal(cmdline_add(&f->cl, "root=\t/dev/sda", "s", &m, f->d),
			 -EINVAL);
	assert_int_equal(cmdline_add(&f->cl, "x=1\ninitrd=evil", "s", &m, f->d),
			 -EINVAL);
	assert_diag(f->d,
		    "w.yaml:4:8: error: kernel parameter 'a b' contains "
		    "whitespace, and iPXE splits arguments at whitespace and "
		    "cannot quote or escape\n"
		    "w.yaml:4:8: error: kernel parameter 'root=?/dev/sda' "
		    "contains whitespace, and iPXE splits arguments at "
		    "whitespace and cannot quote or escape\n"
		    "w.yaml:4:8: error: kernel parameter 'x=1?initrd=evil' "
		    "contains whitespace, and iPXE splits arguments at "
		    "whitespace and cannot quote or escape\n");
	assert_int_equal(f->cl.n, 0);
	assert_non_null(cmdline_token_problem("a\rb"));
	assert_non_null(cmdline_token_problem("a\vb"));
	assert_non_null(cmdline_token_problem("a\fb"));
	assert_non_null(cmdline_token_problem("trailing "));
}

static void test_control_character_rejected(void **state)
{
	struct fx *f = *state;
	struct pf_mark m = { "c.yaml", 2, 5 };

	assert_int_equal(cmdline_add(&f->cl, "a\001b", "s", &m, f->d), -EINVAL);
	assert_int_equal(cmdline_add(&f->cl, "del=\x7f", "s", &m, f->d), -EINVAL);
	assert_diag(f->d,
		    "c.yaml:2:5: error: kernel parameter 'a?b' contains a "
		    "control character\n"
		    "c.yaml:2:5: error: kernel parameter 'del=?' contains a "
		    "control character\n");
	assert_int_equal(f->cl.n, 0);
	assert_non_null(cmdline_token_problem("caf\xc3\xa9=1"));
}

/* The kernel's lib/ctype.c marks exactly these bytes _S. */
static void test_kernel_isspace_table(void **state)
{
	(void)state;
	for (unsigned c = 0; c < 256; c++) {
		bool want = (c >= 9 && c <= 13) || c == 32 || c == 160;

		assert_int_equal(cmdline_kernel_isspace((unsigned char)c), want);
	}
}

static void test_kernel_blank_and_empty_name(void **state)
{
	struct fx *f = *state;
	struct pf_mark m = { "k.yaml", 3, 7 };

	/* One token to iPXE, three to the kernel: it would boot iommu=off. */
	assert_int_equal(cmdline_add(&f->cl, "x\xa0iommu=off\xa0"
				     "modprobe.blacklist=vfio_pci", "s", &m,
				     f->d), -EINVAL);
	assert_int_equal(cmdline_add(&f->cl, "a=\xe2\x80\x8b", "s", &m, f->d),
			 -EINVAL);
	assert_int_equal(cmdline_add(&f->cl, "=", "s", &m, f->d), -EINVAL);
	assert_int_equal(cmdline_add(&f->cl, "=x", "s", &m, f->d), -EINVAL);
	assert_diag(f->d,
		    "k.yaml:3:7: error: kernel parameter 'x\\xa0iommu=off"
		    "\\xa0modprobe.blacklist=vfio_pci' contains byte 0xa0, "
		    "which the Linux kernel reads as a blank (lib/ctype.c) and "
		    "splits at, where pxeforge and iPXE see one word\n"
		    "k.yaml:3:7: error: kernel parameter 'a=\\xe2\\x80\\x8b' "
		    "contains a byte over 0x7f (only ASCII is allowed)\n"
		    "k.yaml:3:7: error: kernel parameter '=' has no name "
		    "before '='\n"
		    "k.yaml:3:7: error: kernel parameter '=x' has no name "
		    "before '='\n");
	assert_int_equal(f->cl.n, 0);
}

static void test_setting_expansion_rejected(void **state)
{
	struct fx *f = *state;

	assert_int_equal(cmdline_add(&f->cl, "ip=${net0/ip}", "s", NULL, f->d),
			 -EINVAL);
	assert_diag(f->d, "pxeforge: error: kernel parameter 'ip=${net0/ip}' "
		    "contains '${', which iPXE expands as a setting\n");
	assert_int_equal(f->cl.n, 0);
}

static void test_leading_hash_rejected(void **state)
{
	struct fx *f = *state;

	assert_int_equal(cmdline_add(&f->cl, "#quiet", "s", NULL, f->d),
			 -EINVAL);
	assert_diag(f->d, "pxeforge: error: kernel parameter '#quiet' starts "
		    "with '#', which iPXE reads as a comment\n");
}

static void test_separators_rejected(void **state)
{
	struct fx *f = *state;

	assert_int_equal(cmdline_add(&f->cl, ";", "s", NULL, f->d), -EINVAL);
	assert_int_equal(cmdline_add(&f->cl, "&&", "s", NULL, f->d), -EINVAL);
	assert_int_equal(cmdline_add(&f->cl, "||", "s", NULL, f->d), -EINVAL);
	assert_int_equal(diag_errors(f->d), 3);
	assert_diag(f->d,
		    "pxeforge: error: kernel parameter ';' is an iPXE command "
		    "separator\n"
		    "pxeforge: error: kernel parameter '&&' is an iPXE command "
		    "separator\n"
		    "pxeforge: error: kernel parameter '||' is an iPXE command "
		    "separator\n");
	assert_int_equal(f->cl.n, 0);
}

static void test_empty_rejected(void **state)
{
	struct fx *f = *state;

	assert_string_equal(cmdline_token_problem(""), "is empty");
	assert_int_equal(cmdline_add(&f->cl, "", "s", NULL, f->d), -EINVAL);
	assert_diag(f->d, "pxeforge: error: kernel parameter '' is empty\n");
}

static void test_problem_order(void **state)
{
	(void)state;
	/* Whitespace is reported before '${' and '#'. */
	assert_string_equal(cmdline_token_problem("#${x} y"),
			    "contains whitespace, and iPXE splits arguments at "
			    "whitespace and cannot quote or escape");
	assert_string_equal(cmdline_token_problem("#${x}"),
			    "contains '${', which iPXE expands as a setting");
}

static void test_lookalikes_accepted(void **state)
{
	struct fx *f = *state;

	assert_null(cmdline_token_problem("ds=nocloud;s=http://x/"));
	assert_null(cmdline_token_problem("a#b"));
	assert_null(cmdline_token_problem("x&&y"));
	assert_null(cmdline_token_problem("$x"));
	ADD_OK(f, "ds=nocloud;s=http://x/", "a#b", "x&&y", "a;", "|");
	assert_line(&f->cl, "ds=nocloud;s=http://x/ a#b x&&y a; |");
	assert_int_equal(diag_errors(f->d), 0);
}

/* A line of exactly `len` bytes: "pad=aaa... quiet". */
static void fill_to(struct fx *f, size_t len)
{
	char tok[4096];
	size_t pad = len - strlen(" quiet") - strlen("pad=");

	memcpy(tok, "pad=", 4);
	memset(tok + 4, 'a', pad);
	tok[4 + pad] = '\0';
	ADD_OK(f, tok, "quiet");
	assert_int_equal(cmdline_length(&f->cl), len);
}

static void test_length_2047_accepted(void **state)
{
	struct fx *f = *state;

	/* "vmlinuz " is 8 bytes, so 2039 of parameters make 2047. */
	fill_to(f, 2039);
	assert_int_equal(cmdline_check_length(&f->cl, "vmlinuz", "gpu01", NULL,
					      f->d), 0);
	assert_int_equal(diag_errors(f->d), 0);
}

static void test_length_2048_rejected(void **state)
{
	struct fx *f = *state;
	struct pf_mark m = { "hosts.yaml", 10, 3 };

	fill_to(f, 2040);
	assert_int_equal(cmdline_check_length(&f->cl, "vmlinuz", "gpu01", &m,
					      f->d), -E2BIG);
	assert_int_equal(diag_errors(f->d), 1);
	assert_diag(f->d, "hosts.yaml:10:3: error: kernel command line of "
		    "host 'gpu01' is 2048 bytes, over the 2047 usable (x86 "
		    "COMMAND_LINE_SIZE 2048 with its NUL; counted with the "
		    "'vmlinuz ' iPXE prepends on UEFI)\n");
}

static void test_length_counts_kernel_name(void **state)
{
	struct fx *f = *state;

	/* Fits with a short name, not with a longer one. */
	fill_to(f, 2040);
	assert_int_equal(cmdline_check_length(&f->cl, "bzI", "h", NULL, f->d),
			 0);
	assert_int_equal(cmdline_check_length(&f->cl, "bzImage", "h", NULL,
					      f->d), -E2BIG);
	assert_int_equal(diag_errors(f->d), 1);
}

static void test_init_kept_verbatim(void **state)
{
	struct fx *f = *state;
	const struct pf_param *p;

	ADD_OK(f, "init=/nix/store/x/init", "systemd.setenv=A=b=c");
	p = cmdline_find(&f->cl, "init");
	assert_non_null(p);
	assert_string_equal(p->key, "init");
	assert_string_equal(p->value, "/nix/store/x/init");
	/* Split at the first '=' only. */
	p = cmdline_find(&f->cl, "systemd.setenv");
	assert_non_null(p);
	assert_string_equal(p->value, "A=b=c");
	assert_line(&f->cl, "init=/nix/store/x/init systemd.setenv=A=b=c");
}

static void test_empty_value_vs_bare(void **state)
{
	struct fx *f = *state;
	const struct pf_param *p;

	ADD_OK(f, "rd.neednet=", "quiet", "console=", "console");
	p = cmdline_find(&f->cl, "rd.neednet");
	assert_non_null(p);
	assert_non_null(p->value);
	assert_string_equal(p->value, "");
	p = cmdline_find(&f->cl, "quiet");
	assert_non_null(p);
	assert_null(p->value);
	/* For a repeatable name "console=" and "console" are different. */
	assert_line(&f->cl, "rd.neednet= quiet console= console");
}

static void test_first_spelling_kept(void **state)
{
	struct fx *f = *state;

	ADD_OK(f, "pci-stub.ids=8086:1234", "pci_stub.ids=8086:1234",
	       "vfio_pci.ids=10de:1db1", "vfio-pci.ids=10de:1db1");
	assert_int_equal(f->cl.n, 2);
	assert_string_equal(f->cl.v[0].key, "pci-stub.ids");
	assert_string_equal(f->cl.v[1].key, "vfio_pci.ids");
	assert_line(&f->cl, "pci-stub.ids=8086:1234 vfio_pci.ids=10de:1db1");
}

static void test_key_equal_and_find(void **state)
{
	struct fx *f = *state;

	assert_true(cmdline_key_equal("vfio_pci.ids=1", "vfio-pci.ids"));
	assert_true(cmdline_key_equal("vfio-pci.ids", "vfio_pci.ids"));
	assert_true(cmdline_key_equal("quiet", "quiet"));
	assert_false(cmdline_key_equal("quiet=1", "quie"));
	assert_false(cmdline_key_equal("vfio_pci.idsx=1", "vfio_pci.ids"));
	assert_false(cmdline_key_equal("Quiet", "quiet"));
	ADD_OK(f, "amd_iommu=on");
	assert_non_null(cmdline_find(&f->cl, "amd-iommu"));
	assert_ptr_equal(cmdline_find(&f->cl, "amd-iommu"), &f->cl.v[0]);
	assert_null(cmdline_find(&f->cl, "amd_iommu_intr"));
	assert_null(cmdline_find(&f->cl, "amd"));
}

static void test_empty_line_and_reuse(void **state)
{
	struct fx *f = *state;
	char *line = NULL;

	assert_int_equal(cmdline_length(&f->cl), 0);
	assert_int_equal(cmdline_format(&f->cl, &line), 0);
	assert_non_null(line);
	assert_string_equal(line, "");
	free(line);
	cmdline_release(NULL);
	ADD_OK(f, "quiet", "iommu=pt");
	cmdline_release(&f->cl);
	assert_int_equal(f->cl.n, 0);
	assert_null(f->cl.v);
	/* Reusable after release; old values are forgotten. */
	ADD_OK(f, "iommu=off");
	assert_line(&f->cl, "iommu=off");
}

static void test_control_chars_in_conflict_message(void **state)
{
	struct fx *f = *state;

	/* A terminal escape never reaches stderr raw: the token is refused
	 * before it could meet a conflict, and its message masks the bytes. */
	ADD_OK(f, "label=a");
	assert_int_equal(cmdline_add(&f->cl, "label=b\x1b[2J", "s", NULL,
				     f->d), -EINVAL);
	assert_diag(f->d, "pxeforge: error: kernel parameter 'label=b?[2J' "
		    "contains a control character\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_vfio_ids_merge_spellings),
		T(test_vfio_ids_merge_keeps_first_source),
		T(test_modprobe_blacklist_dedupe),
		T(test_rd_driver_pre_dedupe),
		T(test_list_single_occurrence_cleaned),
		T(test_list_bare_then_valued),
		T(test_console_repeated_in_order),
		T(test_console_exact_duplicate_dropped),
		T(test_initrd_and_ip_repeated),
		T(test_single_duplicate_dropped),
		T(test_conflict_message),
		T(test_conflict_old_mark_without_file),
		T(test_conflict_under_dash_rule),
		T(test_bare_vs_valued_conflict),
		T(test_whitespace_rejected),
		T(test_control_character_rejected),
		T(test_kernel_isspace_table),
		T(test_kernel_blank_and_empty_name),
		T(test_setting_expansion_rejected),
		T(test_leading_hash_rejected),
		T(test_separators_rejected),
		T(test_empty_rejected),
		T(test_problem_order),
		T(test_lookalikes_accepted),
		T(test_length_2047_accepted),
		T(test_length_2048_rejected),
		T(test_length_counts_kernel_name),
		T(test_init_kept_verbatim),
		T(test_empty_value_vs_bare),
		T(test_first_spelling_kept),
		T(test_key_equal_and_find),
		T(test_empty_line_and_reuse),
		T(test_control_chars_in_conflict_message),
#undef T
	};

	return cmocka_run_group_tests_name("cmdline", tests, NULL, NULL);
}
