#!/usr/bin/env bash
# The layout's rules, checked on the tree (prints TAP):
#
#   1. includes go down the pipeline only. builder/<stage>/ and
#      include/pxeforge/<stage>/ belong to <stage>; stages in order
#        lib < profile < validate < plan < render < out < package < cli
#      and fetch (remote inputs), which includes lib only and is included by
#      out, package and cli only. A file may include a header of its own
#      stage or of a stage below it ("pxeforge/<stage>/x.h"), and a private
#      header only from its own folder ("x.h" beside it).
#   2. no two files call each other: from the objects' symbols (nm), no
#      pair of builder/ files where each uses a function the other defines.
#   3. no source file of builder/ or include/ is over 600 lines.
#
#   OBJDIR=dir   objects for check 2 (default build/obj, from `make`)
set -u

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh
OBJDIR=${OBJDIR:-build/obj}
MAX_LINES=600
WORK=$(mktemp -d "${TMPDIR:-/tmp}/pxeforge-layers.XXXXXX") || exit 3
trap 'rm -rf "$WORK"' EXIT
diag=$WORK/diag

echo "1..3"

# level STAGE: its place in the chain; fetch sits beside out's inputs.
level() {
	case $1 in
	lib) echo 0 ;; profile) echo 1 ;; validate) echo 2 ;; plan) echo 3 ;;
	render) echo 4 ;; fetch) echo 4 ;; out) echo 5 ;; package) echo 6 ;;
	cli) echo 7 ;; *) echo -1 ;;
	esac
}

# may_include FROM TO: 0 when stage FROM may include a header of stage TO.
may_include() {
	local from=$1 to=$2
	[ "$from" = "$to" ] && return 0
	[ "$(level "$to")" -lt 0 ] && return 1
	if [ "$to" = fetch ]; then
		case $from in out | package | cli) return 0 ;; *) return 1 ;; esac
	fi
	if [ "$from" = fetch ]; then
		[ "$to" = lib ]
		return
	fi
	[ "$(level "$to")" -lt "$(level "$from")" ]
}

# --- 1: include direction ---------------------------------------------------
: >"$diag"
while IFS= read -r f; do
	case $f in
	builder/*/*) stage=${f#builder/}; stage=${stage%%/*} ;;
	include/pxeforge/*/*) stage=${f#include/pxeforge/}; stage=${stage%%/*} ;;
	*) echo "$f: not in a stage's folder" >>"$diag"; continue ;;
	esac
	if [ "$(level "$stage")" -lt 0 ]; then
		echo "$f: '$stage' is not a stage" >>"$diag"
		continue
	fi
	while IFS=: read -r line inc; do
		inc=${inc#*\"}; inc=${inc%%\"*}
		case $inc in
		pxeforge/*/*)
			to=${inc#pxeforge/}; to=${to%%/*}
			[ -f "include/$inc" ] || echo "$f:$line: '$inc' does not exist" >>"$diag"
			may_include "$stage" "$to" ||
				echo "$f:$line: $stage may not include '$inc' ($to is not below $stage)" >>"$diag"
			;;
		*/*)
			echo "$f:$line: '$inc' reaches into another folder; include a stage's public header as pxeforge/<stage>/x.h" >>"$diag" ;;
		*)
			[ -f "$(dirname "$f")/$inc" ] ||
				echo "$f:$line: private header '$inc' is not beside it (another stage's private header?)" >>"$diag" ;;
		esac
	done < <(grep -n '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$f")
done < <(find builder include -name '*.[ch]' | sort)
if [ -s "$diag" ]; then fail "includes go down the chain" "$diag"; else pass "includes go down the chain"; fi

# --- 2: no two files call each other ----------------------------------------
: >"$diag"
# only objects whose source is still there: a file removed or moved leaves
# its old object behind in a work tree
objs=$(find "$OBJDIR" -path "$OBJDIR/gen" -prune -o -name '*.o' -print 2>/dev/null | sort |
	while IFS= read -r o; do
		rel=${o#"$OBJDIR"/}
		[ -f "builder/${rel%.o}.c" ] && echo "$o"
	done)
if [ -z "$objs" ]; then
	echo "no objects under $OBJDIR: run make first" >"$diag"
	fail "no two files call each other" "$diag"
else
	for o in $objs; do
		rel=${o#"$OBJDIR"/}; rel=builder/${rel%.o}.c
		nm --defined-only -g "$o" | awk -v f="$rel" '$2 ~ /[TDBR]/ {print $3, f}'
	done | sort -k1,1 >"$WORK/defs"
	for o in $objs; do
		rel=${o#"$OBJDIR"/}; rel=builder/${rel%.o}.c
		nm -u "$o" | awk -v f="$rel" '{print $2, f}'
	done | sort -k1,1 >"$WORK/uses"
	# "user definer" for every symbol a file uses that another defines
	join "$WORK/uses" "$WORK/defs" | awk '$2 != $3 {print $2, $3}' | sort -u >"$WORK/edges"
	awk 'NR == FNR {e[$1 " " $2] = 1; next} ($2 " " $1) in e && $1 < $2 {print $1 " <-> " $2}' \
		"$WORK/edges" "$WORK/edges" >"$diag"
	if [ -s "$diag" ]; then
		sed -i '1i files that call each other (move the shared helper to a third file):' "$diag"
		fail "no two files call each other" "$diag"
	else
		pass "no two files call each other"
	fi
fi

# --- 3: file size -------------------------------------------------------------
: >"$diag"
find builder include -name '*.[ch]' -print0 | sort -z | xargs -0 wc -l |
	awk -v max="$MAX_LINES" '$2 != "total" && $1 > max {print $2 ": " $1 " lines (at most " max ")"}' >"$diag"
if [ -s "$diag" ]; then fail "no source file over $MAX_LINES lines" "$diag"; else pass "no source file over $MAX_LINES lines"; fi
exit 0
