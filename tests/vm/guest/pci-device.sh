#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-pci, the device side: edu BAR0 by pread and mmap, config space
# virtualization (BAR/ROM sizing, virtual BARs, memory decode, MSI owned by
# the driver, power states through PMCSR, AER, vendor capabilities), reset
# of e1000e, the mapping of a BAR smaller than a page (ivshmem).
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

# virtio-rng shares its group with the second edu: both go to vfio-pci.
uapi_run "edu e1000e edu_nonviable virtio_rng ivshmem" pci_device
