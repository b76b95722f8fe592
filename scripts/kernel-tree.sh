#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Prepare a private Kbuild tree for Debian kernel $1 in $2 such that
# out-of-tree modules get module BTF, and dump vmlinux.h from the same BTF.
#
# Debian ships no vmlinux, so Kbuild skips the "BTF [M]" step.  That step
# only needs a file called vmlinux holding the base BTF (pahole --btf_base
# accepts raw BTF), so we cut the .BTF section out of the booted image and
# place it in a copy of the headers tree.  The result is identical to
# `pahole -J --btf_base` against the real vmlinux.
#
# Outputs:  $2/kdir/          the Kbuild tree (make -C $2/kdir M=...)
#           $2/vmlinux.btf    raw base BTF of that kernel
#           $2/vmlinux.h      BPF CO-RE header from that BTF
set -euo pipefail
# shellcheck source=scripts/kdir.sh
. "$(dirname "$0")/kdir.sh"

kver=$1
out=$2
headers=/usr/src/linux-headers-$kver
image=/boot/vmlinuz-$kver

die() { echo "kernel-tree: $*" >&2; exit 1; }
[ -d "$headers" ] || die "no headers for $kver in $headers (make deps)"
[ -r "$image" ] || die "no kernel image $image (make deps)"

mkdir -p "$out"
tmp=$(mktemp -d "$out/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

image_btf "$image" "$tmp/vmlinux.btf" || die "no usable BTF in $image"
bpftool btf dump file "$tmp/vmlinux.btf" format raw >/dev/null ||
	die "extracted BTF does not parse"
make_kdir "$headers" "$(readlink -f "$headers/scripts")" "$tmp/vmlinux.btf" "$tmp/kdir"
bpftool btf dump file "$tmp/vmlinux.btf" format c >"$tmp/vmlinux.h"

rm -rf "$out/kdir"
mv "$tmp/kdir" "$tmp/vmlinux.btf" "$tmp/vmlinux.h" "$out/"
echo "$kver" >"$out/kver"
