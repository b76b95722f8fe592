/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-lat's statistics as bpf/vfio-lat.bpf.c keeps them: per CPU, in two
 * banks that the programs write in turn, one interval each.
 * lat_interval_end() closes the interval of the bank being written and
 * returns it summed over the CPUs.
 */
#ifndef __LATENCY_H
#define __LATENCY_H

#include "vfio_tools.h"

struct lat_maps {
	int stats_fd;		/* stats: struct lat_stats at LAT_KEY(bank, op) */
	int sync_fd;		/* lat_sync, the map-in-map */
	int sync_slot_fd;	/* lat_sync_slot, the map it holds */
	__u32 *bank;		/* lat_bank, in the mmapped .bss; or NULL and */
	int bank_fd;		/* an ARRAY map holding it (the collector's) */
};

/*
 * A map-in-map of our own for lat_wait_programs(), when the programs'
 * object has none (the collector): any update of one waits.  Sets
 * sync_fd and sync_slot_fd; 0 or -errno.
 */
int lat_sync_create(struct lat_maps *m);

/* One interval: slots, sums and counters summed over the CPUs, max_ns the largest. */
struct lat_interval {
	struct lat_stats op[LAT_NR_OPS];
};

/*
 * Return once every BPF program that was running when this was called has
 * finished.  An update of a map-in-map waits for an RCU grace period
 * before it returns (kernel/bpf/syscall.c, maybe_wait_bpf_programs()), and
 * the programs run inside RCU read-side sections.  0 or -errno.
 */
int lat_wait_programs(const struct lat_maps *m);

/* Add one CPU's (or one interval's) stats into sum; max_ns: the larger. */
void lat_stats_add(struct lat_stats *sum, const struct lat_stats *v);

/*
 * End the interval: point the programs at the other bank, wait for those
 * that may still write the old one, then read the old bank into *out and
 * zero it for its next turn.  0 or -errno; after a failure the old bank
 * may still hold data that the next call of the same bank adds.
 */
int lat_interval_end(const struct lat_maps *m, struct lat_interval *out);

/* The operations a histogram counts: the sum of its slots. */
__u64 lat_hist_count(const struct lat_hist *h);

#endif /* __LATENCY_H */
