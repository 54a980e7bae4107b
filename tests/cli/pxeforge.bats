#!/usr/bin/env bats
# The command-line contract (docs/cli.md, docs/output-tree.md), driven through the real binary.

load helpers

@test "--version prints the version" {
	run "$PXEFORGE" --version
	assert_success
	assert_output --regexp '^pxeforge [0-9]+\.[0-9]+\.[0-9]+$'
}

@test "--help lists every command and the exit codes" {
	run "$PXEFORGE" --help
	assert_success
	assert_output --partial 'build PROFILE [-o OUT]'
	assert_output --partial 'check PROFILE'
	assert_output --partial 'render PROFILE --host|--vm NAME --target T'
	assert_output --partial 'containerdisk DISK -o FILE'
	assert_output --partial 'secret init [FILE]'
	assert_output --partial 'verify OUT'
	assert_output --partial '1 invalid profile'
}

@test "no command is a usage error (exit 2)" {
	run "$PXEFORGE"
	assert_failure 2
}

@test "unknown command suggests the closest one (exit 2)" {
	run "$PXEFORGE" biuld
	assert_failure 2
	assert_output --partial "unknown command 'biuld' (did you mean 'build'?)"
}

@test "each command answers --help" {
	for cmd in build check render secret; do
		run "$PXEFORGE" "$cmd" --help
		assert_success
		assert_output --partial "usage: pxeforge $cmd"
	done
}

@test "check accepts every example" {
	for f in examples/*.yaml; do
		run "$PXEFORGE" check "$f"
		assert_success
		# every example has one host and one GPU VM
		assert_output "$f: ok (1 host, 1 VM)"
	done
}

@test "check of a missing file is an I/O error (exit 3)" {
	run "$PXEFORGE" check "$TMP/nope.yaml"
	assert_failure 3
	assert_output --partial "nope.yaml: error: cannot read: No such file or directory"
}

@test "check or build of a directory says so (exit 3), and build writes nothing" {
	mkdir "$TMP/dir.yaml"
	run "$PXEFORGE" check "$TMP/dir.yaml"
	assert_failure 3
	assert_output "$TMP/dir.yaml: error: cannot read: Is a directory"
	run "$PXEFORGE" build "$TMP/dir.yaml" -o "$TMP/out"
	assert_failure 3
	assert_output "$TMP/dir.yaml: error: cannot read: Is a directory"
	[ ! -e "$TMP/out" ]
}

@test "check without PROFILE is a usage error" {
	run "$PXEFORGE" check
	assert_failure 2
	assert_output --partial "missing PROFILE"
}

@test "build writes the output tree of docs/output-tree.md" {
	run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/out"
	assert_success
	for f in boot.ipxe manifest.json c4140/netboot.ipxe c4140/cmdline \
		c4140/modprobe.d/vfio.conf c4140/modules-load.d/vfio.conf \
		c4140/nixos/boot.nix hosts/b0-26-28-4a-10-01.ipxe \
		hosts/b0-26-28-4a-10-02.ipxe; do
		[ -f "$TMP/out/$f" ] || fail "missing $f"
	done
	cmp "$TMP/out/c4140/netboot.ipxe" "$TMP/out/hosts/b0-26-28-4a-10-01.ipxe"
}

@test "the seed bug is fixed: every NixOS kernel parameter reaches the iPXE kernel line" {
	"$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" -q
	line=$(grep '^kernel ' "$TMP/out/c4140/netboot.ipxe")
	for p in init=/nix/store/q4l0b8i0l6h4dbjg3v2k2w1xm8qn0r5s-nixos-system-c4140-24.11/init \
		intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1 loglevel=4 initrd=initrd \
		initrd=overlay.cpio.gz; do
		[[ " $line " == *" $p "* ]] || fail "'$p' missing from: $line"
	done
}

@test "cmdline file equals the arguments of the kernel line" {
	"$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" -q
	args=$(sed -n 's/^kernel --name bzImage [^ ]* \(.*\) && goto .*/\1/p' "$TMP/out/c4140/netboot.ipxe")
	assert_equal "$args" "$(cat "$TMP/out/c4140/cmdline")"
}

@test "AMD host gets iommu=pt and no amd_iommu=on" {
	run "$PXEFORGE" render examples/rtx4070-workstation.yaml --host ws-4070 --target cmdline
	assert_success
	assert_output --partial 'iommu=pt vfio-pci.ids=10de:2786,10de:22bc'
	refute_output --partial 'amd_iommu'
	refute_output --partial 'intel_iommu'
}

@test "manifest lists every file with its sha256 and size" {
	"$PXEFORGE" build examples/hgx-h200.yaml -o "$TMP/out" -q
	cd "$TMP/out"
	# the state file is pxeforge's bookkeeping, never listed
	find . -type f ! -name manifest.json ! -name .pxeforge-state.json | sed 's|^\./||' | LC_ALL=C sort > files
	grep -v '^files$' files > listed
	python3 - <<'PY'
import hashlib, json, os
m = json.load(open("manifest.json"))
paths = [f["path"] for f in m["files"]]
assert paths == sorted(paths), "not sorted"
assert paths == open("listed").read().split(), (paths,)
for f in m["files"]:
    data = open(f["path"], "rb").read()
    assert f["size"] == len(data), f
    assert f["sha256"] == hashlib.sha256(data).hexdigest(), f
PY
}

@test "two builds are byte-identical" {
	"$PXEFORGE" build examples/hgx-h200.yaml -o "$TMP/a" -q
	"$PXEFORGE" build examples/hgx-h200.yaml -o "$TMP/b" -q
	# but for the state file: the stat fingerprints (inodes, ctimes) of
	# the streamed files, which differ by design and are never served
	[ -f "$TMP/a/.pxeforge-state.json" ]
	diff -r -x .pxeforge-state.json "$TMP/a" "$TMP/b"
}

@test "a rebuild with unchanged input rewrites nothing" {
	"$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" -q
	before=$(find "$TMP/out" -type f -printf '%p %T@\n' | sort)
	sleep 1
	run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/out"
	assert_success
	assert_output --partial '(0 rewritten)'
	after=$(find "$TMP/out" -type f -printf '%p %T@\n' | sort)
	assert_equal "$after" "$before"
}

@test "an invalid profile writes nothing, not even the output directory" {
	run "$PXEFORGE" build tests/bad/11-model-mismatch.yaml -o "$TMP/out"
	assert_failure 1
	[ ! -e "$TMP/out" ]
}

@test "an invalid profile leaves an existing tree untouched" {
	"$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" -q
	cp -a "$TMP/out" "$TMP/before"
	sed 's/10de:1db1/10de:1db6/' examples/c4140.yaml > "$TMP/bad.yaml"
	run "$PXEFORGE" build "$TMP/bad.yaml" -o "$TMP/out"
	assert_failure 1
	diff -r "$TMP/before" "$TMP/out"
}

@test "an unwritable output is an I/O error (exit 3) naming the path" {
	touch "$TMP/file"
	run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/file/out"
	assert_failure 3
	assert_output --partial "cannot write '$TMP/file"
	assert_output --partial "Not a directory"
}

@test "build leaves no temporary files behind" {
	"$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" -q
	run find "$TMP/out" -name '.pxeforge-tmp-*'
	assert_output ''
}

@test "render prints exactly what build writes" {
	"$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" -q
	for t in ipxe:netboot.ipxe cmdline:cmdline modprobe:modprobe.d/vfio.conf \
		modules-load:modules-load.d/vfio.conf nixos:nixos/boot.nix; do
		"$PXEFORGE" render examples/c4140.yaml --host c4140 --target "${t%%:*}" > "$TMP/r"
		cmp "$TMP/r" "$TMP/out/c4140/${t#*:}"
	done
	"$PXEFORGE" render examples/c4140.yaml --target dispatcher > "$TMP/r"
	cmp "$TMP/r" "$TMP/out/boot.ipxe"
}

@test "render with an unknown host suggests the closest (exit 2)" {
	run "$PXEFORGE" render examples/c4140.yaml --host c4410 --target ipxe
	assert_failure 2
	assert_output --partial "unknown host 'c4410' (did you mean 'c4140'?)"
}

@test "render with an unknown target suggests the closest (exit 2)" {
	run "$PXEFORGE" render examples/c4140.yaml --host c4140 --target ipex
	assert_failure 2
	assert_output --partial "unknown target 'ipex' (did you mean 'ipxe'?)"
}

@test "a JSON profile reads like the YAML one" {
	python3 -c 'import json,sys
print(json.dumps({"version": 1, "hosts": [{"name": "c4140", "macs": ["b0:26:28:4a:10:01"], "cpu": "intel",
 "gpus": [{"address": "0000:1a:00.0", "id": "10de:1db1", "role": "vfio"}]}]}, indent="\t"))' > "$TMP/p.json"
	run "$PXEFORGE" render "$TMP/p.json" --host c4140 --target cmdline
	assert_success
	assert_output 'intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1 initrd=initrd initrd=overlay.cpio.gz'
}

@test "nixos.from_json hands over what builtins.toJSON wrote" {
	printf '{"initrd_modules":["vfio_pci","vfio","vfio_iommu_type1"],"kernel_params":["intel_iommu=on","iommu=pt","vfio-pci.ids=10de:1db1","loglevel=4"],"toplevel":"/nix/store/q4l0b8i0l6h4dbjg3v2k2w1xm8qn0r5s-nixos-system-c4140"}' > "$TMP/c4140-nixos.json"
	cat > "$TMP/p.yaml" <<-YAML
	version: 1
	hosts:
	  - name: c4140
	    macs: ["b0:26:28:4a:10:01"]
	    cpu: intel
	    gpus: [{ address: "0000:1a:00.0", id: "10de:1db1", role: vfio }]
	    nixos: { from_json: c4140-nixos.json }
	YAML
	run "$PXEFORGE" render "$TMP/p.yaml" --host c4140 --target cmdline
	assert_success
	assert_output 'init=/nix/store/q4l0b8i0l6h4dbjg3v2k2w1xm8qn0r5s-nixos-system-c4140/init intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1 loglevel=4 initrd=initrd initrd=overlay.cpio.gz'
}

@test "an unknown PCI id far from any known one is a warning, not an error" {
	cat > "$TMP/p.yaml" <<-YAML
	version: 1
	hosts:
	  - name: lab
	    macs: ["52:54:00:12:34:56"]
	    cpu: intel
	    gpus: [{ address: "0000:00:04.0", id: "abcd:ef01", role: vfio }]
	YAML
	run "$PXEFORGE" check "$TMP/p.yaml"
	assert_success
	assert_output --partial "warning: unknown PCI id 'abcd:ef01'"
}

# The commands `pxeforge --help` lists, one per line.
listed_commands() {
	"$PXEFORGE" --help | sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p'
}

# run_split ARGS...: $status, $out (stdout) and $err (stderr) apart.
run_split() {
	status=0
	"$PXEFORGE" "$@" >"$TMP/stdout" 2>"$TMP/stderr" || status=$?
	out=$(cat "$TMP/stdout")
	err=$(cat "$TMP/stderr")
}

@test "every command: an unknown option is one error line, then the hint (exit 2)" {
	cmds=$(listed_commands)
	[ "$(echo "$cmds" | wc -l)" -ge 6 ] || fail "commands not found in --help: $cmds"
	for cmd in $cmds; do
		for opt in --no-such-option -Z; do
			run_split "$cmd" "$opt"
			[ "$status" -eq 2 ] || fail "$cmd $opt: exit $status"
			[ -z "$out" ] || fail "$cmd $opt: stdout: $out"
			assert_equal "$err" "pxeforge: unknown option '$opt'
Try 'pxeforge $cmd --help'."
		done
	done
	# and the subcommand's options: secret init
	run_split secret init --force "$TMP/k"
	[ "$status" -eq 2 ]
	assert_equal "$err" "pxeforge: unknown option '--force'
Try 'pxeforge secret --help'."
	[ ! -e "$TMP/k" ]
	# and pxeforge's own
	run_split --no-such-option
	[ "$status" -eq 2 ]
	assert_equal "$err" "pxeforge: unknown option '--no-such-option'
Try 'pxeforge --help'."
}

@test "every option with an argument: a missing one is one error line, then the hint (exit 2)" {
	n=0
	for cmd in $(listed_commands); do
		# the options of its --help that take an argument
		opts=$("$PXEFORGE" "$cmd" --help |
			sed -n 's/^  -\([A-Za-z]\), --\([a-z-]*\) \([A-Z][A-Z]*\) .*/\1 \2 \3/p')
		while read -r short long meta; do
			[ -n "$short" ] || continue
			for opt in "-$short" "--$long"; do
				run_split "$cmd" "$opt"
				[ "$status" -eq 2 ] || fail "$cmd $opt: exit $status"
				[ -z "$out" ] || fail "$cmd $opt: stdout: $out"
				assert_equal "$err" "pxeforge: missing $meta after option '$opt'
Try 'pxeforge $cmd --help'."
				n=$((n + 1))
			done
		done <<<"$opts"
	done
	# build -o, -b, -c; render -H, -V, -t; containerdisk -o, -c, -n, -r
	[ "$n" -ge 20 ] || fail "only $n options with an argument found"
}

@test "pxeforge build -o: the error once, not getopt's first" {
	run_split build -o
	[ "$status" -eq 2 ]
	assert_equal "$err" "pxeforge: missing OUT after option '-o'
Try 'pxeforge build --help'."
	[[ $err != *"requires an argument"* ]] || fail "getopt's message: $err"
}

@test "long options: did-you-mean, abbreviations, --opt=value, a flag with a value" {
	run_split build examples/c4140.yaml --outptu "$TMP/out"
	[ "$status" -eq 2 ]
	assert_equal "$err" "pxeforge: unknown option '--outptu' (did you mean '--output'?)
Try 'pxeforge build --help'."
	full=$("$PXEFORGE" render examples/c4140.yaml --target cmdline --host c4140)
	[[ $full == *"intel_iommu=on"* ]] || fail "render: $full"
	run_split render examples/c4140.yaml --ta=cmdline --ho c4140
	[ "$status" -eq 0 ] || fail "abbreviated options: exit $status: $err"
	assert_equal "$out" "$full"
	run_split render examples/c4140.yaml --h c4140 --target cmdline
	[ "$status" -eq 2 ]
	assert_equal "$err" "pxeforge: ambiguous option '--h' (--host or --help)"$'\n'"Try 'pxeforge render --help'."
	run_split build examples/c4140.yaml --quiet=yes
	[ "$status" -eq 2 ]
	assert_equal "$err" "pxeforge: unexpected argument to option '--quiet'
Try 'pxeforge build --help'."
	run_split build examples/c4140.yaml -qo"$TMP/out"
	[ "$status" -eq 0 ] || fail "-qoOUT: exit $status: $err"
	[ -f "$TMP/out/c4140/cmdline" ]
	[ -z "$err" ]
	# after --, everything is an argument
	run_split check -- --help
	[ "$status" -eq 3 ]
	[[ $err == *"--help: error: cannot read"* ]] || fail "$err"
}

@test "every command's --help has its options from one table, -h too" {
	for cmd in $(listed_commands); do
		run_split "$cmd" --help
		[ "$status" -eq 0 ] || fail "$cmd --help: exit $status"
		[[ $out == "usage: pxeforge $cmd"* ]] || fail "$cmd --help: $out"
		[[ $out == *$'\nOptions:\n'*"  -h, --help "*"this text"* ]] || fail "$cmd --help: no option list"
		[ -z "$err" ]
		run_split "$cmd" -h
		[ "$status" -eq 0 ]
		run_split help "$cmd"
		[ "$status" -eq 0 ]
		[[ $out == "usage: pxeforge $cmd"* ]] || fail "help $cmd: $out"
	done
}

@test "an empty argument is a usage error naming it, not 'cannot read'" {
	for args in "check:PROFILE" "build -o $TMP/x:PROFILE" "verify:OUT" \
		"secret init:FILE" "containerdisk -o $TMP/x:DISK"; do
		cmd=${args%%:*}
		run_split $cmd ""
		[ "$status" -eq 2 ] || fail "$cmd '': exit $status: $err"
		assert_equal "$err" "pxeforge: empty ${args#*:}
Try 'pxeforge ${cmd%% *} --help'."
	done
	[ ! -e "$TMP/x" ]
}

@test "help COMMAND is COMMAND --help; an unknown one suggests the closest" {
	run_split help build
	[ "$status" -eq 0 ]
	assert_equal "$out" "$("$PXEFORGE" build --help)"
	run_split help biuld
	[ "$status" -eq 2 ]
	assert_equal "$err" "pxeforge: unknown command 'biuld' (did you mean 'build'?)
Try 'pxeforge --help'."
}
