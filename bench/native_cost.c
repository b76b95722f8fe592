// SPDX-License-Identifier: GPL-2.0
/*
 * What one DMA event costs the program that watches it, natively: the
 * handler of vfio_dma_map in a BPF object (by default the collector's, the
 * one that stays loaded, or the exporter's where there is no collector),
 * run by BPF_PROG_TEST_RUN on the host CPU (JIT, no VM), against an empty
 * raw_tp program run the same way.
 *
 *   native_cost [--object FILE] [--program NAME] [--empty FILE] [--front-ends[=LIST]]
 *               [-n CALLS] [-l LOADS] [-b BATCHES] [-c CONTAINERS] [--cpu CPU]
 *               [--spread SECS] [--kernel-stats] [-v]
 *
 * --front-ends sets the collector's `settings` (struct coll_config,
 * bpf/vfio_tools.h) as vfio-top, vfio-lat, vfio-leak and the exporter
 * running together do: process rows kept, the latency and stack claims
 * held, reference events wanted; --front-ends=rows,lat,stacks,refs picks
 * some of them, to see what each costs.  Without it the collector runs as it
 * does with only the exporter reading it.
 *
 * Only the chosen program is loaded (every other one's autoload is off;
 * the maps are all created, none pinned).  Without --program it is the one
 * whose section starts with "raw_tp/" and ends in "vfio_dma_map": raw_tp is
 * the only attach type of ours that BPF_PROG_TEST_RUN runs, and its
 * context is the tracepoint's arguments, 12 u64 (docs/tracepoints.md):
 * container, iova, size, flags, npages, entries, pinned, ret, total_ns,
 * pin_ns, iommu_ns, seq.  The events are successful 4 KiB maps with a
 * growing seq, spread over CONTAINERS containers (default 4) that the
 * warm-up created, and latencies over several histogram slots: the path of
 * every event but a container's first.
 *
 * raw_tp refuses a test run's `repeat` (EINVAL) and reports no duration,
 * so each call is one bpf(BPF_PROG_TEST_RUN), timed from user space.  A
 * batch is CALLS calls of the handler and CALLS of the empty program,
 * alternating call by call; per program, the interquartile mean of its
 * calls; the handler's cost is the difference.  Both run in the same
 * syscall path, so
 * the difference is the handler's body: its context reads, map lookups and
 * updates.  A real tracepoint adds bpf_trace_run12()'s recursion check and
 * argument packing, the same for every program.  --kernel-stats also reads
 * the kernel's own run-time statistics (BPF_ENABLE_STATS, system-wide
 * while it runs: off by default) around the same loops.
 *
 * A batch is kept when its empty calls ran within 10% of the fastest
 * batch's: the host's other tenants slow every call while they run, the
 * handler's map accesses more than the rest; --spread SECS spaces the
 * loads over that long, so that a busy spell of the host does not cover
 * them all.  LOADS loads of the object
 * (default 15) run BATCHES batches each (default 2): where the maps land
 * moves the cost by more than the batches of one load differ.
 *
 * Prints one line of key=value, times in ns per call: quiet (batches
 * kept), handler_p50 and empty_p50 (median over the batches kept),
 * cost_p50, cost_q1, cost_q3, cost_min, cost_max (over those batches, of
 * handler - empty); with --kernel-stats, kstats_handler, kstats_empty,
 * kstats_cost (run_time_ns / run_cnt over every batch).
 */
#define _GNU_SOURCE	/* sched_getcpu, CPU_SET */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sched.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vfio_tools.h"

#define NR_ARGS 12
/* A batch whose empty calls took longer than this times the fastest batch's
 * ran on a busy host, and is left out. */
#define QUIET_FLOOR 1.10

static bool verbose;

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && !verbose)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* The q-quantile of sorted v[n], interpolated between neighbours. */
static double quantile(const double *v, int n, double q)
{
	double pos = q * (n - 1);
	int i = (int)pos;

	return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[n - 1];
}

static bool has_prefix(const char *s, const char *p)
{
	return !strncmp(s, p, strlen(p));
}

static bool has_suffix(const char *s, const char *p)
{
	size_t n = strlen(s), m = strlen(p);

	return n >= m && !strcmp(s + n - m, p);
}

static void die_usage(const char *why)
{
	fprintf(stderr, "native_cost: %s\n"
		"usage: native_cost [--object FILE] [--program NAME] [--empty FILE] [--front-ends[=LIST]] [-n CALLS] [-l LOADS]\n"
		"                   [-b BATCHES] [-c CONTAINERS] [--cpu CPU] [--spread SECS] [--kernel-stats] [-v]\n",
		why);
	exit(2);
}

/*
 * Open FILE and load only its program NAME, or without NAME the raw_tp
 * program of vfio_dma_map.  The maps are never pinned: a collector running
 * on this host keeps its own.
 */
static struct bpf_object *object_load(const char *file, const char *name,
				      struct bpf_program **out)
{
	struct bpf_program *prog, *found = NULL;
	struct bpf_object *obj;
	struct bpf_map *map;
	int err;

	obj = bpf_object__open_file(file, NULL);
	if (!obj) {
		fprintf(stderr, "native_cost: failed to open %s: %s\n", file, strerror(errno));
		exit(1);
	}
	bpf_object__for_each_program(prog, obj) {
		const char *sec = bpf_program__section_name(prog);
		bool match = name ? !strcmp(bpf_program__name(prog), name)
				  : has_prefix(sec, "raw_tp/") && has_suffix(sec, "vfio_dma_map");

		if (match && !found)
			found = prog;
		bpf_program__set_autoload(prog, prog == found);
	}
	if (!found) {
		if (name)
			fprintf(stderr, "native_cost: %s has no program %s\n", file, name);
		else
			fprintf(stderr, "native_cost: %s has no program in a raw_tp/...vfio_dma_map section\n",
				file);
		exit(1);
	}
	bpf_object__for_each_map(map, obj)
		bpf_map__set_pin_path(map, NULL);
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "native_cost: failed to load %s from %s: %s\n",
			bpf_program__name(found), file, strerror(-err));
		exit(1);
	}
	*out = found;
	return obj;
}

/* Which front ends' asks --front-ends sets (default all). */
enum {
	ASK_ROWS = 1,		/* vfio-top: per-process rows */
	ASK_LAT = 2,		/* vfio-lat: the latency statistics */
	ASK_STACKS = 4,		/* vfio-leak: the stacks of gets */
	ASK_REFS = 8,		/* the exporter's reftrack: reference events */
	ASK_ALL = 15,
};

static unsigned int asks_parse(const char *list)
{
	static const struct { const char *name; unsigned int bit; } names[] = {
		{ "rows", ASK_ROWS }, { "lat", ASK_LAT }, { "stacks", ASK_STACKS },
		{ "refs", ASK_REFS }, { "all", ASK_ALL },
	};
	char *copy = strdup(list), *tok, *save = NULL;
	unsigned int asks = 0, i;

	if (!copy)
		exit(1);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(tok, names[i].name))
				break;
		if (i == sizeof(names) / sizeof(names[0]))
			die_usage("--front-ends: a list of rows, lat, stacks, refs, all");
		asks |= names[i].bit;
	}
	free(copy);
	return asks;
}

/*
 * What the front ends ask of a running collector, set in its `settings`
 * as they set it: per-process rows (vfio-top), the latency statistics
 * (vfio-lat), the stacks of gets (vfio-leak), reference events (the
 * exporter's reftrack).  The deadlines are finite, as a front end pushes
 * them (an hour ahead here), so the handler checks them as it does then.
 */
static void front_ends_on(struct bpf_object *obj, const char *file, unsigned int asks)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, "settings");
	struct coll_config cfg = {};
	struct timespec ts;
	__u64 until;
	__u32 zero = 0;

	if (!map || bpf_map__value_size(map) != sizeof(cfg)) {
		fprintf(stderr, "native_cost: %s has no collector settings (struct coll_config): --front-ends is for the collector\n",
			file);
		exit(1);
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	until = ts.tv_sec * 1000000000ULL + ts.tv_nsec + 3600 * 1000000000ULL;
	cfg.version = COLL_VERSION;
	if (asks & ASK_ROWS)
		cfg.process_rows_until = until;
	if (asks & ASK_REFS)
		cfg.ref_events = 1;
	if (asks & ASK_LAT)
		cfg.claims[COLL_CLAIM_LAT].until = until;
	if (asks & ASK_STACKS)
		cfg.claims[COLL_CLAIM_STACKS].until = until;
	if (bpf_map_update_elem(bpf_map__fd(map), &zero, &cfg, BPF_ANY)) {
		fprintf(stderr, "native_cost: cannot set the collector's settings: %s\n",
			strerror(errno));
		exit(1);
	}
}

static unsigned int containers = 4;
static uint64_t seq;

/*
 * One successful map of 4 KiB, the next operation in order: a container
 * of those the warm-up created, levels that move, and a latency that
 * lands in one of several histogram slots.
 */
static void event_next(uint64_t *a, uint64_t i)
{
	uint64_t total = 2000 + (i * 977) % 60000;

	a[0] = 1 + i % containers;		/* container */
	a[1] = 0x100000 + ((i & 7) << 12);	/* iova */
	a[2] = 4096;				/* size */
	a[3] = 0;				/* flags */
	a[4] = 1;				/* npages */
	a[5] = 1 + (i & 7);			/* entries */
	a[6] = 1 + (i & 7);			/* pinned */
	a[7] = 0;				/* ret */
	a[8] = total;				/* total_ns */
	a[9] = total / 3;			/* pin_ns */
	a[10] = total / 4;			/* iommu_ns */
	a[11] = ++seq;				/* seq */
}

static void run(int prog_fd, struct bpf_test_run_opts *opts)
{
	int err = bpf_prog_test_run_opts(prog_fd, opts);

	if (err) {
		fprintf(stderr, "native_cost: BPF_PROG_TEST_RUN failed: %s\n", strerror(-err));
		exit(1);
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The mean of the middle half of sorted v[n]: as robust as the median to
 * the calls an interrupt or the host's other tenants slowed down, and
 * finer than the clock's step (the median of one batch moves by whole
 * steps of ~10 ns on some clocks).
 */
static double interquartile_mean(const uint64_t *v, uint64_t n)
{
	uint64_t i, lo = n / 4, hi = n - n / 4;
	double sum = 0;

	for (i = lo; i < hi; i++)
		sum += v[i];
	return sum / (hi - lo);
}

/*
 * One batch: n calls of each program, interleaved call by call (which goes
 * first alternates), each call timed on its own, so a slow spell of the
 * host falls on both.  Each program's interquartile mean, in ns, into *hm
 * and *em.
 */
static void batch(int hfd, int efd, uint64_t n, uint64_t *a, uint64_t *th, uint64_t *te,
		  double *hm, double *em)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = a,
		    .ctx_size_in = NR_ARGS * sizeof(*a));
	uint64_t i, t0, t1, t2;

	for (i = 0; i < n; i++) {
		int first = i & 1 ? efd : hfd, second = i & 1 ? hfd : efd;

		event_next(a, i);
		t0 = now_ns();
		run(first, &opts);
		t1 = now_ns();
		event_next(a, i);
		run(second, &opts);
		t2 = now_ns();
		th[i] = i & 1 ? t2 - t1 : t1 - t0;
		te[i] = i & 1 ? t1 - t0 : t2 - t1;
	}
	qsort(th, n, sizeof(*th), cmp_u64);
	qsort(te, n, sizeof(*te), cmp_u64);
	*hm = interquartile_mean(th, n);
	*em = interquartile_mean(te, n);
}

/* The kernel's own run time of prog_fd so far (needs BPF_ENABLE_STATS). */
static void prog_stats(int prog_fd, uint64_t *ns, uint64_t *cnt)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len)) {
		fprintf(stderr, "native_cost: cannot read program info: %s\n", strerror(errno));
		exit(1);
	}
	*ns = info.run_time_ns;
	*cnt = info.run_cnt;
}

static int jit_enabled(void)
{
	FILE *f = fopen("/proc/sys/net/core/bpf_jit_enable", "r");
	int v = -1;

	if (f) {
		if (fscanf(f, "%d", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

/* The empty program: beside this binary, where the Makefile builds both. */
static const char *empty_default(void)
{
	static char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 32);
	char *slash;

	if (n <= 0)
		return "build/bench/empty.bpf.o";
	path[n] = 0;
	slash = strrchr(path, '/');
	strcpy(slash ? slash + 1 : path, "empty.bpf.o");
	return path;
}

struct kstats {
	uint64_t ns[2], cnt[2];		/* handler, empty */
};

/* Add what fd[] ran since before[] (the kernel's run-time statistics). */
static void kstats_add(struct kstats *k, const int fd[2], const struct kstats *before)
{
	int i;

	for (i = 0; i < 2; i++) {
		uint64_t ns, cnt;

		prog_stats(fd[i], &ns, &cnt);
		k->ns[i] += ns - before->ns[i];
		k->cnt[i] += cnt - before->cnt[i];
	}
}

int main(int argc, char **argv)
{
	enum { OPT_OBJECT = 256, OPT_PROGRAM, OPT_EMPTY, OPT_CPU, OPT_KSTATS, OPT_SPREAD,
	       OPT_FRONT_ENDS };
	static const struct option opts[] = {
		{ "object", required_argument, NULL, OPT_OBJECT },
		{ "program", required_argument, NULL, OPT_PROGRAM },
		{ "empty", required_argument, NULL, OPT_EMPTY },
		{ "cpu", required_argument, NULL, OPT_CPU },
		{ "kernel-stats", no_argument, NULL, OPT_KSTATS },
		{ "spread", required_argument, NULL, OPT_SPREAD },
		{ "front-ends", optional_argument, NULL, OPT_FRONT_ENDS },
		{ "verbose", no_argument, NULL, 'v' },
		{ }
	};
	const char *object = NULL, *program = NULL;
	const char *empty = empty_default();
	char name[128] = "";
	int batches = 2, loads = 15, cpu = -1, l, b, n = 0, q, c, fd[2], stats_fd = -1;
	struct kstats ks = {}, before;
	uint64_t calls = 10000, a[NR_ARGS], *th, *te;
	struct bpf_program *hprog, *eprog;
	struct bpf_object *hobj, *eobj;
	double *h, *e, *d, hm, em, floor;
	bool kstats = false;
	unsigned int front_ends = 0;
	double spread = 0;
	cpu_set_t set;

	while ((c = getopt_long(argc, argv, "n:b:l:c:v", opts, NULL)) != -1) {
		switch (c) {
		case OPT_OBJECT: object = optarg; break;
		case OPT_PROGRAM: program = optarg; break;
		case OPT_EMPTY: empty = optarg; break;
		case OPT_CPU: cpu = atoi(optarg); break;
		case OPT_KSTATS: kstats = true; break;
		case OPT_SPREAD: spread = strtod(optarg, NULL); break;
		case OPT_FRONT_ENDS: front_ends = asks_parse(optarg ? optarg : "all"); break;
		case 'n': calls = strtoull(optarg, NULL, 0); break;
		case 'b': batches = atoi(optarg); break;
		case 'l': loads = atoi(optarg); break;
		case 'c': containers = strtoul(optarg, NULL, 0); break;
		case 'v': verbose = true; break;
		default: die_usage("bad option");
		}
	}
	if (optind != argc || calls < 4 || batches < 1 || loads < 1 || !containers)
		die_usage("bad arguments");
	if (!object)
		object = "build/bpf/vfio-collector.bpf.o";
	libbpf_set_print(print_libbpf);

	/* One CPU for every call: no migration inside a batch. */
	if (cpu < 0)
		cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set)) {
		fprintf(stderr, "native_cost: cannot run on CPU %d: %s\n", cpu, strerror(errno));
		return 1;
	}
	th = calloc(calls, sizeof(*th));
	te = calloc(calls, sizeof(*te));
	h = calloc(loads * batches, sizeof(*h));
	e = calloc(loads * batches, sizeof(*e));
	d = calloc(loads * batches, sizeof(*d));
	if (!th || !te || !h || !e || !d)
		return 1;
	if (kstats) {
		stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (stats_fd < 0) {
			fprintf(stderr, "native_cost: BPF_ENABLE_STATS failed: %s\n",
				strerror(errno));
			return 1;
		}
	}

	/*
	 * Several loads: where the maps land moves the cost by more than the
	 * batches of one load differ, so the spread shows it.
	 */
	for (l = 0; l < loads; l++) {
		hobj = object_load(object, program, &hprog);
		eobj = object_load(empty, NULL, &eprog);
		snprintf(name, sizeof(name), "%s", bpf_program__name(hprog));
		fd[0] = bpf_program__fd(hprog);
		fd[1] = bpf_program__fd(eprog);
		if (front_ends)
			front_ends_on(hobj, object, front_ends);

		/* Each container's first event creates its row; then warm both. */
		for (c = 0; c < (int)containers; c++) {
			LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = a, .ctx_size_in = sizeof(a));

			event_next(a, c);
			if (bpf_prog_test_run_opts(fd[0], &o)) {
				fprintf(stderr, "native_cost: BPF_PROG_TEST_RUN of %s failed: %s\n",
					name, strerror(errno));
				return 1;
			}
		}
		batch(fd[0], fd[1], calls, a, th, te, &hm, &em);

		if (kstats) {
			prog_stats(fd[0], &before.ns[0], &before.cnt[0]);
			prog_stats(fd[1], &before.ns[1], &before.cnt[1]);
		}
		for (b = 0; b < batches; b++, n++) {
			batch(fd[0], fd[1], calls, a, th, te, &h[n], &e[n]);
			d[n] = h[n] - e[n];
			if (verbose)
				fprintf(stderr, "load %d batch %d: handler %.1f empty %.1f cost %.1f ns\n",
					l, b, h[n], e[n], d[n]);
		}
		if (kstats)
			kstats_add(&ks, fd, &before);
		bpf_object__close(hobj);
		bpf_object__close(eobj);
		if (spread > 0 && l + 1 < loads)
			usleep(spread / loads * 1e6);
	}
	if (kstats)
		close(stats_fd);

	/*
	 * Only the batches that ran at full speed: a busy neighbour on the
	 * host (another tenant, a sibling hyperthread) slows every call, the
	 * empty program's too, and the handler's map accesses more than the
	 * rest.  The empty program's time is the gauge.
	 */
	floor = e[0];
	for (b = 1; b < n; b++)
		floor = e[b] < floor ? e[b] : floor;
	for (b = 0, q = 0; b < n; b++) {
		if (e[b] > QUIET_FLOOR * floor)
			continue;
		h[q] = h[b];
		e[q] = e[b];
		d[q++] = d[b];
	}
	qsort(h, q, sizeof(*h), cmp_double);
	qsort(e, q, sizeof(*e), cmp_double);
	qsort(d, q, sizeof(*d), cmp_double);
	printf("object=%s program=%s front_ends=%d cpu=%d jit=%d calls=%llu loads=%d batches=%d containers=%u "
	       "quiet=%d handler_p50=%.1f empty_p50=%.1f cost_p50=%.1f cost_q1=%.1f cost_q3=%.1f "
	       "cost_min=%.1f cost_max=%.1f",
	       object, name, front_ends, cpu, jit_enabled(), (unsigned long long)calls, loads, batches,
	       containers, q, quantile(h, q, 0.5), quantile(e, q, 0.5),
	       quantile(d, q, 0.5), quantile(d, q, 0.25), quantile(d, q, 0.75), d[0], d[q - 1]);
	if (kstats) {
		double kh = (double)ks.ns[0] / ks.cnt[0], ke = (double)ks.ns[1] / ks.cnt[1];

		printf(" kstats_handler=%.1f kstats_empty=%.1f kstats_cost=%.1f", kh, ke, kh - ke);
	}
	printf("\n");
	free(th);
	free(te);
	free(h);
	free(e);
	free(d);
	return 0;
}
