#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Type1: a container's second group in an IOMMU domain of its own, as 6.1
# gives a group that cannot join the container's domain: every mapping
# replayed into it, maps and unmaps in both, the domain freed when its
# group leaves (tests/vm/progs/vfio_domains.c).  The bench has one IOMMU:
# on both stacks the groups share a domain, and on ours the fault point
# domain_join also splits them.  Nothing stays pinned.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

rc=0
uapi_run "edu e1000e" vfio_domains || rc=1
assert_no_pins_held "after vfio_domains"
exit $rc
