#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO uAPI, /dev/vfio/N: status, container, device fds, one open at a time.
# See docs/vfio-uapi.md for the errnos asserted.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

# lib.sh's edu_nonviable_bdf fails the test when the bench has none.
nv=$(edu_nonviable_bdf) || exit 1
log "non-viable group: $nv"
edu_nonviable_bdf() { echo "$nv"; }
uapi_run "edu e1000e edu_nonviable" vfio_uapi_group
