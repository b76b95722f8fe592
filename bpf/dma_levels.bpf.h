/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A container's levels (pinned pages, DMA entries) as its DMA events
 * report them, kept exact without atomics.  The driver emits an event
 * after dropping the container's lock, so two CPUs may see a container's
 * events in the other order than they happened; each event carries seq,
 * the container's operation number.  Each CPU keeps the levels of the
 * highest seq it saw, and the reader takes the highest seq of all CPUs
 * (tools/lib/levels.c): the newest operation's levels, whatever the order
 * the events came in.
 *
 * A container's entry goes at its release (level_forget), so a reused id
 * starts from seq 0.
 */
#ifndef __DMA_LEVELS_BPF_H
#define __DMA_LEVELS_BPF_H

#include "vfio_tools.h"
#include "lost.bpf.h"

#define DMA_LEVELS_MAX	1024

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, DMA_LEVELS_MAX);
	__type(key, __u32);
	__type(value, struct dma_level);
} dma_levels SEC(".maps");

/*
 * Called for every event (a failed one reports levels too); the newest
 * wins, with its `missing` saying which level its event could not see.
 */
static __always_inline void level_update(const struct vfio_dma_args *a)
{
	static const struct dma_level zero;
	struct dma_level *l;
	__u32 id = a->container;

	l = bpf_map_lookup_elem(&dma_levels, &id);
	if (!l) {
		/* Creates this CPU's copy; the other CPUs' start zeroed. */
		if (bpf_map_update_elem(&dma_levels, &id, &zero, BPF_NOEXIST) &&
		    !bpf_map_lookup_elem(&dma_levels, &id)) {
			count_lost(LOST_MAP_FULL);
			return;
		}
		l = bpf_map_lookup_elem(&dma_levels, &id);
		if (!l)
			return;
	}
	if (a->seq <= l->seq)
		return;		/* a later operation's event came first */
	l->seq = a->seq;
	l->pinned = a->pinned;
	l->entries = a->entries;
	l->missing = a->missing;
}

/* The container is gone: the next one with this id starts afresh. */
static __always_inline void level_forget(__u32 id)
{
	bpf_map_delete_elem(&dma_levels, &id);
}

/*
 * Whether the container held no mapping before this event: a tool that
 * first meets a container at such an event knows its mapped bytes from
 * zero, one that meets it later does not (DMA_MISSING_MAPPED).  entries
 * is the count after the event; an unmap that removed something cannot
 * tell how many entries it removed.
 */
static __always_inline bool dma_was_empty(bool is_map, const struct vfio_dma_args *a)
{
	if (a->ret < 0)
		return a->entries == 0;
	if (is_map)
		return a->entries == 1;
	return a->size == 0 && a->entries == 0;
}

#endif /* __DMA_LEVELS_BPF_H */
