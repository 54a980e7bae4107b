/* profile_keys_cloudinit: the tables of cloud_init (in defaults, hosts and
 * VMs) and of its k3s and network mappings. */
#include <stdlib.h>

#include "profile_parser.h"

#define OF(type, member) offsetof(type, member)

static const char *const k3s_roles[] = { "agent", "server" };
static const int k3s_role_values[] = { PF_K3S_AGENT, PF_K3S_SERVER };
static const char *const containerd_versions[] = { "2", "3" };
static const int containerd_values[] = { 2, 3 };

static const struct pf_key k3s_keys[] = {
	{ .name = "role", .kind = PK_STR, .off = OF(struct pf_k3s_cfg, role),
	  .choice = &(const struct pf_choice){
		  .what = "k3s role", .expected = "'agent' or 'server'",
		  .names = k3s_roles, .values = k3s_role_values, .n = 2,
		  .off_v = OF(struct pf_k3s_cfg, role_v) },
	  .dflt = "agent", .doc = "what k3s runs on the node" },
	{ .name = "server", .kind = PK_STR, .off = OF(struct pf_k3s_cfg, server),
	  .doc = "the k3s server's https URL, e.g. https://10.0.0.1:6443; required for agents" },
	{ .name = "token_file", .kind = PK_STR,
	  .off = OF(struct pf_k3s_cfg, token_file),
	  .doc = "the join token's absolute path on the node" },
	{ .name = "containerd", .kind = PK_STR,
	  .off = OF(struct pf_k3s_cfg, containerd),
	  .choice = &(const struct pf_choice){
		  .what = "containerd config version",
		  .expected = "2 (containerd 1.7) or 3 (containerd 2.x)",
		  .names = containerd_versions, .values = containerd_values,
		  .n = 2, .off_v = OF(struct pf_k3s_cfg, containerd_v) },
	  .dflt = "3",
	  .doc = "the containerd config version of the node's k3s: 3 (containerd 2.x) or 2 (1.7)" },
};

const struct pf_keymap pk_k3s = {
	.name = "k3s", .where = "k3s",
	.doc = "the node's k3s (needs cluster_secret)",
	.keys = k3s_keys, .n = NKEYS(k3s_keys),
	.off_given = OF(struct pf_k3s_cfg, given),
	.off_mark = OF(struct pf_k3s_cfg, mark),
};

static const struct pf_key network_keys[] = {
	{ .name = "addresses", .kind = PK_STRV,
	  .off = OF(struct pf_net_cfg, addresses),
	  .doc = "ip/prefix, IPv4 or IPv6, e.g. 10.0.0.21/24" },
	{ .name = "gateway", .kind = PK_STR, .off = OF(struct pf_net_cfg, gateway),
	  .doc = "the default gateway's IP address" },
	{ .name = "nameservers", .kind = PK_STRV,
	  .off = OF(struct pf_net_cfg, nameservers),
	  .doc = "DNS servers' IP addresses" },
	{ .name = "search", .kind = PK_STRV, .off = OF(struct pf_net_cfg, search),
	  .doc = "DNS search domains" },
};

const struct pf_keymap pk_network = {
	.name = "network", .where = "network",
	.doc = "network-config version 2, written when addresses are given",
	.keys = network_keys, .n = NKEYS(network_keys),
	.off_given = OF(struct pf_net_cfg, given),
	.off_mark = OF(struct pf_net_cfg, mark),
};

static const char *const seeds[] = { "overlay", "url", "iso" };
static const int seed_values[] = { PF_SEED_OVERLAY, PF_SEED_URL, PF_SEED_ISO };

#define NO_SEED_IN_VM "does not apply to VM '%s': a VM's NoCloud seed is its cloud-init disk, which KubeVirt or libvirt attaches"

static const struct pf_key cloud_init_keys[] = {
	{ .name = "seed", .kind = PK_STR, .off = OF(struct pf_cloudinit_cfg, seed),
	  .choice = &(const struct pf_choice){
		  .what = "seed", .expected = "'overlay', 'url' or 'iso'",
		  .names = seeds, .values = seed_values, .n = 3,
		  .off_v = OF(struct pf_cloudinit_cfg, seed_v) },
	  .vm_reject = NO_SEED_IN_VM, .dflt = "overlay",
	  .doc = "overlay: the seed rides in the initrd overlay; url: the node fetches it from seed_url; iso: OUT/<host>/cidata.iso, for BMC virtual media (cloud-init finds the volume by its label, cidata)" },
	{ .name = "seed_url", .kind = PK_STR,
	  .off = OF(struct pf_cloudinit_cfg, seed_url), .vm_reject = NO_SEED_IN_VM,
	  .doc = "where OUT/ is served for seeds (default: base_url); given, seed defaults to url" },
	{ .name = "ssh_authorized_keys", .kind = PK_STRV,
	  .off = OF(struct pf_cloudinit_cfg, ssh_authorized_keys),
	  .doc = "public keys allowed to log in" },
	{ .name = "k3s", .kind = PK_MAP, .off = OF(struct pf_cloudinit_cfg, k3s),
	  .map = &pk_k3s, .doc = "k3s on the node (needs cluster_secret)" },
	{ .name = "network", .kind = PK_MAP,
	  .off = OF(struct pf_cloudinit_cfg, network), .map = &pk_network,
	  .vm_reject = "does not apply to VM '%s': its interface is the hypervisor's (KubeVirt's pod network, a libvirt network) and gets its address by DHCP",
	  .doc = "static network configuration" },
};

const struct pf_keymap pk_cloud_init = {
	.name = "cloud_init", .where = "cloud_init",
	.doc = "cloud-init NoCloud payloads (user-data, meta-data, network-config)",
	.keys = cloud_init_keys, .n = NKEYS(cloud_init_keys),
	.off_given = OF(struct pf_cloudinit_cfg, given),
	.off_mark = OF(struct pf_cloudinit_cfg, mark),
};

/* The same keys; those a VM cannot use are errors at the key. */
const struct pf_keymap pk_vm_cloud_init = {
	.name = "vm_cloud_init", .where = "cloud_init",
	.doc = "a VM's cloud-init: a host's without seed, seed_url and network",
	.keys = cloud_init_keys, .n = NKEYS(cloud_init_keys),
	.off_given = OF(struct pf_cloudinit_cfg, given),
	.off_mark = OF(struct pf_cloudinit_cfg, mark),
	.in_vm = true,
};

void pp_cloud_init_release(struct pf_cloudinit_cfg *c)
{
	free(c->ssh_authorized_keys.v);
	free(c->network.addresses.v);
	free(c->network.nameservers.v);
	free(c->network.search.v);
}
