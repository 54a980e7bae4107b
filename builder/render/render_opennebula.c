/* OUT/vms/<vm>/opennebula.tmpl: the VM as an OpenNebula template
 * (`onetemplate create opennebula.tmpl`). Attributes in a fixed order,
 * every value a double-quoted string. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/render/render_vm.h"

#include "render_vm_ready.h"

/* OpenNebula's template lexer (src/parsers/template_parser.l) takes a
 * quoted value as any run of non-'"' bytes or the pair \" and its parser
 * turns each \" back into '"'; nothing else is an escape. So only '"' is
 * escaped. Two values cannot be written at all: one ending in '\' (its
 * closing quote would read as \") and one holding "]]>" (the lexer's
 * CDATA rule aborts the parse): -EINVAL. */
static int one_string_append(struct pf_buf *out, const char *s)
{
	size_t n = strlen(s);
	int rc;

	if ((n && s[n - 1] == '\\') || strstr(s, "]]>"))
		return -EINVAL;
	rc = buf_puts(out, "\"");
	for (const char *p = s; !rc && *p; p++)
		rc = *p == '"' ? buf_puts(out, "\\\"") : buf_append(out, p, 1);
	return rc ? rc : buf_puts(out, "\"");
}

/* NAME = "value"\n */
static int single(struct pf_buf *out, const char *name, const char *value)
{
	int rc = buf_printf(out, "%s = ", name);

	if (!rc)
		rc = one_string_append(out, value);
	return rc ? rc : buf_puts(out, "\n");
}

/* NAME = [\n  K1 = "v1",\n  K2 = "v2" ]\n from NULL-terminated pairs. */
static int vector(struct pf_buf *out, const char *name,
		  const char *const *kv)
{
	int rc = buf_printf(out, "%s = [", name);

	for (size_t i = 0; !rc && kv[i]; i += 2) {
		rc = buf_printf(out, "%s\n  %s = ", i ? "," : "", kv[i]);
		if (!rc)
			rc = one_string_append(out, kv[i + 1]);
	}
	return rc ? rc : buf_puts(out, " ]\n");
}

static unsigned long long mib(uint64_t bytes)
{
	return (unsigned long long)((bytes + (1u << 20) - 1) >> 20);
}

static int write_topology(struct pf_buf *out, const struct pf_plan_vm *vm)
{
	char sockets[16], cores[16];
	/* Explicit pins map one vCPU to one host logical CPU: THREAD is
	 * OpenNebula's policy for that (CORE would reserve whole SMT cores,
	 * twice the host CPUs). It picks the CPUs itself; the exact pins are
	 * libvirt-only. Without pins: no pinning. */
	const char *kv[] = {
		"PIN_POLICY", vm->npins ? "THREAD" : "NONE",
		"SOCKETS", sockets, "CORES", cores, "THREADS", "1", NULL
	};

	snprintf(sockets, sizeof(sockets), "%u", vm->sockets);
	snprintf(cores, sizeof(cores), "%u", vm->cores_per_socket);
	return vector(out, "TOPOLOGY", kv);
}

static int write_numa(struct pf_buf *out, const struct pf_plan_vm *vm)
{
	int rc = 0;

	/* One NUMA_NODE per guest cell (OpenNebula's asymmetric topology);
	 * host placement is the scheduler's. */
	for (size_t i = 0; !rc && i < vm->ncells; i++) {
		const struct pf_vm_cell *c = &vm->cells[i];
		char cpus[24], mem[24];
		const char *kv[] = { "TOTAL_CPUS", cpus, "MEMORY", mem, NULL };

		if (!c->vcpus)
			return -EINVAL;	/* not planned */
		snprintf(cpus, sizeof(cpus), "%u", c->vcpus);
		snprintf(mem, sizeof(mem), "%llu", mib(c->memory_bytes));
		rc = vector(out, "NUMA_NODE", kv);
	}
	return rc;
}

static int write_pci(struct pf_buf *out, const struct pf_plan_vm *vm)
{
	int rc = 0;

	for (size_t i = 0; !rc && i < vm->ndevs; i++) {
		const struct pf_vm_pcidev *d = &vm->devs[i];
		char addr[16], vendor[8], device[8];
		const char *kv[] = { "SHORT_ADDRESS", addr, NULL };
		const char *ids[] = { "VENDOR", vendor, "DEVICE", device, NULL };

		if (d->bus > 0xff || d->dev > 0x1f || d->fn > 7)
			return -EINVAL;
		/* SHORT_ADDRESS has no PCI domain: outside domain 0000 the
		 * device is asked for by its ids, any such device of the host */
		if (d->domain != 0) {
			snprintf(vendor, sizeof(vendor), "%04x", d->vendor);
			snprintf(device, sizeof(device), "%04x", d->device);
			rc = buf_printf(out, "# %s: SHORT_ADDRESS has no PCI domain, matched by VENDOR and DEVICE\n",
					d->address);
			if (!rc)
				rc = vector(out, "PCI", ids);
			continue;
		}
		snprintf(addr, sizeof(addr), "%02x:%02x.%x", d->bus, d->dev,
			 d->fn);
		rc = vector(out, "PCI", kv);
	}
	return rc;
}

int opennebula_render(const struct pf_plan_vm *vm, struct pf_buf *out)
{
	struct pf_buf b;
	char num[24];
	const char *os[] = {
		"ARCH", "x86_64",
		"FIRMWARE", vm && vm->firmware == PF_FIRMWARE_UEFI ? "UEFI" : "BIOS",
		"MACHINE", "q35", NULL
	};
	const char *cpu_model[] = { "MODEL", "host-passthrough", NULL };
	const char *features[] = { "ACPI", "yes", "APIC", "yes", NULL };
	/* OpenNebula has no FEATURES switch for KVM's hidden state; RAW data
	 * goes into the domain XML as is, and libvirt reads every
	 * <features> element. */
	const char *raw[] = {
		"TYPE", "kvm",
		"DATA", "<features><kvm><hidden state='on'/></kvm></features>",
		NULL
	};
	int rc;

	if (!render_vm_ready(vm))
		return -EINVAL;
	buf_init(&b);
	rc = buf_puts(&b, "# OpenNebula VM template written by pxeforge: "
			  "onetemplate create opennebula.tmpl\n");
	if (!rc)
		rc = single(&b, "NAME", vm->name);
	snprintf(num, sizeof(num), "%u", vm->vcpus);
	if (!rc)
		rc = single(&b, "CPU", num);
	if (!rc)
		rc = single(&b, "VCPU", num);
	snprintf(num, sizeof(num), "%llu", mib(vm->memory_bytes));
	if (!rc)
		rc = single(&b, "MEMORY", num);
	if (!rc)
		rc = vector(&b, "OS", os);
	if (!rc)
		rc = vector(&b, "CPU_MODEL", cpu_model);
	if (!rc)
		rc = write_topology(&b, vm);
	if (!rc)
		rc = write_numa(&b, vm);
	if (!rc)
		rc = vector(&b, "FEATURES", features);
	if (!rc && vm->hide_hypervisor)
		rc = buf_puts(&b, "# consumer GPU: KVM hidden from the guest's "
				  "driver\n");
	if (!rc && vm->hide_hypervisor)
		rc = vector(&b, "RAW", raw);
	if (!rc)
		rc = write_pci(&b, vm);
	if (!rc)
		rc = buf_append(out, b.data, b.len);
	buf_release(&b);
	return rc;
}
