#!/usr/bin/env bash
# Install what pxeforge needs to build and test on Debian 12. Idempotent:
# prints nothing and exits 0 when everything is already installed.
set -euo pipefail

# The one list of Debian packages the project needs (build, unit tests, CLI
# tests, test fixtures). Add new ones here.
PACKAGES=(
	build-essential
	pkg-config
	libyaml-dev
	libjansson-dev
	libarchive-dev
	libarchive-tools
	# zstd: the CLI tests unpack tar.zst bundles with it
	zstd
	libcurl4-openssl-dev
	libssl-dev
	libkmod-dev
	libcmocka-dev
	bats
	bats-support
	bats-assert
	pci.ids
	valgrind
	python3
	# the cidata ISO's readers in tests/unit/test_pack_iso.c: xorriso, and
	# blkid (util-linux, essential) which cloud-init asks for the label
	xorriso
	util-linux
	# Go's text/template renders the k3s containerd templates in tests/containerd/
	golang-go
	# ssh-keygen reads, fingerprints and signs with the generated host keys
	openssh-client
	# the CLI tests look for key bytes in what pxeforge printed
	xxd
	# tests/unit/test_fetch.c: self-signed certificates for its HTTPS server
	openssl
	# tests/cli/cloudinit.bats: cloud-init's own checkers (`cloud-init schema`
	# for user-data, `cloud-init devel net-convert` for network-config) and
	# python3-yaml to read user-data back (also a cloud-init dependency) and,
	# in tests/unit/test_kubevirt.c, vm.yaml as kubectl types it
	cloud-init
	python3-yaml
	# tests/oracles/kubevirt_check.py: vm.yaml and the KubeVirt CR fragment
	# against KubeVirt's OpenAPI schema; tests/cli/schema.bats: profiles
	# against `pxeforge schema`
	python3-jsonschema
	# a real Nix evaluator for tests/nix/ (nixpkgs itself is not needed)
	nix-bin
	# the end-to-end boot test (tests/e2e/) and make demo-boot
	qemu-system-x86
	ipxe-qemu
	linux-image-amd64
	busybox-static
	cpio
	# tests/cli/sources.bats: strace shows an unchanged pinned source is not
	# opened again; curl asks the test HTTP server for its request counts;
	# script (bsdutils) gives pxeforge a terminal for the progress bar
	strace
	curl
	bsdutils
	# libxml2's writer for libvirt domain.xml; virt-xml-validate checks it
	libxml2-dev
	libvirt-clients
	# tests/cli/containerdisk.bats: real OCI tools read the containerDisk
	# archive (skopeo inspect/copy oci-archive:, umoci unpack)
	skopeo
	umoci
	# tests/cli/man.bats and schema.bats: the man pages render without
	# warnings (groff) and read with man -l (man-db)
	groff-base
	man-db
	# bench/packaging.sh (make bench) and bench/fleet.sh (make bench-fleet):
	# peak RSS via /usr/bin/time -f %M
	time
	# tests/cli/fleet_build.bats: xmllint reads a VM's domain.xml back
	libxml2-utils
)

if ! command -v dpkg-query >/dev/null 2>&1; then
	echo "deps: dpkg-query not found; not a Debian system? install by hand: ${PACKAGES[*]}" >&2
	exit 0
fi

missing=()
for pkg in "${PACKAGES[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
	if [ "$status" != "install ok installed" ]; then
		missing+=("$pkg")
	fi
done

[ "${#missing[@]}" -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		sudo=(sudo)
	else
		echo "deps: missing packages (${missing[*]}) and not root, no sudo" >&2
		exit 1
	fi
fi

log=$(mktemp "${TMPDIR:-/tmp}/pxeforge-deps.XXXXXX")
echo "deps: installing: ${missing[*]}"
if ! {
	"${sudo[@]}" apt-get update -qq &&
	"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "${missing[@]}"
} >"$log" 2>&1 </dev/null; then
	echo "deps: apt-get failed (log: $log); last lines:" >&2
	tail -n 25 "$log" >&2
	exit 1
fi
rm -f "$log"
