// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-top: per process, container and group counters, kept in one hash
 * map that tools/vfio-top.c reads every interval.  Counters are
 * cumulative (user space makes rates of them), levels (bytes mapped,
 * pages pinned, DMA entries, external users) are the current value.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "vfio_tools.h"
#include "lost.bpf.h"
#include "vfio_tp.bpf.h"
#include "dma_levels.bpf.h"

#define MAX_ROWS 10240

const volatile __u32 filter_pid = 0;	/* tgid; process rows and DMA events */

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_ROWS);
	__type(key, struct top_key);
	__type(value, struct top_value);
} rows SEC(".maps");

/*
 * The current process's start, as /proc/PID/stat gives it (in clock
 * ticks there): the thread group leader's boot-time clock at fork.
 */
static __always_inline __u64 current_start(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, group_leader, start_boottime);
}

/* *created, if given, says the row is new. */
static __always_inline struct top_value *row_new(__u32 kind, __u32 id, bool *created)
{
	struct top_key key = {
		.kind = kind, .id = id,
		.start = kind == TOP_PROCESS ? current_start() : 0,
	};
	struct top_value *v, zero = {};

	v = bpf_map_lookup_elem(&rows, &key);
	if (v)
		return v;
	if (kind == TOP_PROCESS)
		bpf_get_current_comm(zero.comm, sizeof(zero.comm));
	/* NOEXIST: another CPU may have created it meanwhile; that is fine. */
	if (bpf_map_update_elem(&rows, &key, &zero, BPF_NOEXIST)) {
		v = bpf_map_lookup_elem(&rows, &key);
		if (!v)
			count_lost(LOST_MAP_FULL);
		return v;
	}
	if (created)
		*created = true;
	return bpf_map_lookup_elem(&rows, &key);
}

static __always_inline struct top_value *row(__u32 kind, __u32 id)
{
	return row_new(kind, id, NULL);
}

static __always_inline bool pid_filtered(void)
{
	return filter_pid && filter_pid != bpf_get_current_pid_tgid() >> 32;
}

static __always_inline int handle_dma(bool is_map, struct vfio_dma_args *a)
{
	bool teardown = !is_map && (a->flags & VFIO_TRACE_UNMAP_TEARDOWN);
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct top_value *p = NULL, *c;
	bool created = false, p_created = false;

	if (pid_filtered() && !teardown)
		return 0;
	/*
	 * A teardown runs in whoever dropped the container's last reference:
	 * it changes the container, not the process that mapped.
	 */
	if (!teardown) {
		p = row_new(TOP_PROCESS, tgid, &p_created);
		if (p)
			p->container = a->container;
		/*
		 * Met mapping in a container that already held mappings: what
		 * this process mapped before is unknown, so are its levels.
		 */
		if (p && p_created && !dma_was_empty(is_map, a))
			p->missing |= DMA_MISSING_MAPPED;
	}
	c = row_new(TOP_CONTAINER, a->container, &created);
	/* Met after its first mapping: its mapped bytes cannot be known. */
	if (c && created && !dma_was_empty(is_map, a))
		c->missing |= DMA_MISSING_MAPPED;
	level_update(a);

	if (a->ret < 0) {
		if (p)
			__sync_fetch_and_add(&p->errors, 1);
		if (c)
			__sync_fetch_and_add(&c->errors, 1);
		return 0;
	}
	if (p) {
		if (is_map) {
			__sync_fetch_and_add(&p->map_ops, 1);
			__sync_fetch_and_add(&p->map_bytes, a->size);
			__sync_fetch_and_add(&p->mapped_bytes, a->size);
			__sync_fetch_and_add(&p->pinned_pages, a->npages);
		} else {
			__sync_fetch_and_add(&p->unmap_ops, 1);
			__sync_fetch_and_add(&p->unmap_bytes, a->size);
			__sync_fetch_and_add(&p->mapped_bytes, -a->size);
			__sync_fetch_and_add(&p->pinned_pages, -a->npages);
		}
	}
	if (c) {
		if (is_map) {
			__sync_fetch_and_add(&c->map_ops, 1);
			__sync_fetch_and_add(&c->map_bytes, a->size);
			__sync_fetch_and_add(&c->mapped_bytes, a->size);
		} else {
			if (!teardown)
				__sync_fetch_and_add(&c->unmap_ops, 1);
			__sync_fetch_and_add(&c->unmap_bytes, a->size);
			__sync_fetch_and_add(&c->mapped_bytes, -a->size);
		}
		/* Its pinned pages and entries: dma_levels, read by the tool. */
		c->missing |= a->missing & DMA_MISSING_MAPPED;
		if (a->released) {
			c->released = 1;
			level_forget(a->container);
		}
	}
	return 0;
}

#include "vfio_dma.bpf.h"

/* ---- lifecycle: our tracepoints only ------------------------------------ */

/* Container ids are reused after a release: a new container starts at 0. */
static __always_inline int handle_container_open(unsigned long long *ctx)
{
	struct top_key key = { .kind = TOP_CONTAINER, .id = ctx[0] };
	struct top_value zero = {};

	level_forget(key.id);
	if (bpf_map_update_elem(&rows, &key, &zero, BPF_ANY))
		count_lost(LOST_MAP_FULL);
	return 0;
}

static __always_inline int handle_container_release(unsigned long long *ctx)
{
	struct top_value *c = row(TOP_CONTAINER, (__u32)ctx[0]);

	level_forget((__u32)ctx[0]);
	if (c) {
		c->released = 1;
		/* Released: nothing is pinned or mapped any more. */
		c->pinned_pages = 0;
		c->entries = 0;
		c->mapped_bytes = 0;
		c->missing = 0;		/* known again: nothing */
	}
	return 0;
}

/* vfio_iommu_set(container, driver, type, ret) */
static __always_inline int handle_iommu_set(unsigned long long *ctx)
{
	struct top_value *c;

	if ((int)ctx[3] >= 0)
		return 0;
	c = row(TOP_CONTAINER, (__u32)ctx[0]);
	if (c)
		__sync_fetch_and_add(&c->errors, 1);
	return 0;
}

/* vfio_group_open/release(group, ret) */
static __always_inline int group_fd(unsigned long long *ctx, bool open)
{
	struct top_value *g = row(TOP_GROUP, (__u32)ctx[0]);

	if (!g)
		return 0;
	if ((int)ctx[1] < 0)
		__sync_fetch_and_add(&g->errors, 1);
	else
		g->released = !open;
	return 0;
}

static __always_inline int handle_group_open(unsigned long long *ctx)
{
	return group_fd(ctx, true);
}

static __always_inline int handle_group_release(unsigned long long *ctx)
{
	return group_fd(ctx, false);
}

/* vfio_group_attach/detach(group, container, ret) */
static __always_inline int group_container(unsigned long long *ctx, bool attach)
{
	struct top_value *g = row(TOP_GROUP, (__u32)ctx[0]);

	if (!g)
		return 0;
	if ((int)ctx[2] < 0)
		__sync_fetch_and_add(&g->errors, 1);
	else
		g->container = attach ? (__u32)ctx[1] : 0;
	return 0;
}

static __always_inline int handle_group_attach(unsigned long long *ctx)
{
	return group_container(ctx, true);
}

static __always_inline int handle_group_detach(unsigned long long *ctx)
{
	return group_container(ctx, false);
}

/* vfio_device_open(device, group, name, ret): a failed open is the group's error. */
static __always_inline int handle_device_open(unsigned long long *ctx)
{
	struct top_value *g;

	if ((int)ctx[3] >= 0)
		return 0;
	g = row(TOP_GROUP, (__u32)ctx[1]);
	if (g)
		__sync_fetch_and_add(&g->errors, 1);
	return 0;
}

/* vfio_external_user_get/put(group, container, users, caller, ret) */
static __always_inline int external_user(unsigned long long *ctx, bool get)
{
	__u32 group = ctx[0], container = ctx[1], users = ctx[2];
	struct top_value *g, *c;

	if ((int)ctx[4] < 0) {
		/* group = 0: the file was no group; the caller's process erred. */
		g = row(group ? TOP_GROUP : TOP_PROCESS,
			group ? group : bpf_get_current_pid_tgid() >> 32);
		if (g)
			__sync_fetch_and_add(&g->errors, 1);
		return 0;
	}
	g = row(TOP_GROUP, group);
	if (g)
		__sync_fetch_and_add(&g->ext_users, get ? 1 : -1);
	c = row(TOP_CONTAINER, container);
	if (c)
		c->ext_users = users;
	return 0;
}

static __always_inline int handle_external_user_get(unsigned long long *ctx)
{
	return external_user(ctx, true);
}

static __always_inline int handle_external_user_put(unsigned long long *ctx)
{
	return external_user(ctx, false);
}

VFIO_TP(vfio_container_open, handle_container_open)
VFIO_TP(vfio_container_release, handle_container_release)
VFIO_TP(vfio_iommu_set, handle_iommu_set)
VFIO_TP(vfio_group_open, handle_group_open)
VFIO_TP(vfio_group_release, handle_group_release)
VFIO_TP(vfio_group_attach, handle_group_attach)
VFIO_TP(vfio_group_detach, handle_group_detach)
VFIO_TP(vfio_device_open, handle_device_open)
VFIO_TP(vfio_external_user_get, handle_external_user_get)
VFIO_TP(vfio_external_user_put, handle_external_user_put)

char LICENSE[] SEC("license") = "GPL";
