# The declarations nixpkgs' NixOS modules make for the options nix/modules
# set and tests compare, with nixpkgs' types and defaults.
{ lib, ... }:

let
  inherit (lib) mkOption types;
  strings = mkOption {
    type = types.listOf types.str;
    default = [ ];
  };
in
{
  options = {
    boot.kernelParams = strings;
    boot.initrd.kernelModules = strings;
    boot.initrd.availableKernelModules = strings;
    boot.blacklistedKernelModules = strings;
    boot.extraModprobeConfig = mkOption {
      type = types.lines;
      default = "";
    };
    assertions = mkOption {
      type = types.listOf types.unspecified;
      default = [ ];
    };
  };
}
