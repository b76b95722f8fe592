// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of vfio-exporter: crafted events run through the raw_tp entry
 * points of the collector (bpf/vfio-collector.bpf.c), the ring buffer fed
 * to the exporter's reftrack, and /metrics rendered into a buffer by
 * tools/lib/exporter.c: every line checked is an exact metric value
 * (docs/metrics.md).
 */
#define _GNU_SOURCE	/* memmem */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "collector.h"
#include "raw_tp_run.h"
#include "common.h"
#include "exporter.h"
#include "vfio-collector.skel.h"
#include "vfio_tools.h"

#define KB64 65536ULL
#define SEC_NS 1000000000ULL
#define CALLER(n) (0xffffffffc0000000ULL + (n) * 0x100)
#define NEG(x) ((uint64_t)(int64_t)(x))

struct fixture {
	struct collector *coll;
	struct ring_buffer *rb;
	struct exporter *ex;
	struct exporter *ex2;		/* a second reader of the collector, if any */
	struct exporter_opts o;
	struct strbuf out;
};

/* The ring buffer's records go to every exporter of the fixture. */
static int fixture_event(void *ctx, void *data, size_t size)
{
	struct fixture *f = ctx;

	exporter__event(f->ex, data, size);
	if (f->ex2)
		exporter__event(f->ex2, data, size);
	return 0;
}

/* A collector loaded for raw_tp, not attached: the programs run by test_run. */
static int setup_retain(struct fixture *f, double stale_after, double retain)
{
	memset(f, 0, sizeof(*f));
	if (collector_load_mode(&f->coll, ATTACH_RAW_TP, false))
		return -1;
	/* Reference events reach `events` only while a reader asks for them. */
	if (collector_want_refs(f->coll, true))
		return -1;
	f->o = (struct exporter_opts){
		.coll = f->coll,
		.stale_after_ns = stale_after * SEC_NS,
		.retain_ns = retain * SEC_NS,
		.version = "test",
	};
	f->ex = exporter__new(&f->o);
	if (!f->ex)
		return -1;
	f->rb = ring_buffer__new(f->coll->events_fd, fixture_event, f, NULL);
	return f->rb ? 0 : -1;
}

static int setup(struct fixture *f, double stale_after)
{
	return setup_retain(f, stale_after, 300);
}

static void teardown(struct fixture *f)
{
	ring_buffer__free(f->rb);
	collector_free(f->coll);
	exporter__free(f->ex);
	exporter__free(f->ex2);
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
	run((f), (f)->coll->skel->progs.prog, __a, sizeof(__a) / sizeof(__a[0])); \
})

/* The operations' seq, as the driver numbers them: in the order they ran. */
static uint64_t seq;

/* vfio_dma_map/unmap(container, iova, size, flags, npages, entries, pinned, ret, total_ns, pin_ns, iommu_ns, seq) */
#define MAP(f, c, size, npages, entries, pinned, ret, ns) \
	RUN(f, vfio_dma_map_raw, c, 0x100000, size, 3, npages, entries, pinned, NEG(ret), ns, 1, 1, ++seq)
#define UNMAP(f, c, size, flags, npages, entries, pinned, ns) \
	RUN(f, vfio_dma_unmap_raw, c, 0x100000, size, flags, npages, entries, pinned, 0, ns, 1, 1, ++seq)
#define UNMAP_ERR(f, c, ret) \
	RUN(f, vfio_dma_unmap_raw, c, 0x100000, 0, 0, 0, 0, 0, NEG(ret), 10, 1, 1, ++seq)

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
	struct coll_container cc;
	struct fixture f;

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
	CHECK_LINE(&f, "vfioscope_lost_events_total{reason=\"id_range\"} 0");
	CHECK_LINE(&f, "vfioscope_lost_events_total{reason=\"skipped\"} 0");
	CHECK_LINE(&f, "vfioscope_unseen_vfio_processes{via=\"iommufd\"} 0");
	CHECK_LINE(&f, "vfioscope_unseen_vfio_processes{via=\"cdev\"} 0");

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
	 * Released (so says the collector), its series still served with
	 * their final values (levels at 0) for --retain; 4 stays.
	 */
	CHECK_OK(RUN(&f, vfio_container_release_raw, 3));
	CHECK_OK(collector_read_container(f.coll, 3, &cc));
	CHECK(!cc.live);
	CHECK(cc.released_ns > 0);
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
 * Containers that take id 9 one after the other, all before any scrape or
 * collection (the collector keeps no row per container to lose): the
 * id's series sum them all (rule 1), its levels are the live one's.
 * Released, and --retain over: the sums move to "released"; the next
 * container under the id starts the id's series from 0.
 */
static int test_id_reused_before_scrape(void)
{
	struct fixture f;
	uint64_t rel;
	int k, i;

	CHECK_OK(setup_retain(&f, 300, 60));
	for (k = 1; k <= 3; k++) {
		CHECK_OK(RUN(&f, vfio_container_open_raw, 9));
		for (i = 1; i <= k; i++)
			CHECK_OK(MAP(&f, 9, 4096, 1, i, i, 0, 2000));
		if (k == 1)
			CHECK_OK(MAP(&f, 9, 4096, 0, 1, 1, -17, 10));
		if (k < 3) {
			CHECK_OK(UNMAP(&f, 9, 4096 * k, VFIO_TRACE_UNMAP_TEARDOWN, k, 0, 0, 100));
			CHECK_OK(RUN(&f, vfio_container_release_raw, 9));
		}
	}
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"9\",result=\"ok\"} 6");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"9\",result=\"EEXIST\"} 1");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"map\",container=\"9\"} 24576");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"unmap\",container=\"9\"} 12288");
	/* The levels: the third container's three maps. */
	CHECK_LINE(&f, "vfioscope_dma_mapped_bytes{container=\"9\"} 12288");
	CHECK_LINE(&f, "vfioscope_dma_pinned_pages{container=\"9\"} 3");
	CHECK_LINE(&f, "vfioscope_dma_entries{container=\"9\"} 3");
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"released\"");

	/* The third released; --retain over, collected: all of it in "released". */
	CHECK_OK(UNMAP(&f, 9, 3 * 4096, VFIO_TRACE_UNMAP_TEARDOWN, 3, 0, 0, 100));
	CHECK_OK(RUN(&f, vfio_container_release_raw, 9));
	rel = monotonic_ns();
	CHECK_OK(exporter__collect(f.ex, rel + 60 * SEC_NS));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 9));
	CHECK_OK(MAP(&f, 9, 4096, 1, 1, 1, 0, 2000));
	CHECK_OK(render(&f, rel + 61 * SEC_NS));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"9\",result=\"ok\"} 1");
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"9\",result=\"EEXIST\"}");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"map\",container=\"9\"} 4096");
	CHECK_LINE(&f, "vfioscope_dma_mapped_bytes{container=\"9\"} 4096");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"released\",result=\"ok\"} 6");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"released\",result=\"EEXIST\"} 1");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"unmap\",container=\"released\"} 24576");
	teardown(&f);
	return TEST_PASS;
}

/*
 * Retention is time from the release, the last one when the id was
 * reused meanwhile, not a number of scrapes: none or many in between,
 * the series are there until then and gone from then on.
 */
static int test_retention_by_time(void)
{
	struct fixture f;
	struct strbuf first = {};
	uint64_t r1, r2;
	int i;

	CHECK_OK(setup_retain(&f, 300, 60));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 2));
	CHECK_OK(MAP(&f, 2, 4096, 1, 1, 1, 0, 2000));
	CHECK_OK(RUN(&f, vfio_container_release_raw, 2));
	r1 = monotonic_ns();
	usleep(50000);
	CHECK_OK(RUN(&f, vfio_container_open_raw, 2));
	CHECK_OK(MAP(&f, 2, 4096, 1, 1, 1, 0, 2000));
	CHECK_OK(RUN(&f, vfio_container_release_raw, 2));
	r2 = monotonic_ns();
	CHECK(r2 >= r1 + 50000000ULL);
	/* A clock read before the release: not after it, so still there. */
	CHECK_OK(render(&f, r1 - 20 * SEC_NS));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"2\",result=\"ok\"} 2");

	/* After the first release's retention: still there, by the second's. */
	CHECK_OK(render(&f, r1 + 60 * SEC_NS + 10000000ULL));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"2\",result=\"ok\"} 2");
	strbuf_printf(&first, "%s", f.out.buf);
	for (i = 0; i < 50; i++) {
		CHECK_OK(exporter__collect(f.ex, r1 + 60 * SEC_NS + 10000000ULL));
		CHECK_OK(render(&f, r1 + 60 * SEC_NS + 10000000ULL));
		CHECK(!strcmp(first.buf, f.out.buf));
	}
	/* The second's retention over: gone, into "released". */
	CHECK_OK(render(&f, r2 + 60 * SEC_NS));
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"2\"");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"released\",result=\"ok\"} 2");
	strbuf_free(&first);
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
 * Releases are never lost, however many come between two collections:
 * three containers on each id the collector has, opened, mapped and
 * released, with no collection and no scrape in between.
 */
static int test_many_releases(void)
{
	struct fixture f;
	__u32 id;
	int k;

	CHECK_OK(setup(&f, 300));
	for (k = 0; k < 3; k++) {
		for (id = 1; id < COLL_MAX_CONTAINERS; id++) {
			CHECK_OK(RUN(&f, vfio_container_open_raw, id));
			CHECK_OK(MAP(&f, id, 4096, 1, 1, 1, 0, 1000));
			CHECK_OK(RUN(&f, vfio_container_release_raw, id));
		}
	}
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_lost_events_total{reason=\"map_full\"} 0");
	CHECK_LINE(&f, "vfioscope_lost_events_total{reason=\"id_range\"} 0");
	CHECK_EQ(sum_of(&f.out, "vfioscope_dma_operations_total", "op=\"map\"", "result=\"ok\""),
		 3 * (COLL_MAX_CONTAINERS - 1));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"1\",result=\"ok\"} 3");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"1023\",result=\"ok\"} 3");
	/* Retention over: the same sum, in "released" only. */
	CHECK_OK(render(&f, monotonic_ns() + 300 * SEC_NS));
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"1\"");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"released\",result=\"ok\"} 3069");
	teardown(&f);
	return TEST_PASS;
}

/*
 * Two exporters reading one collector, one of them scraped and collected
 * over and over: a render only reads, so both serve the same page, and
 * the collector's tables are as they were.
 */
static int test_two_readers(void)
{
	struct coll_container *before, *after;
	size_t nb, na;
	struct strbuf other = {};
	struct fixture f;
	uint64_t now, rel;
	int i;

	CHECK_OK(setup_retain(&f, 300, 60));
	f.ex2 = exporter__new(&f.o);
	CHECK(f.ex2);
	CHECK_OK(RUN(&f, vfio_ref_get_raw, VFIO_TRACE_OBJ_GROUP, 5, 1, CALLER(1)));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 1));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 2));
	CHECK_OK(MAP(&f, 1, KB64, 16, 1, 16, 0, 1000));
	CHECK_OK(MAP(&f, 1, KB64, 0, 1, 16, -22, 10));
	CHECK_OK(MAP(&f, 2, 4096, 1, 1, 1, 0, 3000));
	CHECK_OK(UNMAP(&f, 2, 4096, VFIO_TRACE_UNMAP_TEARDOWN, 1, 0, 0, 100));
	CHECK_OK(RUN(&f, vfio_container_release_raw, 2));
	rel = monotonic_ns();

	CHECK_OK(collector_read_containers(f.coll, &before, &nb));
	now = monotonic_ns();
	for (i = 0; i < 20; i++) {
		CHECK_OK(render(&f, now));
		CHECK_OK(exporter__collect(f.ex, now));
	}
	CHECK_OK(collector_read_containers(f.coll, &after, &na));
	CHECK_EQ(na, nb);
	CHECK(!memcmp(before, after, nb * sizeof(*before)));
	free(before);
	free(after);
	CHECK_OK(exporter__render(f.ex2, &other, now));
	CHECK(!strcmp(f.out.buf, other.buf));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"1\",result=\"EINVAL\"} 1");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"2\",result=\"ok\"} 1");

	/* Container 2's retention over: both move it, to the same "released". */
	CHECK_OK(render(&f, rel + 60 * SEC_NS));
	CHECK_OK(exporter__render(f.ex2, &other, rel + 60 * SEC_NS));
	CHECK(!strcmp(f.out.buf, other.buf));
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"2\"");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"released\",result=\"ok\"} 1");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"1\",result=\"ok\"} 1");
	strbuf_free(&other);
	teardown(&f);
	return TEST_PASS;
}

/*
 * A collector restart (the exporter's): every counter starts at 0 again,
 * which Prometheus takes as a counter reset; a container live from before
 * counts from then on, its mapped bytes unknown.
 */
static int test_collector_restart(void)
{
	struct fixture f;
	int i;

	CHECK_OK(setup(&f, 300));
	CHECK_OK(RUN(&f, vfio_container_open_raw, 1));
	for (i = 1; i <= 3; i++)
		CHECK_OK(MAP(&f, 1, 4096, 1, i, i, 0, 1000));
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"1\",result=\"ok\"} 3");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_count{op=\"map\"} 3");
	teardown(&f);

	CHECK_OK(setup(&f, 300));
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{");
	CHECK_NO_LINE(&f, "vfioscope_dma_entries{");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_count{op=\"map\"} 0");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_sum{op=\"map\"} 0");
	CHECK_OK(MAP(&f, 1, 4096, 1, 4, 4, 0, 1000));
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"1\",result=\"ok\"} 1");
	CHECK_LINE(&f, "vfioscope_dma_bytes_total{op=\"map\",container=\"1\"} 4096");
	CHECK_LINE(&f, "vfioscope_dma_entries{container=\"1\"} 4");
	CHECK_LINE(&f, "vfioscope_dma_pinned_pages{container=\"1\"} 4");
	CHECK_NO_LINE(&f, "vfioscope_dma_mapped_bytes{container=\"1\"}");
	CHECK_LINE(&f, "vfioscope_dma_duration_seconds_count{op=\"map\"} 1");
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
		.coll = NULL, .stale_after_ns = 300 * SEC_NS, .version = "v\"1\\",
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

/*
 * What the collector cannot record is counted, never silent: an id
 * beyond its table (id_range, no series), a full table of errors
 * (map_full: the error is in no result label).
 */
static int test_lost_counted(void)
{
	struct fixture f;
	__u32 id, e;

	CHECK_OK(setup(&f, 300));
	CHECK_OK(MAP(&f, COLL_MAX_CONTAINERS - 1, 4096, 1, 1, 1, 0, 1000));
	CHECK_OK(MAP(&f, COLL_MAX_CONTAINERS, 4096, 1, 1, 1, 0, 1000));
	CHECK_OK(RUN(&f, vfio_container_open_raw, COLL_MAX_CONTAINERS + 5));
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"1023\",result=\"ok\"} 1");
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"1024\"");
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"1029\"");
	CHECK_LINE(&f, "vfioscope_lost_events_total{reason=\"id_range\"} 2");
	CHECK_LINE(&f, "vfioscope_lost_events_total{reason=\"map_full\"} 0");

	/* (id, op, errno) keys: 64 ids x 2 ops x 32 errnos fill the table. */
	for (id = 1; id <= 64; id++)
		for (e = 1; e <= 32; e++) {
			CHECK_OK(MAP(&f, id, 4096, 0, 0, 0, -(int)e, 10));
			CHECK_OK(UNMAP_ERR(&f, id, -(int)e));
		}
	CHECK_OK(MAP(&f, 65, 4096, 0, 0, 0, -22, 10));
	CHECK_OK(render(&f, monotonic_ns()));
	CHECK_LINE(&f, "vfioscope_lost_events_total{reason=\"map_full\"} 1");
	CHECK_NO_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"65\",result=\"EINVAL\"}");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"map\",container=\"64\",result=\"EINVAL\"} 1");
	CHECK_LINE(&f, "vfioscope_dma_operations_total{op=\"unmap\",container=\"64\",result=\"EINVAL\"} 1");
	teardown(&f);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_dma),
	TEST(test_container_predates_exporter),
	TEST(test_released_between_scrapes),
	TEST(test_id_reused_before_scrape),
	TEST(test_retention_by_time),
	TEST(test_sums_never_drop),
	TEST(test_many_releases),
	TEST(test_two_readers),
	TEST(test_collector_restart),
	TEST(test_references),
	TEST(test_no_attach),
	TEST(test_format),
	TEST(test_lost_counted),
};

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	return RUN_TESTS("bpf/vfio_exporter", tests, argc, argv);
}
