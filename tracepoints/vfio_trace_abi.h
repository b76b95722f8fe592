/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Constants that appear in vfio trace event fields.  Shared by the kernel
 * (vfio_trace.h) and the BPF tools, so it includes nothing: part of the
 * trace ABI documented in docs/tracepoints.md.
 */
#ifndef __VFIO_TRACE_ABI_H
#define __VFIO_TRACE_ABI_H

/* vfio_ref_get/put: the kind of object whose reference moved. */
enum vfio_trace_obj {
	VFIO_TRACE_OBJ_CONTAINER = 1,
	VFIO_TRACE_OBJ_GROUP = 2,
	VFIO_TRACE_OBJ_DEVICE = 3,
};

/*
 * vfio_dma_unmap flags: the uAPI's VFIO_DMA_UNMAP_FLAG_* in the low bits,
 * plus this bit when the unmap is the container's teardown (last close of
 * the container, or the last external user's put) rather than an ioctl.
 */
#define VFIO_TRACE_UNMAP_TEARDOWN (1U << 31)

/* vfio_device_reset: what asked for the reset. */
enum vfio_trace_reset {
	VFIO_TRACE_RESET_OPEN = 1,	/* the first open: a clean device */
	VFIO_TRACE_RESET_IOCTL = 2,	/* VFIO_DEVICE_RESET */
	VFIO_TRACE_RESET_FLR = 3,	/* user space wrote the PCIe FLR bit */
	VFIO_TRACE_RESET_CLOSE = 4,	/* the last close: back to the open state */
	VFIO_TRACE_RESET_HOT = 5,	/* VFIO_DEVICE_PCI_HOT_RESET: slot or bus */
	VFIO_TRACE_RESET_BUS = 6,	/* slot or bus, after the last close of all
					 * it touches, for a device left unreset */
};

/*
 * vfio_device_open/release: the longest name an event carries, NUL not
 * counted.  A longer one (GET_DEVICE_FD takes up to a page from user
 * space) is cut to its first VFIO_TRACE_NAME_MAX bytes, so the event
 * always fits the ring buffer and is never dropped.
 */
#define VFIO_TRACE_NAME_MAX 63

#endif /* __VFIO_TRACE_ABI_H */
