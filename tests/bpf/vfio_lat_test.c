// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of vfio-lat.bpf.c: crafted vfio_dma_map/unmap arguments run
 * through the raw_tp entry points must land in known log2 buckets, the
 * filters must hold, and nothing may be lost.
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
		out->sum += h[cpu].sum;
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

/* 5 us pinning + 40 us IOMMU: slots 2 [4,8) and 5 [32,64), total 45 in 5. */
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
	CHECK_EQ(only_slot(&h), 5);
	CHECK_EQ(h.slots[5], 10);
	CHECK_EQ(h.sum, 450);
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_PIN, &h));
	CHECK_EQ(only_slot(&h), 2);
	CHECK_EQ(h.slots[2], 10);
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_IOMMU, &h));
	CHECK_EQ(only_slot(&h), 5);
	CHECK_EQ(h.slots[5], 10);
	/* Nothing on the unmap side. */
	CHECK_OK(read_hist(skel, LAT_UNMAP, LAT_TOTAL, &h));
	CHECK_EQ(h.count, 0);
	/* The maximum of bank 0, exact. */
	CHECK_EQ(percpu_max(bpf_map__fd(skel->maps.maxes), LAT_HIST_IDX(LAT_MAP, LAT_TOTAL)), 45);
	CHECK_EQ(counter(skel, LAT_MAP, LAT_CNT_FAILED), 0);
	CHECK_EQ(counter(skel, LAT_MAP, LAT_CNT_FILTERED), 0);
	CHECK_EQ(lost_sum(skel), 0);
	vfio_lat__destroy(skel);
	return TEST_PASS;
}

/* Values spread over buckets: 0, 1, 3, 1000 and 1023 us. */
static int test_unmap_spread(void)
{
	static const uint64_t us[] = { 0, 1, 3, 1000, 1023 };
	static const int slot[] = { 0, 0, 1, 9, 9 };
	struct vfio_lat *skel = lat_load();
	struct lat_hist h;
	size_t i;

	CHECK(skel);
	for (i = 0; i < sizeof(us) / sizeof(us[0]); i++) {
		struct dma d = { .container = 2, .size = 4096, .npages = 1,
				 .pin_ns = us[i] * 1000 };

		CHECK_OK(run_dma(skel, false, &d));
	}
	CHECK_OK(read_hist(skel, LAT_UNMAP, LAT_PIN, &h));
	CHECK_EQ(h.count, 5);
	for (i = 0; i < sizeof(slot) / sizeof(slot[0]); i++)
		CHECK(h.slots[slot[i]] > 0);
	CHECK_EQ(h.slots[0], 2);
	CHECK_EQ(h.slots[1], 1);
	CHECK_EQ(h.slots[9], 2);
	CHECK_EQ(percpu_max(bpf_map__fd(skel->maps.maxes), LAT_HIST_IDX(LAT_UNMAP, LAT_PIN)), 1023);
	CHECK_EQ(lost_sum(skel), 0);
	vfio_lat__destroy(skel);
	return TEST_PASS;
}

/*
 * The total comes from the event's total_ns, not from pin + iommu: a 3 ms
 * map whose pinning took 1 us lands in [2048, 4096) us for the total.
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
	CHECK_EQ(only_slot(&h), 11);
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_PIN, &h));
	CHECK_EQ(only_slot(&h), 0);	/* 1 us */
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

	/* --teardown: counted, 100 us in [64, 128). */
	skel = lat_open();
	CHECK(skel);
	skel->rodata->targ_teardown = true;
	CHECK_OK(vfio_lat__load(skel));
	CHECK_OK(run_dma(skel, false, &td));
	CHECK_OK(read_hist(skel, LAT_UNMAP, LAT_TOTAL, &h));
	CHECK_EQ(h.count, 1);
	CHECK_EQ(only_slot(&h), 6);
	CHECK_EQ(lost_sum(skel), 0);
	vfio_lat__destroy(skel);
	return TEST_PASS;
}

/* -m: 5 ms lands in [4, 8) ms; the max bank flips as user space asks. */
static int test_millis_and_max_bank(void)
{
	struct dma d = { .container = 1, .size = 4096, .npages = 1, .pin_ns = 5000000 };
	struct vfio_lat *skel = lat_open();
	struct lat_hist h;
	int fd;

	CHECK(skel);
	skel->rodata->targ_unit_div = 1000000;
	CHECK_OK(vfio_lat__load(skel));
	fd = bpf_map__fd(skel->maps.maxes);
	CHECK_OK(run_dma(skel, true, &d));
	CHECK_OK(read_hist(skel, LAT_MAP, LAT_PIN, &h));
	CHECK_EQ(only_slot(&h), 2);
	CHECK_EQ(percpu_max(fd, LAT_HIST_IDX(LAT_MAP, LAT_PIN)), 5);
	skel->bss->max_bank = 1;
	d.pin_ns = 3000000;
	CHECK_OK(run_dma(skel, true, &d));
	CHECK_EQ(percpu_max(fd, LAT_NR_HISTS + LAT_HIST_IDX(LAT_MAP, LAT_PIN)), 3);
	CHECK_EQ(percpu_max(fd, LAT_HIST_IDX(LAT_MAP, LAT_PIN)), 5);
	vfio_lat__destroy(skel);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_map_buckets),
	TEST(test_unmap_spread),
	TEST(test_total_from_event),
	TEST(test_filters),
	TEST(test_pid_filter),
	TEST(test_failed_and_teardown),
	TEST(test_millis_and_max_bank),
};

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	return RUN_TESTS("bpf/vfio_lat", tests, argc, argv);
}
