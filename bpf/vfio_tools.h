/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Types the vfioscope BPF programs and their loaders share: map keys and
 * values, ring-buffer records, and the constants both sides agree on.
 * Included by BPF code (after vmlinux.h) and by user space (which gets
 * the __uNN types from <linux/types.h>).
 */
#ifndef __VFIO_TOOLS_H
#define __VFIO_TOOLS_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#include "vfio_trace_abi.h"

#define TASK_COMM_LEN		16
#define MAX_STACK_DEPTH		32
#define HIST_NR_SLOTS		64

/* The legacy uAPI's ioctl numbers: _IO(VFIO_TYPE ';', VFIO_BASE 100 + n). */
#define VFIO_IOCTL_MAP_DMA	0x3b71
#define VFIO_IOCTL_UNMAP_DMA	0x3b72

/*
 * Why an event was lost: counted per CPU by bpf/lost.bpf.h, summed and
 * printed by every tool.  Silent loss is a bug.
 */
enum lost_reason {
	LOST_RINGBUF = 0,	/* ring buffer full: bpf_ringbuf_reserve failed */
	LOST_MAP_FULL,		/* a bounded hash map refused a new key */
	LOST_STACK,		/* bpf_get_stack failed: stack not recorded */
	LOST_ID_RANGE,		/* a container id beyond the collector's table */
	LOST_NR_REASONS,
};

/* How a tool was attached (tools/lib/attach.c decides, once). */
enum vfio_attach_mode {
	ATTACH_NONE = 0,
	ATTACH_TP_BTF,		/* our tracepoints, module BTF */
	ATTACH_RAW_TP,		/* our tracepoints, no module BTF */
	ATTACH_FENTRY,		/* Debian's in-tree vfio_iommu_type1 */
};

/*
 * One DMA map or unmap as every attach mode sees it: the fields of the
 * vfio_dma_map/unmap events (docs/tracepoints.md), plus what the
 * programs add.  In fentry mode some fields cannot be seen; `missing`
 * says which (DMA_MISSING_*), so tools print "-" instead of a wrong 0.
 */
struct vfio_dma_args {
	__u32 container;
	__u32 flags;
	__u64 iova;
	__u64 size;
	__u64 npages;
	__u64 pinned;
	__u64 pin_ns;
	__u64 iommu_ns;
	__u64 total_ns;		/* the whole operation */
	__u64 seq;		/* the container's operation number: orders levels */
	__u32 entries;
	__s32 ret;
	__u32 missing;
	/*
	 * fentry mode: this teardown frees the container (the in-tree
	 * vfio_iommu_type1_release), which has no vfio_container_release.
	 */
	__u32 released;
};

#define DMA_MISSING_IOMMU_NS	(1U << 0)
#define DMA_MISSING_PINNED	(1U << 1)
/*
 * What was mapped before the tool met the container is unknown: its
 * mapped bytes, and (in-tree) a teardown's size and pages.
 */
#define DMA_MISSING_MAPPED	(1U << 2)

/*
 * A container's levels as of the newest operation a CPU saw (struct
 * coll_dma; tools/lib/collector.c picks the highest seq of all CPUs).
 */
struct dma_level {
	__u64 seq;		/* 0: this CPU saw no event of the container */
	__u64 pinned;		/* pages */
	__u32 entries;
	__u32 missing;		/* DMA_MISSING_* of that event */
};

/* ---- vfio-lat ------------------------------------------------------------ */

enum lat_op { LAT_MAP = 0, LAT_UNMAP, LAT_NR_OPS };
enum lat_part { LAT_TOTAL = 0, LAT_PIN, LAT_IOMMU, LAT_NR_PARTS };

/* Counters of what vfio-lat saw but kept out of its histograms. */
enum lat_counter {
	LAT_CNT_FAILED = 0,	/* ret < 0 */
	LAT_CNT_TEARDOWN,	/* unmaps of a container's teardown */
	LAT_CNT_FILTERED,	/* left out by a filter */
	LAT_NR_COUNTERS,
};

/*
 * One histogram in nanoseconds: slot s counts [2^s, 2^(s+1)) ns (slot 0
 * also 0 ns); user space converts to the unit it prints.  The number of
 * operations is the sum of the slots.
 */
struct lat_hist {
	__u64 slots[HIST_NR_SLOTS];
	__u64 sum_ns;
	__u64 max_ns;
};

/*
 * What vfio-lat keeps of one operation (map, unmap) in one interval, per
 * CPU: one map lookup per event reaches all of it.
 */
struct lat_stats {
	struct lat_hist parts[LAT_NR_PARTS];
	__u64 counters[LAT_NR_COUNTERS];
};

/*
 * The stats map holds two banks, the programs writing one while user space
 * reads the other (bpf/vfio-lat.bpf.c, tools/lib/latency.h).
 */
#define LAT_NR_BANKS		2
#define LAT_KEY(bank, op)	((bank) * LAT_NR_OPS + (op))

/* ---- vfio-leak ----------------------------------------------------------- */

enum leak_event_type {
	LEAK_REF_GET = 1,	/* vfio_ref_get */
	LEAK_REF_PUT,		/* vfio_ref_put */
	LEAK_EXT_GET,		/* vfio_external_user_get (kind = GROUP) */
	LEAK_EXT_PUT,		/* vfio_external_user_put */
	LEAK_OPEN,		/* a user-space fd of the object was opened */
	LEAK_CLOSE,		/* ... was closed (container, group, device) */
	LEAK_FREED,		/* vfio_container_release */
	LEAK_ATTACH,		/* vfio_group_attach: id = group, aux = container */
	LEAK_DETACH,		/* vfio_group_detach */
};

/* leak_event.flags */
#define LEAK_F_STACK		(1U << 0)	/* stack_nr frames follow the record */
#define LEAK_F_STACK_LOST	(1U << 1)	/* a get whose stack could not be copied */

/*
 * One reference event.  In vfio-leak a get carries its kernel stack in
 * the record itself (LEAK_F_STACK, innermost frame first): a copy, so
 * nothing outlives the record and no two call paths can share a slot.
 * Other records, and every record of vfio-exporter, stop at stack[].
 *
 * seq numbers the events each CPU handled, from 1, the ones the ring
 * buffer refused included: a gap in a CPU's numbers is where records
 * were lost (the handlers do not nest on a CPU, so a CPU's records
 * arrive in its order).
 */
struct leak_event {
	__u64 ts;		/* CLOCK_MONOTONIC ns */
	__u64 caller;		/* kernel text address, 0 when none */
	__u64 seq;		/* per CPU, from 1 */
	__u32 type;		/* enum leak_event_type */
	__u32 kind;		/* enum vfio_trace_obj */
	__u32 id;
	__u32 count;		/* refs: count after; ext: users after */
	__u32 aux;		/* ext: container; attach/detach: container */
	__s32 ret;
	__u32 pid;		/* tgid */
	__u32 tid;
	char comm[TASK_COMM_LEN];
	__u16 flags;		/* LEAK_F_* */
	__u16 stack_nr;		/* frames in stack[] */
	__u32 cpu;		/* the CPU seq counts on */
	__u64 stack[];
};

/* The size of a record that carries a stack. */
#define LEAK_EVENT_STACK_SIZE	(sizeof(struct leak_event) + MAX_STACK_DEPTH * sizeof(__u64))

/* ---- vfio-exporter ------------------------------------------------------- */

/*
 * Errors by errno: slot e for -e (1 <= e < EXP_NR_ERRNO), slot 0 for any
 * other negative ret.  Every errno of <asm-generic/errno.h> a VFIO ioctl
 * returns is below 64.
 */
#define EXP_NR_ERRNO	64
enum exp_op { EXP_MAP = 0, EXP_UNMAP, EXP_NR_OPS };

/*
 * Latency of successful operations, per CPU.  Slot k counts values in
 * (2^(k-1), 2^k] ns (slot 0: 0 and 1 ns), so 2^k ns is an inclusive
 * upper bound, as a Prometheus `le` is; the last slot takes the rest.
 */
struct exp_hist {
	__u64 slots[HIST_NR_SLOTS];
	__u64 count;
	__u64 sum_ns;
};

/* ---- the collector (bpf/vfio-collector.bpf.c, tools/lib/collector.h) ---------- */

/*
 * Container ids index the collector's tables.  Our stack hands out the
 * smallest free id from 1, as fentry mode does for the in-tree stack, so
 * this bounds the containers live at once; an event of a larger id is
 * counted lost (LOST_ID_RANGE).
 */
#define COLL_MAX_CONTAINERS	1024
#define COLL_MAX_GROUPS		1024
#define COLL_MAX_PROCESSES	10240
#define COLL_MAX_ERROR_KEYS	4096

/* The layout of the pinned maps: a reader refuses another one. */
#define COLL_VERSION		1

/*
 * One container id's DMA on one CPU (a PERCPU_ARRAY indexed by id): only
 * that CPU writes it, so no atomics.  The first part counts every
 * container that had the id since the collector started, the second only
 * container `gen`: a CPU that meets a newer container under the id clears
 * it first, and a reader sums the CPUs whose gen is the live one.
 */
struct coll_dma {
	__u64 gen;
	__u64 ops[EXP_NR_OPS];		/* successful operations, no teardowns */
	__u64 bytes[EXP_NR_OPS];	/* maps; unmaps and teardowns */
	__u64 failed[EXP_NR_OPS];	/* ret < 0 */
	/* container gen only */
	__u64 gen_ops[EXP_NR_OPS];
	__u64 gen_bytes[EXP_NR_OPS];
	__u64 gen_failed[EXP_NR_OPS];
	__s64 mapped;			/* maps minus unmaps, teardown included */
	struct dma_level level;		/* of the highest seq this CPU saw */
};

/*
 * One container id's life, shared by the CPUs (an ARRAY indexed by id),
 * written at open, release and first sight only.
 */
struct coll_life {
	__u64 gen;		/* the id's newest container: 0 never seen, unique from 1 */
	__u64 released_ns;	/* its release (bpf_ktime_get_ns()), 0 while live */
	__s64 ext_users;	/* the users field of its last external-user event */
	__u64 iommu_errors;	/* its failed VFIO_SET_IOMMUs */
	__u32 missing;		/* DMA_MISSING_MAPPED: met after its first mapping */
	__u32 pad;
};

/* Failed operations by errno, per CPU: only the error path looks it up. */
struct coll_err_key {
	__u32 id;		/* container */
	__u16 op;		/* enum exp_op */
	__u16 err;		/* errno; 0 for one of EXP_NR_ERRNO or more */
};

/* A group's state, from its lifecycle events (rare: atomics are fine). */
struct coll_group {
	__u32 container;	/* attached to, 0 when none */
	__u32 fd_open;		/* its /dev/vfio/N is open */
	__s64 ext_users;	/* outstanding external-user gets */
	__u64 errors;		/* failed opens, attaches, device opens, external users */
};

/* A process is its tgid and its start: a reused pid is another process. */
struct coll_proc_key {
	__u32 tgid;
	__u32 pad;
	__u64 start;		/* the leader's start_boottime, ns */
};

/*
 * One process's DMA on one CPU (a PERCPU_HASH), kept only while a front
 * end asks for it (coll_config.process_rows_until).
 */
struct coll_proc {
	__u64 ops[EXP_NR_OPS];
	__u64 bytes[EXP_NR_OPS];
	__u64 errors;		/* failed operations and external-user calls */
	__s64 mapped;		/* maps minus unmaps */
	__s64 pinned;		/* pages pinned minus unpinned */
	__u64 last_ns;		/* this CPU's last event of it (to a tick) */
	__u32 container;	/* the container of that event */
	__u32 missing;		/* DMA_MISSING_MAPPED: met mapping into a used container */
	char comm[TASK_COMM_LEN];
};

/*
 * What only one front end at a time can read from the collector: a ring
 * buffer has one consumer, and vfio-lat's two banks are flipped by one
 * reader.  The holder renews its claim every second; a claim not renewed
 * (its holder was killed) runs out within seconds, and with it the work
 * the collector did for it.
 */
enum coll_claim_kind {
	COLL_CLAIM_STACKS = 0,	/* stack_events: vfio-leak */
	COLL_CLAIM_LAT,		/* lat_stats and lat_bank: vfio-lat */
	COLL_NR_CLAIMS,
};

struct coll_claim {
	__u64 until;		/* bpf_ktime_get_ns(); ~0: for ever */
	__u64 start;		/* the holder's start, as process_is() checks */
	__u32 pid;		/* the holder */
	__u32 pad;
};

/* The collector's one-entry settings array: what its readers ask of it. */
struct coll_config {
	/*
	 * Keep process rows until this bpf_ktime_get_ns() (~0: always).  A
	 * front end that wants them pushes it forward every interval, so a
	 * front end killed without cleaning up costs nothing for long.
	 */
	__u64 process_rows_until;
	/*
	 * When rows were last started afresh (CLOCK_BOOTTIME ns, the clock of
	 * a task's start_boottime): a process started later is seen whole.
	 */
	__u64 process_rows_since;
	__u32 ref_events;	/* a reader consumes `events`: send reference events */
	__u32 version;		/* COLL_VERSION */
	__u32 owner_pid;	/* the process that loaded it */
	__u32 mode;		/* enum vfio_attach_mode */
	__u64 owner_start;	/* its start, as process_is() checks */
	struct coll_claim claims[COLL_NR_CLAIMS];
};

/* ---- fentry mode: Debian's in-tree containers ------------------------------ */

/*
 * The in-tree stack has no container ids: we number its vfio_iommus as our
 * stack numbers containers, the smallest free id from 1, so they index the
 * same tables (COLL_MAX_CONTAINERS).  Its pinned pages are the sum of what
 * we saw pinned and unpinned, so a container that had pages pinned before
 * we attached would go below zero at its first unmap: `partial` then says
 * its levels are unknown.  One per live container, keyed by its
 * struct vfio_iommu * (bpf/vfio_dma.bpf.h: intree_containers).
 */
struct intree_container {
	__u32 id;
	__u32 partial;
	__u64 mapped;		/* bytes */
	__u64 pinned;		/* pages */
	__u64 seq;		/* operations seen: orders the levels */
};

/*
 * The layout of the persisted in-tree state (intree_ids, and
 * intree_containers' values): a collector that finds another one starts
 * afresh (tools/lib/intree_ids.h).  Change it with either struct.
 */
#define INTREE_STATE_VERSION	1

/* The in-tree ids in use, one bit each; id 0 is never handed out. */
struct intree_id_state {
	__u32 version;		/* INTREE_STATE_VERSION, written by user space */
	__u32 pad;
	__u64 words[COLL_MAX_CONTAINERS / 64];
};

#endif /* __VFIO_TOOLS_H */
