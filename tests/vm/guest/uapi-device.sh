#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO uAPI, vfio-pci device fd: info, regions, config space, IRQ info, SET_IRQS bad input, reset.
# See docs/vfio-uapi.md for the errnos asserted.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

uapi_run "edu e1000e" vfio_uapi_device
