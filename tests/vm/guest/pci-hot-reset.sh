#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and VFIO_DEVICE_PCI_HOT_RESET
# (tests/vm/progs/pci_hot_reset.c): ENODEV on the root bus; behind a PCIe
# root port, the one device the reset touches, every errno of a bad
# request, e1000e's registers back at their reset values, and resets
# raced against BAR reads, preads and mmap/munmap cycles.  Behind the
# PCIe-to-PCI bridge, edu and virtio-rng (no reset of their own, one
# group): a hot reset touches both, and their bus is reset after the
# last close of the two, not before.  On ours, with vfio_device_reset on:
# one `hot` event per device and reset, with its errno, and one `bus`
# event for each of the two.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

T=/sys/kernel/tracing
E=$T/events/vfio/vfio_device_reset
load_stack
nic=$(e1000e_bdf)
rp_nic=$(e1000e_root_port_bdf)
br_edu=$(edu_nonviable_bdf)
rng=$(virtio_rng_bdf)
# That neither has a reset of its own, the premise of the bus reset at
# close, is asserted by the program from VFIO_DEVICE_FLAGS_RESET (the reset
# tried at open), not from sysfs: the edu's reset_method says "bus", listed
# when it was alone on its bus, before virtio-rng was added beside it.
for d in "$nic" "$rp_nic" "$br_edu" "$rng"; do
	bind_vfio "$d"
done
export VFIO_ROOT_PORT_NIC=$rp_nic VFIO_BRIDGE_EDU=$br_edu
if [ "$VFIOSCOPE_STACK" = ours ]; then
	echo >$T/trace
	echo 1 >$E/enable
fi
rc=0
run_prog pci_hot_reset >/tmp/prog.txt || rc=1
cat /tmp/prog.txt
races=$(sed -n 's/^# \([0-9]*\) hot resets .*/\1/p' /tmp/prog.txt)
if [ "$VFIOSCOPE_STACK" = ours ]; then
	echo 0 >$E/enable
	grep -a 'vfio_device_reset:.* kind=\(hot\|bus\) ' $T/trace | sed 's/.*vfio_device_reset: device=[0-9]* //' >/tmp/hot.txt
	cat /tmp/hot.txt
	# One per request: the root bus's ENODEV, then its zero count (6.5
	# checks the count first: EINVAL); test_bad_input's argsz,
	# flags, count 0, count 2, EBADF, container, device, other group and
	# EFAULT; then the resets that worked (one device each): one each in
	# test_bad_input, test_resets_device and test_hot_reset_from_d3hot,
	# and the race's.
	[ -n "$races" ] || fail "pci_hot_reset did not say how many resets its race did"
	case $(uname -r) in
	6.1.*) zero=-19 ;;
	*) zero=-22 ;;
	esac
	want="name=$nic kind=hot ret=-19"$'\n'"name=$nic kind=hot ret=$zero"
	for ret in -22 -22 -22 -22 -9 -22 -22 -22 -14 0 0 0 $(yes 0 | head -n "$races"); do
		want+=$'\n'"name=$rp_nic kind=hot ret=$ret"
	done
	# Behind the bridge, each for both devices in the order they were
	# bound: test_info_two_devices's hot reset and the bus reset after
	# its last close; in test_bus_reset_at_last_close nothing when
	# virtio-rng closes with the edu still open, a bus reset when both
	# are closed, and one after the last close of the test's end.
	for kind in hot bus bus bus; do
		want+=$'\n'"name=$br_edu kind=$kind ret=0"$'\n'"name=$rng kind=$kind ret=0"
	done
	assert_eq "$(cat /tmp/hot.txt)" "$want" "vfio_device_reset kind=hot: each request once, with its errno"
fi
for d in "$rng" "$br_edu" "$rp_nic" "$nic"; do
	unbind_vfio "$d"
done
unload_stack
exit $rc
