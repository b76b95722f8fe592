#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# POWER (issue 13): the external-user API where KVM on PPC64 used it.  On
# our stack with the SPAPR TCE v1 backend and edu (under the test-only
# iommu_ops shim, as in power-spapr-v1.sh), the KVM-like consumer module
# (kernel/testing/vfio_consumer.ko) borrows the group:
# /vfioscope/tests/external_user checks the IOMMU id it learns (what KVM
# links to a LIOBN) and that the container, its TCEs and its locked memory
# live exactly as long as the consumer holds them.  Ours only: 6.1 has no
# external-user API.  A busybox-sh script (POSIX).
# vm-stack: pseries
# vm-timeout: 60
set -u

fail() { echo "FAIL: $*"; exit 1; }
log() { echo "power-external-user: $*"; }

kver=$(uname -r)
prog=/vfioscope/tests/external_user
shim=/vfioscope/test-modules/power_iommu_shim.ko
[ -x "$prog" ] || fail "no test program $prog (make tests-ppc64el vm-image-ppc64el)"

edu=
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor" 2>/dev/null)" = 0x1234 ] &&
		[ "$(cat "$d/device" 2>/dev/null)" = 0x11e8 ] && edu=${d##*/}
done
[ -n "$edu" ] || fail "no edu (1234:11e8) in /sys/bus/pci/devices"
dev=/sys/bus/pci/devices/$edu

# The shim stays loaded once in (it cannot be unloaded).
[ -d /sys/module/power_iommu_shim ] || insmod "$shim" || fail "insmod $shim failed"
for m in $(cat "/lib/modules/$kver/order"); do
	[ -d "/sys/module/$(basename "$m" .ko | tr - _)" ] ||
		insmod "/lib/modules/$kver/$m" || fail "insmod Debian's $m failed"
done
for ko in vfio.ko vfio_iommu_spapr_tce.ko pci/vfio-pci.ko testing/vfio_consumer.ko; do
	[ -f "$MODDIR/$ko" ] || fail "$MODDIR/$ko missing"
	insmod "$MODDIR/$ko" || fail "insmod $ko failed"
done
[ -c /dev/vfio-consumer ] || fail "/dev/vfio-consumer did not appear"
echo vfio-pci >"$dev/driver_override"
echo "$edu" >/sys/bus/pci/drivers_probe
[ "$(basename "$(readlink "$dev/driver")")" = vfio-pci ] || fail "edu did not bind to vfio-pci"
log "edu $edu in iommu group $(basename "$(readlink "$dev/iommu_group")")"

"$prog"
rc=$?

echo "$edu" >/sys/bus/pci/drivers/vfio-pci/unbind || fail "unbind failed"
echo >"$dev/driver_override"
for m in vfio_consumer vfio_pci vfio_iommu_spapr_tce vfio; do
	rmmod "$m" || fail "rmmod $m failed"
done
[ $rc -eq 0 ] || fail "external_user exit status $rc"
log "the consumer held the container and its TCEs until it let go"
