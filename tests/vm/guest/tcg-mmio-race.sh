#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The bench itself: QEMU 7.2's multi-threaded TCG can send a vCPU's MMIO
# access to the wrong memory region while the other vCPU changes the
# memory map; a lost IOTLB-flush write wedged the VT-d invalidation queue
# on both stacks (docs/reliability.md, finding 6).  tcg_mmio_race toggles a
# bystander edu's memory decode on CPU 1 while CPU 0 flushes the IOTLB
# (VFIO map+unmap of edu), then while CPU 0 reads e1000e's STATUS through
# a VFIO BAR mmap.  The bench boots single-threaded TCG, so both must run
# to the end on both stacks with no wrong read; with VM_TCG=multi the
# flush run reproduces the hang (an RCU stall in qi_submit_sync).
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

secs=${TCG_RACE_SECONDS:-15}
load_stack
bystander=$(edu_nonviable_bdf)
bdfs=("$(edu_bdf)" "$(e1000e_bdf)")
for bdf in "${bdfs[@]}"; do
	bind_vfio "$bdf"
done
log "toggling $bystander's memory decode on CPU 1"
for mode in ${TCG_RACE_MODES:-flush read}; do
	run_prog tcg_mmio_race "$bystander" "$secs" "$mode" || fail "tcg_mmio_race $mode failed"
done
for bdf in "${bdfs[@]}"; do
	unbind_vfio "$bdf"
done
unload_stack
