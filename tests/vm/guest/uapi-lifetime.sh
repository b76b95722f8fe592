#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# VFIO uAPI, lifetimes: fds closed in every order, a BAR mmap outliving
# its fds, a killed process's pins released, unbind while open; then
# every module of the stack unloads (uapi_run's unload_stack).
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 180
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

uapi_run edu vfio_lifetime || exit 1
# Nothing of the stack is left behind.
! lsmod | grep -Eq '^vfio' || fail "vfio modules still loaded: $(lsmod | grep '^vfio')"
[ ! -e /dev/vfio ] || [ -z "$(ls /dev/vfio)" ] || fail "/dev/vfio still has: $(ls /dev/vfio)"
