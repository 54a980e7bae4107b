# NixOS-style module evaluation with the real nixpkgs lib: lib.evalModules
# of MODULES on top of nixos-options.nix (the NixOS declarations they set),
# pkgs in _module.args as NixOS passes it. Returns what lib.evalModules
# returns ({ config; options; … }), like lib.nixosSystem.
{
  modules,
  pkgs ? { },
}:

(import ./lib.nix).evalModules {
  modules = [
    ./nixos-options.nix
    { _module.args = { inherit pkgs; }; }
  ]
  ++ modules;
}
