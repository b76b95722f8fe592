# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by scripts/kernel-tree*.sh and the DKMS build (dist/dkms/build.sh):
# the private Kbuild tree they share, and the base BTF it is made from.
#
# make_kdir HEADERS SCRIPTS BTF KDIR: a copy of the Debian headers tree
# HEADERS in KDIR, with the raw base BTF file BTF as its "vmlinux" (Kbuild's
# module BTF step, pahole --btf_base vmlinux, needs nothing else of a
# vmlinux).  SCRIPTS is the linux-kbuild package's scripts/ folder, which
# holds host binaries (fixdep, modpost): it and each entry of its sibling
# tools/ are linked by absolute path.
make_kdir() {
	local headers=$1 scripts=$2 btf=$3 k=$4 f
	[ -d "$scripts" ] || { echo "kdir: no $scripts (make deps)" >&2; return 1; }
	mkdir -p "$k/tools"
	for f in .config .kernelvariables Makefile Module.symvers; do
		cp "$headers/$f" "$k/"
	done
	cp -a "$headers/arch" "$headers/include" "$k/"
	ln -s "$scripts" "$k/scripts"
	for f in "$(dirname "$scripts")/tools"/*; do
		ln -s "$f" "$k/tools/"
	done
	# Debian ships no resolve_btfids; modules have no .BTF_ids to patch.
	mkdir -p "$k/tools/bpf/resolve_btfids"
	printf '#!/bin/sh\nexit 0\n' >"$k/tools/bpf/resolve_btfids/resolve_btfids"
	chmod +x "$k/tools/bpf/resolve_btfids/resolve_btfids"
	cp "$btf" "$k/vmlinux"
}

# image_btf IMAGE OUT: the raw base BTF of the Debian kernel image IMAGE
# (/boot/vmlinuz-*), written to OUT; 1, saying why, when it has none.
# The bzImage holds the ELF vmlinux compressed: xz on 6.1, zstd on 6.12.
# Either magic can also occur by chance, so each hit is tried until one
# decompresses to an ELF file; then the .BTF section's bytes are copied
# (readelf gives offset and size).
image_btf() {
	local image=$1 out=$2 elf=$2.elf magic off line size
	for magic in '\xFD7zXZ\x00:xz -dc' '\x28\xB5\x2F\xFD:zstd -dcq'; do
		for off in $(LC_ALL=C grep -obUaP "${magic%%:*}" "$image" | cut -d: -f1); do
			tail -c +$((off + 1)) "$image" | ${magic#*:} 2>/dev/null >"$elf" || true
			readelf -h "$elf" >/dev/null 2>&1 && break 2
		done
	done
	if ! readelf -h "$elf" >/dev/null 2>&1; then
		rm -f "$elf"
		echo "kdir: no xz- or zstd-compressed ELF in $image" >&2
		return 1
	fi
	line=$(readelf -W -S "$elf" | sed -n 's/.*\] \.BTF \+PROGBITS \+[0-9a-f]\+ \([0-9a-f]\+\) \([0-9a-f]\+\).*/\1 \2/p')
	if [ -z "$line" ]; then
		rm -f "$elf"
		echo "kdir: $image has no .BTF section" >&2
		return 1
	fi
	read -r off size <<<"$line"
	dd if="$elf" of="$out" iflag=skip_bytes,count_bytes \
		skip=$((16#$off)) count=$((16#$size)) status=none
	rm -f "$elf"
}
