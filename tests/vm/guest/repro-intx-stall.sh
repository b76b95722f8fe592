#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A reproducer, not a check (docs/reliability.md, finding 9): the whole
# guest stops for tens of seconds while INTx is disabled (free_irq()
# waiting for the IO-APIC) as edu's INTx is raised and acked and memory
# decode toggles: pci_ioeventfd's test_edu_races, over and over for
# LOOP_SECS (default 400), until the kernel reports a soft lockup.  It
# fails on both stacks today; run it with
#   O=build VM_KVERS=6.12.118+deb12-amd64 VM_STACKS="ours intree" \
#     tests/vm/run repro-intx-stall
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 900
# vm-default: no
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

load_stack
edu=$(edu_bdf)
nic=$(e1000e_bdf)
bind_vfio "$edu"
bind_vfio "$nic"
start=$(date +%s)
rounds=0
while [ $(($(date +%s) - start)) -lt "${LOOP_SECS:-400}" ]; do
	pci_ioeventfd test_edu_races >/tmp/races.out 2>&1 || { cat /tmp/races.out; fail "round $rounds"; }
	rounds=$((rounds + 1))
	if dmesg | grep -q "soft lockup"; then
		log "soft lockup after $rounds rounds"
		break
	fi
done
log "rounds: $rounds in $(($(date +%s) - start)) s"
unbind_vfio "$edu"
unbind_vfio "$nic"
unload_stack
