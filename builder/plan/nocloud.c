/* NoCloud payloads: user-data, network-config, meta-data. YAML through
 * libyaml's emitter; the containerd files come from cloud-init/.
 * Made in the plan, once per node: the bytes decide plan questions
 * (KubeVirt inline or Secret), and every reader takes these same bytes. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pxeforge/lib/fragments.h"
#include "pxeforge/lib/hashwrite.h"
#include "pxeforge/lib/secret.h"
#include "pxeforge/lib/yaml_emit.h"
#include "pxeforge/plan/cloudinit.h"

#include "plan_artifacts.h"

void nocloud_release(struct pf_nocloud *nc)
{
	if (!nc)
		return;
	/* user-data holds the node's private host key and password */
	if (nc->user_data.data)
		secret_wipe(nc->user_data.data, nc->user_data.cap);
	buf_release(&nc->user_data);
	buf_release(&nc->meta_data);
	buf_release(&nc->network_config);
}

static void emit_list(struct pf_yaml *y, const char *key,
		      const struct pf_strlist *l, bool flow)
{
	if (!l->n)
		return;
	yaml_emit_str(y, key);
	yaml_emit_seq_open(y, flow);
	for (size_t i = 0; i < l->n; i++)
		yaml_emit_str(y, l->v[i]);
	yaml_emit_seq_close(y);
}

/* One write_files entry; content is taken as it is (a string). */
static void emit_file(struct pf_yaml *y, const char *path, const char *content,
		      const char *permissions)
{
	yaml_emit_map_open(y);
	yaml_emit_pair(y, "path", path);
	yaml_emit_pair(y, "content", content);
	yaml_emit_pair(y, "owner", "root:root");
	yaml_emit_str(y, "permissions");
	yaml_emit_quoted(y, permissions);	/* the schema wants a string */
	yaml_emit_map_close(y);
}

static int k3s_config(const struct pf_cloudinit *ci, struct pf_buf *out)
{
	struct pf_yaml y;

	yaml_emit_begin(&y, out);
	yaml_emit_map_open(&y);
	yaml_emit_pair(&y, "node-name", ci->hostname);
	if (ci->k3s_server)
		yaml_emit_pair(&y, "server", ci->k3s_server);
	if (ci->k3s_token_file)
		yaml_emit_pair(&y, "token-file", ci->k3s_token_file);
	yaml_emit_map_close(&y);
	return yaml_emit_end(&y);
}

/* A fragment as a NUL-terminated string for the emitter. */
static int fragment_text(const char *name, struct pf_buf *out)
{
	const struct pf_fragment *f = fragment_get(name);

	if (!f)
		return -ENOENT;	/* a build without its fragments: a bug */
	out->len = 0;
	return f->len ? buf_append(out, f->data, f->len) : buf_puts(out, "");
}

static int emit_k3s_files(struct pf_yaml *y, const struct pf_cloudinit *ci)
{
	const char *tmpl = ci->containerd == 2 ? "config.toml.tmpl" :
						 "config-v3.toml.tmpl";
	struct pf_buf b;
	char src[64], dst[128];
	int rc;

	buf_init(&b);
	rc = k3s_config(ci, &b);
	if (!rc)
		emit_file(y, PF_K3S_CONFIG_PATH, b.data, "0600");
	snprintf(src, sizeof(src), "containerd/%s", tmpl);
	snprintf(dst, sizeof(dst), PF_K3S_CONTAINERD_DIR "%s", tmpl);
	if (!rc)
		rc = fragment_text(src, &b);
	if (!rc)
		emit_file(y, dst, b.data, "0644");
	snprintf(src, sizeof(src), "containerd/cdi-v%d.toml", ci->containerd);
	if (!rc)
		rc = fragment_text(src, &b);
	if (!rc)
		emit_file(y, PF_CDI_TOML_PATH, b.data, "0644");
	buf_release(&b);
	return rc;
}

static void emit_runcmd(struct pf_yaml *y)
{
	static const char *const persistence[] = { "nvidia-smi", "-pm", "1" };
	static const char *const cdi[] = {
		"nvidia-ctk", "cdi", "generate", "--output=/etc/cdi/nvidia.yaml"
	};

	yaml_emit_str(y, "runcmd");
	yaml_emit_seq_open(y, false);
	yaml_emit_seq_open(y, true);
	for (size_t i = 0; i < 3; i++)
		yaml_emit_str(y, persistence[i]);
	yaml_emit_seq_close(y);
	yaml_emit_seq_open(y, true);
	for (size_t i = 0; i < 4; i++)
		yaml_emit_str(y, cdi[i]);
	yaml_emit_seq_close(y);
	yaml_emit_seq_close(y);
}

static int render_user_data(const struct pf_cloudinit *ci, struct pf_buf *out)
{
	struct pf_yaml y;
	int rc, erc;

	/* The one line the emitter cannot write: cloud-init's format marker. */
	rc = buf_puts(out, "#cloud-config\n");
	if (rc)
		return rc;
	yaml_emit_begin(&y, out);
	yaml_emit_map_open(&y);
	yaml_emit_pair(&y, "hostname", ci->hostname);
	if (ci->ssh_private) {
		/* Only the stable key: no random RSA/ECDSA keys beside it
		 * that would change on every re-created disk. cloud-init
		 * generates a listed type only when its key is missing, and
		 * the schema wants at least one. */
		yaml_emit_str(&y, "ssh_deletekeys");
		yaml_emit_plain(&y, "true");
		yaml_emit_str(&y, "ssh_genkeytypes");
		yaml_emit_seq_open(&y, true);
		yaml_emit_str(&y, "ed25519");
		yaml_emit_seq_close(&y);
		yaml_emit_str(&y, "ssh_keys");
		yaml_emit_map_open(&y);
		yaml_emit_pair(&y, "ed25519_private", ci->ssh_private);
		yaml_emit_pair(&y, "ed25519_public", ci->ssh_public);
		yaml_emit_map_close(&y);
	}
	emit_list(&y, "ssh_authorized_keys", &ci->authorized_keys, false);
	if (ci->k3s) {
		yaml_emit_str(&y, "write_files");
		yaml_emit_seq_open(&y, false);
		if (ci->node_password)
			emit_file(&y, PF_K3S_PASSWORD_PATH, ci->node_password,
				  "0600");
		rc = emit_k3s_files(&y, ci);
		yaml_emit_seq_close(&y);
	}
	if (ci->gpu_runtime)
		emit_runcmd(&y);
	yaml_emit_map_close(&y);
	erc = yaml_emit_end(&y);
	return rc ? rc : erc;
}

/* netplan version 2: the host's first MAC names the interface lan0. */
static int render_network_config(const struct pf_cloudinit *ci,
				 struct pf_buf *out)
{
	struct pf_yaml y;

	yaml_emit_begin(&y, out);
	yaml_emit_map_open(&y);
	yaml_emit_str(&y, "version");
	yaml_emit_plain(&y, "2");
	yaml_emit_str(&y, "ethernets");
	yaml_emit_map_open(&y);
	yaml_emit_str(&y, "lan0");
	yaml_emit_map_open(&y);
	yaml_emit_str(&y, "match");
	yaml_emit_map_open(&y);
	yaml_emit_str(&y, "macaddress");
	yaml_emit_quoted(&y, ci->mac);
	yaml_emit_map_close(&y);
	yaml_emit_pair(&y, "set-name", "lan0");
	emit_list(&y, "addresses", &ci->addresses, true);
	if (ci->gateway) {
		/* "to: default" is newer than the cloud-init of many images */
		yaml_emit_str(&y, "routes");
		yaml_emit_seq_open(&y, false);
		yaml_emit_map_open(&y);
		yaml_emit_pair(&y, "to", strchr(ci->gateway, ':') ? "::/0" :
								   "0.0.0.0/0");
		yaml_emit_pair(&y, "via", ci->gateway);
		yaml_emit_map_close(&y);
		yaml_emit_seq_close(&y);
	}
	if (ci->nameservers.n || ci->search.n) {
		yaml_emit_str(&y, "nameservers");
		yaml_emit_map_open(&y);
		emit_list(&y, "addresses", &ci->nameservers, true);
		emit_list(&y, "search", &ci->search, true);
		yaml_emit_map_close(&y);
	}
	yaml_emit_map_close(&y);
	yaml_emit_map_close(&y);
	yaml_emit_map_close(&y);
	return yaml_emit_end(&y);
}

/* instance-id changes whenever what cloud-init would apply changes, so a
 * new payload is applied again on the next boot, and only then. */
static int render_meta_data(const struct pf_cloudinit *ci,
			    const struct pf_nocloud *nc, struct pf_buf *out)
{
	struct pf_buf both;
	struct pf_yaml y;
	char hex[65], iid[32];
	int rc;

	buf_init(&both);
	rc = buf_append(&both, nc->user_data.data, nc->user_data.len);
	if (!rc)
		rc = buf_append(&both, "", 1);	/* NUL: no shifted boundary */
	if (!rc && nc->network_config.len)
		rc = buf_append(&both, nc->network_config.data,
				nc->network_config.len);
	if (!rc)
		rc = sha256_hex(both.data, both.len, hex);
	secret_wipe(both.data, both.len);
	buf_release(&both);
	if (rc)
		return rc;
	snprintf(iid, sizeof(iid), "iid-%.16s", hex);
	yaml_emit_begin(&y, out);
	yaml_emit_map_open(&y);
	yaml_emit_pair(&y, "instance-id", iid);
	yaml_emit_pair(&y, "local-hostname", ci->hostname);
	yaml_emit_map_close(&y);
	return yaml_emit_end(&y);
}

int nocloud_build(const struct pf_cloudinit *ci, struct pf_nocloud *nc)
{
	int rc;

	if (!ci->enabled)
		return -EINVAL;
	rc = render_user_data(ci, &nc->user_data);
	if (!rc && ci->network)
		rc = render_network_config(ci, &nc->network_config);
	if (!rc)
		rc = render_meta_data(ci, nc, &nc->meta_data);
	return rc;
}
