#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install every Debian package vfioscope needs.  Idempotent, and silent when
# everything is present.  Must run as root on Debian 12 (bookworm).
set -euo pipefail

packages=(
	# build: modules with BTF, BPF objects, skeletons, static tools, for
	# both kernel series Debian 12 users run: 6.1, and 6.12 from
	# bookworm-security (the series Debian 13 runs)
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	build-essential clang llvm
	libbpf-dev bpftool dwarves libelf-dev zlib1g-dev xz-utils zstd binutils
	# make deb, and the guest test that installs its packages
	# (tests/vm/guest/packages.sh: DKMS builds there, strace watches the
	# exporter's system calls)
	debhelper dh-dkms dkms lintian strace
	# vfio-exporter's HTTP server (linked dynamically: Debian's security
	# updates reach it without a rebuild)
	libmicrohttpd-dev
	# the VM test bench
	qemu-system-x86 busybox-static cpio kmod
	# tools the guest tests drive (the guest sees the host's userland)
	linux-perf trace-cmd bpftrace prometheus gnuplot-nox python3 python3-yaml curl
	# cross-building the modules for Debian's ppc64el 6.1 kernel (amd64
	# packages: the toolchain runs here; the ppc64el kernel packages are
	# fetched below, never installed)
	gcc-powerpc64le-linux-gnu libc6-dev-ppc64el-cross
	# the POWER guest (tests/vm/boot-ppc64.sh): qemu-system-ppc64, pseries
	# firmware (VOF) comes with qemu-system-data
	qemu-system-ppc
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "deps: missing packages: ${missing[*]}; run 'make deps' as root" >&2
		exit 1
	fi
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# The VM boots its own initramfs: skip update-initramfs (~60 s per kernel).
	export INITRD=No
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's ppc64el kernel packages of the same ABI, for `make
# modules-ppc64el`: downloaded into a cache, never installed.
"$(dirname "$0")/ppc64el-debs.sh"
