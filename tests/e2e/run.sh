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
#   intel    cpu intel, -device intel-iommu: edu must be bound to vfio-pci;
#            cloud-init seed in the overlay: the guest's
#            /var/lib/cloud/seed/nocloud must hold exactly the files of
#            OUT/<host>/cloud-init/, same size and SHA-256, user-data 0600
#            and the others 0644
#   amd      cpu amd, -device amd-iommu, zstd overlay: edu must be bound to
#            vfio-pci; cloud-init seed_url: /proc/cmdline must carry
#            ds=nocloud;s=<seed_url>/<host>/cloud-init/ and the guest must
#            have no seed directory
#   control  edu with role host (no IOMMU/vfio-pci.ids parameters, no
#            modprobe options; vfio_pci still loaded): edu must NOT be bound;
#            no cloud-init: no seed directory
# Checked for every case: the build and its overlay; iPXE fetched every
# file; the guest booted and reported; /proc/cmdline equals OUT/<host>/cmdline
# token for token; the guest loaded exactly the overlay's modules-load.d;
# the NoCloud seed as above. The guest reports seed files by size, mode and
# SHA-256, never their content (user-data holds the node's secrets).
#
# Serial logs, QEMU's messages, the rendered profiles and the cluster secret
# they name (made afresh by `pxeforge secret init` on every run) stay in
# build/e2e/.
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

# SEED: where the case's NoCloud seed is: overlay, url (SEED_URL, as in
# its profile) or none.
declare -A HOST IOMMU EXPECT OVERLAY SEED SEED_URL
HOST[intel]=e2e-intel IOMMU[intel]=intel EXPECT[intel]=vfio OVERLAY[intel]=overlay.cpio.gz SEED[intel]=overlay
HOST[amd]=e2e-amd IOMMU[amd]=amd EXPECT[amd]=vfio OVERLAY[amd]=overlay.cpio.zst SEED[amd]=url
SEED_URL[amd]=http://10.0.2.2/pxe
HOST[control]=e2e-control IOMMU[control]=intel EXPECT[control]=not-vfio OVERLAY[control]=overlay.cpio.gz SEED[control]=none
# The seed files pxeforge writes for the overlay case, with the mode it packs.
NOCLOUD_FILES=(meta-data network-config user-data)
declare -A NOCLOUD_MODE=([meta-data]=0644 [network-config]=0644 [user-data]=0600)
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
rm -f "$LOGS"/*.log "$LOGS"/*.yaml "$LOGS/cluster.key"
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

# The profiles' cluster secret, new on every run (secret init never
# overwrites); absolute, as the rendered profiles name it.
key=$PWD/$LOGS/cluster.key
if ! "$PXEFORGE" secret init "$key" >"$diag" 2>&1 </dev/null; then
	fail "e2e: pxeforge secret init $LOGS/cluster.key" "$diag"
	echo "1..$n"
	exit 0
fi

# --- build every case, then boot them, E2E_JOBS at a time --------------------

declare -A BUILT
for c in "${cases[@]}"; do
	host=${HOST[$c]}
	out=$WORK/$c/out
	mkdir -p "$WORK/$c"
	: >"$diag"
	if ! e2e_profile "tests/e2e/profiles/$c.yaml.in" "/lib/modules/$kver" "$key" "$LOGS/$c.yaml"; then
		{
			echo "cannot render tests/e2e/profiles/$c.yaml.in; placeholders left:"
			grep -noE '@[A-Z_]+@' "$LOGS/$c.yaml"
		} >"$diag"
		fail "$c: pxeforge build tests/e2e/profiles/$c.yaml.in" "$diag"
		BUILT[$c]=0
		continue
	fi
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

	# The payloads the boot checks against are the ones the profile means.
	: >"$diag"
	ci=$out/$host/cloud-init
	case ${SEED[$c]} in
	overlay)
		what="OUT/$host/cloud-init has ${NOCLOUD_FILES[*]}; user-data has the node password and containerd's files"
		for f in "${NOCLOUD_FILES[@]}"; do
			[ -s "$ci/$f" ] || echo "pxeforge wrote no (or an empty) $host/cloud-init/$f" >>"$diag"
		done
		# Paths only: the lines' content is secret.
		for p in /etc/rancher/node/password /etc/rancher/k3s/config.yaml \
			/var/lib/rancher/k3s/agent/etc/containerd/config-v3.toml.tmpl \
			/etc/containerd/cdi.toml; do
			grep -qxF -- "- path: $p" "$ci/user-data" 2>/dev/null ||
				echo "$host/cloud-init/user-data writes no $p" >>"$diag"
		done
		;;
	url)
		tok="ds=nocloud;s=${SEED_URL[$c]}/$host/cloud-init/"
		what="OUT/$host/cmdline carries $tok"
		read -r -a exp <"$out/$host/cmdline"
		printf '%s\n' "${exp[@]}" | grep -qxF -- "$tok" ||
			echo "OUT/$host/cmdline: ${exp[*]}" >"$diag"
		;;
	none)
		what="no OUT/$host/cloud-init"
		[ -e "$ci" ] && echo "pxeforge wrote $host/cloud-init for a profile without cloud_init" >"$diag"
		;;
	esac
	if [ -s "$diag" ]; then
		fail "$c: $what" "$diag"
	else
		pass "$c: $what"
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

	# The NoCloud seed directory, as the guest found it.
	: >"$diag"
	sed -n 's/^PXEFORGE-E2E nocloud //p' "$report" >"$WORK/$c/nocloud.got"
	case ${SEED[$c]} in
	overlay)
		# Every file of OUT/<host>/cloud-init, none missing, none extra,
		# the same bytes (size, SHA-256) with the mode pxeforge packs.
		what="the guest's /var/lib/cloud/seed/nocloud holds exactly OUT/$host/cloud-init's files, same size, SHA-256 and mode"
		for p in "$out/$host/cloud-init"/*; do
			[ -f "$p" ] || continue
			f=${p##*/}
			sum=$(sha256sum <"$p")
			echo "file $f $(stat -c %s "$p") ${NOCLOUD_MODE[$f]:-0644} ${sum%% *}"
		done | LC_ALL=C sort >"$WORK/$c/nocloud.want"
		LC_ALL=C sort -o "$WORK/$c/nocloud.got" "$WORK/$c/nocloud.got"
		if [ "$booted" = 0 ]; then
			echo "$noreport" >"$diag"
		elif ! diff -u --label "OUT/$host/cloud-init (file name size mode sha256)" \
			--label "guest /var/lib/cloud/seed/nocloud" \
			"$WORK/$c/nocloud.want" "$WORK/$c/nocloud.got" >"$diag"; then
			echo "(\"absent\": no seed directory in the guest; \"other\": not a regular file)" >>"$diag"
		fi
		;;
	url)
		tok="ds=nocloud;s=${SEED_URL[$c]}/$host/cloud-init/"
		what="/proc/cmdline carries $tok and the guest has no seed directory"
		if [ "$booted" = 0 ]; then
			echo "$noreport" >"$diag"
		else
			read -r -a got <<<"$(field "$report" cmdline)"
			printf '%s\n' "${got[@]}" | grep -qxF -- "$tok" ||
				echo "guest /proc/cmdline: ${got[*]}" >>"$diag"
			if [ "$(cat "$WORK/$c/nocloud.got")" != absent ]; then
				echo "the seed should be fetched, not in the overlay; the guest reported:" >>"$diag"
				cat "$WORK/$c/nocloud.got" >>"$diag"
			fi
		fi
		;;
	none)
		what="the guest has no seed directory (no cloud_init)"
		if [ "$booted" = 0 ]; then
			echo "$noreport" >"$diag"
		elif [ "$(cat "$WORK/$c/nocloud.got")" != absent ]; then
			echo "the guest reported:" >"$diag"
			cat "$WORK/$c/nocloud.got" >>"$diag"
		fi
		;;
	esac
	if [ -s "$diag" ]; then
		fail "$c: $what" "$diag"
	else
		pass "$c: $what"
	fi
done

echo "1..$n"
exit 0
