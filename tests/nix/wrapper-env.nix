# What Nix would give the builder of lib.mkNetbootPackage's derivation,
# evaluated with fake-pkgs.nix: { name; vars; files; } where vars are
# environment strings and files are texts the builder gets as paths
# (pkgs.writeText results, passAsFile attributes), by variable name.
# tests/nix/run.sh writes them out and runs nix/netboot-build.sh.
args:

let
  pkgs = import ./fake-pkgs.nix;
  drv = import ../../nix/mk-netboot-package.nix ({ inherit pkgs; pxeforge = "pxeforge"; } // args);
  passAsFile = drv.env.passAsFile or [ ];
  env = removeAttrs drv.env ([ "nativeBuildInputs" "passAsFile" ] ++ passAsFile);
  isText = v: builtins.isAttrs v && v ? text;
in
{
  inherit (drv) name;
  vars = builtins.mapAttrs (_: toString) (pkgs.lib.filterAttrs (_: v: !isText v) env);
  files =
    builtins.mapAttrs (_: v: v.text) (pkgs.lib.filterAttrs (_: isText) env)
    // builtins.listToAttrs (map (n: { name = "${n}Path"; value = drv.env.${n}; }) passAsFile);
}
