/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Fault injection for vfioscope's modules (kernel/fault.c, in vfio.ko).
 *
 * A fault point is a named place where an operation can be made to fail
 * on purpose, to test its error path:
 *
 *	if (vfio_fault(VFIO_FAULT_ALLOC))
 *		return -ENOMEM;
 *
 * Off by default and free when off: one static key guards every point,
 * and it is enabled only while some point is armed.  Armed through
 * debugfs, /sys/kernel/debug/vfio/fault/<point>/:
 *   times   failures left to inject; writing arms or, with 0, disarms
 *           the point
 *   skip    evaluations to let pass before the first failure
 *   every   then fail one evaluation in this many (1: each one)
 *   hits    evaluations seen while armed (read; write 0 to reset)
 *   injected failures injected so far (read; write 0 to reset)
 */
#ifndef __VFIOSCOPE_FAULT_H
#define __VFIOSCOPE_FAULT_H

#include <linux/jump_label.h>
#include <linux/types.h>

enum vfio_fault_point {
	VFIO_FAULT_ALLOC,	/* kernel allocations (core, type1) */
	VFIO_FAULT_PIN,		/* type1: pinning a batch of user pages */
	VFIO_FAULT_IOMMU_MAP,	/* type1: iommu_map() of a run */
	VFIO_FAULT_EVENTFD,	/* vfio-pci: eventfd setup for an interrupt */
	VFIO_FAULT_PCI_CONFIG,	/* vfio-pci: config space access to the device */
	VFIO_FAULT_DOMAIN_JOIN,	/* type1: a group joining an existing domain */
	VFIO_FAULT_NR,
};

DECLARE_STATIC_KEY_FALSE(vfio_fault_key);

bool __vfio_fault_should_fail(enum vfio_fault_point point);

/* True when this evaluation of @point must fail. */
static __always_inline bool vfio_fault(enum vfio_fault_point point)
{
	if (static_branch_unlikely(&vfio_fault_key))
		return __vfio_fault_should_fail(point);
	return false;
}

/* vfio.ko's debugfs folder, /sys/kernel/debug/vfio (NULL without debugfs). */
extern struct dentry *vfio_debugfs_root;

#endif /* __VFIOSCOPE_FAULT_H */
