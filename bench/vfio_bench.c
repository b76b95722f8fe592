// SPDX-License-Identifier: GPL-2.0
/*
 * The map/unmap workload of bench/: N x (MAP_DMA + UNMAP_DMA) of one
 * buffer, each call timed on its own, on whichever VFIO stack is loaded
 * (ours or Debian's in-tree one: same uAPI).  With --pin it times the floor
 * instead: PIN + UNPIN of the same buffer through /dev/vfio-pin-bench
 * (kernel/testing/vfio_pin_bench.c), which pins as type1 does and does
 * nothing else.
 *
 *   vfio_bench [-s SIZE|max] [-b anon|thp|hugetlb|scatter] [-n N] [-t SECS] [-w WARM]
 *              [--pin] [--probe]
 *
 * SIZE takes K, M, G suffixes; "max" is the largest power of two that
 * fits in three quarters of MemAvailable.  The buffer is populated before
 * the first map (page faults are not what we measure); buffers of 2 MiB or
 * more are 2 MiB aligned so THP can back them.  -b thp asks for THP
 * (MADV_HUGEPAGE) and fails unless AnonHugePages covers the buffer;
 * -b hugetlb takes 2 MiB pages from the hugetlb pool (reserve them first
 * in /proc/sys/vm/nr_hugepages).  -b scatter is anonymous memory none of
 * whose pages follows its predecessor in physical memory (pages picked
 * from a larger pool by their frame in /proc/self/pagemap, moved into
 * place with mremap; root only): a map of it is one physical run per page
 * every time, where plain anon memory gives a number of runs that changes
 * from one process to the next, and with it the cost of a 64 KiB map
 * (up to 3x under TCG).  The IOVA is the lowest one aligned to
 * min(SIZE, 1 GiB) inside the IOMMU's valid ranges (GET_INFO's IOVA range
 * capability), so the IOMMU can use its largest pages.
 *
 * -n N pairs are timed after -w WARM untimed ones; -t SECS stops early
 * once that much time went by (at least 3 pairs are timed).  Prints one
 * line of key=value (times in ns):
 *   op=map size=S backing=B n=N huge_kb=K runs=R map_min= map_p50= map_max=
 *   unmap_min= unmap_p50= unmap_max= pair_ops_s= map_gib_s= unmap_gib_s=
 * op=pin for --pin, with pin_* / unpin_* instead of map_* / unmap_*.
 * runs is the number of physically contiguous runs of the buffer (-1 when
 * /proc/self/pagemap does not tell, as for a user without CAP_SYS_ADMIN).
 *
 * --probe times a fixed piece of work (arithmetic and a few system calls
 * that touch nothing VFIO does) before each pair: how fast the vCPU runs
 * at that moment, whatever is attached to VFIO.  Under TCG on a shared
 * host the guest slows down by ~1.4x for seconds at a time when the
 * host's other core gets busy, which would move a p50 more than what
 * bench/ looks for.  The line then also
 * has probe_min= probe_p50= and, over the "quiet" pairs only (their probe
 * within 15% of the run's fastest), quiet= (how many) qmap_p50= qunmap_p50=
 * (qpin_p50= qunpin_p50= with --pin).
 */
#define _GNU_SOURCE	/* mremap */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "vfio_util.h"
#include <vfioscope/vfio_pin_bench.h>

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB (21 << 26)	/* MAP_HUGE_SHIFT is 26 */
#endif

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct stats {
	uint64_t min, p50, max, sum;
};

static struct stats stats_of(uint64_t *v, size_t n)
{
	struct stats s = {};
	size_t i;

	qsort(v, n, sizeof(*v), cmp_u64);
	for (i = 0; i < n; i++)
		s.sum += v[i];
	s.min = v[0];
	s.p50 = v[n / 2];
	s.max = v[n - 1];
	return s;
}

static void die_usage(const char *why)
{
	fprintf(stderr, "vfio_bench: %s\n"
		"usage: vfio_bench [-s SIZE|max] [-b anon|thp|hugetlb|scatter] [-n N] [-t SECS] [-w WARM] [--pin] [--probe]\n",
		why);
	exit(2);
}

static uint64_t parse_size(const char *s)
{
	char *end;
	uint64_t v;

	if (!strcmp(s, "max")) {
		long avail = meminfo_kb("MemAvailable");

		if (avail <= 0)
			die_usage("cannot read MemAvailable");
		v = SZ_2M;
		while (v * 2 <= (uint64_t)avail * 1024 / 4 * 3)
			v *= 2;
		return v;
	}
	v = strtoull(s, &end, 0);
	switch (*end) {
	case 'G': case 'g': v <<= 10; /* fall through */
	case 'M': case 'm': v <<= 10; /* fall through */
	case 'K': case 'k': v <<= 10; end++; break;
	}
	if (*end || !v || v % 4096)
		die_usage("SIZE must be a positive multiple of 4096");
	return v;
}

/*
 * KiB of the mapping at addr backed by huge pages (AnonHugePages, or
 * Private_Hugetlb for hugetlb), from /proc/self/smaps.
 */
static long huge_kb_of(void *addr)
{
	unsigned long lo, hi;
	char line[256];
	long kb, huge = 0;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &lo, &hi) == 2) {
			if (in)
				break;
			in = lo == (unsigned long)addr;
		} else if (in && (sscanf(line, "AnonHugePages: %ld kB", &kb) == 1 ||
				  sscanf(line, "Private_Hugetlb: %ld kB", &kb) == 1)) {
			huge += kb;
		}
	}
	fclose(f);
	return huge;
}

#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_PFN ((1ULL << 55) - 1)

/*
 * The page frame of each of the n pages at p, from /proc/self/pagemap:
 * 0, or -errno when it cannot tell (not present, or frames hidden from
 * an unprivileged reader as 0).
 */
static int pfns_of(const void *p, size_t n, uint64_t *pfn)
{
	int fd = open("/proc/self/pagemap", O_RDONLY);
	ssize_t got;
	size_t i;

	if (fd < 0)
		return -errno;
	got = pread(fd, pfn, n * sizeof(*pfn), (uintptr_t)p / 4096 * sizeof(*pfn));
	close(fd);
	if (got != (ssize_t)(n * sizeof(*pfn)))
		return -EIO;
	for (i = 0; i < n; i++) {
		if (!(pfn[i] & PAGEMAP_PRESENT) || !(pfn[i] & PAGEMAP_PFN))
			return -EPERM;
		pfn[i] &= PAGEMAP_PFN;
	}
	return 0;
}

/* Physically contiguous runs in the size bytes at p, or -1 if unknown. */
static long phys_runs(const void *p, uint64_t size)
{
	size_t i, n = size / 4096;
	uint64_t *pfn = calloc(n, sizeof(*pfn));
	long runs = -1;

	if (pfn && !pfns_of(p, n, pfn)) {
		for (runs = 1, i = 1; i < n; i++)
			runs += pfn[i] != pfn[i - 1] + 1;
	}
	free(pfn);
	return runs;
}

/*
 * size bytes of anonymous memory, none of whose pages is the physical
 * successor of the one before it: from a pool of 4 pages per page wanted
 * (even a pool in one ascending run holds every other page), each page
 * picked in turn is moved into the buffer with mremap, which keeps its
 * frame.  The pool's other pages are given back.
 */
static void *buffer_scattered(uint64_t size)
{
	size_t n = size / 4096, pool = 4 * n, i, k = 0;
	uint64_t *pfn = calloc(pool, sizeof(*pfn)), prev = 0;
	uint8_t *src, *dst;
	int err;

	src = mmap(NULL, pool * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	dst = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!pfn || src == MAP_FAILED || dst == MAP_FAILED) {
		fprintf(stderr, "vfio_bench: no memory for a scattered buffer of %llu bytes\n",
			(unsigned long long)size);
		exit(1);
	}
	/* 4 KiB pages: a THP would be one run. */
	madvise(src, pool * 4096, MADV_NOHUGEPAGE);
	for (i = 0; i < pool; i++)
		src[i * 4096] = 1;
	err = pfns_of(src, pool, pfn);
	if (err) {
		fprintf(stderr, "vfio_bench: -b scatter needs the page frames in /proc/self/pagemap: %s\n",
			strerror(-err));
		exit(1);
	}
	for (i = 0; i < pool && k < n; i++) {
		if (k && pfn[i] == prev + 1)
			continue;
		if (mremap(src + i * 4096, 4096, 4096, MREMAP_MAYMOVE | MREMAP_FIXED,
			   dst + k * 4096) == MAP_FAILED) {
			fprintf(stderr, "vfio_bench: mremap of a page failed: %s\n", strerror(errno));
			exit(1);
		}
		prev = pfn[i];
		k++;
	}
	munmap(src, pool * 4096);	/* what was not moved */
	free(pfn);
	if (k < n || phys_runs(dst, size) != (long)n) {
		fprintf(stderr, "vfio_bench: could not scatter %zu pages (%zu placed, %ld runs)\n",
			n, k, phys_runs(dst, size));
		exit(1);
	}
	return dst;
}

static void *buffer_new(uint64_t size, const char *backing)
{
	uint64_t align = size >= SZ_2M ? SZ_2M : 4096;
	int flags = MAP_PRIVATE | MAP_ANONYMOUS;
	uint8_t *p, *q;
	uint64_t i;

	if (!strcmp(backing, "hugetlb")) {
		if (size % SZ_2M)
			die_usage("-b hugetlb needs a multiple of 2 MiB");
		p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			 flags | MAP_HUGETLB | MAP_HUGE_2MB | MAP_POPULATE, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "vfio_bench: mmap of %llu bytes of 2 MiB hugetlb pages failed: %s (reserve them in /proc/sys/vm/nr_hugepages)\n",
				(unsigned long long)size, strerror(errno));
			exit(1);
		}
		return p;
	}
	if (!strcmp(backing, "scatter"))
		return buffer_scattered(size);
	if (strcmp(backing, "anon") && strcmp(backing, "thp"))
		die_usage("BACKING is anon, thp, hugetlb or scatter");

	/* Over-allocate, then trim to an aligned window. */
	p = mmap(NULL, size + align, PROT_READ | PROT_WRITE, flags, -1, 0);
	if (p == MAP_FAILED) {
		fprintf(stderr, "vfio_bench: mmap of %llu bytes failed: %s\n",
			(unsigned long long)size, strerror(errno));
		exit(1);
	}
	q = (uint8_t *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
	if (q > p)
		munmap(p, q - p);
	if (q + size < p + size + align)
		munmap(q + size, p + size + align - (q + size));
	if (!strcmp(backing, "thp") && madvise(q, size, MADV_HUGEPAGE)) {
		fprintf(stderr, "vfio_bench: madvise(MADV_HUGEPAGE) failed: %s\n",
			strerror(errno));
		exit(1);
	}
	for (i = 0; i < size; i += 4096)
		q[i] = 1;
	return q;
}

/* The lowest IOVA aligned to min(size, 1 GiB) in a valid IOVA range. */
static uint64_t iova_pick(int container, uint64_t size)
{
	struct vfio_iommu_type1_info *info = vfio_iommu_info(container);
	struct vfio_iommu_type1_info_cap_iova_range *r;
	uint64_t align = 1, best = UINT64_MAX;
	uint32_t i;

	while (align < size && align < SZ_1G)
		align <<= 1;
	if (!info) {
		fprintf(stderr, "vfio_bench: VFIO_IOMMU_GET_INFO failed: %s\n",
			strerror(errno));
		exit(1);
	}
	r = (void *)vfio_info_cap_find(info, info->cap_offset,
				       VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	if (!r) {
		free(info);
		return align;	/* no ranges said: anything goes */
	}
	for (i = 0; i < r->nr_iovas && best == UINT64_MAX; i++) {
		uint64_t start = r->iova_ranges[i].start, end = r->iova_ranges[i].end;
		uint64_t iova = (start + align - 1) & ~(align - 1);

		if (iova < align)
			iova = align;	/* keep IOVA 0 out: a bug's favourite address */
		if (iova >= start && iova + size - 1 <= end && iova + size - 1 > iova)
			best = iova;
	}
	free(info);
	if (best == UINT64_MAX) {
		fprintf(stderr, "vfio_bench: no valid IOVA range holds %llu bytes\n",
			(unsigned long long)size);
		exit(1);
	}
	return best;
}

/* A probe within this factor of the run's fastest: the vCPU ran at speed. */
#define PROBE_QUIET 1.15

/*
 * --probe's piece of work: a serial chain of multiply-adds and a few
 * system calls that touch nothing VFIO does, ~2-3 us under TCG.  The
 * system calls are what make it see a slow spell: when the host's other
 * core is busy, TCG's kernel paths (memory-bound: its soft TLB, the
 * translated entry code) slow down far more than cached arithmetic does.
 * With the HPET as the guest's clock source every clock read was a system
 * call and an emulated device read, so the arithmetic alone sufficed;
 * with the TSC (bench/run.sh boots with it) the clock is read in user space.
 */
static uint64_t probe(void)
{
	static volatile uint64_t sink;
	uint64_t x = sink, t0 = now_ns(), j;

	for (j = 0; j < 256; j++)
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
	for (j = 0; j < 4; j++)
		x += syscall(SYS_getppid);
	sink = x;
	return now_ns() - t0;
}

struct target {
	bool pin;
	int fd;			/* container, or /dev/vfio-pin-bench */
	uint64_t iova;
	struct vfio_dev dev;
};

static void target_do(struct target *t, void *buf, uint64_t size, bool map)
{
	struct vfio_pin_bench_range r = { (uintptr_t)buf, size };

	if (!t->pin) {
		if (map)
			vfio_dma_map(t->fd, buf, t->iova, size);
		else
			vfio_dma_unmap(t->fd, t->iova, size);
		return;
	}
	if (ioctl(t->fd, map ? VFIO_PIN_BENCH_PIN : VFIO_PIN_BENCH_UNPIN, &r)) {
		fprintf(stderr, "vfio_bench: VFIO_PIN_BENCH_%s of %llu bytes failed: %s\n",
			map ? "PIN" : "UNPIN", (unsigned long long)size, strerror(errno));
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "pin", no_argument, NULL, 'p' },
		{ "probe", no_argument, NULL, 'P' },
		{ }
	};
	unsigned long n = 100, warm = 2, secs = 0, i, done = 0;
	const char *backing = "anon";
	uint64_t size = 4096, *on, *off, *pr = NULL, *qon = NULL, *qoff = NULL, start;
	struct stats son, soff, spr = {}, sqon = {}, sqoff = {};
	unsigned long quiet = 0;
	bool with_probe = false;
	struct target t = {};
	long huge_kb, runs;
	void *buf;
	int c;

	while ((c = getopt_long(argc, argv, "s:b:n:t:w:", opts, NULL)) != -1) {
		switch (c) {
		case 's': size = parse_size(optarg); break;
		case 'b': backing = optarg; break;
		case 'n': n = strtoul(optarg, NULL, 0); break;
		case 't': secs = strtoul(optarg, NULL, 0); break;
		case 'w': warm = strtoul(optarg, NULL, 0); break;
		case 'p': t.pin = true; break;
		case 'P': with_probe = true; break;
		default: die_usage("bad option");
		}
	}
	if (optind != argc || !n)
		die_usage("bad arguments");

	on = calloc(n, sizeof(*on));
	off = calloc(n, sizeof(*off));
	if (!on || !off)
		return 1;
	if (with_probe) {
		pr = calloc(n, sizeof(*pr));
		qon = calloc(n, sizeof(*qon));
		qoff = calloc(n, sizeof(*qoff));
		if (!pr || !qon || !qoff)
			return 1;
	}
	if (t.pin) {
		t.fd = open("/dev/vfio-pin-bench", O_RDWR);
		if (t.fd < 0) {
			fprintf(stderr, "vfio_bench: failed to open /dev/vfio-pin-bench: %s\n",
				strerror(errno));
			return 1;
		}
	} else {
		vfio_dev_open(&t.dev, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
		t.fd = t.dev.container;
		t.iova = iova_pick(t.fd, size);
	}
	buf = buffer_new(size, backing);
	huge_kb = huge_kb_of(buf);
	runs = phys_runs(buf, size);
	if (!strcmp(backing, "thp") && huge_kb * 1024 < (long)size) {
		fprintf(stderr, "vfio_bench: THP backs %ld KiB of %llu: not huge-page backed\n",
			huge_kb, (unsigned long long)size);
		return 1;
	}

	for (i = 0; i < warm; i++) {
		target_do(&t, buf, size, true);
		target_do(&t, buf, size, false);
	}
	start = now_ns();
	for (i = 0; i < n; i++) {
		uint64_t a, b, e;

		if (with_probe)
			pr[i] = probe();
		a = now_ns();
		target_do(&t, buf, size, true);
		b = now_ns();
		target_do(&t, buf, size, false);
		e = now_ns();
		on[i] = b - a;
		off[i] = e - b;
		done++;
		if (secs && done >= 3 && e - start >= secs * 1000000000ULL)
			break;
	}
	if (with_probe) {
		uint64_t fastest = UINT64_MAX;

		for (i = 0; i < done; i++)
			fastest = pr[i] < fastest ? pr[i] : fastest;
		for (i = 0; i < done; i++) {
			if (pr[i] > PROBE_QUIET * fastest)
				continue;
			qon[quiet] = on[i];
			qoff[quiet++] = off[i];
		}
		spr = stats_of(pr, done);
		sqon = stats_of(qon, quiet);
		sqoff = stats_of(qoff, quiet);
	}
	son = stats_of(on, done);
	soff = stats_of(off, done);
	printf("op=%s size=%llu backing=%s n=%lu huge_kb=%ld runs=%ld iova=0x%llx "
	       "%s_min=%llu %s_p50=%llu %s_max=%llu %s_min=%llu %s_p50=%llu %s_max=%llu "
	       "pair_ops_s=%.1f %s_gib_s=%.4f %s_gib_s=%.4f",
	       t.pin ? "pin" : "map", (unsigned long long)size, backing, done,
	       huge_kb, runs, (unsigned long long)t.iova,
	       t.pin ? "pin" : "map", (unsigned long long)son.min,
	       t.pin ? "pin" : "map", (unsigned long long)son.p50,
	       t.pin ? "pin" : "map", (unsigned long long)son.max,
	       t.pin ? "unpin" : "unmap", (unsigned long long)soff.min,
	       t.pin ? "unpin" : "unmap", (unsigned long long)soff.p50,
	       t.pin ? "unpin" : "unmap", (unsigned long long)soff.max,
	       done * 1e9 / (son.sum + soff.sum),
	       t.pin ? "pin" : "map", (double)size * done / son.sum * 1e9 / SZ_1G,
	       t.pin ? "unpin" : "unmap", (double)size * done / soff.sum * 1e9 / SZ_1G);
	if (with_probe)
		printf(" probe_min=%llu probe_p50=%llu quiet=%lu q%s_p50=%llu q%s_p50=%llu",
		       (unsigned long long)spr.min, (unsigned long long)spr.p50, quiet,
		       t.pin ? "pin" : "map", (unsigned long long)sqon.p50,
		       t.pin ? "unpin" : "unmap", (unsigned long long)sqoff.p50);
	printf("\n");
	if (t.pin)
		close(t.fd);
	else
		vfio_dev_close(&t.dev);
	return 0;
}
