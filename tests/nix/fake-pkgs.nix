# Just enough of nixpkgs for nix/*.nix and flake.nix to evaluate without
# it: lib is the real one (lib.nix); packages are derivation-shaped store
# paths, stdenv.mkDerivation and runCommand return what they were given
# (wrapper-env.nix turns runCommand's into the builder's files and
# variables).
let
  lib = import ./lib.nix;
  pkg = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };
  pkgs = {
    inherit lib;
    stdenv.mkDerivation = attrs: attrs;
    stdenv.hostPlatform.system = "x86_64-linux";
    runtimeShell = "/bin/sh";
    writeText = name: text: { inherit name text; };
    runCommand = name: env: buildCommand: { inherit name env buildCommand; };
    callPackage =
      fn: args:
      let
        f = import fn;
      in
      f (builtins.intersectAttrs (builtins.functionArgs f) pkgs // args);
  }
  // lib.genAttrs [
    "pkg-config"
    "makeWrapper"
    "libyaml"
    "jansson"
    "libarchive"
    "curl"
    "openssl"
    "kmod"
    "cmocka"
    "hwdata"
    "linux"
  ] pkg;
in
pkgs
