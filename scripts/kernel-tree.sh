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

# The bzImage holds the ELF vmlinux compressed: xz on 6.1, zstd on 6.12.
# Either magic can also occur by chance, so try each hit until one
# decompresses to an ELF file.
try_decompress() {
	local magic=$1 off
	shift
	for off in $(LC_ALL=C grep -obUaP "$magic" "$image" | cut -d: -f1); do
		tail -c +$((off + 1)) "$image" | "$@" 2>/dev/null >"$tmp/vmlinux.elf" || true
		readelf -h "$tmp/vmlinux.elf" >/dev/null 2>&1 && return 0
	done
	return 1
}

extract_vmlinux() {
	try_decompress '\xFD7zXZ\x00' xz -dc && return 0
	try_decompress '\x28\xB5\x2F\xFD' zstd -dcq && return 0
	die "could not find an xz- or zstd-compressed ELF in $image"
}

# Copy the raw bytes of the .BTF section (readelf gives offset and size).
cut_btf() {
	local line off size
	line=$(readelf -W -S "$tmp/vmlinux.elf" | sed -n 's/.*\] \.BTF \+PROGBITS \+[0-9a-f]\+ \([0-9a-f]\+\) \([0-9a-f]\+\).*/\1 \2/p')
	[ -n "$line" ] || die "$image has no .BTF section"
	read -r off size <<<"$line"
	dd if="$tmp/vmlinux.elf" of="$tmp/vmlinux.btf" iflag=skip_bytes,count_bytes \
		skip=$((16#$off)) count=$((16#$size)) status=none
	bpftool btf dump file "$tmp/vmlinux.btf" format raw >/dev/null ||
		die "extracted BTF does not parse"
}

extract_vmlinux
cut_btf
make_kdir "$headers" "$(readlink -f "$headers/scripts")" "$tmp/vmlinux.btf" "$tmp/kdir"
bpftool btf dump file "$tmp/vmlinux.btf" format c >"$tmp/vmlinux.h"

rm -rf "$out/kdir"
mv "$tmp/kdir" "$tmp/vmlinux.btf" "$tmp/vmlinux.h" "$out/"
echo "$kver" >"$out/kver"
