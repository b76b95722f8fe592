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

fail() { echo "FAIL: $*"; exit 1; }
log() { echo "power-spapr-v2: $*"; }

kver=$(uname -r)
prog=/vfioscope/tests/spapr_tce_v2
shim=/vfioscope/test-modules/power_iommu_shim.ko
intree=/vfioscope/intree
[ -x "$prog" ] || fail "no test program $prog (make tests-ppc64el vm-image-ppc64el)"

# modinfo of busybox wants a modules.dep: read the .ko's .modinfo instead.
modfield() { tr '\000' '\n' <"$2" | sed -n "s/^$1=//p" | head -n 1; }
modname() { basename "$1" .ko | tr - _; }

# insmod FILE and check that /sys/module/NAME is that file's module.
load() {
	m=$(modname "$1")
	[ ! -d "/sys/module/$m" ] || fail "$m is loaded already, before $1"
	insmod "$1" || fail "insmod $1 failed"
	[ -d "/sys/module/$m" ] || fail "/sys/module/$m missing after insmod $1"
	if [ -f "/sys/module/$m/srcversion" ]; then
		[ "$(cat "/sys/module/$m/srcversion")" = "$(modfield srcversion "$1")" ] ||
			fail "/sys/module/$m is not the module in $1"
	fi
	loaded="$m $loaded"
}

unload_all() {
	for m in $loaded; do
		rmmod "$m" || fail "rmmod $m failed"
		[ ! -d "/sys/module/$m" ] || fail "/sys/module/$m still there after rmmod"
	done
	loaded=
}

# QEMU's edu: vendor 0x1234, device 0x11e8.
edu=
for d in /sys/bus/pci/devices/*; do
	[ -e "$d" ] || continue
	if [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ]; then
		edu=${d##*/}
	fi
done
[ -n "$edu" ] || fail "no edu (1234:11e8) in /sys/bus/pci/devices"
dev=/sys/bus/pci/devices/$edu
group_of() { basename "$(readlink "$dev/iommu_group")"; }
group=$(group_of)
[ -n "$group" ] || fail "edu $edu is in no iommu group: not the powernv platform's IODA2 PE?"

# The shim: edu goes back into the same platform group, now with an IOMMU.
if [ ! -d /sys/module/power_iommu_shim ]; then
	loaded=
	load "$shim"
	loaded= # permanent: never unloaded
fi
[ "$(group_of)" = "$group" ] || fail "edu moved from iommu group $group to $(group_of) under the shim"
[ -e "$dev/iommu" ] || fail "edu has no iommu link: the shim did not probe it"
log "edu $edu in iommu group $group, shim $(basename "$(readlink "$dev/iommu")")"

bind() {
	echo vfio-pci >"$dev/driver_override" || fail "driver_override failed"
	echo "$edu" >/sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink "$dev/driver")")" = vfio-pci ] ||
		fail "$1: edu did not bind to vfio-pci (driver: $(basename "$(readlink "$dev/driver" 2>/dev/null)" 2>/dev/null)); dmesg: $(dmesg | tail -n 3 | tr '\n' ' ')"
	[ -c "/dev/vfio/$group" ] || fail "$1: no /dev/vfio/$group"
}

unbind() {
	echo "$edu" >/sys/bus/pci/drivers/vfio-pci/unbind || fail "$1: unbind failed"
	echo >"$dev/driver_override"
	[ ! -e "$dev/driver" ] || fail "$1: edu still bound after unbind"
}

load_intree() {
	[ -f "$intree/order" ] || fail "no $intree/order in the image"
	for ko in $(cat "$intree/order"); do
		load "$intree/$ko"
	done
}

# Ours, with the Debian modules ours need (mkinitramfs-ppc64.sh) first.
load_ours() {
	[ -f "$MODDIR/vfio_iommu_spapr_tce.ko" ] ||
		fail "ours: our SPAPR TCE backend $MODDIR/vfio_iommu_spapr_tce.ko is missing (kernel/vfio_iommu_spapr_tce.c not built)"
	for ko in $(cat "/lib/modules/$kver/order"); do
		load "/lib/modules/$kver/$ko"
	done
	for ko in vfio.ko vfio_iommu_spapr_tce.ko pci/vfio-pci.ko; do
		load "$MODDIR/$ko"
	done
}

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
	ours)
		[ ! -d /sys/module/vfio_iommu_spapr_tce ] ||
			fail "Debian's vfio_iommu_spapr_tce is still loaded"
		load_ours
		;;
	esac
	log "$stack: loaded $loaded"
	bind "$stack"
	[ $stack = ours ] && trace_on
	"$prog" "$stack" >"/tmp/spapr-$stack.out" 2>&1
	rc=$?
	[ $stack = ours ] && trace_check
	sed "s/^/[$stack] /" "/tmp/spapr-$stack.out"
	[ $rc -eq 0 ] || { echo "FAIL: $stack: spapr_tce_v2 exit status $rc"; rc_all=1; }
	[ $stack = intree ] && intree_dmesg
	unbind "$stack"
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
