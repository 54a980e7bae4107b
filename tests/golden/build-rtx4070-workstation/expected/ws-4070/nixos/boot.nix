# pxeforge: boot settings for host 'ws-4070'. Generated; edit the profile.
{ ... }:
{
  boot.kernelParams = [
    "iommu=pt"
    "vfio-pci.ids=10de:2786,10de:22bc"
    "quiet"
    "video=efifb:off"
  ];
  boot.initrd.kernelModules = [
    "vfio_pci"
    "vfio"
    "vfio_iommu_type1"
  ];
  boot.extraModprobeConfig = ''
    options vfio-pci ids=10de:2786,10de:22bc
    softdep nvidia pre: vfio-pci
    softdep nouveau pre: vfio-pci
  '';
  boot.blacklistedKernelModules = [ "nouveau" ];
}
