#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO uAPI, /dev/vfio/vfio: API version, extensions, SET_IOMMU.
# See docs/vfio-uapi.md for the errnos asserted.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

uapi_run "edu" vfio_uapi_container
