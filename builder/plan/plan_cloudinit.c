/* plan_cloudinit: a node's cloud-init (a netbooted host or a VM) —
 * defaults and the node's keys merged, values checked, identity derived
 * from the cluster secret. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/hex.h"
#include "pxeforge/lib/secret.h"
#include "pxeforge/lib/sshkey.h"
#include "pxeforge/plan/cloudinit.h"
#include "pxeforge/plan/cmdline.h"
#include "pxeforge/plan/plan.h"

/* What differs between a netbooted host and a VM. */
struct ci_node {
	const char *kind;			/* "host" or "VM", in messages */
	const char *name;			/* its hostname */
	const struct pf_cloudinit_cfg *cfg;	/* its own cloud_init */
	const struct pf_strlist *macs;		/* NULL: a VM (no network,
						 * no seed: the hypervisor's) */
	bool nvidia;				/* drives an NVIDIA GPU itself */
};

/* A node's value of a key, else the defaults'. */
static const struct pf_str *pick_str(const struct pf_str *host,
				     const struct pf_str *dflt)
{
	return host->s ? host : dflt;
}

static const struct pf_strv *pick_strv(const struct pf_strv *host,
				       const struct pf_strv *dflt)
{
	return host->given ? host : dflt;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool http_url(const char *s)
{
	return (has_prefix(s, "http://") && s[7]) ||
	       (has_prefix(s, "https://") && s[8]);
}

/* "10.0.0.21/24", "fd00::21/64"; af receives the family. */
static bool cidr_valid(const char *s, int *af)
{
	unsigned char addr[16];
	const char *slash = strchr(s, '/');
	char ip[64], *end;
	long bits;

	if (!slash || (size_t)(slash - s) >= sizeof(ip) || !slash[1])
		return false;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	*af = strchr(ip, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(*af, ip, addr) != 1)
		return false;
	bits = strtol(slash + 1, &end, 10);
	return !*end && slash[1] >= '0' && slash[1] <= '9' && bits >= 0 &&
	       bits <= (*af == AF_INET ? 32 : 128);
}

static bool ip_valid(const char *s)
{
	unsigned char addr[16];

	return inet_pton(strchr(s, ':') ? AF_INET6 : AF_INET, s, addr) == 1;
}

static bool domain_valid(const char *s)
{
	if (!*s || *s == '.' || *s == '-')
		return false;
	return strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			 "0123456789.-") == strlen(s);
}

static bool authorized_key_valid(const char *s)
{
	static const char *const types[] = { "ssh-", "ecdsa-sha2-", "sk-" };
	bool known = false;

	for (size_t i = 0; i < 3 && !known; i++)
		known = has_prefix(s, types[i]);
	return known && strchr(s, ' ') && !strpbrk(s, "\r\n");
}

/* hint: "" or " (what is expected)", after the quoted subject */
static int copy_list(struct pf_diag *d, const struct pf_strv *v,
		     bool (*ok)(const char *), const char *what,
		     const char *hint, struct pf_strlist *out, int *bad)
{
	for (size_t i = 0; i < v->n; i++) {
		if (!ok(v->v[i].s)) {
			diag_error(d, &v->v[i].mark, "invalid %s '%s'%s", what,
				   v->v[i].s, hint);
			*bad = -EINVAL;
			continue;
		}
		if (strlist_push(out, v->v[i].s))
			return -ENOMEM;
	}
	return 0;
}

static bool cidr_ok(const char *s)
{
	int af;

	return cidr_valid(s, &af);
}

static int plan_network(const struct pf_cloudinit_cfg *hc,
			const struct pf_cloudinit_cfg *dc,
			const struct ci_node *node, struct pf_diag *d,
			struct pf_cloudinit *ci)
{
	const struct pf_net_cfg *hn = &hc->network, *dn = &dc->network;
	const struct pf_strv *addrs = pick_strv(&hn->addresses, &dn->addresses);
	const struct pf_str *gw = pick_str(&hn->gateway, &dn->gateway);
	int bad = 0;

	/* checked even when unused (no addresses), as every value is */
	if (copy_list(d, addrs, cidr_ok, "address",
		      " (expected ip/prefix, e.g. '10.0.0.21/24')",
		      &ci->addresses, &bad) ||
	    copy_list(d, pick_strv(&hn->nameservers, &dn->nameservers),
		      ip_valid, "nameserver address", "", &ci->nameservers,
		      &bad) ||
	    copy_list(d, pick_strv(&hn->search, &dn->search), domain_valid,
		      "search domain", "", &ci->search, &bad))
		return -ENOMEM;
	if (gw->s && !ip_valid(gw->s)) {
		diag_error(d, &gw->mark, "invalid gateway address '%s'", gw->s);
		bad = -EINVAL;
	} else if (gw->s && !(ci->gateway = strdup(gw->s))) {
		return -ENOMEM;
	}
	if (!addrs->n)
		return bad;	/* DHCP: cloud-init's own fallback */
	ci->network = true;
	if (!node->macs->n) {
		diag_error(d, hn->given ? &hn->mark : &dn->mark,
			   "network addresses for host '%s' need a MAC to match the interface; add 'macs'",
			   node->name);
		return -EINVAL;
	}
	ci->mac = strdup(node->macs->v[0]);
	return ci->mac ? bad : -ENOMEM;
}

static bool nvidia_host_gpu(const struct pf_host *h)
{
	for (size_t g = 0; g < h->ngpus; g++)
		if (h->gpus[g].role == PF_ROLE_HOST && h->gpus[g].pci.id_ok &&
		    h->gpus[g].pci.vendor == 0x10de)
			return true;
	return false;
}

static int plan_k3s(const struct ci_node *node,
		    const struct pf_cloudinit_cfg *dc, bool secret_named,
		    struct pf_diag *d, struct pf_cloudinit *ci)
{
	const struct pf_k3s_cfg *hk = &node->cfg->k3s, *dk = &dc->k3s;
	const struct pf_k3s_cfg *at = hk->given ? hk : dk;
	const struct pf_str *server = pick_str(&hk->server, &dk->server);
	const struct pf_str *token = pick_str(&hk->token_file, &dk->token_file);
	int rc = 0;

	if (!hk->given && !dk->given)
		return 0;
	ci->k3s = true;
	ci->k3s_role = hk->role_v ? hk->role_v :
		       dk->role_v ? dk->role_v : PF_K3S_AGENT;
	ci->containerd = hk->containerd_v ? hk->containerd_v :
			 dk->containerd_v ? dk->containerd_v : 3;
	ci->gpu_runtime = node->nvidia;
	if (!secret_named) {
		diag_error(d, &at->mark,
			   "k3s on %s '%s' needs a stable node password: set 'cluster_secret' (create one with 'pxeforge secret init')",
			   node->kind, ci->hostname);
		rc = -EINVAL;
	}
	if (server->s && !has_prefix(server->s, "https://")) {
		diag_error(d, &server->mark,
			   "k3s server '%s' is not an https:// URL (e.g. 'https://10.0.0.1:6443')",
			   server->s);
		rc = -EINVAL;
	} else if (server->s && !(ci->k3s_server = strdup(server->s))) {
		return -ENOMEM;
	} else if (!server->s && ci->k3s_role == PF_K3S_AGENT) {
		diag_error(d, &at->mark,
			   "k3s agent on %s '%s' needs 'server' (the URL of a k3s server, e.g. 'https://10.0.0.1:6443')",
			   node->kind, ci->hostname);
		rc = -EINVAL;
	}
	if (token->s && token->s[0] != '/') {
		diag_error(d, &token->mark,
			   "k3s token_file '%s' is not an absolute path on the node",
			   token->s);
		rc = -EINVAL;
	} else if (token->s && !(ci->k3s_token_file = strdup(token->s))) {
		return -ENOMEM;
	}
	return rc;
}

/* ds=nocloud;s=<url>/: cloud-init fetches <url>/user-data and the rest. */
static int plan_seed(const struct pf_plan *plan,
		     const struct pf_cloudinit_cfg *hc,
		     const struct pf_cloudinit_cfg *dc, struct pf_diag *d,
		     struct pf_cloudinit *ci)
{
	const struct pf_str *url = pick_str(&hc->seed_url, &dc->seed_url);
	const struct pf_str *seed = pick_str(&hc->seed, &dc->seed);
	const struct pf_mark *at = seed->s ? &seed->mark : &url->mark;
	const char *base = url->s ? url->s : plan->base_url;
	enum pf_seed v = hc->seed_v ? hc->seed_v : dc->seed_v;
	size_t len;

	ci->seed = v ? v : url->s ? PF_SEED_URL : PF_SEED_OVERLAY;
	ci->seed_mark = *at;
	/* checked even with seed: overlay, as every value is */
	if (url->s && !http_url(url->s)) {
		diag_error(d, &url->mark,
			   "seed_url '%s' is not an http:// or https:// URL",
			   url->s);
		return -EINVAL;
	}
	if (ci->seed == PF_SEED_OVERLAY)
		return 0;
	if (!base || !http_url(base)) {
		diag_error(d, at,
			   "seed: url for host '%s' needs 'seed_url' or an http:// or https:// base_url to serve the seed from",
			   ci->hostname);
		return -EINVAL;
	}
	len = strlen(base);
	while (len > 1 && base[len - 1] == '/')
		len--;
	if (asprintf(&ci->seed_url, "%.*s/%s/cloud-init/", (int)len, base,
		     ci->hostname) < 0) {
		ci->seed_url = NULL;
		return -ENOMEM;
	}
	return 0;
}

static int plan_identity(const unsigned char *key, struct pf_cloudinit *ci)
{
	unsigned char v[32];
	int rc;

	rc = secret_derive(key, PF_LABEL_SSH_HOST_KEY, ci->hostname, v);
	if (!rc)
		rc = sshkey_ed25519(v, ci->hostname, &ci->ssh_private,
				    &ci->ssh_public);
	if (!rc && ci->k3s) {
		rc = secret_derive(key, PF_LABEL_K3S_PASSWORD, ci->hostname, v);
		if (!rc)
			rc = hex_encode_dup(v, sizeof(v), &ci->node_password);
	}
	secret_wipe(v, sizeof(v));
	return rc;
}

static int plan_node(const struct pf_plan *plan, const struct ci_node *node,
		     const unsigned char *key, struct pf_diag *d,
		     struct pf_cloudinit *ci)
{
	const struct pf_cloudinit_cfg *hc = node->cfg;
	const struct pf_cloudinit_cfg *dc = &plan->profile->cloud_init;
	int bad = 0, rc;

	if (!hc->given && !dc->given)
		return 0;
	ci->enabled = true;
	ci->hostname = strdup(node->name);
	if (!ci->hostname)
		return -ENOMEM;
	rc = copy_list(d, pick_strv(&hc->ssh_authorized_keys,
				    &dc->ssh_authorized_keys),
		       authorized_key_valid, "ssh authorized key",
		       " (expected 'ssh-ed25519 AAAA… comment')",
		       &ci->authorized_keys, &bad);
	if (rc)
		return rc;
	rc = node->macs ? plan_network(hc, dc, node, d, ci) : 0;
	if (rc == -ENOMEM)
		return rc;
	bad = bad ? bad : rc;
	/* a named but unusable secret is reported once, by plan_build */
	rc = plan_k3s(node, dc, key || plan->profile->cluster_secret_path, d,
		      ci);
	if (rc == -ENOMEM)
		return rc;
	bad = bad ? bad : rc;
	rc = node->macs ? plan_seed(plan, hc, dc, d, ci) : 0;
	if (rc == -ENOMEM)
		return rc;
	bad = bad ? bad : rc;
	if (bad || !key)
		return bad;
	return plan_identity(key, ci);
}

int plan_cloudinit_host(const struct pf_plan *plan, const struct pf_host *h,
			const struct pf_plan_host *ph, const unsigned char *key,
			struct pf_diag *d, struct pf_cloudinit *ci)
{
	struct ci_node node = { "host", ph->name, &h->cloud_init, &ph->macs,
				nvidia_host_gpu(h) };

	return plan_node(plan, &node, key, d, ci);
}

int plan_cloudinit_vm(const struct pf_plan *plan, const struct pf_vm *vm,
		      const struct pf_plan_vm *pv, const unsigned char *key,
		      struct pf_diag *d, struct pf_cloudinit *ci)
{
	struct ci_node node = { "VM", pv->name, &vm->cloud_init, NULL, false };

	for (size_t i = 0; i < pv->ndevs; i++)
		node.nvidia |= pv->devs[i].gpu && pv->devs[i].vendor == 0x10de;
	return plan_node(plan, &node, key, d, ci);
}

bool cloudinit_has_identity(const struct pf_cloudinit *ci)
{
	return ci->enabled && (ci->ssh_private || ci->node_password);
}

void cloudinit_init(struct pf_cloudinit *ci)
{
	memset(ci, 0, sizeof(*ci));
	strlist_init(&ci->authorized_keys);
	strlist_init(&ci->addresses);
	strlist_init(&ci->nameservers);
	strlist_init(&ci->search);
}

static void free_secret(char *s)
{
	if (s)
		secret_wipe(s, strlen(s));
	free(s);
}

void cloudinit_release(struct pf_cloudinit *ci)
{
	if (!ci)
		return;
	free(ci->hostname);
	free_secret(ci->node_password);
	free_secret(ci->ssh_private);
	free(ci->ssh_public);
	strlist_release(&ci->authorized_keys);
	free(ci->k3s_server);
	free(ci->k3s_token_file);
	free(ci->mac);
	strlist_release(&ci->addresses);
	free(ci->gateway);
	strlist_release(&ci->nameservers);
	strlist_release(&ci->search);
	free(ci->seed_url);
	cloudinit_init(ci);
}
