#!/usr/bin/env bats
# pxeforge schema: the profile's JSON Schema, judged by Debian's
# python3-jsonschema (not by pxeforge), and the generated profile
# reference (docs/profile.md, man/pxeforge-profile.5) kept in step with
# the key tables.

load helpers
bats_require_minimum_version 1.5.0

# Debian's python with python3-jsonschema and python3-yaml, not PATH's.
PY=/usr/bin/python3
KEYS=tests/cli/fixtures/schema/schema-keys.py

schema() {
	"$PXEFORGE" schema >"$TMP/schema.json" || fail "pxeforge schema failed"
}

# every_key: $TMP/every-key.yaml, a profile using every key of every
# mapping, with the files it names beside it.
every_key() {
	local d best=
	for d in /lib/modules/*/; do
		[ -f "$d/modules.dep.bin" ] && best=${d%/}
	done
	[ -n "$best" ] || fail "no /lib/modules/<kver> with modules.dep.bin (install linux-image-amd64)"
	head -c 32 /dev/urandom >"$TMP/cluster.key"
	chmod 600 "$TMP/cluster.key"
	head -c 4096 /dev/urandom >"$TMP/bzImage"
	head -c 65536 /dev/urandom >"$TMP/disk.qcow2"
	cp tests/cli/fixtures/schema/every-key.nixos.json "$TMP/nixos.json"
	cp tests/cli/fixtures/schema/every-key.rack.yaml "$TMP/"
	sed -e "s|@MODULES_DIR@|$best|" \
	    -e "s|@KERNEL_SHA256@|$(sha256sum "$TMP/bzImage" | cut -d' ' -f1)|" \
	    -e "s|@DISK_SHA256@|$(sha256sum "$TMP/disk.qcow2" | cut -d' ' -f1)|" \
	    tests/cli/fixtures/schema/every-key.yaml.in >"$TMP/every-key.yaml"
}

@test "schema --help; usage errors exit 2 with one message, an unwritable stdout 3; listed in --help" {
	run "$PXEFORGE" schema --help
	assert_success
	assert_line --index 0 "usage: pxeforge schema"
	run "$PXEFORGE" schema extra
	assert_failure 2
	assert_output --partial "too many arguments"
	run --separate-stderr "$PXEFORGE" schema --bogus
	assert_failure 2
	[ -z "$output" ] || fail "stdout on a usage error: $output"
	[ "$(grep -c "'--bogus'" <<<"$stderr")" = 1 ] || fail "not one message: $stderr"
	[ "$(grep -c bogus <<<"$stderr")" = 1 ] || fail "the option twice: $stderr"
	# a stdout that cannot be written is an I/O failure, said once
	run --separate-stderr sh -c '"$1" schema >/dev/full' sh "$PXEFORGE"
	assert_failure 3
	[ "$stderr" = "pxeforge: error: cannot write the schema to stdout" ] || fail "stderr: $stderr"
	run "$PXEFORGE" --help
	assert_success
	assert_output --regexp $'\n  schema  +print the profile'
}

@test "the schema is draft-07 and passes its metaschema; output is deterministic" {
	schema
	run "$PY" "$KEYS" meta "$TMP/schema.json"
	assert_success
	"$PXEFORGE" schema >"$TMP/again.json"
	cmp "$TMP/schema.json" "$TMP/again.json" || fail "two runs differ"
	# every mapping closed: additionalProperties false wherever properties are
	run "$PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))
def walk(n, path):
    if isinstance(n, dict):
        if "properties" in n and n.get("additionalProperties") is not False:
            sys.exit("open mapping at " + path)
        for k, v in n.items():
            walk(v, path + "/" + k)
    elif isinstance(n, list):
        for i, v in enumerate(n):
            walk(v, path + "/" + str(i))
walk(s, "#")' "$TMP/schema.json"
	assert_success
}

@test "every examples/*.yaml validates against the schema" {
	schema
	files=(examples/*.yaml)
	[ "${#files[@]}" -ge 3 ] || fail "examples missing"
	run "$PY" "$KEYS" valid "$TMP/schema.json" "${files[@]}"
	assert_success
}

@test "an unknown key, at the top or nested, fails the schema and pxeforge check" {
	schema
	# a copy of an example (with the files it names), rewritten by PyYAML
	cp -r examples "$TMP/ex"
	edit() { # edit OUT PYTHON: examples/c4140.yaml with d changed by PYTHON
		"$PY" -c '
import sys, yaml
d = yaml.safe_load(open(sys.argv[1]))
exec(sys.argv[3])
yaml.safe_dump(d, open(sys.argv[2], "w"))' examples/c4140.yaml "$1" "$2" ||
			fail "cannot write $1"
	}
	# unchanged, it passes both: the edits below are what fail
	edit "$TMP/ex/same.yaml" 'pass'
	run "$PY" "$KEYS" valid "$TMP/schema.json" "$TMP/ex/same.yaml"
	assert_success
	run "$PXEFORGE" check "$TMP/ex/same.yaml"
	assert_success
	n=0
	for change in \
		'd["colour"] = "blue"' \
		'd["defaults"]["kernel_parms"] = ["quiet"]' \
		'd["hosts"][0]["gpus"][0]["rol"] = "vfio"' \
		'd["hosts"][0]["cloud_init"]["k3s"]["tokenfile"] = "/x"' \
		'd["vms"][0]["disk"]["size"] = "10Gi"' \
		'd["vms"][0]["cloud_init"]["seed"] = "url"'; do
		n=$((n + 1))
		edit "$TMP/ex/bad$n.yaml" "$change"
		run "$PY" "$KEYS" invalid "$TMP/schema.json" "$TMP/ex/bad$n.yaml"
		assert_success
		run "$PXEFORGE" check "$TMP/ex/bad$n.yaml"
		assert_failure 1
		assert_output --regexp "unknown key|does not apply"
	done
}

@test "a profile with every key of the schema passes pxeforge check and the schema" {
	schema
	every_key
	run "$PXEFORGE" check "$TMP/every-key.yaml"
	assert_success
	run "$PY" "$KEYS" valid "$TMP/schema.json" "$TMP/every-key.yaml" \
		nixos_from_json="$TMP/nixos.json"
	assert_success
	run "$PY" "$KEYS" coverage "$TMP/schema.json" "$TMP/every-key.yaml"
	assert_success
}

@test "the keys pxeforge check knows in each mapping are the schema's" {
	schema
	every_key
	run "$PY" "$KEYS" known "$TMP/schema.json" "$TMP/every-key.yaml" "$PXEFORGE"
	assert_success
}

@test "docs/profile.md and man/pxeforge-profile.5 are what the generator makes now" {
	schema
	run "$PY" scripts/profile-doc.py "$TMP/schema.json" docs/profile.md.in \
		"$TMP/profile.md" "$TMP/pxeforge-profile.5"
	assert_success
	diff -u docs/profile.md "$TMP/profile.md" || fail "docs/profile.md is stale: run make docs"
	diff -u man/pxeforge-profile.5 "$TMP/pxeforge-profile.5" || fail "man/pxeforge-profile.5 is stale: run make docs"
	# every key of every mapping is in both
	keys=$("$PY" -c '
import json, sys
s = json.load(open(sys.argv[1]))
for m in [s] + list(s["definitions"].values()):
    for k in m["properties"]:
        print(m["title"], k)' "$TMP/schema.json")
	[ "$(wc -l <<<"$keys")" -gt 60 ] || fail "too few keys: $keys"
	while read -r map key; do
		grep -q "^| \`$key\` |" docs/profile.md || fail "$map.$key not in docs/profile.md"
		grep -qx ".B $key" man/pxeforge-profile.5 || fail "$map.$key not in the man page"
	done <<<"$keys"
}

@test "man/pxeforge-profile.5 reads without warnings (groff, man)" {
	run groff -man -ww -z man/pxeforge-profile.5
	assert_success
	assert_output ""
	run --separate-stderr man --warnings -l man/pxeforge-profile.5
	assert_success
	[ -z "$stderr" ] || fail "man warnings: $stderr"
	assert_output --partial "pxeforge-profile - the machine profile, version 1"
	assert_output --partial "KEY REFERENCE"
}
