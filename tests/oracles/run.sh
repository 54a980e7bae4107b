#!/usr/bin/env bash
# Independent oracles for what pxeforge writes for VMs. Prints TAP.
#
#   - every vm.yaml and kubevirt/permitted-host-devices.yaml against
#     KubeVirt's OpenAPI schema (../shared/oracles/kubevirt/swagger.json,
#     kubevirt d923fdb8), strict: unknown fields and wrong types fail
#     (tests/oracles/kubevirt_check.py);
#   - every vms/<vm>/domain.xml with libvirt's `virt-xml-validate FILE domain`;
#   - "every": the golden records (tests/golden/*/expected/), and fresh
#     builds of examples/*.yaml, of tests/oracles/profiles/*.yaml (the
#     renderers' other branches: Secret user-data, BIOS, hidden KVM,
#     hostDevices, 2 Mi hugepages, pinning, no cloud-init), of any other
#     profile under tests/ with a top-level `vms` (tests/bad excepted: those
#     must not build) and of tests/cli/sources.bats' VM (written by that
#     test; repeated here), its image fetched from tests/fetch/server.py;
#   - the oracles themselves fail on what they must reject: an unknown
#     field, a wrong type, an unknown field in permittedHostDevices or in
#     the Secret, a duplicate key, an unknown libvirt element;
#   - UPDATE_GOLDEN=1 makes tests/golden and tests/bad report "updated" as
#     not ok and exit 1 (in a scratch copy of those runners).
# A missing prerequisite (python3-jsonschema, python3-yaml, virt-xml-validate,
# the swagger, the binary) is a failure.
#
#   PXEFORGE=path   binary (default build/san/pxeforge)
# shellcheck disable=SC2016 # the edits are perl expressions: $1 is perl's
set -u

cd "$(dirname "$0")/../.." || exit 1
# shellcheck source=tests/tap.sh
. tests/tap.sh

WORK=$(mktemp -d "${TMPDIR:-/tmp}/pxeforge-oracles.XXXXXX") || exit 3
trap 'rm -rf "$WORK"' EXIT
diag="$WORK/diag"
# Debian's python3 with python3-jsonschema and python3-yaml, not PATH's
PY=/usr/bin/python3
KV=tests/oracles/kubevirt_check.py
SWAGGER=../shared/oracles/kubevirt/swagger.json

# --- 0: the tools ------------------------------------------------------------

ok=1
need() { # need NAME HOW CMD...: a failure saying HOW to get it when CMD fails
	local name=$1 how=$2
	shift 2
	if ! "$@" >"$diag" 2>&1; then
		echo "missing: $how" >>"$diag"
		fail "$name" "$diag"
		ok=0
	fi
}
need "python3-jsonschema and python3-yaml for $PY" "scripts/deps.sh installs them" "$PY" -c 'import jsonschema, yaml'
need "virt-xml-validate (libvirt-clients)" "scripts/deps.sh installs it" command -v virt-xml-validate
need "KubeVirt's schema at $SWAGGER" "../shared/oracles/kubevirt/ (read-only)" test -s "$SWAGGER"
need "pxeforge is built ($PXEFORGE)" "make build/san/pxeforge" test -x "$PXEFORGE"
if [ "$ok" = 0 ]; then
	echo "1..$n"
	exit 0
fi

# --- 1: the trees ------------------------------------------------------------

trees=()
for d in tests/golden/*/expected; do
	[ -d "$d/vms" ] || [ -d "$d/kubevirt" ] && trees+=("$d")
done
profiles=(examples/*.yaml tests/oracles/profiles/*.yaml)
while IFS= read -r p; do
	case " ${profiles[*]} " in *" $p "*) continue ;; esac
	profiles+=("$p")
done < <(grep -rlE --include='*.yaml' --include='*.yml' '^vms:' tests |
	grep -vE '^tests/(bad|golden)/' | sort)
declare -A built # OUT dir -> the profile built into it, for the TAP lines
for p in "${profiles[@]}"; do
	o="$WORK/build/${p//\//_}"
	built[$o]=$p
	if "$PXEFORGE" build -q "$p" -o "$o" >"$diag" 2>&1; then
		trees+=("$o")
	else
		fail "pxeforge build $p" "$diag"
	fi
done

# tests/cli/sources.bats' VM (its profile is written by the test): the
# disk image fetched over HTTP from tests/fetch/server.py.
url_vm() { # url_vm OUT
	local port="" srv rc
	mkdir -p "$WORK/www" && cp examples/images/nixos-gpu.qcow2 "$WORK/www/nixos.qcow2" || return 3
	mkfifo "$WORK/srv.in" || return 3
	# the server exits when its stdin, held open by fd 9, closes
	"$PY" tests/fetch/server.py --root "$WORK/www" <"$WORK/srv.in" >"$WORK/srv.port" 2>"$WORK/srv.log" &
	srv=$!
	exec 9>"$WORK/srv.in"
	for _ in $(seq 100); do
		port=$(head -n1 "$WORK/srv.port")
		[ -n "$port" ] && break
		sleep 0.05
	done
	cat >"$WORK/url-vm.yaml" <<-YAML
		version: 1
		hosts:
		  - name: lab
		    macs: ["52:54:00:12:34:56"]
		    cpu: intel
		    gpus:
		      - { address: "0000:1a:00.0", id: "10de:1db1", role: vfio }
		vms:
		  - name: vm1
		    host: lab
		    gpus: all
		    vcpus: 4
		    memory: 8Gi
		    disk:
		      image: "http://127.0.0.1:$port/ok/nixos.qcow2"
		      sha256: "$(sha256sum "$WORK/www/nixos.qcow2" | cut -d' ' -f1)"
		      containerdisk: registry.example/nixos:1
	YAML
	if [ -z "$port" ]; then
		echo "tests/fetch/server.py did not start:"
		cat "$WORK/srv.log"
		rc=3
	else
		"$PXEFORGE" build -q "$WORK/url-vm.yaml" -o "$1" --cache "$WORK/cache"
		rc=$?
	fi
	exec 9>&-
	wait "$srv"
	return "$rc"
}
o="$WORK/build/url-vm"
built[$o]="sources.bats' VM (image by URL)"
if url_vm "$o" >"$diag" 2>&1; then
	trees+=("$o")
else
	fail "pxeforge build of sources.bats' VM, its image from a URL" "$diag"
fi

# label FILE: the file as the TAP line names it, "PROFILE: OUT-PATH" for
# a fresh build, "CASE/expected/PATH" for a golden record
label() {
	local o
	for o in "${!built[@]}"; do
		case $1 in "$o"/*) echo "${built[$o]}: ${1#"$o"/}"; return ;; "$o") echo "${built[$o]}"; return ;; esac
	done
	echo "${1#tests/}"
}

# A tree with VMs has a domain.xml per VM and the KubeVirt CR fragment.
kv_files=() xml_files=()
for t in "${trees[@]}"; do
	: >"$diag"
	for v in "$t"/vms/*/; do
		[ -d "$v" ] || continue
		[ -f "$v/domain.xml" ] || echo "no domain.xml in $v" >>"$diag"
		xml_files+=("$v"domain.xml)
		[ -f "$v/vm.yaml" ] && kv_files+=("$v"vm.yaml)
	done
	if [ -f "$t/kubevirt/permitted-host-devices.yaml" ]; then
		kv_files+=("$t/kubevirt/permitted-host-devices.yaml")
	else
		echo "no kubevirt/permitted-host-devices.yaml in $t" >>"$diag"
	fi
	[ -d "$t/vms" ] || echo "no vms/ in $t" >>"$diag"
	if [ -s "$diag" ]; then fail "$(label "$t"): VM files" "$diag"; fi
done

# --- 2: KubeVirt's schema ----------------------------------------------------

# One run of the checker for all files; its lines are "FILE: ok" or
# "FILE: problem", one TAP line per file.
"$PY" "$KV" --swagger "$SWAGGER" "${kv_files[@]}" >"$WORK/kv.out" 2>&1
kv_rc=$?
if [ "$kv_rc" -gt 1 ]; then
	fail "kubevirt_check.py runs (exit $kv_rc)" "$WORK/kv.out"
fi
for f in "${kv_files[@]}"; do
	grep -F -- "$f: " "$WORK/kv.out" >"$diag"
	if [ "$(cat "$diag")" = "$f: ok" ]; then
		pass "$(label "$f") is valid for KubeVirt's schema"
	else
		[ -s "$diag" ] || echo "kubevirt_check.py said nothing about $f" >"$diag"
		fail "$(label "$f") is valid for KubeVirt's schema" "$diag"
	fi
done

# --- 3: libvirt's schema -----------------------------------------------------

for f in "${xml_files[@]}"; do
	if virt-xml-validate "$f" domain >"$diag" 2>&1; then
		pass "$(label "$f"): virt-xml-validate domain"
	else
		fail "$(label "$f"): virt-xml-validate domain" "$diag"
	fi
done

# --- 4: the oracles reject what they must ------------------------------------

# A file from the c4140 example's build and the Secret profile's build.
c4140=$WORK/build/examples_c4140.yaml
secret=$WORK/build/tests_oracles_profiles_vm-secret.yaml
hgx=$WORK/build/examples_hgx-h200.yaml

# rejects NAME KIND FILE PERL WANT: FILE edited by the perl substitution
# (which must change it) fails kubevirt_check.py --kind KIND with WANT in
# its message.
rejects() {
	local name=$1 kind=$2 src=$3 expr=$4 want=$5 bad="$WORK/neg.yaml" rc
	: >"$diag"
	if [ ! -f "$src" ]; then
		echo "no $src" >"$diag"
	else
		perl -0pe "$expr" "$src" >"$bad"
		if cmp -s "$src" "$bad"; then
			echo "the edit '$expr' did not change $src" >"$diag"
		else
			"$PY" "$KV" --swagger "$SWAGGER" --kind "$kind" "$bad" >"$WORK/neg.out" 2>&1
			rc=$?
			if [ "$rc" != 1 ] || ! grep -qF -- "$want" "$WORK/neg.out"; then
				echo "expected exit 1 and '$want', got exit $rc:" >"$diag"
				cat "$WORK/neg.out" >>"$diag"
			fi
		fi
	fi
	if [ -s "$diag" ]; then fail "kubevirt_check.py rejects $name" "$diag"; else pass "kubevirt_check.py rejects $name"; fi
}
vm=$c4140/vms/c4140-gpu/vm.yaml
cr=$c4140/kubevirt/permitted-host-devices.yaml
rejects "an unknown field: spec.template.spec.domain.foo" vm "$vm" \
	's/^(        machine:)/        foo: bar\n$1/m' \
	".spec.template.spec.domain: Additional properties are not allowed ('foo' was unexpected)"
rejects "a wrong type: cpu.cores: \"four\"" vm "$vm" \
	's/^(          cores:) 32$/$1 "four"/m' \
	".spec.template.spec.domain.cpu.cores: 'four' is not of type 'integer'"
rejects "a float for an integer: cpu.cores: 32.0" vm "$vm" \
	's/^(          cores:) 32$/$1 32.0/m' \
	".spec.template.spec.domain.cpu.cores: 32.0 is not of type 'integer'"
rejects "a YAML 1.1 boolean for a string: containerDisk.image: yes" vm "$vm" \
	's/^(          image:) \S+$/$1 yes/m' \
	".containerDisk.image: True is not of type 'string'"
rejects "a duplicate key" vm "$vm" \
	's/^(          cores: 32\n)/$1$1/m' "mapping key 'cores' already defined"
rejects "a field in an empty struct: numa.guestMappingPassthrough.x" vm "$hgx/vms/hgx-h200-vm/vm.yaml" \
	's/guestMappingPassthrough: \{\}/guestMappingPassthrough: {x: 1}/' \
	".guestMappingPassthrough: Additional properties are not allowed ('x' was unexpected)"
rejects "an unknown kind" vm "$vm" \
	's/^kind: VirtualMachine$/kind: VirtualMachin/m' "unknown apiVersion/kind kubevirt.io/v1/VirtualMachin"
rejects "an unknown field in permittedHostDevices" kubevirt-cr "$cr" \
	's/^(      pciHostDevices:)/      pciDevices: []\n$1/m' \
	".spec.configuration.permittedHostDevices: Additional properties are not allowed ('pciDevices' was unexpected)"
rejects "an unknown field in a pciHostDevices entry" kubevirt-cr "$cr" \
	's/^(        resourceName:.*)$/$1\n        externalResource: "no"/m' \
	"Additional properties are not allowed ('externalResource' was unexpected)"
rejects "an unknown field in the Secret" vm "$secret/vms/c4140-big/vm.yaml" \
	's/^(type: Opaque)$/$1\nstringdata: {}/m' \
	"document 1 (Secret) .: Additional properties are not allowed ('stringdata' was unexpected)"
rejects "a Secret that cloudInitNoCloud does not name" vm "$secret/vms/c4140-big/vm.yaml" \
	's/^(  name: c4140-big-cloud-init)$/$1x/m' \
	"the Secret 'c4140-big-cloud-initx' is not what cloudInitNoCloud names"
rejects "a VirtualMachine without the Secret it names" vm "$secret/vms/c4140-big/vm.yaml" \
	's/\A.*?\n---\n//s' "which the file does not hold"

domain_rejected() { # an unknown element in a real domain.xml fails virt-xml-validate
	local src=$c4140/vms/c4140-gpu/domain.xml bad="$WORK/neg.xml"
	perl -pe 's|<devices>|<devices><pxeforge-unknown/>|' "$src" >"$bad" || return 1
	cmp -s "$src" "$bad" && { echo "the edit did not change $src"; return 1; }
	if virt-xml-validate "$bad" domain; then
		echo "virt-xml-validate accepted an unknown element"
		return 1
	fi
	return 0
}
: >"$diag"
if domain_rejected >"$diag" 2>&1; then
	pass "virt-xml-validate rejects an unknown element in domain.xml"
else
	fail "virt-xml-validate rejects an unknown element in domain.xml" "$diag"
fi

# --- 5: UPDATE_GOLDEN=1 is never a pass -------------------------------------

# In a copy of the runners with one golden and one bad case (the real
# records are not touched): each recorded case is "not ok … # updated",
# the runner exits 1, and tests/run.sh counts them as failures.
update_fails() {
	local r="$WORK/repo" out rc
	export PXEFORGE # absolute (tests/tap.sh), for the copied runners
	mkdir -p "$r/tests/golden" "$r/tests/bad" "$r/build/san" || return 1
	cp -r examples "$r/" && cp tests/run.sh tests/tap.sh "$r/tests/" &&
		cp tests/golden/run.sh "$r/tests/golden/" && cp -r tests/golden/check-c4140 "$r/tests/golden/" &&
		cp tests/bad/run.sh tests/bad/01-yaml-syntax.yaml tests/bad/01-yaml-syntax.err "$r/tests/bad/" || return 1
	out=$(UPDATE_GOLDEN=1 "$r/tests/golden/run.sh" 2>&1)
	rc=$?
	printf 'tests/golden/run.sh (exit %s):\n%s\n' "$rc" "$out"
	[ "$rc" = 1 ] && grep -qx 'not ok 1 - golden/check-c4140 # updated' <<<"$out" || return 1
	out=$(UPDATE_GOLDEN=1 "$r/tests/bad/run.sh" 2>&1)
	rc=$?
	printf 'tests/bad/run.sh (exit %s):\n%s\n' "$rc" "$out"
	[ "$rc" = 1 ] && grep -qx 'not ok 1 - bad/01-yaml-syntax check # updated' <<<"$out" || return 1
	out=$(UPDATE_GOLDEN=1 "$r/tests/run.sh" golden bad 2>&1)
	rc=$?
	printf 'tests/run.sh golden bad (exit %s):\n%s\n' "$rc" "$out"
	[ "$rc" = 1 ] && [ "$(tail -n1 <<<"$out")" = "2 passed, 2 failed" ] || return 1
	# the same copy without UPDATE_GOLDEN passes: the records were right
	out=$("$r/tests/run.sh" golden bad 2>&1)
	rc=$?
	printf 'without UPDATE_GOLDEN (exit %s):\n%s\n' "$rc" "$out"
	[ "$rc" = 0 ] && [ "$(tail -n1 <<<"$out")" = "4 passed, 0 failed" ]
}
: >"$diag"
if update_fails >"$diag" 2>&1; then
	pass "UPDATE_GOLDEN=1: golden and bad report 'not ok … # updated', exit 1, and tests/run.sh counts failures"
else
	fail "UPDATE_GOLDEN=1: golden and bad report 'not ok … # updated', exit 1, and tests/run.sh counts failures" "$diag"
fi

echo "1..$n"
exit 0
