# shellcheck shell=bash
# Shared by tests/e2e/*.sh; source it. Kernel detection and profile
# templates for the boot test.

# e2e_kver: print the kernel version to boot: $E2E_KVER when set, else the
# newest version that has both /boot/vmlinuz-<kver> and
# /lib/modules/<kver>/modules.dep (the overlay's modules must match the
# kernel). Returns 1 (printing nothing) when there is none.
e2e_kver() {
	local k v best=""
	if [ -n "${E2E_KVER:-}" ]; then
		echo "$E2E_KVER"
		return 0
	fi
	for k in /boot/vmlinuz-*; do
		[ -f "$k" ] || continue
		v=${k#/boot/vmlinuz-}
		[ -f "/lib/modules/$v/modules.dep" ] || continue
		best=$(printf '%s\n%s\n' "$best" "$v" | sed '/^$/d' | sort -V | tail -n 1)
	done
	[ -n "$best" ] || return 1
	echo "$best"
}

# e2e_profile TEMPLATE MODULES_DIR CLUSTER_SECRET OUTFILE: the profile
# template with @MODULES_DIR@ and @CLUSTER_SECRET@ replaced. Returns 1 when
# the result still holds an @NAME@ placeholder (a template this does not
# know how to fill).
e2e_profile() {
	local line
	{
		while IFS= read -r line || [ -n "$line" ]; do
			line=${line//@MODULES_DIR@/$2}
			printf '%s\n' "${line//@CLUSTER_SECRET@/$3}"
		done <"$1"
	} >"$4" || return 1
	! grep -qE '@[A-Z_]+@' "$4"
}

# e2e_images SCRIPT: print "kernel NAME URL" and "initrd NAME URL" for each
# image line of a pxeforge host script, in script order.
e2e_images() {
	awk '($1 == "kernel" || $1 == "initrd") && $2 == "--name" { print $1, $3, $4 }' "$1"
}

# e2e_mac OUT HOST: the MAC whose OUT/hosts/<mac>.ipxe is OUT/HOST/netboot.ipxe
# (same bytes), with colons; the first one when the host has several.
e2e_mac() {
	local f m
	for f in "$1"/hosts/*.ipxe; do
		[ -f "$f" ] || continue
		if cmp -s "$f" "$1/$2/netboot.ipxe"; then
			m=${f##*/}
			m=${m%.ipxe}
			echo "${m//-/:}"
			return 0
		fi
	done
	return 1
}
