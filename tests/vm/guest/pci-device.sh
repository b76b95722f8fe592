#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-pci, the device side: edu BAR0 by pread and mmap, config space
# virtualization (BAR/ROM sizing, virtual BARs, memory decode, MSI owned by
# the driver), reset of e1000e.
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

uapi_run "edu e1000e" pci_device
