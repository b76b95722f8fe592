#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the test VM's initramfs for kernel $1 into $2: static busybox, our
# init, and the modules needed to mount the host's / over virtio-9p.
#
# Which modules that is depends on the kernel: 6.1 has virtio and
# virtio_pci as modules and fscache beside netfs; 6.12 builds virtio in
# and folds fscache into netfs.  So we name only what the init needs and
# take the rest from the kernel's own modules.builtin and modules.dep:
# a built-in one is skipped, a module brings its dependencies first, and
# one that is neither stops the build with the reason.
set -euo pipefail
kver=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
moddir=/lib/modules/$kver

# What init needs: the virtio transport of the 9p share, 9p itself and
# the overlay that makes the read-only share writable.
needed=(virtio_pci 9pnet_virtio 9p overlay)

die() { echo "mkinitramfs: $*" >&2; exit 1; }
[ -r "$moddir/modules.dep" ] || die "$moddir/modules.dep missing: is $kver installed?"
[ -r "$moddir/modules.builtin" ] || die "$moddir/modules.builtin missing: is $kver installed?"

# Module names treat - and _ alike; paths in modules.dep and
# modules.builtin are relative to $moddir, with .ko (6.1) or .ko.xz (6.12).
norm() { local n=${1##*/}; n=${n%%.ko*}; echo "${n//-/_}"; }
declare -A builtin=() dep_line=()
while read -r p; do
	builtin[$(norm "$p")]=1
done <"$moddir/modules.builtin"
while IFS= read -r line; do
	p=${line%%:*}
	dep_line[$(norm "$p")]=$line
done <"$moddir/modules.dep"

# resolve NAME [WHO]: append NAME's module file to $order after its own
# dependencies (depth first, each once).
declare -A seen=()
order=()
resolve() {
	local name want p
	name=$(norm "$1")
	[ -z "${seen[$name]:-}" ] || return 0
	seen[$name]=1
	if [ -n "${builtin[$name]:-}" ]; then
		echo "mkinitramfs: $name is built into $kver, nothing to load" >&2
		return 0
	fi
	[ -n "${dep_line[$name]:-}" ] ||
		die "$name${2:+ (needed by $2)} is neither built into $kver ($moddir/modules.builtin) nor a module in $moddir/modules.dep"
	want=${dep_line[$name]}
	for p in ${want#*:}; do
		resolve "$p" "$name"
	done
	p=${want%%:*}
	[ -r "$moddir/$p" ] || die "$name: $moddir/$p is in modules.dep but not on disk"
	order+=("$p")
}
for m in "${needed[@]}"; do
	resolve "$m"
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,dev,proc,sys,mnt,lib/modules}
cp /bin/busybox "$tmp/bin/busybox"
cp "$here/init" "$tmp/init"
chmod +x "$tmp/init"
# busybox insmod reads plain ELF only: decompress (6.12's are .ko.xz).
: >"$tmp/lib/modules/order"
for p in "${order[@]}"; do
	f=$moddir/$p
	m=$(norm "$p")
	case $f in
	*.xz) xz -dc "$f" >"$tmp/lib/modules/$m.ko" ;;
	*.zst) zstd -qdc "$f" >"$tmp/lib/modules/$m.ko" ;;
	*.gz) gzip -dc "$f" >"$tmp/lib/modules/$m.ko" ;;
	*) cp "$f" "$tmp/lib/modules/$m.ko" ;;
	esac
	echo "$m" >>"$tmp/lib/modules/order"
done
echo "mkinitramfs: $kver loads: $(tr '\n' ' ' <"$tmp/lib/modules/order")" >&2
mkdir -p "$(dirname "$out")"
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
