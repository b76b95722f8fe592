#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-pci interrupts end to end: edu MSI and INTx (automask, mask/unmask,
# COMMAND.INTX_DISABLE), e1000e MSI-X on each of its 5 vectors, REQ.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

uapi_run "edu e1000e" pci_irqs
