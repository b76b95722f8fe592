#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Races and lifetimes, bounded (3 s each): overlapping maps/unmaps from
# threads, fds closed under ioctls, processes killed mid-map, unbind while
# in use (vfio_races), and external users' get/put racing with close
# (vfio_external_user's test_race_with_close, reused).  Pass: no deadlock
# (the timeout), no leak (type1, vfio objects, FOLL_PIN, VmLck), no
# kernel complaint, every module unloads.
# vm-stack: ours
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

load_stack
insmod "$MODDIR/testing/vfio_consumer.ko" || fail "insmod vfio_consumer failed"
bdf=$(edu_bdf)
bind_vfio "$bdf"
hung=$(cat /proc/sys/kernel/hung_task_timeout_secs)
echo 20 >/proc/sys/kernel/hung_task_timeout_secs
start=$(date +%s)
rc=0
run_prog vfio_races || rc=1
run_prog vfio_external_user test_race_with_close || rc=1
echo "$hung" >/proc/sys/kernel/hung_task_timeout_secs
log "races ran for $(($(date +%s) - start)) s"
[ $rc -eq 0 ] || fail "a race failed"
assert_no_pins_held "after the races"
rmmod vfio_consumer || fail "rmmod vfio_consumer failed"
unbind_vfio "$bdf"
unload_stack
