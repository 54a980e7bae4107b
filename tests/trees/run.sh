#!/usr/bin/env bash
# Proof that a restructuring changed no output: `pxeforge build` of every
# examples/*.yaml, listed as "sha256 mode path" for every file of OUT,
# must equal tests/trees/<example>.list, recorded from the binary before
# the change (sha256sum computes the sums, not pxeforge). Prints TAP.
#
#   PXEFORGE=path   binary (default build/san/pxeforge)
#   RECORD=1        write the lists from this binary instead of comparing
#                   (each reported "not ok … recorded", and the run exits 1,
#                   so that a recording never stands in for a passing suite)
set -u

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh
RECORD=${RECORD:-0}
STATE=.pxeforge-state.json
export SOURCE_DATE_EPOCH=1700000000 LC_ALL=C
umask 022

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pxeforge-trees.XXXXXX") || exit 3
trap 'rm -rf "$WORK"' EXIT

# tree_list DIR: every file and link under DIR, sorted by path.
tree_list() {
	(cd "$1" && find . -mindepth 1 ! -type d ! -name "$STATE" -printf '%P\n' | sort |
		while IFS= read -r f; do
			if [ -L "$f" ]; then
				printf 'link:%s %s %s\n' "$(readlink "$f")" 777 "$f"
			else
				printf '%s %s %s\n' "$(sha256sum <"$f" | cut -d' ' -f1)" "$(stat -c %a "$f")" "$f"
			fi
		done)
}

profiles=(examples/*.yaml)
echo "1..${#profiles[@]}"
rc=0
for p in "${profiles[@]}"; do
	name=$(basename "$p" .yaml)
	list=tests/trees/$name.list
	diag=$WORK/diag
	out=$WORK/$name
	if ! timeout 300 "$PXEFORGE" build "$p" -o "$out" -q >"$diag" 2>&1; then
		fail "trees/$name: pxeforge build failed" "$diag"
		continue
	fi
	tree_list "$out" >"$WORK/$name.list"
	if [ "$RECORD" = 1 ]; then
		cp "$WORK/$name.list" "$list"
		n=$((n + 1))
		echo "not ok $n - trees/$name recorded, not compared (RECORD=1)"
		rc=1
	elif diff -u --label "recorded $list" --label "built now" "$list" "$WORK/$name.list" >"$diag" 2>&1; then
		pass "trees/$name"
	else
		fail "trees/$name: the tree differs from the one recorded before" "$diag"
	fi
done
exit $rc
