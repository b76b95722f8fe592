#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Fetch Debian's ppc64el 6.1 kernel for the same ABI (6.1.0-NN) and version
# as the installed amd64 6.1 kernel, for cross-building our modules
# (scripts/kernel-tree-ppc64el.sh).  Idempotent: once the files are in the
# cache, a rerun touches no network.
#
#   scripts/ppc64el-debs.sh          fetch what is missing (root)
#   scripts/ppc64el-debs.sh --dir    print the cache folder of this ABI
#   scripts/ppc64el-debs.sh --path image|headers|dwarf|busybox|sysroot
#                                    print that file's (folder's) path, or
#                                    say which is missing and exit 1
#
# The cache folder then holds
#   linux-image-$ABI-powerpc64le_*.deb     the kernel (/boot/vmlinux-*) and modules
#   linux-headers-$ABI-powerpc64le_*.deb   the Kbuild headers
#   vmlinux-dbg                            the DWARF vmlinux of that build
#   busybox-static_*_ppc64el.deb           the POWER guest's userland
#                                          (tests/vm/mkinitramfs-ppc64.sh)
#   sysroot/usr/{include,lib/powerpc64le-linux-gnu}
#                                          libbpf, libelf and zlib, headers
#                                          and static archives, from their
#                                          -dev packages: the tools are
#                                          cross-built statically against
#                                          them (Makefile, tools-ppc64el)
# The last one comes from linux-image-$ABI-powerpc64le-dbg (720 MB; only
# that file of it is kept): Debian builds its ppc64el 6.1 kernel without
# CONFIG_DEBUG_INFO_BTF, so its vmlinux has no .BTF to take, and the base
# BTF for module BTF is encoded from this DWARF instead.
#
# Only `apt-get download`, through a private apt configuration: its own
# state and cache, ppc64el the only architecture.  The system's dpkg never
# hears of ppc64el (adding it as a foreign architecture and installing a
# ppc64el header package would remove gcc, clang and the amd64 headers).
# The cache is /var/cache/vfioscope (VFIOSCOPE_CACHE), outside build/:
# `make clean` keeps it, so the build works offline once deps has run.
set -euo pipefail

die() { echo "ppc64el-debs: $*" >&2; exit 1; }

here=$(cd "$(dirname "$0")" && pwd)
cache=${VFIOSCOPE_CACHE:-/var/cache/vfioscope}
kver=${KVER:-$("$here/kver.sh" 2>/dev/null || true)}
[ -n "$kver" ] || die "no Debian 6.1 *-amd64 kernel installed (make deps)"
abi=${kver%-amd64}
dir=$cache/ppc64el/$abi

if [ "${1:-}" = --dir ]; then
	echo "$dir"
	exit 0
fi

# The Debian version of that ABI, from the arch-independent headers the
# amd64 headers depend on (the ppc64el headers include their Makefile):
# the ppc64el packages must be the same build.
version=$(dpkg-query -W -f='${Version}' "linux-headers-$abi-common" 2>/dev/null) ||
	die "linux-headers-$abi-common is not installed (make deps)"

if [ "${1:-}" = --path ]; then
	case ${2:-} in
	image) f=$dir/linux-image-$abi-powerpc64le_${version}_ppc64el.deb ;;
	headers) f=$dir/linux-headers-$abi-powerpc64le_${version}_ppc64el.deb ;;
	dwarf) f=$dir/vmlinux-dbg ;;
	busybox) f=$(ls "$dir"/busybox-static_*_ppc64el.deb 2>/dev/null | tail -n 1) ;;
	sysroot)
		f=$dir/sysroot
		[ -r "$f/.complete" ] || die "no ppc64el libbpf/libelf/zlib in $f (make deps)"
		;;
	*) die "--path image|headers|dwarf|busybox|sysroot, not '${2:-}'" ;;
	esac
	[ -n "$f" ] && [ -r "$f" ] || die "no ${f:-busybox-static ppc64el} in $dir (make deps)"
	echo "$f"
	exit 0
fi
debs=("linux-image-$abi-powerpc64le" "linux-headers-$abi-powerpc64le")
dbg=linux-image-$abi-powerpc64le-dbg

have_debs() {
	local p
	for p in "${debs[@]}"; do
		dpkg-deb -f "$dir/${p}_${version}_ppc64el.deb" Package >/dev/null 2>&1 || return 1
	done
}
# Not readelf | grep -q: grep leaving at the match would kill readelf
# with SIGPIPE, which pipefail counts as a failure.
have_dbg() { local s; s=$(readelf -S -W "$dir/vmlinux-dbg" 2>/dev/null) && [[ $s == *' .debug_info '* ]]; }
# busybox-static is not tied to the kernel's version: whichever the
# archive has, fetched once.
have_busybox() {
	local f
	for f in "$dir"/busybox-static_*_ppc64el.deb; do
		[ "$(dpkg-deb -f "$f" Architecture 2>/dev/null)" = ppc64el ] && return 0
	done
	return 1
}
# The -dev packages of what the tools link statically: not tied to the
# kernel either, the archive's candidates.  Extracted only, never
# installed; .complete lists the packages once every one is in.
sysroot_debs=(libbpf-dev libelf-dev zlib1g-dev)
have_sysroot() {
	local p
	for p in "${sysroot_debs[@]}"; do
		grep -qx "$p" "$dir/sysroot/.complete" 2>/dev/null || return 1
	done
}
have_all() { have_debs && have_dbg && have_busybox && have_sysroot; }
have_all && exit 0

[ "$(id -u)" -eq 0 ] || die "missing ppc64el files in $dir; run 'make deps' as root"

apt=$cache/ppc64el/apt
mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$dir"
cat >"$apt/apt.conf" <<CONF
Dir::State "$apt/state";
Dir::State::status "$apt/state/status";
Dir::Cache "$apt/cache";
Dir::Etc::SourceList "/etc/apt/sources.list";
Dir::Etc::SourceParts "/etc/apt/sources.list.d";
APT::Architectures { "ppc64el"; };
CONF
export APT_CONFIG=$apt/apt.conf

# One fetcher at a time per cache (two worktrees may run deps together).
exec 9>"$apt/lock"
flock 9
have_all && exit 0
: >"$apt/state/status"
apt-get update -qq
tmp=$(mktemp -d "$dir/.tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# apt downloads as its sandbox user: let it write there.
! id _apt >/dev/null 2>&1 || chown _apt "$tmp"

# download PACKAGE [VERSION]: the kernel's version unless told otherwise
# ("" for the archive's candidate).
download() {
	local want=${2-$version}
	echo "ppc64el-debs: fetching $1 ${want:-(candidate)} into $dir"
	(cd "$tmp" && apt-get download -qq "$1:ppc64el${want:+=$want}") ||
		die "apt-get download $1:ppc64el${want:+=$want} failed"
}

if ! have_debs; then
	for p in "${debs[@]}"; do
		download "$p"
	done
	mv "$tmp"/*.deb "$dir/"
	have_debs || die "downloaded packages are not the expected ${debs[*]} $version"
fi
if ! have_dbg; then
	download "$dbg"
	dpkg-deb --fsys-tarfile "$tmp/${dbg}_${version}_ppc64el.deb" |
		tar -xO "./usr/lib/debug/boot/vmlinux-$abi-powerpc64le" >"$tmp/vmlinux-dbg"
	mv "$tmp/vmlinux-dbg" "$dir/vmlinux-dbg"
	have_dbg || die "$dbg holds no DWARF vmlinux"
fi
if ! have_busybox; then
	download busybox-static ""
	mv "$tmp"/busybox-static_*_ppc64el.deb "$dir/"
	have_busybox || die "busybox-static for ppc64el did not arrive"
fi
if ! have_sysroot; then
	rm -rf "$tmp/sysroot"
	for p in "${sysroot_debs[@]}"; do
		download "$p" ""
		dpkg-deb -x "$tmp/${p}_"*_ppc64el.deb "$tmp/sysroot"
	done
	for a in libbpf.a libelf.a libz.a; do
		[ -f "$tmp/sysroot/usr/lib/powerpc64le-linux-gnu/$a" ] ||
			die "no $a in ${sysroot_debs[*]} for ppc64el"
	done
	printf '%s\n' "${sysroot_debs[@]}" >"$tmp/sysroot/.complete"
	rm -rf "$dir/sysroot"
	mv "$tmp/sysroot" "$dir/sysroot"
fi
