#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build vfioscope's modules in this folder (a DKMS build tree, see
# dkms.conf) for the installed kernel $1:
#   build.sh KVER      the modules, with module BTF when /boot/vmlinuz-KVER
#                      holds the kernel's BTF (Debian's amd64 kernels do)
#   build.sh --clean   what a build leaves
#
# Debian's headers hold no vmlinux, and Kbuild's module BTF step needs one
# (pahole --btf_base vmlinux): the same private Kbuild tree as `make`'s,
# with the image's raw BTF as its vmlinux (kdir.sh).  Without it the
# modules still build and work; the tools then attach with raw_tp.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=scripts/kdir.sh
. "$here/kdir.sh"

clean() {
	rm -rf "$here/.kdir" "$here/.vmlinux.btf" "$here/.vmlinux.btf.elf"
	find "$here" \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o -name '*.mod.c' \
		-o -name '.*.cmd' -o -name modules.order -o -name Module.symvers \) -delete
}

if [ "${1:-}" = --clean ]; then
	clean
	exit 0
fi
kver=${1:?usage: build.sh KVER | --clean}
headers=/lib/modules/$kver/build
[ -d "$headers" ] || { echo "vfioscope: no headers for $kver ($headers)" >&2; exit 1; }

clean
kdir=$headers
if image_btf "/boot/vmlinuz-$kver" "$here/.vmlinux.btf"; then
	make_kdir "$headers" "$(readlink -f "$headers/scripts")" "$here/.vmlinux.btf" "$here/.kdir"
	kdir=$here/.kdir
else
	echo "vfioscope: building without module BTF: the tools will attach with raw_tp" >&2
fi
make -C "$kdir" M="$here" -j"$(nproc)" modules
