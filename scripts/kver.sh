#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The Debian *-amd64 kernels we build for, by the ABI name of each one
# installed with its headers and image:
#   kver.sh          the newest 6.1: the default KVER (the BPF objects'
#                    vmlinux.h, the ppc64el kernel of the same ABI)
#   kver.sh --all    the newest of each supported series, 6.1 first
#   kver.sh --series 6.12   the newest of that series
# The ABI number moves with Debian updates (6.1.0-56-amd64, 6.12.117+deb12-amd64,
# ...): never hard-code it.
set -euo pipefail
supported="6.1 6.12"

newest() {
	local d
	for d in /lib/modules/"$1".*-amd64; do
		[ -d "/usr/src/linux-headers-${d##*/}" ] && [ -r "/boot/vmlinuz-${d##*/}" ] &&
			echo "${d##*/}"
	done | sort -V | tail -n 1
}

case ${1:-} in
"") newest 6.1 ;;
--all) for s in $supported; do newest "$s"; done ;;
--series) newest "$2" ;;
*) echo "usage: kver.sh [--all | --series 6.1|6.12]" >&2; exit 2 ;;
esac
