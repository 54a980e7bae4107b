#!/usr/bin/env bats
# build and check for part of a fleet (--host NAME): the named hosts' files
# are rendered and written, the others' are left as they are (their inode,
# mtime and bytes, checked with stat and sha256sum), boot.ipxe comes from
# the whole profile, and `pxeforge verify` accepts the result.

load helpers

# two hosts with cloud-init and a kernel each from a local source
two_hosts() {
	mkdir -p "$TMP/in"
	"$PXEFORGE" secret init -q "$TMP/in/cluster.key"
	head -c 8192 /dev/urandom >"$TMP/in/kernel-a"
	head -c 8192 /dev/urandom >"$TMP/in/kernel-b"
	cat >"$TMP/in/p.yaml" <<'YAML'
version: 1
cluster_secret: cluster.key
defaults:
  cloud_init:
    network:
      gateway: 10.40.0.1
hosts:
  - name: node-a
    macs: ["52:54:00:40:00:0a"]
    cpu: intel
    kernel_params: [quiet]
    kernel: {name: bzImage, source: kernel-a}
    cloud_init:
      network:
        addresses: [10.40.0.10/24]
  - name: node-b
    macs: ["52:54:00:40:00:0b", "52:54:00:40:01:0b"]
    cpu: amd
    kernel_params: [quiet]
    kernel: {name: bzImage, source: kernel-b}
    cloud_init:
      network:
        addresses: [10.40.0.11/24]
YAML
}

# files_of OUT HOST MAC...: every file of the host in OUT (its directory
# and its MACs' scripts), sorted
files_of() {
	local out=$1 host=$2
	shift 2
	(cd "$out" && find "$host" -type f | sort
	 for m in "$@"; do echo "hosts/$m.ipxe"; done)
}

# snapshot OUT FILE...: "inode mtime sha256 path" of each file
snapshot() {
	local out=$1 f
	shift
	for f in "$@"; do
		printf '%s %s %s\n' "$(stat -c '%i %Y' "$out/$f")" \
			"$(sha256sum <"$out/$f" | cut -c1-64)" "$f"
	done
}

@test "build --host a: a's files change, b's keep inode, mtime and bytes; verify passes" {
	two_hosts
	run "$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	assert_success
	mapfile -t a_files < <(files_of "$TMP/out" node-a 52-54-00-40-00-0a)
	mapfile -t b_files < <(files_of "$TMP/out" node-b 52-54-00-40-00-0b 52-54-00-40-01-0b)
	[ "${#b_files[@]}" -ge 8 ]
	snapshot "$TMP/out" "${a_files[@]}" >"$TMP/a.before"
	snapshot "$TMP/out" "${b_files[@]}" >"$TMP/b.before"
	# both hosts change, b's kernel too: --host a must not copy it
	sed -i 's/kernel_params: \[quiet\]/kernel_params: [quiet, loglevel=3]/' "$TMP/in/p.yaml"
	[ "$(grep -c loglevel=3 "$TMP/in/p.yaml")" -eq 2 ]
	head -c 8192 /dev/urandom >"$TMP/in/kernel-b"
	! cmp -s "$TMP/in/kernel-b" "$TMP/out/node-b/bzImage"
	sleep 1	# a rewritten file gets another mtime
	run "$PXEFORGE" build "$TMP/in/p.yaml" -o "$TMP/out" --host node-a
	assert_success
	assert_output --regexp '^pxeforge: 1 of 2 hosts, [0-9]+ files in '
	snapshot "$TMP/out" "${b_files[@]}" >"$TMP/b.after"
	diff "$TMP/b.before" "$TMP/b.after"
	grep -q 'loglevel=3' "$TMP/out/node-a/cmdline"
	run grep -c 'loglevel=3' "$TMP/out/node-b/cmdline" "$TMP/out/hosts/52-54-00-40-00-0b.ipxe"
	assert_output "$TMP/out/node-b/cmdline:0
$TMP/out/hosts/52-54-00-40-00-0b.ipxe:0"
	grep -q 'loglevel=3' "$TMP/out/hosts/52-54-00-40-00-0a.ipxe"
	snapshot "$TMP/out" "${a_files[@]}" >"$TMP/a.after"
	! diff -q "$TMP/a.before" "$TMP/a.after" >/dev/null
	# a's unchanged kernel is still the one written first
	assert_equal "$(grep ' node-a/bzImage$' "$TMP/a.after")" \
		"$(grep ' node-a/bzImage$' "$TMP/a.before")"
	# the dispatcher still chains every MAC of the fleet
	run grep -c -e '^#   52:54:00:40:00:0a  node-a$' -e '^#   52:54:00:40:00:0b  node-b$' \
		-e '^#   52:54:00:40:01:0b  node-b$' "$TMP/out/boot.ipxe"
	assert_output 3
	# the manifest still lists b's files: OUT is one complete tree
	grep -qF '"path": "node-b/cmdline"' "$TMP/out/manifest.json"
	grep -qF '"path": "node-b/bzImage"' "$TMP/out/manifest.json"
	run "$PXEFORGE" verify "$TMP/out"
	assert_success
	# without --host, b catches up
	run "$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	assert_success
	grep -q 'loglevel=3' "$TMP/out/node-b/cmdline"
	cmp "$TMP/in/kernel-b" "$TMP/out/node-b/bzImage"
}

@test "build --host: repeatable; secrets of the hosts not named stay 0600 and out of the manifest" {
	two_hosts
	run "$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	assert_success
	run "$PXEFORGE" build "$TMP/in/p.yaml" -o "$TMP/out" -H node-a --host node-b
	assert_success
	assert_output --regexp '^pxeforge: 2 of 2 hosts, '
	run "$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out" --host node-a
	assert_success
	assert_equal "$(stat -c %a "$TMP/out/node-b/cloud-init/user-data")" 600
	run grep -F 'node-b/cloud-init/user-data' "$TMP/out/manifest.json"
	assert_failure
	run "$PXEFORGE" verify "$TMP/out"
	assert_success
}

@test "build --host with an unknown name: exit 2, the closest name, OUT untouched" {
	two_hosts
	run "$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	assert_success
	find "$TMP/out" -printf '%P %i %T@\n' | sort >"$TMP/before"
	run "$PXEFORGE" build "$TMP/in/p.yaml" -o "$TMP/out" --host node-c
	assert_equal "$status" 2
	assert_line --index 0 "pxeforge: unknown host 'node-c' (did you mean 'node-a'?)"
	find "$TMP/out" -printf '%P %i %T@\n' | sort >"$TMP/after"
	diff "$TMP/before" "$TMP/after"
	run "$PXEFORGE" build "$TMP/in/p.yaml" -o "$TMP/new" --host zzzzzzzzzz
	assert_equal "$status" 2
	assert_line --index 0 "pxeforge: unknown host 'zzzzzzzzzz' (the profile has 2 hosts)"
	[ ! -e "$TMP/new" ]
}

@test "build --host: a VM goes with the host whose GPUs it takes" {
	cp -r examples "$TMP/ex"
	chmod 600 "$TMP/ex/demo-cluster.key"
	# a second host, without GPUs, before the VMs
	python3 - "$TMP/ex/c4140.yaml" <<'PY'
import sys
p = sys.argv[1]
s = open(p).read()
other = '  - name: other\n    macs: ["b0:26:28:4a:20:01"]\n    cpu: intel\n\n'
i = s.index("# The seed's GPU VM")
open(p, "w").write(s[:i] + other + s[i:])
PY
	run "$PXEFORGE" build -q "$TMP/ex/c4140.yaml" -o "$TMP/out"
	assert_success
	mapfile -t vm_files < <(cd "$TMP/out" && find vms -type f | sort)
	[ "${#vm_files[@]}" -ge 5 ]
	snapshot "$TMP/out" "${vm_files[@]}" >"$TMP/vm.before"
	sed -i 's/^    memory: 128Gi$/    memory: 64Gi/' "$TMP/ex/c4140.yaml"
	grep -q '^    memory: 64Gi$' "$TMP/ex/c4140.yaml"
	run "$PXEFORGE" build -q "$TMP/ex/c4140.yaml" -o "$TMP/out" --host other
	assert_success
	snapshot "$TMP/out" "${vm_files[@]}" >"$TMP/vm.after"
	diff "$TMP/vm.before" "$TMP/vm.after"
	run "$PXEFORGE" build -q "$TMP/ex/c4140.yaml" -o "$TMP/out" --host c4140
	assert_success
	# libvirt's own reading of the domain: the new memory
	run xmllint --xpath 'string(/domain/memory)' "$TMP/out/vms/c4140-gpu/domain.xml"
	assert_success
	assert_output "$((64 * 1024 * 1024))"
	run "$PXEFORGE" verify "$TMP/out"
	assert_success
}

@test "check --host: the named host's problems and the fleet-wide ones; the others counted, exit 1" {
	cat >"$TMP/p.yaml" <<'YAML'
version: 1
hosts:
  - name: a
    macs: ["52:54:00:50:00:0a"]
    kernel_params: ["bad param"]
  - name: b
    macs: ["52:54:00:50:00:0b"]
    cpu: arm
  - name: c
    macs: ["52:54:00:50:00:0c"]
    cpu: intel
YAML
	run "$PXEFORGE" check "$TMP/p.yaml"
	assert_equal "$status" 1
	assert_line --partial "$TMP/p.yaml:5:"
	assert_line --partial "$TMP/p.yaml:8:10: error: unknown cpu 'arm'"
	run "$PXEFORGE" check "$TMP/p.yaml" --host a
	assert_equal "$status" 1
	assert_line --index 0 --partial "$TMP/p.yaml:5:"
	refute_line --partial "unknown cpu"
	assert_line "pxeforge: error: 1 more problem in the entries of hosts not named by --host (check without --host lists them)"
	run "$PXEFORGE" check "$TMP/p.yaml" --host c
	assert_equal "$status" 1
	assert_line "pxeforge: error: 2 more problems in the entries of hosts not named by --host (check without --host lists them)"
	# fleet-wide: b takes c's MAC; checked with --host c too
	sed -i 's/cpu: arm/cpu: amd/; s/52:54:00:50:00:0b/52:54:00:50:00:0c/' "$TMP/p.yaml"
	sed -i 's/\["bad param"\]/[quiet]/' "$TMP/p.yaml"
	run "$PXEFORGE" check "$TMP/p.yaml" --host a
	assert_equal "$status" 1
	run "$PXEFORGE" check "$TMP/p.yaml"
	assert_equal "$status" 1
	assert_output --partial "duplicate MAC address '52:54:00:50:00:0c'"
	sed -i '0,/52:54:00:50:00:0c/s//52:54:00:50:00:0b/' "$TMP/p.yaml"
	run "$PXEFORGE" check "$TMP/p.yaml" --host a --host a
	assert_success
	assert_output "$TMP/p.yaml: ok (1 of 3 hosts)"
	run "$PXEFORGE" check "$TMP/p.yaml" --host d
	assert_equal "$status" 2
	assert_line --index 0 "pxeforge: unknown host 'd' (did you mean 'a'?)"
	# the defaults after the last host are not that host's entry
	printf 'defaults:\n  cloud_init:\n    network:\n      gateway: 10.0.0.256\n' >>"$TMP/p.yaml"
	run "$PXEFORGE" check "$TMP/p.yaml" --host a
	assert_equal "$status" 1
	assert_output "$TMP/p.yaml:15:16: error: invalid gateway address '10.0.0.256'"
}
