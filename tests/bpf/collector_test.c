// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of the collector (bpf/vfio-collector.bpf.c) through its reader
 * (tools/lib/collector.c): crafted events run through the raw_tp entry
 * points, some on chosen CPUs, must read back as exact counts and levels.
 */
#define _GNU_SOURCE	/* unshare */
#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"
#include "collector.h"
#include "latency.h"
#include "process.h"
#include "raw_tp_run.h"
#include "vfio-collector.skel.h"
#include "vfio_tools.h"

#define KB64 65536ULL
#define NEG(x) ((uint64_t)(int64_t)(x))

#define PROG(c, name) ((c)->skel->progs.name)
#define RUN(c, name, ...) RAW_TP_RUN(PROG(c, name), __VA_ARGS__)
#define RUN_ON(c, cpu, name, ...) RAW_TP_RUN_ON(PROG(c, name), cpu, __VA_ARGS__)

/* The operations' seq, as the driver numbers them: in the order they ran. */
static uint64_t seq;

/* vfio_dma_map/unmap(container, iova, size, flags, npages, entries, pinned, ret, total_ns, pin_ns, iommu_ns, seq) */
#define MAP(c, id, size, npages, entries, pinned, ret) \
	RUN(c, vfio_dma_map_raw, id, 0x100000, size, 3, npages, entries, pinned, NEG(ret), 2000, 1000, 1000, ++seq)
#define UNMAP(c, id, size, flags, npages, entries, pinned) \
	RUN(c, vfio_dma_unmap_raw, id, 0x100000, size, flags, npages, entries, pinned, 0, 2000, 1000, 1000, ++seq)
/* A map on one CPU with an explicit seq: the order the driver did it in. */
#define MAP_ON(c, cpu, id, npages, entries, pinned, sq) \
	RUN_ON(c, cpu, vfio_dma_map_raw, id, 0x100000, KB64, 3, npages, entries, pinned, 0, 2000, 1000, 1000, sq)

static struct collector *load(void)
{
	struct collector *c;

	if (collector_load_mode(&c, ATTACH_RAW_TP, false))
		return NULL;
	return c;
}

static int read_container(struct collector *c, __u32 id, struct coll_container *out)
{
	return collector_read_container(c, id, out);
}

static uint64_t lost_reason(struct collector *c, int reason)
{
	__u64 n[LOST_NR_REASONS];

	if (lost_read(c->lost_fd, n))
		return UINT64_MAX;
	return n[reason];
}

/* This process's row, the CPUs summed. */
static int my_process(struct collector *c, struct coll_process_row *out)
{
	struct coll_process_row *rows;
	size_t nr, i;
	int err = collector_read_processes(c, &rows, &nr);

	if (err)
		return err;
	err = -ENOENT;
	for (i = 0; i < nr; i++) {
		if (rows[i].key.tgid == (__u32)getpid()) {
			*out = rows[i];
			err = 0;
		}
	}
	free(rows);
	return err;
}

static int group(struct collector *c, __u32 id, struct coll_group *out)
{
	struct coll_group_row *rows;
	size_t nr, i;
	int err = collector_read_groups(c, &rows, &nr);

	if (err)
		return err;
	err = -ENOENT;
	for (i = 0; i < nr; i++) {
		if (rows[i].id == id) {
			*out = rows[i].v;
			err = 0;
		}
	}
	free(rows);
	return err;
}

static int test_container_life(void)
{
	struct collector *c = load();
	struct coll_process_row p;
	struct coll_container cc;
	struct coll_group g;
	char comm[16] = {};
	int i;

	CHECK(c);
	CHECK_OK(collector_want_processes(c, UINT64_MAX));
	prctl(PR_GET_NAME, comm);
	CHECK_OK(RUN(c, vfio_container_open_raw, 3));
	CHECK_OK(RUN(c, vfio_group_open_raw, 5, 0));
	CHECK_OK(RUN(c, vfio_group_attach_raw, 5, 3, 0));
	for (i = 1; i <= 10; i++)
		CHECK_OK(MAP(c, 3, KB64, 16, i, 16 * i, 0));
	for (i = 1; i <= 4; i++)
		CHECK_OK(UNMAP(c, 3, KB64, 0, 16, 10 - i, 16 * (10 - i)));
	CHECK_OK(MAP(c, 3, KB64, 0, 6, 96, -22));
	/* external users: get, get, put; a get on something not a group */
	CHECK_OK(RUN(c, vfio_external_user_get_raw, 5, 3, 1, 0xffffffffc0001000ULL, 0));
	CHECK_OK(RUN(c, vfio_external_user_get_raw, 5, 3, 2, 0xffffffffc0001000ULL, 0));
	CHECK_OK(RUN(c, vfio_external_user_put_raw, 5, 3, 1, 0xffffffffc0002000ULL, 0));
	CHECK_OK(RUN(c, vfio_external_user_get_raw, 0, 0, 0, 0xffffffffc0001000ULL, NEG(-22)));
	CHECK_OK(RUN(c, vfio_iommu_set_raw, 3, 0, 1, NEG(-16)));
	CHECK_OK(RUN(c, vfio_group_release_raw, 5, 0));

	/* Before teardown: what is mapped now. */
	CHECK_OK(read_container(c, 3, &cc));
	CHECK(cc.live);
	CHECK_EQ(cc.mapped, 6 * KB64);
	CHECK_EQ(cc.pinned, 96);
	CHECK_EQ(cc.entries, 6);
	CHECK_EQ(cc.missing, 0);
	CHECK_EQ(cc.ext_users, 1);

	/* The teardown of what is left, then the release. */
	CHECK_OK(UNMAP(c, 3, 6 * KB64, VFIO_TRACE_UNMAP_TEARDOWN, 96, 0, 0));
	CHECK_OK(RUN(c, vfio_group_detach_raw, 5, 3, 0));
	CHECK_OK(RUN(c, vfio_container_release_raw, 3));

	CHECK_OK(my_process(c, &p));
	CHECK_EQ(p.v.ops[EXP_MAP], 10);
	CHECK_EQ(p.v.ops[EXP_UNMAP], 4);
	CHECK_EQ(p.v.bytes[EXP_MAP], 10 * KB64);
	CHECK_EQ(p.v.bytes[EXP_UNMAP], 4 * KB64);
	CHECK_EQ(p.v.mapped, 6 * KB64);		/* a teardown is the container's */
	CHECK_EQ(p.v.pinned, 96);
	CHECK_EQ(p.v.errors, 2);		/* the failed map, the get on no group */
	CHECK_EQ(p.v.container, 3);
	CHECK_EQ(p.v.missing, 0);
	CHECK(!strncmp(p.v.comm, comm, sizeof(p.v.comm)));

	CHECK_OK(read_container(c, 3, &cc));
	CHECK(!cc.live);
	CHECK(cc.released_ns != 0);
	CHECK_EQ(cc.ops[EXP_MAP], 10);
	CHECK_EQ(cc.ops[EXP_UNMAP], 4);		/* a teardown is no operation */
	CHECK_EQ(cc.bytes[EXP_MAP], 10 * KB64);
	CHECK_EQ(cc.bytes[EXP_UNMAP], 10 * KB64);
	CHECK_EQ(cc.failed[EXP_MAP], 1);
	CHECK_EQ(cc.gen_ops[EXP_MAP], 10);
	CHECK_EQ(cc.gen_failed[EXP_MAP], 1);
	CHECK_EQ(cc.iommu_errors, 1);
	/* Released: nothing mapped, pinned or held. */
	CHECK_EQ(cc.mapped, 0);
	CHECK_EQ(cc.pinned, 0);
	CHECK_EQ(cc.entries, 0);
	CHECK_EQ(cc.ext_users, 0);

	CHECK_OK(group(c, 5, &g));
	CHECK_EQ(g.container, 0);		/* detached */
	CHECK_EQ(g.ext_users, 1);
	CHECK_EQ(g.errors, 0);
	CHECK_EQ(g.fd_open, 0);
	/* No group is no row: that error was the process's. */
	CHECK_EQ(group(c, 0, &g), -ENOENT);

	CHECK_EQ(lost_reason(c, LOST_MAP_FULL), 0);
	collector_free(c);
	return TEST_PASS;
}

/* Failed operations by errno, summed over the CPUs they came on. */
static int test_errors_by_errno(void)
{
	struct collector *c = load();
	struct coll_error *rows;
	__u64 einval = 0, enomem = 0, other = 0;
	size_t nr, i;

	CHECK(c);
	CHECK_OK(RUN_ON(c, 0, vfio_dma_map_raw, 2, 0, 4096, 3, 0, 0, 0, NEG(-22), 10, 0, 0, 1));
	CHECK_OK(RUN_ON(c, 1, vfio_dma_map_raw, 2, 0, 4096, 3, 0, 0, 0, NEG(-22), 10, 0, 0, 2));
	CHECK_OK(RUN_ON(c, 1, vfio_dma_map_raw, 2, 0, 4096, 3, 0, 0, 0, NEG(-12), 10, 0, 0, 3));
	CHECK_OK(RUN_ON(c, 0, vfio_dma_unmap_raw, 2, 0, 4096, 0, 0, 0, 0, NEG(-200), 10, 0, 0, 4));
	CHECK_OK(collector_read_errors(c, &rows, &nr));
	for (i = 0; i < nr; i++) {
		CHECK_EQ(rows[i].key.id, 2);
		if (rows[i].key.op == EXP_MAP && rows[i].key.err == 22)
			einval = rows[i].count;
		else if (rows[i].key.op == EXP_MAP && rows[i].key.err == 12)
			enomem = rows[i].count;
		else if (rows[i].key.op == EXP_UNMAP && rows[i].key.err == 0)
			other = rows[i].count;	/* beyond EXP_NR_ERRNO */
	}
	free(rows);
	CHECK_EQ(nr, 3);
	CHECK_EQ(einval, 2);
	CHECK_EQ(enomem, 1);
	CHECK_EQ(other, 1);
	collector_free(c);
	return TEST_PASS;
}

/*
 * The driver emits after dropping the container's lock, so the events of
 * two racing maps can come in the other order, on other CPUs: the levels
 * must be those of the later operation (highest seq), not the later event.
 */
static int test_levels_out_of_order(void)
{
	struct collector *c = load();
	struct coll_container cc;

	CHECK(c);
	CHECK_OK(RUN(c, vfio_container_open_raw, 4));
	CHECK_OK(MAP_ON(c, 1, 4, 16, 2, 32, 2));
	CHECK_OK(MAP_ON(c, 0, 4, 16, 1, 16, 1));	/* came late */
	CHECK_OK(read_container(c, 4, &cc));
	CHECK_EQ(cc.pinned, 32);
	CHECK_EQ(cc.entries, 2);
	CHECK_EQ(cc.mapped, 2 * KB64);		/* a sum: the order does not matter */
	CHECK_EQ(cc.missing, 0);
	collector_free(c);
	return TEST_PASS;
}

/*
 * A new container under a used id: each CPU's part of the old one stays
 * in its slot until that CPU sees the new one, and the reader leaves it
 * out, so the new container starts from zero on every CPU; the id's
 * cumulative counts go on.
 */
static int test_container_id_reused(void)
{
	struct collector *c = load();
	struct coll_container cc;
	__u64 gen;

	CHECK(c);
	CHECK_OK(RUN(c, vfio_container_open_raw, 1));
	CHECK_OK(MAP_ON(c, 1, 1, 16, 1, 16, 1));
	CHECK_OK(MAP_ON(c, 0, 1, 16, 2, 32, 2));
	CHECK_OK(read_container(c, 1, &cc));
	gen = cc.gen;
	CHECK_EQ(cc.gen_ops[EXP_MAP], 2);
	CHECK_OK(RUN_ON(c, 1, vfio_dma_unmap_raw, 1, 0, 2 * KB64, VFIO_TRACE_UNMAP_TEARDOWN,
			32, 0, 0, 0, 10, 0, 0, 3));
	CHECK_OK(RUN(c, vfio_container_release_raw, 1));
	CHECK_OK(RUN(c, vfio_container_open_raw, 1));

	CHECK_OK(read_container(c, 1, &cc));
	CHECK(cc.live);
	CHECK(cc.gen > gen);
	CHECK_EQ(cc.gen_ops[EXP_MAP], 0);
	CHECK_EQ(cc.mapped, 0);
	CHECK_EQ(cc.entries, 0);
	CHECK_EQ(cc.ops[EXP_MAP], 2);
	/* The new container's first map, on the CPU that still holds the old part. */
	CHECK_OK(MAP_ON(c, 0, 1, 1, 1, 1, 1));
	CHECK_OK(read_container(c, 1, &cc));
	CHECK_EQ(cc.gen_ops[EXP_MAP], 1);
	CHECK_EQ(cc.mapped, KB64);
	CHECK_EQ(cc.pinned, 1);
	CHECK_EQ(cc.ops[EXP_MAP], 3);
	CHECK_EQ(cc.bytes[EXP_UNMAP], 2 * KB64);
	collector_free(c);
	return TEST_PASS;
}

/*
 * A container that was mapped before the collector started: its first
 * event shows entries it did not see made, so its mapped bytes are
 * unknown, never a sum that goes negative at the first unmap.  Its
 * pinned pages and entries are the events' own, so they are known.
 */
static int test_container_predates_collector(void)
{
	struct collector *c = load();
	struct coll_container cc;

	CHECK(c);
	CHECK_OK(UNMAP(c, 6, KB64, 0, 16, 4, 64));
	CHECK_OK(read_container(c, 6, &cc));
	CHECK(cc.live);
	CHECK_EQ(cc.missing & DMA_MISSING_MAPPED, DMA_MISSING_MAPPED);
	CHECK_EQ(cc.pinned, 64);
	CHECK_EQ(cc.entries, 4);

	/* One met at its first map is known from zero. */
	CHECK_OK(MAP(c, 7, KB64, 16, 1, 16, 0));
	CHECK_OK(read_container(c, 7, &cc));
	CHECK_EQ(cc.missing, 0);
	CHECK_EQ(cc.mapped, KB64);
	collector_free(c);
	return TEST_PASS;
}

/*
 * Process rows cost nothing until a front end asks; a row made while
 * asked is keyed by pid and the start /proc/PID/stat shows, so a later
 * process that gets the pid is another row.
 */
static int test_process_rows_when_asked(void)
{
	struct collector *c = load();
	struct coll_process_row p;

	CHECK(c);
	CHECK_OK(MAP(c, 3, KB64, 16, 1, 16, 0));
	CHECK_EQ(my_process(c, &p), -ENOENT);
	CHECK_OK(collector_want_processes(c, 10 * 1000000000ULL));
	CHECK_OK(MAP(c, 3, KB64, 16, 2, 32, 0));
	CHECK_OK(my_process(c, &p));
	CHECK_EQ(p.v.ops[EXP_MAP], 1);
	/* Met mapping into a container that held a mapping already. */
	CHECK_EQ(p.v.missing, DMA_MISSING_MAPPED);
	CHECK(p.key.start != 0);
	CHECK(process_is(getpid(), p.key.start));
	CHECK(!process_is(getpid(), p.key.start + 1000000000ULL));

	/*
	 * A process started after rows were asked for is seen whole: known
	 * from zero though its container holds others' mappings.
	 */
	{
		struct coll_process_row *rows;
		size_t nr, i, found = 0;
		pid_t child = fork();
		int status;

		CHECK(child >= 0);
		if (!child)
			_exit(MAP(c, 3, KB64, 16, 3, 48, 0) ? 1 : 0);
		CHECK_EQ(waitpid(child, &status, 0), child);
		CHECK(WIFEXITED(status) && !WEXITSTATUS(status));
		CHECK_OK(collector_read_processes(c, &rows, &nr));
		for (i = 0; i < nr; i++) {
			if (rows[i].key.tgid != (__u32)child)
				continue;
			found++;
			CHECK_EQ(rows[i].v.missing, 0);
			CHECK_EQ(rows[i].v.mapped, KB64);
		}
		free(rows);
		CHECK_EQ(found, 1);
	}
	collector_free(c);
	return TEST_PASS;
}

/*
 * An ask runs out at its deadline, judged by the collector's tick clock
 * (a jiffy late at most): a map 300 ms after a 100 ms ask, many ticks at
 * any HZ, is no longer counted in the row.
 */
static int test_process_rows_end_at_deadline(void)
{
	struct collector *c = load();
	struct coll_process_row p;

	CHECK(c);
	CHECK_OK(collector_want_processes(c, 100 * 1000000ULL));
	CHECK_OK(MAP(c, 3, KB64, 16, 1, 16, 0));
	CHECK_OK(my_process(c, &p));
	CHECK_EQ(p.v.ops[EXP_MAP], 1);
	CHECK(p.v.last_ns != 0);
	usleep(300 * 1000);
	CHECK_OK(MAP(c, 3, KB64, 16, 2, 32, 0));
	CHECK_OK(my_process(c, &p));
	CHECK_EQ(p.v.ops[EXP_MAP], 1);
	collector_free(c);
	return TEST_PASS;
}

/*
 * Where the kernel has no BTF (POWER) the process start is read through
 * probe reads: the same start, the same row.
 */
static int test_process_start_without_task_btf(void)
{
	struct collector *c = NULL;
	struct coll_process_row p;

	CHECK_OK(collector_load_no_task_btf(&c, ATTACH_RAW_TP));
	CHECK_OK(collector_want_processes(c, 10 * 1000000000ULL));
	CHECK_OK(MAP(c, 3, KB64, 16, 1, 16, 0));
	CHECK_OK(my_process(c, &p));
	CHECK_EQ(p.v.ops[EXP_MAP], 1);
	CHECK(p.key.start != 0);
	CHECK(process_is(getpid(), p.key.start));
	collector_free(c);
	return TEST_PASS;
}

static int count_record(void *ctx, void *data, size_t size)
{
	(*(int *)ctx)++;
	return 0;
}

/* Reference events reach the ring buffer only while a reader asks. */
static int test_refs_when_asked(void)
{
	struct collector *c = load();
	struct ring_buffer *rb;
	int n = 0;

	CHECK(c);
	rb = ring_buffer__new(c->events_fd, count_record, &n, NULL);
	CHECK(rb);
	CHECK_OK(RUN(c, vfio_ref_get_raw, VFIO_TRACE_OBJ_GROUP, 5, 2, 0xffffffffc0001000ULL));
	CHECK_EQ(ring_buffer__consume(rb), 0);
	CHECK_OK(collector_want_refs(c, true));
	CHECK_OK(RUN(c, vfio_ref_get_raw, VFIO_TRACE_OBJ_GROUP, 5, 3, 0xffffffffc0001000ULL));
	CHECK_OK(RUN(c, vfio_container_open_raw, 9));
	CHECK_EQ(ring_buffer__consume(rb), 2);
	CHECK_EQ(n, 2);
	CHECK_EQ(lost_reason(c, LOST_RINGBUF), 0);
	ring_buffer__free(rb);
	collector_free(c);
	return TEST_PASS;
}

static int first_flags(void *ctx, void *data, size_t size)
{
	const struct leak_event *e = data;

	if (!*(int *)ctx)
		*(int *)ctx = 0x10000 | e->flags;
	return 0;
}

/*
 * vfio-leak's records, with stacks, go to their own ring while one
 * vfio-leak claims it, and only then; a live claim of another process
 * turns a second claimant away.
 */
static int test_stack_ring_when_claimed(void)
{
	struct collector *c = load();
	struct coll_config cfg;
	struct ring_buffer *rb;
	uint64_t ticks;
	__u32 zero = 0;
	int flags = 0;

	CHECK(c);
	rb = ring_buffer__new(c->stack_events_fd, first_flags, &flags, NULL);
	CHECK(rb);
	CHECK_OK(RUN(c, vfio_ref_get_raw, VFIO_TRACE_OBJ_GROUP, 5, 2, 0xffffffffc0001000ULL));
	CHECK_EQ(ring_buffer__consume(rb), 0);
	CHECK_OK(collector_claim(c, COLL_CLAIM_STACKS, 10 * 1000000000ULL));
	CHECK_OK(collector_claim(c, COLL_CLAIM_STACKS, 10 * 1000000000ULL));	/* renewing is no conflict */
	CHECK_OK(RUN(c, vfio_ref_get_raw, VFIO_TRACE_OBJ_GROUP, 5, 3, 0xffffffffc0001000ULL));
	CHECK_EQ(ring_buffer__consume(rb), 1);
	CHECK(flags & (LEAK_F_STACK | LEAK_F_STACK_LOST));
	/* Not the exporter's ring, which nobody asked for. */
	CHECK_EQ(lost_reason(c, LOST_RINGBUF), 0);
	collector_release(c, COLL_CLAIM_STACKS);
	CHECK_OK(RUN(c, vfio_ref_get_raw, VFIO_TRACE_OBJ_GROUP, 5, 4, 0xffffffffc0001000ULL));
	CHECK_EQ(ring_buffer__consume(rb), 0);

	/* Another live process holds the claim: pid 1. */
	CHECK_OK(process_start_ticks(1, &ticks));
	CHECK_OK(bpf_map_lookup_elem(c->settings_fd, &zero, &cfg));
	cfg.claims[COLL_CLAIM_STACKS].pid = 1;
	cfg.claims[COLL_CLAIM_STACKS].start = ticks * (1000000000ULL / sysconf(_SC_CLK_TCK));
	cfg.claims[COLL_CLAIM_STACKS].until = UINT64_MAX;
	CHECK_OK(bpf_map_update_elem(c->settings_fd, &zero, &cfg, BPF_ANY));
	CHECK_EQ(collector_claim(c, COLL_CLAIM_STACKS, 10 * 1000000000ULL), -EBUSY);
	ring_buffer__free(rb);
	collector_free(c);
	return TEST_PASS;
}

/*
 * A claim taken from a holder that released it, or never held, is clean;
 * one taken from a holder that is gone without releasing it is not
 * (vfio-lat then throws away both banks, not one).
 */
static int test_claim_taken_over(void)
{
	struct collector *c = load();
	struct coll_config cfg;
	bool unreleased = true;
	__u32 zero = 0;

	CHECK(c);
	CHECK_OK(collector_claim_over(c, COLL_CLAIM_LAT, 10 * 1000000000ULL, &unreleased));
	CHECK(!unreleased);
	CHECK_OK(collector_claim_over(c, COLL_CLAIM_LAT, 10 * 1000000000ULL, &unreleased));
	CHECK(!unreleased);		/* renewing our own */
	collector_release(c, COLL_CLAIM_LAT);
	CHECK_OK(collector_claim_over(c, COLL_CLAIM_LAT, 10 * 1000000000ULL, &unreleased));
	CHECK(!unreleased);
	collector_release(c, COLL_CLAIM_LAT);

	/* Held, unexpired, by a process that is gone: pid 1 with another start. */
	CHECK_OK(bpf_map_lookup_elem(c->settings_fd, &zero, &cfg));
	cfg.claims[COLL_CLAIM_LAT].pid = 1;
	cfg.claims[COLL_CLAIM_LAT].start = 12345;
	cfg.claims[COLL_CLAIM_LAT].until = UINT64_MAX;
	CHECK_OK(bpf_map_update_elem(c->settings_fd, &zero, &cfg, BPF_ANY));
	CHECK_OK(collector_claim_over(c, COLL_CLAIM_LAT, 10 * 1000000000ULL, &unreleased));
	CHECK(unreleased);
	CHECK_OK(bpf_map_lookup_elem(c->settings_fd, &zero, &cfg));
	CHECK_EQ(cfg.claims[COLL_CLAIM_LAT].pid, (__u32)getpid());
	collector_free(c);
	return TEST_PASS;
}

/*
 * vfio-lat's statistics are kept only while a vfio-lat claims them, and
 * read with its bank flip: an interval holds exactly its operations.
 */
static int test_lat_when_claimed(void)
{
	struct collector *c = load();
	struct lat_interval d;
	struct lat_maps m;

	CHECK(c);
	m = (struct lat_maps){ .stats_fd = c->lat_stats_fd, .bank_fd = c->lat_bank_fd };
	CHECK_OK(lat_sync_create(&m));
	CHECK_OK(MAP(c, 2, KB64, 16, 1, 16, 0));
	CHECK_OK(lat_interval_end(&m, &d));
	CHECK_EQ(lat_hist_count(&d.op[LAT_MAP].parts[LAT_TOTAL]), 0);

	CHECK_OK(collector_claim(c, COLL_CLAIM_LAT, 10 * 1000000000ULL));
	CHECK_OK(MAP(c, 2, KB64, 16, 2, 32, 0));
	CHECK_OK(MAP(c, 2, KB64, 16, 2, 32, -22));
	CHECK_OK(UNMAP(c, 2, 2 * KB64, VFIO_TRACE_UNMAP_TEARDOWN, 32, 0, 0));
	CHECK_OK(lat_interval_end(&m, &d));
	CHECK_EQ(lat_hist_count(&d.op[LAT_MAP].parts[LAT_TOTAL]), 1);
	CHECK_EQ(d.op[LAT_MAP].parts[LAT_TOTAL].sum_ns, 2000);
	CHECK_EQ(d.op[LAT_MAP].parts[LAT_TOTAL].slots[10], 1);	/* 2000 ns: [1024, 2048) */
	CHECK_EQ(d.op[LAT_MAP].parts[LAT_PIN].sum_ns, 1000);
	CHECK_EQ(d.op[LAT_MAP].counters[LAT_CNT_FAILED], 1);
	CHECK_EQ(d.op[LAT_UNMAP].counters[LAT_CNT_TEARDOWN], 1);
	CHECK_OK(MAP(c, 2, KB64, 16, 3, 48, 0));
	CHECK_OK(lat_interval_end(&m, &d));
	CHECK_EQ(lat_hist_count(&d.op[LAT_MAP].parts[LAT_TOTAL]), 1);
	CHECK_EQ(d.op[LAT_MAP].counters[LAT_CNT_FAILED], 0);
	collector_release(c, COLL_CLAIM_LAT);
	CHECK_OK(MAP(c, 2, KB64, 16, 4, 64, 0));
	CHECK_OK(lat_interval_end(&m, &d));
	CHECK_EQ(lat_hist_count(&d.op[LAT_MAP].parts[LAT_TOTAL]), 0);
	close(m.sync_fd);
	close(m.sync_slot_fd);
	collector_free(c);
	return TEST_PASS;
}

/*
 * Pinned and opened as front ends do, in a bpffs of this test's own
 * mount namespace: a reader sees the owner's counts and skipped runs, a
 * second owner is refused and told who holds it, and nothing is left
 * once the owner goes.
 */
static int test_pin_and_share(void)
{
	struct collector *c = load(), *r = NULL, *other = NULL;
	struct coll_container cc;
	pid_t owner = 0;
	__u64 skipped;

	CHECK(c);
	CHECK_OK(unshare(CLONE_NEWNS));
	CHECK_OK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	CHECK_OK(mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL));
	CHECK_EQ(collector_open_shared(&r), -ENOENT);
	CHECK_OK(collector_pin(c, &owner));
	CHECK_OK(collector_open_shared(&r));
	CHECK_EQ(r->owner, getpid());
	CHECK(collector_alive(r));
	CHECK_OK(MAP(c, 5, KB64, 16, 1, 16, 0));
	CHECK_OK(read_container(r, 5, &cc));
	CHECK_EQ(cc.ops[EXP_MAP], 1);
	CHECK_OK(collector_skipped_runs(r, &skipped));
	CHECK_EQ(skipped, 0);
	CHECK_OK(collector_load_mode(&other, ATTACH_RAW_TP, false));
	CHECK_EQ(collector_pin(other, &owner), -EBUSY);
	CHECK_EQ(owner, getpid());
	collector_free(other);
	collector_free(c);
	CHECK(!collector_alive(r));
	CHECK_EQ(access(COLLECTOR_PIN_DIR, F_OK), -1);
	collector_free(r);
	umount("/sys/fs/bpf");
	return TEST_PASS;
}

/* The kernel's id of the map behind fd: two fds of one map share it. */
static __u32 map_id(int fd)
{
	struct bpf_map_info info = {};
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.id;
}

static int pinned_state(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", INTREE_STATE_DIR, name);
	return bpf_obj_get(path);
}

static int intree_get(int fd, __u64 key, struct intree_container *v)
{
	return bpf_map_lookup_elem(fd, &key, v) ? -errno : 0;
}

static int ids_get(int fd, struct intree_id_state *st)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(fd, &zero, st) ? -errno : 0;
}

#define INTREE_FD(c)	bpf_map__fd((c)->skel->maps.intree_containers)
#define IDS_FD(c)	bpf_map__fd((c)->skel->maps.intree_ids)

/*
 * fentry mode's in-tree ids across collectors, in a bpffs of this test's
 * own (the maps are written here as the fentry programs, which cannot
 * run on the host, would): the pinning collector leaves its id maps
 * pinned when it goes; a private one starts from a copy it may change
 * alone; the next pinning one takes them over, every entry partial;
 * pruning frees the ids of containers not live; maps of another layout
 * are replaced.
 */
static int test_intree_ids_carried(void)
{
	struct collector *a, *b, *c;
	struct intree_container v, put = { .mapped = 4096, .pinned = 1, .seq = 7 };
	struct intree_id_state st;
	__u64 key, live = 0xb00;
	__u32 zero = 0;
	int fd;

	CHECK_OK(unshare(CLONE_NEWNS));
	CHECK_OK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL));
	CHECK_OK(mount("bpf", "/sys/fs/bpf", "bpf", 0, NULL));

	/* The first exporter's: nothing to take over. */
	CHECK_OK(collector_load_ids(&a, ATTACH_RAW_TP, false, INTREE_IDS_SHARE, NULL));
	CHECK(!a->ids.reused);
	CHECK_OK(ids_get(IDS_FD(a), &st));
	CHECK_EQ(st.version, INTREE_STATE_VERSION);
	CHECK_EQ(st.words[0], 0);
	CHECK_OK(collector_pin(a, NULL));
	/* Containers 0xa00, 0xb00, 0xc00 numbered 1, 2, 3. */
	for (key = 0xa00; key <= 0xc00; key += 0x100) {
		put.id = key >> 8 & 0xf;
		put.id -= 9;
		CHECK_OK(bpf_map_update_elem(INTREE_FD(a), &key, &put, BPF_NOEXIST));
	}
	st.words[0] = 0xe;
	CHECK_OK(bpf_map_update_elem(IDS_FD(a), &zero, &st, BPF_ANY));
	collector_free(a);
	CHECK_EQ(access(COLLECTOR_PIN_DIR, F_OK), -1);
	fd = pinned_state("intree_containers");
	CHECK(fd >= 0);

	/* A private one: a copy, every entry partial, the original untouched. */
	CHECK_OK(collector_load_ids(&b, ATTACH_RAW_TP, false, INTREE_IDS_COPY, NULL));
	CHECK(map_id(INTREE_FD(b)) != map_id(fd));
	CHECK_OK(ids_get(IDS_FD(b), &st));
	CHECK_EQ(st.words[0], 0xe);
	key = 0xc00;
	CHECK_OK(intree_get(INTREE_FD(b), key, &v));
	CHECK_EQ(v.id, 3);
	CHECK_EQ(v.partial, 1);
	CHECK_EQ(v.seq, 7);
	CHECK_OK(bpf_map_delete_elem(INTREE_FD(b), &key));
	CHECK_OK(intree_get(fd, key, &v));
	CHECK_EQ(v.partial, 0);
	collector_free(b);

	/* The next exporter's: the pinned maps themselves. */
	CHECK_OK(collector_load_ids(&c, ATTACH_RAW_TP, false, INTREE_IDS_SHARE, NULL));
	CHECK(c->ids.reused);
	CHECK_EQ(map_id(INTREE_FD(c)), map_id(fd));
	for (key = 0xa00; key <= 0xc00; key += 0x100) {
		CHECK_OK(intree_get(INTREE_FD(c), key, &v));
		CHECK_EQ(v.partial, 1);
	}
	/* Only 0xb00 lives: 1 and 3 are free again, 2 stays taken. */
	CHECK_OK(ids_get(IDS_FD(c), &st));
	CHECK_OK(intree_ids_prune(INTREE_FD(c), &st, &live, 1));
	CHECK_EQ(st.words[0], 0x4);
	CHECK_EQ(intree_get(INTREE_FD(c), 0xa00, &v), -ENOENT);
	CHECK_EQ(intree_get(INTREE_FD(c), 0xc00, &v), -ENOENT);
	CHECK_OK(intree_get(INTREE_FD(c), 0xb00, &v));
	CHECK_EQ(v.id, 2);
	/* No live container at all: every entry goes. */
	CHECK_OK(intree_ids_prune(INTREE_FD(c), &st, &live, 0));
	CHECK_EQ(st.words[0], 0);
	CHECK_OK(collector_pin(c, NULL));
	collector_free(c);
	close(fd);

	/* Another layout's state is replaced: numbered afresh. */
	fd = pinned_state("intree_ids");
	CHECK(fd >= 0);
	st = (struct intree_id_state){ .version = INTREE_STATE_VERSION + 1, .words = { 0xe } };
	CHECK_OK(bpf_map_update_elem(fd, &zero, &st, BPF_ANY));
	CHECK_OK(collector_load_ids(&c, ATTACH_RAW_TP, false, INTREE_IDS_SHARE, NULL));
	CHECK(!c->ids.reused);
	CHECK_EQ(access(INTREE_STATE_DIR "/intree_ids", F_OK), -1);
	CHECK_OK(collector_pin(c, NULL));
	CHECK(map_id(pinned_state("intree_ids")) == map_id(IDS_FD(c)));
	CHECK(map_id(IDS_FD(c)) != map_id(fd));
	CHECK_OK(ids_get(IDS_FD(c), &st));
	CHECK_EQ(st.version, INTREE_STATE_VERSION);
	CHECK_EQ(st.words[0], 0);
	collector_free(c);
	close(fd);
	umount("/sys/fs/bpf");
	return TEST_PASS;
}

/* An id beyond the tables is counted lost, never written out of bounds. */
static int test_id_range_counted(void)
{
	struct collector *c = load();
	struct coll_container *rows;
	size_t nr;

	CHECK(c);
	CHECK_OK(MAP(c, COLL_MAX_CONTAINERS, 4096, 1, 1, 1, 0));
	CHECK_OK(RUN(c, vfio_container_open_raw, COLL_MAX_CONTAINERS + 5));
	CHECK_OK(MAP(c, COLL_MAX_CONTAINERS - 1, 4096, 1, 1, 1, 0));
	CHECK_EQ(lost_reason(c, LOST_ID_RANGE), 2);
	CHECK_OK(collector_read_containers(c, &rows, &nr));
	CHECK_EQ(nr, 1);
	CHECK_EQ(rows[0].id, COLL_MAX_CONTAINERS - 1);
	CHECK_EQ(rows[0].ops[EXP_MAP], 1);
	free(rows);
	collector_free(c);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_container_life),
	TEST(test_errors_by_errno),
	TEST(test_levels_out_of_order),
	TEST(test_container_id_reused),
	TEST(test_container_predates_collector),
	TEST(test_process_rows_when_asked),
	TEST(test_process_rows_end_at_deadline),
	TEST(test_process_start_without_task_btf),
	TEST(test_refs_when_asked),
	TEST(test_stack_ring_when_claimed),
	TEST(test_claim_taken_over),
	TEST(test_lat_when_claimed),
	TEST(test_pin_and_share),
	TEST(test_intree_ids_carried),
	TEST(test_id_range_counted),
};

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	return RUN_TESTS("bpf/collector", tests, argc, argv);
}
