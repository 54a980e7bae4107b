# The profile lib.mkNetbootPackage writes (as JSON) when it is given none:
# one host that boots this NixOS configuration, its CPU and GPUs taken from
# nixosModules.vfio when the configuration enables it. Builtins only.
{ config, host, macs }:

let
  vfio = config.pxeforge.vfio or { enable = false; };

  device = role: d: { inherit (d) address id; inherit role; };

  gpu =
    g:
    device "vfio" g
    // (if g.model or null != null then { inherit (g) model; } else { })
    // (
      if g.functions or [ ] != [ ] then
        { functions = map (f: { inherit (f) address id; }) g.functions; }
      else
        { }
    );
in
if macs == [ ] then
  throw "mkNetbootPackage: without a profile, give the boot MACs of host '${host}': macs = [ \"b0:26:28:4a:10:01\" ];"
else
  {
    version = 1;
    hosts = [
      (
        {
          name = host;
          inherit macs;
          # written by mkNetbootPackage next to the profile
          nixos.from_json = "nixos/${host}.json";
        }
        // (
          if vfio.enable then
            {
              inherit (vfio) cpu;
              gpus = map gpu vfio.gpus ++ map (device "host") vfio.hostDevices;
            }
          else
            { }
        )
      )
    ];
  }
