#!/usr/bin/env bash
# Boot one host of a pxeforge output tree in QEMU, the way a real machine
# netboots it: QEMU's built-in TFTP server serves OUT, the NIC's iPXE option
# ROM (Debian's ipxe-qemu) fetches boot.ipxe, which chains the host's script,
# which loads the kernel and initrds and boots. The machine is a q35 with an
# emulated IOMMU and QEMU's `edu` PCI device (1234:11e8) as the stand-in GPU.
#
#   tests/e2e/boot.sh [options] OUT HOST
#
#   --iommu intel|amd|none  emulated IOMMU (-device intel-iommu / amd-iommu);
#                           default intel
#   --edu ADDR              PCI slot.function of the edu device on bus 0
#                           (default 10.0, i.e. 0000:00:10.0)
#   --mac MAC               NIC MAC (default: the MAC whose OUT/hosts/<mac>.ipxe
#                           is OUT/HOST/netboot.ipxe)
#   --kernel FILE           kernel (default /boot/vmlinuz-<kver>, see lib.sh)
#   --initrd FILE           base initrd (default: built by mkinitrd.sh)
#   --log FILE              serial console to FILE only; default: the
#                           terminal (Ctrl-A X or Ctrl-C quits QEMU)
#   --tee FILE              serial console to the terminal and to FILE
#   --timeout SECONDS       kill QEMU after this long (default 150)
#
# pxeforge does not fetch kernels yet, so before booting this copies the
# kernel to OUT/HOST/<kernel name> and the base initrd to OUT/HOST/<name of
# the script's first initrd>, the names read from the host script. Every
# other initrd the script loads (pxeforge's overlay.cpio.gz) must already be
# in OUT. The script's URLs must be relative (a profile without base_url).
#
# Exit: QEMU's status (0 when the guest powered off), 124 on timeout,
# 2 usage, 3 a missing tool or input.
set -u

here=$(cd "$(dirname "$0")" && pwd) || exit 3
# shellcheck source=tests/e2e/lib.sh
. "$here/lib.sh"

usage() { sed -n '8,24s/^# \{0,1\}//p' "$0" >&2; exit 2; }
die() { echo "boot.sh: $*" >&2; exit 3; }

iommu=intel edu=10.0 mac="" kernel="" initrd="" log="" tee="" timeout_s=150
while [ $# -gt 0 ]; do
	case $1 in
	--iommu) iommu=${2:-}; shift 2 || usage ;;
	--edu) edu=${2:-}; shift 2 || usage ;;
	--mac) mac=${2:-}; shift 2 || usage ;;
	--kernel) kernel=${2:-}; shift 2 || usage ;;
	--initrd) initrd=${2:-}; shift 2 || usage ;;
	--log) log=${2:-}; shift 2 || usage ;;
	--tee) tee=${2:-}; shift 2 || usage ;;
	--timeout) timeout_s=${2:-}; shift 2 || usage ;;
	-h | --help) usage ;;
	--) shift; break ;;
	-*) echo "boot.sh: unknown option '$1'" >&2; usage ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || usage
out=$1 host=$2
case $iommu in
intel) iommu_dev=(-device intel-iommu) ;;
amd) iommu_dev=(-device amd-iommu) ;;
none) iommu_dev=() ;;
*) echo "boot.sh: --iommu must be intel, amd or none, not '$iommu'" >&2; exit 2 ;;
esac
[[ $timeout_s =~ ^[1-9][0-9]*$ ]] || { echo "boot.sh: --timeout needs a positive number of seconds" >&2; exit 2; }

qemu=${E2E_QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null 2>&1 || die "'$qemu' not found (install qemu-system-x86 and ipxe-qemu; scripts/deps.sh does)"
command -v timeout >/dev/null 2>&1 || die "'timeout' not found (coreutils)"

script=$out/$host/netboot.ipxe
[ -f "$script" ] || die "no host script '$script' (is '$host' a host of the profile that built '$out'?)"
[ -f "$out/boot.ipxe" ] || die "no dispatcher '$out/boot.ipxe'"
if [ -z "$mac" ]; then
	mac=$(e2e_mac "$out" "$host") || die "no $out/hosts/<mac>.ipxe is a copy of '$script'"
fi

if [ -z "$kernel" ]; then
	kver=$(e2e_kver) || die "no kernel: need /boot/vmlinuz-<kver> with /lib/modules/<kver>/modules.dep (install linux-image-amd64)"
	kernel=/boot/vmlinuz-$kver
fi
[ -r "$kernel" ] || die "cannot read kernel '$kernel'"

work=$(mktemp -d "${TMPDIR:-/tmp}/pxeforge-boot.XXXXXX") || exit 3
trap 'rm -rf "$work"' EXIT
if [ -z "$initrd" ]; then
	initrd=$work/initrd
	"$here/mkinitrd.sh" "$initrd" || die "building the base initrd failed"
fi
[ -r "$initrd" ] || die "cannot read initrd '$initrd'"

# Stage the kernel and the base initrd where the host script loads them.
first_initrd=1 kname=""
while read -r kind name url; do
	[ "$url" = "../$host/$name" ] ||
		die "'$script' loads $kind '$name' from '$url'; boot.sh serves OUT over TFTP and needs ../$host/$name (a profile without base_url or url)"
	case $kind in
	kernel)
		kname=$name
		cp "$kernel" "$out/$host/$name" || die "cannot stage the kernel"
		;;
	initrd)
		if [ "$first_initrd" = 1 ]; then
			cp "$initrd" "$out/$host/$name" || die "cannot stage the initrd"
			first_initrd=0
		elif [ ! -f "$out/$host/$name" ]; then
			die "'$script' loads initrd '$name', but pxeforge did not write '$out/$host/$name'"
		fi
		;;
	esac
done < <(e2e_images "$script")
[ -n "$kname" ] || die "'$script' has no 'kernel --name' line"

args=(
	-M q35 -accel tcg -m 512 -no-reboot
	"${iommu_dev[@]}"
	-device "edu,addr=$edu"
	-netdev "user,id=n0,tftp=$out,bootfile=boot.ipxe"
	-device "virtio-net-pci,netdev=n0,mac=$mac"
	-boot n
	-nographic
)
if [ -n "$log" ]; then
	# -nographic also makes SeaBIOS and iPXE print to the serial port.
	: >"$log" || die "cannot write '$log'"
	args+=(-serial "file:$log" -monitor none)
	timeout -k 10 "$timeout_s" "$qemu" "${args[@]}" </dev/null
	rc=$?
elif [ -n "$tee" ]; then
	: >"$tee" || die "cannot write '$tee'"
	args+=(-chardev "stdio,id=con,mux=on,logfile=$tee" -serial chardev:con -mon chardev=con)
	timeout --foreground -k 10 "$timeout_s" "$qemu" "${args[@]}"
	rc=$?
else
	timeout --foreground -k 10 "$timeout_s" "$qemu" "${args[@]}"
	rc=$?
fi
[ "$rc" -eq 124 ] && echo "boot.sh: '$host' did not power off within ${timeout_s}s; QEMU killed" >&2
exit "$rc"
