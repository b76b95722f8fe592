#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# POWER (issue 13): our cross-built vfio.ko and vfio-pci.ko, with the
# Debian ppc64el modules they need, load into Debian's own ppc64el kernel
# on qemu's pseries machine, register their tracepoints, see QEMU's edu,
# and unload.  A busybox-sh script: the POWER guest runs no host binary
# (tests/vm/boot-ppc64.sh).  Binding edu to vfio-pci and DMA through it
# are power-spapr-v1's (with the test-only iommu_ops shim stock 6.1 needs).
# guest-run.sh checks dmesg for WARNING/BUG/Oops afterwards.
# vm-stack: pseries
# vm-timeout: 60
set -u
name=power-modules
. "$VFIOSCOPE_ROOT/tests/vm/power-lib.sh"

log "kernel $kver on $(uname -m), $(grep -m1 '^cpu' /proc/cpuinfo | tr -s '\t ' ' ')"
case $kver in *-powerpc64le) ;; *) fail "not the ppc64el kernel: $kver" ;; esac
[ -d "$MODDIR" ] || fail "no module folder $MODDIR"

# The Debian modules ours need (mkinitramfs-ppc64.sh), in load order.
load_debian_deps

# The machine's own IOMMU backend must not be there to compete.
[ ! -d /sys/module/vfio_iommu_spapr_tce ] || fail "Debian's vfio_iommu_spapr_tce is loaded"

for ko in vfio.ko pci/vfio-pci.ko; do
	[ -f "$MODDIR/$ko" ] || fail "$MODDIR/$ko missing"
	insmod "$MODDIR/$ko" || fail "insmod $ko failed"
done
for pair in vfio:vfio.ko vfio_pci:pci/vfio-pci.ko; do
	m=${pair%%:*} ko=$MODDIR/${pair#*:}
	[ -d "/sys/module/$m" ] || fail "/sys/module/$m missing after insmod"
	got=$(modfield vermagic "$ko")
	case "$got" in "$kver SMP "*) ;; *) fail "$m vermagic '$got' is not for $kver" ;; esac
	# Ours, not Debian's: the srcversion the kernel took is the file's.
	if [ -f "/sys/module/$m/srcversion" ]; then
		[ "$(cat "/sys/module/$m/srcversion")" = "$(modfield srcversion "$ko")" ] ||
			fail "/sys/module/$m is not the module we inserted"
	fi
	log "$m loaded, vermagic $got"
done
[ -c /dev/vfio/vfio ] || fail "/dev/vfio/vfio did not appear"
log "/dev/vfio/vfio $(stat -c %t:%T /dev/vfio/vfio)"
[ "$(stat -c %t:%T /dev/vfio/vfio)" = a:c4 ] || fail "/dev/vfio/vfio is not 10:196"

# Our tracepoints, through tracefs (init mounts it; debugfs as fallback).
ev=/sys/kernel/tracing/events/vfio
[ -d "$ev" ] || ev=/sys/kernel/debug/tracing/events/vfio
[ -d "$ev" ] || fail "no events/vfio in tracefs"
n=0
for t in "$ev"/*/; do [ -f "$t/format" ] && n=$((n + 1)); done
[ "$n" -ge 10 ] || fail "only $n vfio tracepoints: $(ls "$ev" | tr '\n' ' ')"
for t in vfio_container_open vfio_group_open vfio_device_open vfio_dma_map vfio_ref_get; do
	[ -f "$ev/$t/format" ] || fail "tracepoint vfio:$t missing (have: $(ls "$ev" | tr '\n' ' '))"
done
# Enabling one works on this kernel (ftrace on ppc64 with mprofile-kernel).
echo 1 >"$ev/enable" || fail "cannot enable the vfio events"
echo 0 >"$ev/enable"
log "$n vfio tracepoints"

# QEMU's edu: vendor 0x1234, device 0x11e8.
find_edu
log "edu at $edu, iommu_group $(basename "$(readlink "/sys/bus/pci/devices/$edu/iommu_group" 2>/dev/null)" 2>/dev/null)"

rmmod vfio_pci || fail "rmmod vfio_pci failed"
rmmod vfio || fail "rmmod vfio failed"
for m in vfio vfio_pci; do
	[ ! -d "/sys/module/$m" ] || fail "/sys/module/$m still there after rmmod"
done
[ ! -d "$ev" ] || fail "events/vfio still there after rmmod"
log "unloaded"
