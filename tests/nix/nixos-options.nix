# Stand-ins for the NixOS option declarations (nixpkgs' nixos/ tree, which
# is not here) of every option nix/modules/*.nix, pxeforge's generated
# nixos/*.nix and the tests' stand-in configurations set or read, each
# with the type and default NixOS declares it with, from the real
# lib.types, so that merging, priorities and type errors are NixOS's own.
# Only these options exist: setting any other one fails, as in NixOS.
{ lib, ... }:

let
  inherit (lib) mkOption mkEnableOption types;
  list =
    t:
    mkOption {
      type = types.listOf t;
      default = [ ];
    };
  # nixos/modules/system/boot/kernel.nix
  kernelParam = types.strMatching ''([^"[:space:]]|"[^"]*")+'' // {
    name = "kernelParam";
    description = "string, with spaces inside double quotes";
  };
  # nixos/lib/systemd-lib.nix: unit names with their type suffix
  unitName = types.strMatching "[a-zA-Z0-9@%:_.\\-]+[.](service|socket|device|mount|automount|swap|target|path|timer|scope|slice)";
  # nixos/lib/systemd-unit-options.nix's unitOption: a value or a list of them
  unitOption =
    let
      primitive = types.oneOf [ types.bool types.int types.str types.path ];
    in
    types.either primitive (types.listOf primitive);
  service = types.submodule {
    options = {
      description = mkOption {
        type = types.singleLineStr;
        default = "";
      };
      after = list unitName;
      wants = list unitName;
      wantedBy = list unitName;
      unitConfig = mkOption {
        type = types.attrsOf unitOption;
        default = { };
      };
      serviceConfig = mkOption {
        type = types.attrsOf unitOption;
        default = { };
      };
      script = mkOption {
        type = types.lines;
        default = "";
      };
    };
  };
  etcFile = types.submodule {
    options = {
      enable = mkOption {
        type = types.bool;
        default = true;
      };
      source = mkOption { type = types.path; };
      mode = mkOption {
        type = types.str;
        default = "symlink";
      };
    };
  };
in
{
  options = {
    # nixos/modules/misc/assertions.nix
    assertions = list types.unspecified;
    warnings = list types.str;

    # nixos/modules/system/boot/kernel.nix, modprobe.nix, stage-1.nix
    boot.kernelParams = list kernelParam;
    boot.initrd.kernelModules = list types.str;
    boot.initrd.availableKernelModules = list types.str;
    boot.blacklistedKernelModules = list types.str;
    boot.extraModprobeConfig = mkOption {
      type = types.lines;
      default = "";
    };

    # nixos/modules/tasks/network-interfaces.nix
    networking.hostName = mkOption {
      type = types.strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$";
      default = "nixos";
    };
    # nixos/modules/services/networking/firewall.nix
    networking.firewall.allowedTCPPorts = list types.port;
    networking.firewall.allowedUDPPorts = list types.port;

    # nixos/modules/system/activation/top-level.nix, system/boot/kernel.nix
    system.build = mkOption {
      type = types.submoduleWith {
        modules = [ { freeformType = types.lazyAttrsOf (types.uniq types.unspecified); } ];
      };
      default = { };
    };
    system.boot.loader.kernelFile = mkOption { type = types.str; };
    system.boot.loader.initrdFile = mkOption { type = types.str; };

    # nixos/modules/services/cluster/k3s/default.nix
    services.k3s = {
      enable = mkEnableOption "k3s";
      role = mkOption {
        type = types.enum [ "server" "agent" ];
        default = "server";
      };
      serverAddr = mkOption {
        type = types.str;
        default = "";
      };
      tokenFile = mkOption {
        type = types.nullOr types.path;
        default = null;
      };
    };

    # nixos/modules/system/boot/systemd.nix, systemd/tmpfiles.nix
    systemd.services = mkOption {
      type = types.attrsOf service;
      default = { };
    };
    systemd.tmpfiles.rules = list types.str;

    # nixos/modules/system/etc/etc.nix
    environment.etc = mkOption {
      type = types.attrsOf etcFile;
      default = { };
    };

    # nixos/modules/services/hardware/nvidia-container-toolkit, hardware/video/nvidia.nix
    hardware.nvidia-container-toolkit.enable = mkEnableOption "NVIDIA container toolkit";
    hardware.nvidia.package = mkOption { type = types.package; };
  };
}
