// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of vfio-exporter: crafted events run through the raw_tp entry
 * points of vfio-exporter.bpf.c, the ring buffer fed to the exporter's
 * reftrack, and /metrics rendered into a buffer by tools/lib/exporter.c:
 * every line checked is an exact metric value (docs/metrics.md).
 */
#define _GNU_SOURCE	/* memmem */
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
#include "exporter.h"
#include "vfio-exporter.skel.h"
#include "vfio_tools.h"

#define KB64 65536ULL
#define SEC_NS 1000000000ULL
#define CALLER(n) (0xffffffffc0000000ULL + (n) * 0x100)
#define NEG(x) ((uint64_t)(int64_t)(x))

struct fixture {
	struct vfio_exporter *skel;
	struct ring_buffer *rb;
	struct exporter *ex;
	struct strbuf out;
};

static int setup_retain(struct fixture *f, double stale_after, double retain)
{
	struct exporter_opts o = {
		.mode = ATTACH_RAW_TP,
		.stale_after_ns = stale_after * SEC_NS,
		.retain_ns = retain * SEC_NS,
		.version = "test",
	};

	memset(f, 0, sizeof(*f));
	f->skel = vfio_exporter__open();
	if (!f->skel)
		return -1;
	attach_select(f->skel->obj, ATTACH_RAW_TP);
	if (vfio_exporter__load(f->skel))
		return -1;
	o.containers_fd = bpf_map__fd(f->skel->maps.containers);
	o.released_fd = bpf_map__fd(f->skel->maps.released);
	o.hists_fd = bpf_map__fd(f->skel->maps.hists);
	o.lost_fd = bpf_map__fd(f->skel->maps.lost);
	o.levels_fd = bpf_map__fd(f->skel->maps.dma_levels);
	f->ex = exporter__new(&o);
	if (!f->ex)
		return -1;
	f->rb = ring_buffer__new(bpf_map__fd(f->skel->maps.events), exporter__event, f->ex, NULL);
	return f->rb ? 0 : -1;
}

static int setup(struct fixture *f, double stale_after)
{
	return setup_retain(f, stale_after, 300);
}

static void teardown(struct fixture *f)
{
	ring_buffer__free(f->rb);
	vfio_exporter__destroy(f->skel);
	exporter__free(f->ex);
	strbuf_free(&f->out);
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

/* The operations' seq, as the driver numbers them: in the order they ran. */
static uint64_t seq;

/* vfio_dma_map/unmap(container, iova, size, flags, npages, entries, pinned, ret, total_ns, pin_ns, iommu_ns, seq) */
#define MAP(f, c, size, npages, entries, pinned, ret, ns) \
	RUN(f, vfio_dma_map_raw, c, 0x100000, size, 3, npages, entries, pinned, NEG(ret), ns, 1, 1, ++seq)
#define UNMAP(f, c, size, flags, npages, entries, pinned, ns) \
	RUN(f, vfio_dma_unmap_raw, c, 0x100000, size, flags, npages, entries, pinned, 0, ns, 1, 1, ++seq)

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * SEC_NS + ts.tv_nsec;
}

static int render(struct fixture *f, uint64_t now)
{
	return exporter__render(f->ex, &f->out, now);
}

/* The rendered text holds exactly this line. */
static bool has_line(const struct strbuf *b, const char *line)
{
	size_t n = strlen(line);
	const char *p = b->buf;

	while (p && (p = strstr(p, line))) {
		if ((p == b->buf || p[-1] == '\n') && p[n] == '\n')
			return true;
		p++;
	}
	return false;
}

/* ... and no line starting with this. */
static bool has_prefix_line(const struct strbuf *b, const char *prefix)
{
	const char *p = b->buf;

	while (p && (p = strstr(p, prefix))) {
		if (p == b->buf || p[-1] == '\n')
			return true;
		p++;
	}
	return false;
}

#define CHECK_LINE(f, line) do {					\
	if (!has_line(&(f)->out, line)) {				\
		CHECK_FAILED("no line '%s' in:\n%s", line, (f)->out.buf); \
		return TEST_FAIL;					\
	}								\
} while (0)

#define CHECK_NO_LINE(f, prefix) do {					\
	if (has_prefix_line(&(f)->out, prefix)) {			\
		CHECK_FAILED("unexpected line '%s...' in:\n%s", prefix, (f)->out.buf); \
		return TEST_FAIL;					\
	}								\
} while (0)

/*
 * A container mapped before the exporter started: its pinned pages and
 * entries are the events' own (the newest operation's, by seq, even when
 * its event comes first), its mapped bytes are unknown and not served,
 * never a sum that went negative at the first unmap.
 */
static int test_container_predates_exporter(void)
{
	struct fixture f;

	CHECK_OK(setup(&f, 300));
	seq = 100;
	/* Two racing unmaps; the later one's event comes first. */
	CHECK_OK(RUN(&f, vfio_dma_unmap_raw, 9, 0x100000, 8192, 0, 2, 3, 6, 0, 500, 1, 1, 102));
	CHECK_OK(RUN(&f, vfio_dma_unmap_raw, 9, 0x200000, 8192, 0, 2, 4, 8, 0, 500, 1, 1, 101));
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_dma_pinned_pages{container=\"9\"} 6");
	CHECK_LINE(&f, "vfioscope_dma_entries{container=\"9\"} 3");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"unmap\",container=\"9\"} 16384");
	CHECK_NO_LINE(&f, "vfioscope_dma_mapped_bytes{container=\"9\"}");
	teardown(&f);
	return TEST_PASS;
}

/*
 * One container's DMA: counters by outcome, bytes (teardown included),
 * levels from the events, the latency histogram with exact buckets, sum
 * and count; then its release takes its series away, not another's.
 */
static int test_dma(void)
{
	struct fixture f;
	__u32 key = 3;
	struct exp_container v;

	CHECK_OK(setup(&f, 300));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 3));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 4));
	/* total_ns 1000 and 1024 in le=2^10 ns, 1025 in 2^11, 5000 in 2^13 */
	CHECK_OK(MAP(&f, 3, KB64, 16, 1, 16, 0, 1000));
	CHECK_OK(MAP(&f, 3, KB64, 16, 2, 32, 0, 1024));
	CHECK_OK(MAP(&f, 3, KB64, 16, 3, 48, 0, 1025));
	CHECK_OK(MAP(&f, 3, KB64, 16, 4, 64, 0, 5000));
	CHECK_OK(MAP(&f, 3, KB64, 0, 4, 64, -22, 7));
	CHECK_OK(MAP(&f, 3, KB64, 0, 4, 64, -12, 7));
	CHECK_OK(MAP(&f, 3, KB64, 0, 4, 64, -99, 7));	/* beyond the table: error */
	CHECK_OK(MAP(&f, 3, KB64, 0, 4, 64, -61, 7));	/* ENODATA, unnamed: error */
	CHECK_OK(UNMAP(&f, 3, KB64, 0, 16, 3, 48, 3000));
	CHECK_OK(UNMAP(&f, 3, KB64, 0, 16, 2, 32, 3000));
	CHECK_OK(MAP(&f, 4, 4096, 1, 1, 1, 0, 40000));

	CHECK_OK(render(&f, monotonic_ns()));
	CHECK(strstr(f.out.buf, "vfioscope_build_info{version=\"test\",kernel=\""));
	CHECK(strstr(f.out.buf, "\",attach=\"raw_tp\"} 1\n"));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"3\",result=\"ok\"} 4");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"3\",result=\"ENOMEM\"} 1");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"3\",result=\"EINVAL\"} 1");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"3\",result=\"error\"} 2");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"unmap\",container=\"3\",result=\"ok\"} 2");
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"unmap\",container=\"3\",result=\"E");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"4\",result=\"ok\"} 1");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"map\",container=\"3\"} 262144");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"unmap\",container=\"3\"} 131072");
	CHECK_LINE(&f, "vfioscope_dma_mapped_bytes{container=\"3\"} 131072");
	CHECK_LINE(&f, "vfioscope_dma_pinned_pages{container=\"3\"} 32");
	CHECK_LINE(&f, "vfioscope_dma_entries{container=\"3\"} 2");
	CHECK_LINE(&f, "vfioscope_dma_mapped_bytes{container=\"4\"} 4096");
	/* Histogram: cumulative, le in seconds of 2^k ns, exact sum in seconds. */
	CHECK_LINE(&f, "# TYPE vfioscope_dma_duration_seconds histogram");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_bucket{op=\"map\",le=\"0.000001024\"} 2");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_bucket{op=\"map\",le=\"0.000002048\"} 3");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_bucket{op=\"map\",le=\"0.000004096\"} 3");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_bucket{op=\"map\",le=\"0.000008192\"} 4");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_bucket{op=\"map\",le=\"0.000032768\"} 4");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_bucket{op=\"map\",le=\"0.000065536\"} 5");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_bucket{op=\"map\",le=\"34.359738368\"} 5");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_bucket{op=\"map\",le=\"+Inf\"} 5");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_sum{op=\"map\"} 0.000048049");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_count{op=\"map\"} 5");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_bucket{op=\"unmap\",le=\"0.000002048\"} 0");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_bucket{op=\"unmap\",le=\"0.000004096\"} 2");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_sum{op=\"unmap\"} 0.000006");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_count{op=\"unmap\"} 2");
	/* Failed operations are not timed; nothing below 1.024 us is lost. */
	CHECK_NO_LINE(&f, "vfioscope_dma_duration_seconds_bucket{op=\"map\",le=\"0.000000512\"}");
	CHECK_LINE(&f, "vfioscope_lost_events_total{reason=\"ringbuf\"} 0");
	CHECK_LINE(&f, "vfioscope_lost_events_total{reason=\"map_full\"} 0");
	CHECK_LINE(&f, "vfioscope_lost_events_total{reason=\"stack\"} 0");

	/* The teardown: bytes, no operation, no latency sample; levels to 0. */
	CHECK_OK(UNMAP(&f, 3, 2 * KB64, VFIO_TRACE_UNMAP_TEARDOWN, 32, 0, 0, 9000));
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"unmap\",container=\"3\",result=\"ok\"} 2");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"unmap\",container=\"3\"} 262144");
	CHECK_LINE(&f, "vfioscope_dma_mapped_bytes{container=\"3\"} 0");
	CHECK_LINE(&f, "vfioscope_dma_pinned_pages{container=\"3\"} 0");
	CHECK_LINE(&f, "vfioscope_dma_entries{container=\"3\"} 0");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_count{op=\"unmap\"} 2");

	/*
	 * Released: out of the live map, its series still served with their
	 * final values (levels at 0) for --retain; 4 stays.
	 */
	CHECK_OK(RUN(&f, vfio_container_release_raw, 3));
	CHECK_ERRNO(bpf_map_lookup_elem(bpf_map__fd(f.skel->maps.containers), &key, &v), ENOENT);
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"3\",result=\"ok\"} 4");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"3\",result=\"error\"} 2");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"unmap\",container=\"3\"} 262144");
	CHECK_LINE(&f, "vfioscope_dma_mapped_bytes{container=\"3\"} 0");
	CHECK_LINE(&f, "vfioscope_dma_entries{container=\"3\"} 0");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"4\",result=\"ok\"} 1");
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"released\"");
	/* The histogram is by op only: it keeps what the container did. */
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_count{op=\"map\"} 5");

	/* The id reused within --retain: its counters go on, never back. */
	CHECK_OK(RUN(&f, vfio_container_open_raw, 3));
	CHECK_OK(MAP(&f, 3, 8192, 2, 1, 2, 0, 1000));
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"3\",result=\"ok\"} 5");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"3\",result=\"EINVAL\"} 1");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"map\",container=\"3\"} 270336");
	/* The levels are the live container's. */
	CHECK_LINE(&f, "vfioscope_dma_mapped_bytes{container=\"3\"} 8192");
	CHECK_LINE(&f, "vfioscope_dma_entries{container=\"3\"} 1");
	teardown(&f);
	return TEST_PASS;
}

/*
 * The sum of the values of family `name`'s lines that hold both label
 * pairs (NULL: any), over every container; -1 if a line is malformed.
 */
static long long sum_of(const struct strbuf *b, const char *name, const char *l1, const char *l2)
{
	size_t n = strlen(name);
	const char *p = b->buf, *close, *eol;
	long long sum = 0;

	for (; p && *p; p = eol ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		if (strncmp(p, name, n) || p[n] != '{')
			continue;
		close = strchr(p, '}');
		if (!close || (eol && close > eol))
			return -1;
		if ((l1 && !memmem(p, close - p, l1, strlen(l1))) ||
		    (l2 && !memmem(p, close - p, l2, strlen(l2))))
			continue;
		sum += strtoll(close + 2, NULL, 10);
	}
	return sum;
}

#define N_MAPS 25

/*
 * A container opened, mapped N times and released entirely between two
 * scrapes: the next scrape has its final counts, as do all others for
 * --retain, identical however many scrapers ask.  Then its series go, its
 * counts go on in container="released", and no sum drops.
 */
static int test_released_between_scrapes(void)
{
	struct fixture f;
	struct strbuf first = {};
	long long ops, bytes;
	uint64_t rel;
	int i;

	CHECK_OK(setup_retain(&f, 300, 60));
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{");

	CHECK_OK(RUN(&f, vfio_container_open_raw, 7));
	for (i = 0; i < N_MAPS; i++)
		CHECK_OK(MAP(&f, 7, 4096, 1, i + 1, i + 1, 0, 2000));
	CHECK_OK(MAP(&f, 7, 4096, 0, N_MAPS, N_MAPS, -17, 10));
	for (i = 0; i < N_MAPS - 1; i++)
		CHECK_OK(UNMAP(&f, 7, 4096, 0, 1, N_MAPS - 1 - i, N_MAPS - 1 - i, 3000));
	CHECK_OK(UNMAP(&f, 7, 4096, VFIO_TRACE_UNMAP_TEARDOWN, 1, 0, 0, 100));
	CHECK_OK(RUN(&f, vfio_container_release_raw, 7));
	rel = monotonic_ns();
	/* The daemon's collection each second is no scrape: nothing changes. */
	CHECK_OK(exporter__collect(f.ex, monotonic_ns()));

	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"7\",result=\"ok\"} 25");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"7\",result=\"EEXIST\"} 1");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"unmap\",container=\"7\",result=\"ok\"} 24");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"map\",container=\"7\"} 102400");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"unmap\",container=\"7\"} 102400");
	CHECK_LINE(&f, "vfioscope_dma_mapped_bytes{container=\"7\"} 0");
	CHECK_LINE(&f, "vfioscope_dma_pinned_pages{container=\"7\"} 0");
	CHECK_LINE(&f, "vfioscope_dma_entries{container=\"7\"} 0");
	CHECK_LINE(&f, "vfioscope_retain_seconds 60");

	/* Back-to-back scrapes, and one just before the end of --retain. */
	strbuf_printf(&first, "%s", f.out.buf);
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK(!strcmp(first.buf, f.out.buf));
	CHECK_OK(exporter__collect(f.ex, monotonic_ns()));
	CHECK_OK(render(&f, rel + 59 * SEC_NS));
	CHECK(!strcmp(first.buf, f.out.buf));
	ops = sum_of(&f.out, "vfioscope_dma_operations_total", NULL, NULL);
	bytes = sum_of(&f.out, "vfioscope_dma_bytes_total", NULL, NULL);
	CHECK_EQ(ops, 2 * N_MAPS);
	CHECK_EQ(bytes, 2 * N_MAPS * 4096);

	/* --retain over: the series go, the sums stay, in "released". */
	CHECK_OK(render(&f, rel + 60 * SEC_NS));
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"7\"");
	CHECK_NO_LINE(&f, "vfioscope_dma_mapped_bytes{");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"released\",result=\"ok\"} 25");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"released\",result=\"EEXIST\"} 1");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"unmap\",container=\"released\",result=\"ok\"} 24");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"unmap\",container=\"released\"} 102400");
	CHECK_EQ(sum_of(&f.out, "vfioscope_dma_operations_total", NULL, NULL), ops);
	CHECK_EQ(sum_of(&f.out, "vfioscope_dma_bytes_total", NULL, NULL), bytes);
	strbuf_reset(&first);
	strbuf_printf(&first, "%s", f.out.buf);
	CHECK_OK(render(&f, rel + 61 * SEC_NS));
	CHECK(!strcmp(first.buf, f.out.buf));

	/* The id again, later: a series from 0; the sums go on. */
	CHECK_OK(RUN(&f, vfio_container_open_raw, 7));
	CHECK_OK(MAP(&f, 7, 4096, 1, 1, 1, 0, 2000));
	CHECK_OK(render(&f, rel + 62 * SEC_NS));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"7\",result=\"ok\"} 1");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"released\",result=\"ok\"} 25");
	CHECK_EQ(sum_of(&f.out, "vfioscope_dma_operations_total", "op=\"map\"", "result=\"ok\""),
		 N_MAPS + 1);
	strbuf_free(&first);
	teardown(&f);
	return TEST_PASS;
}

/*
 * A row retired between the exporter's read of the live containers and
 * its read of the released ones is in both: counted once.
 */
static int test_retired_during_scrape(void)
{
	int live_fd, released_fd;
	struct exp_container v;
	struct fixture f;
	__u32 id = 9;

	CHECK_OK(setup(&f, 300));
	live_fd = bpf_map__fd(f.skel->maps.containers);
	released_fd = bpf_map__fd(f.skel->maps.released);
	CHECK_OK(RUN(&f, vfio_container_open_raw, 9));
	CHECK_OK(MAP(&f, 9, 4096, 1, 1, 1, 0, 2000));
	CHECK_OK(MAP(&f, 9, 4096, 1, 2, 2, 0, 2000));
	CHECK_OK(MAP(&f, 9, 4096, 1, 3, 3, 0, 2000));
	/* container_retire() halfway: copied to `released`, not yet deleted. */
	CHECK_OK(bpf_map_lookup_elem(live_fd, &id, &v));
	CHECK_EQ(v.id, 9);
	CHECK(v.inst > 0);
	v.released_ns = monotonic_ns();
	CHECK_OK(bpf_map_update_elem(released_fd, &v.inst, &v, BPF_NOEXIST));
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"9\",result=\"ok\"} 3");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"map\",container=\"9\"} 12288");
	/* ... and the delete: the same numbers. */
	CHECK_OK(bpf_map_delete_elem(live_fd, &id));
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"9\",result=\"ok\"} 3");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"map\",container=\"9\"} 12288");
	/* A new container 9 (a newer inst) adds to it. */
	CHECK_OK(RUN(&f, vfio_container_open_raw, 9));
	CHECK_OK(MAP(&f, 9, 4096, 1, 1, 1, 0, 2000));
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"9\",result=\"ok\"} 4");
	teardown(&f);
	return TEST_PASS;
}

/* One served counter: "name{labels}" and its value. */
struct served {
	char key[160];
	long long v;
};

static int served_counters(const struct strbuf *b, struct served *out, int max)
{
	const char *p, *eol, *sp;
	int n = 0;

	for (p = b->buf; p && *p; p = eol ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		if (strncmp(p, "vfioscope_dma_operations_total{", 31) &&
		    strncmp(p, "vfioscope_dma_bytes_total{", 26))
			continue;
		sp = strstr(p, "} ");
		if (!sp || n == max || (size_t)(sp + 1 - p) >= sizeof(out[n].key))
			return -1;
		memcpy(out[n].key, p, sp + 1 - p);
		out[n].key[sp + 1 - p] = '\0';
		out[n].v = strtoll(sp + 2, NULL, 10);
		n++;
	}
	return n;
}

/*
 * Containers come and go on three ids, with the ids reused, scrapes in
 * between or not, and a short --retain passing now and then: after every
 * scrape, the sums over all containers are exact (so never drop), and no
 * label set served by two scrapes in a row went down.
 */
static int test_sums_never_drop(void)
{
	static struct served prev[256], cur[256];
	int nprev = 0, ncur, i, j, step;
	bool open[4] = {};
	long long maps = 0, bytes = 0;
	uint32_t rnd = 12345;
	struct fixture f;

	CHECK_OK(setup_retain(&f, 300, 0.03));
	for (step = 0; step < 150; step++) {
		__u32 id;

		rnd = rnd * 1103515245 + 12345;
		id = 1 + (rnd >> 16) % 3;
		switch ((rnd >> 8) % 4) {
		case 0:
			if (open[id])
				CHECK_OK(RUN(&f, vfio_container_release_raw, id));
			else
				CHECK_OK(RUN(&f, vfio_container_open_raw, id));
			open[id] = !open[id];
			break;
		case 1:
		case 2:
			if (!open[id])
				break;
			CHECK_OK(MAP(&f, id, 8192, 2, 1, 2, 0, 1500));
			maps++;
			bytes += 8192;
			break;
		case 3:
			usleep((rnd >> 4) % 20000);
			break;
		}
		if ((rnd >> 20) % 3)
			continue;	/* no scrape this time */
		CHECK_OK(render(&f, monotonic_ns()));
		CHECK_EQ(sum_of(&f.out, "vfioscope_dma_operations_total", "op=\"map\"", "result=\"ok\""), maps);
		CHECK_EQ(sum_of(&f.out, "vfioscope_dma_bytes_total", "op=\"map\"", NULL), bytes);
		ncur = served_counters(&f.out, cur, 256);
		CHECK(ncur >= 0);
		for (i = 0; i < ncur; i++)
			for (j = 0; j < nprev; j++)
				if (!strcmp(cur[i].key, prev[j].key) && cur[i].v < prev[j].v) {
					CHECK_FAILED("%s went from %lld to %lld", cur[i].key, prev[j].v, cur[i].v);
					return TEST_FAIL;
				}
		memcpy(prev, cur, sizeof(cur));
		nprev = ncur;
	}
	CHECK(maps > 20);
	/* Everything released and --retain past: only "released" is left. */
	for (i = 1; i <= 3; i++)
		if (open[i])
			CHECK_OK(RUN(&f, vfio_container_release_raw, i));
	CHECK_OK(render(&f, monotonic_ns() + SEC_NS));
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"1\"");
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"2\"");
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"3\"");
	CHECK_EQ(sum_of(&f.out, "vfioscope_dma_operations_total", "container=\"released\"", "op=\"map\""), maps);
	teardown(&f);
	return TEST_PASS;
}

/*
 * Released rows leave the BPF map once a second even without scrapes:
 * three times its size in containers, none lost.
 */
static int test_released_collected(void)
{
	struct fixture f;
	__u32 id, max;

	CHECK_OK(setup(&f, 300));
	max = bpf_map__max_entries(f.skel->maps.released);
	for (id = 1; id <= 3 * max; id++) {
		CHECK_OK(RUN(&f, vfio_container_open_raw, id));
		CHECK_OK(MAP(&f, id, 4096, 1, 1, 1, 0, 1000));
		CHECK_OK(RUN(&f, vfio_container_release_raw, id));
		if (id % (max / 4) == 0)
			CHECK_OK(exporter__collect(f.ex, monotonic_ns()));
	}
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_lost_events_total{reason=\"map_full\"} 0");
	CHECK_EQ(sum_of(&f.out, "vfioscope_dma_operations_total", "op=\"map\"", "result=\"ok\""), 3 * max);
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"3072\",result=\"ok\"} 1");
	teardown(&f);
	return TEST_PASS;
}

/*
 * References: live objects seen created, external users by group, and
 * references older than --stale-after by kind, from reftrack.
 */
static int test_references(void)
{
	struct fixture f;
	uint64_t t0;

	CHECK_OK(setup(&f, 2.5));
	t0 = monotonic_ns();
	CHECK_OK(RUN(&f, vfio_ref_get_raw, VFIO_TRACE_OBJ_GROUP, 5, 1, CALLER(1)));	/* created */
	CHECK_OK(RUN(&f, vfio_ref_get_raw, VFIO_TRACE_OBJ_DEVICE, 2, 1, CALLER(2)));	/* created */
	CHECK_OK(RUN(&f, vfio_ref_get_raw, VFIO_TRACE_OBJ_DEVICE, 7, 3, CALLER(2)));	/* from before */
	CHECK_OK(RUN(&f, vfio_container_open_raw, 1));
	CHECK_OK(RUN(&f, vfio_ref_get_raw, VFIO_TRACE_OBJ_CONTAINER, 1, 1, CALLER(3)));
	CHECK_OK(RUN(&f, vfio_group_open_raw, 5, 0));
	CHECK_OK(RUN(&f, vfio_group_attach_raw, 5, 1, 0));
	CHECK_OK(RUN(&f, vfio_ref_get_raw, VFIO_TRACE_OBJ_CONTAINER, 1, 2, CALLER(4)));
	/* external users: get, get, put, and a failed get (not counted) */
	CHECK_OK(RUN(&f, vfio_external_user_get_raw, 5, 1, 2, CALLER(5), 0));
	CHECK_OK(RUN(&f, vfio_external_user_get_raw, 5, 1, 3, CALLER(5), 0));
	CHECK_OK(RUN(&f, vfio_external_user_put_raw, 5, 1, 2, CALLER(6), 0));
	CHECK_OK(RUN(&f, vfio_external_user_get_raw, 0, 0, 0, CALLER(5), NEG(-22)));

	/* Young: nothing stale yet. */
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_stale_after_seconds 2.5");
	CHECK_LINE(&f, "vfioscope_objects{kind=\"container\"} 1");
	CHECK_LINE(&f, "vfioscope_objects{kind=\"group\"} 1");
	CHECK_LINE(&f, "vfioscope_objects{kind=\"device\"} 1");	/* 7 was not seen created */
	CHECK_LINE(&f, "vfioscope_external_users{group=\"5\"} 1");
	CHECK_NO_LINE(&f, "vfioscope_external_users{group=\"0\"}");
	CHECK_LINE(&f, "vfioscope_stale_references{kind=\"container\"} 0");
	CHECK_LINE(&f, "vfioscope_stale_references{kind=\"external_user\"} 0");
	CHECK_LINE(&f, "vfioscope_reference_corrections_total{action=\"reconciled\"} 0");
	CHECK_LINE(&f, "vfioscope_reference_corrections_total{action=\"restored\"} 0");

	/* A minute later (the events' clock): every tracked reference is stale. */
	CHECK_OK(render(&f, t0 + 60 * SEC_NS));
	CHECK_LINE(&f, "vfioscope_stale_references{kind=\"container\"} 2");
	CHECK_LINE(&f, "vfioscope_stale_references{kind=\"group\"} 1");
	CHECK_LINE(&f, "vfioscope_stale_references{kind=\"device\"} 2");
	CHECK_LINE(&f, "vfioscope_stale_references{kind=\"external_user\"} 1");

	/* Puts: the device freed, the last external user put. */
	CHECK_OK(RUN(&f, vfio_ref_put_raw, VFIO_TRACE_OBJ_DEVICE, 2, 0, CALLER(7)));
	CHECK_OK(RUN(&f, vfio_external_user_put_raw, 5, 1, 1, CALLER(6), 0));
	CHECK_OK(render(&f, t0 + 60 * SEC_NS));
	CHECK_LINE(&f, "vfioscope_objects{kind=\"device\"} 0");
	CHECK_LINE(&f, "vfioscope_external_users{group=\"5\"} 0");
	CHECK_LINE(&f, "vfioscope_stale_references{kind=\"device\"} 1");
	CHECK_LINE(&f, "vfioscope_stale_references{kind=\"external_user\"} 0");

	/*
	 * A put the exporter never saw (as when the ring buffer was full):
	 * the group's next get reads count 2 where the exporter holds three
	 * gets, so the oldest is dropped, and the page says it mended.
	 */
	CHECK_OK(RUN(&f, vfio_ref_get_raw, VFIO_TRACE_OBJ_GROUP, 5, 2, CALLER(8)));
	CHECK_OK(RUN(&f, vfio_ref_get_raw, VFIO_TRACE_OBJ_GROUP, 5, 2, CALLER(8)));
	CHECK_OK(render(&f, t0 + 60 * SEC_NS));
	CHECK_LINE(&f, "vfioscope_reference_corrections_total{action=\"reconciled\"} 1");

	/* The container released: not live, its references gone. */
	CHECK_OK(RUN(&f, vfio_container_release_raw, 1));
	CHECK_OK(render(&f, t0 + 60 * SEC_NS));
	CHECK_LINE(&f, "vfioscope_objects{kind=\"container\"} 0");
	CHECK_LINE(&f, "vfioscope_stale_references{kind=\"container\"} 0");
	teardown(&f);
	return TEST_PASS;
}

/* --no-attach: build info and the threshold, nothing made up. */
static int test_no_attach(void)
{
	struct exporter_opts o = {
		.containers_fd = -1, .hists_fd = -1, .lost_fd = -1, .levels_fd = -1,
		.mode = ATTACH_NONE, .stale_after_ns = 300 * SEC_NS, .version = "v\"1\\",
	};
	struct exporter *ex = exporter__new(&o);
	struct fixture f = {};

	CHECK(ex);
	CHECK_OK(exporter__render(ex, &f.out, monotonic_ns()));
	CHECK(strstr(f.out.buf, "vfioscope_build_info{version=\"v\\\"1\\\\\",kernel=\""));
	CHECK(strstr(f.out.buf, "\",attach=\"none\"} 1\n"));
	CHECK_LINE(&f, "vfioscope_stale_after_seconds 300");
	CHECK_NO_LINE(&f, "vfioscope_dma");
	CHECK_NO_LINE(&f, "vfioscope_lost");
	exporter__free(ex);
	strbuf_free(&f.out);
	return TEST_PASS;
}

static int test_format(void)
{
	char buf[32];

	CHECK(!strcmp(exporter__fmt_seconds(buf, sizeof(buf), 0), "0"));
	CHECK(!strcmp(exporter__fmt_seconds(buf, sizeof(buf), 1024), "0.000001024"));
	CHECK(!strcmp(exporter__fmt_seconds(buf, sizeof(buf), 1500000000ULL), "1.5"));
	CHECK(!strcmp(exporter__fmt_seconds(buf, sizeof(buf), 300 * SEC_NS), "300"));
	CHECK(!strcmp(exporter__fmt_seconds(buf, sizeof(buf), 1ULL << 35), "34.359738368"));
	CHECK(!strcmp(exporter__result_name(0), "ok"));
	CHECK(!strcmp(exporter__result_name(-22), "EINVAL"));
	CHECK(!strcmp(exporter__result_name(-28), "ENOSPC"));
	CHECK(!strcmp(exporter__result_name(-61), "error"));
	CHECK(!strcmp(exporter__result_name(-4095), "error"));
	return TEST_PASS;
}

/* A full container map drops the row, and says so under map_full. */
static int test_map_full_counted(void)
{
	struct fixture f;
	__u32 max, i;

	CHECK_OK(setup(&f, 300));
	max = bpf_map__max_entries(f.skel->maps.containers);
	for (i = 1; i <= max; i++)
		CHECK_OK(MAP(&f, i, 4096, 1, 1, 1, 0, 1000));
	CHECK_OK(MAP(&f, max + 1, 4096, 1, 1, 1, 0, 1000));
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_lost_events_total{reason=\"map_full\"} 1");
	teardown(&f);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_dma),
	TEST(test_container_predates_exporter),
	TEST(test_released_between_scrapes),
	TEST(test_retired_during_scrape),
	TEST(test_sums_never_drop),
	TEST(test_released_collected),
	TEST(test_references),
	TEST(test_no_attach),
	TEST(test_format),
	TEST(test_map_full_counted),
};

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	return RUN_TESTS("bpf/vfio_exporter", tests, argc, argv);
}
