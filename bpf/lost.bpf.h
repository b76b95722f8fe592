/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lost-event counter every tool keeps: one slot per enum lost_reason,
 * per CPU so counting never contends.  User space sums it
 * (tools/lib/common.c: lost_read) and prints the total.
 */
#ifndef __LOST_BPF_H
#define __LOST_BPF_H

#include "vfio_tools.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOST_NR_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} lost SEC(".maps");

static __always_inline void count_lost(__u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(&lost, &reason);

	if (n)
		(*n)++;
}

#endif /* __LOST_BPF_H */
