#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# SR-IOV through vfio-pci and the VF token (tests/vm/progs/pci_vf_token.c):
# vfio-pci loaded with enable_sriov=1, QEMU's NVMe controller (the PF)
# bound to it; the program enables a VF, which comes to vfio-pci, and opens
# both sides with and without the token, unbinds the PF while the VF is
# open, removes VFs as their groups close (20 rounds on 6.1, whose IOMMU
# core races there), then gives the PF to Debian's nvme driver for a VF
# whose PF is not on vfio-pci and a PF that already has VFs.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

pf=$(nvme_bdf)
edu=$(edu_bdf)
export VFIO_PF=$pf
load_stack_with enable_sriov
trap 'echo 0 >"/sys/bus/pci/devices/$pf/sriov_numvfs" 2>/dev/null; modprobe -r nvme
      echo 1 >"/sys/bus/pci/devices/$pf/sriov_drivers_autoprobe"
      unbind_vfio "$edu"; unbind_vfio "$pf"; unload_stack' EXIT
bind_vfio "$pf"
bind_vfio "$edu"
# After the PF is on vfio-pci, which nvme then leaves alone.
modprobe nvme || fail "modprobe nvme failed"
run_prog pci_vf_token || fail "pci_vf_token failed"
assert_eq "$(<"/sys/bus/pci/devices/$pf/sriov_numvfs")" 0 "VFs left enabled"
[ "/sys/bus/pci/devices/$pf/driver" -ef /sys/bus/pci/drivers/vfio-pci ] || fail "the PF is not on vfio-pci at the end"
