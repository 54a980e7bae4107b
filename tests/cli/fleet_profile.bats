#!/usr/bin/env bats
# Fleets in the profile: include (files in subdirectories), groups, '-name'
# kernel parameter removals, and `render --target profile`. The merged
# values are judged from what build writes and by python3-yaml reading the
# rendered profile back, the origins against the source files' lines.

load helpers

FLEET=tests/cli/fixtures/fleet/fleet.yaml
F=tests/cli/fixtures/fleet
PY=/usr/bin/python3

@test "a fleet of included files and groups builds: every file's hosts, their merged command lines" {
	run "$PXEFORGE" check "$FLEET"
	assert_success
	assert_output "$FLEET: ok (5 hosts)"
	"$PXEFORGE" build -q "$FLEET" -o "$TMP/out"
	for h in head a1 a2 b1 b2; do
		[ -f "$TMP/out/$h/cmdline" ] || fail "no $h/cmdline"
	done
	# defaults, then the groups' parameters in order, then the host's
	assert_equal "$(cat "$TMP/out/a2/cmdline")" \
		"console=ttyS0 quiet mitigations=off intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1 nosmt pcie_aspm=off hugepagesz=1G initrd=initrd initrd=overlay.cpio.gz"
	# a group's "-quiet" and the host's "-mitigations", "-nosmt" remove
	# what the defaults and intel-host (through v100x2) added
	assert_equal "$(cat "$TMP/out/a1/cmdline")" \
		"console=ttyS0 intel_iommu=on iommu=pt vfio-pci.ids=10de:1db1 pcie_aspm=off hugepagesz=1G loglevel=4 console=tty0 initrd=initrd initrd=overlay.cpio.gz"
	# "-mitigations=off" removes exactly that one
	assert_equal "$(cat "$TMP/out/head/cmdline")" \
		"console=ttyS0 quiet nosmt initrd=initrd"
	# from_json in racks/b.yaml is read from racks/, not from the profile's directory
	grep -q 'init=/nix/store/a\{32\}-nixos-system-b1-24.11/init' "$TMP/out/b1/cmdline"
	"$PXEFORGE" verify "$TMP/out"
	# every MAC of every file is dispatched
	for m in 52-54-00-00-00-01 52-54-00-00-0a-01 52-54-00-00-0a-02 52-54-00-00-0b-01 52-54-00-00-0b-02; do
		[ -f "$TMP/out/hosts/$m.ipxe" ] || fail "no hosts/$m.ipxe"
	done
}

@test "render --target cmdline shows a '-name' removal, as build writes it" {
	run "$PXEFORGE" render "$FLEET" --host a1 --target cmdline
	assert_success
	refute_output --partial quiet
	refute_output --partial mitigations
	refute_output --partial nosmt
	assert_output --partial "loglevel=4 console=tty0"
}

@test "render --target profile: YAML that python3-yaml reads back as the merged host" {
	"$PXEFORGE" render "$FLEET" --host a1 --target profile >"$TMP/a1.yaml"
	"$PY" - "$TMP/a1.yaml" <<'PYEOF'
import sys, yaml
got = yaml.safe_load(open(sys.argv[1]))
want = {
    "name": "a1",
    "macs": ["52:54:00:00:0a:01"],
    "cpu": "intel",
    "console": ["ttyS0"],
    "kernel_params": ["pcie_aspm=off", "hugepagesz=1G", "loglevel=4", "console=tty0"],
    "gpus": [
        {"address": "0000:1a:00.0", "id": "10de:1db1", "role": "vfio"},
        {"address": "0000:1c:00.0", "id": "10de:1db1", "role": "vfio"},
    ],
    "cloud_init": {"network": {"nameservers": ["10.0.0.53"], "addresses": ["10.0.1.1/24"]}},
}
if got != want:
    sys.exit("merged host differs:\n got  %r\n want %r" % (got, want))
PYEOF
}

@test "render --target profile: each value's comment names the file and line it was written on" {
	"$PXEFORGE" render "$FLEET" --host a1 --target profile >"$TMP/a1.yaml"
	# the value on each commented line must be written on the line named
	"$PY" - "$TMP/a1.yaml" <<'PYEOF'
import re, sys, yaml
n = 0
for line in open(sys.argv[1]):
    m = re.match(r"^(\s*(?:- )*)(?:([^#]*?): )?(.*?)  # (\S+):(\d+)(?: \((group \S+|default)\))?$", line.rstrip("\n"))
    if not m:
        continue
    n += 1
    value = yaml.safe_load(m.group(3))
    src = open(m.group(4)).read().splitlines()[int(m.group(5)) - 1]
    if str(value) not in src:
        sys.exit("%r: %r is not on %s:%s (%r)" % (line, value, m.group(4), m.group(5), src))
if n < 15:
    sys.exit("only %d commented values" % n)
PYEOF
	run "$PXEFORGE" render "$FLEET" --host a1 --target profile
	assert_line "name: a1  # $F/racks/a.yaml:2"
	assert_line "cpu: intel  # $F/fleet.yaml:10 (group intel-host)"
	assert_line "  - loglevel=4  # $F/groups/gpu.yaml:9 (group rack-a)"
	assert_line "  - ttyS0  # $F/fleet.yaml:5 (default)"
	assert_line "  - address: '0000:1a:00.0'  # $F/groups/gpu.yaml:5 (group v100x2)"
	# removed parameters do not appear
	refute_output --partial quiet
	refute_output --partial nosmt
	refute_output --partial -mitigations
	# the defaults' kernel_params a host keeps are shown as the defaults'
	run "$PXEFORGE" render "$FLEET" --host head --target profile
	assert_line "  - quiet  # $F/fleet.yaml:6 (default)"
	refute_output --partial mitigations
}

@test "render --target profile quotes what needs quoting through libyaml" {
	mkdir -p "$TMP/q"
	cat >"$TMP/q/p.yaml" <<'YAML'
version: 1
groups:
  g:
    kernel_params: ["x=#y", "it's", "@at", "{b}", "1", "true"]
hosts:
  - name: q1
    macs: ["52:54:00:00:00:09"]
    groups: [g]
YAML
	run "$PXEFORGE" render "$TMP/q/p.yaml" --host q1 --target profile
	assert_success
	"$PXEFORGE" render "$TMP/q/p.yaml" --host q1 --target profile >"$TMP/q.yaml"
	run "$PY" -c 'import sys, yaml; print(yaml.safe_load(open(sys.argv[1]))["kernel_params"])' "$TMP/q.yaml"
	# quoted in the source: strings still, not a number or a boolean
	assert_output "['x=#y', \"it's\", '@at', '{b}', '1', 'true']"
}

@test "the fleet's profile and a '-name' kernel parameter are valid against pxeforge schema" {
	"$PXEFORGE" schema >"$TMP/schema.json"
	"$PY" - "$TMP/schema.json" "$FLEET" <<'PYEOF'
import json, sys, yaml, jsonschema
schema = json.load(open(sys.argv[1]))
jsonschema.Draft7Validator.check_schema(schema)
v = jsonschema.Draft7Validator(schema)
v.validate(yaml.safe_load(open(sys.argv[2])))
for key in ("groups", "include"):
    assert key in schema["properties"], key
assert "groups" in schema["definitions"]["host"]["properties"]
g = schema["definitions"]["group"]["properties"]
assert "name" not in g and "macs" not in g and "groups" in g
bad = {"version": 1, "groups": {"g": {"kernel_parms": []}},
       "hosts": [{"name": "x", "macs": ["52:54:00:00:00:01"]}]}
assert not v.is_valid(bad), "an unknown key in a group must be rejected"
PYEOF
}
