#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Security: an IOMMU without interrupt remapping lets a device's MSI
# writes forge host interrupts.  Type1 then refuses every group attach
# (VFIO_SET_IOMMU, GROUP_SET_CONTAINER onto a set container) with EPERM
# and says why in dmesg, unless vfio_iommu_type1's allow_unsafe_interrupts
# is set; with it, edu does DMA as usual.
# vm-stack: ours intree
# vm-boot: intremap-off
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

# The boot must really lack interrupt remapping: ECAP.IR is bit 3.
ecap=$(cat /sys/class/iommu/dmar0/intel-iommu/ecap) || fail "no dmar0 in sysfs"
[ $((0x$ecap & 0x8)) -eq 0 ] || fail "the IOMMU has interrupt remapping (ecap 0x$ecap): not an intremap-off boot"
log "ecap 0x$ecap: no interrupt remapping"

load_stack
param=/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts
[ -f "$param" ] || fail "$param missing"
assert_eq "$(cat "$param")" N "allow_unsafe_interrupts by default"

rc=0
uapi_run "edu e1000e" "vfio_type1_safety intremap" || rc=1
line=$(dmesg | grep -m1 'No interrupt remapping support.  Use the module param "allow_unsafe_interrupts"') ||
	fail "no dmesg line naming the missing interrupt remapping"
log "dmesg: $line"
exit $rc
