#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A reproducer, not a check (docs/reliability.md, finding 9): a vCPU
# starved for tens of seconds on an irq_desc lock while the other, in
# free_irq(), waits for the IO-APIC, as edu's INTx is raised and acked
# and memory decode toggles: pci_ioeventfd's test_edu_races, over and over for
# LOOP_SECS (default 400), until the kernel reports a soft lockup.  With
# VM_CPU=max (the hypervisor bit, so test-and-set spinlocks) it fails on
# both stacks; with the default machine it passes.  Run it with
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
rounds=0 slowest=0
while [ $(($(date +%s) - start)) -lt "${LOOP_SECS:-400}" ]; do
	t0=$(date +%s%N)
	pci_ioeventfd test_edu_races >/tmp/races.out 2>&1 || { cat /tmp/races.out; fail "round $rounds"; }
	ms=$((($(date +%s%N) - t0) / 1000000))
	[ "$ms" -gt "$slowest" ] && slowest=$ms
	rounds=$((rounds + 1))
	if dmesg | grep -q "soft lockup"; then
		log "soft lockup after $rounds rounds"
		break
	fi
done
# A round takes 1.4 s when no vCPU is starved; a starved one shows as
# a slowest round of tens of seconds (and "Long readout interval").
log "rounds: $rounds in $(($(date +%s) - start)) s, slowest $slowest ms"
unbind_vfio "$edu"
unbind_vfio "$nic"
unload_stack
