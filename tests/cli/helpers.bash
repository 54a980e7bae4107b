# Shared set-up for the CLI tests: the binary under test and a scratch dir.
load /usr/lib/bats/bats-support/load.bash
load /usr/lib/bats/bats-assert/load.bash

setup() {
	cd "$BATS_TEST_DIRNAME/../.."
	PXEFORGE=${PXEFORGE:-$PWD/build/pxeforge}
	export LC_ALL=C SOURCE_DATE_EPOCH=0
	TMP=$(mktemp -d "${BATS_TMPDIR:-/tmp}/pxeforge-cli.XXXXXX")
}

teardown() {
	rm -rf "$TMP"
}
