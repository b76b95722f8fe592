#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Fault injection: every fault point of our modules (kernel/fault.c,
# /sys/kernel/debug/vfio/fault/) but domain_join (which sends a group to
# an IOMMU domain of its own: type1-domains) makes its operation fail
# with ENOMEM, leaves nothing behind (objects, mappings, pinned pages,
# VmLck, FOLL_PIN), and the next attempt works: vfio_faults for the uAPI paths;
# here the group's creation in vfio-pci's probe (bind).  Then every
# module unloads.
# vm-stack: ours
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

F=/sys/kernel/debug/vfio/fault
load_stack
[ -d $F/alloc ] || fail "no $F: fault points missing from vfio.ko"
log "fault points: $(ls $F | tr '\n' ' ')"
bdf=$(edu_bdf)
bind_vfio "$bdf"
bind_vfio "$(e1000e_bdf)"
run_prog vfio_faults || fail "vfio_faults failed"
unbind_vfio "$(e1000e_bdf)"

# alloc at probe: the group's structure.  The bind fails, nothing is left
# (no group, no node), and the next bind works.
objects() { tr '\n' ' ' </sys/kernel/debug/vfio/objects; }
unbind_vfio "$bdf"
before=$(objects)
echo 0 >$F/alloc/injected
echo 1 >$F/alloc/times
echo vfio-pci >"/sys/bus/pci/devices/$bdf/driver_override"
echo "$bdf" >/sys/bus/pci/drivers_probe 2>/dev/null
echo 0 >$F/alloc/times
assert_eq "$(cat $F/alloc/injected)" 1 "failures injected at probe"
[ ! -e "/sys/bus/pci/devices/$bdf/driver" ] || fail "$bdf bound despite the failed group allocation"
assert_eq "$(objects)" "$before" "vfio objects after the failed probe"
g=$(iommu_group_of "$bdf")
[ ! -e /dev/vfio/$g ] || fail "/dev/vfio/$g left behind by the failed probe"
log "probe with the group allocation failing: not bound, objects $(objects)"
bind_vfio "$bdf"
run_prog vfio_faults test_alloc_container_open || fail "the stack does not work after the failed probe"
unbind_vfio "$bdf"
assert_no_pins_held "after the fault tests"
grep -q . /sys/kernel/debug/vfio/type1 && log "type1: $(tr '\n' ' ' </sys/kernel/debug/vfio/type1)"
unload_stack
