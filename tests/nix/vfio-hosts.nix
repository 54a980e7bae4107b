# pxeforge.vfio settings for the hosts of vfio-hosts.yaml, one per host:
# the module must give each the boot settings pxeforge writes for it.
{
  intel-v100 = {
    cpu = "intel";
    gpus = [
      {
        address = "0000:1a:00.0";
        id = "10de:1db1";
        model = "Tesla V100 SXM2 16GB";
      }
    ];
  };

  amd-4070 = {
    cpu = "amd";
    gpus = [
      {
        address = "0000:0b:00.0";
        id = "10de:2786";
        functions = [
          {
            address = "0000:0b:00.1";
            id = "10de:22bc";
          }
        ];
      }
    ];
  };

  # An NVIDIA card kept by the host: nouveau must not be blacklisted.
  keeps-nvidia = {
    cpu = "intel";
    gpus = [
      {
        address = "0000:1a:00.0";
        id = "10de:1db1";
      }
    ];
    hostDevices = [
      {
        address = "0000:3b:00.0";
        id = "10de:1db4";
      }
    ];
  };
}
