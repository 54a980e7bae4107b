#!/usr/bin/env python3
"""fleet_gen.py N DIR [SEED]: DIR/fleet.yaml with N hosts as in issue 15
(4 Tesla V100 SXM2 per host, k3s agent, a static address, seed over URL or,
with SEED iso, seed: iso; no kernel images) and DIR/cluster.key (a copy of
examples/demo-cluster.key, 0600)."""
import os, shutil, sys

n, d = int(sys.argv[1]), sys.argv[2]
os.makedirs(d, exist_ok=True)
key = os.path.join(d, "cluster.key")
shutil.copy(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                         "examples", "demo-cluster.key"), key)
os.chmod(key, 0o600)
out = ["version: 1", "cluster_secret: cluster.key", "defaults:", "  cloud_init:",
       "    seed: iso" if sys.argv[3:] == ["iso"] else
       "    seed_url: http://10.20.0.1/pxe", "    k3s:", "      role: agent",
       "      server: https://10.20.0.1:6443",
       "      token_file: /var/lib/rancher/k3s/agent/join-token",
       "    network:", "      gateway: 10.20.0.1", "      nameservers: [10.20.0.1]",
       "hosts:"]
for i in range(n):
    mac = "b0:26:28:%02x:%02x:%02x" % ((i >> 16) & 255, (i >> 8) & 255, i & 255)
    out += ["  - name: gpu%05d" % i, '    macs: ["%s"]' % mac, "    cpu: intel",
            "    kernel_params: [intel_iommu=on, iommu=pt]", "    gpus:"]
    for g, bus in enumerate(("1a", "1c", "1d", "1e")):
        out += ['      - address: "0000:%s:00.0"' % bus, '        id: "10de:1db1"',
                "        role: vfio"]
    out += ["    cloud_init:", "      network:",
            "        addresses: [10.%d.%d.%d/8]" % (20 + (i >> 16), (i >> 8) & 255, i & 255)]
open(os.path.join(d, "fleet.yaml"), "w").write("\n".join(out) + "\n")
