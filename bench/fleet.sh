#!/usr/bin/env bash
# Fleet benchmark (issue 15): pxeforge on generated inventories of many
# hosts, against the I/O floor of writing the same tree, in one run on one
# machine. A report, not a test: exit 0 even when a target is missed;
# non-zero only when something failed to run (a build that exits non-zero,
# a tree that is not what the build says, a missing tool).
#
#   bench/fleet.sh              (or `make bench-fleet`)
#   bench/fleet.sh --quick      one run per measurement
#   bench/fleet.sh 100 1000     other sizes (the last is the "large" one)
#
# Environment:
#   PXEFORGE        binary to measure (default build/pxeforge, the -O2 build)
#   BENCH_RUNS      runs of each full build and of the floor (default 3;
#                   --quick: 1); the median is reported, and the range
#   BENCH_SETTLE    seconds of quiet after `sync` before a timed run, so the
#                   previous run's writeback does not land in it (default 2)
#   BENCH_TIMEOUT   seconds a single pxeforge run may take (default 900); a
#                   run that takes longer is reported as a miss (">T"), the
#                   rest of that size is skipped
#   BENCH_BUDGET    no further full build of a size is started once its
#                   builds took this many seconds (default 60), so a slow
#                   build is measured once, not BENCH_RUNS times
#   TMPDIR          where the trees go (mktemp -d; removed at exit). The
#                   large size needs about twice its tree: 10,000 hosts
#                   wrote 4.2 GB with cidata.iso per host
#
# The inventory (python3, deterministic): N hosts node00000…, each with one
# MAC, cpu intel, 4 Tesla V100 (10de:1db1, role vfio) at 0000:1a/1c/1d/1e:00.0,
# nixos toplevel + kernel_params, cloud_init with a k3s agent (server,
# token_file), a static address (network.addresses, gateway) and the seed
# over URL (seed_url); a cluster secret (a fixed test key, 0600); no
# kernel or initrd images.
#
# Per size: `pxeforge check` and `pxeforge render --target cmdline` of the
# last host (both read and plan the whole profile), then the full build
# (`pxeforge build -q P -o OUT` into an absent OUT, after `sync` and
# BENCH_SETTLE s): wall time (bash's EPOCHREALTIME), user+sys CPU and peak
# RSS (GNU time %U %S %M), the files and bytes it wrote (find). The I/O
# floor: `tar -cf` of that tree (not timed), then `tar -xf` into an empty
# directory followed by `sync`, timed together: what writing these files
# and bytes costs on this file system without computing anything.
# For the large size also: a rebuild with nothing changed (it must say
# "(0 rewritten)"), and a rebuild after one host's kernel parameter changed
# (loglevel=4 -> loglevel=5 on the middle host): the files whose inode or
# mtime changed are counted and those outside the host's directory named.
#
# Targets (issue 15), judged on the large size L against the small one S:
#   build(L) < 5 s wall, and < 2x the floor(L)
#   peak RSS(L) < 256 MiB, and independent of the host count:
#     RSS(L) <= 1.25 x RSS(S)
#   t(L)/t(S) <= 1.1 x L/S (11 for 1,000 -> 10,000), in wall and in CPU
#   rebuild with nothing changed < 1 s
#   one kernel parameter changed: only that host's files (OUT/<host>/ and
#     its MAC's OUT/hosts/<mac>.ipxe) and manifest.json are rewritten (the
#     state file .pxeforge-state.json is allowed too)
set -euo pipefail
export LC_ALL=C

cd "$(dirname "$0")/.."
ROOT=$PWD
PXEFORGE=${PXEFORGE:-$ROOT/build/pxeforge}
case $PXEFORGE in /*) ;; *) PXEFORGE="$ROOT/$PXEFORGE" ;; esac
RUNS=${BENCH_RUNS:-3}
SETTLE=${BENCH_SETTLE:-2}
TIMEOUT=${BENCH_TIMEOUT:-900}
BUDGET=${BENCH_BUDGET:-60}
TIME=/usr/bin/time
SIZES=()
for a in "$@"; do
	case $a in
	--quick) RUNS=1 ;;
	-h|--help) sed -n '2,/^set -e/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*[!0-9]*|'') echo "bench: not a size: '$a' (usage: bench/fleet.sh [--quick] [SIZE...])" >&2; exit 2 ;;
	*) SIZES+=("$a") ;;
	esac
done
[ "${#SIZES[@]}" -gt 0 ] || SIZES=(1000 10000)
mapfile -t SIZES < <(printf '%s\n' "${SIZES[@]}" | sort -n -u)

die() { echo "bench: $*" >&2; exit 1; }

for tool in "$TIME" python3 tar find awk sync timeout stat; do
	command -v "$tool" >/dev/null || die "'$tool' not found (scripts/deps.sh installs it)"
done
[ -x "$PXEFORGE" ] || die "'$PXEFORGE' not built: run make"

DIR=$(mktemp -d "${TMPDIR:-/tmp}/pxeforge-fleet.XXXXXX")
trap 'rm -rf "$DIR"' EXIT
cd "$DIR"
cp "$ROOT/examples/demo-cluster.key" cluster.key
chmod 600 cluster.key

# gen N [CHANGED]: the inventory of N hosts on stdout; host CHANGED (an
# index) gets loglevel=5 instead of loglevel=4.
gen() {
	python3 - "$1" "${2:--1}" <<'PY'
import sys
n, changed = int(sys.argv[1]), int(sys.argv[2])
w = sys.stdout.write
w("version: 1\ncluster_secret: cluster.key\n"
  "defaults:\n  console: [tty0, \"ttyS0,115200n8\"]\nhosts:\n")
for i in range(n):
    w(f"  - name: node{i:05d}\n"
      f"    macs: [\"b0:26:28:{i >> 16 & 255:02x}:{i >> 8 & 255:02x}:{i & 255:02x}\"]\n"
      "    cpu: intel\n    gpus:\n")
    for bus in ("1a", "1c", "1d", "1e"):
        w(f"      - {{address: \"0000:{bus}:00.0\", id: \"10de:1db1\", role: vfio}}\n")
    w("    nixos:\n"
      "      toplevel: /nix/store/q4l0b8i0l6h4dbjg3v2k2w1xm8qn0r5s-nixos-system-node-24.11\n"
      f"      kernel_params: [intel_iommu=on, iommu=pt, vfio-pci.ids=10de:1db1, loglevel={5 if i == changed else 4}]\n"
      "    cloud_init:\n"
      "      seed_url: http://10.0.0.1/pxe\n"
      "      k3s:\n"
      "        role: agent\n"
      "        server: https://10.0.0.1:6443\n"
      "        token_file: /var/lib/rancher/k3s/agent/join-token\n"
      "      network:\n"
      f"        addresses: [10.{1 + i // 62500}.{i // 250 % 250}.{i % 250 + 2}/16]\n"
      "        gateway: 10.0.0.1\n")
PY
}

# timed NAME CMD...: one run; appends "wall cpu rss_kib" to NAME.runs.
# Returns 124 when the run took longer than TIMEOUT (recorded as such).
timed() {
	local name=$1 t0 t1 rc=0
	shift
	t0=$EPOCHREALTIME
	timeout -s KILL "$TIMEOUT" "$TIME" -f '%U %S %M' -o t.time "$@" \
		>"$name.stdout" 2>"$name.stderr" || rc=$?
	t1=$EPOCHREALTIME
	if [ "$rc" -eq 137 ] || [ "$rc" -eq 124 ]; then
		echo "bench: $name: no result in $TIMEOUT s, killed" >&2
		echo "timeout" >>"$name.runs"
		return 124
	fi
	if [ "$rc" -ne 0 ]; then
		cat "$name.stderr" >&2
		die "$name failed (exit $rc): $*"
	fi
	awk -v t0="$t0" -v t1="$t1" '{ printf "%.3f %.2f %s\n", t1 - t0, $1 + $2, $3 }' t.time >>"$name.runs"
}

quiet() { sync; sleep "$SETTLE"; }

# stats NAME: "median_wall lo-hi median_cpu median_rss", or "timeout"
stats() {
	if grep -q timeout "$1.runs"; then
		echo timeout
		return
	fi
	awk '{ w[NR] = $1; c[NR] = $2; r[NR] = $3 }
	function med(a, n,   i, j, t) {
		for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
			if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return (n % 2) ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	END { lo = hi = w[1]; for (i = 2; i <= NR; i++) { if (w[i] < lo) lo = w[i]; if (w[i] > hi) hi = w[i] }
	      printf "%.3f %.2f-%.2f ", med(w, NR), lo, hi; printf "%.2f ", med(c, NR); printf "%d\n", med(r, NR) }' "$1.runs"
}

declare -A WALL RANGE CPU RSS FILES BYTES
collect() { # KEY
	local s
	s=$(stats "$1")
	if [ "$s" = timeout ]; then
		WALL[$1]=">$TIMEOUT"; RANGE[$1]=-; CPU[$1]=-; RSS[$1]=-
	else
		read -r "WALL[$1]" "RANGE[$1]" "CPU[$1]" "RSS[$1]" <<<"$s"
	fi
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
LARGE=${SIZES[-1]}
MID=$((LARGE / 2))
MIDNAME=$(printf 'node%05d' "$MID")
NOOP="" CHANGED="" OUTSIDE=""
for n in "${SIZES[@]}"; do
	gen "$n" >"p$n.yaml"
	last=$(printf 'node%05d' $((n - 1)))
	rm -f "check$n.runs" "render$n.runs" "build$n.runs" "floor$n.runs"
	timed "check$n" "$PXEFORGE" check "p$n.yaml" || true
	collect "check$n"
	timed "render$n" "$PXEFORGE" render "p$n.yaml" --host "$last" --target cmdline || true
	collect "render$n"
	grep -q 'loglevel=4' "render$n.stdout" 2>/dev/null || [ "${WALL[render$n]}" = ">$TIMEOUT" ] ||
		die "render of $last: no loglevel=4 on its command line"
	ok=1
	spent=0
	for ((i = 1; i <= RUNS && ok; i++)); do
		if ! awk -v s="$spent" -v b="$BUDGET" 'BEGIN { exit !(s < b) }'; then
			echo "bench: $n hosts: $i runs would exceed BENCH_BUDGET ($BUDGET s), $((i - 1)) made" >&2
			break
		fi
		rm -rf out
		quiet
		timed "build$n" "$PXEFORGE" build -q "p$n.yaml" -o out || ok=0
		spent=$(awk '{ s += $1 } END { print s + 0 }' "build$n.runs" 2>/dev/null || echo 0)
		echo "bench: $n hosts, build $i of $RUNS done" >&2
	done
	collect "build$n"
	if [ "$ok" = 0 ]; then
		rm -rf out
		continue
	fi
	FILES[$n]=$(find out -type f | wc -l)
	BYTES[$n]=$(find out -type f -printf '%s\n' | awk '{ s += $1 } END { printf "%.0f\n", s }')
	[ -f "out/$last/cmdline" ] || die "the build of $n hosts wrote no out/$last/cmdline"
	cmp -s "out/$last/cmdline" "render$n.stdout" || die "out/$last/cmdline differs from render --target cmdline"
	"$PXEFORGE" verify out >verify.stdout 2>verify.stderr || { cat verify.stderr >&2; die "pxeforge verify rejects the tree of $n hosts"; }
	if [ "$n" = "$LARGE" ]; then
		rm -f noop.runs change.runs
		timed noop "$PXEFORGE" build "p$n.yaml" -o out || true
		collect noop
		grep -q '(0 rewritten)' noop.stderr 2>/dev/null && NOOP=0 ||
			NOOP=$(grep -o '([0-9]* rewritten)' noop.stderr 2>/dev/null | tr -dc 0-9)
		find out -type f -printf '%i %T@ %P\n' | sort -k3 >before.list
		gen "$n" "$MID" >"p$n.changed.yaml"
		timed change "$PXEFORGE" build "p$n.changed.yaml" -o out || true
		collect change
		grep -q 'loglevel=5' "out/$MIDNAME/cmdline" || die "the changed parameter is not in out/$MIDNAME/cmdline"
		find out -type f -printf '%i %T@ %P\n' | sort -k3 >after.list
		# changed: a path whose inode or mtime differs, or that is new or gone
		join -1 3 -2 3 -a 1 -a 2 -e x -o 0,1.1,1.2,2.1,2.2 before.list after.list |
			awk '$2 != $4 || $3 != $5 { print $1 }' >changed.list
		CHANGED=$(wc -l <changed.list)
		midmac=$(printf 'b0-26-28-%02x-%02x-%02x' $((MID >> 16 & 255)) $((MID >> 8 & 255)) $((MID & 255)))
		OUTSIDE=$(grep -v -e "^$MIDNAME/" -e "^hosts/$midmac\.ipxe\$" -e '^manifest.json$' \
			-e '^\.pxeforge-state.json$' changed.list || true)
	fi
	tar -C out -cf floor.tar .
	rm -rf out
	for ((i = 1; i <= RUNS; i++)); do
		rm -rf floor
		mkdir floor
		quiet
		timed "floor$n" bash -c 'tar -C floor -xf floor.tar && sync'
	done
	collect "floor$n"
	rm -rf floor floor.tar
done
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

# --- the report ------------------------------------------------------------

num() { [[ $1 =~ ^[0-9.]+$ ]]; }
ratio() { if num "$1" && num "$2"; then awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; else echo -; fi; }
lt() { num "$1" && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }
le() { num "$1" && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }
mib() { if num "$1"; then awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; else echo -; fi; }

cpu_model=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
mem_gib=$(awk '/^MemTotal/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
fs=$(df -PT "$DIR" | awk 'NR == 2 { print $2 " on " $1 }')
echo
echo "machine: ${cpu_model:-unknown CPU}, $(nproc) cores, $mem_gib GiB RAM, Linux $(uname -r), $DIR: $fs"
echo "load average: $LOAD_BEFORE before, $LOAD_AFTER after; builds and floor: $RUNS runs each, median (range: fastest-slowest)"
echo "pxeforge: $("$PXEFORGE" --version 2>/dev/null | head -1) ($PXEFORGE)"
echo
printf '%-34s %9s %13s %8s %9s %8s %14s %8s\n' row wall_s range cpu_s rss_MiB files bytes ratio
row() { # LABEL KEY [FILES BYTES RATIO]
	printf '%-34s %9s %13s %8s %9s %8s %14s %8s\n' "$1" "${WALL[$2]}" "${RANGE[$2]}" \
		"${CPU[$2]}" "$(mib "${RSS[$2]}")" "${3:--}" "${4:--}" "${5:-}"
}
for n in "${SIZES[@]}"; do
	row "$n hosts: check" "check$n"
	row "$n hosts: render --target cmdline" "render$n"
	row "$n hosts: build (full)" "build$n" "${FILES[$n]:--}" "${BYTES[$n]:--}"
	row "$n hosts: floor (tar -xf && sync)" "floor$n" "${FILES[$n]:--}" "${BYTES[$n]:--}" \
		"$(ratio "${WALL[build$n]}" "${WALL[floor$n]}")"
done
if [ -n "${WALL[noop]:-}" ]; then
	row "$LARGE hosts: rebuild, nothing changed" noop "" "" "$(ratio "${WALL[noop]}" "${WALL[build$LARGE]}")"
	row "$LARGE hosts: rebuild, 1 param changed" change "${CHANGED:--}" "" "$(ratio "${WALL[change]}" "${WALL[build$LARGE]}")"
fi
echo "(floor ratio: build wall / floor wall; rebuild ratios: / full build; files on the changed rebuild: files rewritten)"
echo

verdict() { # NAME OK DETAIL
	if [ "$2" = 1 ]; then echo "PASS  $1: $3"; else echo "MISS  $1: $3"; fi
}
L=$LARGE
S=${SIZES[0]}
w=${WALL[build$L]}
verdict "$L hosts in under 5 s wall" "$(lt "$w" 5 && echo 1)" "$w s"
r=$(ratio "$w" "${WALL[floor$L]}")
verdict "$L hosts under 2x the I/O floor" "$(lt "$r" 2 && echo 1)" "$w s vs ${WALL[floor$L]} s = ${r}x"
m=$(mib "${RSS[build$L]}")
verdict "peak RSS under 256 MiB ($L hosts)" "$(lt "$m" 256 && echo 1)" "$m MiB"
if [ "$S" != "$L" ]; then
	r=$(ratio "${RSS[build$L]}" "${RSS[build$S]}")
	verdict "peak RSS independent of the host count (RSS($L) <= 1.25x RSS($S))" \
		"$(le "$r" 1.25 && echo 1)" "$m MiB vs $(mib "${RSS[build$S]}") MiB = ${r}x"
	lim=$(awk -v l="$L" -v s="$S" 'BEGIN { printf "%.1f", 1.1 * l / s }')
	r=$(ratio "$w" "${WALL[build$S]}")
	verdict "t($L)/t($S) <= $lim in wall" "$(le "$r" "$lim" && echo 1)" "$w s / ${WALL[build$S]} s = $r"
	r=$(ratio "${CPU[build$L]}" "${CPU[build$S]}")
	verdict "t($L)/t($S) <= $lim in CPU (user+sys)" "$(le "$r" "$lim" && echo 1)" "${CPU[build$L]} s / ${CPU[build$S]} s = $r"
	r=$(ratio "${WALL[check$L]}" "${WALL[check$S]}")
	echo "info  check: t($L)/t($S) = $r in wall (${WALL[check$L]} s / ${WALL[check$S]} s)"
fi
if [ -n "${WALL[noop]:-}" ]; then
	verdict "rebuild with nothing changed under 1 s ($L hosts)" "$(lt "${WALL[noop]}" 1 && [ "$NOOP" = 0 ] && echo 1)" \
		"${WALL[noop]} s, ${NOOP:-?} files rewritten"
	if [ -n "$CHANGED" ]; then
		verdict "one kernel parameter changed: only $MIDNAME's files and manifest.json rewritten" \
			"$([ -z "$OUTSIDE" ] && echo 1)" \
			"$CHANGED files changed, $(printf '%s\n' "$OUTSIDE" | grep -c . || true) outside them$( [ -z "$OUTSIDE" ] || printf ' (%s)' "$(printf '%s\n' "$OUTSIDE" | head -5 | paste -sd' ')$( [ "$(printf '%s\n' "$OUTSIDE" | wc -l)" -le 5 ] || echo ' …')")"
		echo "info  rewritten after the parameter change: $(head -12 "$DIR/changed.list" | paste -sd' ')$( [ "$CHANGED" -le 12 ] || echo ' …')"
	fi
else
	echo "MISS  rebuilds ($L hosts): not measured, the full build did not finish"
fi
exit 0
