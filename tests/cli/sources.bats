#!/usr/bin/env bats
# build with kernel/initrd sources: local files (pinned or not) and URLs
# fetched from a real HTTP server on 127.0.0.1 (tests/fetch/server.py)
# into the cache, all checked before anything in OUT is replaced.

load helpers

# A server over $TMP/www; its port in $PORT. It exits when its stdin (a
# fifo held open by fd 9) closes, or on SIGTERM in teardown.
start_server() {
	mkdir -p "$TMP/www"
	mkfifo "$TMP/srv.in"
	python3 tests/fetch/server.py --root "$TMP/www" <"$TMP/srv.in" >"$TMP/srv.port" 2>"$TMP/srv.log" &
	SRV=$!
	exec 9>"$TMP/srv.in"
	for _ in $(seq 100); do
		[ -s "$TMP/srv.port" ] && break
		sleep 0.05
	done
	PORT=$(head -n1 "$TMP/srv.port")
	[ -n "$PORT" ]
}

teardown() {
	exec 9>&- 2>/dev/null || true
	[ -z "${SRV:-}" ] || kill "$SRV" 2>/dev/null || true
	rm -rf "$TMP"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# profile KERNEL_SOURCE KERNEL_SHA INITRD_SOURCE INITRD_SHA
profile() {
	cat >"$TMP/p.yaml" <<YAML
version: 1
defaults:
  kernel: {name: bzImage, source: "$1"${2:+, sha256: "$2"}}
  initrds:
    - {name: initrd, source: "$3"${4:+, sha256: "$4"}}
hosts:
  - name: lab
    macs: ["52:54:00:12:34:56"]
    cpu: intel
YAML
}

inputs() {
	head -c 3000000 /dev/urandom >"$TMP/www/bzImage"
	head -c 70000 /dev/urandom >"$TMP/initrd.img"
}

@test "sources: a URL is fetched into the cache and a local file copied; both land in OUT and the manifest" {
	start_server
	inputs
	profile "http://127.0.0.1:$PORT/ok/bzImage" "$(sha "$TMP/www/bzImage")" initrd.img "$(sha "$TMP/initrd.img")"
	run "$PXEFORGE" build "$TMP/p.yaml" -o "$TMP/out" --cache "$TMP/cache"
	assert_success
	cmp "$TMP/www/bzImage" "$TMP/out/lab/bzImage"
	cmp "$TMP/initrd.img" "$TMP/out/lab/initrd"
	cmp "$TMP/www/bzImage" "$TMP/cache/sha256/$(sha "$TMP/www/bzImage")"
	grep -q "\"sha256\": \"$(sha "$TMP/www/bzImage")\"" "$TMP/out/manifest.json"
	grep -q "\"sha256\": \"$(sha "$TMP/initrd.img")\"" "$TMP/out/manifest.json"
	# the script loads them from where build put them
	grep -q '^kernel --name bzImage \.\./lab/bzImage ' "$TMP/out/lab/netboot.ipxe"
	grep -q '^initrd --name initrd \.\./lab/initrd ' "$TMP/out/lab/netboot.ipxe"
	# not a terminal: no progress bar, only the summary
	assert_output "pxeforge: 1 host, 8 files in $TMP/out/ (8 rewritten)"
	run "$PXEFORGE" verify -q "$TMP/out"
	assert_success
}

@test "sources: a second build takes the download from the cache and rewrites nothing" {
	start_server
	inputs
	profile "http://127.0.0.1:$PORT/ok/bzImage" "$(sha "$TMP/www/bzImage")" initrd.img ""
	"$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out" --cache "$TMP/cache"
	before=$(stat -c %Y.%i "$TMP/out/lab/bzImage")
	curl -s "http://127.0.0.1:$PORT/_reset" >/dev/null
	run "$PXEFORGE" build "$TMP/p.yaml" -o "$TMP/out" --cache "$TMP/cache"
	assert_success
	assert_output "pxeforge: 1 host, 8 files in $TMP/out/ (0 rewritten)"
	[ "$(stat -c %Y.%i "$TMP/out/lab/bzImage")" = "$before" ]
	run curl -s "http://127.0.0.1:$PORT/_stats"
	assert_output '{}'
}

@test "sources: a wrong hash exits 3 naming the URL; OUT and the cache keep nothing of it" {
	start_server
	inputs
	profile "http://127.0.0.1:$PORT/wrong/bzImage" "$(sha "$TMP/www/bzImage")" initrd.img ""
	run "$PXEFORGE" build "$TMP/p.yaml" -o "$TMP/out" --cache "$TMP/cache"
	assert_failure 3
	assert_output --partial "pxeforge: error: cannot fetch 'http://127.0.0.1:$PORT/wrong/bzImage': sha256 mismatch: expected $(sha "$TMP/www/bzImage"), got "
	[ ! -e "$TMP/out" ]
	[ -z "$(find "$TMP/cache" -type f)" ]
}

@test "sources: a failed download leaves an earlier OUT exactly as it was" {
	start_server
	inputs
	profile "http://127.0.0.1:$PORT/ok/bzImage" "$(sha "$TMP/www/bzImage")" initrd.img ""
	"$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out" --cache "$TMP/cache"
	(cd "$TMP/out" && find . -printf '%p %s %T@\n' | sort) >"$TMP/before"
	# new kernel bytes the server does not have: 404
	profile "http://127.0.0.1:$PORT/ok/vmlinuz" "$(sha "$TMP/initrd.img")" initrd.img ""
	echo console=ttyS1 >/dev/null
	run "$PXEFORGE" build "$TMP/p.yaml" -o "$TMP/out" --cache "$TMP/cache"
	assert_failure 3
	assert_output "pxeforge: error: cannot fetch 'http://127.0.0.1:$PORT/ok/vmlinuz': HTTP 404"
	(cd "$TMP/out" && find . -printf '%p %s %T@\n' | sort) >"$TMP/after"
	diff "$TMP/before" "$TMP/after"
}

@test "sources: a connection dropped mid-body is retried and resumed" {
	start_server
	inputs
	profile "http://127.0.0.1:$PORT/drop-once/bzImage" "$(sha "$TMP/www/bzImage")" initrd.img ""
	PXEFORGE_FETCH_BACKOFF_MS=10 run "$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out" --cache "$TMP/cache"
	assert_success
	cmp "$TMP/www/bzImage" "$TMP/out/lab/bzImage"
}

@test "sources: a server that always drops the body exits 3 with the reason" {
	start_server
	inputs
	profile "http://127.0.0.1:$PORT/drop-always/bzImage" "$(sha "$TMP/www/bzImage")" initrd.img ""
	PXEFORGE_FETCH_BACKOFF_MS=10 run "$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out" --cache "$TMP/cache"
	assert_failure 3
	assert_output --regexp "^pxeforge: error: cannot fetch 'http://127.0.0.1:$PORT/drop-always/bzImage': connection closed after [0-9]+ of 3000000 bytes \(gave up after 4 attempts\)$"
	[ ! -e "$TMP/out" ]
	[ -z "$(find "$TMP/cache" -type f)" ]
}

@test "sources: an unknown host exits 3 with the DNS failure" {
	mkdir -p "$TMP/www"
	inputs
	profile "http://pxeforge-no-such-host.invalid/bzImage" "$(sha "$TMP/www/bzImage")" initrd.img ""
	run "$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out" --cache "$TMP/cache"
	assert_failure 3
	assert_output "pxeforge: error: cannot fetch 'http://pxeforge-no-such-host.invalid/bzImage': could not resolve host 'pxeforge-no-such-host.invalid'"
	[ ! -e "$TMP/out" ]
}

@test "sources: a pinned local file that does not match exits 3 and leaves no OUT" {
	mkdir -p "$TMP/www"
	inputs
	profile "$TMP/www/bzImage" "$(sha "$TMP/initrd.img")" initrd.img ""
	run "$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out"
	assert_failure 3
	assert_output "pxeforge: error: source '$TMP/www/bzImage': sha256 mismatch: expected $(sha "$TMP/initrd.img"), got $(sha "$TMP/www/bzImage")"
	[ ! -e "$TMP/out" ]
}

@test "sources: a pinned local file is read once when unchanged, and checked again when changed" {
	mkdir -p "$TMP/www"
	inputs
	profile "$TMP/www/bzImage" "$(sha "$TMP/www/bzImage")" initrd.img ""
	"$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out"
	# LeakSanitizer cannot run under ptrace
	ASAN_OPTIONS=detect_leaks=0 run strace -f -e trace=openat -o "$TMP/trace" "$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out"
	assert_success
	! grep -q "www/bzImage\", O_RDONLY" "$TMP/trace" || false
	head -c 3000000 /dev/urandom >"$TMP/www/bzImage"
	run "$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out"
	assert_failure 3
	assert_output --partial "sha256 mismatch"
}

@test "sources: profile errors: URL without sha256, bad sha256, other schemes, url with source, unreadable file" {
	cat >"$TMP/p.yaml" <<'YAML'
version: 1
defaults:
  kernel: {name: bzImage, source: "https://example.org/bzImage"}
  initrds:
    - {name: a, source: "ftp://example.org/a", sha256: "0000"}
    - {name: b, source: missing.img}
    - {name: c, source: missing.img, url: "http://example.org/c"}
    - {name: d, url: "http://example.org/d", sha256: "aa"}
hosts:
  - name: lab
    macs: ["52:54:00:12:34:56"]
    cpu: intel
YAML
	run "$PXEFORGE" check "$TMP/p.yaml"
	assert_failure 1
	assert_line "$TMP/p.yaml:3:35: error: source 'https://example.org/bzImage' needs 'sha256': a download is used only when its hash matches"
	assert_line "$TMP/p.yaml:5:25: error: source 'ftp://example.org/a' is neither an http:// or https:// URL nor a local path"
	assert_line "$TMP/p.yaml:5:56: error: invalid sha256 '0000' (64 hex digits, as sha256sum prints)"
	assert_line "$TMP/p.yaml:6:25: error: cannot read source '$TMP/missing.img': No such file or directory"
	assert_line "$TMP/p.yaml:7:25: error: 'source' and 'url' together: 'url' makes iPXE load the file from elsewhere, 'source' puts it in OUT/<host>/; give one"
	assert_line "$TMP/p.yaml:8:54: error: 'sha256' without 'source': it pins the file pxeforge fetches or copies"
}

@test "sources: a progress bar on a terminal, none with --quiet" {
	command -v script >/dev/null
	start_server
	inputs
	profile "http://127.0.0.1:$PORT/slow/bzImage" "$(sha "$TMP/www/bzImage")" initrd.img ""
	script -qec "$PXEFORGE build $TMP/p.yaml -o $TMP/out --cache $TMP/cache" /dev/null >"$TMP/tty.out"
	grep -q 'MiB' "$TMP/tty.out"
	grep -q '100%' "$TMP/tty.out"
	grep -q "pxeforge: 1 host, 8 files" "$TMP/tty.out"
	rm -rf "$TMP/cache" "$TMP/out"
	script -qec "$PXEFORGE build -q $TMP/p.yaml -o $TMP/out --cache $TMP/cache" /dev/null >"$TMP/tty.out"
	[ ! -s "$TMP/tty.out" ]
	cmp "$TMP/www/bzImage" "$TMP/out/lab/bzImage"
}

@test "sources: a VM's disk image from a URL lands in OUT/vms/ and its containerDisk is made from it" {
	start_server
	inputs
	cp examples/images/nixos-gpu.qcow2 "$TMP/www/nixos.qcow2"
	cat >"$TMP/p.yaml" <<YAML
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
      image: "http://127.0.0.1:$PORT/ok/nixos.qcow2"
      sha256: "$(sha "$TMP/www/nixos.qcow2")"
      containerdisk: registry.example/nixos:1
YAML
	run "$PXEFORGE" build "$TMP/p.yaml" -o "$TMP/out" --cache "$TMP/cache"
	assert_success
	cmp "$TMP/www/nixos.qcow2" "$TMP/out/vms/vm1/disk.qcow2"
	mkdir "$TMP/oci" && tar -xf "$TMP/out/vms/vm1/containerdisk.tar" -C "$TMP/oci"
	umoci unpack --image "$TMP/oci:1" "$TMP/bundle" >/dev/null
	cmp "$TMP/www/nixos.qcow2" "$TMP/bundle/rootfs/disk/disk.qcow2"
	# a wrong hash: exit 3 naming the URL, OUT as it was
	sed -i "s/sha256: \"./sha256: \"0/" "$TMP/p.yaml"
	rm -rf "$TMP/cache"
	run "$PXEFORGE" build "$TMP/p.yaml" -o "$TMP/out" --cache "$TMP/cache"
	assert_failure 3
	assert_output --partial "pxeforge: error: cannot fetch 'http://127.0.0.1:$PORT/ok/nixos.qcow2': sha256 mismatch: expected 0"
	cmp "$TMP/www/nixos.qcow2" "$TMP/out/vms/vm1/disk.qcow2"
}

@test "sources: the same files named from another directory are neither read nor made again" {
	cp -r examples "$TMP/ex"
	chmod 600 "$TMP/ex/demo-cluster.key"
	(cd "$TMP" && "$PXEFORGE" build -q ex/c4140.yaml -o out)
	cp "$TMP/out/.pxeforge-state.json" "$TMP/state.before"
	find "$TMP/out" -printf '%p %T@\n' | LC_ALL=C sort >"$TMP/mtimes.before"
	sleep 1
	mkdir "$TMP/ex/sub"
	cd "$TMP/ex/sub"
	# LeakSanitizer cannot run under ptrace
	ASAN_OPTIONS=detect_leaks=0 run strace -f -e trace=openat -o "$TMP/trace" \
		"$PXEFORGE" build ../c4140.yaml -o ../../out
	cd "$OLDPWD"
	assert_success
	assert_output --partial "(0 rewritten)"
	# the state names sources by their real path: it is the same
	cmp "$TMP/state.before" "$TMP/out/.pxeforge-state.json"
	grep -q "\"$(cd "$TMP/ex/images" && pwd -P)/nixos-gpu.qcow2\"" "$TMP/out/.pxeforge-state.json"
	# no temporary file (neither the disk copied nor the containerDisk
	# made again), and the disk image not even opened: stat decides
	! grep -q 'pxeforge-tmp' "$TMP/trace" || fail "made again: $(grep pxeforge-tmp "$TMP/trace")"
	assert_equal "$(grep -c 'nixos-gpu.qcow2"' "$TMP/trace")" 0
	find "$TMP/out" -printf '%p %T@\n' | LC_ALL=C sort | diff "$TMP/mtimes.before" -
}

@test "sources: a progress bar while a large source is copied into OUT, on a terminal only" {
	command -v script >/dev/null
	big_small_profile
	script -qec "$PXEFORGE build $TMP/in/p.yaml -o $TMP/out" /dev/null >"$TMP/tty.out"
	grep -q 'lab/big.img .*17.0 MiB / 17.0 MiB *100%' "$TMP/tty.out" ||
		fail "no bar for lab/big.img: $(cat -v "$TMP/tty.out")"
	! grep -q 'small.img ' "$TMP/tty.out" || false
	cmp "$TMP/in/big.img" "$TMP/out/lab/big.img"
	# unchanged: nothing copied, no bar
	script -qec "$PXEFORGE build $TMP/in/p.yaml -o $TMP/out" /dev/null >"$TMP/tty.out"
	grep -q '(0 rewritten)' "$TMP/tty.out"
	! grep -q 'MiB' "$TMP/tty.out" || false
	rm -rf "$TMP/out"
	script -qec "$PXEFORGE build -q $TMP/in/p.yaml -o $TMP/out" /dev/null >"$TMP/tty.out"
	[ ! -s "$TMP/tty.out" ]
	rm -rf "$TMP/out"
	run "$PXEFORGE" build "$TMP/in/p.yaml" -o "$TMP/out"
	assert_success
	refute_output --partial 'MiB'
}

@test "sources: a pinned local source is read once on a full build; one wrong pin installs none of them" {
	mkdir -p "$TMP/www"
	inputs
	profile "$TMP/www/bzImage" "$(sha "$TMP/www/bzImage")" initrd.img "$(sha "$TMP/initrd.img")"
	# LeakSanitizer cannot run under ptrace
	ASAN_OPTIONS=detect_leaks=0 run strace -f -e trace=openat,open -o "$TMP/trace" \
		"$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out"
	assert_success
	# opened once each: checked while copied, not beforehand as well
	assert_equal "$(grep -c 'www/bzImage", O_RDONLY' "$TMP/trace")" 1
	assert_equal "$(grep -c '/initrd.img", O_RDONLY' "$TMP/trace")" 1
	cmp "$TMP/www/bzImage" "$TMP/out/lab/bzImage"
	cmp "$TMP/initrd.img" "$TMP/out/lab/initrd"
	# every file and directory as it was (but OUT's own mtime: the copies
	# waited there)
	(cd "$TMP/out" && find . -mindepth 1 -printf '%p %s %i %T@\n' | LC_ALL=C sort) >"$TMP/before"
	cp "$TMP/out/lab/bzImage" "$TMP/old-bzImage"
	# a new kernel with its new pin (fine), an initrd that no longer
	# matches its pin: the kernel, copied first, is not installed either
	head -c 2000000 /dev/urandom >"$TMP/www/bzImage"
	want=$(sha "$TMP/initrd.img")
	printf x >>"$TMP/initrd.img"
	profile "$TMP/www/bzImage" "$(sha "$TMP/www/bzImage")" initrd.img "$want"
	run "$PXEFORGE" build -q "$TMP/p.yaml" -o "$TMP/out"
	assert_failure 3
	assert_output "pxeforge: error: source '$TMP/initrd.img': sha256 mismatch: expected $want, got $(sha "$TMP/initrd.img")"
	(cd "$TMP/out" && find . -mindepth 1 -printf '%p %s %i %T@\n' | LC_ALL=C sort) | diff "$TMP/before" -
	cmp "$TMP/old-bzImage" "$TMP/out/lab/bzImage"
	[ -z "$(find "$TMP/out" -name '.pxeforge-tmp-*')" ]
}

@test "sources: the copy bench/packaging.sh compares: three threads and O_DIRECT as shipped, one thread without with PXEFORGE_BENCH_COPY=plain, the same tree" {
	command -v strace >/dev/null
	big_small_profile
	dd if=/dev/zero of="$TMP/probe" bs=4096 count=1 oflag=direct 2>/dev/null ||
		fail "$TMP's file system refuses O_DIRECT: the shipped path cannot be told from the plain one here"
	ASAN_OPTIONS=detect_leaks=0 strace -f -y -e trace=clone,clone3,fcntl -o "$TMP/ring.trace" \
		"$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/ring"
	ASAN_OPTIONS=detect_leaks=0 PXEFORGE_BENCH_COPY=plain strace -f -y -e trace=clone,clone3,fcntl \
		-o "$TMP/plain.trace" "$PXEFORGE" build -q "$TMP/in/p.yaml" -o "$TMP/plain"
	# as shipped: big.img's temporary file gets O_DIRECT, and threads run
	grep -qE "<$TMP/(ring|\.ring\.pxeforge-stage)/lab/\.pxeforge-tmp-[^>]*>, F_SETFL, [^)]*O_DIRECT" "$TMP/ring.trace" ||
		fail "no O_DIRECT in the shipped copy: $(cat "$TMP/ring.trace")"
	grep -qE '^[0-9]+ +clone3?\(' "$TMP/ring.trace" || fail "no thread in the shipped copy"
	# plain: neither
	! grep -q O_DIRECT "$TMP/plain.trace" || fail "O_DIRECT in the plain copy: $(cat "$TMP/plain.trace")"
	! grep -qE '^[0-9]+ +clone3?\(' "$TMP/plain.trace" || fail "a thread in the plain copy: $(cat "$TMP/plain.trace")"
	cmp "$TMP/in/big.img" "$TMP/plain/lab/big.img"
	cmp "$TMP/in/big.img" "$TMP/ring/lab/big.img"
	cmp "$TMP/ring/manifest.json" "$TMP/plain/manifest.json"
	grep -q "$(sha256sum "$TMP/in/big.img" | cut -d' ' -f1)" "$TMP/plain/manifest.json"
}
