# nixosModules.vfio: hand GPUs to vfio-pci. The NixOS face of the rules
# pxeforge applies to a profile host (README, "Kernel command line" and
# "Output tree"): the same kernel parameters, early modules and modprobe
# configuration as the OUT/<host>/nixos/boot.nix pxeforge writes.
{ config, lib, ... }:

let
  cfg = config.pxeforge.vfio;
  inherit (lib) mkOption types;

  pciOptions = {
    address = mkOption {
      type = types.strMatching "[0-9a-fA-F]{4}:[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\\.[0-7]";
      example = "0000:1a:00.0";
      description = "PCI address, domain:bus:device.function.";
    };
    id = mkOption {
      type = types.strMatching "[0-9a-fA-F]{4}:[0-9a-fA-F]{4}";
      example = "10de:1db1";
      description = "PCI vendor:device id, as `lspci -nn` shows it.";
    };
  };

  gpu = types.submodule {
    options = pciOptions // {
      model = mkOption {
        type = types.nullOr types.str;
        default = null;
        example = "Tesla V100 SXM2 16GB";
        description = "Model name, for pxeforge to check the id against.";
      };
      functions = mkOption {
        type = types.listOf (types.submodule { options = pciOptions; });
        default = [ ];
        description = ''
          The card's other functions (e.g. a GeForce's HDMI audio), which
          share its IOMMU group and must go to vfio-pci with it.
        '';
      };
    };
  };

  # vfio-pci binds by id: every GPU's and every function's, in order, once.
  ids = lib.unique (
    lib.concatMap (g: [ g.id ] ++ map (f: f.id) (g.functions or [ ])) cfg.gpus
  );
  idList = lib.concatStringsSep "," ids;

  # amd_iommu=on is not an option current kernels accept (they log
  # "Unknown option"); the AMD IOMMU is on by default.
  iommu = if cfg.cpu == "intel" then [ "intel_iommu=on" "iommu=pt" ] else [ "iommu=pt" ];

  keepsNvidia = lib.any (d: lib.hasPrefix "10de:" (lib.toLower d.id)) cfg.hostDevices;
in
{
  options.pxeforge.vfio = {
    enable = lib.mkEnableOption "handing the GPUs in pxeforge.vfio.gpus to vfio-pci";

    cpu = mkOption {
      type = types.enum [ "intel" "amd" ];
      description = "CPU vendor; decides the IOMMU kernel parameters.";
    };

    gpus = mkOption {
      type = types.listOf gpu;
      default = [ ];
      example = [ { address = "0000:1a:00.0"; id = "10de:1db1"; } ];
      description = "GPUs to hand to VMs (role vfio in a pxeforge profile).";
    };

    hostDevices = mkOption {
      type = types.listOf (types.submodule { options = pciOptions; });
      default = [ ];
      description = ''
        Devices the host keeps for its own drivers (role host in a pxeforge
        profile). When one is an NVIDIA device, nouveau is not blacklisted.
      '';
    };
  };

  config = lib.mkIf cfg.enable {
    assertions = [
      {
        assertion = cfg.gpus != [ ];
        message = "pxeforge.vfio.enable is set but pxeforge.vfio.gpus is empty";
      }
    ];

    # Before NixOS's own parameters (loglevel=…), as in the seed's kernel line.
    boot.kernelParams = lib.mkBefore (iommu ++ [ "vfio-pci.ids=${idList}" ]);

    # In stage 1, ahead of any other module, so that vfio-pci claims the
    # cards before nvidia or nouveau can.
    boot.initrd.kernelModules = lib.mkBefore [ "vfio_pci" "vfio" "vfio_iommu_type1" ];

    boot.extraModprobeConfig = ''
      options vfio-pci ids=${idList}
      softdep nvidia pre: vfio-pci
      softdep nouveau pre: vfio-pci
    '';

    boot.blacklistedKernelModules = lib.mkIf (!keepsNvidia) [ "nouveau" ];
  };
}
