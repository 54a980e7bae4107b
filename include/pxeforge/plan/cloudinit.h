/* cloud-init NoCloud for one node (a netbooted host or a VM): what the plan
 * decides, the payload bytes it makes once (builder/plan/nocloud.c) and
 * which of the node's files are secret (builder/plan/plan_artifacts.c). */
#ifndef PXEFORGE_CLOUDINIT_H
#define PXEFORGE_CLOUDINIT_H

#include <stdbool.h>

#include "pxeforge/lib/buf.h"
#include "pxeforge/lib/diag.h"
#include "pxeforge/lib/strlist.h"
#include "pxeforge/profile/profile.h"

/* HMAC labels: one per derived value, so no two uses share bytes. */
#define PF_LABEL_K3S_PASSWORD "pxeforge k3s node password v1"
#define PF_LABEL_SSH_HOST_KEY "pxeforge ssh host key ed25519 v1"

/* Where on the node the k3s files go. */
#define PF_K3S_PASSWORD_PATH "/etc/rancher/node/password"
#define PF_K3S_CONFIG_PATH "/etc/rancher/k3s/config.yaml"
#define PF_K3S_CONTAINERD_DIR "/var/lib/rancher/k3s/agent/etc/containerd/"
#define PF_CDI_TOML_PATH "/etc/containerd/cdi.toml"
#define PF_NOCLOUD_SEED_DIR "var/lib/cloud/seed/nocloud"

/* The NoCloud payloads of one node. */
struct pf_nocloud {
	struct pf_buf user_data;	/* secret: holds the identity */
	struct pf_buf meta_data;
	struct pf_buf network_config;	/* empty: no network-config file */
};

struct pf_cloudinit {
	bool enabled;
	char *hostname;
	/* identity: derived from the cluster secret, NULL without one */
	char *node_password;	/* secret */
	char *ssh_private;	/* secret: OpenSSH private key file */
	char *ssh_public;	/* "ssh-ed25519 AAAA… <hostname>" */
	struct pf_strlist authorized_keys;
	/* k3s */
	bool k3s;
	enum pf_k3s_role k3s_role;
	char *k3s_server;	/* NULL: none (a server that starts the cluster) */
	char *k3s_token_file;
	int containerd;		/* config version: 2 or 3 */
	bool gpu_runtime;	/* nvidia-ctk cdi generate, persistence mode */
	/* network-config, when addresses are given */
	bool network;
	char *mac;		/* the interface to configure: the host's first MAC */
	struct pf_strlist addresses;
	char *gateway;
	struct pf_strlist nameservers;
	struct pf_strlist search;
	/* seed: in the overlay, or fetched by cloud-init from seed_url */
	enum pf_seed seed;
	char *seed_url;		/* with its trailing '/'; seed == PF_SEED_URL */
	struct pf_mark seed_mark;	/* where seed or seed_url was written */
	/* Decided last, from the above, once the node is planned
	 * (plan_nocloud): the payload, made once for every reader, and
	 * the secrecy of the files that carry it. A secret file is 0600,
	 * not in the manifest, and served to this node alone. */
	struct pf_nocloud payload;	/* empty unless enabled */
	bool secret;		/* user-data and cidata.iso hold the identity */
	bool overlay_secret;	/* the host's initrd overlay carries the
				 * seed, and so the identity */
	bool cidata;		/* OUT/<node>/cidata.iso is written: VMs
				 * (their hypervisor attaches it) and hosts
				 * with seed: iso (BMC virtual media) */
};

void cloudinit_init(struct pf_cloudinit *ci);
void cloudinit_release(struct pf_cloudinit *ci);
/* The user-data holds the node's identity (SSH host key, k3s password). */
bool cloudinit_has_identity(const struct pf_cloudinit *ci);

/* Wipes user-data (it holds the identity), frees all; NULL is fine. */
void nocloud_release(struct pf_nocloud *nc);

#endif
