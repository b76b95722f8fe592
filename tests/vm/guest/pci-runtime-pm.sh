#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runtime PM of vfio-pci devices (tests/vm/progs/pci_runtime_pm.c): bound
# devices no one has open idle in D3hot (D0 without a PM capability), an
# open holds them awake, a hot reset wakes the devices it touches; then the
# same with vfio-pci loaded with disable_idle_d3=1, where they stay in D0.
# Each time, unbinding leaves runtime PM as binding found it: no reference
# leaked, runtime PM forbidden again.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

nic=$(e1000e_bdf)
edu=$(edu_bdf)
br_edu=$(edu_nonviable_bdf)
rng=$(virtio_rng_bdf)
export VFIO_NIC=$nic VFIO_EDU=$edu VFIO_BRIDGE_EDU=$br_edu VFIO_RNG=$rng

# Runtime PM of an unbound device: its control and references.
unbound_pm() {
	local p=/sys/bus/pci/devices/$1/power
	echo "control=$(<"$p/control") usage=$(<"$p/runtime_usage")"
}

declare -A before
rc=0
for load in load_stack "load_stack_with disable_idle_d3"; do
	$load
	for d in "$nic" "$edu" "$br_edu" "$rng"; do
		[ -e "/sys/bus/pci/devices/$d/driver" ] &&
			echo "$d" >"/sys/bus/pci/devices/$d/driver/unbind"
		before[$d]=$(unbound_pm "$d")
		bind_vfio "$d"
	done
	run_prog pci_runtime_pm || rc=1
	for d in "$rng" "$br_edu" "$edu" "$nic"; do
		echo "$d" >"/sys/bus/pci/devices/$d/driver/unbind"
		assert_eq "$(unbound_pm "$d")" "${before[$d]}" "$d: runtime PM after unbind, as before bind ($load)"
		unbind_vfio "$d"
	done
	unload_stack
done
exit $rc
