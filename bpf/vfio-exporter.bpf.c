// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-exporter: what /metrics serves (docs/metrics.md), kept where it is
 * cheapest.  DMA counters, levels and latency histograms live in maps that
 * tools/lib/exporter.c reads at each scrape; reference events go through
 * the ring buffer to tools/lib/reftrack.c, as vfio-leak's do
 * (bpf/vfio_leak.bpf.h), for live objects, external users and stale
 * references.  DMA comes from every attach mode (bpf/vfio_dma.bpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "vfio_tools.h"
#include "log2.bpf.h"
#include "lost.bpf.h"
#include "vfio_leak.bpf.h"
#include "dma_levels.bpf.h"

#define MAX_CONTAINERS 1024

/* Live containers, by id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_CONTAINERS);
	__type(key, __u32);
	__type(value, struct exp_container);
} containers SEC(".maps");

/*
 * Released containers' final rows, by instance, until user space collects
 * them (at each scrape and at least once a second): a reused id cannot
 * overwrite them, and no scrape has to come between a release and a reuse.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_CONTAINERS);
	__type(key, __u64);
	__type(value, struct exp_container);
} released SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EXP_NR_OPS);
	__type(key, __u32);
	__type(value, struct exp_hist);
} hists SEC(".maps");

__u64 exp_next_inst;

/*
 * A container opened before we started gets a row at its first event
 * (*created says so).
 */
static __always_inline struct exp_container *container(__u32 id, bool *created)
{
	struct exp_container *c;
	static const struct exp_container zero;

	c = bpf_map_lookup_elem(&containers, &id);
	if (c)
		return c;
	/* NOEXIST: another CPU may have created it meanwhile; that is fine. */
	if (bpf_map_update_elem(&containers, &id, &zero, BPF_NOEXIST)) {
		c = bpf_map_lookup_elem(&containers, &id);
		if (!c)
			count_lost(LOST_MAP_FULL);
		return c;
	}
	c = bpf_map_lookup_elem(&containers, &id);
	/* Only the CPU that created the row names it. */
	if (c) {
		c->id = id;
		c->inst = __sync_fetch_and_add(&exp_next_inst, 1) + 1;
		*created = true;
	}
	return c;
}

/*
 * The container is gone: its row moves from `containers` to `released`,
 * copied first and deleted after, so that a reader going through
 * `containers` and then `released` finds it at least once (twice is told
 * apart by inst).  Nothing writes the copy again.
 */
static __always_inline void container_retire(__u32 id)
{
	struct exp_container *c = bpf_map_lookup_elem(&containers, &id);

	level_forget(id);
	if (!c)
		return;
	c->released_ns = bpf_ktime_get_ns();
	/* Released: nothing is mapped or pinned any more. */
	c->pinned_pages = 0;
	c->entries = 0;
	if (bpf_map_update_elem(&released, &c->inst, c, BPF_NOEXIST))
		count_lost(LOST_MAP_FULL);
	bpf_map_delete_elem(&containers, &id);
}

static __always_inline void record(__u32 op, __u64 ns)
{
	struct exp_hist *h = bpf_map_lookup_elem(&hists, &op);
	__u64 k;

	if (!h)
		return;
	k = log2_ceil(ns);
	if (k > HIST_NR_SLOTS - 1)
		k = HIST_NR_SLOTS - 1;
	h->slots[index_bounded(k, HIST_NR_SLOTS)]++;
	h->count++;
	h->sum_ns += ns;
}

static __always_inline int handle_dma(bool is_map, struct vfio_dma_args *a)
{
	bool teardown = !is_map && (a->flags & VFIO_TRACE_UNMAP_TEARDOWN);
	__u32 op = is_map ? EXP_MAP : EXP_UNMAP;
	bool created = false;
	struct exp_container *c = container(a->container, &created);
	__u64 e;

	if (!c)
		return 0;
	/* Met after its first mapping: its mapped bytes cannot be known. */
	if (created && !dma_was_empty(is_map, a))
		c->missing |= DMA_MISSING_MAPPED;
	if (a->ret < 0) {
		e = -(__s64)a->ret;
		if (e >= EXP_NR_ERRNO)
			e = 0;
		__sync_fetch_and_add(&c->errors[op & 1][index_bounded(e, EXP_NR_ERRNO)], 1);
		level_update(a);
		return 0;
	}
	/* A teardown moves bytes but is no operation (as in vfio-top, vfio-lat). */
	if (!teardown) {
		__sync_fetch_and_add(&c->ops[op & 1], 1);
		record(op, a->total_ns);
	}
	__sync_fetch_and_add(&c->bytes[op & 1], a->size);
	__sync_fetch_and_add(&c->mapped_bytes, is_map ? a->size : -a->size);
	/* Levels: the newest operation's (dma_levels), whichever CPU saw it. */
	level_update(a);
	c->missing = a->missing | (c->missing & DMA_MISSING_MAPPED);
	if (a->released)
		container_retire(a->container);
	return 0;
}

#include "vfio_dma.bpf.h"

/*
 * A new container: a row from zero.  Its id cannot have a row unless a
 * release was missed; that row is retired, not overwritten.
 */
static __always_inline int container_open(unsigned long long *ctx)
{
	__u32 id = ctx[0];

	bool created;

	container_retire(id);
	container(id, &created);
	return leak_container_open(ctx);
}

static __always_inline int container_release(unsigned long long *ctx)
{
	container_retire(ctx[0]);
	return leak_container_release(ctx);
}

VFIO_TP(vfio_container_open, container_open)
VFIO_TP(vfio_container_release, container_release)
VFIO_TP(vfio_container_close, leak_container_close)
VFIO_TP(vfio_ref_get, leak_ref_get)
VFIO_TP(vfio_ref_put, leak_ref_put)
VFIO_TP(vfio_external_user_get, leak_ext_get)
VFIO_TP(vfio_external_user_put, leak_ext_put)
VFIO_TP(vfio_group_open, leak_group_open)
VFIO_TP(vfio_group_release, leak_group_release)
VFIO_TP(vfio_group_attach, leak_group_attach)
VFIO_TP(vfio_group_detach, leak_group_detach)
VFIO_TP(vfio_device_open, leak_device_open)
VFIO_TP(vfio_device_release, leak_device_release)

char LICENSE[] SEC("license") = "GPL";
