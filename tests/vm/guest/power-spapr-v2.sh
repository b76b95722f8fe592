#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# POWER (issue 13): the VFIO SPAPR TCE v2 backend (memory pre-registration,
# DDW windows) with edu doing real DMA, on two stacks in one boot of the
# powernv guest (IODA2, the only platform with the table-group ops v2
# needs): Debian's in-tree 6.1 VFIO (the reference) and then ours.  Each
# stack is loaded, edu is bound to its vfio-pci,
# /vfioscope/tests/spapr_tce_v2 runs, and the stack is unbound and
# unloaded completely; the two outputs must be identical.  The twin of
# power-spapr-v1.sh (pseries), which has the same shape.
#
# Stock 6.1 binds no device to vfio-pci on POWER (no powerpc iommu_ops):
# the test-only shim /vfioscope/test-modules/power_iommu_shim.ko (tests/kmod)
# is loaded first, once, and stays (it cannot be unloaded).  It gives no
# isolation; the backend under test still owns the TCE table.
# Debian's vfio_iommu_spapr_tce never stays loaded beside ours: two SPAPR
# backends would compete for the group.  A busybox-sh script (POSIX).
# vm-stack: powernv
# vm-timeout: 150
set -u
name=power-spapr-v2
. "$VFIOSCOPE_ROOT/tests/vm/power-lib.sh"

prog=$PROGS/spapr_tce_v2
[ -x "$prog" ] || fail "no test program $prog (make tests-ppc64el vm-image-ppc64el)"

find_edu
load_shim
log "edu $edu in iommu group $(edu_group), shim $(basename "$(readlink "$dev/iommu")")"

# 6.1 WARNs twice on what spapr_tce_v2 does, both its own bugs (see
# spapr_tce_v2.c): vzalloc(0) for a REGISTER_MEMORY of size 0, and at the
# process's exit destroy_context() on the region UNREGISTER lost.  Those
# two and nothing else; then the log is cleared, so that guest-run.sh's
# check after the test judges ours alone.
intree_dmesg() {
	dmesg >/tmp/spapr-intree.dmesg
	grep -q 'WARNING:.* at mm/vmalloc.c:[0-9]* __vmalloc_node_range' /tmp/spapr-intree.dmesg ||
		fail "intree: no vmalloc WARN for REGISTER_MEMORY of size 0: not the 6.1 it was measured on?"
	grep -q 'WARNING:.* at arch/powerpc/mm/book3s64/mmu_context.c:[0-9]* destroy_context' /tmp/spapr-intree.dmesg ||
		fail "intree: no destroy_context WARN for the lost region: not the 6.1 it was measured on?"
	other=$(grep -E 'WARNING:|BUG:|Oops|refcount_t:|list_(add|del) corruption' /tmp/spapr-intree.dmesg |
		grep -v -e '__vmalloc_node_range' -e 'destroy_context')
	[ -z "$other" ] || fail "intree: the kernel complained: $other"
	log "intree: 6.1's two WARNs seen, as expected (vmalloc of 0, destroy_context)"
	dmesg -c >/dev/null
}

# Ours runs with its vfio events on: v2's own (vfio_spapr_prereg,
# vfio_spapr_window) and the DMA ones, emitted from every path the
# program takes, errors included; their counts are the program's calls.
tr=/sys/kernel/tracing
trace_on() {
	[ -d $tr/events/vfio ] || fail "ours: no vfio events in $tr"
	echo 8192 >$tr/buffer_size_kb
	echo >$tr/trace
	echo 1 >$tr/events/vfio/enable || fail "ours: cannot enable the vfio events"
}

trace_check() {
	echo 0 >$tr/events/vfio/enable
	cat $tr/trace >/tmp/spapr-ours.trace
	# The calls of spapr_tce_v2.c that get past the argument copy (the
	# events' "ret" has the rest), and the release's teardown unmaps.
	for want in vfio_spapr_prereg=18 vfio_spapr_window=19 vfio_dma_map=31 \
		    vfio_dma_unmap=20; do
		ev=${want%=*}
		n=$(grep -c " $ev: " /tmp/spapr-ours.trace)
		[ "$n" = "${want#*=}" ] || fail "ours: $n $ev events, want ${want#*=}"
		log "ours: $ev: $n events"
	done
	grep -E ' vfio_spapr_(prereg|window): ' /tmp/spapr-ours.trace |
		sed 's/.* \(vfio_spapr_[a-z]*: \)/\1/; s/ total_ns=.*//'
	grep -q 'LOST\|entries-in-buffer.*overrun' /tmp/spapr-ours.trace &&
		fail "ours: the trace buffer lost events"
}

rc_all=0
for stack in intree ours; do
	loaded=
	case $stack in
	intree) load_intree ;;
	ours) load_ours vfio.ko vfio_iommu_spapr_tce.ko pci/vfio-pci.ko ;;
	esac
	log "$stack: loaded $loaded"
	bind_edu
	[ $stack = ours ] && trace_on
	"$prog" "$stack" >"/tmp/spapr-$stack.out" 2>&1
	rc=$?
	[ $stack = ours ] && trace_check
	sed "s/^/[$stack] /" "/tmp/spapr-$stack.out"
	[ $rc -eq 0 ] || { echo "FAIL: $stack: spapr_tce_v2 exit status $rc"; rc_all=1; }
	[ $stack = intree ] && intree_dmesg
	unbind_edu
	unload_all
	[ ! -e /dev/vfio/vfio ] || fail "$stack: /dev/vfio/vfio still there after unloading"
	log "$stack: unloaded"
done

if ! diff -u /tmp/spapr-intree.out /tmp/spapr-ours.out >/tmp/spapr.diff; then
	cat /tmp/spapr.diff
	fail "ours differs from Debian's in-tree SPAPR TCE v2 (diff above)"
fi
[ $rc_all -eq 0 ] || fail "spapr_tce_v2 failed (see above)"
log "both stacks identical"
