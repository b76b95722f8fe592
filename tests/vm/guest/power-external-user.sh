#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# POWER (issue 13): the external-user API where KVM on PPC64 used it.  On
# our stack with the SPAPR TCE v1 backend and edu (under the test-only
# iommu_ops shim, as in power-spapr-v1.sh), the KVM-like consumer module
# (kernel/testing/vfio_consumer.ko) borrows the group:
# /vfioscope/tests/external_user checks the IOMMU id it learns (what KVM
# links to a LIOBN) and that the container, its TCEs and its locked memory
# live exactly as long as the consumer holds them.  Ours only: 6.1 has no
# external-user API.  A busybox-sh script (POSIX).
# vm-stack: pseries
# vm-timeout: 60
set -u
name=power-external-user
. "$VFIOSCOPE_ROOT/tests/vm/power-lib.sh"

prog=$PROGS/external_user
[ -x "$prog" ] || fail "no test program $prog (make tests-ppc64el vm-image-ppc64el)"

find_edu
load_shim
load_ours vfio.ko vfio_iommu_spapr_tce.ko pci/vfio-pci.ko testing/vfio_consumer.ko
[ -c /dev/vfio-consumer ] || fail "/dev/vfio-consumer did not appear"
bind_edu
log "edu $edu in iommu group $(edu_group)"

"$prog"
rc=$?

unbind_edu
unload_all
[ $rc -eq 0 ] || fail "external_user exit status $rc"
log "the consumer held the container and its TCEs until it let go"
