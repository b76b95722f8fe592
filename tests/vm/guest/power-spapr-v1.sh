#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# POWER (issue 13): the VFIO SPAPR TCE v1 backend with edu doing real DMA,
# on two stacks in one boot of the pseries guest: Debian's in-tree 6.1
# VFIO (the reference) and then ours.  Each stack is loaded, edu is bound
# to its vfio-pci, /vfioscope/tests/spapr_tce_v1 runs, and the stack is
# unbound and unloaded completely; the two outputs must be identical.
#
# Stock 6.1 binds no device to vfio-pci on POWER (no powerpc iommu_ops):
# the test-only shim /vfioscope/test-modules/power_iommu_shim.ko (tests/kmod)
# is loaded first, once, and stays (it cannot be unloaded).  It gives no
# isolation; the backend under test still owns the TCE table.
# Debian's vfio_iommu_spapr_tce never stays loaded beside ours: two SPAPR
# backends would compete for the group.  A busybox-sh script (POSIX).
# vm-stack: pseries
# vm-timeout: 90
set -u
name=power-spapr-v1
. "$VFIOSCOPE_ROOT/tests/vm/power-lib.sh"

prog=$PROGS/spapr_tce_v1
[ -x "$prog" ] || fail "no test program $prog (make tests-ppc64el vm-image-ppc64el)"

find_edu
load_shim
log "edu $edu in iommu group $(edu_group), shim $(basename "$(readlink "$dev/iommu")")"

rc_all=0
for stack in intree ours; do
	loaded=
	case $stack in
	intree) load_intree ;;
	ours) load_ours vfio.ko vfio_iommu_spapr_tce.ko pci/vfio-pci.ko ;;
	esac
	log "$stack: loaded $loaded"
	bind_edu
	"$prog" "$stack" >"/tmp/spapr-$stack.out" 2>&1
	rc=$?
	sed "s/^/[$stack] /" "/tmp/spapr-$stack.out"
	[ $rc -eq 0 ] || { echo "FAIL: $stack: spapr_tce_v1 exit status $rc"; rc_all=1; }
	unbind_edu
	unload_all
	[ ! -e /dev/vfio/vfio ] || fail "$stack: /dev/vfio/vfio still there after unloading"
	log "$stack: unloaded"
done

if ! diff -u /tmp/spapr-intree.out /tmp/spapr-ours.out >/tmp/spapr.diff; then
	cat /tmp/spapr.diff
	fail "ours differs from Debian's in-tree SPAPR TCE v1 (diff above)"
fi
[ $rc_all -eq 0 ] || fail "spapr_tce_v1 failed (see above)"
log "both stacks identical"
