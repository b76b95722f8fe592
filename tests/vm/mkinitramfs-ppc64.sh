#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the POWER guest's initramfs for Debian's ppc64el kernel $1
# (6.1.0-NN-powerpc64le) into $4, with our modules cross-built in $2 and
# our tools cross-built in $3 (make tools-ppc64el).
#
# The guest cannot run this host's amd64 binaries, so unlike the amd64
# guest it does not mount the host's / over 9p: everything it needs is in
# the image, and its jobs are busybox-sh scripts.
#   /bin/busybox                 busybox-static ppc64el (the cache of
#                                scripts/ppc64el-debs.sh)
#   /init                        tests/vm/init-ppc64
#   /vfioscope/modules/...       our *.ko for that kernel, as built
#   /lib/modules/$1/kernel/...   the Debian modules ours depend on, found
#                                from the modules' "depends" (none today:
#                                Debian builds IRQ_BYPASS_MANAGER in), and
#                                /lib/modules/$1/order, their load order
#   /vfioscope/tools/            vfio-top, vfio-lat, vfio-leak, static,
#                                stripped (~1.2 MB each in the archive)
#   /vfioscope/vmlinux-min.btf   the BTF they relocate against (--btf):
#                                the kernel has none of its own
# and beside $4, vmlinux: the image package's uncompressed kernel, which
# is what qemu's pseries loads.
# boot-ppc64.sh appends the job (and the test scripts) as a second archive.
set -euo pipefail
kver=$1
moddir=$2
tooldir=$3
out=$4
tools="vfio-top vfio-lat vfio-leak"
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
abi=${kver%-powerpc64le}
die() { echo "mkinitramfs-ppc64: $*" >&2; exit 1; }
[ "$abi" != "$kver" ] || die "$kver is not a *-powerpc64le kernel"

debs() { KVER=$abi-amd64 "$root/scripts/ppc64el-debs.sh" --path "$1"; }
image_deb=$(debs image) || exit 1
busybox_deb=$(debs busybox) || exit 1
[ -n "$(find "$moddir" -name '*.ko' 2>/dev/null)" ] || die "no modules in $moddir (make modules-ppc64el)"
for f in $tools vmlinux-min.btf; do
	[ -r "$tooldir/$f" ] || die "no $tooldir/$f (make tools-ppc64el)"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
img=$tmp/img
mkdir -p "$img"/{bin,dev,proc,sys,tmp,vfioscope/modules,vfioscope/tools,lib/modules/"$kver"}

dpkg-deb --fsys-tarfile "$busybox_deb" | tar -xO ./bin/busybox >"$img/bin/busybox"
chmod 755 "$img/bin/busybox"
file -b "$img/bin/busybox" | grep -q 'PowerPC.*statically linked' ||
	die "$busybox_deb holds no static ppc64 busybox"
install -m 755 "$here/init-ppc64" "$img/init"

(cd "$moddir" && find . -name '*.ko' | cpio -pdm --quiet "$img/vfioscope/modules")

# The debug info stays in the build folder: stripped, a tool is 2.8 MB
# instead of 3.1-4 MB.
for t in $tools; do
	file -b "$tooldir/$t" | grep -q 'PowerPC.*statically linked' ||
		die "$tooldir/$t is not a static ppc64 program"
	powerpc64le-linux-gnu-strip -o "$img/vfioscope/tools/$t" "$tooldir/$t"
done
cp "$tooldir/vmlinux-min.btf" "$img/vfioscope/"

# Debian's modules our modules need, and theirs, in load order (a module
# after everything it depends on).  No modules.dep in the package (depmod
# writes it at install), so "depends" is read from each .ko.
ours=" $(find "$moddir" -name '*.ko' -printf '%f\n' | sed 's/\.ko$//; s/-/_/g' | tr '\n' ' ')"
dpkg-deb -x "$image_deb" "$tmp/deb"
dmods=$tmp/deb/lib/modules/$kver/kernel
: >"$img/lib/modules/$kver/order"
added=" "
add_debian() { # add_debian NAME: NAME and what it depends on
	local name=$1 f dep
	case "$added" in *" $name "*) return ;; esac
	f=$(find "$dmods" -name "$name.ko" -o -name "${name//_/-}.ko" | head -n 1)
	[ -n "$f" ] || die "module $name, needed by ours, is not in $image_deb"
	for dep in $(modinfo -F depends "$f" | tr , ' '); do
		add_debian "${dep//-/_}"
	done
	added="$added$name "
	mkdir -p "$img/lib/modules/$kver/kernel/$(dirname "${f#"$dmods"/}")"
	cp "$f" "$img/lib/modules/$kver/kernel/${f#"$dmods"/}"
	echo "kernel/${f#"$dmods"/}" >>"$img/lib/modules/$kver/order"
}
while read -r ko; do
	for dep in $(modinfo -F depends "$ko" | tr , ' '); do
		dep=${dep//-/_}
		case "$ours" in *" $dep "*) continue ;; esac
		add_debian "$dep"
	done
done < <(find "$moddir" -name '*.ko')

mkdir -p "$(dirname "$out")"
cp "$tmp/deb/boot/vmlinux-$kver" "$(dirname "$out")/vmlinux.tmp"
mv "$(dirname "$out")/vmlinux.tmp" "$(dirname "$out")/vmlinux"
(cd "$img" && find . | cpio -o -H newc --quiet -R 0:0 | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
