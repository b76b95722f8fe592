// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-lat: how long VFIO DMA maps and unmaps take, as log2 histograms,
 * in total and split into pinning pages and IOMMU mapping.
 *
 * The BPF side counts in nanoseconds; the unit (-m, -n) is applied here,
 * exactly: slot bounds, percentiles, sum, max and average are nanosecond
 * counts divided by a power of ten and printed with every decimal that
 * takes (tools/lib/histogram.h), e.g. the slot [8192, 16383] ns reads
 * "8.192 -> 16.383" usecs.
 */
#include <argp.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector.h"
#include "common.h"
#include "histogram.h"
#include "json.h"
#include "latency.h"
#include "unseen.h"
#include "vfio-lat.skel.h"
#include "vfio_tools.h"

#define TOOL "vfio-lat"

enum { OPT_TEARDOWN = 0x2000 };

static struct env {
	struct common_env c;
	__u32 filter_op;		/* LAT_MAP + 1, LAT_UNMAP + 1, 0: both */
	__u32 filter_container;
	__u64 filter_min_size;
	__u64 filter_max_size;
	bool teardown;
	__u64 unit_ns;			/* ns per unit shown: a power of ten */
	const char *unit;		/* histogram header */
	const char *unit_short;		/* JSON "unit" */
} env = {
	.unit_ns = 1000, .unit = "usecs", .unit_short = "us",
};

const char *argp_program_version = "vfio-lat (vfioscope) " VFIOSCOPE_VERSION;
static const char doc[] =
"Summarize VFIO DMA map and unmap latency as log2 histograms.\n"
"\n"
"USAGE: vfio-lat [-h] [-p PID] [-c CONTAINER] [-o OP] [-s SIZE] [-S SIZE]\n"
"                [-m|-n] [--teardown] [-T] [-j] [-v] [interval] [count]\n"
"\n"
"Each operation is shown in total (ioctl entry to done) and split into\n"
"pinning (pin_ns) and IOMMU mapping (iommu_ns).  On Debian's in-tree VFIO\n"
"(fentry mode) the IOMMU part cannot be seen.  Failed operations and\n"
"container teardowns are counted but kept out of the histograms.\n"
"\n"
"Times are counted in nanoseconds and shown in the unit chosen, exactly:\n"
"a row gives the first and last nanosecond of its log2 slot, so 8192 to\n"
"16383 ns reads 8.192 -> 16.383 usecs.  A percentile is the upper bound\n"
"of its slot, at most the maximum; avg is rounded to the nearest ns.\n"
"Each report covers the operations since the previous one.\n"
"\n"
"Exit status: 0 when done (count reached, SIGINT or SIGTERM), 1 when it\n"
"failed (a line on standard error says why), 64 for a bad option or argument.\n"
"\n"
"EXAMPLES:\n"
"    vfio-lat              # summarize until Ctrl-C\n"
"    vfio-lat 1 10         # ten 1-second reports\n"
"    vfio-lat -o map -m    # maps only, in milliseconds\n"
"    vfio-lat -s 2M -S 2M  # only 2 MiB operations\n"
"    vfio-lat -p 1234 -j   # process 1234, JSON lines\n"
"    vfio-lat -c 3         # container 3 only\n"
"    vfio-lat --btf vmlinux.btf  # a kernel without BTF (Debian's ppc64el)\n";

static const struct argp_option opts[] = {
	COMMON_OPTIONS,
	{ "container", 'c', "ID", 0, "Only this container", 0 },
	{ "op", 'o', "OP", 0, "Only map or unmap", 0 },
	{ "min-size", 's', "SIZE", 0,
	  "Only operations of at least SIZE bytes, in decimal, K, M or G after it "
	  "(default 0: any size)", 0 },
	{ "max-size", 'S', "SIZE", 0,
	  "Only operations of at most SIZE bytes, as -s, from 1 (default: no maximum)", 0 },
	{ "milliseconds", 'm', NULL, 0, "Histograms in milliseconds", 0 },
	{ "nanoseconds", 'n', NULL, 0, "Histograms in nanoseconds", 0 },
	{ "teardown", OPT_TEARDOWN, NULL, 0, "Count container teardown unmaps too", 0 },
	COMMON_OPTION_HELP,
	{},
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	error_t err = common_parse_opt(key, arg, state, &env.c);
	__u64 *size;
	char *end;

	if (err != ARGP_ERR_UNKNOWN)
		return err;
	switch (key) {
	case 'c':
		errno = 0;
		env.filter_container = strtoul(arg, &end, 10);
		if (errno || *end || !env.filter_container)
			argp_error(state, "invalid container id: %s", arg);
		break;
	case 'o':
		if (!strcmp(arg, "map"))
			env.filter_op = LAT_MAP + 1;
		else if (!strcmp(arg, "unmap"))
			env.filter_op = LAT_UNMAP + 1;
		else
			argp_error(state, "invalid operation: %s (map or unmap)", arg);
		break;
	case 's':
	case 'S':
		size = key == 's' ? &env.filter_min_size : &env.filter_max_size;
		err = parse_size(arg, size);
		if (err)
			argp_error(state, "invalid size: %s (%s)", arg, err == -ERANGE ?
				   "2^64 bytes or more" : "bytes in decimal, K, M or G after it");
		/* 0 is no maximum to the BPF side: never what -S 0 asks. */
		if (key == 'S' && !*size)
			argp_error(state, "invalid size: %s (-S takes 1 or more; without it, no maximum)",
				   arg);
		/* In either order: a filter that lets nothing through is a mistake. */
		if (env.filter_max_size && env.filter_min_size > env.filter_max_size)
			argp_error(state, "invalid sizes: -s %llu is above -S %llu",
				   (unsigned long long)env.filter_min_size,
				   (unsigned long long)env.filter_max_size);
		break;
	case 'm':
		env.unit_ns = 1000000;
		env.unit = "msecs";
		env.unit_short = "ms";
		break;
	case 'n':
		env.unit_ns = 1;
		env.unit = "nsecs";
		env.unit_short = "ns";
		break;
	case OPT_TEARDOWN:
		env.teardown = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const char *const op_names[LAT_NR_OPS] = { "map", "unmap" };
static const char *const part_names[LAT_NR_PARTS] = { "total", "pin", "iommu" };

/*
 * A percentile is known to within its slot: its upper bound (the slot's
 * last nanosecond), at most max.
 */
static __u64 percentile(const struct lat_hist *h, double p)
{
	__u64 v = hist_percentile((const uint64_t *)h->slots, HIST_NR_SLOTS, p);

	return v > h->max_ns ? h->max_ns : v;
}

static bool part_shown(int part, enum vfio_attach_mode mode)
{
	return part != LAT_IOMMU || mode != ATTACH_FENTRY;
}

static bool op_shown(int op)
{
	return !env.filter_op || env.filter_op == (__u32)op + 1;
}

static const char *fmt_unit(char *buf, size_t len, __u64 ns)
{
	hist_format(buf, len, ns, env.unit_ns, HIST_FMT_FIXED);
	return buf;
}

static void print_text(const struct lat_interval *d, enum vfio_attach_mode mode)
{
	char b[5][32];
	int op, part;

	if (env.c.timestamp)
		print_timestamp(stdout);
	if (env.c.timestamp)
		putchar('\n');
	unseen_report_text(stdout, env.c.pid);
	for (op = 0; op < LAT_NR_OPS; op++) {
		const __u64 *cnt = d->op[op].counters;

		if (!op_shown(op))
			continue;
		printf("%s: %llu ops (failed %llu, teardown %llu, filtered out %llu)\n",
		       op_names[op],
		       (unsigned long long)lat_hist_count(&d->op[op].parts[LAT_TOTAL]),
		       (unsigned long long)cnt[LAT_CNT_FAILED],
		       (unsigned long long)cnt[LAT_CNT_TEARDOWN],
		       (unsigned long long)cnt[LAT_CNT_FILTERED]);
		for (part = 0; part < LAT_NR_PARTS; part++) {
			const struct lat_hist *h = &d->op[op].parts[part];

			if (!part_shown(part, mode)) {
				printf("  %s: not seen in %s mode\n", part_names[part],
				       attach_mode_name(mode));
				continue;
			}
			printf("  %s (%s): p50 %s  p90 %s  p99 %s  max %s  avg %s\n",
			       part_names[part], env.unit,
			       fmt_unit(b[0], sizeof(b[0]), percentile(h, 50)),
			       fmt_unit(b[1], sizeof(b[1]), percentile(h, 90)),
			       fmt_unit(b[2], sizeof(b[2]), percentile(h, 99)),
			       fmt_unit(b[3], sizeof(b[3]), h->max_ns),
			       fmt_unit(b[4], sizeof(b[4]), hist_avg(h->sum_ns, lat_hist_count(h))));
			hist_print_div(stdout, (const uint64_t *)h->slots, HIST_NR_SLOTS,
				       env.unit, env.unit_ns);
		}
		putchar('\n');
	}
}

/*
 * ns in the unit of the report, exactly, as a JSON number ("8.192" us, no
 * trailing zeros).  json.h writes integers, and doubles rounded to three
 * decimals, so the integer part goes through json_u64() and the decimals,
 * if any, follow it on the same stream.
 */
static void json_unit(struct json *j, const char *key, __u64 ns)
{
	char buf[32], *dot;

	hist_format(buf, sizeof(buf), ns, env.unit_ns, 0);
	json_u64(j, key, ns / env.unit_ns);
	dot = strchr(buf, '.');
	if (dot)
		fputs(dot, j->f);
}

static void json_part(struct json *j, const char *name, const struct lat_hist *h)
{
	int i;

	json_obj_open(j, name);
	json_u64(j, "count", lat_hist_count(h));
	json_unit(j, "sum", h->sum_ns);
	json_unit(j, "p50", percentile(h, 50));
	json_unit(j, "p90", percentile(h, 90));
	json_unit(j, "p99", percentile(h, 99));
	json_unit(j, "max", h->max_ns);
	json_arr_open(j, "slots");
	for (i = 0; i < HIST_NR_SLOTS; i++) {
		if (!h->slots[i])
			continue;
		json_obj_open(j, NULL);
		json_unit(j, "low", hist_slot_low(i));
		json_unit(j, "high", hist_slot_high(i) - 1);
		json_u64(j, "count", h->slots[i]);
		json_obj_close(j);
	}
	json_arr_close(j);
	json_obj_close(j);
}

static void print_json(const struct lat_interval *d, enum vfio_attach_mode mode,
		       const __u64 *lost, __u64 skipped)
{
	struct json j;
	int op, part;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_u64(&j, "time", (__u64)time(NULL));
	json_str(&j, "attach", attach_mode_name(mode));
	json_str(&j, "unit", env.unit_short);
	for (op = 0; op < LAT_NR_OPS; op++) {
		const __u64 *cnt = d->op[op].counters;

		if (!op_shown(op))
			continue;
		json_obj_open(&j, op_names[op]);
		json_u64(&j, "ops", lat_hist_count(&d->op[op].parts[LAT_TOTAL]));
		json_u64(&j, "failed", cnt[LAT_CNT_FAILED]);
		json_u64(&j, "teardown", cnt[LAT_CNT_TEARDOWN]);
		json_u64(&j, "filtered", cnt[LAT_CNT_FILTERED]);
		for (part = 0; part < LAT_NR_PARTS; part++) {
			if (part_shown(part, mode))
				json_part(&j, part_names[part], &d->op[op].parts[part]);
			else
				json_null(&j, part_names[part]);
		}
		json_obj_close(&j);
	}
	unseen_report_json(&j, env.c.pid);
	lost_json(&j, lost, skipped);
	json_obj_close(&j);
}

/*
 * Where the statistics come from: the host's collector (its lat_stats,
 * whose banks we claim the flipping of), or our own programs when a
 * filter or --teardown is asked for, none runs, another vfio-lat holds
 * the claim, or --attach forces a mode.
 */
struct source {
	struct collector *coll;
	struct vfio_lat *skel;
	struct lat_maps maps;
	enum vfio_attach_mode mode;
	/* shared: the collector's counts when we started, not ours to show */
	__u64 lost_base[LOST_NR_REASONS], skipped_base;
};

static bool filtered(void)
{
	return env.filter_op || env.c.pid || env.filter_container || env.filter_min_size ||
	       env.filter_max_size || env.teardown;
}

/* A claim lasts three intervals (at least 10 s): we renew it at each report. */
static uint64_t claim_keep_ns(void)
{
	long secs = 3 * env.c.interval;

	if (!env.c.interval)
		return UINT64_MAX;	/* one report, at the end: released then */
	return (secs < 10 ? 10 : secs) * 1000000000ULL;
}

static int source_losses(struct source *src, __u64 *lost, __u64 *skipped)
{
	int err, i;

	if (src->coll) {
		err = lost_read(src->coll->lost_fd, lost);
		if (!err)
			err = collector_skipped_runs(src->coll, skipped);
		for (i = 0; !err && i < LOST_NR_REASONS; i++)
			lost[i] -= src->lost_base[i];
		*skipped -= src->skipped_base;
		return err;
	}
	err = lost_read(bpf_map__fd(src->skel->maps.lost), lost);
	return err ? err : skipped_runs(src->skel->obj, skipped);
}

static void source_free(struct source *src)
{
	if (src->coll) {
		collector_release(src->coll, COLL_CLAIM_LAT);
		if (src->maps.sync_fd >= 0)
			close(src->maps.sync_fd);
		if (src->maps.sync_slot_fd >= 0)
			close(src->maps.sync_slot_fd);
	}
	collector_free(src->coll);
	vfio_lat__destroy(src->skel);
	memset(src, 0, sizeof(*src));
}

static int source_shared(struct source *src)
{
	static struct lat_interval stale;
	bool unreleased;
	int err = collector_open_shared(&src->coll);

	if (err)
		return err;
	src->maps = (struct lat_maps){
		.stats_fd = src->coll->lat_stats_fd, .bank_fd = src->coll->lat_bank_fd,
		.sync_fd = -1, .sync_slot_fd = -1,
	};
	err = collector_claim_over(src->coll, COLL_CLAIM_LAT, claim_keep_ns(), &unreleased);
	if (err == -EBUSY)
		fprintf(stderr, "%s: another vfio-lat reads the collector: loading our own programs\n",
			TOOL);
	if (!err)
		err = lat_sync_create(&src->maps);
	/*
	 * What the last reader left, thrown away.  The bank the programs
	 * write holds what came after its last report.  The other one is
	 * empty unless the reader was killed in the middle of a report: then
	 * it is thrown away too.  Each interval ended waits for the programs
	 * (an RCU grace period, most of our start-up under TCG), so the
	 * second is only for a reader that did not release its claim.
	 */
	if (!err)
		err = lat_interval_end(&src->maps, &stale);
	if (!err && unreleased)
		err = lat_interval_end(&src->maps, &stale);
	if (!err)
		err = source_losses(src, src->lost_base, &src->skipped_base);
	if (err) {
		source_free(src);
		return err;
	}
	src->mode = src->coll->mode;
	if (env.c.verbose)
		collector_say_reading(src->coll, TOOL);
	return 0;
}

static int source_own(struct source *src)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = env.c.btf);
	struct intree_ids ids;
	int err, mode;

	src->skel = vfio_lat__open_opts(&opts);
	if (!src->skel) {
		fprintf(stderr, "%s: failed to open the BPF skeleton: %s\n", TOOL, strerror(errno));
		return -errno;
	}
	mode = common_choose_attach(src->skel->obj, &env.c, TOOL);
	if (mode < 0)
		return mode;
	err = common_check_core_btf(&env.c, TOOL);
	if (err)
		return err;
	src->mode = mode;
	src->skel->rodata->filter_op = env.filter_op;
	src->skel->rodata->filter_pid = env.c.pid;
	src->skel->rodata->filter_container = env.filter_container;
	src->skel->rodata->filter_min_size = env.filter_min_size;
	src->skel->rodata->filter_max_size = env.filter_max_size;
	src->skel->rodata->targ_teardown = env.teardown;
	if (mode == ATTACH_FENTRY)
		src->skel->rodata->targ_dma_entry_limit = attach_intree_dma_entry_limit();
	/* -c takes the ids the other front ends show: the exporter's, copied. */
	err = intree_ids_prepare(&ids, src->skel->obj,
				 mode == ATTACH_FENTRY ? INTREE_IDS_COPY : INTREE_IDS_FRESH, TOOL);
	if (err) {
		fprintf(stderr, "%s: failed to prepare the in-tree container ids: %s\n", TOOL,
			strerror(-err));
		return err;
	}
	INTREE_IDS_SET_RODATA(src->skel, &ids);
	err = vfio_lat__load(src->skel);
	if (!err)
		err = intree_ids_carry(&ids, TOOL);
	intree_ids_release(&ids);
	if (err) {
		fprintf(stderr, "%s: failed to load the BPF programs: %s\n", TOOL, strerror(-err));
		return err;
	}
	err = vfio_lat__attach(src->skel);
	if (err) {
		fprintf(stderr, "%s: failed to attach the BPF programs: %s\n", TOOL, strerror(-err));
		return err;
	}
	src->maps = (struct lat_maps){
		.stats_fd = bpf_map__fd(src->skel->maps.stats),
		.sync_fd = bpf_map__fd(src->skel->maps.lat_sync),
		.sync_slot_fd = bpf_map__fd(src->skel->maps.lat_sync_slot),
		.bank = &src->skel->bss->lat_bank,
	};
	return 0;
}

/*
 * At each report: renew our claim; if the collector stopped (its
 * exporter exited), say so and go on with our own programs.
 */
static int source_tend(struct source *src)
{
	pid_t owner;
	int err;

	if (!src->coll)
		return 0;
	if (collector_alive(src->coll))
		return collector_claim(src->coll, COLL_CLAIM_LAT, claim_keep_ns());
	owner = src->coll->owner;
	source_free(src);
	err = source_own(src);
	if (!err)
		fprintf(stderr, "%s: the collector of pid %d stopped; on our own programs, "
			"operations meanwhile not seen\n", TOOL, owner);
	return err;
}

static int report(struct source *src)
{
	static struct lat_interval d;
	__u64 lost[LOST_NR_REASONS], skipped;
	int err;

	err = lat_interval_end(&src->maps, &d);
	if (!err)
		err = source_losses(src, lost, &skipped);
	if (err) {
		fprintf(stderr, "%s: failed to read the BPF maps: %s\n", TOOL, strerror(-err));
		return err;
	}
	if (env.c.json) {
		print_json(&d, src->mode, lost, skipped);
	} else {
		print_text(&d, src->mode);
		lost_print(stdout, lost, skipped);
	}
	fflush(stdout);
	return source_tend(src);
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_opt, .doc = doc };
	struct source src = {};
	long reports = 0;
	int err;

	/* A bad flag exits 64 (EX_USAGE) in there; an error returned is argp's own. */
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 1;
	common_set_libbpf_print(&env.c);

	if (filtered() || env.c.attach || source_shared(&src))
		err = source_own(&src);
	if (err)
		goto cleanup;
	common_setup_signals();
	/* On stderr even with -j: scripts wait for it to know we are attached. */
	fprintf(stderr, "Tracing VFIO DMA map/unmap latency (%s)... %s\n",
		attach_mode_name(src.mode),
		env.c.interval ? "Ctrl-C to end." : "Ctrl-C to end and report.");
	unseen_report_text(stderr, env.c.pid);

	for (;;) {
		bool more = common_wait_interval(&env.c);

		err = report(&src);
		if (err || !more || (env.c.count && ++reports >= env.c.count))
			break;
	}

cleanup:
	source_free(&src);
	return err ? 1 : 0;
}
