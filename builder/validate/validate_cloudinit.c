/* validate_cloudinit: one node's cloud-init values (a netbooted host or a
 * VM), the node's keys over the defaults' as plan merges them. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "pxeforge/validate/values.h"

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* "10.0.0.21/24", "fd00::21/64". */
static bool cidr_valid(const char *s)
{
	unsigned char addr[16];
	const char *slash = strchr(s, '/');
	char ip[64], *end;
	long bits;
	int af;

	if (!slash || (size_t)(slash - s) >= sizeof(ip) || !slash[1])
		return false;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	af = strchr(ip, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(af, ip, addr) != 1)
		return false;
	bits = strtol(slash + 1, &end, 10);
	return !*end && slash[1] >= '0' && slash[1] <= '9' && bits >= 0 &&
	       bits <= (af == AF_INET ? 32 : 128);
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
static void check_list(struct pf_diag *d, const struct pf_strv *v,
		       bool (*ok)(const char *), const char *what,
		       const char *hint)
{
	for (size_t i = 0; i < v->n; i++)
		if (!ok(v->v[i].s))
			diag_error(d, &v->v[i].mark, "invalid %s '%s'%s", what,
				   v->v[i].s, hint);
}

static void check_network(const struct pf_cloudinit_cfg *hc,
			  const struct pf_cloudinit_cfg *dc, const char *name,
			  long macs, struct pf_diag *d)
{
	const struct pf_net_cfg *hn = &hc->network, *dn = &dc->network;
	const struct pf_strv *addrs = cloudinit_strv(&hn->addresses, &dn->addresses);
	const struct pf_str *gw = cloudinit_str(&hn->gateway, &dn->gateway);

	/* checked even when unused (no addresses), as every value is */
	check_list(d, addrs, cidr_valid, "address",
		   " (expected ip/prefix, e.g. '10.0.0.21/24')");
	check_list(d, cloudinit_strv(&hn->nameservers, &dn->nameservers), ip_valid,
		   "nameserver address", "");
	check_list(d, cloudinit_strv(&hn->search, &dn->search), domain_valid,
		   "search domain", "");
	if (gw->s && !ip_valid(gw->s))
		diag_error(d, &gw->mark, "invalid gateway address '%s'", gw->s);
	if (addrs->n && !macs)
		diag_error(d, hn->given ? &hn->mark : &dn->mark,
			   "network addresses for host '%s' need a MAC to match the interface; add 'macs'",
			   name);
}

static void check_k3s(const struct pf_profile *p,
		      const struct pf_cloudinit_cfg *cfg, const char *kind,
		      const char *name, struct pf_diag *d)
{
	const struct pf_k3s_cfg *hk = &cfg->k3s, *dk = &p->cloud_init.k3s;
	const struct pf_k3s_cfg *at = hk->given ? hk : dk;
	const struct pf_str *server = cloudinit_str(&hk->server, &dk->server);
	const struct pf_str *token = cloudinit_str(&hk->token_file, &dk->token_file);

	if (!hk->given && !dk->given)
		return;
	/* a named but unusable secret is reported once, by validate_nodes */
	if (!p->cluster_secret_path)
		diag_error(d, &at->mark,
			   "k3s on %s '%s' needs a stable node password: set 'cluster_secret' (create one with 'pxeforge secret init')",
			   kind, name);
	if (server->s && !has_prefix(server->s, "https://"))
		diag_error(d, &server->mark,
			   "k3s server '%s' is not an https:// URL (e.g. 'https://10.0.0.1:6443')",
			   server->s);
	else if (!server->s && k3s_role(hk, dk) == PF_K3S_AGENT)
		diag_error(d, &at->mark,
			   "k3s agent on %s '%s' needs 'server' (the URL of a k3s server, e.g. 'https://10.0.0.1:6443')",
			   kind, name);
	if (token->s && token->s[0] != '/')
		diag_error(d, &token->mark,
			   "k3s token_file '%s' is not an absolute path on the node",
			   token->s);
}

void validate_cloudinit(const struct pf_profile *p,
			const struct pf_cloudinit_cfg *cfg, const char *kind,
			const char *name, long macs, struct pf_diag *d)
{
	const struct pf_cloudinit_cfg *dc = &p->cloud_init;

	check_list(d, cloudinit_strv(&cfg->ssh_authorized_keys,
				&dc->ssh_authorized_keys),
		   authorized_key_valid, "ssh authorized key",
		   " (expected 'ssh-ed25519 AAAA… comment')");
	if (macs >= 0)
		check_network(cfg, dc, name, macs, d);
	check_k3s(p, cfg, kind, name, d);
}
