# pxeforge: boot settings for host 'c4140'. Generated; edit the profile.
{ ... }:
{
  boot.kernelParams = [
    "intel_iommu=on"
    "iommu=pt"
    "vfio-pci.ids=10de:1db1"
    "loglevel=4"
    "console=tty0"
    "console=ttyS0,115200n8"
    "ds=nocloud;s=http://10.20.0.1/pxe/c4140/cloud-init/"
  ];
  boot.initrd.kernelModules = [
    "vfio_pci"
    "vfio"
    "vfio_iommu_type1"
  ];
  boot.extraModprobeConfig = ''
    options vfio-pci ids=10de:1db1
    softdep nvidia pre: vfio-pci
    softdep nouveau pre: vfio-pci
  '';
  boot.blacklistedKernelModules = [ "nouveau" ];
}
