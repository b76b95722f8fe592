#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Security: a device cannot DMA outside its mappings.  edu writes to and
# reads from IOVAs that were unmapped (vfio_dma's blocked cases, reused),
# and writes to an IOVA that only another container (e1000e's) maps: the
# memory behind is unchanged and each blocked access is a DMAR fault.
# vm-stack: ours intree
# vm-timeout: 90
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

out=/tmp/security-dma.out
uapi_run "edu e1000e" \
	"vfio_dma test_write_to_unmapped_blocked test_read_from_unmapped_blocked" \
	"vfio_security test_dma_into_other_container" | tee "$out"
[ "${PIPESTATUS[0]}" -eq 0 ] || fail "a blocked-DMA case failed"
n=$(dmar_faults_check "$out" 4 | tail -n 1) || exit 1
log "$n blocked DMAs, each with its DMAR fault"
