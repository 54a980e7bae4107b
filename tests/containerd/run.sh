#!/usr/bin/env bash
# The containerd fragments under cloud-init/containerd/ (embedded in the
# binary, written to k3s nodes): real TOML after rendering, no table
# declared twice, CDI on, nothing of k3s's base lost. Prints TAP.
#
#   v3 (containerd 2.x): config-v3.toml.tmpl with its base line replaced by
#       a stand-in base (k3s-base-v3.toml) and, with Go, rendered by Go's
#       text/template with that base; cdi-v3.toml; containerd 2.x's
#       key-wise merge of the import.
#   v2 (containerd 1.7): config.toml.tmpl rendered by Go's text/template
#       (render/, standard library only, built offline under build/) with
#       stand-ins of k3s's template data (k3s-data-*.json); cdi-v2.toml;
#       why the v2 template may not import a CRI table (1.7's merge).
# TOML is read by Python's tomllib (Debian python3 >= 3.11); the checks
# are in check.py.
# shellcheck disable=SC2317 # the test functions run through check
set -u

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh

T=tests/containerd
F=cloud-init/containerd
OUTDIR=build/containerd
mkdir -p "$OUTDIR"
diag="$OUTDIR/diag"

# check NAME CMD...: pass when CMD succeeds; CMD writes diagnostics to $diag.
check() {
	local name=$1
	shift
	: >"$diag"
	if "$@" >>"$diag" 2>&1; then pass "$name"; else fail "$name" "$diag"; fi
}
py() { python3 "$T/check.py" "$@"; }

if ! python3 -c 'import tomllib' >"$diag" 2>&1; then
	fail "python3 with tomllib (Debian python3 >= 3.11) is installed" "$diag"
	echo "1..$n"
	exit 0
fi

# --- v3: containerd 2.x --------------------------------------------------------

check "v3: config-v3.toml.tmpl renders with the stand-in base in place of its base line" \
	py v3-render "$F/config-v3.toml.tmpl" "$T/k3s-base-v3.toml" "$OUTDIR/v3.toml"
check "v3: the rendered template is TOML, version 3, no table declared twice" \
	py toml "$OUTDIR/v3.toml" 3
check "v3: imports is exactly [\"/etc/containerd/cdi.toml\"], top level, before the base" \
	py v3-imports "$F/config-v3.toml.tmpl" "$T/k3s-base-v3.toml"
check "v3: imports moved below the base would fall into the base's last table (why it is above)" \
	py v3-imports-below "$F/config-v3.toml.tmpl" "$T/k3s-base-v3.toml"
check "v3: cdi-v3.toml is TOML, no table declared twice" py toml "$F/cdi-v3.toml" -
check "v3: cdi-v3.toml sets only enable_cdi = true, cdi_spec_dirs = ['/etc/cdi', '/var/run/cdi'] in io.containerd.cri.v1.runtime" \
	py cdi-v3 "$F/cdi-v3.toml"
check "v3: containerd 2.x key-wise merge of the import: every base setting survives, CDI on" \
	py v3-merge "$OUTDIR/v3.toml" "$T/k3s-base-v3.toml" "$F/cdi-v3.toml"

# --- Go's text/template --------------------------------------------------------

go_ok=1
if ! command -v go >/dev/null 2>&1; then
	echo "go not found: install golang-go (scripts/deps.sh)" >"$diag"
	fail "Go (golang-go) is installed, to render templates as k3s does" "$diag"
	go_ok=0
else
	# Offline, standard library only, everything under build/.
	build_render() {
		(cd "$T/render" &&
			GOCACHE="$ROOT/build/go/cache" GOPATH="$ROOT/build/go/path" GOFLAGS=-mod=mod \
			GOPROXY=off GOTOOLCHAIN=local GO111MODULE=on GOWORK=off \
			go build -o "$ROOT/$OUTDIR/render" .)
	}
	check "the template renderer (tests/containerd/render, Go standard library) builds offline" build_render
	[ -x "$OUTDIR/render" ] || go_ok=0
fi
RENDER=$OUTDIR/render

same_v3() {
	"$RENDER" "$F/config-v3.toml.tmpl" "$T/k3s-data-minimal.json" "$T/k3s-base-v3.toml" \
		>"$OUTDIR/v3-go.toml" || return 1
	diff -u "$OUTDIR/v3.toml" "$OUTDIR/v3-go.toml"
}
if [ "$go_ok" = 1 ]; then
	check "v3: Go's text/template with the stand-in as \"base\" gives the same file" same_v3
fi

# --- v2: containerd 1.7 --------------------------------------------------------

check "v2: config.toml.tmpl neither calls the base template nor imports anything" \
	py v2-standalone "$F/config.toml.tmpl"
check "v2: cdi-v2.toml is TOML, version 2, no table declared twice" py toml "$F/cdi-v2.toml" 2
check "v2: cdi-v2.toml sets only enable_cdi = true, cdi_spec_dirs in io.containerd.grpc.v1.cri" \
	py cdi-v2 "$F/cdi-v2.toml"

render_v2() { "$RENDER" "$F/config.toml.tmpl" "$1" >"$2"; }
if [ "$go_ok" = 1 ]; then
	for data in "$T"/k3s-data-*.json; do
		set=${data##*/k3s-data-}
		set=${set%.json}
		out="$OUTDIR/v2-$set.toml"
		check "v2 ($set data): config.toml.tmpl renders with Go's text/template" \
			render_v2 "$data" "$out"
		check "v2 ($set data): the result is TOML, version 2, no table declared twice" \
			py toml "$out" 2
		check "v2 ($set data): the CRI table has enable_cdi = true and cdi_spec_dirs" \
			py v2-cdi-on "$out"
		check "v2 ($set data): every k3s base setting of the data is there (sandbox_image, CNI dirs, SystemdCgroup, mirrors, runtimes...), nothing else" \
			py v2-base "$out" "$data"
	done
	check "v2: containerd 1.7 replaces the whole CRI section with an imported one: importing cdi-v2.toml would lose sandbox_image, cni, runtimes, registry (so the v2 template does not import)" \
		py v2-import-loses "$OUTDIR/v2-full.toml" "$F/cdi-v2.toml"
	check "v2: a CRI table appended after k3s's base is a table declared twice: tomllib and the header scan refuse it" \
		py v2-duplicate-refused "$OUTDIR/v2-full.toml"
fi

echo "1..$n"
exit 0
