#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO uAPI, interrupts: edu's INTx (mask/unmask, the unmask eventfd) and
# MSI, e1000e's MSI-X, each arriving on its eventfd, raised by the device
# itself.  Then edu's INTx cases again with vfio-pci's nointxmask=1: the
# line masked at the interrupt controller, and unmasked there from the
# unmask eventfd's wake-up, in atomic context.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

uapi_run "edu e1000e" vfio_irq || exit 1

load_stack_with nointxmask
bdf=$(edu_bdf)
bind_vfio "$bdf"
rc=0
run_prog vfio_irq test_edu_intx test_edu_intx_unmask_eventfd || rc=1
unbind_vfio "$bdf"
unload_stack
exit $rc
