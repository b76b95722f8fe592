// SPDX-License-Identifier: GPL-2.0
/*
 * The collector: the one program set behind vfio-top and vfio-exporter.
 * Loaded once per host (the exporter pins its maps under
 * /sys/fs/bpf/vfioscope/, tools/lib/collector.h), so what a DMA event
 * costs does not depend on how many front ends read it.
 *
 * The hot path (handle_dma) touches a per-CPU slot indexed by the
 * container id the event carries, a shared array entry it only reads,
 * and a per-CPU histogram: no atomics, no hash lookups.  Failed
 * operations (by errno) and per-process rows are hashes, the first on the
 * error path only, the second only while a front end asks for it.
 * Reference events go to the `events` ring buffer only while a reader
 * consumes it (the exporter's reftrack), and with the stacks of gets to
 * `stack_events` only while a vfio-leak reads it.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>

#include "vfio_tools.h"
#include "log2.bpf.h"
#include "lost.bpf.h"
#include "lat_account.bpf.h"

/* coll_life.gen: the container under this id was released. */
#define GEN_RELEASED	(1ULL << 63)

/*
 * Mappable: each front end stores its own fields in place (user space
 * mmaps it), so no reader's read-modify-write of the whole entry can undo
 * another's.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct coll_config);
} settings SEC(".maps");

static __always_inline struct coll_config *coll_settings(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&settings, &zero);
}

static __always_inline bool refs_wanted(void)
{
	struct coll_config *cfg = coll_settings();

	return cfg && cfg->ref_events;
}

/*
 * The clock as the front ends' deadlines and the process rows need it:
 * bpf_ktime_get_ns() of this CPU's first event in the current jiffy.
 * Reading the clock source is most of what a front end costs per event
 * (natively ~25 of ~60 ns with every front end attached, and where the
 * hypervisor offers no stable TSC it is an emulated device, HPET);
 * bpf_jiffies64() is a memory read.  (The coarse clock, a memory read too,
 * is refused to tracing programs.)  So a deadline is judged up to one tick
 * late, and a process row's last_ns is as old as that.
 */
struct tick_clock {
	__u64 jiffies;
	__u64 ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tick_clock);
} tick_clock SEC(".maps");

static __always_inline __u64 tick_ns(void)
{
	struct tick_clock *t;
	__u64 jiffies;
	__u32 zero = 0;

	t = bpf_map_lookup_elem(&tick_clock, &zero);
	if (!t)
		return bpf_ktime_get_ns();
	jiffies = bpf_jiffies64();
	if (t->jiffies != jiffies) {
		t->jiffies = jiffies;
		t->ns = bpf_ktime_get_ns();
	}
	return t->ns;
}

/*
 * Whether a deadline a front end pushes forward is still ahead: the clock
 * is read at most once per event, into *now, and only when a deadline is
 * set.
 */
static __always_inline bool still_wanted(__u64 until, __u64 *now)
{
	if (until == ~0ULL)
		return true;
	if (!until)
		return false;
	if (!*now)
		*now = tick_ns();
	return *now < until;
}

/* Whether a front end holds the claim (no clock read when nobody does). */
static __always_inline bool claimed(struct coll_config *cfg, __u32 kind, __u64 *now)
{
	if (!cfg || kind >= COLL_NR_CLAIMS)
		return false;
	return still_wanted(cfg->claims[kind].until, now);
}

static __always_inline bool claimed_now(__u32 kind)
{
	__u64 now = 0;

	return claimed(coll_settings(), kind, &now);
}

#define LEAK_GATE() refs_wanted()
#define VFIO_LEAK_STACK_RING
#define LEAK_STACK_GATE() claimed_now(COLL_CLAIM_STACKS)
#include "vfio_leak.bpf.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, COLL_MAX_CONTAINERS);
	__type(key, __u32);
	__type(value, struct coll_dma);
} dma SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, COLL_MAX_CONTAINERS);
	__type(key, __u32);
	__type(value, struct coll_life);
} life SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, COLL_MAX_ERROR_KEYS);
	__type(key, struct coll_err_key);
	__type(value, __u64);
} errors SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, EXP_NR_OPS);
	__type(key, __u32);
	__type(value, struct exp_hist);
} hists SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, COLL_MAX_GROUPS);
	__type(key, __u32);
	__type(value, struct coll_group);
} groups SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, COLL_MAX_PROCESSES);
	__type(key, struct coll_proc_key);
	__type(value, struct coll_proc);
} processes SEC(".maps");

/* vfio-lat's statistics, as its own programs keep them: key LAT_KEY(bank, op). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LAT_NR_BANKS * LAT_NR_OPS);
	__type(key, __u32);
	__type(value, struct lat_stats);
} lat_stats SEC(".maps");

/* The bank the programs write; flipped by the vfio-lat holding the claim. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} lat_bank SEC(".maps");

/* Containers' generations: unique, from 1. */
__u64 next_gen;

/* ---- containers' lives ---------------------------------------------------- */

/*
 * Whether the container held no mapping before this event: met at such an
 * event, its mapped bytes are known from zero; met later, they are not
 * (DMA_MISSING_MAPPED).  entries is the count after the event; an unmap
 * that removed something cannot tell how many entries it removed.
 */
static __always_inline bool dma_was_empty(bool is_map, const struct vfio_dma_args *a)
{
	if (a->ret < 0)
		return a->entries == 0;
	if (is_map)
		return a->entries == 1;
	return a->size == 0 && a->entries == 0;
}

static __always_inline struct coll_life *life_of(__u32 id)
{
	if (id >= COLL_MAX_CONTAINERS) {
		count_lost(LOST_ID_RANGE);
		return NULL;
	}
	return bpf_map_lookup_elem(&life, &id);
}

/* A new container under the id: vfio_container_open. */
static __always_inline void life_start(struct coll_life *l)
{
	l->released_ns = 0;
	l->ext_users = 0;
	l->iommu_errors = 0;
	l->missing = 0;
	l->gen = __sync_fetch_and_add(&next_gen, 1) + 1;
}

/*
 * The generation of the event's container.  An id never seen, or seen
 * released, holds a container the collector did not see open: one that
 * predates it, or (fentry mode, which has no open) a new one.  One CPU
 * wins the change; if the container already held mappings, what it maps
 * is unknown.
 */
static __always_inline __u64 life_gen(struct coll_life *l, bool is_map,
				      const struct vfio_dma_args *a)
{
	__u64 old = l->gen, gen;

	if (old && !(old & GEN_RELEASED))
		return old;
	gen = __sync_fetch_and_add(&next_gen, 1) + 1;
	if (__sync_val_compare_and_swap(&l->gen, old, gen) == old) {
		l->released_ns = 0;
		l->ext_users = 0;
		l->iommu_errors = 0;
		l->missing = dma_was_empty(is_map, a) ? 0 : DMA_MISSING_MAPPED;
		return gen;
	}
	return l->gen & ~GEN_RELEASED;
}

static __always_inline void life_release(struct coll_life *l)
{
	l->released_ns = bpf_ktime_get_ns();
	__sync_fetch_and_or(&l->gen, GEN_RELEASED);
}

/* ---- DMA ------------------------------------------------------------------ */

static __always_inline void hist_record(__u32 op, __u64 ns)
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

static __always_inline void error_record(__u32 id, __u32 op, int ret)
{
	struct coll_err_key key = { .id = id, .op = op };
	__u64 *n, one = 1;

	key.err = -ret < EXP_NR_ERRNO ? -ret : 0;
	n = bpf_map_lookup_elem(&errors, &key);
	if (n)
		(*n)++;
	else if (bpf_map_update_elem(&errors, &key, &one, BPF_NOEXIST) &&
		 (n = bpf_map_lookup_elem(&errors, &key)))
		(*n)++;		/* another CPU created it meanwhile */
	else if (!n && !bpf_map_lookup_elem(&errors, &key))
		count_lost(LOST_MAP_FULL);
}

static __always_inline bool process_rows_wanted(struct coll_config *cfg, __u64 *now)
{
	return cfg && still_wanted(cfg->process_rows_until, now);
}

/*
 * Whether the kernel has its own BTF (tools/lib/attach.h:
 * attach_kernel_has_btf()).  Without it the verifier refuses
 * bpf_get_current_task_btf(), whose return type it cannot name, even in
 * a raw_tp program: Debian's ppc64el 6.1 kernel.  The branch not taken is
 * never verified (the value is known at load).
 */
const volatile bool targ_task_btf = true;

/*
 * Through the task's BTF pointer: two loads, where BPF_CORE_READ() makes
 * two bpf_probe_read_kernel() calls on every event of a process row.
 * Without kernel BTF the probe reads it is, the offsets relocated against
 * the BTF file the tool was given (--btf).
 */
static __always_inline __u64 current_start(void)
{
	struct task_struct *task;

	if (targ_task_btf)
		return bpf_get_current_task_btf()->group_leader->start_boottime;
	task = (struct task_struct *)bpf_get_current_task();
	return BPF_CORE_READ(task, group_leader, start_boottime);
}

/* Whether the current process started before process rows were asked for. */
static __always_inline bool start_before_rows(struct coll_config *cfg)
{
	return !cfg || current_start() < cfg->process_rows_since;
}

/* The current process's row on this CPU; *created when it is new. */
static __always_inline struct coll_proc *process_row(bool *created)
{
	struct coll_proc_key key = {
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.start = current_start(),
	};
	struct coll_proc *p, init = {};

	p = bpf_map_lookup_elem(&processes, &key);
	if (p)
		return p;
	bpf_get_current_comm(init.comm, sizeof(init.comm));
	if (bpf_map_update_elem(&processes, &key, &init, BPF_NOEXIST)) {
		p = bpf_map_lookup_elem(&processes, &key);
		if (!p)
			count_lost(LOST_MAP_FULL);
		return p;
	}
	*created = true;
	return bpf_map_lookup_elem(&processes, &key);
}

/*
 * A teardown runs in whoever dropped the container's last reference: it
 * changes the container, not the process that mapped.
 */
static __always_inline void process_dma(struct coll_config *cfg, __u64 now, bool is_map,
					const struct vfio_dma_args *a)
{
	__u32 op = is_map ? EXP_MAP : EXP_UNMAP;
	bool created = false;
	struct coll_proc *p = process_row(&created);

	if (!p)
		return;
	/*
	 * A process started before process rows were asked for may have
	 * mapped before: if it meets a container that holds mappings, some may
	 * be its own, and its levels are unknown.  One started later is
	 * known from zero, whatever others hold in its container.
	 */
	if (created && start_before_rows(cfg) && !dma_was_empty(is_map, a))
		p->missing |= DMA_MISSING_MAPPED;
	p->last_ns = now;
	p->container = a->container;
	if (a->ret < 0) {
		p->errors++;
		return;
	}
	p->ops[op & 1]++;
	p->bytes[op & 1] += a->size;
	p->mapped += is_map ? a->size : -a->size;
	p->pinned += is_map ? a->npages : -a->npages;
}

/* The bank is read once: the operation goes whole into one interval. */
static __always_inline void lat_dma(bool is_map, const struct vfio_dma_args *a)
{
	__u32 zero = 0, *bank = bpf_map_lookup_elem(&lat_bank, &zero), key;
	struct lat_stats *st;

	if (!bank)
		return;
	key = LAT_KEY(*bank & 1, is_map ? LAT_MAP : LAT_UNMAP);
	st = bpf_map_lookup_elem(&lat_stats, &key);
	if (st)
		lat_account(st, is_map, a, false);
}

static __always_inline int handle_dma(bool is_map, struct vfio_dma_args *a)
{
	bool teardown = !is_map && (a->flags & VFIO_TRACE_UNMAP_TEARDOWN);
	__u32 id = a->container, op = is_map ? EXP_MAP : EXP_UNMAP;
	struct coll_life *l = life_of(id);
	struct coll_config *cfg;
	struct coll_dma *d;
	__u64 gen, now = 0;

	if (!l)
		return 0;
	d = bpf_map_lookup_elem(&dma, &id);
	if (!d)
		return 0;
	gen = life_gen(l, is_map, a);
	if (d->gen != gen) {
		/* This CPU's first event of the container: its part starts at 0. */
		d->gen = gen;
		d->gen_ops[0] = d->gen_ops[1] = 0;
		d->gen_bytes[0] = d->gen_bytes[1] = 0;
		d->gen_failed[0] = d->gen_failed[1] = 0;
		d->mapped = 0;
		d->level.seq = 0;
	}
	if (a->ret < 0) {
		d->failed[op & 1]++;
		d->gen_failed[op & 1]++;
		error_record(id, op, a->ret);
	} else {
		if (!teardown) {
			d->ops[op & 1]++;
			d->gen_ops[op & 1]++;
			hist_record(op, a->total_ns);
		}
		d->bytes[op & 1] += a->size;
		d->gen_bytes[op & 1] += a->size;
		d->mapped += is_map ? a->size : -a->size;
	}
	/* The newest operation's levels: a CPU keeps those of the highest seq it saw. */
	if (a->seq > d->level.seq) {
		d->level.seq = a->seq;
		d->level.pinned = a->pinned;
		d->level.entries = a->entries;
		d->level.missing = a->missing;
	}
	if ((a->missing & DMA_MISSING_MAPPED) && !(l->missing & DMA_MISSING_MAPPED))
		__sync_fetch_and_or(&l->missing, DMA_MISSING_MAPPED);
	cfg = coll_settings();
	if (!teardown && process_rows_wanted(cfg, &now))
		process_dma(cfg, now ? now : tick_ns(), is_map, a);
	if (claimed(cfg, COLL_CLAIM_LAT, &now))
		lat_dma(is_map, a);
	if (a->released)
		life_release(l);	/* fentry: the in-tree release */
	return 0;
}

static __always_inline void handle_intree_open(__u32 id)
{
	struct coll_life *l = life_of(id);

	if (l)
		life_start(l);
}

#include "vfio_dma.bpf.h"

/* ---- lifecycle: our tracepoints only -------------------------------------- */

static __always_inline int container_open(unsigned long long *ctx)
{
	struct coll_life *l = life_of(ctx[0]);

	if (l)
		life_start(l);
	return leak_container_open(ctx);
}

static __always_inline int container_release(unsigned long long *ctx)
{
	struct coll_life *l = life_of(ctx[0]);

	if (l)
		life_release(l);
	return leak_container_release(ctx);
}

/* vfio_iommu_set(container, driver, type, ret) */
static __always_inline int iommu_set(unsigned long long *ctx)
{
	struct coll_life *l;

	if ((int)ctx[3] >= 0)
		return 0;
	l = life_of(ctx[0]);
	if (l)
		__sync_fetch_and_add(&l->iommu_errors, 1);
	return 0;
}

static __always_inline struct coll_group *group_of(__u32 id)
{
	static const struct coll_group zero;
	struct coll_group *g = bpf_map_lookup_elem(&groups, &id);

	if (g)
		return g;
	if (bpf_map_update_elem(&groups, &id, &zero, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&groups, &id)) {
		count_lost(LOST_MAP_FULL);
		return NULL;
	}
	return bpf_map_lookup_elem(&groups, &id);
}

static __always_inline void group_error(__u32 id)
{
	struct coll_group *g = group_of(id);

	if (g)
		__sync_fetch_and_add(&g->errors, 1);
}

/* vfio_group_open/release(group, ret) */
static __always_inline void group_fd(unsigned long long *ctx, bool open)
{
	struct coll_group *g;

	if ((int)ctx[1] < 0) {
		group_error(ctx[0]);
		return;
	}
	g = group_of(ctx[0]);
	if (g)
		g->fd_open = open;
}

static __always_inline int group_open(unsigned long long *ctx)
{
	group_fd(ctx, true);
	return leak_group_open(ctx);
}

static __always_inline int group_release(unsigned long long *ctx)
{
	group_fd(ctx, false);
	return leak_group_release(ctx);
}

/* vfio_group_attach/detach(group, container, ret) */
static __always_inline void group_container(unsigned long long *ctx, bool attach)
{
	struct coll_group *g;

	if ((int)ctx[2] < 0) {
		group_error(ctx[0]);
		return;
	}
	g = group_of(ctx[0]);
	if (g)
		g->container = attach ? (__u32)ctx[1] : 0;
}

static __always_inline int group_attach(unsigned long long *ctx)
{
	group_container(ctx, true);
	return leak_group_attach(ctx);
}

static __always_inline int group_detach(unsigned long long *ctx)
{
	group_container(ctx, false);
	return leak_group_detach(ctx);
}

/* vfio_device_open(device, group, name, ret): a failed open is the group's error. */
static __always_inline int device_open(unsigned long long *ctx)
{
	if ((int)ctx[3] < 0)
		group_error(ctx[1]);
	return leak_device_open(ctx);
}

/* vfio_external_user_get/put(group, container, users, caller, ret) */
static __always_inline void external_user(unsigned long long *ctx, bool get)
{
	__u32 group = ctx[0], container = ctx[1];
	struct coll_group *g;
	struct coll_life *l;
	__u64 now = 0;

	if ((int)ctx[4] < 0) {
		/* group = 0: the file was no group; the caller's process erred. */
		if (group) {
			group_error(group);
		} else if (process_rows_wanted(coll_settings(), &now)) {
			bool created = false;
			struct coll_proc *p = process_row(&created);

			if (p)
				p->errors++;
		}
		return;
	}
	g = group_of(group);
	if (g)
		__sync_fetch_and_add(&g->ext_users, get ? 1 : -1);
	l = life_of(container);
	if (l)
		l->ext_users = (__u32)ctx[2];
}

static __always_inline int external_user_get(unsigned long long *ctx)
{
	external_user(ctx, true);
	return leak_ext_get(ctx);
}

static __always_inline int external_user_put(unsigned long long *ctx)
{
	external_user(ctx, false);
	return leak_ext_put(ctx);
}

VFIO_TP(vfio_container_open, container_open)
VFIO_TP(vfio_container_release, container_release)
VFIO_TP(vfio_container_close, leak_container_close)
VFIO_TP(vfio_iommu_set, iommu_set)
VFIO_TP(vfio_ref_get, leak_ref_get)
VFIO_TP(vfio_ref_put, leak_ref_put)
VFIO_TP(vfio_external_user_get, external_user_get)
VFIO_TP(vfio_external_user_put, external_user_put)
VFIO_TP(vfio_group_open, group_open)
VFIO_TP(vfio_group_release, group_release)
VFIO_TP(vfio_group_attach, group_attach)
VFIO_TP(vfio_group_detach, group_detach)
VFIO_TP(vfio_device_open, device_open)
VFIO_TP(vfio_device_release, leak_device_release)

char LICENSE[] SEC("license") = "GPL";
