#!/usr/bin/env bash
# Nix tests, with Debian's nix-instantiate (package nix-bin), the real
# nixpkgs lib (../shared/oracles/nixpkgs-lib, through tests/nix/lib.nix)
# and without the rest of nixpkgs, which cannot be downloaded here: NixOS's
# option declarations are stand-ins with NixOS's types
# (tests/nix/nixos-options.nix), packages are stand-in store paths
# (tests/nix/fake-pkgs.nix). Prints TAP.
#
#   - flake.nix, nix/ and tests/nix/ parse;
#   - nix/from-nixos.nix (what lib.mkNetbootPackage reads from a NixOS
#     configuration) evaluated against stand-in configurations; its JSON
#     fed to `pxeforge build` through nixos.from_json: the seed's C4140
#     boots with init= and every kernelParam in order, and the same
#     configuration without the VFIO settings fails the build;
#   - nix/mk-netboot-package.nix evaluated with tests/nix/fake-pkgs.nix and
#     its build step (nix/netboot-build.sh) run as Nix would run it;
#   - every generated OUT/<host>/nixos/*.nix (these builds' and
#     examples/*.yaml's) parses and evaluates to OUT/<host>/cmdline;
#   - nix/modules/vfio.nix, evaluated with lib.evalModules
#     (tests/nix/eval-modules.nix), sets what pxeforge writes for the same
#     hosts;
#   - priorities, order and types as NixOS merges them: mkBefore, mkAfter,
#     mkDefault and mkForce in user modules against nixosModules.vfio and
#     the generated boot.nix; wrong types, undeclared options and
#     conflicting values fail the evaluation;
#   - nix/modules/gpu-vm-guest.nix sets up k3s, CDI, the toolkit.
#
#   PXEFORGE=path   binary (default build/san/pxeforge)
# shellcheck disable=SC2317 # the test functions run through check
set -u

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pxeforge-nix.XXXXXX") || exit 3
trap 'rm -rf "$WORK"' EXIT
export XDG_CACHE_HOME="$WORK/cache"

diag="$WORK/diag"
T=tests/nix
TOPLEVEL=/nix/store/q4l0b8i0l6h4dbjg3v2k2w1xm8qn0r5s-nixos-system-c4140-24.11
SEED_PARAMS="intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1 loglevel=4"

# Evaluation only: no store is opened or written (paths are hashed, not
# copied), so this works for any user.
nixi() { nix-instantiate --store dummy:// --readonly-mode "$@"; }
# nixeval EXPR: strict, as JSON, with ROOT as the repo root.
nixeval() { nixi --eval --strict --json --argstr root "$ROOT" -E "{ root }: $1"; }
# JSON on stdin -> one line per element of a list / the value of a string.
json_lines() { /usr/bin/python3 -c 'import json,sys; [print(x) for x in json.load(sys.stdin)]'; }
json_str() { /usr/bin/python3 -c 'import json,sys; sys.stdout.write(json.load(sys.stdin))'; }

# check NAME CMD...: pass when CMD succeeds; CMD writes diagnostics to $diag.
check() {
	local name=$1
	shift
	: >"$diag"
	if "$@" >>"$diag" 2>&1; then pass "$name"; else fail "$name" "$diag"; fi
}

# build_json STANDIN_ARGS DIR: the stand-in's nixos.from_json at
# DIR/nixos/c4140.json next to a copy of c4140.yaml; then pxeforge build
# into DIR/out (exit code in DIR/rc, stderr in DIR/stderr).
build_json() {
	local args=$1 dir=$2
	mkdir -p "$dir/nixos"
	cp "$T/c4140.yaml" "$dir/c4140.yaml"
	nixeval "(import (root + \"/nix/from-nixos.nix\") (import (root + \"/$T/standin-c4140.nix\") { $args })).json" \
		>"$dir/nixos/c4140.json" || return 1
	"$PXEFORGE" build "$dir/c4140.yaml" -o "$dir/out" >/dev/null 2>"$dir/stderr"
	echo $? >"$dir/rc"
}

# wrapper DIR ARGS: evaluate lib.mkNetbootPackage ARGS (a Nix attrset body;
# `root` and `store` are in scope) with fake pkgs, then do what Nix would:
# write its files, set its variables, run nix/netboot-build.sh with
# pxeforge on PATH and out=DIR/out. Exit code in DIR/rc, stderr (the
# evaluation's traces included) in DIR/stderr.
wrapper() {
	local dir=$1 args=$2
	mkdir -p "$dir/bin" "$dir/files" "$dir/build"
	ln -sf "$PXEFORGE" "$dir/bin/pxeforge"
	if ! nixi --eval --strict --json --argstr root "$ROOT" --argstr store "$STORE" \
		-E "{ root, store }: import (root + \"/$T/wrapper-env.nix\") { $args }" \
		>"$dir/env.json" 2>"$dir/stderr"; then
		echo 99 >"$dir/rc"
		return 0
	fi
	python3 - "$dir" >"$dir/env.sh" <<-'EOF'
		import json, shlex, sys
		d = sys.argv[1]
		e = json.load(open(d + "/env.json"))
		for k, text in e["files"].items():
		    path = "%s/files/%s" % (d, k)
		    open(path, "w").write(text)
		    print("export %s=%s" % (k, shlex.quote(path)))
		for k, v in e["vars"].items():
		    print("export %s=%s" % (k, shlex.quote(v)))
	EOF
	(
		cd "$dir/build" || exit 3
		# shellcheck source=/dev/null
		. "$dir/env.sh"
		export out="$dir/out" TMPDIR="$dir/build" PATH="$dir/bin:$PATH"
		bash "$ROOT/nix/netboot-build.sh"
	) >/dev/null 2>>"$dir/stderr"
	echo $? >"$dir/rc"
}

# expect_rc DIR N
expect_rc() {
	local got
	got=$(cat "$1/rc")
	[ "$got" = "$2" ] && return 0
	echo "exit: expected $2, got $got; stderr:"
	cat "$1/stderr"
	return 1
}

# cmdline_starts DIR PREFIX: OUT/c4140/cmdline starts with PREFIX + space.
cmdline_starts() {
	local line
	expect_rc "$1" 0 || return 1
	read -r line <"$1/out/c4140/cmdline" || { echo "no $1/out/c4140/cmdline"; return 1; }
	case "$line " in
	"$2 "*) return 0 ;;
	esac
	printf 'cmdline:  %s\nexpected: %s ...\n' "$line" "$2"
	return 1
}

# names_missing DIR WORD...: exit 1 and stderr names every WORD.
names_missing() {
	local dir=$1 w rc=0
	shift
	expect_rc "$dir" 1 || return 1
	for w in "$@"; do
		grep -qF -- "$w" "$dir/stderr" || { echo "stderr does not name '$w'"; rc=1; }
	done
	[ "$rc" = 0 ] || cat "$dir/stderr"
	return "$rc"
}

# --- 0: the tools ------------------------------------------------------------

nix_ok=1
if ! command -v nix-instantiate >/dev/null 2>&1; then
	echo "nix-instantiate not found: install nix-bin (scripts/deps.sh)" >"$diag"
	fail "nix-instantiate is installed" "$diag"
	nix_ok=0
fi
if [ ! -f ../shared/oracles/nixpkgs-lib/lib/default.nix ]; then
	echo "no nixpkgs lib at ../shared/oracles/nixpkgs-lib/lib (tests/nix/lib.nix imports it)" >"$diag"
	fail "the real nixpkgs lib is there" "$diag"
	nix_ok=0
fi
if [ ! -x "$PXEFORGE" ]; then
	echo "no pxeforge binary at $PXEFORGE (make san)" >"$diag"
	fail "pxeforge is built" "$diag"
	nix_ok=0
fi
if [ "$nix_ok" = 0 ]; then
	echo "1..$n"
	exit 0
fi

# --- 1: everything parses ----------------------------------------------------

while IFS= read -r f; do
	check "parse $f" nixi --parse "$f"
done < <(printf '%s\n' flake.nix; find nix "$T" -name '*.nix' | sort)

flake_ok() {
	local got version failures
	got=$(nixeval "import (root + \"/$T/check-flake.nix\") { inherit root; }") || return 1
	version=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["version"])' "$got")
	failures=$(python3 -c 'import json,sys; [print(x) for x in json.loads(sys.argv[1])["failures"]]' "$got")
	[ "pxeforge $version" = "$("$PXEFORGE" --version)" ] ||
		failures+="version $version is not the binary's: $("$PXEFORGE" --version)"
	[ -z "$failures" ] && return 0
	printf '%s\n' "$failures"
	return 1
}
check "flake.nix outputs and nix/package.nix (with stand-in nixpkgs)" flake_ok

# --- 2: from-nixos.nix against the stand-in ----------------------------------

expected_json='{"initrd_available_modules":["nvme","xhci_pci","ahci","usbhid","sd_mod"],"initrd_modules":["vfio_pci","vfio","vfio_iommu_type1"],"kernel_params":["intel_iommu=on","iommu=pt","vfio-pci.ids=10de:1db1","loglevel=4"],"toplevel":"'$TOPLEVEL'"}'
json_is_seed() {
	local got
	got=$(nixeval "(import (root + \"/nix/from-nixos.nix\") (import (root + \"/$T/standin-c4140.nix\") { })).json") || return 1
	[ "$got" = "$expected_json" ] && return 0
	printf 'got:      %s\nexpected: %s\n' "$got" "$expected_json"
	return 1
}
check "from-nixos: nixos.from_json of the C4140 stand-in (exactly pxeforge's keys)" json_is_seed

ramdisk_is() { # ramdisk_is NETBOOT INITRD WARNING_REGEX
	local got
	got=$(nixeval "let r = import (root + \"/nix/from-nixos.nix\") (import (root + \"/$T/standin-c4140.nix\") { netboot = $1; }); in [ r.kernel r.initrd (if r.warning == null then \"no warning\" else r.warning) ]" | json_lines) || return 1
	printf '%s\n' "$got"
	[ "$(sed -n 1p <<<"$got")" = "/nix/store/4jq2xkd6b2c1n1sy9cw2n6fqlv5dqr0a-linux-6.6.63/bzImage" ] &&
		[ "$(sed -n 2p <<<"$got")" = "$2" ] &&
		sed -n 3p <<<"$got" | grep -qE -- "$3"
}
check "from-nixos: a netboot host boots system.build.netbootRamdisk" \
	ramdisk_is true /nix/store/b8k5c1yq0w2x3v4n6m7p8r9s0t1u2v3w-initrd/initrd '^no warning$'
check "from-nixos: without the netboot module, initialRamdisk and a warning that the store is not included" \
	ramdisk_is false /nix/store/9m1rz0aq6gk6hj5y2x8pq3l4c7w0d1sf-initrd-linux-6.6.63/initrd 'does not include the Nix store'

build_json "" "$WORK/seed"
check "pxeforge build with the stand-in's JSON: init=<toplevel>/init $SEED_PARAMS" \
	cmdline_starts "$WORK/seed" "init=$TOPLEVEL/init $SEED_PARAMS"

build_json "vfio = false;" "$WORK/novfio"
check "pxeforge build with the stand-in without VFIO settings: exit 1 naming what is missing" \
	names_missing "$WORK/novfio" intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1 \
	vfio_pci vfio_iommu_type1 boot.kernelParams boot.initrd.kernelModules

# --- 3: lib.mkNetbootPackage, evaluated and its build step run ---------------

STORE="$WORK/store"
for p in 4jq2xkd6b2c1n1sy9cw2n6fqlv5dqr0a-linux-6.6.63/bzImage \
	9m1rz0aq6gk6hj5y2x8pq3l4c7w0d1sf-initrd-linux-6.6.63/initrd \
	b8k5c1yq0w2x3v4n6m7p8r9s0t1u2v3w-initrd/initrd; do
	mkdir -p "$STORE/${p%/*}"
	echo "stand-in for $p" >"$STORE/$p"
done
standin="(import (root + \"/$T/standin-c4140.nix\") { inherit store; })"

# copied DIR KERNEL INITRD: OUT/c4140/{bzImage,initrd} are those files.
copied() {
	cmp "$1/out/c4140/bzImage" "$STORE/$2" && cmp "$1/out/c4140/initrd" "$STORE/$3"
}
wrapper_ok() { # wrapper_ok DIR INITRD
	cmdline_starts "$1" "init=$TOPLEVEL/init $SEED_PARAMS" &&
		copied "$1" 4jq2xkd6b2c1n1sy9cw2n6fqlv5dqr0a-linux-6.6.63/bzImage "$2"
}

wrapper "$WORK/w-profile" "nixosConfiguration = $standin; profile = root + \"/$T/c4140.yaml\";"
check "mkNetbootPackage with a profile: kernel line, bzImage and the netboot ramdisk in OUT/c4140" \
	wrapper_ok "$WORK/w-profile" b8k5c1yq0w2x3v4n6m7p8r9s0t1u2v3w-initrd/initrd

wrapper "$WORK/w-novfio" "nixosConfiguration = import (root + \"/$T/standin-c4140.nix\") { inherit store; vfio = false; }; profile = root + \"/$T/c4140.yaml\";"
check "mkNetbootPackage without the VFIO settings: the build fails with pxeforge's message" \
	names_missing "$WORK/w-novfio" "lacks intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1"

# The whole NixOS side: the C4140 with nixosModules.vfio set as for HOST
# in vfio-hosts.nix, on top of what NixOS sets. No profile: generated from
# the module's options and `macs`.
with_module() { # with_module HOST: the evaluated configuration, in Nix
	echo "import (root + \"/$T/eval-modules.nix\") { modules = [
	  (import (root + \"/$T/nixos-c4140.nix\") { inherit store; })
	  (root + \"/nix/modules/vfio.nix\")
	  { pxeforge.vfio = { enable = true; } // (import (root + \"/$T/vfio-hosts.nix\")).$1; }
	]; }"
}
wrapper "$WORK/w-module" "nixosConfiguration = $(with_module intel-v100); macs = [ \"b0:26:28:4a:10:01\" ];"
module_ok() {
	wrapper_ok "$WORK/w-module" b8k5c1yq0w2x3v4n6m7p8r9s0t1u2v3w-initrd/initrd || return 1
	[ -f "$WORK/w-module/out/hosts/b0-26-28-4a-10-01.ipxe" ] || { echo "no script for the MAC"; return 1; }
}
check "mkNetbootPackage without a profile, nixosModules.vfio enabled: generated profile, seed's kernel line" module_ok

# The profile generated from the module's options, for two hosts.
profile_is() { # profile_is DIR JSON
	local got
	got=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["files"]["profile"])' "$1/env.json") || return 1
	[ "$got" = "$2" ] && return 0
	printf 'got:      %s\nexpected: %s\n' "$got" "$2"
	return 1
}
check "mkNetbootPackage without a profile: the generated profile (intel-v100)" profile_is "$WORK/w-module" \
	'{"hosts":[{"cpu":"intel","gpus":[{"address":"0000:1a:00.0","id":"10de:1db1","model":"Tesla V100 SXM2 16GB","role":"vfio"}],"macs":["b0:26:28:4a:10:01"],"name":"c4140","nixos":{"from_json":"nixos/c4140.json"}}],"version":1}'
wrapper "$WORK/w-keeps" "nixosConfiguration = $(with_module keeps-nvidia); macs = [ \"b0:26:28:4a:10:01\" ];"
check "mkNetbootPackage without a profile: the generated profile (keeps-nvidia: a device with role host)" profile_is "$WORK/w-keeps" \
	'{"hosts":[{"cpu":"intel","gpus":[{"address":"0000:1a:00.0","id":"10de:1db1","role":"vfio"},{"address":"0000:3b:00.0","id":"10de:1db4","role":"host"}],"macs":["b0:26:28:4a:10:01"],"name":"c4140","nixos":{"from_json":"nixos/c4140.json"}}],"version":1}'

wrapper "$WORK/w-nomacs" "nixosConfiguration = $(with_module intel-v100);"
eval_fails() { # eval_fails DIR WORD: the evaluation failed, naming WORD
	expect_rc "$1" 99 || return 1
	grep -qF -- "$2" "$1/stderr" || { cat "$1/stderr"; return 1; }
}
check "mkNetbootPackage without a profile or macs: the evaluation fails asking for macs" \
	eval_fails "$WORK/w-nomacs" "give the boot MACs of host 'c4140'"

wrapper "$WORK/w-initial" "nixosConfiguration = import (root + \"/$T/standin-c4140.nix\") { inherit store; netboot = false; }; profile = root + \"/$T/c4140.yaml\";"
initial_ok() {
	wrapper_ok "$WORK/w-initial" 9m1rz0aq6gk6hj5y2x8pq3l4c7w0d1sf-initrd-linux-6.6.63/initrd || return 1
	grep -q "warning: .*does not include the Nix store" "$WORK/w-initial/stderr" && return 0
	echo "no warning in:"
	cat "$WORK/w-initial/stderr"
	return 1
}
check "mkNetbootPackage without the netboot module: initialRamdisk's initrd, with a warning" initial_ok

wrapper "$WORK/w-inline" "nixosConfiguration = $standin; profile = root + \"/$T/inline-nixos.yaml\";"
check "mkNetbootPackage with a profile that does not read nixos/<host>.json: refused" \
	names_missing "$WORK/w-inline" "does not boot this NixOS configuration" "nixos/c4140.json"

# --- 4: generated nixos/*.nix evaluate to the kernel command line ------------

# boot_nix_matches NIXFILE CMDLINE: parses; imported as a NixOS module,
# its boot.kernelParams is the command line without init= and initrd=.
boot_nix_matches() {
	local got want
	nixi --parse "$1" >/dev/null || return 1
	got=$(nixeval "(import (root + \"/$T/eval-modules.nix\") {
	  modules = [ \"$1\" ];
	}).config.boot.kernelParams" | json_lines) || return 1
	want=$(tr ' ' '\n' <"$2" | grep -v -e '^init=' -e '^initrd=' -e '^$')
	[ "$got" = "$want" ] && return 0
	diff -u --label "cmdline without init=, initrd=" --label "$1 boot.kernelParams" \
		<(printf '%s\n' "$want") <(printf '%s\n' "$got")
	return 1
}

outs=("$WORK/seed/out" "$WORK/w-module/out")
for e in examples/*.yaml; do
	o="$WORK/examples/$(basename "$e" .yaml)"
	if "$PXEFORGE" build "$e" -o "$o" >/dev/null 2>"$diag"; then
		outs+=("$o")
	else
		fail "pxeforge build $e" "$diag"
	fi
done
for o in "${outs[@]}"; do
	for cmd in "$o"/*/cmdline; do
		[ -f "$cmd" ] || continue
		h=$(dirname "$cmd")
		files=("$h"/nixos/*.nix)
		if [ ! -e "${files[0]}" ]; then
			echo "no $h/nixos/*.nix" >"$diag"
			fail "${o#"$WORK"/}: nixos/*.nix" "$diag"
			continue
		fi
		for f in "${files[@]}"; do
			check "${f#"$WORK"/}, imported as a module, sets ${cmd#"$WORK"/}" boot_nix_matches "$f" "$cmd"
		done
	done
done

# --- 5: nixosModules.vfio sets what pxeforge writes --------------------------

# The four boot settings, from a module evaluation or a boot.nix, as JSON.
pick='b: builtins.toJSON {
  kernelParams = b.kernelParams or [ ];
  initrdKernelModules = b.initrd.kernelModules or [ ];
  extraModprobeConfig = b.extraModprobeConfig or "";
  blacklistedKernelModules = b.blacklistedKernelModules or [ ];
}'
module_matches() { # module_matches HOST
	local ours theirs
	"$PXEFORGE" render "$T/vfio-hosts.yaml" --host "$1" --target nixos >"$WORK/$1.nix" || return 1
	theirs=$(nixeval "($pick) (import \"$WORK/$1.nix\" { }).boot" | json_str) || return 1
	ours=$(nixeval "let c = (import (root + \"/$T/eval-modules.nix\") { modules = [
	  (root + \"/nix/modules/vfio.nix\")
	  { pxeforge.vfio = { enable = true; } // (import (root + \"/$T/vfio-hosts.nix\")).$1; }
	]; }).config; in
	  assert builtins.all (a: a.assertion) c.assertions; ($pick) c.boot" | json_str) || return 1
	[ "$ours" = "$theirs" ] && return 0
	printf 'nixosModules.vfio: %s\npxeforge:          %s\n' "$ours" "$theirs"
	return 1
}
for h in intel-v100 amd-4070 keeps-nvidia; do
	check "nixosModules.vfio for $h sets what pxeforge writes for it" module_matches "$h"
done

# --- 6: priorities, order and types, as NixOS merges them -------------------

# The real lib.evalModules decides here: mkBefore/mkAfter order, mkDefault
# (1000) and mkForce (50) against plain definitions (100), and the option
# types of nix/modules/vfio.nix and nixos-options.nix reject wrong values.
config_of() { # config_of MODULES ATTR: config.ATTR of MODULES (Nix list elements) as JSON
	nixeval "(import (root + \"/$T/eval-modules.nix\") { modules = [ $1 ]; }).config.$2"
}
config_is() { # config_is MODULES ATTR JSON
	local got
	got=$(config_of "$1" "$2") || return 1
	[ "$got" = "$3" ] && return 0
	printf 'config.%s\ngot:      %s\nexpected: %s\n' "$2" "$got" "$3"
	return 1
}
eval_rejects() { # eval_rejects MODULES ATTR MESSAGE: evaluation fails with MESSAGE
	local got
	if got=$(config_of "$1" "$2" 2>"$WORK/eval.err"); then
		echo "config.$2 evaluated to $got"
		return 1
	fi
	grep -qF -- "$3" "$WORK/eval.err" && return 0
	echo "the evaluation failed without '$3':"
	cat "$WORK/eval.err"
	return 1
}
vfio_host() { # vfio_host HOST [SETTINGS]: nixosModules.vfio for HOST of vfio-hosts.nix
	echo "(root + \"/nix/modules/vfio.nix\") ({ lib, ... }: { pxeforge.vfio = { enable = true; } // (import (root + \"/$T/vfio-hosts.nix\")).$1 // { ${2:-} }; })"
}
user() { echo "({ lib, ... }: { $1 })"; } # a user's module
NIXOS="(import (root + \"/$T/nixos-c4140.nix\") { })"
# the generated boot.nix of examples/c4140.yaml's host (built in section 4)
BOOT="(/. + \"$WORK/examples/c4140/c4140/nixos/boot.nix\")"
VFIO_PARAMS='"intel_iommu=on","iommu=pt","vfio-pci.ids=10de:1db1"'
BOOT_PARAMS=$VFIO_PARAMS',"loglevel=4","console=tty0","console=ttyS0,115200n8","ds=nocloud;s=http://10.20.0.1/pxe/c4140/cloud-init/"'

before_either_order() {
	config_is "$NIXOS $(vfio_host intel-v100)" boot.kernelParams "[$VFIO_PARAMS,\"loglevel=4\"]" &&
		config_is "$(vfio_host intel-v100) $NIXOS" boot.kernelParams "[$VFIO_PARAMS,\"loglevel=4\"]"
}
check "nixosModules.vfio's mkBefore: its kernel parameters before NixOS's, in either module order" before_either_order
check "nixosModules.vfio's mkBefore: vfio_pci, vfio, vfio_iommu_type1 before a user's initrd modules" \
	config_is "$(user 'boot.initrd.kernelModules = [ "nvme" ];') $(vfio_host intel-v100)" \
	boot.initrd.kernelModules '["vfio_pci","vfio","vfio_iommu_type1","nvme"]'
check "mkForce in a user module overrides nixosModules.vfio's kernel parameters" \
	config_is "$NIXOS $(vfio_host intel-v100) $(user 'boot.kernelParams = lib.mkForce [ "quiet" ];')" \
	boot.kernelParams '["quiet"]'
force_over_boot_nix() {
	config_is "$BOOT $(user 'boot.kernelParams = lib.mkForce [ "quiet" ];')" boot.kernelParams '["quiet"]' &&
		config_is "$BOOT $(user 'boot.extraModprobeConfig = lib.mkForce "";')" boot.extraModprobeConfig '""' &&
		config_is "$BOOT $(user 'boot.blacklistedKernelModules = lib.mkForce [ ];')" boot.blacklistedKernelModules '[]'
}
check "mkForce in a user module overrides the generated boot.nix" force_over_boot_nix
default_yields() {
	config_is "$BOOT $(user 'boot.blacklistedKernelModules = lib.mkDefault [ ];')" \
		boot.blacklistedKernelModules '["nouveau"]' &&
		config_is "$(vfio_host intel-v100 'cpu = lib.mkDefault "amd";') $(user 'pxeforge.vfio.cpu = "intel";')" \
			boot.kernelParams "[$VFIO_PARAMS]"
}
check "mkDefault yields to a plain definition (the generated boot.nix's, a user's)" default_yields
check "mkBefore and mkAfter in user modules around the generated boot.nix's kernel parameters" \
	config_is "$(user 'boot.kernelParams = lib.mkAfter [ "quiet" ];') $BOOT $(user 'boot.kernelParams = lib.mkBefore [ "earlyprintk=ttyS0" ];')" \
	boot.kernelParams "[\"earlyprintk=ttyS0\",$BOOT_PARAMS,\"quiet\"]"
# Plain definitions at one priority are all kept; their order is the module
# system's (mkBefore/mkAfter are what fix it), so either is right here.
plain_concatenates() {
	local got
	got=$(config_of "$BOOT $(user 'boot.kernelParams = [ "quiet" ];')" boot.kernelParams) || return 1
	case $got in
	"[\"quiet\",$BOOT_PARAMS]" | "[$BOOT_PARAMS,\"quiet\"]") return 0 ;;
	esac
	printf 'got: %s\nexpected the generated list and "quiet", concatenated\n' "$got"
	return 1
}
check "a plain user definition of kernelParams and the generated boot.nix's are both kept" plain_concatenates

check "a wrong type is rejected: pxeforge.vfio.cpu = \"arm\"" \
	eval_rejects "$(vfio_host intel-v100 'cpu = "arm";')" boot.kernelParams \
	"A definition for option \`pxeforge.vfio.cpu' is not of type \`one of \"intel\", \"amd\"'"
check "a wrong type is rejected: a GPU address without its PCI domain" \
	eval_rejects "$(vfio_host intel-v100 'gpus = [ { address = "1a:00.0"; id = "10de:1db1"; } ];')" pxeforge.vfio.gpus \
	"is not of type \`string matching the pattern"
check "a wrong type is rejected: a kernel parameter with a space, next to the generated boot.nix" \
	eval_rejects "$BOOT $(user 'boot.kernelParams = [ "console=tty0 quiet" ];')" boot.kernelParams \
	"is not of type \`string, with spaces inside double quotes'"
check "a wrong type is rejected: a string for boot.initrd.kernelModules" \
	eval_rejects "$BOOT $(user 'boot.initrd.kernelModules = "nvme";')" boot.initrd.kernelModules \
	"A definition for option \`boot.initrd.kernelModules' is not of type \`list of string'"
check "an option nothing declares is rejected: boot.kernelParam" \
	eval_rejects "$BOOT $(user 'boot.kernelParam = [ "quiet" ];')" boot.kernelParams \
	"The option \`boot.kernelParam' does not exist"
check "two different values for a single-valued option are rejected: networking.hostName" \
	eval_rejects "$NIXOS $(user 'networking.hostName = "c4140-b";')" networking.hostName \
	"The option \`networking.hostName' has conflicting definition values"

# --- 7: nixosModules.gpuVmGuest ----------------------------------------------

guest_ok() {
	local got
	got=$(nixeval "import (root + \"/$T/check-gpu-vm-guest.nix\") { inherit root; }" | json_lines) || return 1
	[ -z "$got" ] && return 0
	printf '%s\n' "$got"
	return 1
}
check "nixosModules.gpuVmGuest: k3s agent, node password left alone, CDI import, toolkit, spec oneshot" guest_ok

fragments_ok() {
	diff -u - cloud-init/containerd/config-v3.toml.tmpl <<-'EOF' &&
		imports = ["/etc/containerd/cdi.toml"]
		{{ template "base" . }}
	EOF
		diff -u - cloud-init/containerd/cdi-v3.toml <<-'EOF'
			[plugins.'io.containerd.cri.v1.runtime']
			  enable_cdi = true
			  cdi_spec_dirs = ['/etc/cdi', '/var/run/cdi']
		EOF
}
check "cloud-init/containerd: the v3 fragments gpuVmGuest installs" fragments_ok

echo "1..$n"
exit 0
