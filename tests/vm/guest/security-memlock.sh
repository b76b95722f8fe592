#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Security: a user given the groups (chown) cannot pin beyond its
# RLIMIT_MEMLOCK: not by asking, not by raising the limit, not by mapping
# the same pages twice, not by using a second container.
# vm-stack: ours intree
# vm-timeout: 60
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

uapi_run "edu e1000e" "vfio_security test_nobody_memlock"
