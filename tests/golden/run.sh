#!/usr/bin/env bash
# Golden tests: run pxeforge and compare exit code, stdout, stderr and the
# output tree with what is recorded. Prints TAP.
#
# A case is a directory tests/golden/<case>/ with:
#   cmd        one line: pxeforge's arguments; `$OUT` becomes a fresh,
#              not yet existing directory (the line is split on whitespace,
#              never evaluated by a shell)
#   exit       expected exit code
#   stderr     expected stderr, exact bytes (missing = empty)
#   stdout     expected stdout, exact bytes (missing = empty)
#   expected/  expected tree under $OUT (missing = no files): same paths,
#              same bytes, symlinks compared as links
#   modes      `type mode path` of every entry under $OUT (find -printf
#              '%y %m %P'); git keeps only 644/755, so modes are recorded
#              here. Missing = taken from expected/ as checked out.
# Where stdout/stderr contain the temporary $OUT path, it is replaced by the
# literal `$OUT` before comparing.
#
# Every case gives two TAP lines: `golden/<case>` (matches the record) and
# `golden/<case> deterministic` (a second run into another $OUT gives the
# same exit, stdout, stderr and tree, byte for byte, modes included).
#
#   PXEFORGE=path      binary (default build/san/pxeforge)
#   UPDATE_GOLDEN=1    rewrite exit/stdout/stderr/expected/modes from this run;
#                      each case then reports `not ok N - golden/<case> # updated`
#                      and the run exits 1: a recording is not a pass
#   tests/golden/run.sh [CASE...]   only these cases
set -u

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh
UPDATE=${UPDATE_GOLDEN:-0}
TIMEOUT=${TIMEOUT_GOLDEN:-300}
umask 022
# pxeforge's bookkeeping in OUT: stat fingerprints (inodes, ctimes) of the
# files it streamed, different on every run by design; never served
STATE=.pxeforge-state.json

cases=()
if [ $# -gt 0 ]; then
	for c in "$@"; do cases+=("tests/golden/${c#tests/golden/}"); done
else
	for d in tests/golden/*/; do
		[ -f "$d/cmd" ] && cases+=("${d%/}")
	done
fi

echo "1..$((2 * ${#cases[@]}))"
[ "${#cases[@]}" -eq 0 ] && exit 0

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pxeforge-golden.XXXXXX") || exit 3
trap 'rm -rf "$WORK"' EXIT


# Files and symlinks under DIR, sorted: "type path".
entries() {
	[ -d "$1" ] || return 0
	(cd "$1" && find . -mindepth 1 ! -type d ! -name "$STATE" -printf '%y %P\n' | sort)
}
# Every entry under DIR with its mode, sorted: "type mode path".
modes() {
	[ -d "$1" ] || return 0
	(cd "$1" && find . -mindepth 1 ! -name "$STATE" -printf '%y %m %P\n' | sort)
}

# compare_trees EXPECTED_DIR EXPECTED_MODES_FILE ACTUAL_DIR: diffs on stdout.
compare_trees() {
	local exp=$1 expmodes=$2 act=$3 rc=0 d
	if ! diff -u --label "expected files" --label "actual files" \
		<(entries "$exp") <(entries "$act"); then
		rc=1
	fi
	if ! diff -u --label "expected modes" --label "actual modes" \
		"$expmodes" <(modes "$act"); then
		rc=1
	fi
	if [ -d "$exp" ] && [ -d "$act" ]; then
		# Sets of paths were compared above; here only contents.
		d=$(diff -ru --no-dereference -x "$STATE" "$exp" "$act" | grep -v '^Only in ')
		if [ -n "$d" ]; then
			printf '%s\n' "$d"
			rc=1
		fi
	fi
	return $rc
}

# run_cmd CASE DIR: run the case's command with OUT=DIR/out; results in
# DIR/{stdout,stderr,exit} and the tree (if any) in DIR/out.
run_cmd() {
	local c=$1 dir=$2 line="" args=() rc
	mkdir -p "$dir"
	local out="$dir/out"
	IFS= read -r line <"$c/cmd" || true
	# shellcheck disable=SC2016 # the literal $OUT is replaced
	line=${line//'$OUT'/"$out"}
	read -r -a args <<<"$line"
	timeout "$TIMEOUT" "$PXEFORGE" "${args[@]}" \
		>"$dir/stdout" 2>"$dir/stderr" </dev/null
	rc=$?
	echo "$rc" >"$dir/exit"
	OUTDIR=$out perl -pi -e 's/\Q$ENV{OUTDIR}\E/\$OUT/g' "$dir/stdout" "$dir/stderr"
}

for c in "${cases[@]}"; do
	name=golden/${c#tests/golden/}
	w="$WORK/${c##*/}"
	diag="$WORK/diag"
	: >"$diag"
	if [ ! -f "$c/cmd" ]; then
		echo "no such case: $c (needs $c/cmd)" >"$diag"
		fail "$name" "$diag"
		fail "$name deterministic" "$diag"
		continue
	fi
	run_cmd "$c" "$w/1"
	run_cmd "$c" "$w/2"

	# --- 1: the recorded result ---
	if [ "$UPDATE" = 1 ]; then
		cp "$w/1/exit" "$c/exit"
		cp "$w/1/stderr" "$c/stderr"
		if [ -s "$w/1/stdout" ]; then cp "$w/1/stdout" "$c/stdout"; else rm -f "$c/stdout"; fi
		rm -rf "$c/expected" "$c/modes"
		if [ -d "$w/1/out" ]; then
			cp -a "$w/1/out" "$c/expected"
			rm -f "$c/expected/$STATE"
			modes "$w/1/out" >"$c/modes"
		fi
		echo "UPDATE_GOLDEN=1: recorded from this run, not compared; review with git diff $c, then run without UPDATE_GOLDEN" >"$diag"
		fail "$name # updated" "$diag"
	else
		good=1
		got_exit=$(cat "$w/1/exit")
		if [ ! -f "$c/exit" ]; then
			echo "missing $c/exit (got exit $got_exit; UPDATE_GOLDEN=1 records it)" >>"$diag"
			good=0
		elif [ "$(tr -d ' \t\r\n' <"$c/exit")" != "$got_exit" ]; then
			echo "exit: expected $(tr -d ' \t\r\n' <"$c/exit"), got $got_exit" >>"$diag"
			good=0
		fi
		for s in stdout stderr; do
			exp_s="$c/$s"
			[ -f "$exp_s" ] || exp_s=/dev/null
			if ! cmp -s "$exp_s" "$w/1/$s"; then
				diff -u --label "expected $s" --label "actual $s" \
					"$exp_s" "$w/1/$s" >>"$diag"
				good=0
			fi
		done
		expmodes="$WORK/expmodes"
		if [ -f "$c/modes" ]; then
			cp "$c/modes" "$expmodes"
		else
			modes "$c/expected" >"$expmodes"
		fi
		compare_trees "$c/expected" "$expmodes" "$w/1/out" >>"$diag" || good=0
		if [ "$good" = 1 ]; then pass "$name"; else fail "$name" "$diag"; fi
	fi

	# --- 2: determinism ---
	: >"$diag"
	good=1
	for s in exit stdout stderr; do
		if ! cmp -s "$w/1/$s" "$w/2/$s"; then
			diff -u --label "run 1 $s" --label "run 2 $s" "$w/1/$s" "$w/2/$s" >>"$diag"
			good=0
		fi
	done
	modes "$w/1/out" >"$WORK/modes1"
	compare_trees "$w/1/out" "$WORK/modes1" "$w/2/out" >>"$diag" || good=0
	if [ "$good" = 1 ]; then pass "$name deterministic"; else fail "$name deterministic" "$diag"; fi

	rm -rf "$w"
done
# A run that recorded instead of comparing must not pass for a test run.
[ "$UPDATE" = 1 ] && exit 1
exit 0
