#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-pci safety checks as Debian 6.1 makes them (tests/vm/progs/
# pci_safety.c): the MSI-X BAR's mmap policy and hidden table, BAR restore
# after the device lost its BARs behind VFIO's back, BAR mappings racing
# memory decode, INTx masked at enable, what the info ioctls write back.
# Then INTx masked at enable again with vfio-pci's nointxmask=1: the line
# requested exclusively, disabled (IRQF_NO_AUTOEN), masked at the
# interrupt controller.
# vm-stack: ours intree
# vm-timeout: 240
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

uapi_run "edu e1000e" pci_safety || exit 1

# vfio-pci again, with nointxmask=1 (read at module load on both stacks).
load_stack_with nointxmask
bdf=$(edu_bdf)
bind_vfio "$bdf"
rc=0
run_prog pci_safety test_intx_masked_at_enable_then_raise || rc=1
unbind_vfio "$bdf"
unload_stack
exit $rc
