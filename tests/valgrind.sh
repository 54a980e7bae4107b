#!/usr/bin/env bash
# Memory checks under valgrind on the non-sanitized build. Prints TAP.
#
# Runs, each one TAP line:
#   --help, schema                                 expect exit 0
#   for every examples/*.yaml:
#     check EXAMPLE                                expect exit 0
#     build EXAMPLE -o TMP                         expect exit 0
#     render EXAMPLE --host FIRST --target ipxe    expect exit 0
#   build FIRST-EXAMPLE -o TMP --bundle TMP.tar.zst / .tgz   expect exit 0
#   the same bundle again, still as written       expect exit 0
#   verify a tree built from it                   expect exit 0
#   verify the same tree with a file changed      expect exit 1
#   for every tests/bad/<name>.yaml case:
#     check CASE                                   expect exit 1
#   secret init TMP                                expect exit 0
#   secret init EXISTING                           expect exit 1
#   containerdisk DISK -o TMP (gzip, zstd)         expect exit 0
#   containerdisk MISSING -o TMP                   expect exit 3
#   build with a pinned source, right and wrong    expect exit 0, 3
#   the same with --bundle TMP.tgz (17 MiB: O_DIRECT)  expect exit 0
#   with the machine's kernel modules tree (libkmod, libarchive):
#     build a profile with modules_dir, gzip and zstd   expect exit 0
#     check one naming a module the tree lacks          expect exit 1
# Exit 99 is valgrind's: an error or a definite/indirect leak.
#
#   VALGRIND_PXEFORGE=path   binary (default build/pxeforge)
#   VALGRIND_TIMEOUT=secs    per run (default 600)
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=0
BIN=${VALGRIND_PXEFORGE:-build/pxeforge}
case $BIN in /*) ;; *) BIN="$ROOT/$BIN" ;; esac
TIMEOUT=${VALGRIND_TIMEOUT:-600}

# A missing prerequisite is a failure, not a skip.
if ! command -v valgrind >/dev/null 2>&1; then
	echo "1..1"
	echo "not ok 1 - valgrind is installed (scripts/deps.sh installs it)"
	exit 0
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pxeforge-valgrind.XXXXXX") || exit 3
trap 'rm -rf "$WORK"' EXIT

# The runs, as "EXPECTED_EXIT<TAB>ARGS..." (ARGS separated by tabs).
runs=()
add() { local IFS=$'\t'; runs+=("$*"); }

add 0 --help
add 0 schema
for ex in examples/*.yaml; do
	[ -f "$ex" ] || continue
	add 0 check "$ex"
	add 0 build "$ex" -o "@OUT@"
	host=$(sed -n 's/^  - name: *//p' "$ex" | head -n 1 | sed "s/[\"']//g; s/[[:space:]]*\$//")
	if [ -n "$host" ]; then
		add 0 render "$ex" --host "$host" --target ipxe
	fi
done
# the bundle writer (both compressors) and verify, on the first example
for ex in examples/*.yaml; do
	[ -f "$ex" ] || continue
	add 0 build "$ex" -o "@OUT@" --bundle "@OUT@.tar.zst"
	add 0 build "$ex" -o "@OUT@" --bundle "@OUT@.tgz"
	# a bundle still as written: the record says so, nothing is packed
	if "$BIN" build -q "$ex" -o "$WORK/tree2" --bundle "$WORK/tree2.tgz" </dev/null; then
		add 0 build "$ex" -o "$WORK/tree2" --bundle "$WORK/tree2.tgz"
	fi
	# a tree built beforehand (not under valgrind) to verify
	if "$BIN" build -q "$ex" -o "$WORK/tree" </dev/null; then
		add 0 verify "$WORK/tree"
		add 1 verify "$WORK/tree-tampered"
		cp -a "$WORK/tree" "$WORK/tree-tampered"
		echo tampered >>"$WORK/tree-tampered/boot.ipxe"
	fi
	break
done
for f in tests/bad/*.yaml; do
	[ -f "$f" ] || continue
	base=${f##*/}
	[[ ${base%.*} == *.* ]] && continue
	add 1 check "$f"
done

add 0 secret init "@OUT@"
printf 'x' >"$WORK/exists.key"
add 1 secret init "$WORK/exists.key"

# the containerDisk writer: both compressors, and an unreadable DISK
head -c 1048576 /dev/urandom >"$WORK/disk.qcow2"
add 0 containerdisk "$WORK/disk.qcow2" -o "@OUT@"
add 0 containerdisk "$WORK/disk.qcow2" -o "@OUT@" --compress zstd --name d.raw --ref latest
add 3 containerdisk "$WORK/missing.qcow2" -o "@OUT@"

# pinned sources: checked by the copy, installed all or none; over
# 16 MiB, with a tail, so that the copy, the bundle's read of it and the
# archive's 1 MiB stages go past the page cache (O_DIRECT)
head -c $((17 * 1048576 + 4321)) /dev/urandom >"$WORK/pinned.img"
pin=$(sha256sum "$WORK/pinned.img" | cut -d' ' -f1)
for p in "$pin" "$(printf 'x' | sha256sum | cut -d' ' -f1)"; do
	cat >"$WORK/pinned-${p:0:8}.yaml" <<-EOF
	defaults:
	  kernel: bzImage
	  initrds: [{ name: big.img, source: pinned.img, sha256: "$p" }]
	hosts:
	  - name: lab
	    macs: ["52:54:00:12:34:56"]
	    cpu: intel
	EOF
	add "$([ "$p" = "$pin" ] && echo 0 || echo 3)" build "$WORK/pinned-${p:0:8}.yaml" -o "@OUT@"
done
add 0 build "$WORK/pinned-${pin:0:8}.yaml" -o "@OUT@" --bundle "@OUT@.tgz"

tree=
for d in /lib/modules/*/; do
	[ -f "$d/modules.dep.bin" ] && tree=${d%/}
done
if [ -n "$tree" ]; then
	for c in gzip zstd; do
		cat >"$WORK/modules-$c.yaml" <<-EOF
		defaults: { modules_dir: "$tree", overlay_compression: $c }
		hosts:
		  - name: lab
		    macs: ["52:54:00:12:34:56"]
		    cpu: intel
		    initrd_modules: [ext4]
		    gpus: [{ address: "0000:1a:00.0", id: "10de:1db1", role: vfio }]
		EOF
		add 0 build "$WORK/modules-$c.yaml" -o "@OUT@"
	done
	sed 's/\[ext4\]/[ext4, no_such_module]/' "$WORK/modules-gzip.yaml" >"$WORK/modules-bad.yaml"
	add 1 check "$WORK/modules-bad.yaml"
fi

# With no example and no bad case there is nothing meaningful to check.
if [ "${#runs[@]}" -eq 2 ]; then
	echo "1..1"
	echo "not ok 1 - examples/*.yaml and tests/bad/*.yaml exist"
	exit 0
fi

echo "1..${#runs[@]}"
n=0
for r in "${runs[@]}"; do
	n=$((n + 1))
	IFS=$'\t' read -r -a a <<<"$r"
	want=${a[0]}
	args=("${a[@]:1}")
	rm -rf "$WORK/out" "$WORK/vg.log"
	args=("${args[@]//@OUT@/$WORK/out}")
	shown=("${args[@]//$WORK\/out/TMP}")
	shown=("${shown[@]//$WORK/WORK}")
	timeout "$TIMEOUT" valgrind --quiet --leak-check=full \
		--show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect \
		--error-exitcode=99 --log-file="$WORK/vg.log" \
		"$BIN" "${args[@]}" >"$WORK/stdout" 2>"$WORK/stderr" </dev/null
	rc=$?
	desc="valgrind ${shown[*]}"
	if [ "$rc" = "$want" ]; then
		echo "ok $n - $desc"
		continue
	fi
	echo "not ok $n - $desc"
	if [ "$rc" = 99 ]; then
		echo "# valgrind found errors (exit 99)"
	elif [ "$rc" = 124 ]; then
		echo "# timed out after ${TIMEOUT}s"
	else
		echo "# exit: expected $want, got $rc"
	fi
	if [ -s "$WORK/vg.log" ]; then
		echo "# valgrind:"
		head -n 40 "$WORK/vg.log" | sed 's/^/#   /'
	fi
	if [ -s "$WORK/stderr" ]; then
		echo "# stderr:"
		head -n 10 "$WORK/stderr" | sed 's/^/#   /'
	fi
done
exit 0
