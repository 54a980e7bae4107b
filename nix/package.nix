{
  lib,
  stdenv,
  pkg-config,
  makeWrapper,
  libyaml,
  jansson,
  libarchive,
  curl,
  openssl,
  kmod,
  cmocka,
  hwdata,
  linux,
}:

stdenv.mkDerivation {
  pname = "pxeforge";
  version = builtins.head (
    builtins.match ''.*#define PXEFORGE_VERSION "([^"]+)".*'' (
      builtins.readFile ../builder/cli/cli.h
    )
  );

  src = lib.fileset.toSource {
    root = ../.;
    fileset = lib.fileset.unions [
      ../Makefile
      ../builder
      ../include
      ../cloud-init
      ../scripts/embed.sh
      ../tests/unit
      ../tests/run.sh
    ];
  };

  nativeBuildInputs = [
    pkg-config
    makeWrapper
  ];
  # The Makefile's PKGS: yaml-0.1 jansson libarchive libcurl libcrypto libkmod.
  buildInputs = [
    libyaml
    jansson
    libarchive
    curl
    openssl
    kmod
  ];
  checkInputs = [ cmocka ];

  makeFlags = [ "PREFIX=${placeholder "out"}" ];
  enableParallelBuilding = true;

  postPatch = ''
    patchShebangs tests/run.sh
  '';

  # The unit tests are built with ASan and UBSan (make unit-tests), leak
  # checking included, as in `make check`; the sanitizers work in the build
  # sandbox. test_modclosure needs a real kernel modules tree and the
  # sandbox has no /lib/modules: it gets the nixpkgs kernel's.
  doCheck = true;
  checkPhase = ''
    runHook preCheck
    make -j$NIX_BUILD_CORES unit-tests
    PXEFORGE_TEST_MODULES_ROOT=${linux}/lib/modules tests/run.sh unit
    runHook postCheck
  '';

  # NixOS has neither /usr/share/misc/pci.ids nor /usr/share/hwdata/pci.ids.
  postInstall = ''
    wrapProgram $out/bin/pxeforge \
      --set-default PXEFORGE_PCI_IDS ${hwdata}/share/hwdata/pci.ids
  '';

  meta = {
    description = "Netboot image builder and iPXE boot-config generator for VFIO GPU hosts";
    platforms = lib.platforms.linux;
    mainProgram = "pxeforge";
  };
}
