# TAP helpers shared by the shell test runners; source it, then call
# pass NAME / fail NAME DIAGFILE. The diagnostics go out as '# ' lines.
n=0
pass() { n=$((n + 1)); echo "ok $n - $1"; }
fail() {
	local lines
	n=$((n + 1))
	echo "not ok $n - $1"
	lines=$(wc -l <"$2")
	sed -n '1,40s/^/# /p' "$2"
	[ "$lines" -gt 40 ] && echo "# ... ($((lines - 40)) more lines)"
	return 0
}
