#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the newest installed Debian 6.1 *-amd64 kernel that has headers.
# The ABI number moves with Debian updates (6.1.0-56-amd64, ...): never
# hard-code it.
set -euo pipefail
for d in /lib/modules/6.1.*-amd64; do
	[ -d "/usr/src/linux-headers-${d##*/}" ] && [ -r "/boot/vmlinuz-${d##*/}" ] &&
		echo "${d##*/}"
done | sort -V | tail -n 1
