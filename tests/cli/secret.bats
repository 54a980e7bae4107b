#!/usr/bin/env bats
# pxeforge secret init: the cluster secret every node identity derives from.

load helpers

# Runs pxeforge with stdout and stderr in files of their own (bats' $output
# would turn raw bytes into text), then sets $status and $output as run does.
run_captured() {
	status=0
	"$PXEFORGE" "$@" >"$BATS_TEST_TMPDIR/stdout" 2>"$BATS_TEST_TMPDIR/stderr" || status=$?
	output=$(cat "$BATS_TEST_TMPDIR/stdout" "$BATS_TEST_TMPDIR/stderr")
}

# Nothing the last run_captured printed holds the key at $1: not raw, not
# as hex, not as base64.
refute_key_printed() {
	local hex b64 stream
	hex=$(xxd -p "$1" | tr -d '\n')
	b64=$(base64 -w0 "$1")
	[ "${#hex}" -eq 64 ] || fail "no 32-byte key at $1"
	for stream in stdout stderr; do
		stream="$BATS_TEST_TMPDIR/$stream"
		! xxd -p "$stream" | tr -d '\n' | grep -qF "$hex" || fail "the key appeared raw in ${stream##*/}"
		! tr -d '\n' <"$stream" | grep -qiF "$hex" || fail "the key appeared as hex in ${stream##*/}"
		! grep -qF "$b64" "$stream" || fail "the key appeared as base64 in ${stream##*/}"
	done
}

@test "secret init creates a 32-byte file with mode 0600" {
	run_captured secret init "$TMP/k"
	assert_success
	refute_key_printed "$TMP/k"
	assert_output "pxeforge: wrote cluster secret '$TMP/k' (32 bytes, mode 0600)"
	[ "$(stat -c '%a %s %F' "$TMP/k")" = "600 32 regular file" ]
}

@test "secret init is 0600 whatever the umask" {
	(umask 000 && "$PXEFORGE" secret init -q "$TMP/k0")
	(umask 777 && "$PXEFORGE" secret init -q "$TMP/k7")
	[ "$(stat -c '%a %s' "$TMP/k0")" = "600 32" ]
	[ "$(stat -c '%a %s' "$TMP/k7")" = "600 32" ]
	# random: two secrets differ
	! cmp -s "$TMP/k0" "$TMP/k7" || false
}

@test "secret init defaults to cluster.key in the current directory" {
	cd "$TMP"
	run_captured secret init
	assert_success
	assert_output "pxeforge: wrote cluster secret 'cluster.key' (32 bytes, mode 0600)"
	[ "$(stat -c '%a %s' cluster.key)" = "600 32" ]
	[ "$(ls -A)" = "cluster.key" ]
	refute_key_printed cluster.key
}

@test "secret init never overwrites (exit 1), the old file is untouched" {
	"$PXEFORGE" secret init -q "$TMP/k"
	cp -p "$TMP/k" "$TMP/before"
	run_captured secret init "$TMP/k"
	assert_failure 1
	assert_output "pxeforge: error: '$TMP/k' already exists; pxeforge never overwrites a cluster secret (every node's identity derives from it)"
	cmp "$TMP/before" "$TMP/k"
	refute_key_printed "$TMP/k"
	# -q does not silence errors; a file that is no key is kept just the same
	echo "not a key" >"$TMP/other"
	run "$PXEFORGE" secret init -q "$TMP/other"
	assert_failure 1
	assert_output --partial "already exists"
	[ "$(cat "$TMP/other")" = "not a key" ]
	# and nothing else was left in the directory
	[ "$(ls -A "$TMP" | tr '\n' ' ')" = "before k other " ]
}

@test "secret init -q prints nothing" {
	run "$PXEFORGE" secret init -q "$TMP/k"
	assert_success
	assert_output ""
	[ -f "$TMP/k" ]
}

@test "secret init into a missing directory is an I/O error (exit 3)" {
	run "$PXEFORGE" secret init "$TMP/no/such/k"
	assert_failure 3
	assert_output "pxeforge: error: cannot create '$TMP/no/such/k': No such file or directory"
}

@test "secret --help and secret init --help explain the secret" {
	for args in "secret --help" "secret -h" "secret init --help"; do
		run "$PXEFORGE" $args
		assert_success
		assert_output --partial "usage: pxeforge secret init [FILE]"
		assert_output --partial "0600"
		assert_output --partial "version control"
	done
	run "$PXEFORGE" --help
	assert_output --partial "secret init [FILE]"
}

@test "secret usage errors (exit 2)" {
	run "$PXEFORGE" secret int
	assert_failure 2
	assert_output --partial "unknown subcommand 'int' (did you mean 'init'?)"
	assert_output --partial "Try 'pxeforge secret --help'."
	run "$PXEFORGE" secret rotate
	assert_failure 2
	assert_output --partial "unknown subcommand 'rotate'"
	refute_output --partial "did you mean"
	run "$PXEFORGE" secret
	assert_failure 2
	assert_output --partial "missing subcommand"
	run "$PXEFORGE" secret init "$TMP/a" "$TMP/b"
	assert_failure 2
	assert_output --partial "too many arguments"
	run "$PXEFORGE" secret init --force "$TMP/a"
	assert_failure 2
	run "$PXEFORGE" secret init ""
	assert_failure 2
	[ ! -e "$TMP/a" ]
	[ ! -e "$TMP/b" ]
}
