# nix/modules/gpu-vm-guest.nix evaluated with the real lib.evalModules
# (eval-modules.nix, NixOS's option types) and stand-in packages
# (derivation-shaped store paths): the list of what is wrong (empty when
# all is well).
{ root }:

let
  store = name: {
    type = "derivation";
    name = builtins.substring 2 (-1) name;
    outPath = "/nix/store/0000000000000000000000000000000${name}";
  };
  pkgs = {
    nvidia-container-toolkit = store "0-nvidia-container-toolkit-1.17.5" // {
      tools = store "1-nvidia-container-toolkit-1.17.5-tools";
    };
    glibc = store "2-glibc-2.40" // { bin = store "3-glibc-2.40-bin"; };
  };
  c =
    (import ./eval-modules.nix {
      inherit pkgs;
      modules = [
        (root + "/nix/modules/gpu-vm-guest.nix")
        {
          pxeforge.gpuVmGuest = {
            enable = true;
            serverAddr = "https://10.0.0.1:6443";
            tokenFile = "/var/lib/rancher/k3s/agent-token";
          };
          hardware.nvidia.package = store "4-nvidia-x11-550.127.05";
        }
      ];
    }).config;

  file = name: /. + root + "/cloud-init/containerd/${name}";
  has = re: s: builtins.match ".*${re}.*" s != null;
  expect = what: ok: if ok then [ ] else [ what ];

  k3sUnit = c.systemd.services.k3s;
  gen = c.systemd.services.nvidia-cdi-generate;
  rules = c.systemd.tmpfiles.rules;
in
expect "services.k3s is an agent joining serverAddr with tokenFile" (
  c.services.k3s == {
    enable = true;
    role = "agent";
    serverAddr = "https://10.0.0.1:6443";
    tokenFile = "/var/lib/rancher/k3s/agent-token";
  }
)
++ expect "the firewall lets kubelet and flannel through" (
  c.networking.firewall.allowedTCPPorts == [ 10250 ] && c.networking.firewall.allowedUDPPorts == [ 8472 ]
)
++ expect "k3s does not start without cloud-init's node password" (
  k3sUnit.unitConfig.AssertFileNotEmpty == "/etc/rancher/node/password"
  && builtins.elem "cloud-init.service" k3sUnit.after
)
++ expect "nothing creates or rewrites /etc/rancher/node" (
  !builtins.any (has "/etc/rancher/node") rules
  && !builtins.any (has "rancher/node") (builtins.attrNames (c.environment.etc or { }))
)
++ expect "the k3s containerd template is cloud-init/containerd/config-v3.toml.tmpl" (
  rules == [
    "L+ /var/lib/rancher/k3s/agent/etc/containerd/config-v3.toml.tmpl - - - - ${file "config-v3.toml.tmpl"}"
  ]
)
++ expect "/etc/containerd/cdi.toml is cloud-init/containerd/cdi-v3.toml" (
  c.environment.etc."containerd/cdi.toml".source == file "cdi-v3.toml"
)
++ expect "hardware.nvidia-container-toolkit is enabled" c.hardware.nvidia-container-toolkit.enable
++ expect "a oneshot writes /etc/cdi/nvidia.yaml with nvidia-ctk, before k3s" (
  gen.serviceConfig.Type == "oneshot"
  && builtins.elem "multi-user.target" gen.wantedBy
  && has "/bin/nvidia-ctk cdi generate [\\]\n *--output=/etc/cdi/nvidia.yaml" gen.script
  && builtins.elem "nvidia-cdi-generate.service" k3sUnit.after
)
