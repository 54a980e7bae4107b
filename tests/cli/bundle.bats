#!/usr/bin/env bats
# build --bundle FILE: the whole output tree as one reproducible archive.

load helpers

# tar_list FILE: one line per entry, "name mode uid gid uname gname mtime
# paxkeys", read by Python's tarfile (zstd through the zstd program).
tar_list() {
	local file=$1
	case $file in
	*.zst | *.tzst) zstd -dcq "$file" ;;
	*) gzip -dc "$file" ;;
	esac | python3 -c '
import sys, tarfile
with tarfile.open(fileobj=sys.stdin.buffer, mode="r|") as t:
    for m in t:
        print(m.name + ("/" if m.isdir() else ""), oct(m.mode), m.uid, m.gid,
              m.uname, m.gname, m.mtime, ",".join(sorted(m.pax_headers)) or "-")
'
}

@test "two builds into different directories give byte-identical bundles (zst and gz)" {
	for ext in tar.zst tar.gz; do
		"$PXEFORGE" build -q examples/c4140.yaml -o "$TMP/a-$ext" --bundle "$TMP/a.$ext"
		sleep 1
		(cd "$TMP" && mkdir -p elsewhere &&
			"$PXEFORGE" build -q "$OLDPWD/examples/c4140.yaml" -o elsewhere/out \
				--bundle "b.$ext")
		cmp "$TMP/a.$ext" "$TMP/b.$ext"
	done
	# and not the same archive twice: the formats differ
	! cmp -s "$TMP/a.tar.zst" "$TMP/a.tar.gz" || false
	assert_equal "$(head -c 4 "$TMP/a.tar.zst" | od -An -tx1 | tr -d ' ')" 28b52ffd
}

@test "entries are sorted, owned by 0:0 root, with mtime SOURCE_DATE_EPOCH and no pax extras" {
	for ext in tar.zst tgz; do
		SOURCE_DATE_EPOCH=1700000000 "$PXEFORGE" build -q examples/c4140.yaml \
			-o "$TMP/out" --bundle "$TMP/b.$ext"
		run tar_list "$TMP/b.$ext"
		assert_success
		list=$output
		names=$(cut -d' ' -f1 <<<"$list")
		[ "$names" = "$(LC_ALL=C sort <<<"$names")" ] || fail "not sorted: $names"
		# every file of OUT but pxeforge's records, every directory
		want=$(cd "$TMP/out" && find . -mindepth 1 \( -type d -printf '%P/\n' \) -o -printf '%P\n' |
			grep -vx -e '.pxeforge-state.json' -e '.pxeforge-bundles.json' | LC_ALL=C sort)
		assert_equal "$names" "$want"
		bad=$(awk '$3 != 0 || $4 != 0 || $5 != "root" || $6 != "root" || $7 != 1700000000 || $8 != "-"' <<<"$list")
		[ -z "$bad" ] || fail "entries with other owner, mtime or pax headers: $bad"
		grep -qx 'c4140/ 0o755 0 0 root root 1700000000 -' <<<"$list"
		grep -qx 'manifest.json 0o644 0 0 root root 1700000000 -' <<<"$list"
	done
}

@test "the bundle holds exactly what OUT holds, and verifies once unpacked" {
	"$PXEFORGE" build -q examples/hgx-h200.yaml -o "$TMP/out" --bundle "$TMP/b.tar.zst"
	mkdir "$TMP/x"
	bsdtar -xf "$TMP/b.tar.zst" -C "$TMP/x"
	# all but pxeforge's records (bookkeeping, never bundled)
	[ -f "$TMP/out/.pxeforge-state.json" ]
	[ -f "$TMP/out/.pxeforge-bundles.json" ]
	diff -r -x .pxeforge-state.json -x .pxeforge-bundles.json "$TMP/out" "$TMP/x"
	run "$PXEFORGE" verify "$TMP/x"
	assert_success
}

@test "gzip bundles carry no file name and no timestamp" {
	"$PXEFORGE" build -q examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/b.tar.gz"
	# ID1 ID2 CM FLG MTIME(4): FLG 0 (no FNAME), MTIME 0
	assert_equal "$(head -c 8 "$TMP/b.tar.gz" | od -An -tx1 | tr -d ' ')" 1f8b080000000000
	gzip -t "$TMP/b.tar.gz"
}

@test "an unchanged bundle is not rewritten; a changed one is" {
	run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/b.tar.zst"
	assert_success
	assert_line --regexp "^pxeforge: $TMP/b.tar.zst: 32 entries, [0-9]+ bytes, sha256 [0-9a-f]{64}\$"
	sha=$(sha256sum "$TMP/b.tar.zst" | cut -d' ' -f1)
	assert_output --partial "sha256 $sha"
	before=$(stat -c %y "$TMP/b.tar.zst")
	sleep 1
	run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/b.tar.zst"
	assert_success
	assert_output --partial "sha256 $sha (unchanged)"
	assert_equal "$(stat -c %y "$TMP/b.tar.zst")" "$before"
	# c4140's NoCloud user-data is a secret, so the bundle is one too
	assert_equal "$(stat -c %a "$TMP/b.tar.zst")" 600
	SOURCE_DATE_EPOCH=1 run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/b.tar.zst"
	assert_success
	refute_output --partial "(unchanged)"
	[ -z "$(find "$TMP" -name '.pxeforge-tmp-*')" ]
}

@test "a rebuild with the same --bundle neither reads nor packs OUT again" {
	"$PXEFORGE" build -q examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/b.tar.zst"
	sha=$(sha256sum "$TMP/b.tar.zst" | cut -d' ' -f1)
	assert_equal "$(stat -c %a "$TMP/out/.pxeforge-bundles.json")" 600
	# from another directory, named another way: the same file
	mkdir "$TMP/sub"
	cd "$TMP/sub"
	ASAN_OPTIONS=detect_leaks=0 run strace -f -e trace=openat,open -o "$TMP/trace" \
		"$PXEFORGE" build "$OLDPWD/examples/c4140.yaml" -o ../out --bundle ../b.tar.zst
	cd "$OLDPWD"
	assert_success
	assert_output --partial "b.tar.zst: 32 entries, $(stat -c %s "$TMP/b.tar.zst") bytes, sha256 $sha (unchanged)"
	# packing would open each file of OUT below its directory's fd
	# (openat(N, "cmdline")) and make a temporary file beside the archive;
	# the archive itself is not opened either
	grep -qE 'openat\([0-9]+, "manifest.json"' "$TMP/trace"	# the recipe's
	! grep -E 'openat\([0-9]+, "(cmdline|netboot.ipxe)"|b\.tar\.zst|"\.\./\.pxeforge-tmp' "$TMP/trace" ||
		fail "packed again: $(grep -E 'openat\([0-9]+, "|b\.tar|\.\./\.pxeforge-tmp' "$TMP/trace")"
}

@test "a bundle is made again when it, the tree or the date changed; two bundles are both remembered" {
	"$PXEFORGE" build -q examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/b.tar.zst"
	cp "$TMP/b.tar.zst" "$TMP/orig.tar.zst"
	# changed behind pxeforge's back: made again, the same bytes as before
	printf x >>"$TMP/b.tar.zst"
	run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/b.tar.zst"
	assert_success
	refute_output --partial "(unchanged)"
	cmp "$TMP/orig.tar.zst" "$TMP/b.tar.zst"
	# a second archive of the same OUT; the first is still skipped
	"$PXEFORGE" build -q examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/b.tgz"
	for f in b.tar.zst b.tgz; do
		run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/$f"
		assert_output --partial "$f: 32 entries"
		assert_output --partial "(unchanged)"
	done
	# another date is another archive
	SOURCE_DATE_EPOCH=86400 run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/b.tar.zst"
	refute_output --partial "(unchanged)"
	! cmp -s "$TMP/orig.tar.zst" "$TMP/b.tar.zst" || false
	# another tree (another kernel parameter) is another archive
	cp -r examples "$TMP/ex"
	chmod 600 "$TMP/ex/demo-cluster.key"
	sed -i 's/- loglevel=4$/- loglevel=5/' "$TMP/ex/c4140.yaml"
	grep -q 'loglevel=5' "$TMP/ex/c4140.yaml"
	cp "$TMP/b.tar.zst" "$TMP/before.tar.zst"
	SOURCE_DATE_EPOCH=86400 run "$PXEFORGE" build "$TMP/ex/c4140.yaml" -o "$TMP/out" --bundle "$TMP/b.tar.zst"
	assert_success
	refute_output --partial "(unchanged)"
	! cmp -s "$TMP/before.tar.zst" "$TMP/b.tar.zst" || false
	zstd -dcq "$TMP/b.tar.zst" | tar -xOf - c4140/cmdline | grep -q 'loglevel=5'
	run "$PXEFORGE" verify "$TMP/out"
	assert_success
}

@test "a garbled bundle record costs a repack, never a failed build" {
	"$PXEFORGE" build -q examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/b.tgz"
	cp "$TMP/b.tgz" "$TMP/orig.tgz"
	for junk in '' '{' '{"bundles": 3}' '{"bundles": [{"file": "relative"}]}' '[]'; do
		printf '%s' "$junk" >"$TMP/out/.pxeforge-bundles.json"
		run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/b.tgz"
		assert_success
		cmp "$TMP/orig.tgz" "$TMP/b.tgz"
		python3 -c 'import json, sys; b = json.load(open(sys.argv[1]))["bundles"]; assert len(b) == 1 and b[0]["file"].endswith("/b.tgz"), b' \
			"$TMP/out/.pxeforge-bundles.json"
	done
}

@test "a progress bar per large file while the bundle is packed on a terminal; none with -q or off a terminal" {
	command -v script >/dev/null
	big_small_profile
	# OUT first, so that the bar below is the bundle's, not the copy's
	"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	script -qec "$PXEFORGE build $TMP/in/p.yaml -o $TMP/out --bundle $TMP/b.tar.zst" /dev/null >"$TMP/tty.out"
	grep -q '(0 rewritten)' "$TMP/tty.out"
	grep -q 'lab/big.img .*17.0 MiB / 17.0 MiB *100%' "$TMP/tty.out" ||
		fail "no bar for lab/big.img: $(cat -v "$TMP/tty.out")"
	! grep -q 'small.img ' "$TMP/tty.out" || false
	grep -q "b.tar.zst: 11 entries" "$TMP/tty.out"
	rm -f "$TMP/b.tar.zst"
	script -qec "$PXEFORGE build -q $TMP/in/p.yaml -o $TMP/out --bundle $TMP/b.tar.zst" /dev/null >"$TMP/tty.out"
	[ ! -s "$TMP/tty.out" ]
	rm -f "$TMP/b.tar.zst"
	run "$PXEFORGE" build "$TMP/in/p.yaml" -o "$TMP/out" --bundle "$TMP/b.tar.zst"
	assert_success
	refute_output --partial 'MiB'
}

@test "large files are read from OUT and the bundle is written past the page cache (O_DIRECT)" {
	big_small_profile
	dd if=/dev/zero of="$TMP/probe" bs=4096 count=1 oflag=direct 2>/dev/null ||
		fail "$TMP's file system refuses O_DIRECT: the test cannot tell the O_DIRECT path from the other here"
	"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	ASAN_OPTIONS=detect_leaks=0 run strace -f -y -e trace=fcntl -o "$TMP/trace" \
		"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out" --bundle "$TMP/b.tar.zst"
	assert_success
	# the 17 MiB file of OUT; not the 4 KiB one
	grep -qE "F_SETFL, [^)]*O_DIRECT" <(grep -F "<$TMP/out/lab/big.img>" "$TMP/trace") ||
		fail "big.img read through the page cache: $(cat "$TMP/trace")"
	! grep -F "<$TMP/out/lab/small.img>" "$TMP/trace" | grep -q O_DIRECT || false
	# the archive's temporary file, beside it
	grep -qE "F_SETFL, [^)]*O_DIRECT" <(grep -F "<$TMP/.pxeforge-tmp-" "$TMP/trace") ||
		fail "archive written through the page cache: $(cat "$TMP/trace")"
	# and what went in is what OUT holds
	mkdir "$TMP/x"
	zstd -dcq "$TMP/b.tar.zst" | tar -xf - -C "$TMP/x"
	cmp "$TMP/in/big.img" "$TMP/x/lab/big.img"
}

@test "a bundle name without a known extension is a usage error; nothing is written" {
	for f in b.zip b.tar b.tar.xz b.gz; do
		run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/$f"
		assert_failure 2
		assert_output --partial "bundle '$TMP/$f' must end in .tar.zst, .tzst, .tar.gz or .tgz"
		[ ! -e "$TMP/out" ]
	done
	run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" --bundle
	assert_failure 2
}

@test "a bundle that cannot be written is an I/O error (exit 3) naming it" {
	run "$PXEFORGE" build examples/c4140.yaml -o "$TMP/out" --bundle "$TMP/no/such/dir/b.tgz"
	assert_failure 3
	assert_output --partial "cannot write bundle '$TMP/no/such/dir/b.tgz': No such file or directory"
	# the tree itself was written
	[ -f "$TMP/out/manifest.json" ]
}

@test "build --help describes --bundle and stale-file removal" {
	run "$PXEFORGE" build --help
	assert_success
	assert_output --partial "--bundle FILE"
	assert_output --partial ".tar.zst or .tzst"
	assert_output --partial "are removed"
}

@test "the profile's source_date_epoch dates the archives; SOURCE_DATE_EPOCH overrides it" {
	sed 's/^version: 1$/version: 1\nsource_date_epoch: 1600000000/' examples/hgx-h200.yaml >"$TMP/p.yaml"
	mkdir -p "$TMP/images" && cp examples/images/nixos-gpu.qcow2 "$TMP/images/"
	grep -q '^source_date_epoch: 1600000000$' "$TMP/p.yaml"
	env -u SOURCE_DATE_EPOCH "$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out" --bundle "$TMP/a.tar.gz"
	run bsdtar -tvf "$TMP/a.tar.gz"
	assert_success
	refute_output --regexp ' (1970|2023) '
	[ "$(python3 -c 'import tarfile,sys; print({m.mtime for m in tarfile.open(sys.argv[1])})' "$TMP/a.tar.gz")" = "{1600000000}" ]
	# the containerDisk's tar too
	[ "$(python3 -c 'import tarfile,sys; print({m.mtime for m in tarfile.open(sys.argv[1])})' "$TMP/out/vms/hgx-h200-vm/containerdisk.tar")" = "{1600000000}" ]
	SOURCE_DATE_EPOCH=1700000000 "$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out" --bundle "$TMP/b.tar.gz"
	[ "$(python3 -c 'import tarfile,sys; print({m.mtime for m in tarfile.open(sys.argv[1])})' "$TMP/b.tar.gz")" = "{1700000000}" ]
}
