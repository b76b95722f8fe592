#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# pci-config-differential at length, for a change to config space
# (kernel/pci/vfio_pci_config.c): eight more seeds of 20,000 accesses per
# device, in-tree against ours in one boot, about 5 minutes under TCG.
# Run by name: tests/vm/run pci-config-soak.
# vm-kernel: 6.1 6.12
# vm-stack: ours
# vm-default: no
# vm-timeout: 1200
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

for seed in 0x1 0x2 0x3 0x4 0x5 0x6 0x7 0x8; do
	(CFG_SEED=$seed CFG_OPS=20000 \
		config_differential edu e1000e e1000e_root_port ivshmem nvme virtio_rng) ||
		fail "seed $seed: the stacks differ (above)"
done
