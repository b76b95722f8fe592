// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of vfio-lat.bpf.c: crafted vfio_dma_map/unmap arguments run
 * through the raw_tp entry points must land in known log2 buckets of
 * nanoseconds (sub-microsecond ones too), with sum and max exact in ns;
 * the filters must hold, and nothing may be lost.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "check.h"
#include "raw_tp_run.h"
#include "common.h"
#include "histogram.h"
#include "latency.h"
#include "lat_spin.skel.h"
#include "vfio-lat.skel.h"
#include "vfio_tools.h"

struct dma {
	uint32_t container;
	uint64_t iova, size;
	uint32_t flags;
	uint64_t npages;
	uint32_t entries;
	uint64_t pinned;
	int ret;
	uint64_t total_ns;	/* 0: pin_ns + iommu_ns, as if nothing else took time */
	uint64_t pin_ns, iommu_ns;
};

/* The u64 args[] a raw_tp program gets, in TP_PROTO order. */
static int run_dma(struct vfio_lat *skel, bool map, const struct dma *d)
{
	static uint64_t seq;
	uint64_t args[12] = {
		d->container, d->iova, d->size, d->flags, d->npages,
		d->entries, d->pinned, (uint64_t)(int64_t)d->ret,
		d->total_ns ? d->total_ns : d->pin_ns + d->iommu_ns,
		d->pin_ns, d->iommu_ns, ++seq,
	};
	struct bpf_program *prog = map ? skel->progs.vfio_dma_map_raw :
					 skel->progs.vfio_dma_unmap_raw;
	return raw_tp_run(prog, args, sizeof(args) / sizeof(args[0]));
}

/* Open with the raw_tp programs only; the caller sets rodata, then load. */
static struct vfio_lat *lat_open(void)
{
	struct vfio_lat *skel = vfio_lat__open();

	if (!skel)
		return NULL;
	attach_select(skel->obj, ATTACH_RAW_TP);
	return skel;
}

static struct vfio_lat *lat_load(void)
{
	struct vfio_lat *skel = lat_open();

	if (skel && vfio_lat__load(skel)) {
		vfio_lat__destroy(skel);
		return NULL;
	}
	return skel;
}

/* The bank the programs write now, summed over the CPUs (max: the largest). */
static int read_stats(struct vfio_lat *skel, int op, struct lat_stats *out)
{
	int cpus = common_nr_cpus(), cpu;
	struct lat_stats *v = calloc(cpus, sizeof(*v));
	__u32 key = LAT_KEY(skel->bss->lat_bank & 1, op);

	memset(out, 0, sizeof(*out));
	if (!v || bpf_map_lookup_elem(bpf_map__fd(skel->maps.stats), &key, v)) {
		free(v);
		return -1;
	}
	for (cpu = 0; cpu < cpus; cpu++)
		lat_stats_add(out, &v[cpu]);
	free(v);
	return 0;
}

static int read_hist(struct vfio_lat *skel, int op, int part, struct lat_hist *out)
{
	struct lat_stats st;

	if (read_stats(skel, op, &st))
		return -1;
	*out = st.parts[part];
	return 0;
}

static uint64_t counter(struct vfio_lat *skel, int op, int c)
{
	struct lat_stats st;

	return read_stats(skel, op, &st) ? UINT64_MAX : st.counters[c];
}

static struct lat_maps lat_maps(struct vfio_lat *skel)
{
	return (struct lat_maps){
		.stats_fd = bpf_map__fd(skel->maps.stats),
		.sync_fd = bpf_map__fd(skel->maps.lat_sync),
		.sync_slot_fd = bpf_map__fd(skel->maps.lat_sync_slot),
		.bank = &skel->bss->lat_bank,
	};
}

static uint64_t lost_sum(struct vfio_lat *skel)
{
	__u64 n[LOST_NR_REASONS];

	if (lost_read(bpf_map__fd(skel->maps.lost), n))
		return UINT64_MAX;
	return lost_total(n);
}

/* The only non-empty slot of h, or -1. */
static int only_slot(const struct lat_hist *h)
{
	int i, slot = -1;

	for (i = 0; i < HIST_NR_SLOTS; i++) {
		if (!h->slots[i])
			continue;
		if (slot >= 0)
			return -1;
		slot = i;
	}
	return slot;
}

/*
 * 5 us pinning + 40 us IOMMU, in ns: slots 12 [4096, 8192) and
 * 15 [32768, 65536), total 45000 ns in 15; sum and max to the ns.
 */
static int test_map_buckets(void)
{
	struct vfio_lat *skel = lat_load();
	struct dma d = { .container = 1, .size = 65536, .npages = 16,
			 .entries = 1, .pinned = 16, .pin_ns = 5000, .iommu_ns = 40000 };
	struct lat_hist h;
	int i;

	CHECK(skel);
	for (i = 0; i < 10; i++)
		CHECK_OK(run_dma(skel, true, &d));

	CHECK_OK(read_hist(skel, LAT_MAP, LAT_TOTAL, &h));
	CHECK_EQ(lat_hist_count(&h), 10);
	CHECK_EQ(only_slot(&h), 15);
	CHECK_EQ(h.slots[15], 10);
	CHECK_EQ(h.sum_ns, 450000);
	CHECK_EQ(h.max_ns, 45000);
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_PIN, &h));
	CHECK_EQ(only_slot(&h), 12);
	CHECK_EQ(h.slots[12], 10);
	CHECK_EQ(h.sum_ns, 50000);
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_IOMMU, &h));
	CHECK_EQ(only_slot(&h), 15);
	CHECK_EQ(h.slots[15], 10);
	CHECK_EQ(h.sum_ns, 400000);
	/* Nothing on the unmap side. */
	CHECK_OK(read_hist(skel, LAT_UNMAP, LAT_TOTAL, &h));
	CHECK_EQ(lat_hist_count(&h), 0);
	CHECK_EQ(h.max_ns, 0);
	CHECK_EQ(counter(skel, LAT_MAP, LAT_CNT_FAILED), 0);
	CHECK_EQ(counter(skel, LAT_MAP, LAT_CNT_FILTERED), 0);
	CHECK_EQ(lost_sum(skel), 0);
	vfio_lat__destroy(skel);
	return TEST_PASS;
}

/*
 * Operations under a microsecond keep their own slots and their exact
 * time in the sum: 100 maps of 250 ns pinning + 600 ns IOMMU (850 ns in
 * all), which a division by 1000 before bucketing put in slot 0 with a
 * sum of 0.
 */
static int test_sub_microsecond(void)
{
	struct vfio_lat *skel = lat_load();
	struct dma d = { .container = 1, .size = 4096, .npages = 1,
			 .pin_ns = 250, .iommu_ns = 600 };
	struct lat_hist h;
	int i;

	CHECK(skel);
	for (i = 0; i < 100; i++)
		CHECK_OK(run_dma(skel, true, &d));
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_PIN, &h));
	CHECK_EQ(only_slot(&h), 7);		/* [128, 256) */
	CHECK_EQ(h.slots[7], 100);
	CHECK_EQ(h.sum_ns, 25000);
	CHECK_EQ(h.max_ns, 250);
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_IOMMU, &h));
	CHECK_EQ(only_slot(&h), 9);		/* [512, 1024) */
	CHECK_EQ(h.sum_ns, 60000);
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_TOTAL, &h));
	CHECK_EQ(only_slot(&h), 9);
	CHECK_EQ(lat_hist_count(&h), 100);
	CHECK_EQ(h.sum_ns, 85000);
	CHECK_EQ(h.max_ns, 850);

	/* 1999 ns, ten times: truncating to whole us would have summed 10 us. */
	d.total_ns = 1999;
	for (i = 0; i < 10; i++)
		CHECK_OK(run_dma(skel, false, &d));
	CHECK_OK(read_hist(skel, LAT_UNMAP, LAT_TOTAL, &h));
	CHECK_EQ(only_slot(&h), 10);		/* [1024, 2048) */
	CHECK_EQ(h.sum_ns, 19990);
	CHECK_EQ(h.max_ns, 1999);
	CHECK_EQ(lost_sum(skel), 0);
	vfio_lat__destroy(skel);
	return TEST_PASS;
}

/* Values spread over buckets, in ns, each in the slot of its log2. */
static int test_unmap_spread(void)
{
	static const uint64_t ns[] = { 0, 1, 3, 700, 999, 1000, 1023000 };
	static const int slot[] = { 0, 0, 1, 9, 9, 9, 19 };
	struct vfio_lat *skel = lat_load();
	uint64_t sum = 0;
	struct lat_hist h;
	size_t i;

	CHECK(skel);
	for (i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
		struct dma d = { .container = 2, .size = 4096, .npages = 1,
				 .pin_ns = ns[i] };

		CHECK_OK(run_dma(skel, false, &d));
		sum += ns[i];
	}
	CHECK_OK(read_hist(skel, LAT_UNMAP, LAT_PIN, &h));
	CHECK_EQ(lat_hist_count(&h), 7);
	for (i = 0; i < sizeof(slot) / sizeof(slot[0]); i++)
		CHECK_EQ(hist_slot_of(ns[i]), slot[i]);
	CHECK_EQ(h.slots[0], 2);
	CHECK_EQ(h.slots[1], 1);
	CHECK_EQ(h.slots[9], 3);
	CHECK_EQ(h.slots[19], 1);
	CHECK_EQ(h.sum_ns, sum);
	CHECK_EQ(h.max_ns, 1023000);
	CHECK_EQ(lost_sum(skel), 0);
	vfio_lat__destroy(skel);
	return TEST_PASS;
}

/*
 * The total comes from the event's total_ns, not from pin + iommu: a 3 ms
 * map whose pinning took 1 us lands in [2^21, 2^22) ns for the total.
 */
static int test_total_from_event(void)
{
	struct vfio_lat *skel = lat_load();
	struct dma d = { .container = 1, .size = 4096, .npages = 1,
			 .total_ns = 3000000, .pin_ns = 1000, .iommu_ns = 1000 };
	struct lat_hist h;

	CHECK(skel);
	CHECK_OK(run_dma(skel, true, &d));
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_TOTAL, &h));
	CHECK_EQ(lat_hist_count(&h), 1);
	CHECK_EQ(only_slot(&h), 21);
	CHECK_EQ(h.sum_ns, 3000000);
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_PIN, &h));
	CHECK_EQ(only_slot(&h), 9);	/* 1000 ns */
	CHECK_EQ(lost_sum(skel), 0);
	vfio_lat__destroy(skel);
	return TEST_PASS;
}

/* Operation, container and size class filters; filtered events are counted. */
static int test_filters(void)
{
	struct vfio_lat *skel = lat_open();
	struct dma d = { .container = 7, .size = 8192, .npages = 2, .pin_ns = 2000 };
	struct lat_hist h;

	CHECK(skel);
	skel->rodata->filter_op = LAT_MAP + 1;
	skel->rodata->filter_container = 7;
	skel->rodata->filter_min_size = 8192;
	skel->rodata->filter_max_size = 65536;
	CHECK_OK(vfio_lat__load(skel));

	CHECK_OK(run_dma(skel, true, &d));		/* counted */
	d.size = 4096;
	CHECK_OK(run_dma(skel, true, &d));		/* too small */
	d.size = 131072;
	CHECK_OK(run_dma(skel, true, &d));		/* too large */
	d.size = 65536;
	CHECK_OK(run_dma(skel, true, &d));		/* counted: bounds inclusive */
	d.container = 8;
	CHECK_OK(run_dma(skel, true, &d));		/* other container */
	d.container = 7;
	CHECK_OK(run_dma(skel, false, &d));		/* unmap */

	CHECK_OK(read_hist(skel, LAT_MAP, LAT_TOTAL, &h));
	CHECK_EQ(lat_hist_count(&h), 2);
	CHECK_OK(read_hist(skel, LAT_UNMAP, LAT_TOTAL, &h));
	CHECK_EQ(lat_hist_count(&h), 0);
	CHECK_EQ(counter(skel, LAT_MAP, LAT_CNT_FILTERED), 3);
	CHECK_EQ(counter(skel, LAT_UNMAP, LAT_CNT_FILTERED), 1);
	CHECK_EQ(lost_sum(skel), 0);
	vfio_lat__destroy(skel);
	return TEST_PASS;
}

/* -p: the current process passes, any other does not. */
static int test_pid_filter(void)
{
	struct dma d = { .container = 1, .size = 4096, .npages = 1, .pin_ns = 1000 };
	struct vfio_lat *skel;
	struct lat_hist h;
	int other;

	for (other = 0; other < 2; other++) {
		skel = lat_open();
		CHECK(skel);
		skel->rodata->filter_pid = getpid() + other;
		CHECK_OK(vfio_lat__load(skel));
		CHECK_OK(run_dma(skel, true, &d));
		CHECK_OK(read_hist(skel, LAT_MAP, LAT_TOTAL, &h));
		CHECK_EQ(lat_hist_count(&h), other ? 0 : 1);
		CHECK_EQ(counter(skel, LAT_MAP, LAT_CNT_FILTERED), other ? 1 : 0);
		vfio_lat__destroy(skel);
	}
	return TEST_PASS;
}

/* Failures and teardowns stay out of the histograms, counted apart. */
static int test_failed_and_teardown(void)
{
	struct dma fail = { .container = 1, .size = 4096, .ret = -22 };
	struct dma td = { .container = 1, .size = 1 << 20, .npages = 256,
			  .flags = VFIO_TRACE_UNMAP_TEARDOWN, .pin_ns = 100000 };
	struct vfio_lat *skel = lat_load();
	struct lat_hist h;

	CHECK(skel);
	CHECK_OK(run_dma(skel, true, &fail));
	CHECK_OK(run_dma(skel, false, &fail));
	CHECK_OK(run_dma(skel, false, &td));
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_TOTAL, &h));
	CHECK_EQ(lat_hist_count(&h), 0);
	CHECK_OK(read_hist(skel, LAT_UNMAP, LAT_TOTAL, &h));
	CHECK_EQ(lat_hist_count(&h), 0);
	CHECK_EQ(counter(skel, LAT_MAP, LAT_CNT_FAILED), 1);
	CHECK_EQ(counter(skel, LAT_UNMAP, LAT_CNT_FAILED), 1);
	CHECK_EQ(counter(skel, LAT_UNMAP, LAT_CNT_TEARDOWN), 1);
	vfio_lat__destroy(skel);

	/* --teardown: counted, 100 us in [2^16, 2^17) ns. */
	skel = lat_open();
	CHECK(skel);
	skel->rodata->targ_teardown = true;
	CHECK_OK(vfio_lat__load(skel));
	CHECK_OK(run_dma(skel, false, &td));
	CHECK_OK(read_hist(skel, LAT_UNMAP, LAT_TOTAL, &h));
	CHECK_EQ(lat_hist_count(&h), 1);
	CHECK_EQ(only_slot(&h), 16);
	CHECK_EQ(lost_sum(skel), 0);
	vfio_lat__destroy(skel);
	return TEST_PASS;
}

/*
 * Intervals: each lat_interval_end() returns what was recorded since the
 * previous one, max included, and the programs go on in the other bank.
 */
static int test_intervals(void)
{
	struct dma d = { .container = 1, .size = 4096, .npages = 1, .pin_ns = 5000000 };
	struct vfio_lat *skel = lat_load();
	struct lat_interval iv;
	struct lat_maps m;
	struct lat_hist h;

	CHECK(skel);
	m = lat_maps(skel);
	CHECK_EQ(skel->bss->lat_bank, 0);
	CHECK_OK(run_dma(skel, true, &d));		/* 5 ms: [2^22, 2^23) ns */
	d.pin_ns = 300;
	CHECK_OK(run_dma(skel, true, &d));
	d.ret = -12;
	CHECK_OK(run_dma(skel, true, &d));		/* failed */
	d.ret = 0;

	CHECK_OK(lat_interval_end(&m, &iv));
	CHECK_EQ(skel->bss->lat_bank, 1);
	h = iv.op[LAT_MAP].parts[LAT_PIN];
	CHECK_EQ(lat_hist_count(&h), 2);
	CHECK_EQ(h.slots[22], 1);
	CHECK_EQ(h.slots[8], 1);
	CHECK_EQ(h.sum_ns, 5000300);
	CHECK_EQ(h.max_ns, 5000000);
	CHECK_EQ(iv.op[LAT_MAP].counters[LAT_CNT_FAILED], 1);
	CHECK_EQ(lat_hist_count(&iv.op[LAT_UNMAP].parts[LAT_TOTAL]), 0);
	/* The old bank was zeroed for its next turn. */
	skel->bss->lat_bank = 0;
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_PIN, &h));
	CHECK_EQ(lat_hist_count(&h), 0);
	CHECK_EQ(h.max_ns, 0);
	skel->bss->lat_bank = 1;

	/* The next interval: its own maximum, 3 ms, not the 5 ms before. */
	d.pin_ns = 3000000;
	CHECK_OK(run_dma(skel, true, &d));
	CHECK_OK(run_dma(skel, false, &d));
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_PIN, &h));	/* bank 1 */
	CHECK_EQ(lat_hist_count(&h), 1);
	CHECK_OK(lat_interval_end(&m, &iv));
	CHECK_EQ(skel->bss->lat_bank, 0);
	h = iv.op[LAT_MAP].parts[LAT_PIN];
	CHECK_EQ(lat_hist_count(&h), 1);
	CHECK_EQ(h.max_ns, 3000000);
	CHECK_EQ(h.sum_ns, 3000000);
	CHECK_EQ(iv.op[LAT_MAP].counters[LAT_CNT_FAILED], 0);
	CHECK_EQ(lat_hist_count(&iv.op[LAT_UNMAP].parts[LAT_PIN]), 1);

	/* Nothing since: an empty interval. */
	CHECK_OK(lat_interval_end(&m, &iv));
	CHECK_EQ(lat_hist_count(&iv.op[LAT_MAP].parts[LAT_TOTAL]), 0);
	CHECK_EQ(iv.op[LAT_MAP].parts[LAT_TOTAL].max_ns, 0);
	CHECK_EQ(lost_sum(skel), 0);
	vfio_lat__destroy(skel);
	return TEST_PASS;
}

static void *run_spin(void *arg)
{
	struct lat_spin *spin = arg;

	return (void *)(long)RAW_TP_RUN(spin->progs.lat_spin, 0);
}

/*
 * One try of test_wait_programs: 1 when it showed the wait, 0 when this
 * thread was not scheduled until the program had already ended (proving
 * nothing), -1 on failure.
 */
static int wait_programs_once(const struct lat_maps *m, double *ms)
{
	struct lat_spin *spin = lat_spin__open();
	volatile __u32 *started, *done;
	struct timespec t0, t1;
	int i, err, shown = -1;
	pthread_t thread;
	void *ret;

	if (!spin)
		return -1;
	spin->rodata->rounds = 32;
	if (lat_spin__load(spin) ||
	    pthread_create(&thread, NULL, run_spin, spin)) {
		lat_spin__destroy(spin);
		return -1;
	}
	started = &spin->bss->started;
	done = &spin->bss->done;
	for (i = 0; i < 5000 && !*started; i++)
		usleep(1000);
	if (*started && !*done) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		err = lat_wait_programs(m);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		*ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
		if (!err && *done)
			shown = 1;
		else
			fprintf(stderr, "  lat_wait_programs() = %d, the program %s\n",
				err, *done ? "ended" : "still runs");
	} else if (*started) {
		shown = 0;
	}
	if (pthread_join(thread, &ret) || ret)
		shown = -1;
	lat_spin__destroy(spin);
	return shown;
}

/*
 * lat_wait_programs() returns only after a program that was running when
 * it was called has ended: here one that spins in bpf_loop for a while,
 * run from another thread (bpf_prog_test_run runs it as a tracepoint
 * would be, inside an RCU read-side section).
 */
static int test_wait_programs(void)
{
	struct vfio_lat *skel = lat_load();
	struct lat_maps m;
	int tries, shown = 0;
	double ms = 0;

	CHECK(skel);
	m = lat_maps(skel);
	/* A busy machine may not run this thread while the program runs. */
	for (tries = 0; tries < 5 && !shown; tries++)
		shown = wait_programs_once(&m, &ms);
	CHECK_EQ(shown, 1);
	printf("# waited %.1f ms for the running program (try %d)\n", ms, tries);
	vfio_lat__destroy(skel);
	return TEST_PASS;
}

/* Operation i of test_intervals_under_load: its times and its result. */
#define LOAD_OPS	100000
static uint64_t load_ns(unsigned int i) { return (i * 7919ULL) % 3000000; }
static bool load_fails(unsigned int i) { return i % 13 == 5; }

struct load {
	struct vfio_lat *skel;
	volatile unsigned int next;	/* operations run so far */
	volatile int err;
	volatile unsigned int ended;	/* intervals the main thread ended */
};

/*
 * At a quarter, a half and three quarters of the run, the loader waits
 * until the main thread has ended two more intervals, so at least three
 * intervals end in the middle of the run however the two threads are
 * scheduled: on a busy host (a VM on the other core) the loader could
 * otherwise run all its operations before the main thread ends a second
 * interval, and the test would prove nothing.  Between those points the
 * two threads race freely.
 */
static void load_checkpoint(struct load *l, unsigned int i)
{
	unsigned int seen;

	if (i == 0 || i % (LOAD_OPS / 4))
		return;
	seen = l->ended;
	while (l->ended < seen + 2)
		sched_yield();
}

static void *run_load(void *arg)
{
	struct load *l = arg;
	unsigned int i;

	for (i = 0; i < LOAD_OPS; i++) {
		load_checkpoint(l, i);
		struct dma d = { .container = 1, .size = 4096, .npages = 1,
				 .total_ns = load_ns(i) + 1, .pin_ns = load_ns(i) / 2,
				 .iommu_ns = load_ns(i) - load_ns(i) / 2,
				 .ret = load_fails(i) ? -22 : 0 };
		int err = run_dma(l->skel, true, &d);

		if (err) {
			l->err = err;
			break;
		}
		l->next = i + 1;
	}
	return NULL;
}

/*
 * One thread runs 100000 maps through the handler while this one ends
 * intervals as fast as it can.  The operations of one thread run one after
 * the other, so each interval must hold exactly a run of consecutive ones,
 * the next interval the run after it: every slot, sum, maximum and failure
 * count of every interval is known and checked, and none is lost or
 * counted twice.
 */
static int test_intervals_under_load(void)
{
	struct load l = { .skel = lat_load() };
	struct lat_interval iv;
	unsigned int first = 0, busy = 0, n;
	struct lat_maps m;
	pthread_t thread;
	bool last = false;

	CHECK(l.skel);
	m = lat_maps(l.skel);
	CHECK_EQ(pthread_create(&thread, NULL, run_load, &l), 0);
	while (!last) {
		struct lat_stats want = { 0 };
		unsigned int i, part;

		last = l.next == LOAD_OPS || l.err;
		CHECK_OK(lat_interval_end(&m, &iv));
		l.ended++;
		/* The run of this interval: as many as it counted, failures included. */
		n = lat_hist_count(&iv.op[LAT_MAP].parts[LAT_TOTAL]) +
		    iv.op[LAT_MAP].counters[LAT_CNT_FAILED];
		for (i = first; i < first + n && i < LOAD_OPS; i++) {
			uint64_t ns[LAT_NR_PARTS] = { load_ns(i) + 1, load_ns(i) / 2,
						      load_ns(i) - load_ns(i) / 2 };

			if (load_fails(i)) {
				want.counters[LAT_CNT_FAILED]++;
				continue;
			}
			for (part = 0; part < LAT_NR_PARTS; part++) {
				struct lat_hist *h = &want.parts[part];

				h->slots[hist_slot_of(ns[part])]++;
				h->sum_ns += ns[part];
				if (ns[part] > h->max_ns)
					h->max_ns = ns[part];
			}
		}
		CHECK(first + n <= LOAD_OPS);
		if (memcmp(&want, &iv.op[LAT_MAP], sizeof(want))) {
			CHECK_FAILED("interval of operations %u..%u differs from them", first, first + n);
			return TEST_FAIL;
		}
		CHECK_EQ(lat_hist_count(&iv.op[LAT_UNMAP].parts[LAT_TOTAL]), 0);
		busy += n && n < LOAD_OPS;
		first += n;
	}
	CHECK_EQ(pthread_join(thread, NULL), 0);
	CHECK_EQ(l.err, 0);
	CHECK_EQ(first, LOAD_OPS);
	/* The race was run: intervals ended while operations were going on. */
	printf("# %u intervals with operations\n", busy);
	CHECK(busy >= 3);
	CHECK_EQ(lost_sum(l.skel), 0);
	vfio_lat__destroy(l.skel);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_map_buckets),
	TEST(test_sub_microsecond),
	TEST(test_unmap_spread),
	TEST(test_total_from_event),
	TEST(test_filters),
	TEST(test_pid_filter),
	TEST(test_failed_and_teardown),
	TEST(test_intervals),
	TEST(test_wait_programs),
	TEST(test_intervals_under_load),
};

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	return RUN_TESTS("bpf/vfio_lat", tests, argc, argv);
}
