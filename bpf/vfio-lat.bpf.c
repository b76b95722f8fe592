// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-lat: log2 histograms of DMA map and unmap latency, in total and
 * split into page pinning and IOMMU mapping (the events' pin_ns and
 * iommu_ns), with the operations kept out counted.
 *
 * Everything is kept in nanoseconds, as the events give it: slots are
 * log2 of ns, sum and max in ns.  The unit the user asked for (-m, -n) is
 * applied when printing, so an operation under 1 us keeps its slot, the
 * sum is exact, and the handler divides nothing.
 *
 * Per CPU and per interval, in two banks: the programs write bank
 * (lat_bank & 1).  To end an interval user space flips lat_bank, waits
 * until no program that may have read the old value still runs, then
 * reads and zeroes the old bank (tools/lib/latency.c).  An operation is
 * thus counted whole in exactly one interval, and an interval's
 * histograms, sums, maxima and counters describe the same operations.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "vfio_tools.h"
#include "log2.bpf.h"
#include "lost.bpf.h"
#include "lat_account.bpf.h"

const volatile __u32 filter_op = 0;		/* LAT_MAP + 1, LAT_UNMAP + 1, 0: both */
const volatile __u32 filter_pid = 0;		/* tgid */
const volatile __u32 filter_container = 0;
const volatile __u64 filter_min_size = 0;	/* bytes, inclusive */
const volatile __u64 filter_max_size = 0;	/* bytes, inclusive; 0: none */
const volatile bool targ_teardown = false;	/* count teardown unmaps too */

/* Key LAT_KEY(bank, op). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LAT_NR_BANKS * LAT_NR_OPS);
	__type(key, __u32);
	__type(value, struct lat_stats);
} stats SEC(".maps");

/* Written by user space only, once per interval. */
__u32 lat_bank;

/*
 * Read by no program.  Updating a map-in-map returns to user space only
 * after every BPF program running at the time has finished (the syscall
 * waits for an RCU grace period: kernel/bpf/syscall.c,
 * maybe_wait_bpf_programs()); user space updates lat_sync for that wait.
 */
struct lat_sync_slot {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} lat_sync_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 1);
	__type(key, __u32);
	__array(values, struct lat_sync_slot);
} lat_sync SEC(".maps");

static __always_inline int handle_dma(bool is_map, struct vfio_dma_args *a)
{
	__u32 op = is_map ? LAT_MAP : LAT_UNMAP;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	/* The bank is read once: the operation goes whole into one interval. */
	__u32 key = LAT_KEY(lat_bank & 1, op);
	struct lat_stats *st = bpf_map_lookup_elem(&stats, &key);

	if (!st)
		return 0;
	if ((filter_op && filter_op != op + 1) ||
	    (filter_pid && filter_pid != tgid) ||
	    (filter_container && filter_container != a->container) ||
	    a->size < filter_min_size ||
	    (filter_max_size && a->size > filter_max_size)) {
		st->counters[LAT_CNT_FILTERED]++;
		return 0;
	}
	lat_account(st, is_map, a, targ_teardown);
	return 0;
}

/* vfio-lat keeps nothing per container. */
static __always_inline void handle_intree_open(__u32 id)
{
}

#include "vfio_dma.bpf.h"

char LICENSE[] SEC("license") = "GPL";
