#!/usr/bin/env bash
# Corpus of invalid profiles. Prints TAP.
#
# A case is tests/bad/<name>.yaml or tests/bad/<name>.json, with
# tests/bad/<name>.err holding the exact expected stderr. Helper inputs a
# case refers to are named <name>.<something>.json (or .yaml) and are not
# cases themselves: only names without a second dot are.
#
# For each case, from the repo root:
#   check: `pxeforge check tests/bad/<name>.yaml`     exit 1, stderr == .err
#   build: `pxeforge build tests/bad/<name>.yaml -o T` exit 1, stderr == .err,
#          T does not exist afterwards (nothing written)
#
#   PXEFORGE=path      binary (default build/san/pxeforge)
#   UPDATE_GOLDEN=1    rewrite the .err files from the check run; each check
#                      then reports `not ok N - bad/<name> check # updated`
#                      and the run exits 1: a recording is not a pass
set -u

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh
UPDATE=${UPDATE_GOLDEN:-0}
TIMEOUT=${TIMEOUT_BAD:-120}

cases=()
for f in tests/bad/*.yaml tests/bad/*.yml tests/bad/*.json; do
	[ -f "$f" ] || continue
	base=${f##*/}
	stem=${base%.*}
	[[ $stem == *.* ]] && continue
	cases+=("$f")
done
# One sorted order whatever the extension.
if [ "${#cases[@]}" -gt 0 ]; then
	mapfile -t cases < <(printf '%s\n' "${cases[@]}" | sort)
fi

echo "1..$((2 * ${#cases[@]}))"
[ "${#cases[@]}" -eq 0 ] && exit 0

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pxeforge-bad.XXXXXX") || exit 3
trap 'rm -rf "$WORK"' EXIT


# judge NAME EXITFILE ERRFILE STDERR STDOUT DIAG: exit 1 and stderr == .err
judge() {
	local rc=$2 err=$3 got=$4 out=$5 diag=$6
	if [ "$rc" != 1 ]; then
		echo "exit: expected 1, got $rc" >>"$diag"
	fi
	if [ ! -f "$err" ]; then
		echo "missing $err (UPDATE_GOLDEN=1 records it); stderr was:" >>"$diag"
		cat "$got" >>"$diag"
	elif ! cmp -s "$err" "$got"; then
		diff -u --label "expected stderr ($err)" --label "actual stderr" \
			"$err" "$got" >>"$diag"
	fi
	if [ -s "$diag" ] && [ -s "$out" ]; then
		echo "stdout was:" >>"$diag"
		head -n 10 "$out" >>"$diag"
	fi
	[ ! -s "$diag" ]
}

for f in "${cases[@]}"; do
	stem=${f%.*}
	name=bad/${stem#tests/bad/}
	err="$stem.err"
	diag="$WORK/diag"

	# --- check ---
	: >"$diag"
	timeout "$TIMEOUT" "$PXEFORGE" check "$f" \
		>"$WORK/stdout" 2>"$WORK/stderr" </dev/null
	rc=$?
	if [ "$UPDATE" = 1 ]; then
		cp "$WORK/stderr" "$err"
		echo "UPDATE_GOLDEN=1: $err recorded from this run (exit $rc), not compared; review with git diff $err, then run without UPDATE_GOLDEN" >"$diag"
		fail "$name check # updated" "$diag"
	elif judge "$name" "$rc" "$err" "$WORK/stderr" "$WORK/stdout" "$diag"; then
		pass "$name check"
	else
		fail "$name check" "$diag"
	fi

	# --- build writes nothing ---
	: >"$diag"
	rm -rf "$WORK/t"
	mkdir -p "$WORK/t"
	timeout "$TIMEOUT" "$PXEFORGE" build "$f" -o "$WORK/t/out" \
		>"$WORK/stdout" 2>"$WORK/stderr" </dev/null
	rc=$?
	judge "$name" "$rc" "$err" "$WORK/stderr" "$WORK/stdout" "$diag"
	if [ -e "$WORK/t/out" ]; then
		echo "build wrote $WORK/t/out although the profile is invalid:" >>"$diag"
		(cd "$WORK/t" && find out | sort | head -n 10) >>"$diag"
	fi
	if [ ! -s "$diag" ]; then
		pass "$name build"
	else
		fail "$name build" "$diag"
	fi
done
# A run that recorded instead of comparing must not pass for a test run.
[ "$UPDATE" = 1 ] && exit 1
exit 0
