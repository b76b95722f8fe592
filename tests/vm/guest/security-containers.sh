#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Security: one container cannot unmap another's mappings.  Process B
# (e1000e's container) unmaps A's IOVA range, everything, and UNMAP_ALL:
# size 0 each time; A's mapping still carries edu's DMA; B cannot open
# A's group to join its container.
# vm-stack: ours intree
# vm-timeout: 60
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

uapi_run "edu e1000e" "vfio_security test_unmap_other_container"
