# What NixOS itself contributes to the seed's C4140 besides nix/modules:
# loglevel=4 (boot.consoleLogLevel), the stage-1 modules its hardware
# needs, and the system.build values of an evaluated configuration, the
# kernel and ramdisks under `store` (tests point it at scratch files).
{
  netboot ? true,
  store ? "/nix/store",
}:

{
  networking.hostName = "c4140";
  boot.kernelParams = [ "loglevel=4" ];
  boot.initrd.availableKernelModules = [ "nvme" "xhci_pci" "ahci" "usbhid" "sd_mod" ];
  system.boot.loader = {
    kernelFile = "bzImage";
    initrdFile = "initrd";
  };
  system.build = {
    toplevel = "/nix/store/q4l0b8i0l6h4dbjg3v2k2w1xm8qn0r5s-nixos-system-c4140-24.11";
    kernel = "${store}/4jq2xkd6b2c1n1sy9cw2n6fqlv5dqr0a-linux-6.6.63";
    initialRamdisk = "${store}/9m1rz0aq6gk6hj5y2x8pq3l4c7w0d1sf-initrd-linux-6.6.63";
  }
  // (
    if netboot then { netbootRamdisk = "${store}/b8k5c1yq0w2x3v4n6m7p8r9s0t1u2v3w-initrd"; } else { }
  );
}
