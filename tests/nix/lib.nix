# The real nixpkgs lib (nix-community/nixpkgs.lib de42d44212d2, read-only
# in ../shared/oracles): evalModules, types, mkDefault/mkForce/mkBefore,
# fileset, as NixOS evaluates them. Debian's Nix (2.8) predates
# builtins.readFileType (2.14), which lib.filesystem.pathType (and so
# lib.fileset) calls: where it is missing, the same answer from readDir of
# the parent, as nixpkgs computed it before that builtin.
let
  lib = import ../../../shared/oracles/nixpkgs-lib/lib;
  pathType =
    p:
    if dirOf p == p then
      "directory"
    else
      (builtins.readDir (dirOf p)).${baseNameOf p}
        or (throw "lib.filesystem.pathType: path ${toString p} does not exist");
in
if builtins ? readFileType then
  lib
else
  lib.extend (_: prev: { filesystem = prev.filesystem // { inherit pathType; }; })
