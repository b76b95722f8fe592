#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare a private Kbuild tree for Debian's ppc64el kernel $1
# (6.1.0-NN-powerpc64le) in $2, for cross-building our modules with module
# BTF from this amd64 host, and dump vmlinux.h from the same BTF.  The
# packages come from the cache scripts/ppc64el-debs.sh fills (make deps).
#
# As on amd64 (scripts/kernel-tree.sh), Kbuild's module BTF step only needs
# a file called vmlinux holding the base BTF.  Debian's ppc64el 6.1 kernel
# is built without CONFIG_DEBUG_INFO_BTF, so its vmlinux has no .BTF
# section: we encode the base BTF from the DWARF of the same build (the -dbg
# package's vmlinux, checked against the image by build ID) with the
# pahole flags Kbuild would use, and turn on the module BTF step in the
# tree's include/config/auto.conf.  Only that make-level switch changes:
# autoconf.h, and so every compiled line, stays Debian's.
#
# The kernel itself has no BTF: it neither loads module BTF nor offers
# tp_btf or fentry.  The BTF serves user space (vmlinux.h, CO-RE with a
# custom BTF path) and keeps the modules' types described as on amd64.
#
# The headers are those of the ppc64el package; their scripts link points
# at linux-kbuild-6.1, whose amd64 host tools (fixdep, modpost) we use.
# Their Makefile includes /usr/src/linux-headers-6.1.0-NN-common/Makefile,
# the arch-independent package the amd64 headers already installed.
#
# Outputs:  $2/kdir/          the Kbuild tree (make -C $2/kdir M=... ARCH=powerpc ...)
#           $2/vmlinux.btf    raw base BTF of that kernel
#           $2/vmlinux.h      BPF CO-RE header from that BTF
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/kdir.sh
. "$here/kdir.sh"

kver=$1
out=$2
abi=${kver%-powerpc64le}
die() { echo "kernel-tree-ppc64el: $*" >&2; exit 1; }
[ "$abi" != "$kver" ] || die "$kver is not a *-powerpc64le kernel"

debs() { KVER=$abi-amd64 "$here/ppc64el-debs.sh" --path "$1"; }
image_deb=$(debs image) || exit 1
headers_deb=$(debs headers) || exit 1
dwarf=$(debs dwarf) || exit 1

mkdir -p "$out"
tmp=$(mktemp -d "$out/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

build_id() {
	readelf -n "$1" | sed -n 's/^ *Build ID: *//p'
}

# The DWARF must be that of the very kernel in the image package.
check_dwarf() {
	local want got
	dpkg-deb --fsys-tarfile "$image_deb" |
		tar -xO "./boot/vmlinux-$kver" >"$tmp/vmlinux.image"
	readelf -h "$tmp/vmlinux.image" | grep -q 'Machine: *PowerPC64' ||
		die "/boot/vmlinux-$kver in $image_deb is not a PowerPC64 ELF"
	want=$(build_id "$tmp/vmlinux.image")
	got=$(build_id "$dwarf")
	if [ -z "$want" ] || [ "$want" != "$got" ]; then
		die "build ID of $dwarf ($got) is not the image's ($want)"
	fi
	rm -f "$tmp/vmlinux.image"
}

# Encode the base BTF as link-vmlinux.sh would, with Kbuild's own flags
# but one thread: pahole's -j orders types differently from run to run, and
# the same DWARF should always give the same base (~12 s).
encode_btf() {
	local flags=() f
	for f in $(PAHOLE=pahole "$scripts/pahole-flags.sh"); do
		[ "$f" = -j ] || flags+=("$f")
	done
	pahole -J "${flags[@]}" --btf_encode_detached="$tmp/vmlinux.btf" "$dwarf" >/dev/null ||
		die "pahole could not encode BTF from $dwarf"
	chmod 644 "$tmp/vmlinux.btf"
	bpftool btf dump file "$tmp/vmlinux.btf" format raw >/dev/null ||
		die "encoded BTF does not parse"
}

dpkg-deb -x "$headers_deb" "$tmp/deb"
headers=$tmp/deb/usr/src/linux-headers-$kver
[ -L "$headers/scripts" ] || die "$headers_deb has no scripts link"
# Resolve the package's relative scripts link as installed under /usr/src.
scripts=$(realpath -m "/usr/src/linux-headers-$kver/$(readlink "$headers/scripts")")
common=$(sed -n 's|^include \(/usr/src/linux-headers-.*-common\)/Makefile$|\1|p' "$headers/Makefile")
[ -f "$common/Makefile" ] || die "the headers include $common/Makefile, which is missing (make deps)"

check_dwarf
encode_btf
make_kdir "$headers" "$scripts" "$tmp/vmlinux.btf" "$tmp/kdir"
grep -q '^CONFIG_DEBUG_INFO_BTF_MODULES=' "$tmp/kdir/include/config/auto.conf" ||
	echo 'CONFIG_DEBUG_INFO_BTF_MODULES=y' >>"$tmp/kdir/include/config/auto.conf"
bpftool btf dump file "$tmp/vmlinux.btf" format c >"$tmp/vmlinux.h"

rm -rf "$out/kdir"
mv "$tmp/kdir" "$tmp/vmlinux.btf" "$tmp/vmlinux.h" "$out/"
echo "$kver" >"$out/kver"
