#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Config space through Debian's in-tree vfio-pci and through ours, in one
# boot: the same device, the same accesses (pci_config_transcript: a dump,
# random reads and undone writes of 1 to 8 bytes from a fixed seed, each
# read back through VFIO and from the device, the MSI capability with MSI
# on, a dump), and the transcripts must be equal, byte for byte and errno
# for errno.  Devices: edu (conventional, MSI), the two e1000e (PCIe, PM,
# MSI, MSI-X, AER, DSN; one behind a root port), ivshmem (MSI-X), the NVMe
# PF (SR-IOV, ARI), virtio-rng (vendor capabilities) and, in the cxl boot,
# the CXL type 3 device (pci-config-differential-cxl).
# vm-kernel: 6.1 6.12
# vm-stack: ours
# vm-timeout: 600
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

config_differential edu e1000e e1000e_root_port ivshmem nvme virtio_rng
