#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the test VM's initramfs for kernel $1 into $2: static busybox, our
# init, and the 6.1 modules needed to mount the host's / over virtio-9p.
set -euo pipefail
kver=$1
out=$2
here=$(cd "$(dirname "$0")" && pwd)
mods=/lib/modules/$kver/kernel

# Load order matters: each needs the ones before it.
modules=(
	drivers/virtio/virtio_ring drivers/virtio/virtio
	drivers/virtio/virtio_pci_modern_dev drivers/virtio/virtio_pci_legacy_dev
	drivers/virtio/virtio_pci fs/netfs/netfs fs/fscache/fscache
	net/9p/9pnet net/9p/9pnet_virtio fs/9p/9p fs/overlayfs/overlay
)

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp"/{bin,dev,proc,sys,mnt,lib/modules}
cp /bin/busybox "$tmp/bin/busybox"
cp "$here/init" "$tmp/init"
chmod +x "$tmp/init"
for m in "${modules[@]}"; do
	f=$(ls "$mods/$m".ko* 2>/dev/null | head -n 1)
	[ -n "$f" ] || { echo "mkinitramfs: $mods/$m.ko missing" >&2; exit 1; }
	case $f in
	*.xz) xz -dc "$f" >"$tmp/lib/modules/${m##*/}.ko" ;;
	*.zst) zstd -qdc "$f" >"$tmp/lib/modules/${m##*/}.ko" ;;
	*) cp "$f" "$tmp/lib/modules/${m##*/}.ko" ;;
	esac
	echo "${m##*/}" >>"$tmp/lib/modules/order"
done
mkdir -p "$(dirname "$out")"
(cd "$tmp" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
mv "$out.tmp" "$out"
