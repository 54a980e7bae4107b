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

# big_small_profile: $TMP/in/p.yaml, one host whose initrds are big.img
# (17 MiB, over the 16 MiB from which a progress bar is drawn) and
# small.img (4 KiB, under it), both local sources beside the profile.
big_small_profile() {
	mkdir -p "$TMP/in"
	head -c $((17 * 1048576)) /dev/urandom >"$TMP/in/big.img"
	head -c 4096 /dev/urandom >"$TMP/in/small.img"
	cat >"$TMP/in/p.yaml" <<'YAML'
version: 1
defaults:
  kernel: bzImage
  initrds:
    - {name: big.img, source: big.img}
    - {name: small.img, source: small.img}
hosts:
  - name: lab
    macs: ["52:54:00:12:34:56"]
    cpu: intel
YAML
}
