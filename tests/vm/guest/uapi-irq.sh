#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO uAPI, interrupts: edu's INTx (mask/unmask) and MSI, e1000e's MSI-X,
# each arriving on its eventfd, raised by the device itself.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

uapi_run "edu e1000e" vfio_irq
