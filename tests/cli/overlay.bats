#!/usr/bin/env bats
# The initrd overlay (OUT/<host>/overlay.cpio.*), built from the machine's
# real kernel modules tree (Debian's linux-image-amd64, a test dependency).

load helpers

# The newest /lib/modules/<kver> with an index; none is a failure.
modules_tree() {
	local d best=
	for d in /lib/modules/*/; do
		[ -f "$d/modules.dep.bin" ] && best=${d%/}
	done
	[ -n "$best" ] || fail "no /lib/modules/<kver> with modules.dep.bin (install linux-image-amd64)"
	echo "$best"
}

profile() { # profile FILE MODULES_DIR [EXTRA HOST LINES...]
	local file=$1 dir=$2
	shift 2
	# QEMU's edu device, the stand-in GPU, is in no pci.ids
	printf '1234  QEMU test devices\n\t11e8  edu\n' >"$TMP/pci.ids"
	export PXEFORGE_PCI_IDS="$TMP/pci.ids"
	{
		echo "hosts:"
		echo "  - name: lab"
		echo "    macs: [\"52:54:00:12:34:56\"]"
		echo "    cpu: intel"
		echo "    modules_dir: $dir"
		echo "    gpus: [{ address: \"0000:00:04.0\", id: \"1234:11e8\", role: vfio }]"
		printf '    %s\n' "$@"
	} >"$file"
}

@test "the overlay carries the VFIO config and the closure of vfio_pci" {
	tree=$(modules_tree)
	kver=${tree##*/}
	profile "$TMP/p.yaml" "$tree"
	run "$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out"
	assert_success
	run bsdtar -tvf "$TMP/out/lab/overlay.cpio.gz" --numeric-owner
	assert_success
	list=$output
	# owner 0/0 throughout
	[ -z "$(awk '$3 != 0 || $4 != 0' <<<"$list")" ] || fail "entries not owned by 0/0: $list"
	names=$(bsdtar -tf "$TMP/out/lab/overlay.cpio.gz")
	[ "$names" = "$(LC_ALL=C sort <<<"$names")" ] || fail "entries not sorted"
	for f in etc etc/modprobe.d etc/modprobe.d/vfio.conf etc/modules-load.d/vfio.conf \
		lib/modules/$kver/modules.dep lib/modules/$kver/modules.dep.bin; do
		grep -qx "$f" <<<"$names" || fail "'$f' missing from the overlay"
	done
	# vfio-pci.ko and every dependency modules.dep gives it
	deps=$(grep -E '^[^:]*/vfio-pci\.ko(\.[a-z]+)?:' "$tree/modules.dep")
	[ -n "$deps" ] || fail "no vfio-pci in $tree/modules.dep"
	for m in ${deps/:/}; do
		grep -qx "lib/modules/$kver/$m" <<<"$names" || fail "'$m' missing from the overlay"
	done
	run sh -c "bsdtar -xOf '$TMP/out/lab/overlay.cpio.gz' etc/modprobe.d/vfio.conf"
	assert_output --partial 'options vfio-pci ids=1234:11e8'
	run sh -c "bsdtar -xOf '$TMP/out/lab/overlay.cpio.gz' etc/modules-load.d/vfio.conf"
	assert_line --index 1 vfio_pci
	# the script loads it after the base initrd, and the kernel line names it
	grep -q '^initrd --name overlay.cpio.gz ../lab/overlay.cpio.gz ' "$TMP/out/lab/netboot.ipxe"
	assert_equal "$(grep -o 'initrd=[^ ]*' "$TMP/out/lab/cmdline" | tr '\n' ' ')" \
		"initrd=initrd initrd=overlay.cpio.gz "
	grep -q '"path": "lab/overlay.cpio.gz"' "$TMP/out/manifest.json"
}

@test "the overlay is byte-identical across builds; SOURCE_DATE_EPOCH sets its mtimes" {
	profile "$TMP/p.yaml" "$(modules_tree)"
	"$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/a"
	sleep 1
	"$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/b"
	cmp "$TMP/a/lab/overlay.cpio.gz" "$TMP/b/lab/overlay.cpio.gz"
	SOURCE_DATE_EPOCH=1700000000 "$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/c"
	! cmp -s "$TMP/a/lab/overlay.cpio.gz" "$TMP/c/lab/overlay.cpio.gz" || false
	run bsdtar -tvf "$TMP/c/lab/overlay.cpio.gz" etc
	assert_output --partial 'Nov 14  2023'
}

@test "overlay_compression: zstd writes overlay.cpio.zst and the script loads it" {
	profile "$TMP/p.yaml" "$(modules_tree)" "overlay_compression: zstd"
	run "$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out"
	assert_success
	[ ! -e "$TMP/out/lab/overlay.cpio.gz" ]
	assert_equal "$(head -c 4 "$TMP/out/lab/overlay.cpio.zst" | od -An -tx1 | tr -d ' ')" 28b52ffd
	bsdtar -tf "$TMP/out/lab/overlay.cpio.zst" | grep -qx etc/modprobe.d/vfio.conf
	grep -q 'initrd=overlay.cpio.zst' "$TMP/out/lab/cmdline"
}

@test "a module the tree does not have is an error at its place; nothing is written" {
	tree=$(modules_tree)
	profile "$TMP/p.yaml" "$tree" "initrd_modules: [nvme, no_such_module]"
	run "$PXEFORGE" build "$TMP/p.yaml" -o "$TMP/out"
	assert_failure 1
	assert_output "$TMP/p.yaml:7:28: error: module 'no_such_module' not found in modules tree '$tree' (kernel ${tree##*/})"
	[ ! -e "$TMP/out" ]
	run "$PXEFORGE" check "$TMP/p.yaml"
	assert_failure 1
}

@test "a modules tree that cannot be read is an error naming it; nothing is written" {
	profile "$TMP/p.yaml" "$TMP/no/such/tree"
	run "$PXEFORGE" build "$TMP/p.yaml" -o "$TMP/out"
	assert_failure 1
	assert_output "$TMP/p.yaml:5:18: error: cannot read modules tree '$TMP/no/such/tree': No such file or directory"
	[ ! -e "$TMP/out" ]
	mkdir "$TMP/empty"
	profile "$TMP/p.yaml" empty
	run "$PXEFORGE" build "$TMP/p.yaml" -o "$TMP/out"
	assert_failure 1
	assert_output "$TMP/p.yaml:5:18: error: modules tree '$TMP/empty' has no readable modules.dep and modules.dep.bin (run 'depmod -b' on it)"
	[ ! -e "$TMP/out" ]
}

@test "an invalid SOURCE_DATE_EPOCH is a usage error" {
	profile "$TMP/p.yaml" "$(modules_tree)"
	SOURCE_DATE_EPOCH=yesterday run "$PXEFORGE" build "$TMP/p.yaml" -o "$TMP/out"
	assert_failure 2
	assert_output --partial "SOURCE_DATE_EPOCH 'yesterday' is not a number"
	[ ! -e "$TMP/out" ]
}
