// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of vfio-leak: crafted reference events run through the raw_tp
 * entry points of vfio-leak.bpf.c, read back from its ring buffer and
 * paired by tools/lib/reftrack.c, must leave exactly the references they
 * should, find the orphaned group and container, and flag imbalances.
 */
#define _GNU_SOURCE
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "attach.h"
#include "check.h"
#include "raw_tp_run.h"
#include "common.h"
#include "ksyms.h"
#include "reftrack.h"
#include "vfio-leak.skel.h"
#include "vfio_tools.h"

#define CONTAINER VFIO_TRACE_OBJ_CONTAINER
#define GROUP VFIO_TRACE_OBJ_GROUP
#define DEVICE VFIO_TRACE_OBJ_DEVICE
#define CALLER(n) (0xffffffffc0000000ULL + (n) * 0x100)
#define NEG(x) ((uint64_t)(int64_t)(x))

struct fixture {
	struct vfio_leak *skel;
	struct ring_buffer *rb;
	struct reftrack *rt;
	uint64_t events;
	uint64_t gets_with_stack;
	uint64_t others_with_stack;
};

static int on_event(void *ctx, void *data, size_t size)
{
	struct fixture *f = ctx;
	const struct leak_event *e = data;
	bool get;

	if (size < sizeof(*e))
		return -EINVAL;
	f->events++;
	get = e->type == LEAK_REF_GET || e->type == LEAK_EXT_GET;
	if (e->flags & LEAK_F_STACK) {
		/* The record is as long as a full stack, whatever it holds. */
		if (size < LEAK_EVENT_STACK_SIZE || !e->stack_nr)
			return -EINVAL;
		if (get)
			f->gets_with_stack++;
		else
			f->others_with_stack++;
	}
	return reftrack__record(f->rt, data, size);
}

/* ring: the ring buffer's size in bytes, 0 for the program's own. */
static int setup_ring(struct fixture *f, size_t max_refs, uint32_t ring)
{
	memset(f, 0, sizeof(*f));
	f->skel = vfio_leak__open();
	if (!f->skel)
		return -1;
	attach_select(f->skel->obj, ATTACH_RAW_TP);
	if (ring && bpf_map__set_max_entries(f->skel->maps.events, ring))
		return -1;
	if (vfio_leak__load(f->skel))
		return -1;
	f->rt = reftrack__new(max_refs);
	f->rb = ring_buffer__new(bpf_map__fd(f->skel->maps.events), on_event, f, NULL);
	return f->rt && f->rb ? 0 : -1;
}

static int setup(struct fixture *f, size_t max_refs)
{
	return setup_ring(f, max_refs, 0);
}

static void teardown(struct fixture *f)
{
	ring_buffer__free(f->rb);
	vfio_leak__destroy(f->skel);
	reftrack__free(f->rt);
}

/* Run the program, then hand what it sent to the ring buffer's consumer. */
static int run(struct fixture *f, struct bpf_program *prog, uint64_t *args, size_t n)
{
	int err = raw_tp_run(prog, args, n);

	return err < 0 ? err : ring_buffer__consume(f->rb);
}

#define RUN(f, prog, ...) ({						\
	uint64_t __a[] = { __VA_ARGS__ };				\
	run((f), (f)->skel->progs.prog, __a, sizeof(__a) / sizeof(__a[0])); \
})

#define REF_GET(f, kind, id, count, caller) RUN(f, vfio_ref_get_raw, kind, id, count, caller)
#define REF_PUT(f, kind, id, count, caller) RUN(f, vfio_ref_put_raw, kind, id, count, caller)
#define EXT_GET(f, group, container, users) \
	RUN(f, vfio_external_user_get_raw, group, container, users, CALLER(9), 0)
#define EXT_PUT(f, group, container, users) \
	RUN(f, vfio_external_user_put_raw, group, container, users, CALLER(10), 0)

static uint64_t lost_all(struct fixture *f)
{
	__u64 n[LOST_NR_REASONS];

	if (lost_read(bpf_map__fd(f->skel->maps.lost), n))
		return UINT64_MAX;
	return n[LOST_RINGBUF] + n[LOST_MAP_FULL];
}

static uint64_t lost_ringbuf(struct fixture *f)
{
	__u64 n[LOST_NR_REASONS];

	if (lost_read(bpf_map__fd(f->skel->maps.lost), n))
		return UINT64_MAX;
	return n[LOST_RINGBUF];
}

/*
 * Stay on one CPU: a lost record shows as a gap in its CPU's numbers
 * once that CPU sends the next one, and the test decides when that is.
 */
static int pin_cpu(void)
{
	cpu_set_t set;
	int cpu = sched_getcpu();

	if (cpu < 0)
		return -1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/*
 * Fill the ring buffer, without consuming, with records reftrack
 * ignores (a failed device open), until one is refused: the next record
 * of this size is refused too.
 */
static int fill_ring(struct fixture *f)
{
	uint64_t before = lost_ringbuf(f);
	int i;

	for (i = 0; i < 100000; i++) {
		if (RAW_TP_RUN(f->skel->progs.vfio_device_open_raw, 0, 99, 0, NEG(-19)) < 0)
			return -1;
		if (lost_ringbuf(f) != before)
			return 0;
	}
	return -1;
}

/* Records lost to a full ring buffer are counted where they went missing. */
static int test_lost_records_seen(void)
{
	struct fixture f;

	CHECK_OK(pin_cpu());
	CHECK_OK(setup_ring(&f, 1024, 4096));
	CHECK_OK(REF_GET(&f, DEVICE, 4, 2, CALLER(1)));
	CHECK_OK(fill_ring(&f));
	CHECK_OK(RAW_TP_RUN(f.skel->progs.vfio_device_open_raw, 0, 99, 0, NEG(-19)));
	CHECK_EQ(lost_ringbuf(&f), 2);
	CHECK_OK(ring_buffer__consume(f.rb));
	/* Not known yet: nothing after the gap has arrived. */
	CHECK_EQ(f.rt->missed, 0);
	CHECK_OK(REF_PUT(&f, DEVICE, 4, 1, CALLER(2)));
	CHECK_EQ(f.rt->missed, 2);
	CHECK_EQ(reftrack__count_held(f.rt, 0), 0);
	teardown(&f);
	return TEST_PASS;
}

/* get, get, put, get, put on one device: exactly one reference left. */
static int test_one_outstanding(void)
{
	struct fixture f;
	struct ref_obj *o;

	CHECK_OK(setup(&f, 1024));
	CHECK_OK(REF_GET(&f, DEVICE, 4, 2, CALLER(1)));
	CHECK_OK(REF_GET(&f, DEVICE, 4, 3, CALLER(2)));
	CHECK_OK(REF_PUT(&f, DEVICE, 4, 2, CALLER(3)));
	CHECK_OK(REF_GET(&f, DEVICE, 4, 3, CALLER(4)));
	CHECK_OK(REF_PUT(&f, DEVICE, 4, 2, CALLER(5)));
	CHECK_EQ(f.events, 5);
	CHECK_EQ(reftrack__count_held(f.rt, 0), 1);
	o = reftrack__find(f.rt, DEVICE, 4);
	CHECK(o);
	CHECK_EQ(o->nr_held, 1);
	/* The put took back the latest get of this process: the first stays. */
	CHECK_EQ(o->held[0].caller, CALLER(1));
	CHECK_EQ(o->held[0].pid, getpid());
	CHECK_EQ(o->untracked, 1);		/* the registration's reference */
	CHECK_EQ(reftrack__outstanding(o), 2);	/* = the last count */
	CHECK_EQ(f.rt->nr_imbalances, 0);
	/* Every get carries its kernel stack, or says it was lost. */
	CHECK_EQ(f.gets_with_stack, 3);
	CHECK_EQ(lost_all(&f), 0);
	teardown(&f);
	return TEST_PASS;
}

/*
 * The leak vfio-leak is for: a program opens a container and a group,
 * attaches them, an external user takes the group twice and puts it once,
 * then the program closes everything.  One external user is left, and it
 * keeps the group attached and the container alive.
 */
static int test_external_user_leak(void)
{
	struct fixture f;
	struct ref_obj *g, *c, *ext;

	CHECK_OK(setup(&f, 1024));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 1));
	CHECK_OK(RUN(&f, vfio_group_open_raw, 7, 0));
	CHECK_OK(REF_GET(&f, GROUP, 7, 2, CALLER(1)));
	CHECK_OK(RUN(&f, vfio_group_attach_raw, 7, 1, 0));
	CHECK_OK(REF_GET(&f, CONTAINER, 1, 2, CALLER(2)));
	/* users: the group file, then each external user. */
	CHECK_OK(EXT_GET(&f, 7, 1, 2));
	CHECK_OK(REF_GET(&f, GROUP, 7, 3, CALLER(3)));
	CHECK_OK(EXT_GET(&f, 7, 1, 3));
	CHECK_OK(REF_GET(&f, GROUP, 7, 4, CALLER(3)));
	CHECK_OK(EXT_PUT(&f, 7, 1, 2));
	CHECK_OK(REF_PUT(&f, GROUP, 7, 3, CALLER(4)));
	/* The program closes its group fd (not detached: an external user
	 * holds it) and its container fd. */
	CHECK_OK(REF_PUT(&f, GROUP, 7, 2, CALLER(5)));
	CHECK_OK(RUN(&f, vfio_group_release_raw, 7, 0));
	/* Not yet: the container's own fd is still open. */
	c = reftrack__find(f.rt, CONTAINER, 1);
	CHECK(c && !reftrack__orphaned(f.rt, c));
	CHECK_OK(RUN(&f, vfio_container_close_raw, 1));
	CHECK_OK(REF_PUT(&f, CONTAINER, 1, 1, CALLER(6)));

	CHECK_EQ(reftrack__count_held(f.rt, REF_KIND_EXTERNAL), 1);
	ext = reftrack__find(f.rt, REF_KIND_EXTERNAL, 1);
	CHECK(ext);
	CHECK_EQ(ext->held[0].group, 7);
	CHECK_EQ(ext->held[0].caller, CALLER(9));
	g = reftrack__find(f.rt, GROUP, 7);
	c = reftrack__find(f.rt, CONTAINER, 1);
	CHECK(g && c);
	CHECK_EQ(reftrack__outstanding(g), 2);	/* creation + the external user */
	CHECK(reftrack__orphaned(f.rt, g));
	CHECK(reftrack__orphaned(f.rt, c));
	CHECK_EQ(f.rt->nr_imbalances, 0);
	CHECK_EQ(lost_all(&f), 0);
	teardown(&f);
	return TEST_PASS;
}

/* The same life done right: nothing left, nothing orphaned. */
static int test_clean_run(void)
{
	struct fixture f;
	size_t i;

	CHECK_OK(setup(&f, 1024));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 1));
	CHECK_OK(RUN(&f, vfio_group_open_raw, 7, 0));
	CHECK_OK(REF_GET(&f, GROUP, 7, 2, CALLER(1)));
	CHECK_OK(RUN(&f, vfio_group_attach_raw, 7, 1, 0));
	CHECK_OK(REF_GET(&f, CONTAINER, 1, 2, CALLER(2)));
	CHECK_OK(RUN(&f, vfio_device_open_raw, 3, 7, 0, 0));
	CHECK_OK(REF_GET(&f, DEVICE, 3, 2, CALLER(7)));
	/* users: the group file, the device file, the external user. */
	CHECK_OK(EXT_GET(&f, 7, 1, 3));
	CHECK_OK(REF_GET(&f, GROUP, 7, 3, CALLER(3)));
	CHECK_OK(EXT_PUT(&f, 7, 1, 2));
	CHECK_OK(REF_PUT(&f, GROUP, 7, 2, CALLER(4)));
	CHECK_OK(REF_PUT(&f, DEVICE, 3, 1, CALLER(8)));
	CHECK_OK(RUN(&f, vfio_device_release_raw, 3, 7, 0, 0));
	CHECK_OK(RUN(&f, vfio_group_detach_raw, 7, 1, 0));
	CHECK_OK(REF_PUT(&f, CONTAINER, 1, 1, CALLER(5)));
	CHECK_OK(REF_PUT(&f, GROUP, 7, 1, CALLER(5)));
	CHECK_OK(RUN(&f, vfio_group_release_raw, 7, 0));
	CHECK_OK(RUN(&f, vfio_container_close_raw, 1));
	CHECK_OK(REF_PUT(&f, CONTAINER, 1, 0, CALLER(6)));
	CHECK_OK(RUN(&f, vfio_container_release_raw, 1));

	CHECK_EQ(reftrack__count_held(f.rt, 0), 0);
	for (i = 0; i < f.rt->nr_objs; i++)
		CHECK(!reftrack__orphaned(f.rt, &f.rt->objs[i]));
	CHECK_EQ(f.rt->nr_imbalances, 0);
	CHECK_EQ(lost_all(&f), 0);
	teardown(&f);
	return TEST_PASS;
}

/*
 * The container's fd closed first: the group (its fd, or only a device
 * fd of it) still reaches it, so it is not orphaned; the last fd's close
 * then detaches and frees everything.
 */
static int test_container_closed_first(void)
{
	struct fixture f;
	struct ref_obj *c, *g;

	CHECK_OK(setup(&f, 1024));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 1));
	CHECK_OK(REF_GET(&f, CONTAINER, 1, 1, CALLER(1)));
	CHECK_OK(RUN(&f, vfio_group_open_raw, 7, 0));
	CHECK_OK(RUN(&f, vfio_group_attach_raw, 7, 1, 0));
	CHECK_OK(REF_GET(&f, CONTAINER, 1, 2, CALLER(2)));
	CHECK_OK(RUN(&f, vfio_device_open_raw, 3, 7, 0, 0));
	CHECK_OK(RUN(&f, vfio_container_close_raw, 1));
	CHECK_OK(REF_PUT(&f, CONTAINER, 1, 1, CALLER(3)));
	c = reftrack__find(f.rt, CONTAINER, 1);
	g = reftrack__find(f.rt, GROUP, 7);
	CHECK(c && g);
	CHECK(!reftrack__orphaned(f.rt, c));
	/* The group fd goes; the device fd still reaches the container. */
	CHECK_OK(RUN(&f, vfio_group_release_raw, 7, 0));
	CHECK(!reftrack__orphaned(f.rt, c));
	CHECK(!reftrack__orphaned(f.rt, g));
	CHECK_OK(RUN(&f, vfio_device_release_raw, 3, 7, 0, 0));
	CHECK_OK(RUN(&f, vfio_group_detach_raw, 7, 1, 0));
	CHECK_OK(REF_PUT(&f, CONTAINER, 1, 0, CALLER(4)));
	CHECK_OK(RUN(&f, vfio_container_release_raw, 1));
	CHECK(!reftrack__orphaned(f.rt, c));
	CHECK(!reftrack__orphaned(f.rt, g));
	/* The id comes back for a new container: a fresh object. */
	CHECK_OK(RUN(&f, vfio_container_open_raw, 1));
	CHECK(!c->freed && c->fds_open == 1);
	CHECK_EQ(f.rt->nr_imbalances, 0);
	teardown(&f);
	return TEST_PASS;
}

/* A put after the last one, and a count read below zero. */
static int test_imbalances(void)
{
	struct fixture f;

	CHECK_OK(setup(&f, 1024));
	CHECK_OK(REF_GET(&f, DEVICE, 2, 1, CALLER(1)));
	CHECK_OK(REF_PUT(&f, DEVICE, 2, 0, CALLER(2)));
	CHECK_EQ(f.rt->nr_imbalances, 0);
	CHECK_OK(REF_PUT(&f, DEVICE, 2, 0xffffffffU, CALLER(3)));
	CHECK_EQ(f.rt->nr_imbalances, 2);
	CHECK_EQ(f.rt->imbalances[0].why, IMB_COUNT_BELOW_ZERO);
	CHECK_EQ(f.rt->imbalances[1].why, IMB_PUT_WITHOUT_GET);
	CHECK_EQ(f.rt->imbalances[1].caller, CALLER(3));
	/* An external user put that no get matches, on a container seen
	 * from its open (else the get may predate the tool). */
	CHECK_OK(EXT_PUT(&f, 8, 2, 0));
	CHECK_EQ(f.rt->nr_imbalances, 2);
	CHECK_OK(RUN(&f, vfio_container_open_raw, 2));
	CHECK_OK(EXT_GET(&f, 8, 2, 2));
	CHECK_OK(EXT_PUT(&f, 8, 2, 1));
	CHECK_OK(EXT_PUT(&f, 8, 2, 0));
	CHECK_EQ(f.rt->nr_imbalances, 3);
	CHECK_EQ(f.rt->imbalances[2].kind, REF_KIND_EXTERNAL);
	teardown(&f);
	return TEST_PASS;
}

/* References taken before the tool started are no imbalance. */
static int test_preexisting_refs(void)
{
	struct fixture f;

	CHECK_OK(setup(&f, 1024));
	CHECK_OK(REF_PUT(&f, GROUP, 5, 2, CALLER(1)));
	CHECK_OK(REF_PUT(&f, GROUP, 5, 1, CALLER(1)));
	CHECK_OK(REF_PUT(&f, GROUP, 5, 0, CALLER(1)));
	CHECK_EQ(f.rt->nr_imbalances, 0);
	CHECK_EQ(reftrack__count_held(f.rt, 0), 0);
	teardown(&f);
	return TEST_PASS;
}

/*
 * Stacks travel in the gets' records: none is lost, puts carry none, a
 * call path taken twice is kept once, and it goes with its last holder.
 */
static int test_stacks_in_records(void)
{
	struct fixture f;
	struct ref_obj *o;
	__u64 lost[LOST_NR_REASONS];
	int i;

	CHECK_OK(setup(&f, 1024));
	for (i = 0; i < 200; i++)
		CHECK_OK(REF_GET(&f, CONTAINER, 1, 2 + i, CALLER(1)));
	CHECK_OK(EXT_GET(&f, 7, 1, 2));
	CHECK_EQ(f.gets_with_stack, 201);
	o = reftrack__find(f.rt, CONTAINER, 1);
	CHECK(o && o->nr_held == 200);
	CHECK(o->held[0].stack && !o->held[0].stack_lost);
	CHECK(o->held[0].stack->nr > 0 && o->held[0].stack->nr <= MAX_STACK_DEPTH);
	/*
	 * One call path per program (the test run's, through the ref get's
	 * or the external-user get's program), shared by its holders.
	 */
	CHECK_EQ(f.rt->nr_stacks, 2);
	CHECK(o->held[199].stack == o->held[0].stack);
	CHECK_EQ(o->held[0].stack->refs, 200);
	for (i = 199; i >= 0; i--)
		CHECK_OK(REF_PUT(&f, CONTAINER, 1, 1 + i, CALLER(2)));
	CHECK_OK(EXT_PUT(&f, 7, 1, 1));
	CHECK_EQ(f.others_with_stack, 0);
	CHECK_EQ(reftrack__count_held(f.rt, 0), 0);
	CHECK_EQ(f.rt->nr_stacks, 0);
	CHECK_OK(lost_read(bpf_map__fd(f.skel->maps.lost), lost));
	CHECK_EQ(lost[LOST_STACK], 0);
	CHECK_EQ(lost_all(&f), 0);
	teardown(&f);
	return TEST_PASS;
}

/* A record shorter than it says is refused, and changes nothing. */
static int test_bad_record(void)
{
	struct {
		struct leak_event e;
		__u64 ips[2];
	} r = {};
	struct reftrack *rt = reftrack__new(16);

	CHECK(rt);
	r.e.type = LEAK_REF_GET;
	r.e.kind = DEVICE;
	r.e.id = 3;
	r.e.count = 2;
	CHECK_EQ(reftrack__record(rt, &r, sizeof(r.e) - 1), -EINVAL);
	r.e.flags = LEAK_F_STACK;
	r.e.stack_nr = 3;
	CHECK_EQ(reftrack__record(rt, &r, sizeof(r)), -EINVAL);
	r.e.stack_nr = MAX_STACK_DEPTH + 1;
	CHECK_EQ(reftrack__record(rt, &r, 1 << 16), -EINVAL);
	CHECK_EQ(rt->events, 0);
	CHECK(!reftrack__find(rt, DEVICE, 3));
	r.e.stack_nr = 2;
	r.ips[0] = CALLER(1);
	r.ips[1] = CALLER(2);
	CHECK_EQ(reftrack__record(rt, &r, sizeof(r)), 0);
	CHECK_EQ(reftrack__count_held(rt, 0), 1);
	CHECK_EQ(reftrack__find(rt, DEVICE, 3)->held[0].stack->ips[1], CALLER(2));
	reftrack__free(rt);
	return TEST_PASS;
}

/* The tracked gets of an object made by caller c. */
static size_t held_by(const struct ref_obj *o, uint64_t caller)
{
	size_t i, n = 0;

	for (i = 0; o && i < o->nr_held; i++)
		n += o->held[i].caller == caller;
	return n;
}

/*
 * The phantom: an external user's put (and the group put that
 * goes with it) refused by a full ring buffer.  The kernel's own counts
 * in the next events drop the phantoms: what is left is what the kernel
 * holds, the two reconciliations are counted, the three lost records
 * (one filler and the two puts) are seen, and nothing is an imbalance.
 */
static int test_lost_put_reconciled(void)
{
	struct ref_obj *g, *ext;
	struct fixture f;

	CHECK_OK(pin_cpu());
	CHECK_OK(setup_ring(&f, 1024, 4096));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 1));
	CHECK_OK(REF_GET(&f, CONTAINER, 1, 1, CALLER(1)));
	CHECK_OK(RUN(&f, vfio_group_open_raw, 7, 0));
	/* The group from before: its registration and its file's references. */
	CHECK_OK(RUN(&f, vfio_group_attach_raw, 7, 1, 0));
	CHECK_OK(REF_GET(&f, CONTAINER, 1, 2, CALLER(2)));
	/* First external user: users = the group file + it. */
	CHECK_OK(REF_GET(&f, GROUP, 7, 3, CALLER(20)));
	CHECK_OK(RUN(&f, vfio_external_user_get_raw, 7, 1, 2, CALLER(21), 0));
	g = reftrack__find(f.rt, GROUP, 7);
	CHECK(g);
	CHECK_EQ(g->untracked, 2);
	CHECK_EQ(reftrack__count_held(f.rt, REF_KIND_EXTERNAL), 1);

	/* Its put and the group put: both refused. */
	CHECK_OK(fill_ring(&f));
	CHECK_OK(RAW_TP_RUN(f.skel->progs.vfio_external_user_put_raw, 7, 1, 1, CALLER(22), 0));
	CHECK_OK(RAW_TP_RUN(f.skel->progs.vfio_ref_put_raw, GROUP, 7, 2, CALLER(23)));
	CHECK_EQ(lost_ringbuf(&f), 3);
	CHECK_OK(ring_buffer__consume(f.rb));
	/* Nothing says so yet: the phantoms are there. */
	CHECK_EQ(reftrack__count_held(f.rt, REF_KIND_EXTERNAL), 1);
	CHECK_EQ(held_by(g, CALLER(20)), 1);

	/* A second external user: the kernel's counts show one, not two. */
	CHECK_OK(REF_GET(&f, GROUP, 7, 3, CALLER(30)));
	CHECK_OK(RUN(&f, vfio_external_user_get_raw, 7, 1, 2, CALLER(31), 0));
	CHECK_EQ(f.rt->missed, 3);
	g = reftrack__find(f.rt, GROUP, 7);
	ext = reftrack__find(f.rt, REF_KIND_EXTERNAL, 1);
	CHECK(g && ext);
	CHECK_EQ(ext->nr_held, 1);
	CHECK_EQ(ext->held[0].caller, CALLER(31));
	CHECK_EQ(reftrack__outstanding(g), 3);
	CHECK_EQ(held_by(g, CALLER(20)), 0);	/* the phantom */
	CHECK_EQ(held_by(g, CALLER(30)), 1);
	CHECK_EQ(g->untracked, 2);
	CHECK_EQ(f.rt->reconciled, 2);
	CHECK_EQ(f.rt->restored, 0);
	CHECK_EQ(f.rt->nr_imbalances, 0);

	/* The group's next event confirms it: the phantom does not come back. */
	CHECK_OK(REF_GET(&f, GROUP, 7, 4, CALLER(40)));
	CHECK_EQ(held_by(g, CALLER(20)), 0);
	CHECK_EQ(f.rt->restored, 0);
	CHECK_EQ(g->nr_limbo, 0);
	CHECK_EQ(reftrack__outstanding(g), 4);
	teardown(&f);
	return TEST_PASS;
}

/*
 * An external user's put lost while the group file is open, then the
 * program closes it: the group's detach says no external user is left.
 */
static int test_lost_ext_put_detach(void)
{
	struct fixture f;

	CHECK_OK(pin_cpu());
	CHECK_OK(setup_ring(&f, 1024, 4096));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 1));
	CHECK_OK(RUN(&f, vfio_group_open_raw, 7, 0));
	CHECK_OK(RUN(&f, vfio_group_attach_raw, 7, 1, 0));
	CHECK_OK(EXT_GET(&f, 7, 1, 2));
	CHECK_OK(fill_ring(&f));
	CHECK_OK(RAW_TP_RUN(f.skel->progs.vfio_external_user_put_raw, 7, 1, 1, CALLER(10), 0));
	CHECK_OK(ring_buffer__consume(f.rb));
	CHECK_EQ(reftrack__count_held(f.rt, REF_KIND_EXTERNAL), 1);
	CHECK_OK(RUN(&f, vfio_group_detach_raw, 7, 1, 0));
	CHECK_OK(RUN(&f, vfio_group_release_raw, 7, 0));
	CHECK_EQ(reftrack__count_held(f.rt, REF_KIND_EXTERNAL), 0);
	CHECK_EQ(f.rt->reconciled, 1);
	CHECK_EQ(f.rt->missed, 2);
	CHECK_EQ(f.rt->nr_imbalances, 0);
	/* Nothing is held after close: the group left its container. */
	CHECK(!reftrack__orphaned(f.rt, reftrack__find(f.rt, GROUP, 7)));
	teardown(&f);
	return TEST_PASS;
}

/*
 * A lost get: its put finds no get, yet it is no imbalance, and the
 * count says how many references are left.
 */
static int test_lost_get_no_imbalance(void)
{
	struct fixture f;
	struct ref_obj *c;

	CHECK_OK(pin_cpu());
	CHECK_OK(setup_ring(&f, 1024, 4096));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 1));
	CHECK_OK(REF_GET(&f, CONTAINER, 1, 1, CALLER(1)));
	CHECK_OK(RUN(&f, vfio_group_open_raw, 7, 0));
	CHECK_OK(RUN(&f, vfio_group_attach_raw, 7, 1, 0));
	CHECK_OK(fill_ring(&f));
	CHECK_OK(RAW_TP_RUN(f.skel->progs.vfio_ref_get_raw, CONTAINER, 1, 2, CALLER(2)));
	CHECK_OK(RAW_TP_RUN(f.skel->progs.vfio_external_user_get_raw, 7, 1, 2, CALLER(3), 0));
	CHECK_OK(ring_buffer__consume(f.rb));
	CHECK_OK(EXT_PUT(&f, 7, 1, 1));
	CHECK_OK(REF_PUT(&f, CONTAINER, 1, 1, CALLER(4)));
	CHECK_EQ(f.rt->missed, 3);
	CHECK_EQ(f.rt->nr_imbalances, 0);
	c = reftrack__find(f.rt, CONTAINER, 1);
	CHECK(c);
	CHECK_EQ(reftrack__outstanding(c), 1);
	CHECK_EQ(reftrack__count_held(f.rt, REF_KIND_EXTERNAL), 0);
	teardown(&f);
	return TEST_PASS;
}

/*
 * No record lost, two CPUs at once: a get on one CPU lands between the
 * count read and the event of a put on another, so the put's count is
 * one short.  The get it drops comes back with the object's next event.
 */
static int test_count_race_restored(void)
{
	struct fixture f;
	struct ref_obj *o;

	CHECK_OK(setup(&f, 1024));
	CHECK_OK(REF_GET(&f, DEVICE, 5, 1, CALLER(1)));
	CHECK_OK(REF_GET(&f, DEVICE, 5, 2, CALLER(2)));
	CHECK_OK(REF_GET(&f, DEVICE, 5, 3, CALLER(3)));
	CHECK_OK(REF_PUT(&f, DEVICE, 5, 1, CALLER(4)));		/* truly 2 after */
	o = reftrack__find(f.rt, DEVICE, 5);
	CHECK(o);
	CHECK_EQ(reftrack__outstanding(o), 1);
	CHECK_EQ(o->nr_limbo, 1);
	CHECK_EQ(f.rt->reconciled, 1);
	CHECK_OK(REF_GET(&f, DEVICE, 5, 3, CALLER(5)));
	CHECK_EQ(f.rt->restored, 1);
	CHECK_EQ(o->nr_limbo, 0);
	CHECK_EQ(reftrack__outstanding(o), 3);
	CHECK_EQ(o->nr_held, 3);
	/* Back in its place: the registration's get is the oldest. */
	CHECK_EQ(o->held[0].caller, CALLER(1));
	CHECK_EQ(o->untracked, 0);
	CHECK_EQ(f.rt->missed, 0);
	CHECK_EQ(f.rt->nr_imbalances, 0);
	teardown(&f);
	return TEST_PASS;
}

/*
 * A device whose puts, its last one included, were lost: a new device
 * with the same id (count 1) replaces it, and only the new one is live.
 * A container whose release was lost: its id's next open does the same.
 */
static int test_lost_free_id_reused(void)
{
	struct fixture f;
	struct ref_obj *o;

	CHECK_OK(pin_cpu());
	CHECK_OK(setup_ring(&f, 1024, 4096));
	CHECK_OK(REF_GET(&f, DEVICE, 5, 1, CALLER(1)));
	CHECK_OK(REF_GET(&f, DEVICE, 5, 2, CALLER(2)));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 3));
	CHECK_OK(REF_GET(&f, CONTAINER, 3, 1, CALLER(3)));
	CHECK_OK(RUN(&f, vfio_group_open_raw, 7, 0));
	CHECK_OK(RUN(&f, vfio_group_attach_raw, 7, 3, 0));
	CHECK_OK(EXT_GET(&f, 7, 3, 2));
	CHECK_OK(fill_ring(&f));
	CHECK_OK(RAW_TP_RUN(f.skel->progs.vfio_ref_put_raw, DEVICE, 5, 1, CALLER(4)));
	CHECK_OK(RAW_TP_RUN(f.skel->progs.vfio_ref_put_raw, DEVICE, 5, 0, CALLER(4)));
	CHECK_OK(RAW_TP_RUN(f.skel->progs.vfio_container_release_raw, 3));
	CHECK_OK(ring_buffer__consume(f.rb));
	CHECK_EQ(reftrack__count_live(f.rt, DEVICE), 1);
	CHECK_OK(REF_GET(&f, DEVICE, 5, 1, CALLER(5)));
	o = reftrack__find(f.rt, DEVICE, 5);
	CHECK(o && o->nr_held == 1 && o->held[0].caller == CALLER(5));
	CHECK_EQ(reftrack__count_live(f.rt, DEVICE), 1);
	CHECK_EQ(f.rt->reconciled, 2);
	CHECK_OK(RUN(&f, vfio_container_open_raw, 3));
	CHECK_EQ(reftrack__count_held(f.rt, REF_KIND_EXTERNAL), 0);
	CHECK_EQ(f.rt->reconciled, 4);	/* the old container's get, its external user */
	o = reftrack__find(f.rt, CONTAINER, 3);
	CHECK(o && o->open_seen && o->fds_open == 1 && !o->nr_held);
	CHECK_OK(REF_GET(&f, CONTAINER, 3, 1, CALLER(6)));
	CHECK(o->open_seen && o->fds_open == 1 && o->nr_held == 1);
	CHECK_EQ(f.rt->nr_imbalances, 0);

	/* Freed as seen, then a new device 5 whose creation was lost. */
	CHECK_OK(REF_PUT(&f, DEVICE, 5, 0, CALLER(7)));
	CHECK_OK(fill_ring(&f));
	CHECK_OK(RAW_TP_RUN(f.skel->progs.vfio_ref_get_raw, DEVICE, 5, 1, CALLER(8)));
	CHECK_OK(RAW_TP_RUN(f.skel->progs.vfio_ref_get_raw, DEVICE, 5, 2, CALLER(9)));
	CHECK_OK(ring_buffer__consume(f.rb));
	CHECK_OK(REF_PUT(&f, DEVICE, 5, 1, CALLER(10)));
	CHECK(!reftrack__find(f.rt, DEVICE, 5)->freed);
	CHECK_EQ(reftrack__outstanding(reftrack__find(f.rt, DEVICE, 5)), 1);
	CHECK_OK(REF_PUT(&f, DEVICE, 5, 0, CALLER(11)));
	CHECK_EQ(f.rt->nr_imbalances, 0);
	CHECK(reftrack__find(f.rt, DEVICE, 5)->freed);
	teardown(&f);
	return TEST_PASS;
}

/* A full table counts its overflow, and the overflowed puts balance. */
static int test_overflow(void)
{
	struct fixture f;
	int i;

	CHECK_OK(setup(&f, 2));
	for (i = 0; i < 3; i++)
		CHECK_OK(REF_GET(&f, CONTAINER, 1, 2 + i, CALLER(1)));
	CHECK_EQ(f.rt->overflow, 1);
	CHECK_EQ(reftrack__count_held(f.rt, 0), 2);
	for (i = 2; i >= 0; i--)
		CHECK_OK(REF_PUT(&f, CONTAINER, 1, 1 + i, CALLER(2)));
	CHECK_EQ(reftrack__count_held(f.rt, 0), 0);
	CHECK_EQ(f.rt->nr_imbalances, 0);
	teardown(&f);
	return TEST_PASS;
}

/* The resolver: the symbol at or below an address, with its module. */
/* A kallsyms-format file of the given lines at path (a mkstemp() template). */
static int kallsyms_file(char *path, const char *lines)
{
	int fd = mkstemp(path);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;

	if (!f)
		return -1;
	fputs(lines, f);
	return fclose(f);
}

static int test_ksyms(void)
{
	char path[] = "/tmp/vfio_leak_test_kallsyms.XXXXXX", buf[128];
	const struct ksym *s;
	struct ksyms *ks;

	CHECK_OK(kallsyms_file(path, "ffffffff81000000 T _stext\n"
				     "ffffffff81001000 t helper\n"
				     "ffffffff82000000 D some_data\n"
				     "ffffffffc0001000 t vfio_consumer_leak\t[vfio_consumer]\n"
				     "ffffffffc0000000 t vfio_consumer_get\t[vfio_consumer]\n"));
	ks = ksyms__load_file(path);
	unlink(path);
	CHECK(ks);
	CHECK_EQ(ksyms__count(ks), 4);
	s = ksyms__search(ks, 0xffffffff81001010ULL);
	CHECK(s && !strcmp(s->name, "helper") && !s->module);
	s = ksyms__search(ks, 0xffffffffc0000040ULL);
	CHECK(s && !strcmp(s->name, "vfio_consumer_get") && !strcmp(s->module, "vfio_consumer"));
	CHECK(!ksyms__search(ks, 0x1000));
	CHECK(!strcmp(ksyms__format(ks, 0xffffffffc000102cULL, buf, sizeof(buf)),
		      "vfio_consumer_leak+0x2c [vfio_consumer]"));
	ksyms__free(ks);
	return TEST_PASS;
}

/*
 * Looking symbols up finds data too, in the module named only (not one
 * whose name starts with it), and tells a missing symbol from a hidden
 * address (kptr_restrict) and from a file it cannot read: fentry mode's
 * pruning says which and goes on.
 */
static int test_ksyms_lookup(void)
{
	static const char *const fops[] = { "vfio_fops", "vfio_device_fops" };
	static const char *const hidden[] = { "vfio_fops", "vfio_group_fops" };
	char path[] = "/tmp/vfio_leak_test_kallsyms.XXXXXX";
	uint64_t addrs[2];

	CHECK_OK(kallsyms_file(path, "ffffffff82000000 d vfio_fops\n"
				     "ffffffffc0002000 r vfio_fops\t[vfio_other]\n"
				     "ffffffffc0003000 r vfio_device_fops\t[vfio_]\n"
				     "ffffffffc00002e0 r vfio_fops\t[vfio]\n"
				     "ffffffffc0000300 r vfio_device_fops\t[vfio]\n"
				     "0000000000000000 r vfio_group_fops\t[vfio]\n"));
	CHECK_OK(ksyms__lookup_file(path, "vfio", fops, addrs, 2));
	CHECK_EQ(addrs[0], 0xffffffffc00002e0ULL);
	CHECK_EQ(addrs[1], 0xffffffffc0000300ULL);
	CHECK_OK(ksyms__lookup_file(path, NULL, fops, addrs, 1));
	CHECK_EQ(addrs[0], 0xffffffff82000000ULL);
	/* The first name that fails decides, and its address reads 0. */
	CHECK_EQ(ksyms__lookup_file(path, NULL, fops, addrs, 2), -ENOENT);
	CHECK_EQ(addrs[0], 0xffffffff82000000ULL);
	CHECK_EQ(addrs[1], 0);
	CHECK_EQ(ksyms__lookup_file(path, "vfio", hidden, addrs, 2), -EPERM);
	CHECK_EQ(addrs[1], 0);
	unlink(path);
	CHECK_EQ(ksyms__lookup_file(path, "vfio", fops, addrs, 2), -ENOENT);
	CHECK_EQ(ksyms__lookup_file("/proc/self/mem/x", "vfio", fops, addrs, 2), -ENOTDIR);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_one_outstanding),
	TEST(test_external_user_leak),
	TEST(test_clean_run),
	TEST(test_container_closed_first),
	TEST(test_imbalances),
	TEST(test_preexisting_refs),
	TEST(test_stacks_in_records),
	TEST(test_bad_record),
	TEST(test_lost_records_seen),
	TEST(test_lost_put_reconciled),
	TEST(test_lost_ext_put_detach),
	TEST(test_lost_get_no_imbalance),
	TEST(test_count_race_restored),
	TEST(test_lost_free_id_reused),
	TEST(test_overflow),
	TEST(test_ksyms),
	TEST(test_ksyms_lookup),
};

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	return RUN_TESTS("bpf/vfio_leak", tests, argc, argv);
}
