/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-leak's bookkeeping: every reference get and put on containers,
 * groups and devices, and every external-user get and put, paired up in
 * user space from the events bpf/vfio_leak.bpf.h sends.
 *
 * Pairing.  References are counted, not named: a put can drop any of the
 * object's references.  A put takes back the latest outstanding get of
 * the same process if there is one, else the latest get of anyone
 * (external users: of the same group).  Which holder is shown for a
 * reference left is the best guess; how many are left follows the
 * kernel's own counts (below).
 *
 * References the events never showed being taken (the one kref_init()
 * gives an object, or those taken before the tool started) are
 * "untracked": they have no holder and no age.  A put with no
 * outstanding get takes an untracked one; with none left it is an
 * imbalance: a put without a get.  A count read as below zero (a u32
 * above 2^31) is an imbalance too.
 *
 * Reconciliation with the kernel's counts.  A record the ring buffer
 * refused is gone: a lost put would leave its get outstanding forever
 * (a phantom, old enough to look like a leak), a lost get would make its
 * put look like an imbalance.  So every event's own count sets how many
 * references reftrack has of the object:
 *   - containers, groups, devices: after each vfio_ref_get/put the
 *     outstanding references (tracked + overflow + untracked) are made
 *     equal to its `count`.  A surplus drops the oldest tracked gets
 *     first, then the overflow, then untracked ones.  Keeping the
 *     youngest gets means that, when the surplus is gets whose puts were
 *     lost, the gets shown at least N seconds old, for any N, are never
 *     more than the kernel still holds of those we saw taken that long
 *     ago: a lost put cannot leave a stale-looking reference.  When the
 *     lost put was of a reference from before the tool, a seen get is
 *     dropped in its place (the count stays right, that holder is not
 *     shown).  A deficit adds untracked references (gets we did not
 *     see).  `count` is read next to the change (docs/tracepoints.md):
 *     when another CPU took a reference of the same object at that
 *     moment, one event's count can be short by one per such get.  The
 *     gets a count dropped therefore wait in limbo until the object's
 *     next event: if that event's count shows them, they come back
 *     (restored), else they are gone.  A count of 0 is exact (nothing
 *     can race with the last put): the object is freed with everything
 *     reftrack had of it, as are its external users.  A get that reads 1
 *     leaves its own reference the only one (usually the object's
 *     creation, docs/tracepoints.md): what reftrack had of an object with
 *     that id, whose free we missed, is dropped.
 *   - external users: `users` is read under the group's lock, exact, but
 *     it also counts the group's fd and its device fds, so it bounds the
 *     external users of the group from above: after a get, the group file
 *     the caller passed is one of the users, so at most users - 1 external
 *     users are left; after a put, at most users; after the group leaves
 *     its container (vfio_group_detach), or is freed, none.  A surplus
 *     drops the oldest external-user gets of the group.  These bounds
 *     never drop a real one.
 * Each dropped get counts in `reconciled` (and, when a later count brings
 * it back, in `restored`).  With no record lost, `reconciled` only moves
 * by the count races above, and `restored` takes them back at the next
 * event.
 *
 * Limits.  A lost get and a lost put of one object cancel out in its
 * count: the get whose put was lost stays shown, for the one we did not
 * see.  A count one short at an object's last event keeps a get in limbo,
 * not shown, until the object's next event.  While a group's device fds stay open, its `users` cannot tell
 * them from external users: an external user whose put was lost stays
 * outstanding until the bound reaches it (a get on the group with no
 * device fd open, the group's detach or free).  A lost free record leaves
 * an object counted live until its id is reused.  A lost open or close
 * record makes the "held after close" judgement below wrong for that
 * object.  Two groups with one id (an unplugged group whose file is still
 * open, and the new group of a device of its IOMMU group bound again,
 * docs/tracepoints.md) are one object here: their counts, each its own,
 * reconcile against each other, so the id's references and imbalances
 * are wrong until the old file is closed.  An unmatched external-user put whose get was lost on another
 * CPU is still flagged as an imbalance when that CPU's gap has not shown
 * yet.
 *
 * Held after close: references still held after every user-space fd of
 * the object is closed.  The fds are counted from the open and close
 * events: vfio_container_open/close (the container's own fd),
 * vfio_group_open/release, and vfio_device_open/release, a device fd
 * counting for its group too (it reaches the group's container as well).
 *   - a container is orphaned when its fd is closed (vfio_container_close
 *     seen) but it is not freed (no vfio_container_release), and no group
 *     attached to it has an fd open: nothing in user space can reach it,
 *     so whatever keeps it (an external user, a kernel reference) is a
 *     leak.  Its external-user gets are the holders reported.  A container
 *     whose open we did not see is judged only when a group we saw join
 *     it vouches for it (we cannot know the groups that joined before);
 *   - a group is orphaned when all its fds are closed and it is still
 *     attached to a container (its last close detaches it unless an
 *     external user holds it), or still has tracked references;
 *   - a device is orphaned when its fds are closed and tracked references
 *     remain.
 * Fds opened before the tool started are unknown: their close is still
 * counted, never below zero.
 *
 * Bounded: at most max_refs outstanding gets are remembered (limbo
 * included); further gets are counted as overflow (and their puts consume
 * them first).
 *
 * Lost records.  Each CPU numbers its events (leak_event.seq), the ones
 * the ring buffer refused included; `missed` counts the numbers that
 * never arrived, so reftrack knows, in the stream, that records were
 * lost.  A CPU's first record sets its start: what was lost before it
 * is not seen here (the BPF side's lost counter has it).
 *
 * Stacks.  A get's kernel stack comes in its record (bpf/vfio_leak.bpf.h)
 * and is kept once per distinct stack, shared by the holders that have it
 * and freed with the last of them, so memory follows the holders.
 */
#ifndef __REFTRACK_H
#define __REFTRACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "vfio_tools.h"

/* Object kinds: enum vfio_trace_obj, plus external users by container. */
#define REF_KIND_EXTERNAL 4
#define REF_NR_KINDS 5

/* One distinct kernel stack, shared by the holders that took it. */
struct ref_stack {
	struct ref_stack *next;		/* hash chain */
	uint64_t hash;
	uint32_t refs;			/* holders pointing here */
	uint32_t nr;			/* frames in ips[] */
	uint64_t ips[];			/* innermost first */
};

struct ref_holder {
	uint64_t ts;
	uint64_t caller;
	const struct ref_stack *stack;	/* NULL: none in the record */
	bool stack_lost;		/* the BPF side failed to copy it */
	uint32_t pid, tid;
	uint32_t group;		/* external users: the group */
	char comm[TASK_COMM_LEN];
};

struct ref_obj {
	uint32_t kind, id;
	struct ref_holder *held;	/* outstanding gets, oldest first */
	size_t nr_held, cap_held;
	int64_t untracked;
	bool refs_seen;			/* untracked is known */
	uint64_t dropped;		/* gets not remembered: table full */
	struct ref_holder *limbo;	/* gets the last count dropped, until the next event */
	size_t nr_limbo, cap_limbo;
	uint32_t last_count;
	int fds_open;			/* user-space fds; a group's include its devices' */
	bool fds_seen;			/* an open or close was seen */
	bool open_seen;			/* containers: vfio_container_open was seen */
	bool open_pending;		/* containers: opened, its first get not seen yet */
	uint64_t lost_at_open;		/* containers: reftrack's missed at the open */
	uint64_t closed_ts;		/* when the last fd closed */
	uint32_t container;		/* groups: attached to, 0 when not */
	bool freed;
	bool created;			/* its creation (a get with count 1) was seen */
};

enum ref_imbalance_why {
	IMB_PUT_WITHOUT_GET = 1,
	IMB_COUNT_BELOW_ZERO,
};

struct ref_imbalance {
	uint64_t ts;
	uint32_t kind, id, count, pid;
	uint32_t why;			/* enum ref_imbalance_why */
	uint64_t caller;
	char comm[TASK_COMM_LEN];
};

#define REFTRACK_MAX_IMBALANCES 64
#define REFTRACK_STACK_BUCKETS 1024
/* CPU numbers above this are taken for a bad record's, not followed. */
#define REFTRACK_MAX_CPUS 8192

struct reftrack {
	struct ref_obj *objs;
	size_t nr_objs, cap_objs;
	size_t max_refs, nr_refs;	/* outstanding gets remembered */
	uint64_t overflow;		/* gets not remembered */
	uint64_t reconciled;		/* gets dropped: the kernel's counts said they were put */
	uint64_t restored;		/* of those, brought back by the object's next count */
	uint64_t nr_imbalances;		/* all of them */
	struct ref_imbalance imbalances[REFTRACK_MAX_IMBALANCES]; /* the last ones */
	uint64_t events;
	uint64_t missed;		/* records lost, from the gaps in seq */
	uint64_t *cpu_seq;		/* per CPU: the last seq, 0 before the first */
	size_t nr_cpus;
	struct ref_stack *stacks[REFTRACK_STACK_BUCKETS];
	size_t nr_stacks;		/* distinct stacks held */
};

struct reftrack *reftrack__new(size_t max_refs);
void reftrack__free(struct reftrack *rt);
/* One record without its stack (the exporter's, which carry none). */
void reftrack__event(struct reftrack *rt, const struct leak_event *e);
/*
 * One ring-buffer record as the BPF side sent it, stack included:
 * -EINVAL, with nothing changed, when it is shorter than it says.
 */
int reftrack__record(struct reftrack *rt, const void *data, size_t size);

struct ref_obj *reftrack__find(struct reftrack *rt, uint32_t kind, uint32_t id);
/* Outstanding references of an object: tracked + untracked + dropped. */
int64_t reftrack__outstanding(const struct ref_obj *o);
bool reftrack__orphaned(struct reftrack *rt, const struct ref_obj *o);
/* Tracked outstanding gets, over all objects of a kind (0: all kinds). */
size_t reftrack__count_held(const struct reftrack *rt, uint32_t kind);
/* Objects of a kind seen created (a vfio_ref_get with count 1) and not freed. */
size_t reftrack__count_live(const struct reftrack *rt, uint32_t kind);

const char *reftrack__kind_name(uint32_t kind);
const char *reftrack__why_name(uint32_t why);

#endif /* __REFTRACK_H */
