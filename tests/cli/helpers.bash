# Shared set-up for the CLI tests: the binary under test and a scratch dir.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

setup() {
	cd "$BATS_TEST_DIRNAME/../.."
	PXEFORGE=${PXEFORGE:-$PWD/build/pxeforge}
	export LC_ALL=C SOURCE_DATE_EPOCH=0
	# git checks the public demo key out 0644, which pxeforge refuses
	chmod 600 examples/demo-cluster.key
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/pxeforge-cli.XXXXXX")
}

teardown() {
	rm -rf "$TMP"
}
