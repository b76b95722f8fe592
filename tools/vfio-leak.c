// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-leak: who holds references on VFIO containers, groups and devices,
 * and external users, for how long, and from which kernel stack.
 */
#include <argp.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common.h"
#include "json.h"
#include "ksyms.h"
#include "reftrack.h"
#include "collector.h"
#include "unseen.h"
#include "vfio-leak.skel.h"
#include "vfio_tools.h"

#define TOOL "vfio-leak"

enum { OPT_STACK_DEPTH = 0x2000 };

/* MAX_STACK_DEPTH in the --help text, so that it says what parse_opt takes. */
#define STR(x) #x
#define XSTR(x) STR(x)

static struct env {
	struct common_env c;
	double min_age;		/* -a, seconds */
	long max_refs;
	int stack_depth;
} env = {
	.max_refs = 65536,
	.stack_depth = 8,
};

const char *argp_program_version = "vfio-leak (vfioscope) " VFIOSCOPE_VERSION;
static const char doc[] =
"Track VFIO reference gets and puts and report leaks.\n"
"\n"
"USAGE: vfio-leak [-h] [-a AGE] [-p PID] [-m MAX] [--stack-depth N] [-T] [-j]\n"
"                 [-v] [interval] [count]\n"
"\n"
"Reports, every interval or when leaving:\n"
"  - references held for AGE seconds or more, with the holder and the kernel\n"
"    stack of the get (references are counted, not named: which get a put took\n"
"    back is a guess; the kernel's counts in each event bound the number\n"
"    left, so a lost put's get is dropped (\"reconciled\") once an event\n"
"    of its object shows it gone: tools/lib/reftrack.h has the rule);\n"
"  - objects still held after every user-space fd was closed: a container\n"
"    whose fd is closed (vfio_container_close) and that no group or device\n"
"    fd reaches, yet is not released, with the external users keeping it;\n"
"    a group whose fds are closed but that is still attached or referenced;\n"
"  - imbalances: a put without a get, a count below zero.\n"
"Needs the vfio:* events of the vfioscope stack (tp_btf or raw_tp).\n"
"\n"
"Exit status: 0 when done (count reached, SIGINT or SIGTERM), 1 when it\n"
"failed (a line on standard error says why), 64 for a bad option or argument.\n"
"\n"
"EXAMPLES:\n"
"    vfio-leak             # report when Ctrl-C is hit\n"
"    vfio-leak -a 60 10    # every 10 s, references held a minute or more\n"
"    vfio-leak -j 5 1      # one JSON report after 5 s\n"
"    vfio-leak -p 1234     # holders in process 1234 only\n";

static const struct argp_option opts[] = {
	COMMON_OPTIONS,
	{ "age", 'a', "AGE", 0, "Report references held for AGE seconds or more (default 0: all)", 0 },
	{ "max-refs", 'm', "MAX", 0, "Remember at most MAX outstanding gets (default 65536)", 0 },
	{ "stack-depth", OPT_STACK_DEPTH, "N", 0,
	  "Print N frames of each stack, 0 to " XSTR(MAX_STACK_DEPTH) " (default 8; 0: none)", 0 },
	COMMON_OPTION_HELP,
	{},
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	error_t err = common_parse_opt(key, arg, state, &env.c);
	char *end;
	long depth;

	if (err != ARGP_ERR_UNKNOWN)
		return err;
	errno = 0;
	switch (key) {
	case 'a':
		env.min_age = strtod(arg, &end);
		if (errno || end == arg || *end || !isfinite(env.min_age) || env.min_age < 0)
			argp_error(state, "invalid age: %s", arg);
		break;
	case 'm':
		env.max_refs = strtol(arg, &end, 10);
		if (errno || *end || env.max_refs < 1)
			argp_error(state, "invalid max: %s", arg);
		break;
	case OPT_STACK_DEPTH:
		/* In a long: an int would take 4294967304 for 8. */
		depth = strtol(arg, &end, 10);
		if (errno || end == arg || *end || depth < 0 || depth > MAX_STACK_DEPTH)
			argp_error(state, "invalid stack depth: %s (0 to %d)", arg, MAX_STACK_DEPTH);
		env.stack_depth = depth;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

struct ctx {
	struct reftrack *rt;
	struct ksyms *ksyms;	/* loaded at the first report */
	bool ksyms_tried;
	enum vfio_attach_mode mode;
};

static int handle_event(void *ctxp, void *data, size_t size)
{
	struct ctx *ctx = ctxp;
	int err = reftrack__record(ctx->rt, data, size);

	/* Our own BPF side wrote it: a short record means a mismatched build. */
	if (err)
		fprintf(stderr, "%s: malformed event record of %zu bytes\n", TOOL, size);
	return err;
}

static __u64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Frames of the tracing machinery itself, above the traced function. */
static bool tracing_frame(const struct ctx *ctx, __u64 ip)
{
	static const char *const prefixes[] = {
		"bpf_prog_", "bpf_trace_run", "__bpf_trace_", "__traceiter_",
	};
	const struct ksym *s = ksyms__search(ctx->ksyms, ip);
	size_t i;

	if (!s)
		return false;
	for (i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
		if (!strncmp(s->name, prefixes[i], strlen(prefixes[i])))
			return true;
	return false;
}

/*
 * The stack of a get, from the function that took the reference down:
 * the BPF program and tracepoint frames on top differ between tp_btf and
 * raw_tp and say nothing about the holder, so they are cut.  The number
 * of frames left, 0 when the record had no stack.
 */
static int holder_stack(const struct ctx *ctx, const struct ref_holder *h,
			const uint64_t **ips)
{
	int skip = 0, nr;

	*ips = NULL;
	if (!h->stack)
		return 0;
	nr = h->stack->nr;
	while (skip < nr && tracing_frame(ctx, h->stack->ips[skip]))
		skip++;
	*ips = h->stack->ips + skip;
	return nr - skip;
}

static bool holder_shown(const struct ref_holder *h, __u64 now)
{
	if (env.c.pid && h->pid != (__u32)env.c.pid)
		return false;
	return (now - h->ts) / 1e9 >= env.min_age;
}

static void print_holder_text(const struct ctx *ctx, const struct ref_obj *o,
			      const struct ref_holder *h, __u64 now)
{
	const uint64_t *ips;
	char sym[256];
	int i, nr;

	printf("  %s %u", reftrack__kind_name(o->kind), o->id);
	if (o->kind == REF_KIND_EXTERNAL)
		printf(" (group %u)", h->group);
	printf(": held %.3fs by %s[%u] caller %s\n", (now - h->ts) / 1e9, h->comm,
	       h->pid, ksyms__format(ctx->ksyms, h->caller, sym, sizeof(sym)));
	if (!env.stack_depth)
		return;
	nr = holder_stack(ctx, h, &ips);
	if (!nr) {
		/* Counted as lost (stack) by the BPF side when it failed. */
		printf("      [%s]\n", h->stack_lost ? "stack lost" : "no stack");
		return;
	}
	for (i = 0; i < env.stack_depth && i < nr; i++)
		printf("      %s\n", ksyms__format(ctx->ksyms, ips[i], sym, sizeof(sym)));
}

static void print_orphan_text(const struct ctx *ctx, const struct ref_obj *o, __u64 now)
{
	const struct ref_obj *ext;
	size_t i;

	switch (o->kind) {
	case VFIO_TRACE_OBJ_CONTAINER:
		ext = reftrack__find(ctx->rt, REF_KIND_EXTERNAL, o->id);
		printf("  container %u: fd closed %.3fs ago, not released, no group fd open; "
		       "%lld references, %lld external users\n", o->id,
		       o->closed_ts ? (now - o->closed_ts) / 1e9 : 0.0,
		       (long long)reftrack__outstanding(o),
		       ext ? (long long)reftrack__outstanding(ext) : 0LL);
		/* Who keeps it: the external users nobody put. */
		for (i = 0; ext && i < ext->nr_held; i++)
			print_holder_text(ctx, ext, &ext->held[i], now);
		break;
	case VFIO_TRACE_OBJ_GROUP:
		printf("  group %u: fds closed %.3fs ago, still ", o->id,
		       o->closed_ts ? (now - o->closed_ts) / 1e9 : 0.0);
		if (o->container)
			printf("in container %u", o->container);
		else
			printf("in no container");
		printf("; %zu tracked references\n", o->nr_held);
		break;
	default:
		printf("  %s %u: fds closed %.3fs ago; %zu tracked references\n",
		       reftrack__kind_name(o->kind), o->id,
		       o->closed_ts ? (now - o->closed_ts) / 1e9 : 0.0, o->nr_held);
	}
}

static void report_text(struct ctx *ctx, const __u64 *lost, __u64 skipped)
{
	struct reftrack *rt = ctx->rt;
	__u64 now = monotonic_ns();
	size_t i, j, n, shown = 0;
	char sym[256];

	if (env.c.timestamp)
		print_timestamp(stdout);
	printf("vfio-leak: %llu events, %zu gets outstanding (%zu external users), "
	       "overflow %llu, reconciled %llu (restored %llu), missed %llu, attach %s; ",
	       (unsigned long long)rt->events, reftrack__count_held(rt, 0),
	       reftrack__count_held(rt, REF_KIND_EXTERNAL),
	       (unsigned long long)rt->overflow, (unsigned long long)rt->reconciled,
	       (unsigned long long)rt->restored, (unsigned long long)rt->missed,
	       attach_mode_name(ctx->mode));
	lost_print(stdout, lost, skipped);
	unseen_report_text(stdout, env.c.pid);
	if (lost[LOST_RINGBUF] || rt->missed)
		printf("Records were lost: the references left follow the kernel's counts; "
		       "which get a lost put took back is not known, the oldest are dropped first.\n");

	printf("References held for %gs or more:\n", env.min_age);
	for (i = 0; i < rt->nr_objs; i++) {
		const struct ref_obj *o = &rt->objs[i];

		for (j = 0; j < o->nr_held; j++) {
			if (!holder_shown(&o->held[j], now))
				continue;
			print_holder_text(ctx, o, &o->held[j], now);
			shown++;
		}
	}
	if (!shown)
		printf("  none\n");

	printf("Held after every fd was closed:\n");
	for (i = 0, shown = 0; i < rt->nr_objs; i++) {
		if (!reftrack__orphaned(rt, &rt->objs[i]))
			continue;
		print_orphan_text(ctx, &rt->objs[i], now);
		shown++;
	}
	if (!shown)
		printf("  none\n");

	printf("Imbalances: %llu\n", (unsigned long long)rt->nr_imbalances);
	n = rt->nr_imbalances < REFTRACK_MAX_IMBALANCES ? rt->nr_imbalances :
	    REFTRACK_MAX_IMBALANCES;
	for (i = 0; i < n; i++) {
		const struct ref_imbalance *im = &rt->imbalances[
			(rt->nr_imbalances - n + i) % REFTRACK_MAX_IMBALANCES];

		printf("  %s %u: %s (count %u) by %s[%u] caller %s\n",
		       reftrack__kind_name(im->kind), im->id, reftrack__why_name(im->why),
		       im->count, im->comm, im->pid,
		       ksyms__format(ctx->ksyms, im->caller, sym, sizeof(sym)));
	}
	putchar('\n');
	fflush(stdout);
}

static void json_holder(const struct ctx *ctx, struct json *j, const struct ref_obj *o,
			const struct ref_holder *h, __u64 now)
{
	const uint64_t *ips;
	char sym[256];
	int f, nr;

	json_obj_open(j, NULL);
	json_str(j, "kind", reftrack__kind_name(o->kind));
	json_u64(j, "id", o->id);
	if (o->kind == REF_KIND_EXTERNAL)
		json_u64(j, "group", h->group);
	json_double(j, "age_s", (now - h->ts) / 1e9);
	json_u64(j, "pid", h->pid);
	json_u64(j, "tid", h->tid);
	json_str(j, "comm", h->comm);
	json_str(j, "caller", ksyms__format(ctx->ksyms, h->caller, sym, sizeof(sym)));
	json_bool(j, "stack_lost", h->stack_lost);
	json_arr_open(j, "stack");
	nr = holder_stack(ctx, h, &ips);
	for (f = 0; f < nr; f++)
		json_str(j, NULL, ksyms__format(ctx->ksyms, ips[f], sym, sizeof(sym)));
	json_arr_close(j);
	json_obj_close(j);
}

static void report_json(struct ctx *ctx, const __u64 *lost, __u64 skipped)
{
	struct reftrack *rt = ctx->rt;
	__u64 now = monotonic_ns();
	struct json j;
	char sym[256];
	size_t i, k, n;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_u64(&j, "time", (__u64)time(NULL));
	json_str(&j, "attach", attach_mode_name(ctx->mode));
	json_u64(&j, "events", rt->events);
	json_u64(&j, "outstanding", reftrack__count_held(rt, 0));
	json_u64(&j, "outstanding_external", reftrack__count_held(rt, REF_KIND_EXTERNAL));
	json_u64(&j, "overflow", rt->overflow);
	json_u64(&j, "reconciled", rt->reconciled);
	json_u64(&j, "restored", rt->restored);
	json_u64(&j, "missed", rt->missed);
	json_double(&j, "min_age_s", env.min_age);

	json_arr_open(&j, "held");
	for (i = 0; i < rt->nr_objs; i++) {
		const struct ref_obj *o = &rt->objs[i];

		for (k = 0; k < o->nr_held; k++) {
			const struct ref_holder *h = &o->held[k];

			if (!holder_shown(h, now))
				continue;
			json_holder(ctx, &j, o, h, now);
		}
	}
	json_arr_close(&j);

	json_arr_open(&j, "orphaned");
	for (i = 0; i < rt->nr_objs; i++) {
		const struct ref_obj *o = &rt->objs[i], *ext;

		if (!reftrack__orphaned(rt, o))
			continue;
		json_obj_open(&j, NULL);
		json_str(&j, "kind", reftrack__kind_name(o->kind));
		json_u64(&j, "id", o->id);
		json_s64(&j, "references", reftrack__outstanding(o));
		json_u64(&j, "tracked", o->nr_held);
		if (o->kind == VFIO_TRACE_OBJ_GROUP)
			json_u64(&j, "container", o->container);
		if (o->kind == VFIO_TRACE_OBJ_CONTAINER) {
			ext = reftrack__find(rt, REF_KIND_EXTERNAL, o->id);
			json_s64(&j, "external_users", ext ? reftrack__outstanding(ext) : 0);
			/* The leaks: external users still holding it. */
			json_arr_open(&j, "holders");
			for (k = 0; ext && k < ext->nr_held; k++)
				json_holder(ctx, &j, ext, &ext->held[k], now);
			json_arr_close(&j);
		}
		json_obj_close(&j);
	}
	json_arr_close(&j);

	json_u64(&j, "imbalances_total", rt->nr_imbalances);
	json_arr_open(&j, "imbalances");
	n = rt->nr_imbalances < REFTRACK_MAX_IMBALANCES ? rt->nr_imbalances :
	    REFTRACK_MAX_IMBALANCES;
	for (i = 0; i < n; i++) {
		const struct ref_imbalance *im = &rt->imbalances[
			(rt->nr_imbalances - n + i) % REFTRACK_MAX_IMBALANCES];

		json_obj_open(&j, NULL);
		json_str(&j, "kind", reftrack__kind_name(im->kind));
		json_u64(&j, "id", im->id);
		json_str(&j, "why", reftrack__why_name(im->why));
		json_u64(&j, "count", im->count);
		json_u64(&j, "pid", im->pid);
		json_str(&j, "comm", im->comm);
		json_str(&j, "caller", ksyms__format(ctx->ksyms, im->caller, sym, sizeof(sym)));
		json_obj_close(&j);
	}
	json_arr_close(&j);
	unseen_report_json(&j, env.c.pid);
	lost_json(&j, lost, skipped);
	json_obj_close(&j);
}

/*
 * Where the records come from: the host's collector (its stack_events
 * ring, which we claim), or our own programs when none runs, another
 * vfio-leak reads it, or --attach forces a mode.
 */
struct source {
	struct collector *coll;
	struct vfio_leak *skel;
	struct ring_buffer *rb;
	int lost_fd;
	enum vfio_attach_mode mode;
	__u64 claim_until;	/* when our claim on the collector needs renewing */
};

/* A claim lasts this long; renewed every second. */
#define STACK_CLAIM_NS (5 * 1000000000ULL)

static void source_free(struct source *src)
{
	ring_buffer__free(src->rb);
	if (src->coll)
		collector_release(src->coll, COLL_CLAIM_STACKS);
	collector_free(src->coll);
	vfio_leak__destroy(src->skel);
	memset(src, 0, sizeof(*src));
}

static int source_shared(struct source *src, struct ctx *ctx)
{
	int err = collector_open_shared(&src->coll);

	if (err)
		return err;
	if (src->coll->mode == ATTACH_FENTRY) {
		err = -ENOENT;	/* no reference events there; say so below */
		goto fail;
	}
	err = collector_claim(src->coll, COLL_CLAIM_STACKS, STACK_CLAIM_NS);
	if (err == -EBUSY)
		fprintf(stderr, "%s: another vfio-leak reads the collector: loading our own programs\n",
			TOOL);
	if (err)
		goto fail;
	src->claim_until = monotonic_ns() + STACK_CLAIM_NS / 5;
	src->rb = ring_buffer__new(src->coll->stack_events_fd, handle_event, ctx, NULL);
	if (!src->rb) {
		err = -errno;
		goto fail;
	}
	src->lost_fd = src->coll->stack_lost_fd;
	src->mode = src->coll->mode;
	if (env.c.verbose)
		collector_say_reading(src->coll, TOOL);
	return 0;
fail:
	source_free(src);
	return err;
}

static int source_own(struct source *src, struct ctx *ctx)
{
	/* Its programs read no kernel type: --btf is passed on, never needed. */
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = env.c.btf);
	int err, mode;

	src->skel = vfio_leak__open_opts(&opts);
	if (!src->skel) {
		fprintf(stderr, "%s: failed to open the BPF skeleton: %s\n", TOOL, strerror(errno));
		return -errno;
	}
	mode = common_choose_attach(src->skel->obj, &env.c, TOOL);
	if (mode < 0)
		return mode;
	if (mode == ATTACH_FENTRY) {
		fprintf(stderr, "%s: Debian's in-tree VFIO has no reference events: "
			"vfio-leak needs the vfioscope stack's vfio:* events\n", TOOL);
		return -ENOTSUP;
	}
	src->mode = mode;
	err = vfio_leak__load(src->skel);
	if (err) {
		fprintf(stderr, "%s: failed to load the BPF programs: %s\n", TOOL, strerror(-err));
		return err;
	}
	src->rb = ring_buffer__new(bpf_map__fd(src->skel->maps.events), handle_event, ctx, NULL);
	if (!src->rb) {
		err = -errno;
		fprintf(stderr, "%s: failed to create the ring buffer: %s\n", TOOL, strerror(-err));
		return err;
	}
	err = vfio_leak__attach(src->skel);
	if (err) {
		fprintf(stderr, "%s: failed to attach the BPF programs: %s\n", TOOL, strerror(-err));
		return err;
	}
	src->lost_fd = bpf_map__fd(src->skel->maps.lost);
	return 0;
}

static int source_open(struct source *src, struct ctx *ctx)
{
	if (!env.c.attach && !source_shared(src, ctx))
		return 0;
	return source_own(src, ctx);
}

/*
 * Once a second: renew our claim on the collector; if it stopped (its
 * exporter exited), say so and go on with our own programs.  References
 * seen so far stay tracked; what happens while switching is not seen.
 */
static int source_tend(struct source *src, struct ctx *ctx)
{
	__u64 now = monotonic_ns();
	pid_t owner;
	int err;

	if (!src->coll || now < src->claim_until)
		return 0;
	if (collector_alive(src->coll)) {
		src->claim_until = now + STACK_CLAIM_NS / 5;
		return collector_claim(src->coll, COLL_CLAIM_STACKS, STACK_CLAIM_NS);
	}
	owner = src->coll->owner;
	ring_buffer__consume(src->rb);
	source_free(src);
	err = source_own(src, ctx);
	if (!err)
		fprintf(stderr, "%s: the collector of pid %d stopped; on our own programs, "
			"events meanwhile not seen\n", TOOL, owner);
	return err;
}

static int report(struct ctx *ctx, const struct source *src)
{
	__u64 lost[LOST_NR_REASONS], skipped;
	int err = lost_read(src->lost_fd, lost);

	if (!err)
		err = src->coll ? collector_skipped_runs(src->coll, &skipped) :
				  skipped_runs(src->skel->obj, &skipped);
	if (err) {
		fprintf(stderr, "%s: failed to read the lost counters: %s\n", TOOL, strerror(-err));
		return err;
	}
	/*
	 * Not at start: reading /proc/kallsyms was most of the start-up of a
	 * vfio-leak reading a running collector.
	 */
	if (!ctx->ksyms_tried) {
		ctx->ksyms_tried = true;
		ctx->ksyms = ksyms__load();
		if (!ctx->ksyms)
			fprintf(stderr, "%s: failed to read /proc/kallsyms: stacks shown as addresses\n",
				TOOL);
	}
	if (env.c.json)
		report_json(ctx, lost, skipped);
	else
		report_text(ctx, lost, skipped);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_opt, .doc = doc };
	struct source src = {};
	struct ctx ctx = {};
	__u64 next_report;
	long reports = 0;
	int err;

	/* A bad flag exits 64 (EX_USAGE) in there; an error returned is argp's own. */
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 1;
	common_set_libbpf_print(&env.c);

	ctx.rt = reftrack__new(env.max_refs);
	if (!ctx.rt) {
		err = -ENOMEM;
		goto cleanup;
	}
	err = source_open(&src, &ctx);
	if (err)
		goto cleanup;
	ctx.mode = src.mode;
	common_setup_signals();
	/* On stderr even with -j: scripts wait for it to know we are attached. */
	fprintf(stderr, "Tracking VFIO references (%s)... Ctrl-C to end%s.\n",
		attach_mode_name(src.mode), env.c.interval ? "" : " and report");
	unseen_report_text(stderr, env.c.pid);

	next_report = monotonic_ns() + env.c.interval * 1000000000ULL;
	while (!common_exiting) {
		err = ring_buffer__poll(src.rb, 100);
		if (err < 0 && err != -EINTR) {
			fprintf(stderr, "%s: failed to poll the ring buffer: %s\n", TOOL, strerror(-err));
			goto cleanup;
		}
		err = source_tend(&src, &ctx);
		if (err)
			goto cleanup;
		if (env.c.interval && monotonic_ns() >= next_report) {
			ring_buffer__consume(src.rb);
			err = report(&ctx, &src);
			if (err || (env.c.count && ++reports >= env.c.count))
				goto cleanup;
			next_report += env.c.interval * 1000000000ULL;
		}
	}
	/* Leaving: what is in the buffer counts too. */
	ring_buffer__consume(src.rb);
	err = report(&ctx, &src);

cleanup:
	source_free(&src);
	reftrack__free(ctx.rt);
	ksyms__free(ctx.ksyms);
	return err ? 1 : 0;
}
