# TAP helpers shared by the shell test runners; source it from the repo
# root, then call pass NAME / fail NAME DIAGFILE. The diagnostics go out as
# '# ' lines. It also sets what every runner needs: ROOT, the C locale,
# UTC, a fixed SOURCE_DATE_EPOCH and PXEFORGE as an absolute path.
ROOT=$PWD
export LC_ALL=C TZ=UTC SOURCE_DATE_EPOCH=0
PXEFORGE=${PXEFORGE:-build/san/pxeforge}
case $PXEFORGE in /*) ;; *) PXEFORGE="$ROOT/$PXEFORGE" ;; esac
# git checks the public demo key out 0644, which pxeforge refuses
chmod 600 examples/demo-cluster.key
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
