// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-leak: every reference get/put and external-user get/put, with the
 * holder, the kernel stack of gets and the time, sent to user space
 * (tools/lib/reftrack.c pairs them), plus the fd open/close and
 * attach/detach events its "held after every fd is closed" rule needs.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "vfio_tools.h"
#include "lost.bpf.h"
#include "vfio_tp.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_STACK_TRACE);
	__uint(max_entries, 8192);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, MAX_STACK_DEPTH * sizeof(__u64));
} stacks SEC(".maps");

static __always_inline int submit(void *ctx, __u32 type, __u32 kind, __u32 id,
				  __u32 count, __u32 aux, __u64 caller, int ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	struct leak_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(LOST_RINGBUF);
		return 0;
	}
	e->ts = bpf_ktime_get_ns();
	e->caller = caller;
	e->type = type;
	e->kind = kind;
	e->id = id;
	e->count = count;
	e->aux = aux;
	e->ret = ret;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->stack_id = -1;
	/* Only a get needs its stack: it names who holds the reference. */
	if (type == LEAK_REF_GET || type == LEAK_EXT_GET) {
		e->stack_id = bpf_get_stackid(ctx, &stacks, 0);
		if (e->stack_id < 0)
			count_lost(LOST_STACK);
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

/* vfio_ref_get/put(kind, id, count, caller) */
static __always_inline int handle_ref_get(unsigned long long *ctx)
{
	return submit(ctx, LEAK_REF_GET, ctx[0], ctx[1], ctx[2], 0, ctx[3], 0);
}

static __always_inline int handle_ref_put(unsigned long long *ctx)
{
	return submit(ctx, LEAK_REF_PUT, ctx[0], ctx[1], ctx[2], 0, ctx[3], 0);
}

/* vfio_external_user_get/put(group, container, users, caller, ret) */
static __always_inline int handle_ext_get(unsigned long long *ctx)
{
	return submit(ctx, LEAK_EXT_GET, VFIO_TRACE_OBJ_GROUP, ctx[0], ctx[2],
		      ctx[1], ctx[3], (int)ctx[4]);
}

static __always_inline int handle_ext_put(unsigned long long *ctx)
{
	return submit(ctx, LEAK_EXT_PUT, VFIO_TRACE_OBJ_GROUP, ctx[0], ctx[2],
		      ctx[1], ctx[3], (int)ctx[4]);
}

static __always_inline int handle_container_open(unsigned long long *ctx)
{
	return submit(ctx, LEAK_OPEN, VFIO_TRACE_OBJ_CONTAINER, ctx[0], 0, 0, 0, 0);
}

/* The container's fd was closed; it may live on (held by groups, external users). */
static __always_inline int handle_container_close(unsigned long long *ctx)
{
	return submit(ctx, LEAK_CLOSE, VFIO_TRACE_OBJ_CONTAINER, ctx[0], 0, 0, 0, 0);
}

static __always_inline int handle_container_release(unsigned long long *ctx)
{
	return submit(ctx, LEAK_FREED, VFIO_TRACE_OBJ_CONTAINER, ctx[0], 0, 0, 0, 0);
}

/* vfio_group_open/release(group, ret) */
static __always_inline int handle_group_open(unsigned long long *ctx)
{
	return submit(ctx, LEAK_OPEN, VFIO_TRACE_OBJ_GROUP, ctx[0], 0, 0, 0, (int)ctx[1]);
}

static __always_inline int handle_group_release(unsigned long long *ctx)
{
	return submit(ctx, LEAK_CLOSE, VFIO_TRACE_OBJ_GROUP, ctx[0], 0, 0, 0, (int)ctx[1]);
}

/* vfio_group_attach/detach(group, container, ret) */
static __always_inline int handle_group_attach(unsigned long long *ctx)
{
	return submit(ctx, LEAK_ATTACH, VFIO_TRACE_OBJ_GROUP, ctx[0], 0, ctx[1], 0, (int)ctx[2]);
}

static __always_inline int handle_group_detach(unsigned long long *ctx)
{
	return submit(ctx, LEAK_DETACH, VFIO_TRACE_OBJ_GROUP, ctx[0], 0, ctx[1], 0, (int)ctx[2]);
}

/* vfio_device_open/release(device, group, name, ret) */
static __always_inline int handle_device_open(unsigned long long *ctx)
{
	return submit(ctx, LEAK_OPEN, VFIO_TRACE_OBJ_DEVICE, ctx[0], 0, ctx[1], 0, (int)ctx[3]);
}

static __always_inline int handle_device_release(unsigned long long *ctx)
{
	return submit(ctx, LEAK_CLOSE, VFIO_TRACE_OBJ_DEVICE, ctx[0], 0, ctx[1], 0, (int)ctx[3]);
}

VFIO_TP(vfio_ref_get, handle_ref_get)
VFIO_TP(vfio_ref_put, handle_ref_put)
VFIO_TP(vfio_external_user_get, handle_ext_get)
VFIO_TP(vfio_external_user_put, handle_ext_put)
VFIO_TP(vfio_container_open, handle_container_open)
VFIO_TP(vfio_container_close, handle_container_close)
VFIO_TP(vfio_container_release, handle_container_release)
VFIO_TP(vfio_group_open, handle_group_open)
VFIO_TP(vfio_group_release, handle_group_release)
VFIO_TP(vfio_group_attach, handle_group_attach)
VFIO_TP(vfio_group_detach, handle_group_detach)
VFIO_TP(vfio_device_open, handle_device_open)
VFIO_TP(vfio_device_release, handle_device_release)

char LICENSE[] SEC("license") = "GPL";
