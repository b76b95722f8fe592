// SPDX-License-Identifier: GPL-2.0
/*
 * The one place the vfio trace events (tracepoints/vfio_trace.h) are
 * instantiated.  The IOMMU backends (type1, SPAPR TCE) emit the DMA and
 * SPAPR events from their own modules, and vfio-pci its reset and
 * ioeventfd ones, so those are exported.
 */
#include <linux/module.h>

#define CREATE_TRACE_POINTS
#include "vfio_trace.h"

EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_dma_map);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_dma_unmap);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_spapr_prereg);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_spapr_window);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_device_reset);
EXPORT_TRACEPOINT_SYMBOL_GPL(vfio_ioeventfd);
