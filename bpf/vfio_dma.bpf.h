/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DMA map/unmap as every attach mode sees it.  The including program
 * defines, before including this file,
 *
 *	static __always_inline int handle_dma(bool is_map, struct vfio_dma_args *a);
 *
 * and gets entry points for the three attach modes (tools/lib/attach.c
 * turns on the ones it chose):
 *   tp_btf/raw_tp  our vfio_dma_map/unmap events
 *   fentry/fexit   Debian's in-tree vfio_iommu_type1: the ioctl, the page
 *                  (un)pinning inside it, and the container's release
 * Each fills one struct vfio_dma_args, so the tools' logic is one function
 * the host tests reach through raw_tp.  In fentry mode the including
 * program also defines
 *
 *	static __always_inline void handle_intree_open(__u32 id);
 *
 * called when an in-tree container is created (our stack has its
 * vfio_container_open event for that).
 */
#ifndef __VFIO_DMA_BPF_H
#define __VFIO_DMA_BPF_H

#include "vfio_tools.h"
#include "vfio_tp.bpf.h"
#include "lost.bpf.h"
#include "log2.bpf.h"
#include "intree_ids.bpf.h"

/* In-tree mode: /sys/module/vfio_iommu_type1/parameters/dma_entry_limit. */
const volatile __u32 targ_dma_entry_limit = 0;

/* ---- our tracepoints --------------------------------------------------- */

/* ctx[] holds the TP_PROTO arguments of vfio_dma_class, in order. */
static __always_inline int dma_event(bool is_map, unsigned long long *ctx)
{
	struct vfio_dma_args a = {
		.container = ctx[0], .iova = ctx[1], .size = ctx[2],
		.flags = ctx[3], .npages = ctx[4], .entries = ctx[5],
		.pinned = ctx[6], .ret = (int)ctx[7], .total_ns = ctx[8],
		.pin_ns = ctx[9], .iommu_ns = ctx[10], .seq = ctx[11],
	};

	return handle_dma(is_map, &a);
}

static __always_inline int dma_map_event(unsigned long long *ctx)
{
	return dma_event(true, ctx);
}

static __always_inline int dma_unmap_event(unsigned long long *ctx)
{
	return dma_event(false, ctx);
}

VFIO_TP(vfio_dma_map, dma_map_event)
VFIO_TP(vfio_dma_unmap, dma_unmap_event)

/* ---- Debian's in-tree vfio_iommu_type1 ---------------------------------- */

/* The uAPI structs the ioctl reads from and writes back to (linux/vfio.h). */
struct dma_map_uapi {
	__u32 argsz;
	__u32 flags;
	__u64 vaddr;
	__u64 iova;
	__u64 size;
};

struct dma_unmap_uapi {
	__u32 argsz;
	__u32 flags;
	__u64 iova;
	__u64 size;		/* written back: bytes unmapped */
};

/*
 * vfio_iommu_type1.c's private container state: only dma_avail, the DMA
 * entries still allowed, from which entries = dma_entry_limit - dma_avail.
 */
struct vfio_iommu___vfioscope {
	unsigned int dma_avail;
} __attribute__((preserve_access_index));

/* One MAP/UNMAP ioctl in flight, by thread. */
struct intree_call {
	__u64 start;
	__u64 pin_start;
	__u64 pin_ns;
	__u64 npages;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct intree_call);
} intree_calls SEC(".maps");

/*
 * The in-tree containers we numbered, by their struct vfio_iommu *; taken
 * over from the last collector with intree_ids (bpf/intree_ids.bpf.h).
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u64);
	__type(value, struct intree_container);
} intree_containers SEC(".maps");

SEC("fentry/vfio_iommu_type1_ioctl")
int BPF_PROG(intree_ioctl_entry, void *iommu_data, unsigned int cmd,
	     unsigned long arg)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct intree_call call = { .start = bpf_ktime_get_ns() };

	if (cmd != VFIO_IOCTL_MAP_DMA && cmd != VFIO_IOCTL_UNMAP_DMA)
		return 0;
	if (bpf_map_update_elem(&intree_calls, &tid, &call, BPF_ANY))
		count_lost(LOST_MAP_FULL);
	return 0;
}

/*
 * Pinning and unpinning inside an in-flight MAP/UNMAP ioctl: time them and
 * count their pages into the thread's intree_call.
 */
static __always_inline int intree_pin_begin(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct intree_call *call = bpf_map_lookup_elem(&intree_calls, &tid);

	if (call)
		call->pin_start = bpf_ktime_get_ns();
	return 0;
}

static __always_inline int intree_pin_end(long npages)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct intree_call *call = bpf_map_lookup_elem(&intree_calls, &tid);

	if (!call || !call->pin_start)
		return 0;
	call->pin_ns += bpf_ktime_get_ns() - call->pin_start;
	call->pin_start = 0;
	if (npages > 0)
		call->npages += npages;
	return 0;
}

SEC("fentry/vfio_pin_pages_remote")
int BPF_PROG(intree_pin_entry)
{
	return intree_pin_begin();
}

/* Returns the pages it pinned. */
SEC("fexit/vfio_pin_pages_remote")
int BPF_PROG(intree_pin_exit, void *dma, unsigned long vaddr, long npage,
	     unsigned long *pfn_base, unsigned long limit, void *batch, long ret)
{
	return intree_pin_end(ret);
}

SEC("fentry/vfio_unpin_pages_remote")
int BPF_PROG(intree_unpin_entry)
{
	return intree_pin_begin();
}

/* Unpins npage pages. */
SEC("fexit/vfio_unpin_pages_remote")
int BPF_PROG(intree_unpin_exit, void *dma, __u64 iova, unsigned long pfn,
	     long npage, bool do_accounting, long ret)
{
	return intree_pin_end(npage);
}

static __always_inline struct intree_container *intree_container(void *iommu_data)
{
	__u64 key = (__u64)iommu_data;
	struct intree_container *c, init = {};

	c = bpf_map_lookup_elem(&intree_containers, &key);
	if (c)
		return c;
	init.id = intree_id_alloc();
	if (!init.id) {
		count_lost(LOST_ID_RANGE);
		return NULL;
	}
	if (bpf_map_update_elem(&intree_containers, &key, &init, BPF_NOEXIST)) {
		/* Another CPU met it first (its id stands), or the map is full. */
		intree_id_free(init.id);
		c = bpf_map_lookup_elem(&intree_containers, &key);
		if (!c)
			count_lost(LOST_MAP_FULL);
		return c;
	}
	return bpf_map_lookup_elem(&intree_containers, &key);
}

/*
 * A container created while we watch is numbered at birth, so what it
 * maps is known from zero: its first operations need not be judged by the
 * entries they report, read after the container's lock is released and
 * so possibly including another thread's.
 */
SEC("fexit/vfio_iommu_type1_open")
int BPF_PROG(intree_open, unsigned long arg, void *ret)
{
	struct intree_container *c;

	/* IS_ERR_OR_NULL(): an errno is returned as the top 4095 addresses. */
	if (!ret || (unsigned long)ret >= (unsigned long)-4095)
		return 0;
	c = intree_container(ret);
	if (!c)
		return 0;
	/*
	 * An entry already there is a stale one, taken over from an earlier
	 * collector, of a container released while none watched, whose
	 * memory this one reuses: its levels are not ours.  It keeps its id,
	 * which no live container holds (the key is this container's), so
	 * no free and allocation race another CPU for it; the new generation
	 * tells readers it is another container.  Nothing else can touch the
	 * entry yet: the container is not installed before open returns.
	 */
	c->mapped = 0;
	c->pinned = 0;
	c->seq = 0;
	c->partial = 0;
	handle_intree_open(c->id);
	return 0;
}

SEC("fexit/vfio_iommu_type1_ioctl")
int BPF_PROG(intree_ioctl_exit, void *iommu_data, unsigned int cmd,
	     unsigned long arg, long ret)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct vfio_iommu___vfioscope *iommu = iommu_data;
	struct vfio_dma_args a = { .missing = DMA_MISSING_IOMMU_NS };
	struct intree_container *c;
	struct intree_call *call;
	bool is_map = cmd == VFIO_IOCTL_MAP_DMA;

	call = bpf_map_lookup_elem(&intree_calls, &tid);
	if (!call)
		return 0;
	a.total_ns = bpf_ktime_get_ns() - call->start;
	a.pin_ns = call->pin_ns;
	a.npages = call->npages;
	a.ret = ret;
	bpf_map_delete_elem(&intree_calls, &tid);

	if (is_map) {
		struct dma_map_uapi m = {};

		bpf_probe_read_user(&m, sizeof(m), (void *)arg);
		a.iova = m.iova;
		a.size = m.size;
		a.flags = m.flags;
		/* A failed map released all it pinned. */
		if (ret)
			a.npages = 0;
	} else {
		struct dma_unmap_uapi u = {};

		bpf_probe_read_user(&u, sizeof(u), (void *)arg);
		a.iova = u.iova;
		a.flags = u.flags;
		a.size = ret ? 0 : u.size;
	}

	c = intree_container(iommu_data);
	if (c) {
		__u64 before = c->pinned;

		a.container = c->id;
		/*
		 * The add returns the count before it, so each operation gets
		 * the count after it in the order the adds happened; seq is
		 * taken next, so two racing operations may pair the other way
		 * round (docs/metrics.md: in-tree levels under concurrency).
		 */
		if (!ret && is_map) {
			__sync_fetch_and_add(&c->mapped, a.size);
			before = __sync_fetch_and_add(&c->pinned, a.npages);
			a.pinned = before + a.npages;
		} else if (!ret) {
			if (__sync_fetch_and_add(&c->mapped, -a.size) < a.size)
				c->partial = 1;
			before = __sync_fetch_and_add(&c->pinned, -a.npages);
			if (before < a.npages)
				c->partial = 1;
			a.pinned = before - a.npages;
		} else {
			a.pinned = before;
		}
		a.seq = __sync_fetch_and_add(&c->seq, 1) + 1;
		if (c->partial)
			a.missing |= DMA_MISSING_PINNED | DMA_MISSING_MAPPED;
	} else {
		a.missing |= DMA_MISSING_PINNED;
	}
	if (targ_dma_entry_limit)
		a.entries = targ_dma_entry_limit - BPF_CORE_READ(iommu, dma_avail);
	return handle_dma(is_map, &a);
}

/* The container's last close: what is still mapped goes (a teardown). */
SEC("fentry/vfio_iommu_type1_release")
int BPF_PROG(intree_release, void *iommu_data)
{
	__u64 key = (__u64)iommu_data;
	struct intree_container *c;
	struct vfio_dma_args a = {
		.flags = VFIO_TRACE_UNMAP_TEARDOWN,
		.missing = DMA_MISSING_IOMMU_NS,
		.released = 1,
	};

	c = bpf_map_lookup_elem(&intree_containers, &key);
	if (!c)
		return 0;
	a.container = c->id;
	a.seq = c->seq + 1;
	if (c->partial) {
		a.missing |= DMA_MISSING_PINNED | DMA_MISSING_MAPPED;
	} else {
		a.size = c->mapped;
		a.npages = c->pinned;
	}
	bpf_map_delete_elem(&intree_containers, &key);
	handle_dma(false, &a);
	/* After the handler: the id is free for the next container only now. */
	intree_id_free(a.container);
	return 0;
}

#endif /* __VFIO_DMA_BPF_H */
