/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reference events as vfio-leak sends them to user space: every
 * reference get/put and external-user get/put, with the holder and the
 * time, plus the fd open/close and attach/detach events the "held after
 * every fd is closed" rule needs (tools/lib/reftrack.c pairs them).
 * Shared by vfio-leak and vfio-exporter, which both feed reftrack.
 *
 * The including program gets the `events` ring buffer and one
 * leak_<event>(ctx) handler per event, and declares the entry points
 * itself with VFIO_TP(), so it can call other handlers of its own from
 * the same event.  Define VFIO_LEAK_STACKS before including to copy the
 * kernel stack of each get into its record (vfio-leak prints them; the
 * exporter, which only counts, does not pay for them: its records stop
 * before the stack).  Define LEAK_GATE() to a condition to send records
 * only while it holds (the collector: while a reader consumes them).
 *
 * Define VFIO_LEAK_STACK_RING for a second ring, `stack_events`, with
 * the stacks of gets, its own numbering (stack_seq) and its own loss
 * counter (stack_lost), filled only while LEAK_STACK_GATE() holds: the
 * collector sends the exporter's records to `events` and a vfio-leak
 * reading it those to `stack_events`, so neither's losses or numbering
 * touch the other's.
 */
#ifndef __VFIO_LEAK_BPF_H
#define __VFIO_LEAK_BPF_H

#include "vfio_tools.h"
#include "lost.bpf.h"
#include "vfio_tp.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} events SEC(".maps");

/* Per CPU: the number of the last event handled there (leak_event.seq). */
struct leak_seq_map {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} leak_seq SEC(".maps");

#ifndef LEAK_GATE
#define LEAK_GATE() true
#endif

#ifdef VFIO_LEAK_STACK_RING
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} stack_events SEC(".maps");

struct leak_seq_map stack_seq SEC(".maps");

/* Indexed by enum lost_reason, as `lost`. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOST_NR_REASONS);
	__type(key, __u32);
	__type(value, __u64);
} stack_lost SEC(".maps");
#endif

/*
 * Only a get needs its stack: it names who holds the reference.  The
 * stack is copied into the get's own record, so it goes with the record
 * and never competes for a slot in a shared map.
 */
static __always_inline bool leak_is_get(__u32 type)
{
	return type == LEAK_REF_GET || type == LEAK_EXT_GET;
}

static __always_inline bool leak_wants_stack(__u32 type)
{
#ifdef VFIO_LEAK_STACKS
	return leak_is_get(type);
#else
	return false;
#endif
}

static __always_inline void leak_count_lost(void *lost_map, __u32 reason)
{
	__u64 *n = bpf_map_lookup_elem(lost_map, &reason);

	if (n)
		(*n)++;
}

/* One record into `ring`, numbered by `seq_map`, losses counted in `lost_map`. */
static __always_inline int leak_send(void *ring, void *seq_map, void *lost_map, bool stack,
				     void *ctx, __u32 type, __u32 kind, __u32 id,
				     __u32 count, __u32 aux, __u64 caller, int ret)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();
	__u32 zero = 0;
	struct leak_event *e;
	__u64 *seq, n_seq = 0;
	long n;

	/* Numbered before the reservation, so a refused one leaves a gap. */
	seq = bpf_map_lookup_elem(seq_map, &zero);
	if (seq)
		n_seq = ++*seq;
	/* Two calls: the verifier wants each size to be a constant. */
	if (stack)
		e = bpf_ringbuf_reserve(ring, LEAK_EVENT_STACK_SIZE, 0);
	else
		e = bpf_ringbuf_reserve(ring, sizeof(*e), 0);
	if (!e) {
		leak_count_lost(lost_map, LOST_RINGBUF);
		return 0;
	}
	e->ts = bpf_ktime_get_ns();
	e->caller = caller;
	e->seq = n_seq;
	e->cpu = bpf_get_smp_processor_id();
	e->type = type;
	e->kind = kind;
	e->id = id;
	e->count = count;
	e->aux = aux;
	e->ret = ret;
	e->pid = pid_tgid >> 32;
	e->tid = (__u32)pid_tgid;
	bpf_get_current_comm(e->comm, sizeof(e->comm));
	e->flags = 0;
	e->stack_nr = 0;
	if (stack) {
		n = bpf_get_stack(ctx, e->stack, MAX_STACK_DEPTH * sizeof(__u64), 0);
		if (n > 0) {
			e->flags = LEAK_F_STACK;
			e->stack_nr = n / sizeof(__u64);
		} else {
			e->flags = LEAK_F_STACK_LOST;
			leak_count_lost(lost_map, LOST_STACK);
		}
	}
	bpf_ringbuf_submit(e, 0);
	return 0;
}

static __always_inline int leak_submit(void *ctx, __u32 type, __u32 kind, __u32 id,
				       __u32 count, __u32 aux, __u64 caller, int ret)
{
	if (LEAK_GATE())
		leak_send(&events, &leak_seq, &lost, leak_wants_stack(type),
			  ctx, type, kind, id, count, aux, caller, ret);
#ifdef VFIO_LEAK_STACK_RING
	if (LEAK_STACK_GATE())
		leak_send(&stack_events, &stack_seq, &stack_lost, leak_is_get(type),
			  ctx, type, kind, id, count, aux, caller, ret);
#endif
	return 0;
}

/* vfio_ref_get/put(kind, id, count, caller) */
static __always_inline int leak_ref_get(unsigned long long *ctx)
{
	return leak_submit(ctx, LEAK_REF_GET, ctx[0], ctx[1], ctx[2], 0, ctx[3], 0);
}

static __always_inline int leak_ref_put(unsigned long long *ctx)
{
	return leak_submit(ctx, LEAK_REF_PUT, ctx[0], ctx[1], ctx[2], 0, ctx[3], 0);
}

/* vfio_external_user_get/put(group, container, users, caller, ret) */
static __always_inline int leak_ext_get(unsigned long long *ctx)
{
	return leak_submit(ctx, LEAK_EXT_GET, VFIO_TRACE_OBJ_GROUP, ctx[0], ctx[2],
			   ctx[1], ctx[3], (int)ctx[4]);
}

static __always_inline int leak_ext_put(unsigned long long *ctx)
{
	return leak_submit(ctx, LEAK_EXT_PUT, VFIO_TRACE_OBJ_GROUP, ctx[0], ctx[2],
			   ctx[1], ctx[3], (int)ctx[4]);
}

static __always_inline int leak_container_open(unsigned long long *ctx)
{
	return leak_submit(ctx, LEAK_OPEN, VFIO_TRACE_OBJ_CONTAINER, ctx[0], 0, 0, 0, 0);
}

/* The container's fd was closed; it may live on (held by groups, external users). */
static __always_inline int leak_container_close(unsigned long long *ctx)
{
	return leak_submit(ctx, LEAK_CLOSE, VFIO_TRACE_OBJ_CONTAINER, ctx[0], 0, 0, 0, 0);
}

static __always_inline int leak_container_release(unsigned long long *ctx)
{
	return leak_submit(ctx, LEAK_FREED, VFIO_TRACE_OBJ_CONTAINER, ctx[0], 0, 0, 0, 0);
}

/* vfio_group_open/release(group, ret) */
static __always_inline int leak_group_open(unsigned long long *ctx)
{
	return leak_submit(ctx, LEAK_OPEN, VFIO_TRACE_OBJ_GROUP, ctx[0], 0, 0, 0, (int)ctx[1]);
}

static __always_inline int leak_group_release(unsigned long long *ctx)
{
	return leak_submit(ctx, LEAK_CLOSE, VFIO_TRACE_OBJ_GROUP, ctx[0], 0, 0, 0, (int)ctx[1]);
}

/* vfio_group_attach/detach(group, container, ret) */
static __always_inline int leak_group_attach(unsigned long long *ctx)
{
	return leak_submit(ctx, LEAK_ATTACH, VFIO_TRACE_OBJ_GROUP, ctx[0], 0, ctx[1], 0, (int)ctx[2]);
}

static __always_inline int leak_group_detach(unsigned long long *ctx)
{
	return leak_submit(ctx, LEAK_DETACH, VFIO_TRACE_OBJ_GROUP, ctx[0], 0, ctx[1], 0, (int)ctx[2]);
}

/* vfio_device_open/release(device, group, name, ret) */
static __always_inline int leak_device_open(unsigned long long *ctx)
{
	return leak_submit(ctx, LEAK_OPEN, VFIO_TRACE_OBJ_DEVICE, ctx[0], 0, ctx[1], 0, (int)ctx[3]);
}

static __always_inline int leak_device_release(unsigned long long *ctx)
{
	return leak_submit(ctx, LEAK_CLOSE, VFIO_TRACE_OBJ_DEVICE, ctx[0], 0, ctx[1], 0, (int)ctx[3]);
}

#endif /* __VFIO_LEAK_BPF_H */
