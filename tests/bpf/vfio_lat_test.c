// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of vfio-lat.bpf.c: crafted vfio_dma_map/unmap arguments run
 * through the raw_tp entry points must land in known log2 buckets of
 * nanoseconds (sub-microsecond ones too), with sum and max exact in ns;
 * the filters must hold, and nothing may be lost.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "attach.h"
#include "check.h"
#include "raw_tp_run.h"
#include "common.h"
#include "histogram.h"
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
	uint64_t args[11] = {
		d->container, d->iova, d->size, d->flags, d->npages,
		d->entries, d->pinned, (uint64_t)(int64_t)d->ret,
		d->total_ns ? d->total_ns : d->pin_ns + d->iommu_ns,
		d->pin_ns, d->iommu_ns,
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

/* One histogram, summed over the CPUs. */
static int read_hist(struct vfio_lat *skel, int op, int part, struct lat_hist *out)
{
	int cpus = common_nr_cpus(), cpu, i;
	struct lat_hist *h = calloc(cpus, sizeof(*h));
	__u32 key = LAT_HIST_IDX(op, part);

	memset(out, 0, sizeof(*out));
	if (!h || bpf_map_lookup_elem(bpf_map__fd(skel->maps.hists), &key, h)) {
		free(h);
		return -1;
	}
	for (cpu = 0; cpu < cpus; cpu++) {
		for (i = 0; i < HIST_NR_SLOTS; i++)
			out->slots[i] += h[cpu].slots[i];
		out->count += h[cpu].count;
		out->sum_ns += h[cpu].sum_ns;
	}
	free(h);
	return 0;
}

static uint64_t percpu_sum(int fd, __u32 key)
{
	int cpus = common_nr_cpus(), cpu;
	__u64 *v = calloc(cpus, sizeof(*v)), sum = 0;

	if (v && !bpf_map_lookup_elem(fd, &key, v))
		for (cpu = 0; cpu < cpus; cpu++)
			sum += v[cpu];
	free(v);
	return sum;
}

static uint64_t percpu_max(int fd, __u32 key)
{
	int cpus = common_nr_cpus(), cpu;
	__u64 *v = calloc(cpus, sizeof(*v)), max = 0;

	if (v && !bpf_map_lookup_elem(fd, &key, v))
		for (cpu = 0; cpu < cpus; cpu++)
			max = v[cpu] > max ? v[cpu] : max;
	free(v);
	return max;
}

static uint64_t counter(struct vfio_lat *skel, int op, int c)
{
	return percpu_sum(bpf_map__fd(skel->maps.counters), op * LAT_NR_COUNTERS + c);
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
	CHECK_EQ(h.count, 10);
	CHECK_EQ(only_slot(&h), 15);
	CHECK_EQ(h.slots[15], 10);
	CHECK_EQ(h.sum_ns, 450000);
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
	CHECK_EQ(h.count, 0);
	/* The maximum of bank 0, exact. */
	CHECK_EQ(percpu_max(bpf_map__fd(skel->maps.maxes), LAT_HIST_IDX(LAT_MAP, LAT_TOTAL)), 45000);
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
	int fd, i;

	CHECK(skel);
	fd = bpf_map__fd(skel->maps.maxes);
	for (i = 0; i < 100; i++)
		CHECK_OK(run_dma(skel, true, &d));
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_PIN, &h));
	CHECK_EQ(only_slot(&h), 7);		/* [128, 256) */
	CHECK_EQ(h.slots[7], 100);
	CHECK_EQ(h.sum_ns, 25000);
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_IOMMU, &h));
	CHECK_EQ(only_slot(&h), 9);		/* [512, 1024) */
	CHECK_EQ(h.sum_ns, 60000);
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_TOTAL, &h));
	CHECK_EQ(only_slot(&h), 9);
	CHECK_EQ(h.count, 100);
	CHECK_EQ(h.sum_ns, 85000);
	CHECK_EQ(percpu_max(fd, LAT_HIST_IDX(LAT_MAP, LAT_PIN)), 250);
	CHECK_EQ(percpu_max(fd, LAT_HIST_IDX(LAT_MAP, LAT_TOTAL)), 850);

	/* 1999 ns, ten times: truncating to whole us would have summed 10 us. */
	d.total_ns = 1999;
	for (i = 0; i < 10; i++)
		CHECK_OK(run_dma(skel, false, &d));
	CHECK_OK(read_hist(skel, LAT_UNMAP, LAT_TOTAL, &h));
	CHECK_EQ(only_slot(&h), 10);		/* [1024, 2048) */
	CHECK_EQ(h.sum_ns, 19990);
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
	CHECK_EQ(h.count, 7);
	for (i = 0; i < sizeof(slot) / sizeof(slot[0]); i++)
		CHECK_EQ(hist_slot_of(ns[i]), slot[i]);
	CHECK_EQ(h.slots[0], 2);
	CHECK_EQ(h.slots[1], 1);
	CHECK_EQ(h.slots[9], 3);
	CHECK_EQ(h.slots[19], 1);
	CHECK_EQ(h.sum_ns, sum);
	CHECK_EQ(percpu_max(bpf_map__fd(skel->maps.maxes), LAT_HIST_IDX(LAT_UNMAP, LAT_PIN)), 1023000);
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
	CHECK_EQ(h.count, 1);
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
	CHECK_EQ(h.count, 2);
	CHECK_OK(read_hist(skel, LAT_UNMAP, LAT_TOTAL, &h));
	CHECK_EQ(h.count, 0);
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
		CHECK_EQ(h.count, other ? 0 : 1);
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
	CHECK_EQ(h.count, 0);
	CHECK_OK(read_hist(skel, LAT_UNMAP, LAT_TOTAL, &h));
	CHECK_EQ(h.count, 0);
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
	CHECK_EQ(h.count, 1);
	CHECK_EQ(only_slot(&h), 16);
	CHECK_EQ(lost_sum(skel), 0);
	vfio_lat__destroy(skel);
	return TEST_PASS;
}

/* 5 ms lands in [2^22, 2^23) ns; the max bank flips as user space asks. */
static int test_max_bank(void)
{
	struct dma d = { .container = 1, .size = 4096, .npages = 1, .pin_ns = 5000000 };
	struct vfio_lat *skel = lat_load();
	struct lat_hist h;
	int fd;

	CHECK(skel);
	fd = bpf_map__fd(skel->maps.maxes);
	CHECK_OK(run_dma(skel, true, &d));
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_PIN, &h));
	CHECK_EQ(only_slot(&h), 22);
	CHECK_EQ(percpu_max(fd, LAT_HIST_IDX(LAT_MAP, LAT_PIN)), 5000000);
	skel->bss->max_bank = 1;
	d.pin_ns = 3000000;
	CHECK_OK(run_dma(skel, true, &d));
	CHECK_EQ(percpu_max(fd, LAT_NR_HISTS + LAT_HIST_IDX(LAT_MAP, LAT_PIN)), 3000000);
	CHECK_EQ(percpu_max(fd, LAT_HIST_IDX(LAT_MAP, LAT_PIN)), 5000000);
	vfio_lat__destroy(skel);
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
	TEST(test_max_bank),
};

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	return RUN_TESTS("bpf/vfio_lat", tests, argc, argv);
}
