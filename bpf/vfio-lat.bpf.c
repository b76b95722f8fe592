// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-lat: log2 histograms of DMA map and unmap latency, in total and
 * split into page pinning and IOMMU mapping (the events' pin_ns and
 * iommu_ns).  Histograms are per CPU and cumulative; tools/vfio-lat.c
 * sums the CPUs and reports the difference between two reads.
 *
 * Everything is kept in nanoseconds, as the events give it: slots are
 * log2 of ns, sum and max in ns.  The unit the user asked for (-m, -n) is
 * applied when printing, so an operation under 1 us keeps its slot, the
 * sum is exact, and the handler divides nothing.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "vfio_tools.h"
#include "log2.bpf.h"
#include "lost.bpf.h"

const volatile __u32 filter_op = 0;		/* LAT_MAP + 1, LAT_UNMAP + 1, 0: both */
const volatile __u32 filter_pid = 0;		/* tgid */
const volatile __u32 filter_container = 0;
const volatile __u64 filter_min_size = 0;	/* bytes, inclusive */
const volatile __u64 filter_max_size = 0;	/* bytes, inclusive; 0: none */
const volatile bool targ_teardown = false;	/* count teardown unmaps too */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LAT_NR_HISTS);
	__type(key, __u32);
	__type(value, struct lat_hist);
} hists SEC(".maps");

/*
 * The largest value of each histogram, in two banks: the programs write
 * bank (max_bank & 1), and user space flips max_bank before it reads and
 * clears the other, so each interval gets its own maximum.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2 * LAT_NR_HISTS);
	__type(key, __u32);
	__type(value, __u64);
} maxes SEC(".maps");

__u32 max_bank;

/* enum lat_counter, per operation: index op * LAT_NR_COUNTERS + counter. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LAT_NR_OPS * LAT_NR_COUNTERS);
	__type(key, __u32);
	__type(value, __u64);
} counters SEC(".maps");

static __always_inline void count(__u32 op, __u32 counter)
{
	__u32 key = op * LAT_NR_COUNTERS + counter;
	__u64 *n = bpf_map_lookup_elem(&counters, &key);

	if (n)
		(*n)++;
}

static __always_inline void record(__u32 op, __u32 part, __u64 ns)
{
	__u32 idx = LAT_HIST_IDX(op, part), midx;
	struct lat_hist *h;
	__u64 slot, *max;

	h = bpf_map_lookup_elem(&hists, &idx);
	if (!h)
		return;
	/* A u64's log2 is at most 63: HIST_NR_SLOTS (64) slots hold them all. */
	slot = log2_slot_bounded(ns, HIST_NR_SLOTS);
	h->slots[slot]++;
	h->count++;
	h->sum_ns += ns;

	midx = (max_bank & 1) * LAT_NR_HISTS + idx;
	max = bpf_map_lookup_elem(&maxes, &midx);
	if (max && ns > *max)
		*max = ns;
}

static __always_inline int handle_dma(bool is_map, struct vfio_dma_args *a)
{
	__u32 op = is_map ? LAT_MAP : LAT_UNMAP;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;

	if ((filter_op && filter_op != op + 1) ||
	    (filter_pid && filter_pid != tgid) ||
	    (filter_container && filter_container != a->container) ||
	    a->size < filter_min_size ||
	    (filter_max_size && a->size > filter_max_size)) {
		count(op, LAT_CNT_FILTERED);
		return 0;
	}
	if (!is_map && (a->flags & VFIO_TRACE_UNMAP_TEARDOWN) && !targ_teardown) {
		count(op, LAT_CNT_TEARDOWN);
		return 0;
	}
	if (a->ret < 0) {
		count(op, LAT_CNT_FAILED);
		return 0;
	}
	record(op, LAT_TOTAL, a->total_ns);
	record(op, LAT_PIN, a->pin_ns);
	if (!(a->missing & DMA_MISSING_IOMMU_NS))
		record(op, LAT_IOMMU, a->iommu_ns);
	return 0;
}

#include "vfio_dma.bpf.h"

char LICENSE[] SEC("license") = "GPL";
