/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One DMA operation into vfio-lat's statistics (struct lat_stats): its
 * total, pinning and IOMMU times into log2-of-ns histograms, or a
 * counter saying why it was kept out.  Shared by vfio-lat's own programs
 * and the collector, so both histograms mean the same.
 */
#ifndef __LAT_ACCOUNT_BPF_H
#define __LAT_ACCOUNT_BPF_H

#include "vfio_tools.h"
#include "log2.bpf.h"

static __always_inline void lat_record(struct lat_hist *h, __u64 ns)
{
	/* A u64's log2 is at most 63: HIST_NR_SLOTS (64) slots hold them all. */
	__u64 slot = log2_slot_bounded(ns, HIST_NR_SLOTS);

	h->slots[slot]++;
	h->sum_ns += ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
}

/* with_teardown: a teardown's unmap goes into the histograms too. */
static __always_inline void lat_account(struct lat_stats *st, bool is_map,
					const struct vfio_dma_args *a, bool with_teardown)
{
	if (!is_map && (a->flags & VFIO_TRACE_UNMAP_TEARDOWN) && !with_teardown) {
		st->counters[LAT_CNT_TEARDOWN]++;
		return;
	}
	if (a->ret < 0) {
		st->counters[LAT_CNT_FAILED]++;
		return;
	}
	lat_record(&st->parts[LAT_TOTAL], a->total_ns);
	lat_record(&st->parts[LAT_PIN], a->pin_ns);
	if (!(a->missing & DMA_MISSING_IOMMU_NS))
		lat_record(&st->parts[LAT_IOMMU], a->iommu_ns);
}

#endif /* __LAT_ACCOUNT_BPF_H */
