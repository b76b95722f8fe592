#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the POWER guest's initramfs for Debian's ppc64el kernel $1
# (6.1.0-NN-powerpc64le) into $6, with our modules cross-built in $2, the
# test-only modules of tests/kmod/ built in $3, the static test programs
# of tests/power/ in $4 and our tools cross-built in $5 (make
# tools-ppc64el).
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
#   /vfioscope/intree/kernel/... Debian's own VFIO stack (the reference the
#                                tests compare ours with): vfio, the SPAPR
#                                TCE backend, vfio-pci and their
#                                dependencies, and /vfioscope/intree/order
#   /vfioscope/test-modules/     the test-only modules (the iommu_ops shim)
#   /vfioscope/tests/            the test programs
#   /vfioscope/tools/            vfio-top, vfio-lat, vfio-leak, static,
#                                stripped (~1.2 MB each in the archive)
#   /vfioscope/vmlinux-min.btf   the BTF they relocate against (--btf):
#                                the kernel has none of its own
# and beside $6, vmlinux: the image package's uncompressed kernel, which
# is what qemu's pseries loads.
# boot-ppc64.sh appends the job (and the test scripts) as a second archive.
set -euo pipefail
[ $# -eq 6 ] || { echo "usage: mkinitramfs-ppc64.sh KVER MODDIR TESTMODDIR TESTSDIR TOOLDIR OUT" >&2; exit 2; }
kver=$1
moddir=$2
testmoddir=$3
testsdir=$4
tooldir=$5
out=$6
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
[ -n "$(find "$testmoddir" -name '*.ko' 2>/dev/null)" ] ||
	die "no modules in $testmoddir (make test-modules-ppc64el)"
[ -n "$(find "$testsdir" -maxdepth 1 -type f -executable 2>/dev/null)" ] ||
	die "no test programs in $testsdir (make tests-ppc64el)"
for f in $tools vmlinux-min.btf; do
	[ -r "$tooldir/$f" ] || die "no $tooldir/$f (make tools-ppc64el)"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
img=$tmp/img
mkdir -p "$img"/{bin,dev,proc,sys,tmp,lib/modules/"$kver"} \
	"$img"/vfioscope/{modules,intree,test-modules,tests,tools}

dpkg-deb --fsys-tarfile "$busybox_deb" | tar -xO ./bin/busybox >"$img/bin/busybox"
chmod 755 "$img/bin/busybox"
file -b "$img/bin/busybox" | grep -q 'PowerPC.*statically linked' ||
	die "$busybox_deb holds no static ppc64 busybox"
install -m 755 "$here/init-ppc64" "$img/init"

(cd "$moddir" && find . -name '*.ko' | cpio -pdm --quiet "$img/vfioscope/modules")
(cd "$testmoddir" && find . -name '*.ko' | cpio -pdm --quiet "$img/vfioscope/test-modules")
for t in "$testsdir"/*; do
	[ -f "$t" ] && [ -x "$t" ] || continue
	file -b "$t" | grep -q 'PowerPC.*statically linked' || die "$t is not a static ppc64 program"
	install -m 755 "$t" "$img/vfioscope/tests/"
done

# The debug info stays in the build folder: stripped, a tool is 2.8 MB
# instead of 3.1-4 MB.
for t in $tools; do
	file -b "$tooldir/$t" | grep -q 'PowerPC.*statically linked' ||
		die "$tooldir/$t is not a static ppc64 program"
	powerpc64le-linux-gnu-strip -o "$img/vfioscope/tools/$t" "$tooldir/$t"
done
cp "$tooldir/vmlinux-min.btf" "$img/vfioscope/"

# Debian's modules, each after everything it depends on, under a folder
# of the image with its own load order file.  No modules.dep in the
# package (depmod writes it at install), so "depends" is read from each .ko.
ours=" $(find "$moddir" -name '*.ko' -printf '%f\n' | sed 's/\.ko$//; s/-/_/g' | tr '\n' ' ')"
dpkg-deb -x "$image_deb" "$tmp/deb"
dmods=$tmp/deb/lib/modules/$kver/kernel
added=" "
add_debian() { # add_debian DEST NAME: NAME and what it depends on, into $img/DEST
	local dest=$1 name=$2 f dep rel
	case "$added" in *" $dest:$name "*) return ;; esac
	f=$(find "$dmods" -name "$name.ko" -o -name "${name//_/-}.ko" | head -n 1)
	[ -n "$f" ] || die "module $name is not in $image_deb"
	for dep in $(modinfo -F depends "$f" | tr , ' '); do
		add_debian "$dest" "${dep//-/_}"
	done
	added="$added$dest:$name "
	rel=kernel/${f#"$dmods"/}
	mkdir -p "$img/$dest/$(dirname "$rel")"
	cp "$f" "$img/$dest/$rel"
	echo "$rel" >>"$img/$dest/order"
}

# What our modules need from Debian (none today: Debian builds
# IRQ_BYPASS_MANAGER in).
: >"$img/lib/modules/$kver/order"
while read -r ko; do
	for dep in $(modinfo -F depends "$ko" | tr , ' '); do
		dep=${dep//-/_}
		case "$ours" in *" $dep "*) continue ;; esac
		add_debian "lib/modules/$kver" "$dep"
	done
done < <(find "$moddir" -name '*.ko')

# Debian's own stack, kept apart: it is loaded instead of ours, never with
# it (two SPAPR TCE backends would compete for the same groups).
: >"$img/vfioscope/intree/order"
for m in vfio vfio_iommu_spapr_tce vfio_pci_core vfio_pci; do
	add_debian vfioscope/intree "$m"
done

mkdir -p "$(dirname "$out")"
cp "$tmp/deb/boot/vmlinux-$kver" "$(dirname "$out")/vmlinux.tmp"
mv "$(dirname "$out")/vmlinux.tmp" "$(dirname "$out")/vmlinux"
(cd "$img" && find . | cpio -o -H newc --quiet -R 0:0 | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
