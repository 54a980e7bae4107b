#!/usr/bin/env bash
# Build the e2e test's base initrd: a static busybox with a link for each of
# its applets and tests/e2e/init as /init, as a gzip-compressed newc cpio.
# Test scaffolding, not part of pxeforge: the kernel modules and their
# modprobe configuration come from pxeforge's overlay, loaded after this.
#
#   tests/e2e/mkinitrd.sh OUTFILE
#
# Deterministic: sorted entries, owner 0:0, every mtime 0, gzip -n.
# Environment: BUSYBOX (default: busybox on PATH; must be static, as from
# Debian's busybox-static). Exit 0 ok, 2 usage, 3 a tool or input is missing.
set -u

die() { echo "mkinitrd: $*" >&2; exit 3; }

[ $# -eq 1 ] || { echo "usage: $0 OUTFILE" >&2; exit 2; }
out=$1
here=$(cd "$(dirname "$0")" && pwd) || exit 3

for tool in cpio gzip find sort; do
	command -v "$tool" >/dev/null 2>&1 || die "'$tool' not found (scripts/deps.sh installs it)"
done
bb=${BUSYBOX:-$(command -v busybox 2>/dev/null)}
if [ -z "$bb" ] || [ ! -x "$bb" ]; then
	die "busybox not found (install busybox-static; scripts/deps.sh does)"
fi
# A dynamically linked busybox cannot run in an initrd without its libraries.
if ldd "$bb" >/dev/null 2>&1; then
	die "'$bb' is dynamically linked; install busybox-static"
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pxeforge-mkinitrd.XXXXXX") || exit 3
trap 'rm -rf "$work"' EXIT
root=$work/root

mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,tmp,etc,run,var,lib/modules} || exit 3
cp "$bb" "$root/bin/busybox" || exit 3
chmod 0755 "$root/bin/busybox"
"$bb" --list-full >"$work/applets" || die "'$bb --list-full' failed"
while IFS= read -r applet; do
	[ -n "$applet" ] || continue
	[ "$applet" = bin/busybox ] && continue
	mkdir -p "$root/$(dirname "$applet")"
	# Relative to / so the link works wherever the applet sits.
	ln -sf /bin/busybox "$root/$applet"
done <"$work/applets"
[ -e "$root/bin/sh" ] || ln -s /bin/busybox "$root/bin/sh"
install -m 0755 "$here/init" "$root/init" || exit 3

tmp_out="$work/initrd.cpio.gz"
(
	cd "$root" || exit 3
	find . -exec touch -h -d @0 {} +
	find . -mindepth 1 -printf '%P\n' | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0 --reproducible
) | gzip -n -9 >"$tmp_out"
status=("${PIPESTATUS[@]}")
if [ "${status[0]}" -ne 0 ] || [ "${status[1]}" -ne 0 ]; then
	die "cpio/gzip failed"
fi
mv -f "$tmp_out" "$out" || die "cannot write '$out'"
