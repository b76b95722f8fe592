#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Security: device nodes.  /dev/vfio/vfio is 0666 (a container alone grants
# nothing), /dev/vfio/N is 0600 root:root.  nobody (uid 65534, no
# capabilities) cannot open a group it was not given (EACCES), gets nothing
# from a container, and cannot open /dev/vfio/vfio once it is made 0600.
# vm-stack: ours intree
# vm-timeout: 60
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

uapi_run edu "vfio_security test_node_modes test_nobody_cannot_open_group test_nobody_container_is_useless test_container_0600"
