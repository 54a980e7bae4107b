#!/usr/bin/env bash
# Packaging benchmark (issue 3): pxeforge against the shell pipeline a user
# would otherwise write, in one run on one machine. A report, not a test:
# exit 0 even when a target is missed; non-zero only when something failed
# to run (or pxeforge's hashes disagree with sha256sum's).
#
#   bench/packaging.sh            (or `make bench`)
#
# Environment:
#   PXEFORGE          binary to measure (default build/pxeforge, the -O2 build)
#   BENCH_DIR         scratch directory (default /var/tmp/pxeforge-bench);
#                     inputs are kept there between runs, outputs removed
#   BENCH_DISK_MIB    size of the "disk image" (default 2048)
#   BENCH_INITRD_MIB  size of the "initrd" (default 60)
#   BENCH_RUNS        runs per measurement; the median is reported (default 3)
#   BENCH_SETTLE      seconds to wait after removing the previous output and
#                     `sync`, so that its writeback/discard does not land in
#                     the next run (default 3)
#   BENCH_ROWS        which rows (default "floor plain copy gzip zstd")
#
# Inputs: pseudo-random (AES-128-CTR keystream with a fixed key, so the same
# bytes every time and incompressible, the worst case for the compressors).
# The "disk image" goes into the profile as an initrd entry with `source:`
# (VM disk images will take the same streaming path); the kernel has no
# source, so OUT holds the two inputs plus pxeforge's small files.
#
# Each run: the previous output is removed, `sync`, BENCH_SETTLE seconds of
# quiet, then both inputs are read once (cat >/dev/null) so that every run
# of either side starts with them in the page cache. Baseline and pxeforge
# runs are interleaved (their order alternates) so that a machine whose
# load changes meanwhile affects both alike. Wall time, user+sys CPU and
# peak RSS come from GNU time (/usr/bin/time); for a shell pipeline the RSS
# is that of its largest process (wait4's ru_maxrss), not the sum.
# MB/s = input bytes (10^6) / wall seconds.
#
# Rows:
#   floor   `openssl dgst -sha256` of both inputs: reading and hashing them,
#           nothing written; the physical floor for the uncompressed build.
#   plain   `pxeforge build P -o OUT` (an empty OUT: a full build) against
#           `tar -cf X.tar INPUTS && sha256sum INPUTS >SUMS`. Both end with
#           a copy of the bytes and their SHA-256, as a user would write it
#           (tar, not cp: cp uses copy_file_range, i.e. no user-space copy
#           at all, which is not what a hashing writer can do). The baseline
#           reads each input twice (page cache) and does not fsync; pxeforge
#           reads once and fsyncs every file before renaming it into place
#           (that durability is counted against it). An extra row
#           `tar && openssl dgst` shows the baseline with the faster hasher
#           (Debian's sha256sum does not use the CPU's SHA extensions).
#           Also: the incremental rebuild (same OUT, unchanged inputs) as a
#           fraction of the full build.
#   copy    the packaging copy itself (builder/lib/hashwrite.c), one binary:
#           `pxeforge build P -o OUT` as it is (large copies on three
#           threads over a ring, read → SHA-256 → write, and O_DIRECT from
#           16 MiB) against the same build with PXEFORGE_BENCH_COPY=plain
#           (read for the bench only: every copy single-threaded, 1 MiB
#           read → SHA-256 → write, no ring, no O_DIRECT). Both OUTs are
#           checked to be the same bytes. The ring and O_DIRECT are worth
#           keeping only if they are 1.3× faster or more (issue 21).
#   gzip    `pxeforge build P -o OUT --bundle X.tar.gz` against
#           `tar -cf - INPUTS | gzip -6 >X.tar.gz` (same level).
#   zstd    `pxeforge build P -o OUT --bundle X.tar.zst` against
#           `tar -cf - INPUTS | zstd -10 -T0 >X.tar.zst` (the level of
#           PF_BUNDLE_ZSTD_LEVEL, read from include/pxeforge/package/bundle.h).
#           pxeforge's run also writes and hashes OUT; the baseline only
#           compresses. A second pair packs an OUT that is already up to
#           date (`tar -C OUT | zstd` against `build --bundle`, whose
#           build then rewrites nothing): packaging alone. Last, the
#           rebuild with OUT and the bundle both up to date (nothing is
#           read or packed), as a fraction of the full build + bundle.
#
# Targets: plain ≤ 1.0× its baseline and ≤ 1.15× the floor; zstd ≤ 1.0×
# its baseline; pxeforge's peak RSS < 64 MiB for the uncompressed build;
# copy: the plain copy ≥ 1.3× the shipped one's wall time (else the ring
# and O_DIRECT go).
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
ROOT=$PWD
PXEFORGE=${PXEFORGE:-$ROOT/build/pxeforge}
case $PXEFORGE in /*) ;; *) PXEFORGE="$ROOT/$PXEFORGE" ;; esac
DIR=${BENCH_DIR:-/var/tmp/pxeforge-bench}
DISK_MIB=${BENCH_DISK_MIB:-2048}
INITRD_MIB=${BENCH_INITRD_MIB:-60}
RUNS=${BENCH_RUNS:-3}
SETTLE=${BENCH_SETTLE:-3}
ROWS=${BENCH_ROWS:-floor plain copy gzip zstd}
TIME=/usr/bin/time

die() { echo "bench: $*" >&2; exit 1; }

for tool in "$TIME" openssl tar gzip zstd sha256sum awk; do
	command -v "$tool" >/dev/null || die "'$tool' not found (scripts/deps.sh installs it)"
done
[ -x "$PXEFORGE" ] || die "'$PXEFORGE' not built: run make"
ZLEVEL=$(awk '$2 == "PF_BUNDLE_ZSTD_LEVEL" { print $3 }' include/pxeforge/package/bundle.h)
GLEVEL=$(awk '$2 == "PF_BUNDLE_GZIP_LEVEL" { print $3 }' include/pxeforge/package/bundle.h)
[ -n "$ZLEVEL" ] && [ -n "$GLEVEL" ] || die "cannot read the bundle levels from include/pxeforge/package/bundle.h"

mkdir -p "$DIR"
cd "$DIR"
DIR=$PWD
rm -rf out base sums* x.tar* t.time

# Pseudo-random, reproducible, fast: AES-CTR keystream over zeros.
make_input() { # FILE MIB KEY
	local want=$(($2 * 1048576))
	if [ -f "$1" ] && [ "$(stat -c %s "$1")" -eq "$want" ] && [ -f "$1.key" ] &&
	   [ "$(cat "$1.key")" = "$3" ]; then
		return
	fi
	echo "bench: creating $1 ($2 MiB)" >&2
	openssl enc -aes-128-ctr -nosalt -K "$3" -iv 0 -in /dev/zero 2>/dev/null |
		head -c "$want" >"$1.part" || true
	[ "$(stat -c %s "$1.part")" -eq "$want" ] || die "could not create $1"
	mv "$1.part" "$1"
	echo "$3" >"$1.key"
}
make_input disk.img "$DISK_MIB" 000102030405060708090a0b0c0d0e0f
make_input initrd.img "$INITRD_MIB" 0f0e0d0c0b0a09080706050403020100
INPUTS=(disk.img initrd.img)
BYTES=$(( $(stat -c %s disk.img) + $(stat -c %s initrd.img) ))

cat >p.yaml <<'YAML'
version: 1
defaults:
  kernel: bzImage
  initrds:
    # the "disk image": VM disks will take this same streaming path
    - {name: disk.img, source: disk.img}
    - {name: initrd, source: initrd.img}
hosts:
  - name: bench
    macs: ["52:54:00:12:34:56"]
    cpu: intel
YAML

# --- measuring -------------------------------------------------------------

prepare() { # remove what the last run wrote, let the disk settle, warm the inputs
	rm -rf out base sums x.tar x.tar.gz x.tar.zst
	sync
	sleep "$SETTLE"
	cat "${INPUTS[@]}" >/dev/null
}

# run NAME CMD...: one run; appends "wall cpu rss_kib" to $DIR/NAME.runs
run() {
	local name=$1
	shift
	local t0 t1
	t0=$EPOCHREALTIME	# wall to the microsecond; GNU time's %e has 10 ms
	if ! "$TIME" -f '%U %S %M' -o t.time "$@" >"$name.stdout" 2>"$name.stderr"; then
		cat "$name.stderr" >&2
		die "$name failed: $*"
	fi
	t1=$EPOCHREALTIME
	awk -v t0="$t0" -v t1="$t1" '{ printf "%.3f %.2f %s\n", t1 - t0, $1 + $2, $3 }' t.time >>"$name.runs"
}

median() { # NAME FIELD -> median of that column over the runs
	awk -v f="$2" '{ print $f }' "$1.runs" | sort -g |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Before a packaging-only run: OUT built and up to date (not timed).
prepare_built() {
	rm -rf base x.tar x.tar.gz x.tar.zst
	"$PXEFORGE" build -q p.yaml -o out || die "build failed"
	sync
	sleep "$SETTLE"
	cat "${INPUTS[@]}" >/dev/null
}
PREP=prepare

# pair A B: RUNS interleaved runs of the commands in arrays A_CMD and B_CMD
# (a shell string each), the order alternating.
pair() {
	local a=$1 b=$2 i
	rm -f "$a.runs" "$b.runs"
	for ((i = 1; i <= RUNS; i++)); do
		if ((i % 2)); then
			$PREP; run "$a" bash -c "$3"
			$PREP; run "$b" bash -c "$4"
		else
			$PREP; run "$b" bash -c "$4"
			$PREP; run "$a" bash -c "$3"
		fi
		echo "bench: $a/$b run $i of $RUNS done" >&2
	done
}

single() {
	local a=$1 i
	rm -f "$a.runs"
	for ((i = 1; i <= RUNS; i++)); do
		prepare; run "$a" bash -c "$2"
	done
}

PF=$(printf %q "$PXEFORGE")
ALL=${INPUTS[*]}

# --- the rows --------------------------------------------------------------

declare -A WALL CPU RSS RANGE
collect() {
	WALL[$1]=$(median "$1" 1)
	RANGE[$1]=$(sort -g "$1.runs" | awk 'NR == 1 { lo = $1 } { hi = $1 } END { printf "%.2f-%.2f", lo, hi }')
	CPU[$1]=$(median "$1" 2)
	RSS[$1]=$(median "$1" 3)
}

want() { case " $ROWS " in *" $1 "*) return 0 ;; esac; return 1; }

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)

if want floor; then
	single floor "openssl dgst -sha256 $ALL"
	collect floor
fi
if want plain; then
	pair plain.base plain.pf "tar -cf x.tar $ALL && sha256sum $ALL >sums" \
		"$PF build -q p.yaml -o out"
	collect plain.base
	collect plain.pf
	# same bytes, same hashes: pxeforge's manifest against sha256sum (the
	# pair's last run may have been the baseline's: one more full build)
	prepare
	"$PXEFORGE" build -q p.yaml -o out
	sha256sum "${INPUTS[@]}" >sums
	for f in disk.img:bench/disk.img initrd.img:bench/initrd; do
		h=$(awk -v f="${f%%:*}" '$2 == f { print $1 }' sums)
		grep -q "\"${f#*:}\"" out/manifest.json && grep -q "$h" out/manifest.json ||
			die "out/manifest.json lacks ${f#*:} with sha256 $h"
	done
	cmp -s out/bench/disk.img disk.img || die "out/bench/disk.img differs from its source"
	# incremental: the OUT just built, inputs unchanged
	rm -f plain.incr.runs
	for ((i = 1; i <= RUNS; i++)); do
		cat "${INPUTS[@]}" >/dev/null
		run plain.incr "$PXEFORGE" build p.yaml -o out
		grep -q '(0 rewritten)' plain.incr.stderr ||
			die "the rebuild rewrote something: $(cat plain.incr.stderr)"
	done
	collect plain.incr
	pair plain.ossl plain.pf2 "tar -cf x.tar $ALL && openssl dgst -sha256 $ALL >sums" \
		"$PF build -q p.yaml -o out"
	collect plain.ossl
fi
if want copy; then
	pair copy.ring copy.plain "$PF build -q p.yaml -o out" \
		"PXEFORGE_BENCH_COPY=plain $PF build -q p.yaml -o out"
	collect copy.ring
	collect copy.plain
	# the plain path writes the same tree
	prepare
	"$PXEFORGE" build -q p.yaml -o out
	PXEFORGE_BENCH_COPY=plain "$PXEFORGE" build -q p.yaml -o base
	cmp -s out/manifest.json base/manifest.json && cmp -s out/bench/disk.img base/bench/disk.img ||
		die "the plain copy wrote a different tree"
fi
if want gzip; then
	pair gzip.base gzip.pf "tar -cf - $ALL | gzip -$GLEVEL >x.tar.gz" \
		"$PF build -q p.yaml -o out --bundle x.tar.gz"
	collect gzip.base
	collect gzip.pf
fi
if want zstd; then
	pair zstd.base zstd.pf "tar -cf - $ALL | zstd -q -$ZLEVEL -T0 >x.tar.zst" \
		"$PF build -q p.yaml -o out --bundle x.tar.zst"
	collect zstd.base
	collect zstd.pf
	# packaging alone: OUT already up to date, both sides pack OUT
	PREP=prepare_built
	pair zstd.pkgbase zstd.pkg "tar -C out -cf - . | zstd -q -$ZLEVEL -T0 >x.tar.zst" \
		"$PF build -q p.yaml -o out --bundle x.tar.zst"
	PREP=prepare
	collect zstd.pkgbase
	collect zstd.pkg
	# incremental: OUT and the bundle both up to date (the last run left
	# them), nothing to read or pack
	"$PXEFORGE" build -q p.yaml -o out --bundle x.tar.zst
	rm -f zstd.incr.runs
	for ((i = 1; i <= RUNS; i++)); do
		run zstd.incr "$PXEFORGE" build p.yaml -o out --bundle x.tar.zst
		grep -q '(0 rewritten)' zstd.incr.stderr && grep -q 'x.tar.zst: .*(unchanged)' zstd.incr.stderr ||
			die "the rebuild with --bundle did something: $(cat zstd.incr.stderr)"
	done
	collect zstd.incr
fi
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the report ------------------------------------------------------------

mbs() { awk -v b="$BYTES" -v w="$1" 'BEGIN { printf "%.0f", (w > 0 ? b / 1e6 / w : 0) }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_gib=$(awk '/^MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
fs=$(df -PT "$DIR" | awk 'NR == 2 { print $2 " on " $1 }')
echo
echo "machine: ${cpu_model:-unknown CPU}, $(nproc) cores, $mem_gib GiB RAM, Linux $(uname -r), $DIR: $fs"
echo "load average: $LOAD_BEFORE before, $LOAD_AFTER after; $RUNS runs each, median"
echo "tools: $(openssl version | cut -d' ' -f1-2), $(tar --version | head -1), $(gzip --version | head -1), zstd $(zstd -V | grep -o 'v[0-9.]*' | head -1), $(sha256sum --version | head -1)"
echo "inputs: disk.img $DISK_MIB MiB (as an initrd entry with source:) + initrd.img $INITRD_MIB MiB = $BYTES bytes, pseudo-random"
echo
printf '%-44s %8s %15s %7s %8s %9s %8s\n' row wall_s range MB/s cpu_s rss_MiB ratio
line() { # LABEL KEY [RATIO]
	printf '%-44s %8.3f %15s %7s %8.2f %9.1f %8s\n' "$1" "${WALL[$2]}" "${RANGE[$2]}" \
		"$(mbs "${WALL[$2]}")" "${CPU[$2]}" \
		"$(awk -v k="${RSS[$2]}" 'BEGIN { print k / 1024 }')" "${3:-}"
}
want floor && line "floor: openssl dgst -sha256" floor
if want plain; then
	line "plain baseline: tar -cf && sha256sum" plain.base
	line "plain baseline': tar -cf && openssl dgst" plain.ossl
	line "plain pxeforge build (full)" plain.pf "$(ratio "${WALL[plain.pf]}" "${WALL[plain.base]}")"
	want floor && line "plain pxeforge build (full), vs floor" plain.pf "$(ratio "${WALL[plain.pf]}" "${WALL[floor]}")"
	line "plain pxeforge rebuild (unchanged inputs)" plain.incr "$(ratio "${WALL[plain.incr]}" "${WALL[plain.pf]}")"
fi
if want copy; then
	line "copy: ring + O_DIRECT (build as shipped)" copy.ring
	line "copy: plain 1 MiB read, SHA-256, write" copy.plain "$(ratio "${WALL[copy.plain]}" "${WALL[copy.ring]}")"
fi
if want gzip; then
	line "gzip baseline: tar -cf - | gzip -$GLEVEL" gzip.base
	line "gzip pxeforge build --bundle .tar.gz" gzip.pf "$(ratio "${WALL[gzip.pf]}" "${WALL[gzip.base]}")"
fi
if want zstd; then
	line "zstd baseline: tar -cf - | zstd -$ZLEVEL -T0" zstd.base
	line "zstd pxeforge build --bundle .tar.zst" zstd.pf "$(ratio "${WALL[zstd.pf]}" "${WALL[zstd.base]}")"
	line "zstd, OUT up to date: tar -C OUT | zstd" zstd.pkgbase
	line "zstd, OUT up to date: build --bundle" zstd.pkg "$(ratio "${WALL[zstd.pkg]}" "${WALL[zstd.pkgbase]}")"
	line "zstd rebuild, OUT and bundle up to date" zstd.incr "$(ratio "${WALL[zstd.incr]}" "${WALL[zstd.pf]}")"
fi
echo "(ratio: pxeforge wall / baseline wall; rebuild: / full build; copy: plain / ring; range: fastest-slowest run)"
echo

# paired A B: the ratios B/A of the runs made side by side (run i of each),
# as "min-max, mean M": how much of a verdict is the machine's noise.
paired() {
	paste -d' ' "$1.runs" "$2.runs" | awk '{ r = $4 / $1; s += r
		if (NR == 1 || r < lo) lo = r; if (NR == 1 || r > hi) hi = r }
		END { printf "paired runs %.2f-%.2f, mean %.2f", lo, hi, s / NR }'
}

verdict() { # NAME OK DETAIL
	if [ "$2" = 1 ]; then echo "PASS  $1: $3"; else echo "MISS  $1: $3"; fi
}
if want plain; then
	r=$(ratio "${WALL[plain.pf]}" "${WALL[plain.base]}")
	verdict "uncompressed ≤ 1.0× tar+sha256sum" "$(le "$r" 1.0 && echo 1)" \
		"${WALL[plain.pf]} s vs ${WALL[plain.base]} s = ${r}× ($(paired plain.base plain.pf))"
	if want floor; then
		r=$(ratio "${WALL[plain.pf]}" "${WALL[floor]}")
		verdict "uncompressed ≤ 1.15× hash-only floor" "$(le "$r" 1.15 && echo 1)" \
			"${WALL[plain.pf]} s vs ${WALL[floor]} s = ${r}×"
	fi
	mib=$(awk -v k="${RSS[plain.pf]}" 'BEGIN { printf "%.1f", k / 1024 }')
	verdict "peak RSS < 64 MiB (uncompressed build)" "$(le "$mib" 63.99 && echo 1)" "$mib MiB"
fi
if want copy; then
	r=$(ratio "${WALL[copy.plain]}" "${WALL[copy.ring]}")
	verdict "ring + O_DIRECT ≥ 1.3× faster than the plain copy (else remove them)" \
		"$(le 1.3 "$r" && echo 1)" "${WALL[copy.plain]} s vs ${WALL[copy.ring]} s = ${r}× ($(paired copy.ring copy.plain))"
fi
if want zstd; then
	r=$(ratio "${WALL[zstd.pf]}" "${WALL[zstd.base]}")
	verdict "zstd ≤ 1.0× tar | zstd -$ZLEVEL -T0 (full build + bundle vs packing the inputs)" \
		"$(le "$r" 1.0 && echo 1)" "${WALL[zstd.pf]} s vs ${WALL[zstd.base]} s = ${r}× ($(paired zstd.base zstd.pf))"
	r=$(ratio "${WALL[zstd.pkg]}" "${WALL[zstd.pkgbase]}")
	verdict "zstd ≤ 1.0× tar -C OUT | zstd -$ZLEVEL -T0 (both pack an up-to-date OUT)" \
		"$(le "$r" 1.0 && echo 1)" "${WALL[zstd.pkg]} s vs ${WALL[zstd.pkgbase]} s = ${r}× ($(paired zstd.pkgbase zstd.pkg))"
	mib=$(awk -v k="${RSS[zstd.pf]}" 'BEGIN { printf "%.1f", k / 1024 }')
	echo "info  zstd bundle peak RSS $mib MiB (baseline's zstd: $(awk -v k="${RSS[zstd.base]}" 'BEGIN { printf "%.1f", k / 1024 }') MiB)"
fi
rm -rf out base sums x.tar x.tar.gz x.tar.zst t.time ./*.stdout ./*.stderr
exit 0
