#!/usr/bin/env bats
# pxeforge verify OUT: the tree against its manifest.json.

load helpers

build() {
	"$PXEFORGE" build -q examples/c4140.yaml -o "$TMP/out"
}

@test "verify: a fresh tree matches (exit 0)" {
	build
	run "$PXEFORGE" verify "$TMP/out"
	assert_success
	assert_output "$TMP/out: ok (17 files match manifest.json)"
	run "$PXEFORGE" verify -q "$TMP/out"
	assert_success
	assert_output ''
}

@test "verify: a changed file is named with both hashes (exit 1)" {
	build
	want=$(sha256sum "$TMP/out/c4140/cmdline" | cut -d' ' -f1)
	sed -i 's/iommu=pt/iommu=PT/' "$TMP/out/c4140/cmdline"
	got=$(sha256sum "$TMP/out/c4140/cmdline" | cut -d' ' -f1)
	run "$PXEFORGE" verify "$TMP/out"
	assert_failure 1
	assert_line "pxeforge: 'c4140/cmdline': sha256 differs (manifest $want, file $got)"
	assert_line "$TMP/out: 1 difference (17 files in manifest.json)"
}

@test "verify: a file of another size, a missing one, an extra one (exit 1)" {
	build
	echo more >>"$TMP/out/boot.ipxe"
	size=$(grep -A2 '"path": "boot.ipxe"' "$TMP/out/manifest.json" | sed -n 's/.*"size": \([0-9]*\).*/\1/p')
	rm "$TMP/out/c4140/nixos/boot.nix"
	echo hello >"$TMP/out/extra.txt"
	echo hello >"$TMP/out/c4140/notes"
	# strays too: a secret the state file does not record, a killed
	# build's temporary file
	echo pw >"$TMP/out/c4140/password" && chmod 600 "$TMP/out/c4140/password"
	echo x >"$TMP/out/.pxeforge-tmp-abc123"
	run "$PXEFORGE" verify "$TMP/out"
	assert_failure 1
	assert_line --index 0 "pxeforge: '.pxeforge-tmp-abc123': not in manifest"
	assert_line --index 1 "pxeforge: 'boot.ipxe': size differs (manifest $size, file $((size + 5)))"
	assert_line --index 2 "pxeforge: 'c4140/nixos/boot.nix': missing"
	assert_line --index 3 "pxeforge: 'c4140/notes': not in manifest"
	assert_line --index 4 "pxeforge: 'c4140/password': not in manifest"
	assert_line --index 5 "pxeforge: 'extra.txt': not in manifest"
	assert_line --index 6 "$TMP/out: 6 differences (17 files in manifest.json)"
	assert_equal "${#lines[@]}" 7
}

@test "verify: a symlink in place of a listed file is reported" {
	build
	rm "$TMP/out/c4140/cmdline"
	ln -s /etc/hostname "$TMP/out/c4140/cmdline"
	run "$PXEFORGE" verify "$TMP/out"
	assert_failure 1
	assert_line "pxeforge: 'c4140/cmdline': not a regular file"
}

@test "verify: no manifest is an I/O error (exit 3); a broken one is invalid (exit 1)" {
	run "$PXEFORGE" verify "$TMP/nothing"
	assert_failure 3
	assert_output "pxeforge: error: cannot read '$TMP/nothing/manifest.json': No such file or directory"
	build
	rm "$TMP/out/manifest.json"
	run "$PXEFORGE" verify "$TMP/out"
	assert_failure 3
	echo '{"files": [{"path": "../etc/passwd", "sha256": "00", "size": 1}]}' >"$TMP/out/manifest.json"
	run "$PXEFORGE" verify "$TMP/out"
	assert_failure 1
	assert_output --partial "'$TMP/out/manifest.json' is not a pxeforge manifest:"
	echo '{"files": [' >"$TMP/out/manifest.json"
	run "$PXEFORGE" verify "$TMP/out"
	assert_failure 1
	assert_output --partial "is not a pxeforge manifest: line"
}

@test "verify: usage errors (exit 2) and --help" {
	run "$PXEFORGE" verify
	assert_failure 2
	assert_output --partial "missing OUT"
	run "$PXEFORGE" verify a b
	assert_failure 2
	run "$PXEFORGE" verify --frobnicate out
	assert_failure 2
	run "$PXEFORGE" verify --help
	assert_success
	assert_output --partial "usage: pxeforge verify OUT"
	assert_output --partial "not in manifest"
	run "$PXEFORGE" --help
	assert_output --partial "verify OUT"
}

@test "incremental: a second build rewrites nothing and keeps every mtime" {
	build
	before=$(cd "$TMP/out" && find . -type f -exec stat -c '%n %y %i' {} + | sort)
	sleep 1
	run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/out"
	assert_success
	assert_output --partial "(0 rewritten)"
	after=$(cd "$TMP/out" && find . -type f -exec stat -c '%n %y %i' {} + | sort)
	assert_equal "$after" "$before"
}

@test "incremental: files of hosts no longer built are removed, others' files stay" {
	two() {
		cat <<-YAML
		version: 1
		hosts:
		  - name: a
		    macs: ["52:54:00:00:00:01"]
		    cpu: intel
		    gpus: [{ address: "0000:1a:00.0", id: "10de:1db1", role: vfio }]
		YAML
		[ "$1" = 2 ] && cat <<-YAML
		  - name: b
		    macs: ["52:54:00:00:00:02"]
		    cpu: amd
		    gpus: [{ address: "0000:1a:00.0", id: "10de:1db1", role: vfio }]
		YAML
		true
	}
	two 2 >"$TMP/two.yaml"
	two 1 >"$TMP/one.yaml"
	"$PXEFORGE" build -q "$TMP/two.yaml" -o "$TMP/out"
	[ -f "$TMP/out/b/cmdline" ]
	[ -f "$TMP/out/hosts/52-54-00-00-00-02.ipxe" ]
	echo mine >"$TMP/out/README.local"
	echo mine >"$TMP/out/hosts/custom.ipxe"
	nb=$(find "$TMP/out/b" -type f | wc -l)
	run "$PXEFORGE" build "$TMP/one.yaml" -o "$TMP/out"
	assert_success
	assert_output --partial ", $((nb + 1)) removed)"
	[ ! -e "$TMP/out/b" ]
	[ ! -e "$TMP/out/hosts/52-54-00-00-00-02.ipxe" ]
	[ -f "$TMP/out/hosts/52-54-00-00-00-01.ipxe" ]
	[ -f "$TMP/out/README.local" ]
	[ -f "$TMP/out/hosts/custom.ipxe" ]
	# the tree matches its manifest but for the files pxeforge never wrote
	run "$PXEFORGE" verify "$TMP/out"
	assert_failure 1
	assert_line "pxeforge: 'README.local': not in manifest"
	assert_line "pxeforge: 'hosts/custom.ipxe': not in manifest"
	assert_equal "${#lines[@]}" 3
}
