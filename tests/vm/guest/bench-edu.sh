#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bench itself: edu is there, in its own IOMMU group, behind a
# translating (DMA) default domain of the emulated Intel IOMMU; the MSI-X
# device is there too.
# vm-stack: ours intree
# vm-timeout: 30
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

bdf=$(edu_bdf)
assert_eq "$(cat /sys/bus/pci/devices/$bdf/class)" 0x00ff00 "edu class"
group=$(iommu_group_of "$bdf")
log "edu at $bdf, iommu group $group"
assert_eq "$(ls /sys/kernel/iommu_groups/$group/devices)" "$bdf" "devices in edu's group"
# DMA-FQ is DMA with a flush queue: both translate.
case $(cat /sys/kernel/iommu_groups/$group/type) in
DMA | DMA-FQ) ;;
*) fail "edu's default domain does not translate: $(cat /sys/kernel/iommu_groups/$group/type)" ;;
esac
grep -q 'DMAR.*IOMMU enabled\|DMAR: Intel(R) Virtualization Technology for Directed I/O' <(dmesg) ||
	[ -d /sys/class/iommu/dmar0 ] || fail "no DMAR unit"

msix=$(e1000e_bdf)
pci_has_cap "$bdf" 0x05 || fail "edu has no MSI capability"
pci_has_cap "$msix" 0x11 || fail "e1000e has no MSI-X capability"
[ "$(iommu_group_of "$msix")" != "$group" ] || fail "e1000e shares edu's IOMMU group"
# edu's BAR0 is 1 MiB of MMIO.
read -r start end _ < <(head -n 1 "/sys/bus/pci/devices/$bdf/resource")
assert_eq $((end - start + 1)) $((1 << 20)) "edu BAR0 size"
