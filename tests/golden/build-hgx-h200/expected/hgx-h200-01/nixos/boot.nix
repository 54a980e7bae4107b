# pxeforge: boot settings for host 'hgx-h200-01'. Generated; edit the profile.
{ ... }:
{
  boot.kernelParams = [
    "console=ttyS0,115200n8"
    "loglevel=4"
    "intel_iommu=on"
    "iommu=pt"
    "vfio-pci.ids=10de:2335,10de:22a3"
  ];
  boot.initrd.kernelModules = [
    "vfio_pci"
    "vfio"
    "vfio_iommu_type1"
    "mlx5_core"
  ];
  boot.extraModprobeConfig = ''
    options vfio-pci ids=10de:2335,10de:22a3
    softdep nvidia pre: vfio-pci
    softdep nouveau pre: vfio-pci
  '';
  boot.blacklistedKernelModules = [ "nouveau" ];
}
