# lib.mkNetbootPackage: the netboot tree of one NixOS host, built by
# pxeforge from what the evaluated configuration says (kernelParams
# included, verbatim) rather than from a hand-copied list.
#
#   profile: a pxeforge profile whose host `host` has
#     nixos: { from_json: nixos/<host>.json }
#   (the wrapper writes that file next to a copy of the profile) and the
#   default image names. null: a one-host profile is generated, with the
#   CPU and GPUs from nixosModules.vfio when enabled, and `macs`.
{
  pkgs,
  nixosConfiguration,
  profile ? null,
  host ? nixosConfiguration.config.networking.hostName,
  macs ? [ ],
  pxeforge ? pkgs.callPackage ./package.nix { },
}:

let
  nixos = import ./from-nixos.nix nixosConfiguration;
  generated = import ./profile.nix {
    inherit (nixosConfiguration) config;
    inherit host macs;
  };
in
pkgs.lib.warnIf (nixos.warning != null) nixos.warning (
  pkgs.runCommand "netboot-${host}"
    {
      nativeBuildInputs = [ pxeforge ];
      inherit host;
      inherit (nixos) kernel initrd;
      inherit (nixos.json) toplevel;
      profile =
        if profile == null then
          pkgs.writeText "pxeforge-${host}.json" (builtins.toJSON generated)
        else
          profile;
      profileName = if profile == null then "profile.json" else baseNameOf (toString profile);
      nixosJson = builtins.toJSON nixos.json;
      passAsFile = [ "nixosJson" ];
    }
    ''
      ${pkgs.runtimeShell} ${./netboot-build.sh}
    ''
)
