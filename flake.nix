{
  description = "pxeforge: netboot trees and iPXE boot configs for hosts that hand GPUs to VMs";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.11";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      packages = forAllSystems (
        pkgs:
        let
          pxeforge = pkgs.callPackage ./nix/package.nix { };
        in
        {
          inherit pxeforge;
          default = pxeforge;
        }
      );

      # The package's doCheck runs the unit tests.
      checks = nixpkgs.lib.genAttrs systems (system: {
        inherit (self.packages.${system}) pxeforge;
      });

      overlays.default = final: prev: {
        pxeforge = final.callPackage ./nix/package.nix { };
      };

      # Builds pxeforge with the caller's pkgs, like the rest of the host.
      lib.mkNetbootPackage = import ./nix/mk-netboot-package.nix;

      nixosModules = {
        vfio = ./nix/modules/vfio.nix;
        gpuVmGuest = ./nix/modules/gpu-vm-guest.nix;
      };
    };
}
