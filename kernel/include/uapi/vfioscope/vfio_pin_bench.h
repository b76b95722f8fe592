/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/vfio-pin-bench: a test module (kernel/testing/vfio_pin_bench.c)
 * that pins and unpins user memory exactly as vfio_iommu_type1.ko pins it
 * for MAP_DMA (FOLL_LONGTERM, 512 pages per call), and nothing else: no
 * IOMMU, no accounting, no tracing.  bench/ times it against MAP_DMA to
 * see how far a map is from the cost of pinning alone.
 *
 * Each open file holds at most one pinned range.
 */
#ifndef __UAPI_VFIO_PIN_BENCH_H
#define __UAPI_VFIO_PIN_BENCH_H

#include <linux/ioctl.h>
#include <linux/types.h>

struct vfio_pin_bench_range {
	__u64 vaddr;	/* page aligned */
	__u64 size;	/* page aligned, > 0 */
};

#define VFIO_PIN_BENCH_TYPE 'P'

/*
 * Pin [vaddr, vaddr + size) for writing.  EBUSY: this file already holds
 * a range; EINVAL: unaligned or empty; EFAULT: not all of it could be
 * pinned (nothing stays pinned).
 */
#define VFIO_PIN_BENCH_PIN	_IOW(VFIO_PIN_BENCH_TYPE, 0x50, struct vfio_pin_bench_range)

/* Unpin the range this file holds (marking it dirty).  ENOENT: none. */
#define VFIO_PIN_BENCH_UNPIN	_IO(VFIO_PIN_BENCH_TYPE, 0x51)

#endif /* __UAPI_VFIO_PIN_BENCH_H */
