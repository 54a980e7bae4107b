#!/usr/bin/env bash
# End-to-end boot test: pxeforge's output boots through real iPXE in QEMU
# and, in the booted guest, the stand-in GPU (QEMU's edu device, 1234:11e8)
# is bound to vfio-pci. Prints TAP.
#
# For each case, the profile template tests/e2e/profiles/<case>.yaml.in gets
# the modules tree of the kernel to boot (@MODULES_DIR@), pxeforge builds it,
# and tests/e2e/boot.sh netboots the host in QEMU (q35, TCG, emulated IOMMU,
# edu at 0000:00:10.0; iPXE ROM → boot.ipxe → hosts/<mac>.ipxe → kernel,
# base initrd, pxeforge's overlay). The base initrd (tests/e2e/mkinitrd.sh)
# holds only busybox and tests/e2e/init, which loads the modules the overlay
# lists and reports on the serial console. Cases:
#   intel    cpu intel, -device intel-iommu: edu must be bound to vfio-pci
#   amd      cpu amd, -device amd-iommu, zstd overlay: edu must be bound to
#            vfio-pci
#   control  edu with role host (no IOMMU/vfio-pci.ids parameters, no
#            modprobe options; vfio_pci still loaded): edu must NOT be bound
# Checked for every case: the build and its overlay; iPXE fetched every
# file; the guest booted and reported; /proc/cmdline equals OUT/<host>/cmdline
# token for token; the guest loaded exactly the overlay's modules-load.d.
#
# Serial logs, QEMU's messages and the rendered profiles stay in build/e2e/.
# A missing prerequisite (qemu, iPXE ROM, kernel, busybox-static, cpio,
# pxeforge) is a failed test, never a skip.
#
#   PXEFORGE=path      binary (default build/san/pxeforge)
#   TIMEOUT_E2E=s      per-boot timeout (default 150)
#   E2E_JOBS=n         boots at once (default 2)
#   E2E_KVER=kver      kernel to boot (default: the newest with modules)
#   tests/e2e/run.sh [CASE...]   only these cases
set -u

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh
TIMEOUT=${TIMEOUT_E2E:-150}
JOBS=${E2E_JOBS:-2}
LOGS=build/e2e
EDU_ADDR=0000:00:10.0 # boot.sh's default --edu 10.0; the profiles say the same
EDU_ID=1234:11e8

# shellcheck source=tests/e2e/lib.sh
. tests/e2e/lib.sh

declare -A HOST IOMMU EXPECT OVERLAY
HOST[intel]=e2e-intel IOMMU[intel]=intel EXPECT[intel]=vfio OVERLAY[intel]=overlay.cpio.gz
HOST[amd]=e2e-amd IOMMU[amd]=amd EXPECT[amd]=vfio OVERLAY[amd]=overlay.cpio.zst
HOST[control]=e2e-control IOMMU[control]=intel EXPECT[control]=not-vfio OVERLAY[control]=overlay.cpio.gz
cases=(intel amd control)
if [ $# -gt 0 ]; then
	for c in "$@"; do
		if [ -z "${HOST[$c]:-}" ]; then
			echo "tests/e2e/run.sh: unknown case '$c' (known: ${cases[*]})" >&2
			exit 2
		fi
	done
	cases=("$@")
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pxeforge-e2e.XXXXXX") || exit 3
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$LOGS" || exit 3
rm -f "$LOGS"/*.log "$LOGS"/*.yaml
diag=$WORK/diag

# --- prerequisites -----------------------------------------------------------

: >"$diag"
kver=""
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
	echo "missing qemu-system-x86_64 (Debian package qemu-system-x86)" >>"$diag"
fi
if [ ! -e /usr/share/qemu/efi-virtio.rom ] && [ ! -e /usr/lib/ipxe/qemu/efi-virtio.rom ]; then
	echo "missing the iPXE option ROM efi-virtio.rom (Debian package ipxe-qemu)" >>"$diag"
fi
if ! kver=$(e2e_kver); then
	echo "missing a kernel: /boot/vmlinuz-<kver> with /lib/modules/<kver>/modules.dep (Debian package linux-image-amd64)" >>"$diag"
elif [ ! -r "/boot/vmlinuz-$kver" ]; then
	echo "cannot read /boot/vmlinuz-$kver" >>"$diag"
fi
bb=$(command -v busybox 2>/dev/null)
if [ -z "$bb" ]; then
	echo "missing busybox (Debian package busybox-static)" >>"$diag"
elif ldd "$bb" >/dev/null 2>&1; then
	echo "$bb is dynamically linked (install Debian package busybox-static)" >>"$diag"
fi
for tool in cpio gzip timeout; do
	command -v "$tool" >/dev/null 2>&1 || echo "missing $tool (Debian package $tool)" >>"$diag"
done
if [ ! -x "$PXEFORGE" ]; then
	echo "missing the pxeforge binary $PXEFORGE (make)" >>"$diag"
fi
if [ -s "$diag" ]; then
	echo "scripts/deps.sh installs the Debian packages (make check runs it)" >>"$diag"
	fail "e2e: prerequisites" "$diag"
	echo "1..$n"
	exit 0
fi
pass "e2e: prerequisites (kernel $kver, $(qemu-system-x86_64 --version | head -n 1))"

if ! tests/e2e/mkinitrd.sh "$WORK/initrd" >"$diag" 2>&1; then
	fail "e2e: base initrd (tests/e2e/mkinitrd.sh)" "$diag"
	echo "1..$n"
	exit 0
fi

# --- build every case, then boot them, E2E_JOBS at a time --------------------

declare -A BUILT
for c in "${cases[@]}"; do
	host=${HOST[$c]}
	out=$WORK/$c/out
	mkdir -p "$WORK/$c"
	e2e_profile "tests/e2e/profiles/$c.yaml.in" "/lib/modules/$kver" "$LOGS/$c.yaml"
	: >"$diag"
	"$PXEFORGE" build "$LOGS/$c.yaml" -o "$out" -q >"$WORK/$c/build.out" 2>"$WORK/$c/build.err" </dev/null
	rc=$?
	if [ "$rc" -ne 0 ]; then
		{
			echo "pxeforge build $LOGS/$c.yaml exited $rc:"
			cat "$WORK/$c/build.err" "$WORK/$c/build.out"
		} >"$diag"
		fail "$c: pxeforge build tests/e2e/profiles/$c.yaml.in" "$diag"
		BUILT[$c]=0
		continue
	fi
	pass "$c: pxeforge build tests/e2e/profiles/$c.yaml.in"
	BUILT[$c]=1

	# The overlay is pxeforge's, and the host script loads it.
	ov=${OVERLAY[$c]}
	if [ ! -f "$out/$host/$ov" ]; then
		echo "pxeforge wrote no $host/$ov; files:" >>"$diag"
		(cd "$out" && find . -type f | sort) >>"$diag"
	fi
	if ! e2e_images "$out/$host/netboot.ipxe" | grep -qxF "initrd $ov ../$host/$ov"; then
		echo "$host/netboot.ipxe does not load ../$host/$ov; its images:" >>"$diag"
		e2e_images "$out/$host/netboot.ipxe" >>"$diag"
	fi
	if [ -s "$diag" ]; then
		fail "$c: the host script loads pxeforge's overlay $ov" "$diag"
	else
		pass "$c: the host script loads pxeforge's overlay $ov"
	fi
done

boot_case() { # boot_case CASE: writes $WORK/CASE/{rc,seconds}
	local c=$1 start rc
	start=$(date +%s)
	tests/e2e/boot.sh --iommu "${IOMMU[$c]}" --kernel "/boot/vmlinuz-$kver" \
		--initrd "$WORK/initrd" --log "$LOGS/$c.serial.log" --timeout "$TIMEOUT" \
		"$WORK/$c/out" "${HOST[$c]}" >"$LOGS/$c.qemu.log" 2>&1
	rc=$?
	echo "$rc" >"$WORK/$c/rc"
	echo $(($(date +%s) - start)) >"$WORK/$c/seconds"
}
for c in "${cases[@]}"; do
	[ "${BUILT[$c]}" = 1 ] || continue
	while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
		wait -n
	done
	boot_case "$c" &
done
wait

# --- what each guest reported --------------------------------------------------

# tail_log CASE: the end of the serial log and QEMU's messages, for diagnostics.
tail_log() {
	local c=$1
	echo "boot.sh exit status: $(cat "$WORK/$c/rc" 2>/dev/null || echo '?') (124 = timed out after ${TIMEOUT}s)"
	if [ -s "$LOGS/$c.qemu.log" ]; then
		echo "QEMU / boot.sh said ($LOGS/$c.qemu.log):"
		tail -n 8 "$LOGS/$c.qemu.log"
	fi
	echo "last lines of the serial console ($LOGS/$c.serial.log):"
	if [ -s "$WORK/$c/serial" ]; then
		grep -v '^[[:space:]]*$' "$WORK/$c/serial" | tail -n 22
	else
		echo "(nothing: the machine printed no output)"
	fi
}

# field REPORT KEY: the rest of the first "PXEFORGE-E2E KEY ..." line
field() { sed -n "s/^PXEFORGE-E2E $2 //p" "$1" | head -n 1; }

# pci_diag: the guest's IOMMU and PCI report and the kernel's vfio/IOMMU
# messages (uses $groups, $report, $serial of the current case).
pci_diag() {
	echo "IOMMU groups: ${groups:-?}"
	echo "PCI devices in the guest (address id driver):"
	sed -n 's/^PXEFORGE-E2E pci /  /p' "$report"
	grep -E '^PXEFORGE-E2E modprobe-error ' "$report"
	echo "kernel messages about vfio / the IOMMU:"
	grep -aiE 'vfio|iommu|DMAR|AMD-Vi' "$serial" | grep -v 'Command line' | tail -n 12
}

for c in "${cases[@]}"; do
	[ "${BUILT[$c]}" = 1 ] || continue
	host=${HOST[$c]}
	out=$WORK/$c/out
	serial=$WORK/$c/serial
	report=$WORK/$c/report
	# The console log without carriage returns and terminal escapes; the
	# init's report lines from the marker on.
	tr -d '\r\b' 2>/dev/null <"$LOGS/$c.serial.log" |
		sed 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g' >"$serial"
	grep -ao 'PXEFORGE-E2E .*' "$serial" >"$report"
	echo "# $c: boot took $(cat "$WORK/$c/seconds")s"

	# iPXE: the dispatcher, the host script and each image, each "... ok".
	: >"$diag"
	mac=$(e2e_mac "$out" "$host")
	want=("boot.ipxe" "hosts/${mac//:/-}.ipxe")
	while read -r _ _ url; do want+=("$url"); done < <(e2e_images "$out/$host/netboot.ipxe")
	for f in "${want[@]}"; do
		if ! grep -aF -- "$f..." "$serial" | grep -q 'ok[[:space:]]*$'; then
			echo "iPXE did not report '$f... ok'" >>"$diag"
		fi
	done
	if [ -s "$diag" ]; then
		tail_log "$c" >>"$diag"
		fail "$c: iPXE fetched boot.ipxe, hosts/${mac//:/-}.ipxe and every image over TFTP" "$diag"
	else
		pass "$c: iPXE fetched boot.ipxe, hosts/${mac//:/-}.ipxe and every image over TFTP"
	fi

	# The kernel ran /init and it got to the end of its report.
	: >"$diag"
	if ! grep -qx 'PXEFORGE-E2E begin' "$report"; then
		echo "the guest never reported: the kernel did not boot or did not run the initrd's /init" >"$diag"
	elif ! grep -qx 'PXEFORGE-E2E end' "$report"; then
		echo "the guest's report stopped before its end" >"$diag"
	fi
	if [ -s "$diag" ]; then
		tail_log "$c" >>"$diag"
		fail "$c: the guest booted the kernel and the initrd's /init reported" "$diag"
		booted=0
	else
		pass "$c: the guest booted the kernel ($(field "$report" kernel)) and the initrd's /init reported"
		booted=1
	fi
	noreport="no report from the guest (see the boot test above)"

	# /proc/cmdline, token for token
	: >"$diag"
	if [ "$booted" = 0 ]; then
		echo "$noreport" >"$diag"
	else
		read -r -a got <<<"$(field "$report" cmdline)"
		read -r -a exp <"$out/$host/cmdline"
		if [ "${got[*]}" != "${exp[*]}" ]; then
			diff -u --label "OUT/$host/cmdline" --label "guest /proc/cmdline" \
				<(printf '%s\n' "${exp[@]}") <(printf '%s\n' "${got[@]}") >"$diag"
		fi
	fi
	if [ -s "$diag" ]; then
		fail "$c: /proc/cmdline equals OUT/$host/cmdline token for token" "$diag"
	else
		pass "$c: /proc/cmdline equals OUT/$host/cmdline token for token"
	fi

	# The modules the overlay lists, as pxeforge wrote them to the out tree,
	# are the ones the guest loaded, all successfully.
	: >"$diag"
	: >"$WORK/$c/mods.want"
	if [ "$booted" = 0 ]; then
		echo "$noreport" >"$diag"
	else
		cat "$out/$host"/modules-load.d/*.conf 2>/dev/null |
			sed 's/[#;].*//' | awk 'NF { print $1 }' >"$WORK/$c/mods.want"
		sed -n 's/^PXEFORGE-E2E modprobe \([^ ]*\) .*/\1/p' "$report" >"$WORK/$c/mods.got"
		if [ ! -s "$WORK/$c/mods.want" ]; then
			echo "OUT/$host/modules-load.d/*.conf lists no module" >>"$diag"
		elif ! diff -u --label "OUT/$host/modules-load.d" --label "loaded in the guest" \
			"$WORK/$c/mods.want" "$WORK/$c/mods.got" >>"$diag"; then
			echo "(the guest loads what the overlay's /etc/modules-load.d lists)" >>"$diag"
		fi
		grep -E '^PXEFORGE-E2E modprobe(-error)? ' "$report" | grep -v ' ok$' >>"$diag"
	fi
	nmods=$(wc -l <"$WORK/$c/mods.want")
	if [ -s "$diag" ]; then
		fail "$c: the guest loaded the overlay's modules ($(tr '\n' ' ' <"$WORK/$c/mods.want" | sed 's/ $//'))" "$diag"
	else
		pass "$c: the guest loaded the overlay's $nmods modules ($(tr '\n' ' ' <"$WORK/$c/mods.want" | sed 's/ $//'))"
	fi

	groups=$(field "$report" iommu_groups)
	edu=$(grep -x "PXEFORGE-E2E pci $EDU_ADDR $EDU_ID [^ ]*" "$report" | head -n 1)
	driver=${edu##* }
	if [ "${EXPECT[$c]}" = vfio ]; then
		: >"$diag"
		if [ "$booted" = 0 ]; then
			echo "$noreport" >"$diag"
		elif ! [[ $groups =~ ^[0-9]+$ ]] || [ "$groups" -eq 0 ]; then
			echo "no IOMMU groups in /sys/kernel/iommu_groups: the IOMMU is off" >"$diag"
			pci_diag >>"$diag"
		fi
		if [ -s "$diag" ]; then
			fail "$c: the guest has IOMMU groups" "$diag"
		else
			pass "$c: the guest has IOMMU groups ($groups)"
		fi

		: >"$diag"
		if [ "$booted" = 0 ]; then
			echo "$noreport" >"$diag"
		elif [ -z "$edu" ]; then
			echo "no PCI device $EDU_ADDR with id $EDU_ID in the guest" >"$diag"
			pci_diag >>"$diag"
		elif [ "$driver" != vfio-pci ]; then
			echo "$EDU_ADDR ($EDU_ID) is bound to '$driver', not vfio-pci" >"$diag"
			pci_diag >>"$diag"
		fi
		if [ -s "$diag" ]; then
			fail "$c: edu $EDU_ADDR ($EDU_ID) is bound to vfio-pci" "$diag"
		else
			pass "$c: edu $EDU_ADDR ($EDU_ID) is bound to vfio-pci"
		fi
	else
		: >"$diag"
		if [ "$booted" = 0 ]; then
			echo "$noreport" >"$diag"
		elif [ -z "$edu" ]; then
			echo "no PCI device $EDU_ADDR with id $EDU_ID in the guest, so 'not bound' proves nothing" >"$diag"
			pci_diag >>"$diag"
		elif [ "$driver" = vfio-pci ]; then
			echo "$EDU_ADDR ($EDU_ID) is bound to vfio-pci although the control's profile hands it to no VM" >"$diag"
			pci_diag >>"$diag"
		fi
		if [ -s "$diag" ]; then
			fail "$c: edu $EDU_ADDR ($EDU_ID) is present and NOT bound to vfio-pci" "$diag"
		else
			pass "$c: edu $EDU_ADDR ($EDU_ID) is present and NOT bound to vfio-pci (driver: $driver, IOMMU groups: ${groups:-?})"
		fi
	fi

	# What the guest found in the NoCloud seed directory (not checked yet).
	sed -n 's/^PXEFORGE-E2E nocloud /# '"$c"': nocloud: /p' "$report"
done

echo "1..$n"
exit 0
