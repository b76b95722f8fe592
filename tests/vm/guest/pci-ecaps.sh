#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-pci's extended config space on a CXL type 3 device: the list with
# the capabilities in-tree hides unlinked, read-only headers and DSN,
# DVSEC registers and gaps written through.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-boot: cxl
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

uapi_run "cxl_type3" pci_ecaps
