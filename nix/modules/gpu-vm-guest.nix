# nixosModules.gpuVmGuest: the guest side of the seed's GPU VM, a k3s
# agent whose containers get the passed-through GPUs through CDI. It
# matches what pxeforge's cloud-init payloads set up on other guests: the
# same containerd fragments (cloud-init/containerd/), the same CDI spec path, the
# node password cloud-init writes.
#
# The NVIDIA driver itself is the configuration's choice
# (hardware.nvidia.datacenter.enable for a V100, or "nvidia" in
# services.xserver.videoDrivers for a GeForce); hardware.nvidia-container-toolkit
# asserts that one is set.
{ config, lib, pkgs, ... }:

let
  cfg = config.pxeforge.gpuVmGuest;
  nodePassword = "/etc/rancher/node/password";
  toolkit = pkgs.nvidia-container-toolkit;
in
{
  options.pxeforge.gpuVmGuest = {
    enable = lib.mkEnableOption "the k3s agent of a GPU VM, its GPUs offered to containers via CDI";

    serverAddr = lib.mkOption {
      type = lib.types.str;
      example = "https://10.0.0.1:6443";
      description = "The k3s server to join.";
    };

    tokenFile = lib.mkOption {
      type = lib.types.str;
      example = "/var/lib/rancher/k3s/agent-token";
      description = ''
        File holding the cluster join token, written at boot (e.g. by
        cloud-init); a path outside the Nix store, which is world-readable.
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    services.k3s = {
      enable = true;
      role = "agent";
      inherit (cfg) serverAddr tokenFile;
    };
    # kubelet (logs, exec) and flannel's VXLAN; NixOS's firewall is on by default
    networking.firewall.allowedTCPPorts = [ 10250 ];
    networking.firewall.allowedUDPPorts = [ 8472 ];

    # k3s reads its node password from this file itself and the server
    # checks it on every join: a VM whose password changes with each boot
    # is rejected. cloud-init writes it (0600) before k3s starts; nothing
    # here creates or rewrites it, and k3s refuses to start without it
    # rather than inventing a new one.
    systemd.services.k3s = {
      after = [ "cloud-init.service" "nvidia-cdi-generate.service" ];
      wants = [ "nvidia-cdi-generate.service" ];
      unitConfig.AssertFileNotEmpty = nodePassword;
    };

    # k3s renders its containerd config from this template; the import
    # turns CDI on in the CRI runtime.
    systemd.tmpfiles.rules = [
      "L+ /var/lib/rancher/k3s/agent/etc/containerd/config-v3.toml.tmpl - - - - ${../../cloud-init/containerd/config-v3.toml.tmpl}"
    ];
    environment.etc."containerd/cdi.toml".source = ../../cloud-init/containerd/cdi-v3.toml;

    hardware.nvidia-container-toolkit.enable = true;

    # The spec at /etc/cdi/nvidia.yaml, as on the cloud-init guests. NixOS
    # has no ld.so.cache and no /usr/bin, hence the explicit paths.
    # (hardware.nvidia-container-toolkit also writes a spec to
    # /var/run/cdi; for a device both define, CDI takes the one from the
    # later directory in cdi_spec_dirs.)
    systemd.services.nvidia-cdi-generate = {
      description = "Write the CDI spec of the NVIDIA GPUs to /etc/cdi/nvidia.yaml";
      wantedBy = [ "multi-user.target" ];
      after = [ "systemd-udev-settle.service" ];
      serviceConfig = {
        Type = "oneshot";
        RemainAfterExit = true;
      };
      script = ''
        mkdir -p /etc/cdi
        ${lib.getExe' toolkit "nvidia-ctk"} cdi generate \
          --output=/etc/cdi/nvidia.yaml \
          --ldconfig-path ${lib.getExe' pkgs.glibc "ldconfig"} \
          --library-search-path ${lib.getLib config.hardware.nvidia.package}/lib \
          --nvidia-cdi-hook-path ${lib.getOutput "tools" toolkit}/bin/nvidia-cdi-hook
      '';
    };
  };
}
