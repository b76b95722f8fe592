#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# What KVM's kvm-vfio device looks up in vfio.ko with symbol_get()
# (vfio_file_is_group/_is_valid/_enforced_coherent/_set_kvm/_iommu_group),
# asked the way kvm.ko asks by kernel/testing/kvm_vfio_probe.ko, on a group
# fd (alone, in a container, with type1), a device fd, a container fd and
# /dev/null: both stacks must give the series' answers
# (tests/vm/progs/kvm_file.c).  Every symbol_get() is put: the probe and
# the stack unload.  On ours, set_kvm(NULL) on a group, and only on a
# group, emits vfio_group_set_kvm with vm_pid=0.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

T=/sys/kernel/tracing
ev=$T/events/vfio/vfio_group_set_kvm
load_stack
insmod "$MODDIR/testing/kvm_vfio_probe.ko" || fail "insmod kvm_vfio_probe failed"
[ -c /dev/kvm-vfio-probe ] || fail "/dev/kvm-vfio-probe missing"
bdf=$(edu_bdf)
bind_vfio "$bdf"
g=$(iommu_group_of "$bdf")

if [ "$VFIOSCOPE_STACK" = ours ]; then
	[ -d $ev ] || fail "no vfio_group_set_kvm event"
	echo >$T/trace
	echo 1 >$ev/enable
fi
run_prog kvm_file || fail "kvm_file failed"
if [ "$VFIOSCOPE_STACK" = ours ]; then
	echo 0 >$ev/enable
	grep -a 'vfio_group_set_kvm:' $T/trace >/tmp/set-kvm.txt || true
	cat /tmp/set-kvm.txt
	# One per group probe: alone, in a container, with type1.
	assert_eq "$(grep -c 'vfio_group_set_kvm:' /tmp/set-kvm.txt)" 3 "vfio_group_set_kvm events"
	assert_eq "$(grep -cE "group=$g vm_pid=0\$" /tmp/set-kvm.txt)" 3 "events unlinking group $g"
fi

rmmod kvm_vfio_probe || fail "rmmod kvm_vfio_probe failed"
unbind_vfio "$bdf"
# A symbol_get() not put would keep vfio.ko in use.
unload_stack
