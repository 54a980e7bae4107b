#!/usr/bin/env bats
# GPU VMs (vms[]): KubeVirt YAML read back, libvirt domains checked by
# virt-xml-validate, containerDisk archives read by skopeo and umoci,
# render --vm, all on the examples.

load helpers

build() { "$PXEFORGE" build -q "examples/$1.yaml" -o "$TMP/$1"; }

# python3 -c over the YAML documents of a file: docs[i] in $2
yaml() {
	python3 - "$1" <<PY
import sys, yaml
docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]
$2
PY
}

@test "vms: every example's domain.xml passes virt-xml-validate" {
	for e in c4140 rtx4070-workstation hgx-h200; do
		build "$e"
		for f in "$TMP/$e"/vms/*/domain.xml; do
			run virt-xml-validate "$f" domain
			assert_success
			assert_output "$f validates"
		done
	done
}

@test "vms: libvirt domains pass every GPU function through, lock memory, hide KVM for the consumer card" {
	build rtx4070-workstation
	build hgx-h200
	python3 - "$TMP" <<'PY'
import sys, xml.etree.ElementTree as ET
t = sys.argv[1]
ws = ET.parse(t + "/rtx4070-workstation/vms/ws-4070-vm/domain.xml").getroot()
addrs = [(a.get("bus"), a.get("slot"), a.get("function"))
         for a in ws.findall("./devices/hostdev/source/address")]
assert addrs == [("0x0b", "0x00", "0x0"), ("0x0b", "0x00", "0x1")], addrs
for h in ws.findall("./devices/hostdev"):
    assert (h.get("mode"), h.get("type"), h.get("managed")) == ("subsystem", "pci", "yes")
assert ws.find("./memoryBacking/locked") is not None
assert ws.find("./features/kvm/hidden").get("state") == "on"
assert ws.find("./cpu").get("mode") == "host-passthrough"
assert ws.find("./os/type").get("machine") == "q35"
assert ws.find("./os").get("firmware") == "efi"
assert ws.find("./devices/disk/source").get("file") == "/var/lib/libvirt/images/ws-4070-vm.qcow2"
hgx = ET.parse(t + "/hgx-h200/vms/hgx-h200-vm/domain.xml").getroot()
assert len(hgx.findall("./devices/hostdev")) == 12
assert hgx.find("./features/kvm") is None
cells = [(c.get("cpus"), c.get("memory"), c.get("unit")) for c in hgx.findall("./cpu/numa/cell")]
assert cells == [("0-51", "939524096", "KiB"), ("52-103", "939524096", "KiB")] or \
       [c[:1] for c in cells] == [("0-51",), ("52-103",)], cells
pins = {int(p.get("vcpu")): p.get("cpuset") for p in hgx.findall("./cputune/vcpupin")}
assert len(pins) == 104 and pins[0] == "4" and pins[51] == "55" and pins[52] == "60" and pins[103] == "111", pins
nodes = [(m.get("cellid"), m.get("nodeset")) for m in hgx.findall("./numatune/memnode")]
assert nodes == [("0", "0"), ("1", "1")], nodes
PY
}

@test "vms: vm.yaml asks for each GPU by its resource name and for guest memory plus KubeVirt's overhead" {
	build c4140
	f="$TMP/c4140/vms/c4140-gpu/vm.yaml"
	# it holds the VM's identity: owner only, not in the manifest
	[ "$(stat -c %a "$f")" = 600 ]
	! grep -q '"vms/c4140-gpu/vm.yaml"' "$TMP/c4140/manifest.json" || false
	grep -q '^#   VFIO .* 1024 Mi$' "$f"
	yaml "$f" '
vm = docs[-1]
assert vm["apiVersion"] == "kubevirt.io/v1" and vm["kind"] == "VirtualMachine"
d = vm["spec"]["template"]["spec"]["domain"]
gpus = d["devices"]["gpus"]
assert [g["deviceName"] for g in gpus] == ["nvidia.com/GV100GL_TESLA_V100_SXM2_16GB"] * 4, gpus
assert len({g["name"] for g in gpus}) == 4
assert d["memory"]["guest"] == "128Gi"
# 128 Gi + 256 (page tables) + 220 (fixed) + 256 (32 vCPUs) + 8 (IOThread)
# + 32 (video) + 1024 (VFIO) Mi
assert d["resources"]["requests"]["memory"] == "132868Mi", d["resources"]
assert d["cpu"]["model"] == "host-passthrough" and d["cpu"]["cores"] == 32
assert d["machine"]["type"] == "q35"
assert d["firmware"]["bootloader"]["efi"]["secureBoot"] is False
vols = {v["name"]: v for v in vm["spec"]["template"]["spec"]["volumes"]}
assert vols["containerdisk"]["containerDisk"]["image"] == "registry.lab.example/nixos-gpu:24.11"
ud = vols["cloudinitdisk"]["cloudInitNoCloud"]["userData"]
assert len(ud.encode()) <= 2048 and ud.startswith("#cloud-config\n")
assert ud == open(sys.argv[1].replace("vm.yaml", "cloud-init/user-data")).read()
'
	yaml "$TMP/c4140/kubevirt/permitted-host-devices.yaml" '
p = docs[0]["spec"]["configuration"]["permittedHostDevices"]["pciHostDevices"]
assert p == [{"pciVendorSelector": "10DE:1DB1", "resourceName": "nvidia.com/GV100GL_TESLA_V100_SXM2_16GB"}], p
'
	# the user-data a VM gets passes cloud-init's own schema check
	run cloud-init schema -c "$TMP/c4140/vms/c4140-gpu/cloud-init/user-data"
	assert_success
}

@test "vms: user-data over 2048 bytes goes to a Secret that cloudInitNoCloud names" {
	keys=""
	for i in $(seq 30); do
		keys="$keys\"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH2wm7QqTanHIO1uKo+GAb343G8aH9hi0A2R/M3nMLVI user$i\", "
	done
	sed "s|^    cloud_init:\$|    cloud_init:\n      ssh_authorized_keys: [${keys%, }]|" examples/c4140.yaml >"$TMP/big.yaml"
	cp examples/demo-cluster.key "$TMP/" && chmod 600 "$TMP/demo-cluster.key"
	mkdir -p "$TMP/images" && cp examples/images/nixos-gpu.qcow2 "$TMP/images/"
	"$PXEFORGE" build -q "$TMP/big.yaml" -o "$TMP/out"
	f="$TMP/out/vms/c4140-gpu/vm.yaml"
	[ "$(stat -c %s "$TMP/out/vms/c4140-gpu/cloud-init/user-data")" -gt 2048 ]
	yaml "$f" '
import base64
assert [d["kind"] for d in docs] == ["Secret", "VirtualMachine"], [d["kind"] for d in docs]
sec, vm = docs
vols = {v["name"]: v for v in vm["spec"]["template"]["spec"]["volumes"]}
ref = vols["cloudinitdisk"]["cloudInitNoCloud"]["secretRef"]["name"]
assert ref == sec["metadata"]["name"], (ref, sec["metadata"])
data = sec.get("stringData") or {k: base64.b64decode(v).decode() for k, v in sec["data"].items()}
assert data["userdata"] == open(sys.argv[1].replace("vm.yaml", "cloud-init/user-data")).read()
assert "userData" not in vols["cloudinitdisk"]["cloudInitNoCloud"]
'
}

@test "vms: hgx-h200: GPUs in gpus[], NVSwitches in hostDevices[], dedicated CPUs with guest NUMA" {
	build hgx-h200
	yaml "$TMP/hgx-h200/vms/hgx-h200-vm/vm.yaml" '
d = docs[-1]["spec"]["template"]["spec"]["domain"]
assert [g["deviceName"] for g in d["devices"]["gpus"]] == ["nvidia.com/GH100_H200_SXM_141GB"] * 8
assert [h["deviceName"] for h in d["devices"]["hostDevices"]] == ["nvidia.com/GH100_H100_NVSWITCH_LS10"] * 4
assert d["cpu"]["dedicatedCpuPlacement"] is True
assert d["cpu"]["numa"] == {"guestMappingPassthrough": {}}
assert d["memory"]["hugepages"]["pageSize"] == "1Gi"
'
	yaml "$TMP/hgx-h200/kubevirt/permitted-host-devices.yaml" '
p = docs[0]["spec"]["configuration"]["permittedHostDevices"]["pciHostDevices"]
assert [x["pciVendorSelector"] for x in p] == ["10DE:22A3", "10DE:2335"], p
'
}

@test "vms: build's containerdisk.tar is an OCI archive skopeo and umoci read: one disk/ file, 107:107, 0440" {
	build c4140
	a="$TMP/c4140/vms/c4140-gpu/containerdisk.tar"
	run skopeo inspect "oci-archive:$a"
	assert_success
	layer=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["Layers"][0])' <<<"$output")
	mkdir "$TMP/oci" && tar -xf "$a" -C "$TMP/oci"
	[ "sha256:$(sha256sum "$TMP/oci/blobs/sha256/${layer#sha256:}" | cut -d' ' -f1)" = "$layer" ]
	umoci unpack --image "$TMP/oci:24.11" "$TMP/bundle" >/dev/null
	run find "$TMP/bundle/rootfs" -mindepth 1 -printf '%P %U:%G %m\n'
	assert_output "disk 107:107 555
disk/disk.qcow2 107:107 440"
	cmp examples/images/nixos-gpu.qcow2 "$TMP/bundle/rootfs/disk/disk.qcow2"
	cmp examples/images/nixos-gpu.qcow2 "$TMP/c4140/vms/c4140-gpu/disk.qcow2"
	grep -q '"path": "vms/c4140-gpu/containerdisk.tar"' "$TMP/c4140/manifest.json"
}

@test "vms: a rebuild does not make the containerDisk again; a changed image does" {
	cp -r examples "$TMP/ex"
	chmod 600 "$TMP/ex/demo-cluster.key"
	"$PXEFORGE" build -q "$TMP/ex/c4140.yaml" -o "$TMP/out"
	before=$(stat -c %i.%Y "$TMP/out/vms/c4140-gpu/containerdisk.tar")
	run "$PXEFORGE" build "$TMP/ex/c4140.yaml" -o "$TMP/out"
	assert_output --regexp '\(0 rewritten\)$'
	[ "$(stat -c %i.%Y "$TMP/out/vms/c4140-gpu/containerdisk.tar")" = "$before" ]
	printf 'x' >>"$TMP/ex/images/nixos-gpu.qcow2"
	"$PXEFORGE" build -q "$TMP/ex/c4140.yaml" -o "$TMP/out"
	mkdir "$TMP/oci" && tar -xf "$TMP/out/vms/c4140-gpu/containerdisk.tar" -C "$TMP/oci"
	umoci unpack --image "$TMP/oci:24.11" "$TMP/bundle" >/dev/null
	cmp "$TMP/ex/images/nixos-gpu.qcow2" "$TMP/bundle/rootfs/disk/disk.qcow2"
}

@test "vms: the disk image is read once; the containerDisk is made from OUT's copy of it" {
	cp -r examples "$TMP/ex"
	chmod 600 "$TMP/ex/demo-cluster.key"
	# LeakSanitizer cannot run under ptrace
	ASAN_OPTIONS=detect_leaks=0 run strace -f -e trace=openat,open -o "$TMP/trace" \
		"$PXEFORGE" build -q "$TMP/ex/c4140.yaml" -o "$TMP/out"
	assert_success
	opened=$(grep -cE 'images/nixos-gpu\.qcow2", [^)]*\) = [0-9]' "$TMP/trace")
	[ "$opened" -eq 1 ] || fail "the image was opened $opened times: $(grep nixos-gpu "$TMP/trace")"
	grep -qE 'vms/c4140-gpu/disk\.qcow2", O_RDONLY[^)]*\) = [0-9]' "$TMP/trace" ||
		fail "the containerDisk was not made from OUT's disk.qcow2"
	mkdir "$TMP/oci" && tar -xf "$TMP/out/vms/c4140-gpu/containerdisk.tar" -C "$TMP/oci"
	umoci unpack --image "$TMP/oci:24.11" "$TMP/bundle" >/dev/null
	cmp "$TMP/ex/images/nixos-gpu.qcow2" "$TMP/bundle/rootfs/disk/disk.qcow2"
}

@test "vms: render --vm prints the VM's artifacts as build writes them" {
	build hgx-h200
	for t in libvirt:domain.xml opennebula:opennebula.tmpl kubevirt:vm.yaml; do
		run "$PXEFORGE" render examples/hgx-h200.yaml --vm hgx-h200-vm --target "${t%%:*}"
		assert_success
		[ "$output" = "$(cat "$TMP/hgx-h200/vms/hgx-h200-vm/${t#*:}")" ]
	done
	run "$PXEFORGE" render examples/hgx-h200.yaml --target permitted-host-devices
	assert_success
	[ "$output" = "$(cat "$TMP/hgx-h200/kubevirt/permitted-host-devices.yaml")" ]
}

@test "vms: render --target kubevirt --explain shows the memory breakdown" {
	run "$PXEFORGE" render examples/c4140.yaml --vm c4140-gpu --target kubevirt --explain
	assert_success
	assert_line --regexp '^  page tables +guest / 512 = 131072 Mi / 512 +256 Mi$'
	assert_line --regexp '^  VFIO .* 1024 Mi$'
	assert_line --regexp '^  requested +guest \+ overhead, up to whole Mi +132868 Mi$'
}

@test "vms: render refuses a vm.yaml that holds the VM's identity, and bad --vm use" {
	run "$PXEFORGE" render examples/c4140.yaml --vm c4140-gpu --target kubevirt
	assert_failure 2
	assert_line "pxeforge: vm.yaml of 'c4140-gpu' is not printed: its cloud-init user-data holds the VM's SSH host key and k3s password (build writes OUT/vms/c4140-gpu/vm.yaml with mode 0600; --explain prints the memory breakdown)"
	refute_output --partial 'PRIVATE KEY'
	run "$PXEFORGE" render examples/c4140.yaml --vm c4140-gp --target libvirt
	assert_failure 2
	assert_line "pxeforge: unknown VM 'c4140-gp' (did you mean 'c4140-gpu'?)"
	run "$PXEFORGE" render examples/c4140.yaml --target libvirt
	assert_failure 2
	assert_line "pxeforge: missing --vm for target 'libvirt'"
	run "$PXEFORGE" render examples/c4140.yaml --vm c4140-gpu --target libvirt --explain
	assert_failure 2
	assert_line "pxeforge: --explain goes with --target kubevirt"
	run "$PXEFORGE" render examples/c4140.yaml --host c4140 --target opennebula
	assert_failure 2
	assert_line "pxeforge: target 'opennebula' is a VM's: give --vm NAME, not --host"
	run "$PXEFORGE" render examples/rtx4070-workstation.yaml --vm ws-4070-vm --target kubevirt
	assert_failure 1
	assert_line "pxeforge: error: VM 'ws-4070-vm' has no KubeVirt VirtualMachine (give its disk a 'containerdisk')"
}
