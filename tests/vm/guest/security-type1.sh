#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Security: what MAP_DMA may hand to the IOMMU.  A VM_PFNMAP area backed by
# ordinary kernel pages (kernel/testing/vfio_pfnmap_pages.c) is EFAULT,
# reserved pages and a vfio-pci BAR map unpinned and uncharged, a write
# mapping needs VM_WRITE and a writable pte, a kernel vaddr is EFAULT.
# Nothing stays pinned.  The test module uses no VFIO symbol: it loads
# beside either stack.
# vm-stack: ours intree
# vm-timeout: 120
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

insmod "$MODDIR/testing/vfio_pfnmap_pages.ko" || fail "insmod vfio_pfnmap_pages failed"
for _ in $(seq 50); do
	[ -c /dev/vfio-pfnmap-pages ] && break
	sleep 0.1
done
[ -c /dev/vfio-pfnmap-pages ] || fail "/dev/vfio-pfnmap-pages missing"
rc=0
uapi_run "edu" vfio_type1_safety || rc=1
rmmod vfio_pfnmap_pages || fail "rmmod vfio_pfnmap_pages failed: an area outlived its user"
assert_no_pins_held "after vfio_type1_safety"
exit $rc
