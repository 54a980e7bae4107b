# Shaped like lib.nixosSystem's result for the seed's Dell C4140 (only the
# parts nix/from-nixos.nix reads): toplevel as a store path string, kernel
# and ramdisks as derivation-like sets that turn into their outPath.
#   vfio = false: the seed's bug, a configuration without the VFIO settings
#   netboot = false: without nixos/modules/installer/netboot/netboot.nix
#   store: where the kernel and ramdisks are (tests point it at scratch files)
{
  vfio ? true,
  netboot ? true,
  store ? "/nix/store",
}:

let
  drv = name: {
    type = "derivation";
    inherit name;
    outPath = "${store}/${name}";
  };
in
{
  config = {
    networking.hostName = "c4140";
    system.build = {
      toplevel = "/nix/store/q4l0b8i0l6h4dbjg3v2k2w1xm8qn0r5s-nixos-system-c4140-24.11";
      kernel = drv "4jq2xkd6b2c1n1sy9cw2n6fqlv5dqr0a-linux-6.6.63";
      initialRamdisk = drv "9m1rz0aq6gk6hj5y2x8pq3l4c7w0d1sf-initrd-linux-6.6.63";
    }
    // (
      if netboot then { netbootRamdisk = drv "b8k5c1yq0w2x3v4n6m7p8r9s0t1u2v3w-initrd"; } else { }
    );
    system.boot.loader = {
      kernelFile = "bzImage";
      initrdFile = "initrd";
    };
    boot.kernelParams =
      (if vfio then [ "intel_iommu=on" "iommu=pt" "vfio-pci.ids=10de:1db1" ] else [ ])
      ++ [ "loglevel=4" ];
    boot.initrd.kernelModules = if vfio then [ "vfio_pci" "vfio" "vfio_iommu_type1" ] else [ ];
    boot.initrd.availableKernelModules = [ "nvme" "xhci_pci" "ahci" "usbhid" "sd_mod" ];
  };
}
