#!/usr/bin/env bash
# Package-side memory benchmark (issue 15): peak RSS of rendering a fleet's
# output tree held whole in memory (package_tree, what build did) against
# streamed chunk by chunk into a sink that drops each (package_stream), in
# the same run, on inventories of 1,000 and 10,000 hosts made by
# bench/fleet_gen.py, seeds over URL and seed: iso (a cidata.iso per host).
# Nothing is written: the writer is not measured here. Also `check` alone,
# what parsing, validating and planning cost before package starts. A
# report, not a test: exit 0 unless something failed to run.
#
#   BENCH_DIR    scratch directory (default /var/tmp/pxeforge-bench-rss)
#   BENCH_HOSTS  host counts (default "1000 10000")
#   BENCH_TREE   0: skip the whole-tree row (slow at 10,000 hosts: the
#                tree checks each new path against every path it holds)
set -eu

cd "$(dirname "$0")/.."
DIR=${BENCH_DIR:-/var/tmp/pxeforge-bench-rss}
HOSTS=${BENCH_HOSTS:-1000 10000}
PK="yaml-0.1 jansson libarchive libcurl libcrypto libkmod libxml-2.0"
export SOURCE_DATE_EPOCH=0 LC_ALL=C

make -s build/pxeforge
# shellcheck disable=SC2046,SC2086
cc -std=c11 -D_GNU_SOURCE -pthread -O2 -Wall -Wextra -Werror -Iinclude \
	-Ibuilder/cli $(pkg-config --cflags $PK) -o build/package_rss \
	bench/package_rss.c $(ls build/obj/*/*.o | grep -v '/cli/main\.o$') \
	$(pkg-config --libs $PK)

# row LABEL CMD...: "LABEL  wall s  user s  peak MiB  [files bytes]"
row() {
	local label=$1 out
	shift
	out=$(/usr/bin/time -f '%e %U %M' "$@" 2>&1 >"$DIR/stdout") ||
		{ echo "bench: $label failed: $out" >&2; exit 1; }
	read -r wall user kib <<<"$(tail -n 1 <<<"$out")"
	printf '%-28s %8s s %8s s %8d MiB   %s\n' "$label" "$wall" "$user" \
		$((kib / 1024)) "$(cat "$DIR/stdout")"
}

mkdir -p "$DIR"
printf '%-28s %10s %10s %12s   %s\n' "" wall user "peak RSS" "files bytes"
for n in $HOSTS; do
	for seed in url iso; do
		python3 bench/fleet_gen.py "$n" "$DIR/$n-$seed" $seed
		p="$DIR/$n-$seed/fleet.yaml"
		row "$n hosts, seed $seed: check" build/pxeforge check "$p"
		[ "${BENCH_TREE:-1}" = 0 ] ||
			row "$n hosts, seed $seed: tree" build/package_rss tree "$p"
		row "$n hosts, seed $seed: stream" build/package_rss stream "$p"
	done
done
