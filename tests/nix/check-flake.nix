# flake.nix's outputs with fake-pkgs.nix as nixpkgs (stand-in packages,
# the real lib), and nix/package.nix through them: { version; failures; }
# (failures empty when all is well).
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

  # The files lib.fileset.toSource lets into the build's source, by the
  # real fileset functions, relative to the repo root.
  inherit (pkgs) lib;
  srcFiles = map (f: lib.removePrefix "${root}/" (toString f)) (
    lib.fileset.toList (lib.fileset.fromSource p.src)
  );
  srcRoots = [ "Makefile" "builder" "include" "cloud-init" "scripts/embed.sh" "tests/unit" "tests/run.sh" ];
  under = r: f: f == r || lib.hasPrefix "${r}/" f;
in
{
  inherit (p) version;
  failures =
    expect "inputs.nixpkgs is NixOS/nixpkgs" (has "github:NixOS/nixpkgs" flake.inputs.nixpkgs.url)
    ++ expect "packages.<system>.default is packages.<system>.pxeforge, named pxeforge" (
      p == self.packages.x86_64-linux.pxeforge && p.pname == "pxeforge"
    )
    ++ expect "the source is the repo root filtered by lib.fileset" (toString p.src.origSrc == root)
    ++ expect "the source holds what the build and the unit tests need, nothing else" (
      builtins.all (r: builtins.any (under r) srcFiles) srcRoots
      && builtins.all (f: builtins.any (r: under r f) srcRoots) srcFiles
      && builtins.elem "builder/cli/cli.h" srcFiles
      && !builtins.elem "README.md" srcFiles
    )
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
