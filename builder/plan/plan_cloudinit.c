/* plan_cloudinit: a node's cloud-init (a netbooted host or a VM) —
 * defaults and the node's keys merged (validate_cloudinit checked them),
 * identity derived from the cluster secret. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pxeforge/lib/hex.h"
#include "pxeforge/lib/secret.h"
#include "pxeforge/lib/sshkey.h"
#include "pxeforge/plan/cloudinit.h"
#include "pxeforge/plan/plan.h"
#include "pxeforge/validate/values.h"

/* What differs between a netbooted host and a VM. */
struct ci_node {
	const char *name;			/* its hostname */
	const struct pf_cloudinit_cfg *cfg;	/* its own cloud_init */
	const struct pf_strlist *macs;		/* NULL: a VM (no network,
						 * no seed: the hypervisor's) */
	bool nvidia;				/* drives an NVIDIA GPU itself */
};

static int copy_list(const struct pf_strv *v, struct pf_strlist *out)
{
	for (size_t i = 0; i < v->n; i++)
		if (strlist_push(out, v->v[i].s))
			return -ENOMEM;
	return 0;
}

static int plan_network(const struct pf_cloudinit_cfg *hc,
			const struct pf_cloudinit_cfg *dc,
			const struct ci_node *node, struct pf_cloudinit *ci)
{
	const struct pf_net_cfg *hn = &hc->network, *dn = &dc->network;
	const struct pf_strv *addrs = cloudinit_strv(&hn->addresses, &dn->addresses);
	const struct pf_str *gw = cloudinit_str(&hn->gateway, &dn->gateway);

	if (copy_list(addrs, &ci->addresses) ||
	    copy_list(cloudinit_strv(&hn->nameservers, &dn->nameservers),
		      &ci->nameservers) ||
	    copy_list(cloudinit_strv(&hn->search, &dn->search), &ci->search))
		return -ENOMEM;
	if (gw->s && !(ci->gateway = strdup(gw->s)))
		return -ENOMEM;
	if (!addrs->n || !node->macs->n)
		return 0;	/* DHCP: cloud-init's own fallback */
	ci->network = true;
	ci->mac = strdup(node->macs->v[0]);
	return ci->mac ? 0 : -ENOMEM;
}

static bool nvidia_host_gpu(const struct pf_host *h)
{
	for (size_t g = 0; g < h->ngpus; g++)
		if (h->gpus[g].role == PF_ROLE_HOST &&
		    pcifn_read(&h->gpus[g].pci).id_ok &&
		    pcifn_read(&h->gpus[g].pci).vendor == 0x10de)
			return true;
	return false;
}

static int plan_k3s(const struct ci_node *node,
		    const struct pf_cloudinit_cfg *dc, struct pf_cloudinit *ci)
{
	const struct pf_k3s_cfg *hk = &node->cfg->k3s, *dk = &dc->k3s;
	const struct pf_str *server = cloudinit_str(&hk->server, &dk->server);
	const struct pf_str *token = cloudinit_str(&hk->token_file, &dk->token_file);

	if (!hk->given && !dk->given)
		return 0;
	ci->k3s = true;
	ci->k3s_role = k3s_role(hk, dk);
	ci->containerd = hk->containerd_v ? hk->containerd_v :
			 dk->containerd_v ? dk->containerd_v : 3;
	ci->gpu_runtime = node->nvidia;
	if (server->s && !(ci->k3s_server = strdup(server->s)))
		return -ENOMEM;
	if (token->s && !(ci->k3s_token_file = strdup(token->s)))
		return -ENOMEM;
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
		     const unsigned char *key, struct pf_cloudinit *ci)
{
	const struct pf_cloudinit_cfg *hc = node->cfg;
	const struct pf_cloudinit_cfg *dc = &plan->profile->cloud_init;
	int rc;

	if (!hc->given && !dc->given)
		return 0;
	ci->enabled = true;
	ci->hostname = strdup(node->name);
	if (!ci->hostname)
		return -ENOMEM;
	rc = copy_list(cloudinit_strv(&hc->ssh_authorized_keys,
				 &dc->ssh_authorized_keys),
		       &ci->authorized_keys);
	if (!rc && node->macs)
		rc = plan_network(hc, dc, node, ci);
	if (!rc)
		rc = plan_k3s(node, dc, ci);
	if (rc || !key)
		return rc;
	return plan_identity(key, ci);
}

int plan_cloudinit_host(const struct pf_plan *plan, const struct pf_host *h,
			const struct pf_plan_host *ph, const unsigned char *key,
			struct pf_cloudinit *ci)
{
	struct ci_node node = { ph->name, &h->cloud_init, &ph->macs,
				nvidia_host_gpu(h) };

	return plan_node(plan, &node, key, ci);
}

int plan_cloudinit_vm(const struct pf_plan *plan, const struct pf_vm *vm,
		      const struct pf_plan_vm *pv, const unsigned char *key,
		      struct pf_cloudinit *ci)
{
	struct ci_node node = { pv->name, &vm->cloud_init, NULL, false };

	for (size_t i = 0; i < pv->ndevs; i++)
		node.nvidia |= pv->devs[i].gpu && pv->devs[i].vendor == 0x10de;
	return plan_node(plan, &node, key, ci);
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
	nocloud_release(&ci->payload);
	cloudinit_init(ci);
}
