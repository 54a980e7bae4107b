# shellcheck shell=bash disable=SC2154 # the variables come from the derivation
# The build step of lib.mkNetbootPackage (nix/mk-netboot-package.nix);
# tests/nix/run.sh runs it too, with stand-in kernel and initrd files.
#
# Environment: host, profile (file), profileName (its name in the build
# directory: the extension tells pxeforge YAML from JSON), nixosJsonPath
# (nixos.from_json content), toplevel, kernel, initrd, out; pxeforge on PATH.
set -eu

work=$(mktemp -d "${TMPDIR:-/tmp}/netboot.XXXXXX")
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/nixos"
cp "$profile" "$work/$profileName"
# The convention: the profile's host names this file as nixos.from_json.
cp "$nixosJsonPath" "$work/nixos/$host.json"

# pxeforge fails here, with its message, when the configuration lacks what
# the profile's VFIO GPUs need.
pxeforge build "$work/$profileName" -o "$out"

if [ ! -f "$out/$host/cmdline" ]; then
	echo "mkNetbootPackage: profile '$profileName' has no host '$host'" >&2
	exit 1
fi
# A host that does not read nixos/<host>.json would boot another system,
# or this one without its kernelParams: the seed's bug.
read -r line <"$out/$host/cmdline"
case "$line " in
"init=$toplevel/init "*) ;;
*)
	echo "mkNetbootPackage: host '$host' in '$profileName' does not boot this NixOS configuration (its kernel line does not start with init=$toplevel/init): give it nixos: { from_json: nixos/$host.json } and no other nixos values" >&2
	exit 1
	;;
esac
case " $line " in
*" initrd=initrd "*) grep -q '^kernel --name bzImage ' "$out/$host/netboot.ipxe" ;;
*) false ;;
esac || {
	echo "mkNetbootPackage: host '$host' in '$profileName' must keep the NixOS image names: kernel bzImage and an initrd named initrd (the defaults)" >&2
	exit 1
}

# Copies rather than links into the store: the tree can be served or
# rsynced as it is.
install -m 0444 "$kernel" "$out/$host/bzImage"
install -m 0444 "$initrd" "$out/$host/initrd"
