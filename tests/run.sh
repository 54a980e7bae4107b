#!/usr/bin/env bash
# Run every test suite, each speaking TAP, and aggregate the results.
#
#   tests/run.sh            all suites (layers unit cli containerd golden trees bad oracles nix e2e valgrind)
#   tests/run.sh unit cli   only the named suites, in the order given
#
# Each suite's TAP goes to build/test-results/<suite>.tap and its stderr to
# build/test-results/<suite>.log. The last line printed is always the plain
# summary `N passed, N failed[, N skipped]`; exit 1 when anything failed or
# when no test ran at all. Run from anywhere; it works from the repo root.
#
# Environment: PXEFORGE (binary for cli/golden/bad; default
# build/san/pxeforge), PXEFORGE_BUILD_STATUS (set by `make check`: non-zero
# means the build failed, reported as a failed `build` suite), VERBOSE=1
# (also print every suite's TAP as it runs).
set -u

cd "$(dirname "$0")/.." || exit 1
ROOT=$PWD
export LC_ALL=C TZ=UTC
export PXEFORGE="${PXEFORGE:-$ROOT/build/san/pxeforge}"
case $PXEFORGE in /*) ;; *) PXEFORGE="$ROOT/$PXEFORGE" ;; esac
# Sanitizer reports: full stack traces, and a distinctive exit code.
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1}"

RESULTS=build/test-results
mkdir -p "$RESULTS"

TIMEOUT_UNIT=${TIMEOUT_UNIT:-300}

total_pass=0 total_fail=0 total_skip=0
suites_run=()

# --- suites: each prints TAP on stdout -------------------------------------

suite_build() {
	echo "1..1"
	echo "not ok 1 - build failed (make exit ${PXEFORGE_BUILD_STATUS}; see the compiler output above)"
}

# Combine the cmocka binaries' TAP into one stream: renumber, prefix each
# test with its binary's name, turn non-TAP output into comments and put the
# plan at the end. cmocka 1.1.5 prints skipped tests as `not ok N # SKIP x`;
# they are rewritten as `ok N - bin: x # SKIP`.
suite_unit() {
	local n=0 bin name out err rc line saw_notok
	out=$(mktemp) err=$(mktemp)
	for bin in build/san/tests/test_*; do
		{ [ -f "$bin" ] && [ -x "$bin" ]; } || continue
		name=${bin##*/}
		# A binary whose source is gone is stale: do not run it.
		[ -f "tests/unit/$name.c" ] || continue
		CMOCKA_MESSAGE_OUTPUT=TAP timeout "$TIMEOUT_UNIT" "$bin" >"$out" 2>"$err" </dev/null
		rc=$?
		saw_notok=0
		while IFS= read -r line || [ -n "$line" ]; do
			if [[ $line =~ ^not\ ok\ [0-9]+\ \#\ [Ss][Kk][Ii][Pp]\ *(.*)$ ]]; then
				n=$((n + 1))
				echo "ok $n - $name: ${BASH_REMATCH[1]} # SKIP"
			elif [[ $line =~ ^(ok|not\ ok)\ ([0-9]+)?(\ -)?\ ?(.*)$ ]]; then
				n=$((n + 1))
				[ "${BASH_REMATCH[1]}" = "not ok" ] && saw_notok=1
				echo "${BASH_REMATCH[1]} $n - $name: ${BASH_REMATCH[4]}"
			elif [[ $line =~ ^[0-9]+\.\.[0-9]+ ]]; then
				:   # the binary's own plan; ours comes at the end
			elif [[ $line == \#* ]]; then
				echo "$line"
			else
				echo "# $line"
			fi
		done <"$out"
		if [ "$rc" -ne 0 ] && [ "$saw_notok" -eq 0 ]; then
			n=$((n + 1))
			if [ "$rc" -eq 124 ]; then
				echo "not ok $n - $name crashed (exit $rc: timed out after ${TIMEOUT_UNIT}s)"
			else
				echo "not ok $n - $name crashed (exit $rc)"
			fi
		fi
		# stderr (sanitizer reports, cmocka errors) as diagnostics on failure
		if [ "$rc" -ne 0 ] && [ -s "$err" ]; then
			echo "# $name stderr (first 30 lines):"
			head -n 30 "$err" | sed 's/^/#   /'
		fi
	done
	rm -f "$out" "$err"
	echo "1..$n"
}

suite_cli() {
	local files=(tests/cli/*.bats)
	if [ ! -e "${files[0]}" ]; then
		echo "1..0 # skip no tests/cli/*.bats"
		return 0
	fi
	if ! command -v bats >/dev/null 2>&1; then
		echo "1..1"
		echo "not ok 1 - cli: bats is not installed (scripts/deps.sh)"
		return 0
	fi
	BATS_LIB_PATH="${BATS_LIB_PATH:-/usr/lib/bats}" bats --tap tests/cli </dev/null
}

suite_containerd() { tests/containerd/run.sh; }
suite_layers() { tests/layers/run.sh; }
suite_golden() { tests/golden/run.sh; }
suite_trees() { tests/trees/run.sh; }
suite_bad() { tests/bad/run.sh; }
suite_oracles() { tests/oracles/run.sh; }
suite_nix() { tests/nix/run.sh; }
suite_e2e() { tests/e2e/run.sh; }
suite_valgrind() { tests/valgrind.sh; }

# --- driver ------------------------------------------------------------------

count() { # count TAPFILE -> "pass fail skip"
	awk '
		/^ok / { if (tolower($0) ~ /# skip/) s++; else p++; next }
		/^not ok / { f++; next }   # "# TODO" counts as failed: we do not use it
		END { printf "%d %d %d\n", p, f, s }
	' "$1"
}

run_suite() {
	local suite=$1 tap="$RESULTS/$1.tap" log="$RESULTS/$1.log" rc p f s
	if [ "${VERBOSE:-0}" = 1 ]; then
		"suite_$suite" 2>"$log" | tee "$tap"
		rc=${PIPESTATUS[0]}
	else
		"suite_$suite" >"$tap" 2>"$log"
		rc=$?
	fi
	# A runner that fails without reporting a failing test still fails.
	if [ "$rc" -ne 0 ] && ! grep -q '^not ok ' "$tap"; then
		echo "not ok - $suite: runner exited $rc (see $log)" >>"$tap"
		sed -n '1,15s/^/# /p' "$log" >>"$tap"
	fi
	read -r p f s < <(count "$tap")
	total_pass=$((total_pass + p))
	total_fail=$((total_fail + f))
	total_skip=$((total_skip + s))
	suites_run+=("$suite")
	printf '%-10s %4d ok  %4d not ok  %4d skipped   (%s)\n' "$suite" "$p" "$f" "$s" "$tap"
}

all_suites=(layers unit cli containerd golden trees bad oracles nix e2e valgrind)
if [ $# -gt 0 ]; then
	selected=("$@")
	for s in "${selected[@]}"; do
		case " ${all_suites[*]} " in
		*" $s "*) ;;
		*) echo "tests/run.sh: unknown suite '$s' (known: ${all_suites[*]})" >&2; exit 2 ;;
		esac
	done
else
	selected=("${all_suites[@]}")
fi

rm -f "$RESULTS"/*.tap "$RESULTS"/*.log
if [ -n "${PXEFORGE_BUILD_STATUS:-}" ] && [ "$PXEFORGE_BUILD_STATUS" != 0 ]; then
	run_suite build
fi
for s in "${selected[@]}"; do
	run_suite "$s"
done

# Every failure with up to 12 lines of its diagnostics.
if [ "$total_fail" -gt 0 ]; then
	echo
	echo "failures:"
	for s in "${suites_run[@]}"; do
		awk -v suite="$s" '
			/^not ok / { print suite ": " $0; k = 12; next }
			k > 0 && /^#/ { print "    " $0; k--; next }
			{ k = 0 }
		' "$RESULTS/$s.tap"
	done
	echo
fi

summary="$total_pass passed, $total_fail failed"
[ "$total_skip" -gt 0 ] && summary+=", $total_skip skipped"
if [ $((total_pass + total_fail)) -eq 0 ]; then
	echo "no test ran"
fi
echo "$summary"
[ "$total_fail" -eq 0 ] && [ $((total_pass + total_fail)) -gt 0 ]
