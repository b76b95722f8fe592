#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO uAPI, /dev/vfio/N: status, container, device fds, one open at a time.
# See docs/vfio-uapi.md for the errnos asserted.
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

# An edu other than the first whose IOMMU group also holds a device bound
# to a host driver (edu and, say, virtio-rng behind a PCIe-to-PCI bridge).
# Bound to vfio-pci it makes a non-viable group for test_nonviable_group.
# tests/vm/boot.sh always provides one: not finding it is a failure.
edu_nonviable_bdf() {
	local first d g o drv
	first=$(edu_bdf)
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] || continue
		[ "${d##*/}" != "$first" ] || continue
		g=$(readlink "$d/iommu_group") || continue
		for o in /sys/kernel/iommu_groups/${g##*/}/devices/*; do
			drv=$(basename "$(readlink "$o/driver")" 2>/dev/null)
			case $drv in
			"" | vfio-pci | pcieport) ;;
			*) echo "${d##*/}"; return 0 ;;
			esac
		done
	done
	return 1
}

nv=$(edu_nonviable_bdf) || fail "no edu in a group with a host-driven device (see tests/vm/boot.sh)"
log "non-viable group: $nv"
edu_nonviable_bdf() { echo "$nv"; }
uapi_run "edu e1000e edu_nonviable" vfio_uapi_group
