/* The machine profile, version 1, as plain structs. Every value keeps the
 * mark of where it was written so later stages can say file:line:col. */
#ifndef PXEFORGE_PROFILE_H
#define PXEFORGE_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pxeforge/lib/diag.h"
#include "pxeforge/profile/node.h"

/* A string value and where it was written. s == NULL: not given, or (when
 * mark.file is set) given with the wrong type, already reported. */
struct pf_str {
	const char *s;	/* borrowed from the profile's docs */
	struct pf_mark mark;
};

struct pf_strv {
	struct pf_str *v;
	size_t n;
	bool given;		/* the key was present (possibly as []) */
	bool invalid;		/* present but not a list (already reported) */
	struct pf_mark mark;	/* of the list itself */
};

enum pf_cpu { PF_CPU_UNSET, PF_CPU_INTEL, PF_CPU_AMD };
enum pf_role { PF_ROLE_VFIO, PF_ROLE_HOST };
enum pf_compress { PF_COMPRESS_UNSET, PF_COMPRESS_GZIP, PF_COMPRESS_ZSTD };

/* A PCI function: the GPU itself or another function of the same card. */
struct pf_pcifn {
	struct pf_mark mark;
	struct pf_str address;	/* "0000:1a:00.0" */
	struct pf_str id;	/* "10de:1db1" */
};

struct pf_gpu {
	struct pf_pcifn pci;
	struct pf_str model;	/* optional: "Tesla V100 SXM2 16GB" */
	enum pf_role role;
	struct pf_str role_str;
	struct pf_pcifn *functions;	/* other functions of the same card */
	size_t nfunctions;
};

/* A file the iPXE script loads: kernel or initrd. */
struct pf_bootfile {
	struct pf_mark mark;
	struct pf_str name;	/* iPXE image name, --name and initrd=<name> */
	struct pf_str url;	/* optional: where iPXE fetches it */
	struct pf_str source;	/* optional: where pxeforge gets it for OUT:
				 * an http(s) URL or a local path */
	char *source_path;	/* a local source, relative to the profile's dir */
	struct pf_str sha256;	/* required for a URL source */
};

/* Boot settings: in defaults, and per host where they override. */
struct pf_boot {
	bool has_kernel;
	struct pf_bootfile kernel;
	bool has_initrds;
	struct pf_bootfile *initrds;
	size_t ninitrds;
	struct pf_strv console;		/* each becomes console=<value> */
	struct pf_strv kernel_params;	/* added to (not replacing) defaults' */
	struct pf_strv initrd_modules;	/* added to defaults' */
	struct pf_str modules_dir;	/* kernel modules tree, as written */
	char *modules_path;		/* the same, relative to the profile's dir */
	struct pf_str overlay_compression;
	enum pf_compress compression;	/* of overlay.cpio.* */
};

struct pf_nixos {
	bool present;
	struct pf_mark mark;
	struct pf_str toplevel;		/* /nix/store/...-nixos-system-... */
	struct pf_strv kernel_params;	/* config.boot.kernelParams */
	struct pf_strv initrd_modules;	/* config.boot.initrd.kernelModules */
	/* config.boot.initrd.availableKernelModules: in the initrd, loaded
	 * on demand; carried, not used (VFIO needs kernelModules) */
	struct pf_strv initrd_available_modules;
	struct pf_str from_json;	/* file the values above came from */
	bool from_json_ok;		/* it was read and parsed */
};

/* cloud_init: in defaults and per host; a host's keys override the
 * defaults' one by one (k3s and network key by key too). */
enum pf_seed { PF_SEED_UNSET, PF_SEED_OVERLAY, PF_SEED_URL, PF_SEED_ISO };
enum pf_k3s_role { PF_K3S_UNSET, PF_K3S_AGENT, PF_K3S_SERVER };

struct pf_k3s_cfg {
	bool given;
	struct pf_mark mark;
	struct pf_str role;		/* agent (default) or server */
	enum pf_k3s_role role_v;
	struct pf_str server;		/* https://10.0.0.1:6443 */
	struct pf_str token_file;	/* a path on the node */
	struct pf_str containerd;	/* config version: "3" (default) or "2" */
	int containerd_v;		/* 0: not given */
};

struct pf_net_cfg {
	bool given;
	struct pf_mark mark;
	struct pf_strv addresses;	/* "10.0.0.21/24" */
	struct pf_str gateway;
	struct pf_strv nameservers;
	struct pf_strv search;
};

struct pf_cloudinit_cfg {
	bool given;
	struct pf_mark mark;
	struct pf_str seed;		/* overlay (default), url or iso */
	enum pf_seed seed_v;
	struct pf_str seed_url;
	struct pf_strv ssh_authorized_keys;
	struct pf_k3s_cfg k3s;
	struct pf_net_cfg network;
};

struct pf_host {
	struct pf_mark mark;
	struct pf_str name;
	struct pf_strv macs;
	enum pf_cpu cpu;
	struct pf_str cpu_str;
	struct pf_gpu *gpus;
	size_t ngpus;
	struct pf_boot boot;
	struct pf_nixos nixos;
	struct pf_cloudinit_cfg cloud_init;
	struct pf_strv groups;		/* applied before the typed read; not read */
	const struct pf_node *node;	/* the host as merged: groups, own keys */
	/* defaults' kernel_params left after this host's '-name' removals */
	bool has_defaults_params;
	struct pf_strv defaults_params;
	const struct pf_node *defaults_params_node;	/* the same, or NULL */
};

/* A GPU VM (vms[]): takes vfio GPUs of one host. Parsed by profile_vm.c. */
enum pf_firmware { PF_FIRMWARE_UNSET, PF_FIRMWARE_UEFI, PF_FIRMWARE_BIOS };
enum pf_disk_format { PF_DISK_UNSET, PF_DISK_QCOW2, PF_DISK_RAW };

struct pf_vm_disk {
	bool given;
	struct pf_mark mark;
	struct pf_str image;		/* local path or http(s) URL */
	char *image_path;		/* a local image, relative to the profile's dir */
	struct pf_str sha256;		/* required for a URL image */
	struct pf_str format;		/* qcow2 | raw; default by extension */
	enum pf_disk_format format_v;
	struct pf_str containerdisk;	/* image reference KubeVirt pulls */
	struct pf_str libvirt_path;	/* where domain.xml finds the image on
					 * the hypervisor (default
					 * /var/lib/libvirt/images/<vm>.<format>) */
};

struct pf_vm_numa_cell {
	struct pf_mark mark;
	struct pf_str cpus;		/* guest vCPUs: "0-55" (cpuset syntax) */
	struct pf_str memory;		/* quantity: "1024Gi" */
	struct pf_str host_node;	/* host NUMA node its memory is bound to */
	int host_node_v;		/* unused: numa_cell_host_node reads it */
};

struct pf_vm_pin {
	struct pf_mark mark;
	struct pf_str vcpus;		/* "0-55" */
	struct pf_str host_cpus;	/* "0-55": same count, one to one */
};

struct pf_vm {
	struct pf_mark mark;
	struct pf_str name;
	struct pf_str host;		/* a host's name */
	struct pf_str gpus_all;		/* gpus: all */
	struct pf_strv gpus;		/* or gpus: [addresses of the host's vfio GPUs] */
	struct pf_str vcpus;		/* integer */
	struct pf_str memory;		/* guest memory, quantity "128Gi" */
	struct pf_str firmware;		/* uefi (default) | bios */
	enum pf_firmware firmware_v;
	struct pf_str consumer_gpu;	/* true | false (default): hide the hypervisor */
	struct pf_vm_disk disk;
	struct pf_cloudinit_cfg cloud_init;
	struct pf_vm_numa_cell *numa;
	size_t nnuma;
	struct pf_mark numa_mark;
	struct pf_vm_pin *pinning;
	size_t npinning;
	struct pf_mark pinning_mark;
	const struct pf_gpu **gpus_v;	/* unused: vm_gpus decides them */
};

struct pf_profile {
	char *path;
	struct pf_doc **docs;	/* the profile and every from_json file; own the marks */
	size_t ndocs;
	struct pf_str version;
	struct pf_str base_url;
	struct pf_str cluster_secret;	/* key file, as written */
	char *cluster_secret_path;	/* the same, relative to the profile's dir */
	struct pf_str source_date_epoch;	/* mtime of archive entries when
						 * SOURCE_DATE_EPOCH is not set */
	struct pf_boot defaults;
	struct pf_cloudinit_cfg cloud_init;	/* defaults' */
	struct pf_host *hosts;
	size_t nhosts;
	struct pf_mark hosts_mark;
	struct pf_vm *vms;
	size_t nvms;
	struct pf_mark vms_mark;
	struct pf_node_arena arena;	/* the merged nodes (includes, groups) */
	const struct pf_node *defaults_node;	/* defaults, removals applied */
};

/* Reads and structurally checks a profile (keys, types, from_json files).
 * Problems go to d. Returns 0 when the profile is usable for validation
 * (d may still hold errors), -EINVAL when it could not be read at all
 * (syntax error), -errno for I/O; *out is set when the return is 0. */
int profile_parse(const char *path, struct pf_diag *d, struct pf_profile **out);
void profile_free(struct pf_profile *p);

/* Limits of vms[]: vCPUs of a guest, CPUs and NUMA nodes of a host. */
#define PF_VM_MAX_VCPUS 1024
#define PF_HOST_MAX_CPUS 8192
#define PF_HOST_MAX_NODES 1024

const char *cpu_name(enum pf_cpu cpu);
const char *role_name(enum pf_role role);

#endif
