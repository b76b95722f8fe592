/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One DMA map, unmap or teardown of an IOMMU backend, as its trace event
 * (vfio_dma_map/vfio_dma_unmap) reports it.  Shared by every backend
 * (type1, SPAPR TCE), so the tools read the same fields from each.
 *
 * Times are taken only while the event is on (timed), so an untraced map
 * reads no clock.  They are laps: each clock read ends one phase and
 * starts the next, so a map of one run reads four clocks (start, pin
 * begins, pin ends, map ends) and total_ns is the last lap.
 *
 * The container's levels are copied under the backend's lock (the
 * backend's snapshot function fills seq, pinned and entries) and the event
 * is emitted after the lock is dropped, so a tool's handler never
 * lengthens the critical section.  seq orders the snapshots: the event
 * with the highest seq carries the container's current levels, whichever
 * CPU its tool saw it on.
 */
#ifndef __VFIO_DMA_OP_H
#define __VFIO_DMA_OP_H

#include <linux/ktime.h>
#include <linux/types.h>

#include "vfio_trace.h"

struct vfio_dma_op {
	bool timed;
	u64 start_ns;
	u64 lap_ns;			/* the last clock read */
	u64 pin_ns;			/* pinning, or unpinning */
	u64 iommu_ns;			/* writing the IOMMU, or clearing it */
	unsigned long npages;		/* pages (TCEs) mapped, or unmapped */
	/* the container after the operation, from the backend's snapshot */
	u64 seq;
	u64 pinned;
	u32 entries;
};

static inline void vfio_dma_op_start(struct vfio_dma_op *op, bool timed)
{
	op->timed = timed;
	if (timed)
		op->start_ns = op->lap_ns = ktime_get_ns();
}

/* Charge the time since the last clock read to @phase (NULL: to none). */
static inline void vfio_dma_op_lap(struct vfio_dma_op *op, u64 *phase)
{
	u64 now;

	if (!op || !op->timed)
		return;
	now = ktime_get_ns();
	if (phase)
		*phase += now - op->lap_ns;
	op->lap_ns = now;
}

/* Emit @op's event; the backend's lock is not held. */
static inline void vfio_dma_op_trace(u32 container_id, bool is_map, u64 iova,
				     u64 size, u32 flags, int ret,
				     struct vfio_dma_op *op)
{
	u64 total_ns;

	if (is_map ? !trace_vfio_dma_map_enabled() :
		     !trace_vfio_dma_unmap_enabled())
		return;
	/* An operation refused before its first phase took no lap yet. */
	if (op->lap_ns == op->start_ns)
		vfio_dma_op_lap(op, NULL);
	total_ns = op->timed ? op->lap_ns - op->start_ns : 0;
	if (is_map)
		trace_vfio_dma_map(container_id, iova, size, flags, op->npages,
				   op->entries, op->pinned, ret, total_ns,
				   op->pin_ns, op->iommu_ns, op->seq);
	else
		trace_vfio_dma_unmap(container_id, iova, size, flags,
				     op->npages, op->entries, op->pinned, ret,
				     total_ns, op->pin_ns, op->iommu_ns, op->seq);
}

#endif /* __VFIO_DMA_OP_H */
