// SPDX-License-Identifier: GPL-2.0
/*
 * The one place the vfio trace events (tracepoints/vfio_trace.h) are
 * instantiated.  vfio_iommu_type1.ko emits the DMA events from its own
 * module, so those are exported.
 */
#include <linux/module.h>

#define CREATE_TRACE_POINTS
#include "vfio_trace.h"

EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_dma_map);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_dma_unmap);
