# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# Sourced by scripts/kernel-tree*.sh: the private Kbuild tree they share.
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
