/* OUT/vms/<vm>/domain.xml: a libvirt KVM domain for a GPU VM, written with
 * libxml2's xmlTextWriter so every name, path and value is escaped. */
#include <errno.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>

#include "pxeforge/render/render_vm.h"

#include "render_vm_ready.h"

/* The writer with a sticky error: after the first failure every call is a
 * no-op, so the document is built straight through and checked once. */
struct xw {
	xmlTextWriterPtr w;
	int err;
};

static void xw_check(struct xw *x, int rc)
{
	if (rc < 0 && !x->err)
		x->err = -ENOMEM;
}

/* The writer escapes markup but passes any bytes through: text that is not
 * UTF-8, or holds a control character XML 1.0 forbids, is refused. */
static bool xml_ok(const char *s)
{
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			return false;
	return xmlCheckUTF8((const unsigned char *)s) == 1;
}

static void start(struct xw *x, const char *name)
{
	if (!x->err)
		xw_check(x, xmlTextWriterStartElement(x->w, BAD_CAST name));
}

static void end(struct xw *x)
{
	if (!x->err)
		xw_check(x, xmlTextWriterEndElement(x->w));
}

static void attr(struct xw *x, const char *name, const char *value)
{
	if (!x->err && !xml_ok(value))
		x->err = -EINVAL;
	if (!x->err)
		xw_check(x, xmlTextWriterWriteAttribute(x->w, BAD_CAST name,
							BAD_CAST value));
}

static void attrf(struct xw *x, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void attrf(struct xw *x, const char *name, const char *fmt, ...)
{
	char v[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	attr(x, name, v);
}

static void text(struct xw *x, const char *s)
{
	if (!x->err && !xml_ok(s))
		x->err = -EINVAL;
	if (!x->err)
		xw_check(x, xmlTextWriterWriteString(x->w, BAD_CAST s));
}

static void textf(struct xw *x, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void textf(struct xw *x, const char *fmt, ...)
{
	char v[64];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v, sizeof(v), fmt, ap);
	va_end(ap);
	text(x, v);
}

/* <name>text</name> */
static void text_el(struct xw *x, const char *name, const char *s)
{
	start(x, name);
	text(x, s);
	end(x);
}

/* <name a1='v1'/>, attributes as NULL-terminated name, value pairs. */
static void empty_el(struct xw *x, const char *name, ...)
{
	const char *k, *v;
	va_list ap;

	start(x, name);
	va_start(ap, name);
	while ((k = va_arg(ap, const char *))) {
		v = va_arg(ap, const char *);
		attr(x, k, v);
	}
	va_end(ap);
	end(x);
}

static void comment(struct xw *x, const char *s)
{
	if (!x->err)
		xw_check(x, xmlTextWriterWriteComment(x->w, BAD_CAST s));
}

static unsigned long long kib(uint64_t bytes)
{
	return (unsigned long long)((bytes + 1023) / 1024);
}

static void write_os(struct xw *x, const struct pf_plan_vm *vm)
{
	start(x, "os");
	/* UEFI through libvirt's firmware autoselection: the OVMF path
	 * differs between distributions (Debian, Fedora, NixOS) and libvirt
	 * then also creates the per-VM NVRAM from the matching template.
	 * Secure boot off: out-of-tree GPU drivers are usually unsigned. */
	if (vm->firmware == PF_FIRMWARE_UEFI)
		attr(x, "firmware", "efi");
	start(x, "type");
	attr(x, "arch", "x86_64");
	attr(x, "machine", "q35");
	text(x, "hvm");
	end(x);
	if (vm->firmware == PF_FIRMWARE_UEFI) {
		start(x, "firmware");
		empty_el(x, "feature", "enabled", "no", "name", "secure-boot",
			 NULL);
		end(x);
	}
	empty_el(x, "boot", "dev", "hd", NULL);
	end(x);
}

static void write_features(struct xw *x, const struct pf_plan_vm *vm)
{
	start(x, "features");
	empty_el(x, "acpi", NULL);
	empty_el(x, "apic", NULL);
	/* Consumer GeForce drivers before R465 refuse to start (Code 43)
	 * when they see the KVM signature. */
	if (vm->hide_hypervisor) {
		start(x, "kvm");
		empty_el(x, "hidden", "state", "on", NULL);
		end(x);
	}
	end(x);
}

static void write_cpu(struct xw *x, const struct pf_plan_vm *vm)
{
	start(x, "cpu");
	attr(x, "mode", "host-passthrough");
	attr(x, "check", "none");
	start(x, "topology");
	attrf(x, "sockets", "%u", vm->sockets);
	attr(x, "dies", "1");
	attrf(x, "cores", "%u", vm->cores_per_socket);
	attr(x, "threads", "1");
	end(x);
	/* GPU BARs (16-80 GiB each) need the host's physical address width
	 * in the guest, or the firmware cannot map them all. */
	if (vm->ndevs)
		empty_el(x, "maxphysaddr", "mode", "passthrough", NULL);
	if (vm->ncells) {
		start(x, "numa");
		for (size_t i = 0; i < vm->ncells; i++) {
			const struct pf_vm_cell *c = &vm->cells[i];

			start(x, "cell");
			attrf(x, "id", "%u", c->id);
			attr(x, "cpus", c->cpus);
			attrf(x, "memory", "%llu", kib(c->memory_bytes));
			attr(x, "unit", "KiB");
			end(x);
		}
		end(x);
	}
	end(x);
}

/* cputune and numatune */
static void write_tuning(struct xw *x, const struct pf_plan_vm *vm)
{
	bool bound = false;

	if (vm->npins) {
		start(x, "cputune");
		for (size_t i = 0; i < vm->npins; i++) {
			start(x, "vcpupin");
			attrf(x, "vcpu", "%u", vm->pins[i].vcpu);
			attrf(x, "cpuset", "%u", vm->pins[i].host_cpu);
			end(x);
		}
		end(x);
	}
	for (size_t i = 0; i < vm->ncells; i++)
		bound = bound || vm->cells[i].host_node >= 0;
	if (bound) {
		start(x, "numatune");
		for (size_t i = 0; i < vm->ncells; i++) {
			if (vm->cells[i].host_node < 0)
				continue;
			start(x, "memnode");
			attrf(x, "cellid", "%u", vm->cells[i].id);
			attr(x, "mode", "strict");
			attrf(x, "nodeset", "%d", vm->cells[i].host_node);
			end(x);
		}
		end(x);
	}
}

/* dirname(disk)/<vm>-cidata.iso, or the libvirt image pool without a disk. */
static char *cidata_path(const struct pf_plan_vm *vm)
{
	const char *disk = vm->libvirt_disk_path;
	const char *slash = disk ? strrchr(disk, '/') : NULL;
	struct pf_buf b;

	buf_init(&b);
	if (slash && buf_append(&b, disk, (size_t)(slash - disk + 1)))
		goto fail;
	if (!slash && buf_puts(&b, "/var/lib/libvirt/images/"))
		goto fail;
	if (buf_printf(&b, "%s-cidata.iso", vm->name))
		goto fail;
	return buf_detach(&b);
fail:
	buf_release(&b);
	return NULL;
}

static void write_hostdev(struct xw *x, const struct pf_vm_pcidev *d)
{
	start(x, "hostdev");
	attr(x, "mode", "subsystem");
	attr(x, "type", "pci");
	attr(x, "managed", "yes");
	start(x, "source");
	start(x, "address");
	attrf(x, "domain", "0x%04x", d->domain);
	attrf(x, "bus", "0x%02x", d->bus);
	attrf(x, "slot", "0x%02x", d->dev);
	attrf(x, "function", "0x%x", d->fn);
	end(x);
	end(x);
	end(x);
}

static void write_devices(struct xw *x, const struct pf_plan_vm *vm)
{
	char *iso = NULL;

	start(x, "devices");
	if (vm->libvirt_disk_path) {
		start(x, "disk");
		attr(x, "type", "file");
		attr(x, "device", "disk");
		empty_el(x, "driver", "name", "qemu", "type",
			 vm->disk_format == PF_DISK_RAW ? "raw" : "qcow2", NULL);
		empty_el(x, "source", "file", vm->libvirt_disk_path, NULL);
		empty_el(x, "target", "dev", "vda", "bus", "virtio", NULL);
		end(x);
	}
	if (vm->cloudinit.enabled) {
		iso = cidata_path(vm);
		if (!iso) {
			if (!x->err)
				x->err = -ENOMEM;
			return;
		}
		comment(x, " cloud-init NoCloud seed: <vm>-cidata.iso next to "
			   "the disk image (label cidata) ");
		start(x, "disk");
		attr(x, "type", "file");
		attr(x, "device", "cdrom");
		empty_el(x, "driver", "name", "qemu", "type", "raw", NULL);
		empty_el(x, "source", "file", iso, NULL);
		/* q35 has no IDE; SATA (AHCI) is built in */
		empty_el(x, "target", "dev", "sda", "bus", "sata", NULL);
		empty_el(x, "readonly", NULL);
		end(x);
		free(iso);
	}
	for (size_t i = 0; i < vm->ndevs; i++)
		write_hostdev(x, &vm->devs[i]);
	start(x, "interface");
	attr(x, "type", "network");
	empty_el(x, "source", "network", "default", NULL);
	empty_el(x, "model", "type", "virtio", NULL);
	end(x);
	start(x, "serial");
	attr(x, "type", "pty");
	empty_el(x, "target", "port", "0", NULL);
	end(x);
	start(x, "console");
	attr(x, "type", "pty");
	empty_el(x, "target", "type", "serial", "port", "0", NULL);
	end(x);
	/* memory is pinned for VFIO: a balloon could not give any back */
	if (vm->ndevs)
		empty_el(x, "memballoon", "model", "none", NULL);
	end(x);
}

int libvirt_domain_render(const struct pf_plan_vm *vm, struct pf_buf *out)
{
	xmlBufferPtr xbuf = NULL;
	struct xw x = { NULL, 0 };
	unsigned long long mem;
	int rc;

	if (!render_vm_ready(vm))
		return -EINVAL;
	for (size_t i = 0; i < vm->ncells; i++)
		if (!vm->cells[i].cpus || !*vm->cells[i].cpus)
			return -EINVAL;
	mem = kib(vm->memory_bytes);

	xbuf = xmlBufferCreate();
	if (!xbuf)
		return -ENOMEM;
	x.w = xmlNewTextWriterMemory(xbuf, 0);
	if (!x.w) {
		rc = -ENOMEM;
		goto out;
	}
	xw_check(&x, xmlTextWriterSetIndent(x.w, 1));
	xw_check(&x, xmlTextWriterSetIndentString(x.w, BAD_CAST "  "));

	start(&x, "domain");
	attr(&x, "type", "kvm");
	text_el(&x, "name", vm->name);
	start(&x, "memory");
	attr(&x, "unit", "KiB");
	textf(&x, "%llu", mem);
	end(&x);
	start(&x, "currentMemory");
	attr(&x, "unit", "KiB");
	textf(&x, "%llu", mem);
	end(&x);
	/* VFIO maps all guest memory for DMA, so it is pinned anyway; locked
	 * makes libvirt raise the memlock limit to match. */
	if (vm->ndevs) {
		start(&x, "memoryBacking");
		empty_el(&x, "locked", NULL);
		end(&x);
	}
	start(&x, "vcpu");
	attr(&x, "placement", "static");
	textf(&x, "%u", vm->vcpus);
	end(&x);
	write_tuning(&x, vm);
	write_os(&x, vm);
	write_features(&x, vm);
	write_cpu(&x, vm);
	empty_el(&x, "clock", "offset", "utc", NULL);
	text_el(&x, "on_poweroff", "destroy");
	text_el(&x, "on_reboot", "restart");
	text_el(&x, "on_crash", "destroy");
	write_devices(&x, vm);
	end(&x);
	if (!x.err)
		xw_check(&x, xmlTextWriterEndDocument(x.w));
	rc = x.err;
	/* the writer flushes into xbuf when freed */
	xmlFreeTextWriter(x.w);
	x.w = NULL;
	if (!rc)
		rc = buf_printf(out, "%s\n", (const char *)xmlBufferContent(xbuf));
out:
	xmlBufferFree(xbuf);
	return rc;
}
