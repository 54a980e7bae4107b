/* libvirt domain.xml: read back with libxml2 (XPath) and checked by the
 * real `virt-xml-validate FILE domain` (Debian libvirt-clients). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "tmpdir.h"
#include "vmfixture.h"

extern char **environ;

struct dom {
	char *text;
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
};

static void dom_render(struct dom *d, const struct pf_plan_vm *vm)
{
	struct pf_buf b;

	buf_init(&b);
	assert_int_equal(libvirt_domain_render(vm, &b), 0);
	d->text = buf_detach(&b);
	d->doc = xmlReadMemory(d->text, (int)strlen(d->text), "domain.xml",
			       NULL, XML_PARSE_NONET);
	assert_non_null(d->doc);
	d->ctx = xmlXPathNewContext(d->doc);
	assert_non_null(d->ctx);
}

static void dom_free(struct dom *d)
{
	xmlXPathFreeContext(d->ctx);
	xmlFreeDoc(d->doc);
	free(d->text);
}

static double num(struct dom *d, const char *xpath)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST xpath, d->ctx);
	double v;

	assert_non_null(o);
	v = xmlXPathCastToNumber(o);
	xmlXPathFreeObject(o);
	return v;
}

static int count(struct dom *d, const char *xpath)
{
	char expr[512];

	snprintf(expr, sizeof(expr), "count(%s)", xpath);
	return (int)num(d, expr);
}

/* The string value of xpath, compared with want. */
static void str_is(struct dom *d, const char *xpath, const char *want)
{
	xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST xpath, d->ctx);
	xmlChar *s;

	assert_non_null(o);
	s = xmlXPathCastToString(o);
	assert_non_null(s);
	assert_string_equal((const char *)s, want);
	xmlFree(s);
	xmlXPathFreeObject(o);
}

/* Writes text to dir/file and runs virt-xml-validate on it; its exit
 * status, its output printed when it is not 0. */
static int validate(const char *dir, const char *file, const char *text)
{
	char *path = join(dir, file), *log = join(dir, "validate.log");
	char *argv[] = { "virt-xml-validate", path, "domain", NULL };
	posix_spawn_file_actions_t fa;
	int status = -1;
	pid_t pid;
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(posix_spawn_file_actions_init(&fa), 0);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, log,
					 O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_adddup2(&fa, 1, 2);
	assert_int_equal(posix_spawnp(&pid, "virt-xml-validate", &fa, NULL,
				      argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) != 0) {
		char line[512];

		fp = fopen(log, "r");
		while (fp && fgets(line, sizeof(line), fp))
			print_message("# virt-xml-validate: %s", line);
		if (fp)
			fclose(fp);
	}
	free(path);
	free(log);
	return WEXITSTATUS(status);
}

/* Each hostdev's source address, in order, as "dddd:bb:ss.f". */
static void hostdevs_are(struct dom *d, const char *const *want, int n)
{
	char xp[256], got[32];

	assert_int_equal(count(d, "/domain/devices/hostdev"), n);
	assert_int_equal(count(d, "/domain/devices/hostdev[@mode='subsystem' "
				  "and @type='pci' and @managed='yes']"), n);
	for (int i = 1; i <= n; i++) {
		unsigned v[4];
		const char *attr[] = { "domain", "bus", "slot", "function" };

		for (int k = 0; k < 4; k++) {
			xmlXPathObjectPtr o;
			xmlChar *s;

			snprintf(xp, sizeof(xp),
				 "string(/domain/devices/hostdev[%d]/source/"
				 "address/@%s)", i, attr[k]);
			o = xmlXPathEvalExpression(BAD_CAST xp, d->ctx);
			assert_non_null(o);
			s = xmlXPathCastToString(o);
			assert_int_equal(sscanf((const char *)s, "0x%x", &v[k]), 1);
			xmlFree(s);
			xmlXPathFreeObject(o);
		}
		snprintf(got, sizeof(got), "%04x:%02x:%02x.%x", v[0], v[1],
			 v[2], v[3]);
		assert_string_equal(got, want[i - 1]);
	}
}

static void test_v100x4_uefi(void **state)
{
	static const char *const addrs[] = {
		"0000:1a:00.0", "0000:1b:00.0", "0000:3d:00.0", "0000:3e:00.0"
	};
	struct pf_plan_vm vm;
	struct dom d;

	vmf_v100x4(&vm);
	dom_render(&d, &vm);
	str_is(&d, "string(/domain/@type)", "kvm");
	str_is(&d, "string(/domain/name)", "v100x4");
	str_is(&d, "string(/domain/memory)", "134217728");
	str_is(&d, "string(/domain/memory/@unit)", "KiB");
	str_is(&d, "string(/domain/currentMemory)", "134217728");
	str_is(&d, "string(/domain/vcpu)", "32");
	str_is(&d, "string(/domain/vcpu/@placement)", "static");
	str_is(&d, "string(/domain/os/type/@machine)", "q35");
	str_is(&d, "string(/domain/os/type/@arch)", "x86_64");
	str_is(&d, "string(/domain/os/@firmware)", "efi");
	str_is(&d, "string(/domain/os/firmware/feature[@name='secure-boot']"
		   "/@enabled)", "no");
	str_is(&d, "string(/domain/cpu/@mode)", "host-passthrough");
	str_is(&d, "string(/domain/cpu/topology/@sockets)", "1");
	str_is(&d, "string(/domain/cpu/topology/@cores)", "32");
	assert_int_equal(count(&d, "/domain/memoryBacking/locked"), 1);
	assert_int_equal(count(&d, "/domain/features/acpi"), 1);
	assert_int_equal(count(&d, "/domain/features/apic"), 1);
	assert_int_equal(count(&d, "/domain/features/kvm"), 0);
	assert_int_equal(count(&d, "/domain/cpu/numa"), 0);
	assert_int_equal(count(&d, "/domain/cputune"), 0);
	assert_int_equal(count(&d, "/domain/numatune"), 0);
	assert_int_equal(count(&d, "/domain/devices/emulator"), 0);
	hostdevs_are(&d, addrs, 4);
	assert_int_equal(count(&d, "/domain/devices/disk"), 2);
	str_is(&d, "string(/domain/devices/disk[@device='disk']/source/@file)",
	       "/var/lib/libvirt/images/v100x4.qcow2");
	str_is(&d, "string(/domain/devices/disk[@device='disk']/driver/@type)",
	       "qcow2");
	str_is(&d, "string(/domain/devices/disk[@device='disk']/target/@bus)",
	       "virtio");
	str_is(&d, "string(/domain/devices/disk[@device='cdrom']/source/@file)",
	       "/var/lib/libvirt/images/v100x4-cidata.iso");
	assert_int_equal(count(&d, "/domain/devices/disk[@device='cdrom']"
				   "/readonly"), 1);
	str_is(&d, "string(/domain/devices/interface[@type='network']/source"
		   "/@network)", "default");
	str_is(&d, "string(/domain/devices/interface/model/@type)", "virtio");
	str_is(&d, "string(/domain/devices/console/@type)", "pty");
	assert_int_equal(validate(*state, "v100x4.xml", d.text), 0);
	dom_free(&d);
	vmf_release(&vm);
}

static void test_rtx4070_hidden_bios(void **state)
{
	static const char *const addrs[] = { "0000:01:00.0", "0000:01:00.1" };
	struct pf_plan_vm vm;
	struct dom d;

	vmf_rtx4070(&vm);
	dom_render(&d, &vm);
	hostdevs_are(&d, addrs, 2);
	str_is(&d, "string(/domain/features/kvm/hidden/@state)", "on");
	assert_int_equal(count(&d, "/domain/memoryBacking/locked"), 1);
	/* BIOS: no firmware selection, no loader */
	assert_int_equal(count(&d, "/domain/os/@firmware"), 0);
	assert_int_equal(count(&d, "/domain/os/loader"), 0);
	assert_int_equal(count(&d, "/domain/os/nvram"), 0);
	str_is(&d, "string(/domain/devices/disk/driver/@type)", "raw");
	str_is(&d, "string(/domain/devices/disk/source/@file)",
	       "/srv/vm/rtx4070.raw");
	assert_int_equal(count(&d, "/domain/devices/disk[@device='cdrom']"), 0);
	assert_int_equal(validate(*state, "rtx4070.xml", d.text), 0);
	dom_free(&d);

	/* the same card under UEFI also validates and keeps kvm hidden */
	vm.firmware = PF_FIRMWARE_UEFI;
	dom_render(&d, &vm);
	str_is(&d, "string(/domain/os/@firmware)", "efi");
	str_is(&d, "string(/domain/features/kvm/hidden/@state)", "on");
	assert_int_equal(validate(*state, "rtx4070-uefi.xml", d.text), 0);
	dom_free(&d);
	vmf_release(&vm);
}

static void test_gpu8_numa_pins(void **state)
{
	static const char *const addrs[] = {
		"0000:1a:00.0", "0000:1b:00.0", "0000:1c:00.0", "0000:1d:00.0",
		"0000:3d:00.0", "0000:3e:00.0", "0000:3f:00.0", "0000:40:00.0"
	};
	struct pf_plan_vm vm;
	struct dom d;
	char xp[128], want[16];

	vmf_gpu8(&vm);
	dom_render(&d, &vm);
	hostdevs_are(&d, addrs, 8);
	assert_int_equal(count(&d, "/domain/cpu/numa/cell"), 2);
	str_is(&d, "string(/domain/cpu/numa/cell[1]/@id)", "0");
	str_is(&d, "string(/domain/cpu/numa/cell[1]/@cpus)", "0-7");
	str_is(&d, "string(/domain/cpu/numa/cell[2]/@cpus)", "8-15");
	str_is(&d, "string(/domain/cpu/numa/cell[2]/@memory)", "33554432");
	str_is(&d, "string(/domain/cpu/numa/cell[2]/@unit)", "KiB");
	str_is(&d, "string(/domain/cpu/topology/@sockets)", "2");
	str_is(&d, "string(/domain/cpu/topology/@cores)", "8");
	assert_int_equal(count(&d, "/domain/cputune/vcpupin"), 16);
	for (unsigned v = 0; v < 16; v++) {
		snprintf(xp, sizeof(xp),
			 "string(/domain/cputune/vcpupin[@vcpu='%u']/@cpuset)",
			 v);
		snprintf(want, sizeof(want), "%u", v < 8 ? v : v + 16);
		str_is(&d, xp, want);
	}
	assert_int_equal(count(&d, "/domain/numatune/memnode"), 2);
	str_is(&d, "string(/domain/numatune/memnode[@cellid='1']/@nodeset)",
	       "1");
	str_is(&d, "string(/domain/numatune/memnode[@cellid='0']/@mode)",
	       "strict");
	assert_int_equal(count(&d, "/domain/memoryBacking/locked"), 1);
	/* a containerDisk only: no disk element */
	assert_int_equal(count(&d, "/domain/devices/disk"), 0);
	assert_int_equal(validate(*state, "gpu8.xml", d.text), 0);
	dom_free(&d);

	/* a cell left unbound gets no memnode */
	vm.cells[0].host_node = -1;
	dom_render(&d, &vm);
	assert_int_equal(count(&d, "/domain/numatune/memnode"), 1);
	str_is(&d, "string(/domain/numatune/memnode/@cellid)", "1");
	assert_int_equal(validate(*state, "gpu8-unbound.xml", d.text), 0);
	dom_free(&d);
	vmf_release(&vm);
}

static void test_escaping(void **state)
{
	const char *name = "a&b<c'd\"e>f";
	struct pf_plan_vm vm;
	struct dom d;

	vmf_v100x4(&vm);
	free(vm.name);
	vm.name = vmf_strdup(name);
	free(vm.libvirt_disk_path);
	vm.libvirt_disk_path = vmf_strdup("/srv/it's \"q\" & <co>/disk.qcow2");
	dom_render(&d, &vm);
	/* parsed back to the very bytes */
	str_is(&d, "string(/domain/name)", name);
	str_is(&d, "string(/domain/devices/disk[@device='disk']/source/@file)",
	       "/srv/it's \"q\" & <co>/disk.qcow2");
	str_is(&d, "string(/domain/devices/disk[@device='cdrom']/source/@file)",
	       "/srv/it's \"q\" & <co>/a&b<c'd\"e>f-cidata.iso");
	assert_non_null(strstr(d.text, "<name>a&amp;b&lt;c'd&quot;e&gt;f</name>"));
	assert_null(strstr(d.text, "&b<"));
	assert_int_equal(validate(*state, "escaped.xml", d.text), 0);
	dom_free(&d);
	vmf_release(&vm);
}

/* The validator really checks: a wrong attribute value fails it. */
static void test_validator_rejects(void **state)
{
	struct pf_plan_vm vm;
	struct dom d;
	char *p;

	vmf_v100x4(&vm);
	dom_render(&d, &vm);
	p = strstr(d.text, "managed=\"yes\"");
	assert_non_null(p);
	memcpy(p, "managed=\"yxs\"", 13);
	assert_int_not_equal(validate(*state, "broken.xml", d.text), 0);
	dom_free(&d);
	vmf_release(&vm);
}

static void test_deterministic_and_no_devices(void **state)
{
	struct pf_plan_vm vm;
	struct pf_buf a, b;
	struct dom d;

	vmf_gpu8(&vm);
	buf_init(&a);
	buf_init(&b);
	assert_int_equal(libvirt_domain_render(&vm, &a), 0);
	assert_int_equal(libvirt_domain_render(&vm, &b), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	assert_true(a.len > 0 && a.data[a.len - 1] == '\n');
	buf_release(&a);
	buf_release(&b);

	/* without a VFIO device nothing is locked and a balloon is kept */
	vm.ndevs = 0;
	dom_render(&d, &vm);
	assert_int_equal(count(&d, "/domain/memoryBacking"), 0);
	assert_int_equal(count(&d, "/domain/devices/memballoon"), 0);
	assert_int_equal(count(&d, "/domain/cpu/maxphysaddr"), 0);
	assert_int_equal(validate(*state, "nodev.xml", d.text), 0);
	dom_free(&d);
	vmf_release(&vm);
}

static void test_invalid(void **state)
{
	struct pf_plan_vm vm;
	struct pf_buf b;
	struct dom d;

	vmf_rtx4070(&vm);
	buf_init(&b);
	assert_int_equal(buf_puts(&b, "keep"), 0);
	vm.firmware = PF_FIRMWARE_UNSET;
	assert_int_equal(libvirt_domain_render(&vm, &b), -EINVAL);
	vm.firmware = PF_FIRMWARE_BIOS;
	vm.vcpus = 0;
	assert_int_equal(libvirt_domain_render(&vm, &b), -EINVAL);
	vm.vcpus = 8;
	free(vm.name);
	vm.name = NULL;
	assert_int_equal(libvirt_domain_render(&vm, &b), -EINVAL);
	assert_int_equal(libvirt_domain_render(NULL, &b), -EINVAL);
	/* bytes XML cannot carry: not UTF-8, a control character */
	vm.name = vmf_strdup("bad\xff");
	assert_int_equal(libvirt_domain_render(&vm, &b), -EINVAL);
	free(vm.name);
	vm.name = vmf_strdup("rtx4070");
	free(vm.libvirt_disk_path);
	vm.libvirt_disk_path = vmf_strdup("/srv/a\001b.raw");
	assert_int_equal(libvirt_domain_render(&vm, &b), -EINVAL);
	assert_string_equal(b.data, "keep");
	/* UTF-8 and tab, newline are fine */
	free(vm.libvirt_disk_path);
	vm.libvirt_disk_path = vmf_strdup("/srv/gr\xc3\xbc\xc3\x9f" "e\t\n.raw");
	buf_release(&b);
	dom_render(&d, &vm);
	str_is(&d, "string(/domain/devices/disk/source/@file)",
	       "/srv/gr\xc3\xbc\xc3\x9f" "e\t\n.raw");
	dom_free(&d);
	vmf_release(&vm);
}

/* The guest topology the plan decides: a socket per NUMA cell when the
 * vCPUs divide evenly, else one; each cell's vCPUs counted. */
static void test_guest_topology(void **state)
{
	struct pf_plan_vm vm;

	vmf_gpu8(&vm);
	assert_int_equal(vm.sockets, 2);
	assert_int_equal(vm.cores_per_socket, 8);
	assert_int_equal(vm.cells[0].vcpus, 8);
	assert_int_equal(vm.cells[1].vcpus, 8);
	/* three cells cannot split 16 vCPUs: one socket of 16 */
	free(vm.cells[1].cpus);
	vm.cells[1].cpus = vmf_strdup("8-11,13-14");
	vmf_cell(&vm, "12,15", 0, -1);
	vmf_plan(&vm);
	assert_int_equal(vm.sockets, 1);
	assert_int_equal(vm.cores_per_socket, 16);
	assert_int_equal(vm.cells[1].vcpus, 6);
	assert_int_equal(vm.cells[2].vcpus, 2);
	vmf_release(&vm);
	/* no cells: one socket */
	vmf_v100x4(&vm);
	assert_int_equal(vm.sockets, 1);
	assert_int_equal(vm.cores_per_socket, 32);
	vmf_release(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_v100x4_uefi, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_rtx4070_hidden_bios,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(test_gpu8_numa_pins, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_escaping, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_guest_topology, setup_tmp,
						teardown_tmp),
		cmocka_unit_test_setup_teardown(test_validator_rejects,
						setup_tmp, teardown_tmp),
		cmocka_unit_test_setup_teardown(
			test_deterministic_and_no_devices, setup_tmp,
			teardown_tmp),
		cmocka_unit_test(test_invalid),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	xmlCleanupParser();
	return rc;
}
