#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO uAPI, Type1: GET_INFO, MAP/UNMAP_DMA, locked_vm and RLIMIT_MEMLOCK.
# See docs/vfio-uapi.md for the errnos asserted.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

uapi_run "edu" vfio_uapi_type1
