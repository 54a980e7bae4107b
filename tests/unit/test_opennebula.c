/* OpenNebula template: golden text for the three hand-built VMs, and the
 * value escaping checked against OpenNebula's own unescape rule. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>

#include "vmfixture.h"

#define HEADER "# OpenNebula VM template written by pxeforge: " \
	       "onetemplate create opennebula.tmpl\n"
#define OS_CPU(fw)                                                      \
	"OS = [\n  ARCH = \"x86_64\",\n  FIRMWARE = \"" fw "\",\n"      \
	"  MACHINE = \"q35\" ]\n"                                       \
	"CPU_MODEL = [\n  MODEL = \"host-passthrough\" ]\n"
#define FEATURES "FEATURES = [\n  ACPI = \"yes\",\n  APIC = \"yes\" ]\n"
#define PCI(a) "PCI = [\n  SHORT_ADDRESS = \"" a "\" ]\n"

static const char v100x4_tmpl[] =
	HEADER
	"NAME = \"v100x4\"\n"
	"CPU = \"32\"\n"
	"VCPU = \"32\"\n"
	"MEMORY = \"131072\"\n"
	OS_CPU("UEFI")
	"TOPOLOGY = [\n  PIN_POLICY = \"NONE\",\n  SOCKETS = \"1\",\n"
	"  CORES = \"32\",\n  THREADS = \"1\" ]\n"
	FEATURES
	PCI("1a:00.0") PCI("1b:00.0") PCI("3d:00.0") PCI("3e:00.0");

static const char rtx4070_tmpl[] =
	HEADER
	"NAME = \"rtx4070\"\n"
	"CPU = \"8\"\n"
	"VCPU = \"8\"\n"
	"MEMORY = \"16384\"\n"
	OS_CPU("BIOS")
	"TOPOLOGY = [\n  PIN_POLICY = \"NONE\",\n  SOCKETS = \"1\",\n"
	"  CORES = \"8\",\n  THREADS = \"1\" ]\n"
	FEATURES
	"# consumer GPU: KVM hidden from the guest's driver\n"
	"RAW = [\n  TYPE = \"kvm\",\n"
	"  DATA = \"<features><kvm><hidden state='on'/></kvm></features>\" ]\n"
	PCI("01:00.0") PCI("01:00.1");

static const char gpu8_tmpl[] =
	HEADER
	"NAME = \"gpu8\"\n"
	"CPU = \"16\"\n"
	"VCPU = \"16\"\n"
	"MEMORY = \"65536\"\n"
	OS_CPU("UEFI")
	"TOPOLOGY = [\n  PIN_POLICY = \"THREAD\",\n  SOCKETS = \"2\",\n"
	"  CORES = \"8\",\n  THREADS = \"1\" ]\n"
	"NUMA_NODE = [\n  TOTAL_CPUS = \"8\",\n  MEMORY = \"32768\" ]\n"
	"NUMA_NODE = [\n  TOTAL_CPUS = \"8\",\n  MEMORY = \"32768\" ]\n"
	FEATURES
	PCI("1a:00.0") PCI("1b:00.0") PCI("1c:00.0") PCI("1d:00.0")
	PCI("3d:00.0") PCI("3e:00.0") PCI("3f:00.0") PCI("40:00.0");

static void render_is(const struct pf_plan_vm *vm, const char *want)
{
	struct pf_buf b;

	buf_init(&b);
	assert_int_equal(opennebula_render(vm, &b), 0);
	assert_non_null(b.data);
	assert_string_equal(b.data, want);
	buf_release(&b);
}

static void test_v100x4(void **state)
{
	struct pf_plan_vm vm;

	vmf_v100x4(&vm);
	render_is(&vm, v100x4_tmpl);
	vmf_release(&vm);
}

static void test_rtx4070_hidden(void **state)
{
	struct pf_plan_vm vm;

	vmf_rtx4070(&vm);
	render_is(&vm, rtx4070_tmpl);
	vmf_release(&vm);
}

static void test_gpu8_numa(void **state)
{
	struct pf_plan_vm vm;

	vmf_gpu8(&vm);
	render_is(&vm, gpu8_tmpl);
	vmf_release(&vm);
}

/* What OpenNebula makes of the NAME line: the quoted text as its lexer
 * takes it (non-'"' bytes or the pair \"), then its unescape (each \"
 * becomes '"', src/parsers/template_syntax.y). NULL when the line is not
 * one quoted value. */
static char *one_parse_name(const char *tmpl)
{
	const char *p = strstr(tmpl, "\nNAME = \"");
	char *v, *q;
	size_t pos = 0;

	assert_non_null(p);
	p += strlen("\nNAME = \"");
	v = calloc(strlen(p) + 1, 1);
	assert_non_null(v);
	for (q = v; *p && *p != '"'; p++) {
		if (p[0] == '\\' && p[1] == '"')
			*q++ = *p++;
		*q++ = *p;
	}
	if (*p != '"' || p[1] != '\n') {
		free(v);
		return NULL;
	}
	while ((q = strstr(v + pos, "\\\""))) {
		pos = (size_t)(q - v);
		memmove(q, q + 1, strlen(q + 1) + 1);
	}
	return v;
}

static void test_escaping(void **state)
{
	static const char *const names[] = {
		"say \"hi\"", "back\\slash", "\\\"pre-escaped\\\"",
		"\"", "a\\\\\"b", "new\nline # not a comment, [x] = y",
	};
	struct pf_plan_vm vm;
	struct pf_buf b;

	vmf_rtx4070(&vm);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		char *got;

		free(vm.name);
		vm.name = vmf_strdup(names[i]);
		buf_init(&b);
		assert_int_equal(opennebula_render(&vm, &b), 0);
		got = one_parse_name(b.data);
		assert_non_null(got);
		assert_string_equal(got, names[i]);
		free(got);
		buf_release(&b);
	}
	/* the exact bytes for one */
	free(vm.name);
	vm.name = vmf_strdup("say \"hi\" \\ ok");
	buf_init(&b);
	assert_int_equal(opennebula_render(&vm, &b), 0);
	assert_non_null(strstr(b.data, "\nNAME = \"say \\\"hi\\\" \\ ok\"\n"));
	buf_release(&b);
	vmf_release(&vm);
}

static void test_invalid(void **state)
{
	struct pf_plan_vm vm;
	struct pf_buf b;

	vmf_gpu8(&vm);
	buf_init(&b);
	assert_int_equal(buf_puts(&b, "keep"), 0);
	/* values OpenNebula's lexer cannot read back */
	free(vm.name);
	vm.name = vmf_strdup("ends\\");
	assert_int_equal(opennebula_render(&vm, &b), -EINVAL);
	free(vm.name);
	vm.name = vmf_strdup("x]]>y");
	assert_int_equal(opennebula_render(&vm, &b), -EINVAL);
	free(vm.name);
	vm.name = vmf_strdup("gpu8");
	/* SHORT_ADDRESS has no PCI domain: by ids instead */
	vm.devs[3].domain = 1;
	b.len = 0;
	assert_int_equal(opennebula_render(&vm, &b), 0);
	assert_non_null(strstr(b.data, "SHORT_ADDRESS has no PCI domain, matched by VENDOR and DEVICE\nPCI = [\n  VENDOR = \"10de\",\n  DEVICE = \""));
	vm.devs[3].domain = 0;
	b.len = 0;
	assert_int_equal(buf_puts(&b, "keep"), 0);
	/* a cell's CPUs are counted by the plan: a cpuset validate rejects
	 * is refused there, and a topology never planned here */
	free(vm.cells[1].cpus);
	vm.cells[1].cpus = vmf_strdup("8-");
	assert_int_equal(plan_guest_topology(&vm), -EINVAL);
	vm.sockets = 0;
	assert_int_equal(opennebula_render(&vm, &b), -EINVAL);
	free(vm.cells[1].cpus);
	vm.cells[1].cpus = vmf_strdup("8-11,12,13-15");
	vmf_plan(&vm);
	vm.firmware = PF_FIRMWARE_UNSET;
	assert_int_equal(opennebula_render(&vm, &b), -EINVAL);
	assert_int_equal(opennebula_render(NULL, &b), -EINVAL);
	assert_string_equal(b.data, "keep");
	/* a cpuset list counts every CPU: same template as "8-15" */
	vm.firmware = PF_FIRMWARE_UEFI;
	buf_release(&b);
	render_is(&vm, gpu8_tmpl);
	vmf_release(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_v100x4),
		cmocka_unit_test(test_rtx4070_hidden),
		cmocka_unit_test(test_gpu8_numa),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_invalid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
