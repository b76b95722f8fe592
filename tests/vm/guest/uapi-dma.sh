#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO uAPI, real DMA: edu round trips through IOVAs match byte for byte;
# DMA to or from what is not mapped is blocked, the memory behind it is
# unchanged (asserted by vfio_dma) and the IOMMU reports a DMAR fault for
# each blocked IOVA (asserted here, from dmesg).
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

out=/tmp/vfio_dma.out
uapi_run edu "vfio_dma" | tee "$out"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "vfio_dma failed"

# Each blocked DMA printed a marker; each must have its DMAR fault line.
dmar_faults_check "$out" 4 >/dev/null
