# What lib.mkNetbootPackage takes from an evaluated NixOS configuration
# (the result of lib.nixosSystem). Builtins only, so that tests/nix can
# evaluate it against a stand-in configuration without nixpkgs.
{ config, ... }:

let
  build = config.system.build;
  loader = config.system.boot.loader;
  # Set by nixos/modules/installer/netboot/netboot.nix: stage 1 plus a
  # squashfs of the system's store.
  netboot = build ? netbootRamdisk;
in
{
  # pxeforge's nixos.from_json, these keys and no others (pxeforge rejects
  # unknown keys). kernelParams go over verbatim: pxeforge checks them
  # against the profile's GPUs and fails the build when VFIO needs more.
  json = {
    toplevel = "${build.toplevel}";
    kernel_params = config.boot.kernelParams;
    initrd_modules = config.boot.initrd.kernelModules;
    initrd_available_modules = config.boot.initrd.availableKernelModules;
  };

  kernel = "${build.kernel}/${loader.kernelFile}";

  initrd =
    if netboot then
      "${build.netbootRamdisk}/initrd"
    else
      "${build.initialRamdisk}/${loader.initrdFile}";

  warning =
    if netboot then
      null
    else
      "mkNetbootPackage: host '${config.networking.hostName}' does not import "
      + "the netboot module (nixos/modules/installer/netboot/netboot.nix), so "
      + "its initrd is system.build.initialRamdisk, which does not include the "
      + "Nix store: the host must mount its store from elsewhere (NFS, iSCSI, disk)";
}
