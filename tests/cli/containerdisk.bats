#!/usr/bin/env bats
# pxeforge containerdisk DISK -o FILE: a KubeVirt containerDisk as an OCI
# archive, read by real OCI tools: skopeo (inspect, copy) and umoci (unpack).

load helpers

# A disk image that is not all zeros: 3 MiB of random bytes, then a text.
make_disk() {
	head -c 3145728 /dev/urandom >"$1"
	echo "end of $1" >>"$1"
}

# The layer digest skopeo reports, and the first layer's media type.
skopeo_layer() {
	skopeo inspect "oci-archive:$1" |
		python3 -c 'import json,sys; l=json.load(sys.stdin)["Layers"]; assert len(l) == 1, l; print(l[0])'
}

skopeo_layer_type() {
	skopeo inspect --raw "oci-archive:$1" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["layers"][0]["mediaType"])'
}

# unpack_check BUNDLE DISK NAME: the unpacked disk is DISK's bytes,
# 107:107 mode 0440, in disk/ 107:107 mode 0555, and alone there.
unpack_check() {
	local root=$1/rootfs
	cmp "$2" "$root/disk/$3"
	assert_equal "$(stat -c '%u:%g %a' "$root/disk/$3")" "107:107 440"
	assert_equal "$(stat -c '%u:%g %a' "$root/disk")" "107:107 555"
	assert_equal "$(ls -A "$root")" "disk"
	assert_equal "$(ls -A "$root/disk")" "$3"
}

@test "skopeo inspects the archive; its layer digest is the blob's sha256" {
	make_disk "$TMP/fedora.qcow2"
	run "$PXEFORGE" containerdisk "$TMP/fedora.qcow2" -o "$TMP/cd.tar"
	assert_success
	sha=$(sha256sum "$TMP/cd.tar" | cut -d' ' -f1)
	size=$(stat -c %s "$TMP/cd.tar")
	assert_output "pxeforge: $TMP/cd.tar: containerDisk (gzip layer), $size bytes, sha256 $sha"
	run skopeo inspect "oci-archive:$TMP/cd.tar"
	assert_success
	assert_output --partial '"Architecture": "amd64"'
	assert_output --partial '"Os": "linux"'
	layer=$(skopeo_layer "$TMP/cd.tar")
	mkdir "$TMP/x"
	tar -xf "$TMP/cd.tar" -C "$TMP/x"
	assert_equal "sha256:$(sha256sum "$TMP/x/blobs/sha256/${layer#sha256:}" | cut -d' ' -f1)" "$layer"
	assert_equal "$(skopeo_layer_type "$TMP/cd.tar")" "application/vnd.oci.image.layer.v1.tar+gzip"
	# the outer tar: sorted, root-owned, mtime SOURCE_DATE_EPOCH (0)
	run tar -tvf "$TMP/cd.tar"
	assert_success
	names=$(tar -tf "$TMP/cd.tar")
	assert_equal "$names" "$(LC_ALL=C sort <<<"$names")"
	assert_equal "$(head -n 2 <<<"$names")" $'blobs/\nblobs/sha256/'
	assert_equal "$(tail -n 2 <<<"$names")" $'index.json\noci-layout'
	[ "$(grep -c ' root/root .* 1970-01-01 00:00 ' <<<"$output")" -eq 7 ]
}

@test "umoci unpacks the gzip layer: the disk's bytes, 107:107, mode 0440" {
	make_disk "$TMP/disk.img"
	"$PXEFORGE" containerdisk -q "$TMP/disk.img" -o "$TMP/cd.tar" --ref latest
	mkdir "$TMP/layout"
	tar -xf "$TMP/cd.tar" -C "$TMP/layout"
	# umoci checks each blob's digest and the layer's diff_id
	run umoci unpack --image "$TMP/layout:latest" "$TMP/bundle"
	assert_success
	unpack_check "$TMP/bundle" "$TMP/disk.img" disk.img
}

@test "a zstd layer: skopeo reads it (digests checked), umoci unpacks its gzip copy" {
	make_disk "$TMP/disk.raw"
	run "$PXEFORGE" containerdisk "$TMP/disk.raw" -o "$TMP/cd.tar" \
		--compress zstd --name root.raw
	assert_success
	assert_output --partial "containerDisk (zstd layer)"
	assert_equal "$(skopeo_layer_type "$TMP/cd.tar")" "application/vnd.oci.image.layer.v1.tar+zstd"
	layer=$(skopeo_layer "$TMP/cd.tar")
	mkdir "$TMP/x"
	tar -xf "$TMP/cd.tar" -C "$TMP/x"
	assert_equal "$(head -c 4 "$TMP/x/blobs/sha256/${layer#sha256:}" | od -An -tx1 | tr -d ' ')" 28b52ffd
	# umoci 0.4 has no zstd: skopeo decompresses (and verifies) the layer
	run skopeo copy --dest-compress --dest-compress-format gzip \
		"oci-archive:$TMP/cd.tar" "oci:$TMP/layout:latest"
	assert_success
	run umoci unpack --image "$TMP/layout:latest" "$TMP/bundle"
	assert_success
	unpack_check "$TMP/bundle" "$TMP/disk.raw" root.raw
}

@test "byte-identical across runs and directories; an unchanged FILE is kept" {
	make_disk "$TMP/d.qcow2"
	for c in gzip zstd; do
		"$PXEFORGE" containerdisk -q "$TMP/d.qcow2" -o "$TMP/a-$c.tar" -c "$c"
		before=$(stat -c '%i %Y' "$TMP/a-$c.tar")
		sleep 1
		mkdir -p "$TMP/other"
		(cd "$TMP/other" && "$PXEFORGE" containerdisk -q ../d.qcow2 -o "b-$c.tar" -c "$c")
		cmp "$TMP/a-$c.tar" "$TMP/other/b-$c.tar"
		run "$PXEFORGE" containerdisk "$TMP/d.qcow2" -o "$TMP/a-$c.tar" -c "$c"
		assert_success
		assert_output --partial "(unchanged)"
		assert_equal "$(stat -c '%i %Y' "$TMP/a-$c.tar")" "$before"
	done
	! cmp -s "$TMP/a-gzip.tar" "$TMP/a-zstd.tar" || false
	# another SOURCE_DATE_EPOCH: other bytes, that time on every entry
	SOURCE_DATE_EPOCH=1700000000 "$PXEFORGE" containerdisk -q "$TMP/d.qcow2" -o "$TMP/t.tar"
	! cmp -s "$TMP/a-gzip.tar" "$TMP/t.tar" || false
	run skopeo inspect "oci-archive:$TMP/t.tar"
	assert_output --partial '"Created": "2023-11-14T22:13:20Z"'
	[ -z "$(find "$TMP" -name '.pxeforge-tmp-*')" ]
}

@test "an unreadable DISK is an I/O error (exit 3) and writes nothing" {
	run "$PXEFORGE" containerdisk "$TMP/nope.qcow2" -o "$TMP/cd.tar"
	assert_failure 3
	assert_output "pxeforge: error: cannot read '$TMP/nope.qcow2': No such file or directory"
	[ ! -e "$TMP/cd.tar" ]
	run "$PXEFORGE" containerdisk "$TMP" -o "$TMP/cd.tar" --name x
	assert_failure 3
	assert_output "pxeforge: error: cannot read '$TMP': Is a directory"
	make_disk "$TMP/d.img"
	run "$PXEFORGE" containerdisk "$TMP/d.img" -o "$TMP/no/cd.tar"
	assert_failure 3
	assert_output "pxeforge: error: cannot write '$TMP/no/cd.tar': No such file or directory"
	[ -z "$(find "$TMP" -name '.pxeforge-tmp-*')" ]
}

@test "usage errors (exit 2) and a DISK name that cannot go under disk/ (exit 1)" {
	make_disk "$TMP/d.img"
	run "$PXEFORGE" containerdisk "$TMP/d.img"
	assert_failure 2
	assert_output --partial "missing -o FILE"
	assert_output --partial "Try 'pxeforge containerdisk --help'."
	run "$PXEFORGE" containerdisk -o "$TMP/cd.tar"
	assert_failure 2
	assert_output --partial "missing DISK"
	run "$PXEFORGE" containerdisk "$TMP/d.img" "$TMP/d.img" -o "$TMP/cd.tar"
	assert_failure 2
	assert_output --partial "too many arguments"
	run "$PXEFORGE" containerdisk "$TMP/d.img" -o "$TMP/cd.tar" --compress xz
	assert_failure 2
	assert_output --partial "unknown compression 'xz' (gzip or zstd)"
	run "$PXEFORGE" containerdisk "$TMP/d.img" -o "$TMP/cd.tar" --name a/b
	assert_failure 2
	assert_output --partial "invalid name 'a/b'"
	run "$PXEFORGE" containerdisk "$TMP/d.img" -o "$TMP/cd.tar" --ref ' x'
	assert_failure 2
	run "$PXEFORGE" containerdisk "$TMP/d.img" -o "$TMP/cd.tar" --frobnicate
	assert_failure 2
	SOURCE_DATE_EPOCH=yesterday run "$PXEFORGE" containerdisk "$TMP/d.img" -o "$TMP/cd.tar"
	assert_failure 2
	assert_output --partial "SOURCE_DATE_EPOCH 'yesterday'"
	cp "$TMP/d.img" "$TMP/disque-é.img"
	run "$PXEFORGE" containerdisk "$TMP/disque-é.img" -o "$TMP/cd.tar"
	assert_failure 1
	assert_output --partial "give one with --name"
	[ ! -e "$TMP/cd.tar" ]
}

@test "containerdisk --help, and the overview lists it" {
	run "$PXEFORGE" containerdisk --help
	assert_success
	assert_output --partial "usage: pxeforge containerdisk DISK -o FILE"
	assert_output --partial "107:107"
	assert_output --partial "Exit status: 0 ok"
	run "$PXEFORGE" --help
	assert_success
	assert_output --partial "containerdisk DISK -o FILE"
}
