# flake.nix's outputs with fake-pkgs.nix as nixpkgs, and nix/package.nix
# through them: { version; failures; } (failures empty when all is well).
{ root }:

let
  pkgs = import ./fake-pkgs.nix;
  nixpkgs = {
    inherit (pkgs) lib;
    legacyPackages = pkgs.lib.genAttrs pkgs.lib.platforms.linux (_: pkgs);
  };
  flake = import (/. + root + "/flake.nix");
  self = flake.outputs { inherit self nixpkgs; };
  p = self.packages.x86_64-linux.default;
  has = re: s: builtins.match ".*${re}.*" s != null;
  expect = what: ok: if ok then [ ] else [ what ];
in
{
  inherit (p) version;
  failures =
    expect "inputs.nixpkgs is NixOS/nixpkgs" (has "github:NixOS/nixpkgs" flake.inputs.nixpkgs.url)
    ++ expect "packages.<system>.default is packages.<system>.pxeforge, named pxeforge" (
      p == self.packages.x86_64-linux.pxeforge && p.pname == "pxeforge"
    )
    ++ expect "the source holds what the build and the unit tests need" (p.src == root)
    ++ expect "pkg-config and the Makefile's libraries" (
      builtins.elem pkgs.pkg-config p.nativeBuildInputs
      && map (d: d.name) p.buildInputs == [ "libyaml" "jansson" "libarchive" "curl" "openssl" "kmod" ]
      && p.checkInputs == [ pkgs.cmocka ]
    )
    ++ expect "make install PREFIX=$out" (p.makeFlags == [ "PREFIX=${builtins.placeholder "out"}" ])
    ++ expect "doCheck runs the unit tests, with a kernel modules tree" (
      p.doCheck
      && has "make -j[$]NIX_BUILD_CORES unit-tests\n" p.checkPhase
      && has "PXEFORGE_TEST_MODULES_ROOT=${pkgs.linux}/lib/modules tests/run.sh unit\n" p.checkPhase
    )
    ++ expect "checks.<system>.pxeforge is the package" (self.checks.x86_64-linux.pxeforge == p)
    ++ expect "overlays.default adds pxeforge" (
      (self.overlays.default pkgs { }).pxeforge.pname == "pxeforge"
    )
    ++ expect "lib.mkNetbootPackage's arguments" (
      builtins.functionArgs self.lib.mkNetbootPackage == {
        pkgs = false;
        nixosConfiguration = false;
        profile = true;
        host = true;
        macs = true;
        pxeforge = true;
      }
    )
    ++ expect "nixosModules.vfio and .gpuVmGuest are nix/modules/" (
      self.nixosModules == {
        vfio = /. + root + "/nix/modules/vfio.nix";
        gpuVmGuest = /. + root + "/nix/modules/gpu-vm-guest.nix";
      }
    );
}
