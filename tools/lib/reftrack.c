// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reftrack.h"

/* ---- stacks, shared by the holders that took them --------------------------- */

static uint64_t stack_hash(const uint64_t *ips, uint32_t nr)
{
	uint64_t h = 0xcbf29ce484222325ULL;	/* FNV-1a, over whole frames */
	uint32_t i;

	for (i = 0; i < nr; i++)
		h = (h ^ ips[i]) * 0x100000001b3ULL;
	return h;
}

/* NULL when out of memory: the holder is kept, without its stack. */
static struct ref_stack *stack_get(struct reftrack *rt, const uint64_t *ips, uint32_t nr)
{
	uint64_t h = stack_hash(ips, nr);
	struct ref_stack **b = &rt->stacks[h % REFTRACK_STACK_BUCKETS], *s;

	for (s = *b; s; s = s->next)
		if (s->hash == h && s->nr == nr && !memcmp(s->ips, ips, nr * sizeof(*ips))) {
			s->refs++;
			return s;
		}
	s = malloc(sizeof(*s) + nr * sizeof(*ips));
	if (!s)
		return NULL;
	s->hash = h;
	s->refs = 1;
	s->nr = nr;
	memcpy(s->ips, ips, nr * sizeof(*ips));
	s->next = *b;
	*b = s;
	rt->nr_stacks++;
	return s;
}

static void stack_put(struct reftrack *rt, const struct ref_stack *stack)
{
	struct ref_stack **p, *s = (struct ref_stack *)stack;

	if (!s || --s->refs)
		return;
	for (p = &rt->stacks[s->hash % REFTRACK_STACK_BUCKETS]; *p != s; p = &(*p)->next)
		;
	*p = s->next;
	free(s);
	rt->nr_stacks--;
}

/* A holder leaves the books: its stack goes with the last one. */
static void holder_release(struct reftrack *rt, struct ref_holder *h)
{
	stack_put(rt, h->stack);
	h->stack = NULL;
}

/* ---- objects ------------------------------------------------------------- */

struct reftrack *reftrack__new(size_t max_refs)
{
	struct reftrack *rt = calloc(1, sizeof(*rt));

	if (rt)
		rt->max_refs = max_refs;
	return rt;
}

void reftrack__free(struct reftrack *rt)
{
	struct ref_stack *s, *next;
	size_t i;

	if (!rt)
		return;
	for (i = 0; i < rt->nr_objs; i++) {
		free(rt->objs[i].held);
		free(rt->objs[i].limbo);
	}
	for (i = 0; i < REFTRACK_STACK_BUCKETS; i++)
		for (s = rt->stacks[i]; s; s = next) {
			next = s->next;
			free(s);
		}
	free(rt->objs);
	free(rt->cpu_seq);
	free(rt);
}

struct ref_obj *reftrack__find(struct reftrack *rt, uint32_t kind, uint32_t id)
{
	size_t i;

	/* Live VFIO objects number in the tens: a linear search is enough. */
	for (i = 0; i < rt->nr_objs; i++)
		if (rt->objs[i].kind == kind && rt->objs[i].id == id)
			return &rt->objs[i];
	return NULL;
}

static struct ref_obj *find_or_add(struct reftrack *rt, uint32_t kind, uint32_t id,
				   bool *created)
{
	struct ref_obj *o = reftrack__find(rt, kind, id);

	*created = false;
	if (o)
		return o;
	if (rt->nr_objs == rt->cap_objs) {
		size_t cap = rt->cap_objs ? rt->cap_objs * 2 : 32;
		struct ref_obj *n = realloc(rt->objs, cap * sizeof(*n));

		if (!n)
			return NULL;
		rt->objs = n;
		rt->cap_objs = cap;
	}
	o = &rt->objs[rt->nr_objs++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	o->id = id;
	*created = true;
	return o;
}

static void imbalance(struct reftrack *rt, const struct leak_event *e, uint32_t kind,
		      uint32_t why)
{
	struct ref_imbalance *im;

	im = &rt->imbalances[rt->nr_imbalances++ % REFTRACK_MAX_IMBALANCES];
	im->ts = e->ts;
	im->kind = kind;
	im->id = e->id;
	im->count = e->count;
	im->pid = e->pid;
	im->why = why;
	im->caller = e->caller;
	memcpy(im->comm, e->comm, sizeof(im->comm));
}

/* ---- holders --------------------------------------------------------------- */

static bool grow(struct ref_holder **a, size_t nr, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 8;
	struct ref_holder *n;

	if (nr < *cap)
		return true;
	n = realloc(*a, ncap * sizeof(*n));
	if (!n)
		return false;
	*a = n;
	*cap = ncap;
	return true;
}

/* Out of o->held, still remembered: the caller releases or keeps it. */
static struct ref_holder take_held(struct ref_obj *o, size_t i)
{
	struct ref_holder h = o->held[i];

	memmove(&o->held[i], &o->held[i + 1], (o->nr_held - i - 1) * sizeof(*o->held));
	o->nr_held--;
	return h;
}

static void drop_held(struct reftrack *rt, struct ref_obj *o, size_t i)
{
	struct ref_holder h = take_held(o, i);

	holder_release(rt, &h);
	rt->nr_refs--;
}

static void forget_held(struct reftrack *rt, struct ref_obj *o)
{
	while (o->nr_held)
		drop_held(rt, o, o->nr_held - 1);
}

/* The drops of the object's last count are final: forget them. */
static void limbo_clear(struct reftrack *rt, struct ref_obj *o)
{
	size_t i;

	for (i = 0; i < o->nr_limbo; i++)
		holder_release(rt, &o->limbo[i]);
	rt->nr_refs -= o->nr_limbo;
	o->nr_limbo = 0;
}

/* Back among the outstanding gets, in the order of their time. */
static void limbo_restore(struct ref_obj *o)
{
	struct ref_holder h = o->limbo[--o->nr_limbo];
	size_t i = o->nr_held;

	/* held has room: the holder came out of it. */
	while (i > 0 && o->held[i - 1].ts > h.ts)
		i--;
	memmove(&o->held[i + 1], &o->held[i], (o->nr_held - i) * sizeof(*o->held));
	o->held[i] = h;
	o->nr_held++;
}

/* Oldest first: the index in o->held of the oldest get (of a group). */
static ssize_t oldest_held(const struct ref_obj *o, bool by_group, uint32_t group)
{
	ssize_t i, pick = -1;

	/* Records of several CPUs interleave: held is only nearly in time order. */
	for (i = 0; i < (ssize_t)o->nr_held; i++) {
		if (by_group && o->held[i].group != group)
			continue;
		if (pick < 0 || o->held[i].ts < o->held[pick].ts)
			pick = i;
	}
	return pick;
}

/* stack: the frames after the record, NULL when it has none. */
static void hold(struct reftrack *rt, struct ref_obj *o, const struct leak_event *e,
		 const uint64_t *stack, uint32_t group)
{
	struct ref_holder *h;

	if (rt->nr_refs >= rt->max_refs || !grow(&o->held, o->nr_held, &o->cap_held)) {
		o->dropped++;
		rt->overflow++;
		return;
	}
	h = &o->held[o->nr_held++];
	h->ts = e->ts;
	h->caller = e->caller;
	h->stack = stack && e->stack_nr ? stack_get(rt, stack, e->stack_nr) : NULL;
	h->stack_lost = e->flags & LEAK_F_STACK_LOST;
	h->pid = e->pid;
	h->tid = e->tid;
	h->group = group;
	memcpy(h->comm, e->comm, sizeof(h->comm));
	rt->nr_refs++;
}

/* The get a put takes back: see the pairing rule in reftrack.h. */
static bool unhold(struct reftrack *rt, struct ref_obj *o, const struct leak_event *e,
		   bool by_group, uint32_t group)
{
	ssize_t i, pick = -1;

	for (i = o->nr_held - 1; i >= 0; i--) {
		if (by_group && o->held[i].group != group)
			continue;
		if (o->held[i].pid == e->pid) {
			pick = i;
			break;
		}
		if (pick < 0)
			pick = i;
	}
	if (pick < 0)
		return false;
	drop_held(rt, o, pick);
	return true;
}

/* ---- references on containers, groups and devices -------------------------- */

/*
 * The references reftrack has of an object are set to what the event's
 * count says (the rule is in reftrack.h).  More than the count: the
 * surplus went without a put we saw; the oldest gets go first, and wait
 * in limbo until the object's next event, then overflow, then untracked
 * ones.  Fewer: the next count brings limbo back first, since a count
 * read while another CPU took a reference can be short
 * (docs/tracepoints.md), and the rest are references we never saw taken.
 */
static void ref_reconcile(struct reftrack *rt, struct ref_obj *o, uint32_t count)
{
	int64_t d = (int64_t)count - reftrack__outstanding(o), n;
	ssize_t i;

	while (d > 0 && o->nr_limbo) {
		limbo_restore(o);
		rt->restored++;
		d--;
	}
	limbo_clear(rt, o);
	if (d > 0) {
		o->untracked += d;
		return;
	}
	d = -d;
	while (d > 0 && (i = oldest_held(o, false, 0)) >= 0) {
		/* No room in limbo: the get is dropped for good at once. */
		if (grow(&o->limbo, o->nr_limbo, &o->cap_limbo))
			o->limbo[o->nr_limbo++] = take_held(o, i);
		else
			drop_held(rt, o, i);
		rt->reconciled++;
		d--;
	}
	n = d < (int64_t)o->dropped ? d : (int64_t)o->dropped;
	o->dropped -= n;
	rt->reconciled += n;
	d -= n;
	o->untracked -= d < o->untracked ? d : o->untracked;
}

/* External users of a group keep at most max holds, the oldest dropped. */
static void ext_cap(struct reftrack *rt, uint32_t group, uint32_t max)
{
	size_t i, n = 0;
	ssize_t j, pick_j;
	struct ref_obj *pick;

	for (i = 0; i < rt->nr_objs; i++)
		if (rt->objs[i].kind == REF_KIND_EXTERNAL)
			for (j = 0; j < (ssize_t)rt->objs[i].nr_held; j++)
				n += rt->objs[i].held[j].group == group;
	for (; n > max; n--) {
		pick = NULL;
		pick_j = -1;
		for (i = 0; i < rt->nr_objs; i++) {
			struct ref_obj *x = &rt->objs[i];

			if (x->kind != REF_KIND_EXTERNAL ||
			    (j = oldest_held(x, true, group)) < 0)
				continue;
			if (!pick || x->held[j].ts < pick->held[pick_j].ts) {
				pick = x;
				pick_j = j;
			}
		}
		drop_held(rt, pick, pick_j);
		rt->reconciled++;
	}
}

/*
 * A new object behind an id: what reftrack still had of an object with
 * that id was not freed as far as we saw, so its free was among the lost
 * records; gets it still held count as reconciled.  keep_fds: a
 * container's open came just before, and its fd is this object's.
 */
static void obj_new(struct reftrack *rt, struct ref_obj *o, bool keep_fds)
{
	struct ref_obj old = *o;

	if (!o->freed)
		rt->reconciled += o->nr_held + o->dropped;
	forget_held(rt, o);
	limbo_clear(rt, o);
	memset(o, 0, sizeof(*o));
	o->kind = old.kind;
	o->id = old.id;
	o->held = old.held;
	o->cap_held = old.cap_held;
	o->limbo = old.limbo;
	o->cap_limbo = old.cap_limbo;
	if (keep_fds) {
		o->fds_open = old.fds_open;
		o->fds_seen = old.fds_seen;
		o->open_seen = old.open_seen;
		o->open_pending = old.open_pending;
		o->lost_at_open = old.lost_at_open;
		o->closed_ts = old.closed_ts;
	}
}

/* The external users of a container that is gone went with it. */
static void ext_gone(struct reftrack *rt, uint32_t container)
{
	struct ref_obj *x = reftrack__find(rt, REF_KIND_EXTERNAL, container);

	if (x)
		obj_new(rt, x, false);
}

/* An object freed (count 0, or the container's release). */
static void obj_freed(struct reftrack *rt, struct ref_obj *o)
{
	/* Not counted here when the count-0 put was seen: it left nothing. */
	rt->reconciled += o->nr_held + o->dropped;
	forget_held(rt, o);
	limbo_clear(rt, o);
	o->untracked = 0;
	o->dropped = 0;
	o->freed = true;
	if (o->kind == VFIO_TRACE_OBJ_CONTAINER)
		ext_gone(rt, o->id);
	/* Each external user holds its group: none is left. */
	if (o->kind == VFIO_TRACE_OBJ_GROUP)
		ext_cap(rt, o->id, 0);
}

static void put(struct reftrack *rt, struct ref_obj *o, const struct leak_event *e,
		uint32_t kind)
{
	if (unhold(rt, o, e, false, 0))
		return;
	if (o->dropped) {
		o->dropped--;
		return;
	}
	if (o->untracked > 0) {
		o->untracked--;
		return;
	}
	imbalance(rt, e, kind, IMB_PUT_WITHOUT_GET);
}

static void ref_event(struct reftrack *rt, const struct leak_event *e, const uint64_t *stack,
		      bool get)
{
	/* Counts from 2^31 up are below zero: they say nothing to reconcile with. */
	bool valid = e->count < 0x80000000U;
	struct ref_obj *o;
	bool created;

	o = find_or_add(rt, e->kind, e->id, &created);
	if (!o)
		return;
	/*
	 * A get that reads 1 leaves its own reference the only one: whatever
	 * reftrack had of the object is gone.  Mostly it is the creation
	 * (docs/tracepoints.md), else the object's free was lost, or a
	 * tryget (vfio_group_tryget) met the last other put.
	 */
	if (get && e->count == 1)
		obj_new(rt, o, o->kind == VFIO_TRACE_OBJ_CONTAINER && o->open_pending);
	else if (o->freed && valid)
		/*
		 * A new object with this id, whose creation was lost.  A put
		 * after a free with nothing new reads a count below zero.
		 */
		obj_new(rt, o, false);
	o->open_pending = false;
	if (!valid)
		imbalance(rt, e, e->kind, IMB_COUNT_BELOW_ZERO);
	if (!o->refs_seen && valid)
		o->untracked = get ? (int64_t)e->count - 1 : (int64_t)e->count + 1;
	o->refs_seen = true;
	if (o->untracked < 0)
		o->untracked = 0;
	o->last_count = e->count;
	if (get) {
		if (e->count == 1) {
			o->created = true;
			if (o->kind == VFIO_TRACE_OBJ_CONTAINER)
				ext_gone(rt, o->id);
		}
		hold(rt, o, e, stack, 0);
	} else {
		put(rt, o, e, e->kind);
	}
	if (!valid)
		return;
	ref_reconcile(rt, o, e->count);
	/* A count of 0 is exact: nothing can race with the last put. */
	if (!get && e->count == 0)
		obj_freed(rt, o);
}

/* ---- external users -------------------------------------------------------- */

/*
 * External users: by container, paired by group, bounded by the group's
 * `users` (the rule is in reftrack.h).  None are assumed from before the
 * tool; a put no get matches is an imbalance only when we saw the
 * container opened and no record was lost since (else its get predates
 * the tool, or was lost).
 */
static void ext_event(struct reftrack *rt, const struct leak_event *e, const uint64_t *stack,
		      bool get)
{
	struct leak_event k = *e;
	struct ref_obj *o, *c;
	bool created;

	if (e->ret < 0)
		return;
	k.id = e->aux;	/* the container */
	o = find_or_add(rt, REF_KIND_EXTERNAL, k.id, &created);
	if (!o)
		return;
	o->refs_seen = true;
	o->last_count = e->count;
	if (get) {
		hold(rt, o, &k, stack, e->id);
		/* The group file the caller passed is a user too. */
		if (e->count >= 1)
			ext_cap(rt, e->id, e->count - 1);
		return;
	}
	if (!unhold(rt, o, &k, true, e->id)) {
		if (o->dropped) {
			o->dropped--;
		} else {
			c = reftrack__find(rt, VFIO_TRACE_OBJ_CONTAINER, k.id);
			if (c && c->open_seen && c->lost_at_open == rt->missed)
				imbalance(rt, &k, REF_KIND_EXTERNAL, IMB_PUT_WITHOUT_GET);
		}
	}
	ext_cap(rt, e->id, e->count);
}

/* ---- fds ------------------------------------------------------------------- */

static void fd_count(struct ref_obj *o, const struct leak_event *e, bool open)
{
	if (open) {
		o->fds_open++;
		o->fds_seen = true;
		o->closed_ts = 0;
		return;
	}
	if (o->fds_open > 0)
		o->fds_open--;
	/* Opened before we started: its close still closes it. */
	o->fds_seen = true;
	if (!o->fds_open)
		o->closed_ts = e->ts;
}

/*
 * vfio_container_open/close, vfio_group_open/release and
 * vfio_device_open/release.  A device fd reaches its group's container as
 * well as the group fd does, so it counts as one of the group's fds too.
 */
static void fd_event(struct reftrack *rt, const struct leak_event *e, bool open)
{
	struct ref_obj *o, *g;
	bool created;

	if (e->ret < 0)
		return;
	o = find_or_add(rt, e->kind, e->id, &created);
	if (!o)
		return;
	/* Container ids come from an IDA: an open is always a new container. */
	if (open && e->kind == VFIO_TRACE_OBJ_CONTAINER) {
		obj_new(rt, o, false);
		o->open_seen = true;
		o->open_pending = true;
		o->lost_at_open = rt->missed;
		ext_gone(rt, o->id);
	} else if (open && o->freed) {
		obj_new(rt, o, false);
	}
	fd_count(o, e, open);
	if (e->kind != VFIO_TRACE_OBJ_DEVICE || !e->aux)
		return;
	g = find_or_add(rt, VFIO_TRACE_OBJ_GROUP, e->aux, &created);
	if (g)
		fd_count(g, e, open);
}

/* The gap between a CPU's last record and this one: records lost. */
static void seq_check(struct reftrack *rt, const struct leak_event *e)
{
	uint64_t last;

	if (!e->seq || e->cpu >= REFTRACK_MAX_CPUS)
		return;
	if (e->cpu >= rt->nr_cpus) {
		size_t nr = e->cpu + 1;
		uint64_t *n = realloc(rt->cpu_seq, nr * sizeof(*n));

		/* Out of memory: this CPU's gaps go uncounted for now. */
		if (!n)
			return;
		memset(n + rt->nr_cpus, 0, (nr - rt->nr_cpus) * sizeof(*n));
		rt->cpu_seq = n;
		rt->nr_cpus = nr;
	}
	last = rt->cpu_seq[e->cpu];
	if (last && e->seq <= last)
		return;		/* not ours to judge: a replayed or foreign record */
	if (last)
		rt->missed += e->seq - last - 1;
	rt->cpu_seq[e->cpu] = e->seq;
}

static void apply(struct reftrack *rt, const struct leak_event *e, const uint64_t *stack)
{
	struct ref_obj *o;
	bool created;

	rt->events++;
	seq_check(rt, e);
	switch (e->type) {
	case LEAK_REF_GET:
	case LEAK_REF_PUT:
		ref_event(rt, e, stack, e->type == LEAK_REF_GET);
		break;
	case LEAK_EXT_GET:
	case LEAK_EXT_PUT:
		ext_event(rt, e, stack, e->type == LEAK_EXT_GET);
		break;
	case LEAK_OPEN:
	case LEAK_CLOSE:
		fd_event(rt, e, e->type == LEAK_OPEN);
		break;
	case LEAK_FREED:
		o = reftrack__find(rt, e->kind, e->id);
		if (o)
			obj_freed(rt, o);
		else
			ext_gone(rt, e->id);
		break;
	case LEAK_ATTACH:
	case LEAK_DETACH:
		if (e->ret < 0)
			break;
		o = find_or_add(rt, VFIO_TRACE_OBJ_GROUP, e->id, &created);
		if (o)
			o->container = e->type == LEAK_ATTACH ? e->aux : 0;
		/* The group's last container user went: no external user is left. */
		if (e->type == LEAK_DETACH)
			ext_cap(rt, e->id, 0);
		break;
	}
}

void reftrack__event(struct reftrack *rt, const struct leak_event *e)
{
	apply(rt, e, NULL);
}

int reftrack__record(struct reftrack *rt, const void *data, size_t size)
{
	const struct leak_event *e = data;

	if (size < sizeof(*e))
		return -EINVAL;
	if ((e->flags & LEAK_F_STACK) &&
	    (e->stack_nr > MAX_STACK_DEPTH ||
	     size < sizeof(*e) + e->stack_nr * sizeof(e->stack[0])))
		return -EINVAL;
	apply(rt, e, e->flags & LEAK_F_STACK ? (const uint64_t *)e->stack : NULL);
	return 0;
}

int64_t reftrack__outstanding(const struct ref_obj *o)
{
	return (int64_t)o->nr_held + o->untracked + o->dropped;
}

static bool group_orphaned(const struct ref_obj *g)
{
	if (g->freed || !g->fds_seen || g->fds_open > 0)
		return false;
	return g->container || g->nr_held || g->dropped;
}

bool reftrack__orphaned(struct reftrack *rt, const struct ref_obj *o)
{
	size_t i, groups = 0;

	switch (o->kind) {
	case VFIO_TRACE_OBJ_GROUP:
		return group_orphaned(o);
	case VFIO_TRACE_OBJ_DEVICE:
		return !o->freed && o->fds_seen && !o->fds_open &&
		       (o->nr_held || o->dropped);
	case VFIO_TRACE_OBJ_CONTAINER:
		/* Its own fd: vfio_container_close says exactly when it went. */
		if (o->freed || !o->fds_seen || o->fds_open > 0)
			return false;
		/* Still reachable through a group (or device) fd: not orphaned. */
		for (i = 0; i < rt->nr_objs; i++) {
			const struct ref_obj *g = &rt->objs[i];

			if (g->kind != VFIO_TRACE_OBJ_GROUP || g->container != o->id)
				continue;
			if (g->freed || !g->fds_seen || g->fds_open > 0)
				return false;
			groups++;
		}
		/*
		 * Seen from its open, we saw every group join it; otherwise
		 * only a group we saw join can vouch that nothing else does.
		 */
		return o->open_seen || groups > 0;
	}
	return false;
}

size_t reftrack__count_held(const struct reftrack *rt, uint32_t kind)
{
	size_t i, n = 0;

	for (i = 0; i < rt->nr_objs; i++)
		if (!kind || rt->objs[i].kind == kind)
			n += rt->objs[i].nr_held;
	return n;
}

size_t reftrack__count_live(const struct reftrack *rt, uint32_t kind)
{
	size_t i, n = 0;

	for (i = 0; i < rt->nr_objs; i++)
		n += rt->objs[i].kind == kind && rt->objs[i].created && !rt->objs[i].freed;
	return n;
}

const char *reftrack__kind_name(uint32_t kind)
{
	switch (kind) {
	case VFIO_TRACE_OBJ_CONTAINER: return "container";
	case VFIO_TRACE_OBJ_GROUP: return "group";
	case VFIO_TRACE_OBJ_DEVICE: return "device";
	case REF_KIND_EXTERNAL: return "external-user";
	}
	return "unknown";
}

const char *reftrack__why_name(uint32_t why)
{
	switch (why) {
	case IMB_PUT_WITHOUT_GET: return "put without get";
	case IMB_COUNT_BELOW_ZERO: return "count below zero";
	}
	return "unknown";
}
