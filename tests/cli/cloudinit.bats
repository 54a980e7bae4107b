#!/usr/bin/env bats
# cloud-init NoCloud payloads (OUT/<host>/cloud-init/, cidata.iso, the seed
# in the overlay), read back by the real consumers: cloud-init itself,
# ssh-keygen, xorriso, bsdtar. Profiles: examples/*.yaml and
# tests/cli/fixtures/cloudinit/*.yaml.

load helpers

FIXTURES=tests/cli/fixtures/cloudinit
# Debian's python3, which has python3-yaml (and cloud-init's own modules)
PY3=${PY3:-/usr/bin/python3}

# fixture NAME: copies the fixture profile into $TMP, with a cluster secret
# beside it (one per test: every build of a test shares it), and prints the
# copy's path.
fixture() {
	cp "$FIXTURES/$1.yaml" "$TMP/$1.yaml"
	[ -f "$TMP/cluster.key" ] || "$PXEFORGE" secret init -q "$TMP/cluster.key"
	echo "$TMP/$1.yaml"
}

# ud USER-DATA EXPR: the Python expression's value over the parsed
# user-data (d; files: write_files by path), a string written as it is.
ud() {
	"$PY3" -c 'import sys, yaml
text = open(sys.argv[1]).read()
if not text.startswith("#cloud-config\n"):
    sys.exit("no #cloud-config header")
d = yaml.safe_load(text)
files = {f["path"]: f for f in d.get("write_files", [])}
v = eval(sys.argv[2])
sys.stdout.write(v if isinstance(v, str) else repr(v))' "$1" "$2"
}

# fingerprint USER-DATA: the SHA256 fingerprint of its SSH host key, read
# by ssh-keygen from the private key (which must be a valid one).
fingerprint() {
	local key="$TMP/fp.$$.key"
	(umask 077 && ud "$1" 'd["ssh_keys"]["ed25519_private"]' >"$key")
	ssh-keygen -l -f "$key" | awk '{ print $2 }'
	rm -f "$key"
}

build() { # build PROFILE OUT: a quiet build that must succeed
	run "$PXEFORGE" build -q "$1" -o "$2"
	assert_success
	assert_output ''
}

@test "cloud-init schema accepts the user-data of every example and fixture" {
	local n=0 f
	for p in examples/*.yaml; do
		build "$p" "$TMP/ex/$(basename "$p" .yaml)"
	done
	for p in agent-v3 agent-v2 server gpu-host plain; do
		build "$(fixture $p)" "$TMP/fx/$p"
	done
	# the fixtures cover what they say they do
	grep -q 'config-v3.toml.tmpl' "$TMP/fx/agent-v3/node-a/cloud-init/user-data"
	grep -q 'containerd/config.toml.tmpl' "$TMP/fx/agent-v2/node-c/cloud-init/user-data"
	grep -q 'node-name: k3s-server' "$TMP/fx/server/k3s-server/cloud-init/user-data"
	run grep -q 'server: ' "$TMP/fx/server/k3s-server/cloud-init/user-data"
	assert_failure 1
	grep -q '^runcmd:' "$TMP/fx/gpu-host/gpu-node/cloud-init/user-data"
	grep -q '^ssh_authorized_keys:' "$TMP/fx/plain/plain/cloud-init/user-data"
	while IFS= read -r f; do
		run cloud-init schema -c "$f"
		assert_success
		assert_output "Valid cloud-config: $f"
		n=$((n + 1))
	done < <(find "$TMP/ex" "$TMP/fx" -path '*/cloud-init/user-data' | sort)
	# c4140 among the examples; node-a, node-b, node-c, k3s-server,
	# gpu-node and plain among the fixtures
	[ -f "$TMP/ex/c4140/c4140/cloud-init/user-data" ] || fail "c4140 has no user-data"
	[ "$n" -ge 7 ] || fail "only $n user-data files were checked"
	# and schema does reject what is wrong: the checker can fail
	printf '#cloud-config\nwrite_files:\n- path: /x\n  permissions: 600\n' >"$TMP/bad"
	run cloud-init schema -c "$TMP/bad"
	assert_failure
}

# cloud-init 22.4's `schema` validates cloud-config only; it has no
# network-config schema. So network-config goes through cloud-init's real
# network-config parser and renderer instead: net-convert reads it as the
# NoCloud datasource would and writes systemd-networkd files, which must
# carry what the profile says.
net_convert() { # net_convert NETWORK-CONFIG DIR: the rendered .network file's text
	mkdir -p "$2"
	cloud-init devel net-convert -p "$1" -k yaml -D debian -d "$2" -O networkd >/dev/null 2>&1 ||
		fail "net-convert rejected $1"
	cat "$2"/etc/systemd/network/*.network
}

@test "network-config: cloud-init's parser renders the MAC, addresses, gateway and DNS" {
	build examples/c4140.yaml "$TMP/c4140"
	run net_convert "$TMP/c4140/c4140/cloud-init/network-config" "$TMP/nc-c4140"
	assert_success
	assert_line 'MACAddress=b0:26:28:4a:10:01'
	assert_line 'Name=lan0'
	assert_line 'Address=10.20.0.41/24'
	assert_line 'Gateway=10.20.0.1'
	assert_line 'Destination=0.0.0.0/0'
	assert_line 'DNS=10.20.0.1'
	assert_line 'Domains=lab.example'
	assert_line 'DHCP=no'

	build "$(fixture agent-v3)" "$TMP/out"
	run net_convert "$TMP/out/node-a/cloud-init/network-config" "$TMP/nc-a"
	assert_success
	assert_line 'MACAddress=52:54:00:30:00:0a'
	assert_line 'Address=10.30.0.10/24'
	assert_line 'Gateway=10.30.0.1'
	assert_line 'DNS=10.30.0.1 fd00:30::1'
	# node-b: the first of its MACs, an IPv6 address beside the IPv4 one
	run net_convert "$TMP/out/node-b/cloud-init/network-config" "$TMP/nc-b"
	assert_success
	assert_line 'MACAddress=52:54:00:30:00:0b'
	refute_output --partial '52:54:00:30:01:0b'
	assert_line 'Address=10.30.0.11/24'
	assert_line 'Address=fd00:30::11/64'
	assert_line 'Gateway=10.30.0.1'
	# no addresses, no network-config: cloud-init falls back to DHCP
	build "$(fixture server)" "$TMP/srv"
	[ ! -e "$TMP/srv/k3s-server/cloud-init/network-config" ]
}

@test "the SSH host key pair is real: ssh-keygen derives the public key user-data carries" {
	build "$(fixture agent-v3)" "$TMP/out"
	for h in node-a node-b; do
		f="$TMP/out/$h/cloud-init/user-data"
		(umask 077 && ud "$f" 'd["ssh_keys"]["ed25519_private"]' >"$TMP/$h.key")
		run ssh-keygen -y -f "$TMP/$h.key"
		assert_success
		pub=$(ud "$f" 'd["ssh_keys"]["ed25519_public"]')
		# type and key field; the comment is the host name
		[[ $pub == ssh-ed25519\ AAAA* ]] || fail "ed25519_public: '$pub'"
		assert_equal "$(cut -d' ' -f1,2 <<<"$output")" "$(cut -d' ' -f1,2 <<<"$pub")"
		assert_equal "$(cut -d' ' -f3 <<<"$pub")" "$h"
		assert_equal "$(ud "$f" 'd["ssh_genkeytypes"]')" "['ed25519']"
		assert_equal "$(ud "$f" 'd["ssh_deletekeys"]')" "True"
	done
}

@test "node identity is stable across builds and differs between hosts" {
	p=$(fixture agent-v3)
	build "$p" "$TMP/a"
	build "$p" "$TMP/b"
	a=$(fingerprint "$TMP/a/node-a/cloud-init/user-data")
	[[ $a == SHA256:* ]] || fail "no fingerprint: '$a'"
	assert_equal "$(fingerprint "$TMP/b/node-a/cloud-init/user-data")" "$a"
	b=$(fingerprint "$TMP/a/node-b/cloud-init/user-data")
	[ "$a" != "$b" ] || fail "node-a and node-b share the host key $a"
	assert_equal "$(fingerprint "$TMP/b/node-b/cloud-init/user-data")" "$b"

	pw='files["/etc/rancher/node/password"]["content"]'
	pa=$(ud "$TMP/a/node-a/cloud-init/user-data" "$pw")
	[[ $pa =~ ^[0-9a-f]{64}$ ]] || fail "node password is not 64 hex digits: '$pa'"
	assert_equal "$(ud "$TMP/b/node-a/cloud-init/user-data" "$pw")" "$pa"
	pb=$(ud "$TMP/a/node-b/cloud-init/user-data" "$pw")
	[ "$pa" != "$pb" ] || fail "node-a and node-b share the k3s node password"
	assert_equal "$(ud "$TMP/b/node-b/cloud-init/user-data" "$pw")" "$pb"
	# permissions: a string (the schema's type), readable by root only
	assert_equal "$(ud "$TMP/a/node-a/cloud-init/user-data" 'repr(files["/etc/rancher/node/password"]["permissions"])')" "'0600'"
	grep -q "^  permissions: '0600'$" "$TMP/a/node-a/cloud-init/user-data"

	# another secret, other identities
	rm "$TMP/cluster.key"
	"$PXEFORGE" secret init -q "$TMP/cluster.key"
	build "$p" "$TMP/c"
	[ "$(fingerprint "$TMP/c/node-a/cloud-init/user-data")" != "$a" ] || fail "a new secret kept the host key"
	[ "$(ud "$TMP/c/node-a/cloud-init/user-data" "$pw")" != "$pa" ] || fail "a new secret kept the password"
}

@test "k3s config: node name, server and token file" {
	build "$(fixture agent-v3)" "$TMP/out"
	run ud "$TMP/out/node-a/cloud-init/user-data" 'files["/etc/rancher/k3s/config.yaml"]["content"]'
	assert_output "node-name: node-a
server: https://10.30.0.1:6443
token-file: /var/lib/rancher/k3s/agent/join-token"
	build "$(fixture server)" "$TMP/srv"
	run ud "$TMP/srv/k3s-server/cloud-init/user-data" 'files["/etc/rancher/k3s/config.yaml"]["content"]'
	assert_output "node-name: k3s-server
token-file: /var/lib/rancher/k3s/server/token"
}

@test "containerd 3: config-v3.toml.tmpl and cdi-v3.toml, byte for byte" {
	build "$(fixture agent-v3)" "$TMP/out"
	f="$TMP/out/node-a/cloud-init/user-data"
	ud "$f" 'files["/var/lib/rancher/k3s/agent/etc/containerd/config-v3.toml.tmpl"]["content"]' >"$TMP/tmpl"
	cmp "$TMP/tmpl" cloud-init/containerd/config-v3.toml.tmpl
	ud "$f" 'files["/etc/containerd/cdi.toml"]["content"]' >"$TMP/cdi"
	cmp "$TMP/cdi" cloud-init/containerd/cdi-v3.toml
	run ud "$f" 'sorted(files)'
	assert_output "['/etc/containerd/cdi.toml', '/etc/rancher/k3s/config.yaml', '/etc/rancher/node/password', '/var/lib/rancher/k3s/agent/etc/containerd/config-v3.toml.tmpl']"
}

@test "containerd 2: config.toml.tmpl and cdi-v2.toml, byte for byte" {
	build "$(fixture agent-v2)" "$TMP/out"
	f="$TMP/out/node-c/cloud-init/user-data"
	ud "$f" 'files["/var/lib/rancher/k3s/agent/etc/containerd/config.toml.tmpl"]["content"]' >"$TMP/tmpl"
	cmp "$TMP/tmpl" cloud-init/containerd/config.toml.tmpl
	ud "$f" 'files["/etc/containerd/cdi.toml"]["content"]' >"$TMP/cdi"
	cmp "$TMP/cdi" cloud-init/containerd/cdi-v2.toml
	run ud "$f" '"/var/lib/rancher/k3s/agent/etc/containerd/config-v3.toml.tmpl" in files'
	assert_output False
}

@test "an NVIDIA GPU of role host gets nvidia-ctk cdi generate and persistence mode; vfio GPUs do not" {
	build "$(fixture gpu-host)" "$TMP/out"
	run ud "$TMP/out/gpu-node/cloud-init/user-data" 'd["runcmd"]'
	assert_output "[['nvidia-smi', '-pm', '1'], ['nvidia-ctk', 'cdi', 'generate', '--output=/etc/cdi/nvidia.yaml']]"
	# the c4140's four V100s all go to vfio-pci: nothing for the host
	build examples/c4140.yaml "$TMP/c4140"
	run ud "$TMP/c4140/c4140/cloud-init/user-data" '"runcmd" in d'
	assert_output False
	run grep -c 'nvidia' "$TMP/c4140/c4140/cloud-init/user-data"
	assert_output 0
}

@test "without a cluster secret and k3s: no host keys, the admins' keys only" {
	build "$(fixture plain)" "$TMP/out"
	f="$TMP/out/plain/cloud-init/user-data"
	run ud "$f" 'sorted(d)'
	assert_output "['hostname', 'ssh_authorized_keys']"
	run ud "$f" '"\n".join(d["ssh_authorized_keys"])'
	assert_output "$(sed -n 's/^ *- "\(ssh-.*\)"$/\1/p' "$FIXTURES/plain.yaml")"
	assert_line --index 1 --partial ' ops@lab'
	# nothing secret in it, so an ordinary file
	[ "$(stat -c %a "$f")" = 644 ]
}

@test "the cidata ISO reads back with xorriso: label cidata, the three files, same bytes" {
	# seed: iso (for BMC virtual media): in the defaults, and on a host
	sed -i 's/^  cloud_init:$/&\n    seed: iso/' "$(fixture agent-v3)"
	sed -i 's/^    cloud_init:$/&\n      seed: iso/' "$(fixture server)"
	grep -c 'seed: iso' "$TMP/agent-v3.yaml" "$TMP/server.yaml"
	build "$TMP/agent-v3.yaml" "$TMP/out"
	build "$TMP/server.yaml" "$TMP/srv"
	for d in "$TMP/out/node-a" "$TMP/srv/k3s-server"; do
		run xorriso -indev "$d/cidata.iso" -pvd_info
		assert_success
		assert_output --regexp "Volume [Ii]d *: '?[Cc][Ii][Dd][Aa][Tt][Aa]'?"
		run xorriso -indev "$d/cidata.iso" -find / -type f
		assert_success
		files=$(grep "^'/" <<<"$output" | tr -d "'" | sort | tr '\n' ' ')
		if [ -e "$d/cloud-init/network-config" ]; then
			assert_equal "$files" "/meta-data /network-config /user-data "
		else
			assert_equal "$files" "/meta-data /user-data "
		fi
		rm -rf "$TMP/x"
		xorriso -osirrox on -indev "$d/cidata.iso" -extract / "$TMP/x" 2>/dev/null
		for f in user-data meta-data network-config; do
			[ -e "$d/cloud-init/$f" ] || continue
			cmp "$TMP/x/$f" "$d/cloud-init/$f"
		done
	done
}

@test "seed: iso: no seed on the kernel line or in an overlay; other seeds get no cidata.iso" {
	# c4140 (VFIO, so an overlay) with its seed_url and seed: iso
	cp -r examples "$TMP/ex"
	sed -i 's|^      seed_url: .*|&\n      seed: iso|' "$TMP/ex/c4140.yaml"
	grep -q '^      seed: iso' "$TMP/ex/c4140.yaml"
	build "$TMP/ex/c4140.yaml" "$TMP/iso"
	[ -f "$TMP/iso/c4140/cidata.iso" ]
	assert_equal "$(stat -c %a "$TMP/iso/c4140/cidata.iso")" 600
	run grep -c 'ds=nocloud' "$TMP/iso/c4140/cmdline"
	assert_output 0
	run bsdtar -tf "$TMP/iso/c4140/overlay.cpio.gz"
	assert_success
	assert_line etc/modprobe.d/vfio.conf
	refute_output --partial var/lib/cloud/seed
	# the overlay (default) and url seeds: nothing boots from a volume
	build "$(fixture agent-v3)" "$TMP/ovl"
	build examples/c4140.yaml "$TMP/url"
	run find "$TMP/ovl" "$TMP/url" -name cidata.iso -not -path '*/vms/*'
	assert_success
	assert_output ''
	[ -f "$TMP/url/vms/c4140-gpu/cidata.iso" ]
}

@test "seed: overlay (the default) puts the seed into the initrd overlay" {
	build "$(fixture agent-v3)" "$TMP/out"
	o="$TMP/out/node-a/overlay.cpio.gz"
	run bsdtar -tf "$o"
	assert_success
	for f in user-data meta-data network-config; do
		assert_line "var/lib/cloud/seed/nocloud/$f"
		bsdtar -xOf "$o" "var/lib/cloud/seed/nocloud/$f" >"$TMP/$f"
		cmp "$TMP/$f" "$TMP/out/node-a/cloud-init/$f"
	done
	# cloud-init finds it there without a kernel parameter
	run grep -q 'ds=nocloud' "$TMP/out/node-a/cmdline"
	assert_failure 1
	grep -q 'initrd=overlay.cpio.gz' "$TMP/out/node-a/cmdline"
	# no addresses: no network-config in the seed
	build "$(fixture server)" "$TMP/srv"
	run bsdtar -tf "$TMP/srv/k3s-server/overlay.cpio.gz"
	assert_line var/lib/cloud/seed/nocloud/user-data
	refute_line var/lib/cloud/seed/nocloud/network-config
}

# seed_token OUT HOST: the ds=nocloud token of the host's command line
seed_token() {
	tr ' ' '\n' <"$1/$2/cmdline" | grep '^ds=nocloud'
}

@test "seed_url: no seed in the overlay; the kernel line says where to fetch it" {
	build examples/c4140.yaml "$TMP/out"
	run bsdtar -tf "$TMP/out/c4140/overlay.cpio.gz"
	assert_success
	refute_output --partial 'var/lib/cloud'
	assert_line etc/modprobe.d/vfio.conf
	run seed_token "$TMP/out" c4140
	assert_output 'ds=nocloud;s=http://10.20.0.1/pxe/c4140/cloud-init/'
	token=$output
	# the same token on the iPXE kernel line, unquoted
	run grep '^kernel ' "$TMP/out/c4140/netboot.ipxe"
	assert_output --partial " $token "
	# cloud-init's own parser reads the seed directory out of the command
	# line; it appends the file names to it, hence the trailing slash
	run "$PY3" -c 'import sys
from cloudinit.sources.DataSourceNoCloud import load_cmdline_data
fill = {}
assert load_cmdline_data(fill, open(sys.argv[1]).read())
print(fill["seedfrom"] + "user-data")' "$TMP/out/c4140/cmdline"
	assert_success
	assert_output 'http://10.20.0.1/pxe/c4140/cloud-init/user-data'
	[ -f "$TMP/out/c4140/cloud-init/user-data" ]

	# seed: url without seed_url: from an http base_url (its '/' dropped)
	build "$(fixture agent-v2)" "$TMP/v2"
	run seed_token "$TMP/v2" node-c
	assert_output 'ds=nocloud;s=http://10.31.0.1/netboot/node-c/cloud-init/'
	grep '^kernel ' "$TMP/v2/node-c/netboot.ipxe" | grep -qF " $output "
	# nothing else needs an overlay there, so there is none
	[ ! -e "$TMP/v2/node-c/overlay.cpio.gz" ]
	run grep -q 'overlay' "$TMP/v2/node-c/cmdline"
	assert_failure 1
}

# secrets_of USER-DATA KEYFILE: one per line, what must never be printed:
# the node password, each line of the private key's base64 body, the key
# file as hex.
secrets_of() {
	ud "$1" 'files["/etc/rancher/node/password"]["content"]'
	echo
	ud "$1" 'd["ssh_keys"]["ed25519_private"]' | grep -v -- '-----'
	xxd -p "$2" | tr -d '\n'
	echo
}

# refute_secrets FILE...: no line of $TMP/secrets occurs in the files
refute_secrets() {
	local f s
	for f in "$@"; do
		while IFS= read -r s; do
			[ -n "$s" ] || continue
			! grep -qF -- "$s" "$f" || fail "a secret ('${s:0:8}…') was printed in ${f##*/}" || return 1
			! tr -d '\n' <"$f" | grep -qiF -- "$s" || fail "a secret ('${s:0:8}…') was printed in ${f##*/}" || return 1
			# raw bytes: the key file's hex within the file's own hex
			! xxd -p "$f" | tr -d '\n' | grep -qF -- "$s" || fail "a secret ('${s:0:8}…') was printed raw in ${f##*/}" || return 1
		done <"$TMP/secrets"
	done
}

# out_err NAME CMD...: runs pxeforge, stdout and stderr to $TMP/NAME.{out,err}
out_err() {
	local name=$1
	shift
	status=0
	"$PXEFORGE" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || status=$?
}

@test "secrets: 0600 files, not in the manifest, never printed" {
	p=$(fixture agent-v3)
	out_err build build "$p" -o "$TMP/out"
	[ "$status" -eq 0 ]
	for f in node-a/cloud-init/user-data node-a/overlay.cpio.gz \
		node-b/cloud-init/user-data node-b/overlay.cpio.gz; do
		assert_equal "$f $(stat -c %a "$TMP/out/$f")" "$f 600"
		run grep -F "\"$f\"" "$TMP/out/manifest.json"
		assert_failure
	done
	# what holds no secret is ordinary, and listed
	for f in node-a/cloud-init/meta-data node-a/cloud-init/network-config node-a/cmdline; do
		assert_equal "$f $(stat -c %a "$TMP/out/$f")" "$f 644"
		grep -qF "\"path\": \"$f\"" "$TMP/out/manifest.json"
	done
	# seed_url: the overlay has no seed, so no secret, and is listed
	build examples/c4140.yaml "$TMP/c4140"
	assert_equal "$(stat -c %a "$TMP/c4140/c4140/overlay.cpio.gz")" 644
	grep -qF '"path": "c4140/overlay.cpio.gz"' "$TMP/c4140/manifest.json"
	assert_equal "$(stat -c %a "$TMP/c4140/vms/c4140-gpu/cidata.iso")" 600

	secrets_of "$TMP/out/node-a/cloud-init/user-data" "$TMP/cluster.key" >"$TMP/secrets"
	[ "$(wc -l <"$TMP/secrets")" -ge 4 ] || fail "too few secrets found"
	out_err check check "$p"
	[ "$status" -eq 0 ]
	for t in ipxe cmdline meta-data network-config nixos; do
		out_err "render-$t" render "$p" --host node-a --target "$t"
		[ "$status" -eq 0 ] || fail "render --target $t: exit $status"
	done
	out_err render-ud render "$p" --host node-a --target user-data
	[ "$status" -eq 2 ]
	# error runs: another host's mistake fails the whole profile
	sed 's/addresses: \[10.30.0.11\/24/addresses: [10.30.0.300\/24/' "$p" >"$TMP/bad.yaml"
	out_err bad-build build "$TMP/bad.yaml" -o "$TMP/bad-out"
	[ "$status" -eq 1 ]
	out_err bad-check check "$TMP/bad.yaml"
	[ "$status" -eq 1 ]
	out_err bad-render render "$TMP/bad.yaml" --host node-a --target meta-data
	[ "$status" -eq 1 ]
	grep -q "10.30.0.300/24" "$TMP/bad-check.err"
	refute_secrets "$TMP"/*.out "$TMP"/*.err
	# and the check can fail: the user-data itself holds them
	cp "$TMP/out/node-a/cloud-init/user-data" "$TMP/control.out"
	run refute_secrets "$TMP/control.out"
	assert_failure
}

@test "render --target user-data is refused (exit 2); meta-data and network-config are printed as written" {
	p=$(fixture agent-v3)
	build "$p" "$TMP/out"
	run "$PXEFORGE" render "$p" --host node-a --target user-data
	assert_failure 2
	assert_line --index 0 --partial "user-data is not printed"
	refute_output --partial 'PRIVATE KEY'
	"$PXEFORGE" render "$p" --host node-a --target meta-data >"$TMP/md"
	cmp "$TMP/md" "$TMP/out/node-a/cloud-init/meta-data"
	"$PXEFORGE" render "$p" --host node-b --target network-config >"$TMP/nc"
	cmp "$TMP/nc" "$TMP/out/node-b/cloud-init/network-config"
	# a host without addresses has no network-config to print
	run "$PXEFORGE" render "$(fixture server)" --host k3s-server --target network-config
	assert_failure 1
	assert_output "pxeforge: error: host 'k3s-server' has no network-config (give cloud_init network addresses)"
}

@test "meta-data: instance-id stable across builds, new when user-data changes" {
	p=$(fixture agent-v3)
	build "$p" "$TMP/a"
	build "$p" "$TMP/b"
	run cat "$TMP/a/node-a/cloud-init/meta-data"
	assert_line --index 0 --regexp '^instance-id: iid-[0-9a-f]{16}$'
	assert_line --index 1 'local-hostname: node-a'
	[ "${#lines[@]}" -eq 2 ]
	iid=${lines[0]}
	# every payload, the ISO and the overlay: byte-identical across builds
	# (the state file holds each file's stat fingerprint: inodes, ctimes)
	diff -r -x .pxeforge-state.json "$TMP/a" "$TMP/b"
	assert_equal "$(head -n 1 "$TMP/a/node-b/cloud-init/meta-data" | grep -c iid-)" 1
	[ "$(head -n 1 "$TMP/a/node-b/cloud-init/meta-data")" != "$iid" ] || fail "node-a and node-b share an instance-id"
	grep -qx 'local-hostname: node-b' "$TMP/a/node-b/cloud-init/meta-data"
	# one more authorized key: another user-data, another instance
	sed '/admin@lab"$/a\      - "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJxdmxeLDGEu4BAdpA6UWgJgzM92q3+Z/bH02orfivGi ops@lab"' \
		"$p" >"$TMP/more.yaml"
	build "$TMP/more.yaml" "$TMP/c"
	grep -q 'ops@lab' "$TMP/c/node-a/cloud-init/user-data"
	run head -n 1 "$TMP/c/node-a/cloud-init/meta-data"
	assert_output --regexp '^instance-id: iid-[0-9a-f]{16}$'
	[ "$output" != "$iid" ] || fail "a changed user-data kept instance-id $iid"
	# so does network-config alone
	sed 's/10.30.0.10\/24/10.30.0.12\/24/' "$p" >"$TMP/moved.yaml"
	build "$TMP/moved.yaml" "$TMP/d"
	cmp -s "$TMP/a/node-a/cloud-init/user-data" "$TMP/d/node-a/cloud-init/user-data" ||
		fail "moving the address changed user-data"
	[ "$(head -n 1 "$TMP/d/node-a/cloud-init/meta-data")" != "$iid" ] || fail "a changed network-config kept instance-id $iid"
}

# secret_place PROFILE: the cluster_secret value's "file:line:col"
secret_place() {
	local line
	line=$(grep -n '^cluster_secret:' "$1" | cut -d: -f1)
	echo "$1:$line:17"
}

@test "a cluster secret readable or writable by group or others is refused; nothing is written" {
	p=$(fixture agent-v3)
	for mode in 640 604 660 602; do
		chmod "$mode" "$TMP/cluster.key"
		run "$PXEFORGE" build "$p" -o "$TMP/out"
		assert_failure 1
		assert_output "$(secret_place "$p"): error: cluster secret '$TMP/cluster.key' is readable or writable by group or others; run 'chmod 600' on it"
		[ ! -e "$TMP/out" ] || fail "mode $mode: build wrote $TMP/out"
		run "$PXEFORGE" check "$p"
		assert_failure 1
	done
	chmod 400 "$TMP/cluster.key"
	build "$p" "$TMP/out"
}

@test "a missing or malformed cluster secret is an error at its place" {
	p=$(fixture agent-v3)
	rm "$TMP/cluster.key"
	run "$PXEFORGE" build "$p" -o "$TMP/out"
	assert_failure 1
	assert_output "$(secret_place "$p"): error: cluster secret '$TMP/cluster.key' does not exist; create it with 'pxeforge secret init'"
	[ ! -e "$TMP/out" ]
	for n in 31 33 0; do
		head -c "$n" /dev/urandom >"$TMP/cluster.key"
		chmod 600 "$TMP/cluster.key"
		run "$PXEFORGE" build "$p" -o "$TMP/out"
		assert_failure 1
		assert_output "$(secret_place "$p"): error: cluster secret '$TMP/cluster.key' is not a 32-byte key made by 'pxeforge secret init'"
		[ ! -e "$TMP/out" ] || fail "a $n-byte key: build wrote $TMP/out"
		rm "$TMP/cluster.key"
	done
}
