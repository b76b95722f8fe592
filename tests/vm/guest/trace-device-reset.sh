#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio_device_reset, one event per reset vfio-pci does or tries, counted
# against what the programs did:
#  - edu (no reset method) opened and closed once: an open reset that
#    fails with ENOTTY, none at close;
#  - e1000e opened, reset by VFIO_DEVICE_RESET, closed: open, ioctl and
#    close resets, each 0;
#  - e1000e opened, FLR written to its PCIe capability, closed: open,
#    flr (0 when the device has FLR, else no event) and close.
# vm-kernel: 6.1 6.12
# vm-stack: ours
# vm-timeout: 60
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

T=/sys/kernel/tracing
E=$T/events/vfio/vfio_device_reset
load_stack
edu=$(edu_bdf)
nic=$(e1000e_bdf)
bind_vfio "$edu"
bind_vfio "$nic"
trap 'echo 0 >$E/enable 2>/dev/null; unbind_vfio "$edu"; unbind_vfio "$nic"; unload_stack' EXIT
[ -d $E ] || fail "no vfio_device_reset event"

events() { grep -a 'vfio_device_reset:' $T/trace | sed 's/.*vfio_device_reset: //'; }
run_traced() {
	echo >$T/trace
	echo 1 >$E/enable
	run_prog pci_device "$1" >/tmp/prog.txt || { cat /tmp/prog.txt; exit 1; }
	cat /tmp/prog.txt
	echo 0 >$E/enable
	events | tee /tmp/reset.txt
}

run_traced test_config_ids
assert_eq "$(sed 's/^device=[0-9]* //' /tmp/reset.txt | tr '\n' ' ')" "name=$edu kind=open ret=-25 " \
	"edu: an open reset without a method, none at close"

run_traced test_reset
assert_eq "$(sed 's/^device=[0-9]* //' /tmp/reset.txt | tr '\n' ' ')" \
	"name=$nic kind=open ret=0 name=$nic kind=ioctl ret=0 name=$nic kind=close ret=0 " \
	"e1000e: open, VFIO_DEVICE_RESET, close"
assert_eq "$(sed 's/ .*//' /tmp/reset.txt | sort -u | wc -l)" 1 "one device id for e1000e's events"

run_traced test_config_flr
if grep -q '^# e1000e DEVCAP .*: FLR$' /tmp/prog.txt; then
	want="kind=open ret=0 kind=flr ret=0 kind=close ret=0 " flr="an FLR"
else
	want="kind=open ret=0 kind=close ret=0 " flr="no FLR (QEMU 7.2's e1000e has none)"
fi
assert_eq "$(sed 's/^device=[0-9]* name=[^ ]* //' /tmp/reset.txt | tr '\n' ' ')" "$want" \
	"e1000e: open, FLR by config write, close"
log "vfio_device_reset: edu open ENOTTY; e1000e open, ioctl and close 0, $flr"
