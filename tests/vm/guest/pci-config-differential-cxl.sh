#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# pci-config-differential on the CXL type 3 device: its extended
# capabilities (a DSN, three abutting DVSECs, a DOE mailbox) through
# Debian's in-tree vfio-pci and through ours, in one boot, must read and
# write alike.
# vm-kernel: 6.1 6.12
# vm-stack: ours
# vm-boot: cxl
# vm-timeout: 300
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

config_differential cxl_type3
