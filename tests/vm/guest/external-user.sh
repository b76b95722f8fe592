#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The external-user API through the KVM-like consumer module: readiness
# checks, holding the container alive, UNSET_CONTAINER while held, a real
# leak, an unbind waiting for the put, and get/put racing against close.
# Every module unloads afterwards.
# vm-stack: ours
# vm-timeout: 240
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

load_stack
insmod "$MODDIR/testing/vfio_consumer.ko" || fail "insmod vfio_consumer failed"
bdf=$(edu_bdf)
bind_vfio "$bdf"
[ -c /dev/vfio-consumer ] || fail "/dev/vfio-consumer missing"

vfio_external_user || fail "vfio_external_user failed"

rmmod vfio_consumer || fail "rmmod vfio_consumer failed"
unbind_vfio "$bdf"
unload_stack
