#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio_device_open carries at most 63 bytes of the name user space passed
# (VFIO_TRACE_NAME_MAX): an open with a name of 4094 bytes, the longest
# GET_DEVICE_FD takes, still emits exactly one event, its name cut; so
# does one of 64 bytes, and the real open keeps its whole PCI address.
# vm-stack: ours
# vm-timeout: 60
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

T=/sys/kernel/tracing
load_stack
bdf=$(edu_bdf)
bind_vfio "$bdf"
trap 'echo 0 >$T/events/vfio/vfio_device_open/enable; unbind_vfio "$bdf"; unload_stack' EXIT
[ -d $T/events/vfio/vfio_device_open ] || fail "no vfio_device_open event"

echo >$T/trace
echo 1 >$T/events/vfio/vfio_device_open/enable
run_prog pci_safety test_device_name_long || exit 1
echo 0 >$T/events/vfio/vfio_device_open/enable
grep -a 'vfio_device_open:' $T/trace >/tmp/device-open.txt
cat /tmp/device-open.txt

a63=$(printf 'a%.0s' $(seq 63))
b63=$(printf 'b%.0s' $(seq 63))
assert_eq "$(grep -c 'vfio_device_open:' /tmp/device-open.txt)" 3 "vfio_device_open events"
assert_eq "$(grep -cE " name=$a63 ret=-19\$" /tmp/device-open.txt)" 1 "events for the 4094-byte name, cut to 63"
assert_eq "$(grep -cE " name=$b63 ret=-19\$" /tmp/device-open.txt)" 1 "events for the 64-byte name, cut to 63"
assert_eq "$(grep -cE " name=$bdf ret=0\$" /tmp/device-open.txt)" 1 "events for the real open"
log "3 events: the real open, two names cut to 63 bytes"
