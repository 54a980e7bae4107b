#!/usr/bin/env bash
# `make demo-boot`: build the e2e test's Intel host
# (tests/e2e/profiles/intel.yaml.in) into OUT and netboot it in QEMU with the
# serial console on this terminal: SeaBIOS, iPXE fetching boot.ipxe and the
# host's script over TFTP, the kernel, the base initrd plus pxeforge's
# overlay, the init's report (PXEFORGE-E2E lines: /proc/cmdline, IOMMU
# groups, every PCI device and its driver, each NoCloud seed file's size,
# mode and SHA-256) and the power-off. Ctrl-A X or Ctrl-C stops QEMU early.
# The profile's cluster secret is a throwaway key made with `pxeforge
# secret init` for this run.
#
#   tests/e2e/demo-boot.sh OUT        (make demo-boot uses out/demo-boot)
#
# Environment: PXEFORGE (default build/pxeforge), E2E_KVER, TIMEOUT_E2E.
set -u

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh

[ $# -eq 1 ] || { echo "usage: $0 OUT" >&2; exit 2; }
out=$1 host=e2e-intel
pxeforge=${PXEFORGE:-build/pxeforge}
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0}

kver=$(e2e_kver) || {
	echo "demo-boot: no kernel: need /boot/vmlinuz-<kver> with /lib/modules/<kver>/modules.dep (install linux-image-amd64)" >&2
	exit 3
}
work=$(mktemp -d "${TMPDIR:-/tmp}/pxeforge-demo-boot.XXXXXX") || exit 3
trap 'rm -rf "$work"' EXIT
"$pxeforge" secret init "$work/cluster.key" || exit $?
e2e_profile tests/e2e/profiles/intel.yaml.in "/lib/modules/$kver" \
	"$work/cluster.key" "$work/demo-boot.yaml" || {
	echo "demo-boot: cannot render tests/e2e/profiles/intel.yaml.in" >&2
	exit 1
}

echo "demo-boot: profile (tests/e2e/profiles/intel.yaml.in, modules of kernel $kver):"
grep -v '^#' "$work/demo-boot.yaml" | sed 's/^/    /'
echo "demo-boot: $pxeforge build <profile> -o $out"
"$pxeforge" build "$work/demo-boot.yaml" -o "$out" || exit $?
echo "demo-boot: kernel command line ($out/$host/cmdline):"
sed 's/^/    /' "$out/$host/cmdline"
echo "demo-boot: booting $host in QEMU (TCG, q35 + intel-iommu, edu device at 0000:00:10.0),"
echo "demo-boot: netbooting $out over TFTP; this takes 10-30 s. Ctrl-A X stops QEMU."
sleep 2

tests/e2e/boot.sh --iommu intel --timeout "${TIMEOUT_E2E:-150}" \
	--tee "$work/serial.log" "$out" "$host"
rc=$?
# SeaBIOS turns the terminal's line wrapping off; turn it back on.
[ -t 1 ] && printf '\033[?7h'
echo
report=$(tr -d '\r' <"$work/serial.log" | grep -ao 'PXEFORGE-E2E .*')
edu=$(printf '%s\n' "$report" | sed -n 's/^PXEFORGE-E2E pci \(0000:00:10.0 1234:11e8 .*\)/\1/p')
if [ "$rc" -ne 0 ]; then
	echo "demo-boot: QEMU ended with status $rc (124: timed out)" >&2
	exit 1
elif ! printf '%s\n' "$report" | grep -qx 'PXEFORGE-E2E end'; then
	echo "demo-boot: the guest did not finish its report (see above)" >&2
	exit 1
fi
echo "demo-boot: the guest booted; edu device: $edu (address id driver)"
case $edu in
*" vfio-pci") echo "demo-boot: the stand-in GPU is bound to vfio-pci" ;;
*) echo "demo-boot: the stand-in GPU is NOT bound to vfio-pci" >&2; exit 1 ;;
esac
