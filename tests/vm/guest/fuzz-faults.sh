#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The fuzzer with every fault point armed at once (alloc 1 in 7, pin 1 in
# 5, iommu_map 1 in 11, eventfd 1 in 3, pci_config 1 in 13): the error
# paths run concurrently, from several threads and processes, under the
# same checks as fuzz-short (no kernel complaint, VmLck 0 in every
# fuzzing process, FOLL_PIN balanced, objects back to 0, modules unload).
# vm-stack: ours
# vm-timeout: 150
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

F=/sys/kernel/debug/vfio/fault
load_stack
[ -d $F ] || fail "no $F"
for p in alloc:7 pin:5 iommu_map:11 eventfd:3 pci_config:13; do
	echo 0 >$F/${p%:*}/injected
	echo "${p#*:}" >$F/${p%:*}/every
	echo 100000000 >$F/${p%:*}/times
done
# -D: vfio_fuzz disarms every point once its processes are done (before
# its own clean-up and our checks) and fails if one was never hit.
FUZZ_FLAGS=-D fuzz_run "${FUZZ_SEED:-0x5eedfa17}" "${FUZZ_OPS:-100000}" 3 2
