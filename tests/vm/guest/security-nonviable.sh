#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Security: a non-viable group (the bench's second edu shares its group
# with a virtio-rng on virtio_pci) cannot be used, alone or by joining a
# working container; and while a group is in use, a host driver cannot
# bind to its other device.
# vm-stack: ours intree
# vm-timeout: 60
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

nv=$(edu_nonviable_bdf) || exit 1
log "non-viable group: $nv ($(iommu_group_of "$nv"))"
eval "edu_nonviable_bdf() { echo $nv; }"
uapi_run "edu edu_nonviable" "vfio_security test_nonviable_cannot_be_used test_host_driver_cannot_join"
