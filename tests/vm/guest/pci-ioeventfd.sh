#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO_DEVICE_IOEVENTFD (tests/vm/progs/pci_ioeventfd.c): edu's liveness
# register written on an eventfd's signal, every errno, 1000 per device,
# e1000e's MSI-X table refused, the device's close releasing them, the
# teardown races (with the INTx unmask eventfd's too).  On
# ours, with the vfio_ioeventfd event on: every successful registration
# has its removal (fd -1 or the close), and the first is the one asked.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 180
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

T=/sys/kernel/tracing
ev=$T/events/vfio/vfio_ioeventfd
load_stack
edu=$(edu_bdf)
nic=$(e1000e_bdf)
bind_vfio "$edu"
bind_vfio "$nic"
if [ "$VFIOSCOPE_STACK" = ours ]; then
	[ -d $ev ] || fail "no vfio_ioeventfd event"
	echo >$T/trace
	echo 1 >$ev/enable
fi
rc=0
run_prog pci_ioeventfd || rc=1
# Read before the unload: removing the module clears its events' records.
if [ "$VFIOSCOPE_STACK" = ours ]; then
	echo 0 >$ev/enable
	grep -a 'vfio_ioeventfd:' $T/trace >/tmp/ioeventfd.txt
fi
unbind_vfio "$edu"
unbind_vfio "$nic"
unload_stack
[ $rc -eq 0 ] || exit 1
[ "$VFIOSCOPE_STACK" = ours ] || exit 0

adds=$(grep -c ' add=1 ret=0$' /tmp/ioeventfd.txt)
removes=$(grep -c ' add=0 ret=0$' /tmp/ioeventfd.txt)
log "vfio_ioeventfd: $adds registered, $removes removed, $(grep -vc ' ret=0$' /tmp/ioeventfd.txt) failed"
[ "$adds" -gt 1000 ] || fail "only $adds registrations traced"
assert_eq "$removes" "$adds" "removals traced (fd -1 and close) against registrations"
first=$(grep -m1 ' add=1 ret=0$' /tmp/ioeventfd.txt)
[[ $first == *" name=$edu bar=0 offset=0x4 size=4 data=0x12345678 add=1 ret=0" ]] ||
	fail "first registration traced as: $first"
grep -q " name=$edu bar=0 offset=0x4 size=4 data=0xbadcafe add=0 ret=0\$" /tmp/ioeventfd.txt ||
	fail "no removal of data 0xbadcafe traced"
grep -q " bar=0 offset=0x4 size=4 data=0xbadcafe add=0 ret=-19\$" /tmp/ioeventfd.txt ||
	fail "no failed removal (ENODEV) traced"
grep -q " name=$nic bar=3 offset=0x0 size=4 data=0x1 add=1 ret=-22\$" /tmp/ioeventfd.txt ||
	fail "no refusal of the MSI-X table (EINVAL) traced"
