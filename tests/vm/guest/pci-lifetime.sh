#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-pci lifetimes: unbind while the fd is open waits (REQ eventfd), an
# unbind with only the group and container open leaves the group unplugged,
# and a process killed with MSI and MSI-X wired leaves no interrupt behind;
# the modules unload afterwards.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

vfio_irqs() { grep -c 'vfio-' /proc/interrupts; }

load_stack
edu=$(edu_bdf)
nic=$(e1000e_bdf)
bind_vfio "$edu"
bind_vfio "$nic"

run_prog pci_lifetime || fail "pci_lifetime failed"
[ "$(basename "$(readlink /sys/bus/pci/devices/$edu/driver)")" = vfio-pci ] ||
	fail "edu not bound to vfio-pci after the unbind tests"

# Killed with interrupts wired: the close on exit tears them down.
assert_eq "$(vfio_irqs)" 0 "vfio interrupts before"
out=/tmp/pci_hold.out
pci_lifetime hold >"$out" 2>&1 &
pid=$!
for i in $(seq 100); do
	grep -q ready "$out" && break
	kill -0 $pid 2>/dev/null || break
	sleep 0.1
done
grep -q ready "$out" || { cat "$out"; fail "pci_lifetime hold did not get ready"; }
assert_eq "$(vfio_irqs)" 6 "vfio interrupts while held (1 MSI + 5 MSI-X)"
kill -9 $pid
wait $pid 2>/dev/null
for i in $(seq 50); do
	[ "$(vfio_irqs)" = 0 ] && break
	sleep 0.1
done
assert_eq "$(vfio_irqs)" 0 "vfio interrupts after kill -9"

unbind_vfio "$edu"
unbind_vfio "$nic"
unload_stack
