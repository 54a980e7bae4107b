#!/usr/bin/env bats
# build's OUT is crash-safe: staged beside OUT and switched in whole, locked,
# never written through a symlink, unchanged files carried (same inode).

load helpers

# two_hosts PARAM: $TMP/in/p.yaml, hosts a and b; a's kernel_params [PARAM];
# with SRC set, a's initrd is streamed from that file.
two_hosts() {
	mkdir -p "$TMP/in"
	{
		echo "version: 1"
		if [ -n "${SRC:-}" ]; then
			echo "defaults:"
			echo "  kernel: bzImage"
			echo "  initrds:"
			echo "    - {name: big.img, source: $SRC}"
		fi
		echo "hosts:"
		echo "  - name: a"
		echo "    macs: [\"52:54:00:00:00:0a\"]"
		echo "    cpu: intel"
		echo "    kernel_params: [$1]"
		echo "  - name: b"
		echo "    macs: [\"52:54:00:00:00:0b\"]"
		echo "    cpu: amd"
	} >"$TMP/in/p.yaml"
}

# inodes DIR: "inode path" of every file below DIR, sorted by path
inodes() {
	(cd "$1" && find . -type f ! -name .pxeforge-state.json -printf '%i %P\n' | sort -k2)
}

# sums DIR: sha256 and path of every file below DIR
sums() {
	(cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum)
}

@test "out: a rebuild with nothing changed leaves OUT untouched; one host's parameter rewrites only that host's files" {
	two_hosts quiet
	"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	inodes "$TMP/out" >"$TMP/i1"
	stat -c '%i %Y.%y' "$TMP/out" "$TMP/out/.pxeforge-state.json" "$TMP/out/manifest.json" >"$TMP/s1"
	"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	inodes "$TMP/out" >"$TMP/i2"
	stat -c '%i %Y.%y' "$TMP/out" "$TMP/out/.pxeforge-state.json" "$TMP/out/manifest.json" >"$TMP/s2"
	diff "$TMP/i1" "$TMP/i2"
	diff "$TMP/s1" "$TMP/s2"	# not even switched: OUT is the same directory
	[ ! -e "$TMP/.out.pxeforge-stage" ]
	two_hosts splash
	"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	inodes "$TMP/out" >"$TMP/i3"
	# every file of b keeps its inode; a's command line changed
	grep ' b/' "$TMP/i1" >"$TMP/b1"
	grep ' b/' "$TMP/i3" >"$TMP/b3"
	[ -s "$TMP/b1" ]
	diff "$TMP/b1" "$TMP/b3"
	! diff <(grep ' a/cmdline$' "$TMP/i1") <(grep ' a/cmdline$' "$TMP/i3")
	grep -q splash "$TMP/out/a/cmdline"
	"$PXEFORGE" verify -q "$TMP/out"
}

@test "out: two builds into one OUT at once both succeed and leave a tree verify accepts" {
	head -c $((64 * 1048576)) /dev/urandom >"$TMP/big.img"
	SRC="$TMP/big.img" two_hosts quiet
	cp "$TMP/in/p.yaml" "$TMP/in/q.yaml"
	sed -i 's/\[quiet\]/[splash]/' "$TMP/in/q.yaml"
	for i in 1 2 3; do
		"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out" 2>"$TMP/e1" &
		p1=$!
		"$PXEFORGE" build -q "$TMP/in/q.yaml" -o "$TMP/out" 2>"$TMP/e2" &
		p2=$!
		wait "$p1" || fail "first build failed: $(cat "$TMP/e1")"
		wait "$p2" || fail "second build failed: $(cat "$TMP/e2")"
		run "$PXEFORGE" verify "$TMP/out"
		assert_success
		touch "$TMP/big.img"	# each round copies again
	done
	# a waiting build says so (once), the other says nothing
	cat "$TMP/e1" "$TMP/e2" | grep -v "^pxeforge: waiting for another build of '$TMP/out'$" && fail "unexpected output"
	true
}

@test "out: a symlinked directory or file planted in OUT is not followed" {
	two_hosts quiet
	"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	mkdir "$TMP/elsewhere"
	echo victim >"$TMP/victim"
	rm "$TMP/out/b/cmdline"
	ln -s "$TMP/victim" "$TMP/out/b/cmdline"
	mv "$TMP/out/a" "$TMP/a-real"
	ln -s "$TMP/elsewhere" "$TMP/out/a"
	two_hosts splash
	run "$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	assert_success
	assert_output "pxeforge: warning: '$TMP/out/a' is not pxeforge's and is in the way of the tree; replaced"
	[ -z "$(ls -A "$TMP/elsewhere")" ]
	[ "$(cat "$TMP/victim")" = victim ]
	[ -d "$TMP/out/a" ] && [ ! -L "$TMP/out/a" ]
	[ -f "$TMP/out/b/cmdline" ] && [ ! -L "$TMP/out/b/cmdline" ]
	"$PXEFORGE" verify -q "$TMP/out"
}

@test "out: verify looks for a killed build's staging directory beside a symlinked OUT's target, where the build stages" {
	two_hosts quiet
	mkdir "$TMP/real"
	ln -s real "$TMP/link"
	"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/link"
	[ ! -e "$TMP/.link.pxeforge-lock" ] && [ -e "$TMP/.real.pxeforge-lock" ]
	"$PXEFORGE" verify -q "$TMP/link"
	mkdir "$TMP/.real.pxeforge-stage"
	run "$PXEFORGE" verify "$TMP/link"
	assert_failure 1
	assert_line "pxeforge: '$(realpath "$TMP")/.real.pxeforge-stage': staging directory of a build running or killed"
}

@test "out: a killed build's leftovers are reported by verify and removed by the next build; files pxeforge did not write are kept" {
	two_hosts quiet
	"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	echo x >"$TMP/out/a/.pxeforge-tmp-AbC123"
	mkdir -p "$TMP/.out.pxeforge-stage/a"
	echo y >"$TMP/.out.pxeforge-stage/a/cmdline"
	echo mine >"$TMP/out/notes.txt"
	run "$PXEFORGE" verify "$TMP/out"
	assert_failure 1
	assert_line "pxeforge: 'a/.pxeforge-tmp-AbC123': not in manifest"
	assert_line "pxeforge: 'notes.txt': not in manifest"
	assert_line "pxeforge: '$TMP/.out.pxeforge-stage': staging directory of a build running or killed"
	run "$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	assert_success
	assert_output "pxeforge: warning: '$TMP/out/notes.txt' is not pxeforge's; kept"
	[ ! -e "$TMP/out/a/.pxeforge-tmp-AbC123" ]
	[ ! -e "$TMP/.out.pxeforge-stage" ]
	[ "$(cat "$TMP/out/notes.txt")" = mine ]
	run "$PXEFORGE" verify "$TMP/out"
	assert_failure 1
	assert_line "pxeforge: 'notes.txt': not in manifest"
	rm "$TMP/out/notes.txt"
	"$PXEFORGE" verify -q "$TMP/out"
}

@test "out: past ulimit -f the build exits 3 naming the file (no SIGXFSZ) and OUT is as it was" {
	two_hosts quiet
	"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	sums "$TMP/out" >"$TMP/before"
	head -c $((8 * 1048576)) /dev/urandom >"$TMP/big.img"
	SRC="$TMP/big.img" two_hosts quiet
	run bash -c 'ulimit -f 2048; exec "$0" build -q "$1" -o "$2"' "$PXEFORGE" "$TMP/in/p.yaml" "$TMP/out"
	assert_failure 3
	assert_output --regexp "^pxeforge: error: cannot write '$TMP/out/[ab]/big.img': File too large$"
	sums "$TMP/out" | diff "$TMP/before" -
	[ ! -e "$TMP/.out.pxeforge-stage" ]
}

@test "out: a full file system exits 3 with the reason and the previous OUT intact" {
	command -v unshare >/dev/null
	[ "$(id -u)" = 0 ] || fail "needs root to mount a tmpfs"
	head -c $((3 * 1048576)) /dev/urandom >"$TMP/big.img"
	two_hosts quiet
	cp "$TMP/in/p.yaml" "$TMP/small.yaml"
	SRC="$TMP/big.img" two_hosts quiet
	# the mount lives in a private mount namespace: gone with the test
	run unshare -m bash -c '
		set -e
		mkdir -p "$1/fs"
		mount -t tmpfs -o size=4m tmpfs "$1/fs"
		"$0" build -q "$1/small.yaml" -o "$1/fs/out"
		(cd "$1/fs/out" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$1/before"
		rc=0
		"$0" build -q "$1/in/p.yaml" -o "$1/fs/out" 2>"$1/err" || rc=$?
		echo "rc=$rc"
		cat "$1/err"
		(cd "$1/fs/out" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | diff "$1/before" -
		[ ! -e "$1/fs/.out.pxeforge-stage" ]
		"$0" verify -q "$1/fs/out"
		echo intact' "$PXEFORGE" "$TMP"
	assert_success
	assert_line "rc=3"
	assert_line --regexp "^pxeforge: error: cannot write '$TMP/fs/out/[^']*': No space left on device$"
	assert_line intact
}

@test "out: a build killed with SIGKILL at any moment leaves the previous OUT complete" {
	two_hosts quiet
	cp "$TMP/in/p.yaml" "$TMP/old.yaml"
	"$PXEFORGE" build -q "$TMP/old.yaml" -o "$TMP/out"
	sums "$TMP/out" >"$TMP/before"
	head -c $((200 * 1048576)) /dev/urandom >"$TMP/big.img"
	SRC="$TMP/big.img" two_hosts splash
	staged=0 killed=0
	for delay in 0.05 0.2 stage 0.4 0.8; do
		"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out" 2>/dev/null &
		pid=$!
		if [ "$delay" = stage ]; then	# while the staging directory fills
			for _ in $(seq 200); do
				[ -e "$TMP/.out.pxeforge-stage/a" ] && break
				sleep 0.01
			done
		else
			sleep "$delay"
		fi
		[ -e "$TMP/.out.pxeforge-stage" ] && staged=$((staged + 1))
		kill -KILL "$pid" 2>/dev/null || true
		rc=0
		wait "$pid" || rc=$?
		[ "$rc" -eq 0 ] || [ "$rc" -eq 137 ] || fail "build exited $rc, not killed"
		if ! sums "$TMP/out" | cmp -s "$TMP/before" -; then
			# done (or killed after the switch): OUT is the new build, whole
			grep -q splash "$TMP/out/a/cmdline"
			run "$PXEFORGE" verify -q "$TMP/out"
			[ "$status" -eq 0 ] || assert_output "pxeforge: '$TMP/.out.pxeforge-stage': staging directory of a build running or killed"
			# back to the old build (its state file records other
			# inodes now: the files themselves must be the old ones)
			"$PXEFORGE" build -q "$TMP/old.yaml" -o "$TMP/out"
			sums "$TMP/out" | grep -v pxeforge-state | diff <(grep -v pxeforge-state "$TMP/before") -
			sums "$TMP/out" >"$TMP/before"
			continue
		fi
		[ "$rc" -eq 137 ] || fail "a build that exited 0 left the old tree"
		killed=$((killed + 1))
		# the previous build's files, all of them, and verify accepts OUT
		# (a leftover staging directory beside it is all it may report)
		(cd "$TMP/out" && sha256sum -c --quiet "$TMP/before")
		run "$PXEFORGE" verify -q "$TMP/out"
		[ "$status" -eq 0 ] || assert_output "pxeforge: '$TMP/.out.pxeforge-stage': staging directory of a build running or killed"
	done
	[ "$killed" -gt 0 ] || fail "no kill came before the switch"
	[ "$staged" -gt 0 ] || fail "no kill came while a build was staging"
	# the next build cleans up and completes
	"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/out"
	[ ! -e "$TMP/.out.pxeforge-stage" ]
	grep -q splash "$TMP/out/a/cmdline"
	"$PXEFORGE" verify -q "$TMP/out"
}
