#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Races and lifetimes (RACE_SECONDS each, 10 s here; `make race` runs one
# for minutes): overlapping maps/unmaps from threads, fds closed under
# ioctls, processes killed mid-map, unbind while in use (vfio_races), and
# on ours external users' get/put racing with close (vfio_external_user's
# test_race_with_close, reused).  Pass: no deadlock (the timeout), no leak
# (type1, vfio objects, FOLL_PIN, VmLck), no kernel complaint, every
# module unloads.  In-tree 6.1 runs the same races, except that its
# mapping threads stop before a group leaves the container: 6.1 itself
# oopses there (RACE_NO_DETACH_UNDER_MAP, docs/reliability.md).
# vm-stack: ours intree
# vm-timeout: 150
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

export RACE_SECONDS=${RACE_SECONDS:-10}
load_stack
bdf=$(edu_bdf)
bind_vfio "$bdf"
hung=$(cat /proc/sys/kernel/hung_task_timeout_secs)
echo 20 >/proc/sys/kernel/hung_task_timeout_secs
start=$(date +%s)
rc=0
if [ "$VFIOSCOPE_STACK" = intree ]; then
	# Our debugfs counters are not there: the in-tree checks are FOLL_PIN,
	# VmLck and the unload.
	RACE_NO_DETACH_UNDER_MAP=1 run_prog vfio_races || rc=1
else
	insmod "$MODDIR/testing/vfio_consumer.ko" || fail "insmod vfio_consumer failed"
	run_prog vfio_races || rc=1
	run_prog vfio_external_user test_race_with_close || rc=1
	rmmod vfio_consumer || fail "rmmod vfio_consumer failed"
fi
echo "$hung" >/proc/sys/kernel/hung_task_timeout_secs
log "races ran for $(($(date +%s) - start)) s"
[ $rc -eq 0 ] || fail "a race failed"
assert_no_pins_held "after the races"
unbind_vfio "$bdf"
unload_stack
