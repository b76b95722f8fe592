// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-top: who maps what through VFIO, refreshed every interval.  One
 * row per process, per container and per group.
 */
#include <argp.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "collector.h"
#include "common.h"
#include "json.h"
#include "process.h"
#include "unseen.h"
#include "vfio_tools.h"

#define TOOL "vfio-top"

enum sort_key { SORT_OPS, SORT_BYTES, SORT_MAPPED, SORT_PINNED, SORT_ERRORS,
		SORT_MAPS, SORT_ID };
static const char *const sort_names[] = {
	[SORT_OPS] = "ops", [SORT_BYTES] = "bytes", [SORT_MAPPED] = "mapped",
	[SORT_PINNED] = "pinned", [SORT_ERRORS] = "errors", [SORT_MAPS] = "maps",
	[SORT_ID] = "id",
};

static struct env {
	struct common_env c;
	enum sort_key sort;
	long rows;
	bool batch;
} env = {
	.c = { .interval = 1 },
	.sort = SORT_OPS,
	.rows = 20,
};

const char *argp_program_version = "vfio-top (vfioscope) " VFIOSCOPE_VERSION;
static const char doc[] =
"Show VFIO DMA activity per process, container and group, like top.\n"
"\n"
"USAGE: vfio-top [-h] [-p PID] [-s SORT] [-r ROWS] [-b] [-T] [-j] [-v]\n"
"                [interval] [count]\n"
"\n"
"MAPS/UNMAPS count operations since the tool started; /s columns are rates\n"
"over the last interval (default 1 s).  A process's MAPPED and PINNED are\n"
"what it mapped and pinned minus what it unmapped since it was first seen;\n"
"a container's are what it holds now (\"-\": mapped before the collector\n"
"met it, unknown).  Containers also show their DMA entries and external\n"
"users, groups their container and external users.  A process or\n"
"container that is gone is shown once more, then dropped.  -p shows the\n"
"process, the container it last used and that container's groups.\n"
"\n"
"vfio-top reads the host's collector when one runs (vfio-exporter pins it\n"
"under /sys/fs/bpf/vfioscope) and attaches nothing; otherwise, or when\n"
"--attach names a mode (not auto), it loads the same programs for itself.\n"
"On a kernel without BTF (no /sys/kernel/btf/vmlinux) they need its BTF as\n"
"a file: --btf.\n"
"Sort keys: ops (map+unmap per second), bytes, mapped, pinned, errors,\n"
"maps (cumulative), id.\n"
"\n"
"Exit status: 0 when done (count reached, SIGINT or SIGTERM), 1 when it\n"
"failed (a line on standard error says why), 64 for a bad option or argument.\n"
"\n"
"EXAMPLES:\n"
"    vfio-top              # refresh every second\n"
"    vfio-top -s mapped    # biggest mappers first\n"
"    vfio-top -b 5 3       # three plain-text reports, 5 s apart\n"
"    vfio-top -j -r 5      # JSON lines, top 5 rows per table\n"
"    vfio-top -p 1234      # one process\n"
"    vfio-top --btf vmlinux.btf -b  # a kernel without BTF (Debian's ppc64el)\n";

static const struct argp_option opts[] = {
	COMMON_OPTIONS,
	{ "sort", 's', "SORT", 0, "Sort rows by ops, bytes, mapped, pinned, errors, maps or id", 0 },
	{ "rows", 'r', "ROWS", 0, "At most ROWS rows per table (default 20)", 0 },
	{ "batch", 'b', NULL, 0, "Plain text, no screen control", 0 },
	COMMON_OPTION_HELP,
	{},
};

static error_t parse_opt(int key, char *arg, struct argp_state *state)
{
	error_t err = common_parse_opt(key, arg, state, &env.c);
	unsigned int i;
	char *end;

	if (err != ARGP_ERR_UNKNOWN)
		return err;
	switch (key) {
	case 's':
		for (i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]); i++)
			if (!strcmp(arg, sort_names[i]))
				break;
		if (i == sizeof(sort_names) / sizeof(sort_names[0]))
			argp_error(state, "invalid sort key: %s", arg);
		env.sort = i;
		break;
	case 'r':
		errno = 0;
		env.rows = strtol(arg, &end, 10);
		if (errno || *end || env.rows < 1)
			argp_error(state, "invalid rows: %s", arg);
		break;
	case 'b':
		env.batch = true;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

enum top_kind { TOP_PROCESS = 1, TOP_CONTAINER, TOP_GROUP };

/* A process is its tgid and its start: a reused pid is another row. */
struct top_key {
	__u32 kind;		/* enum top_kind */
	__u32 id;		/* tgid, container id or group id */
	__u64 start;		/* processes: the leader's start_boottime, ns; containers: gen */
};

/* Counters since the tool started; levels now. */
struct top_value {
	__u64 map_ops;
	__u64 unmap_ops;
	__u64 map_bytes;
	__u64 unmap_bytes;
	__s64 mapped_bytes;
	__s64 pinned_pages;
	__s64 entries;		/* containers */
	__s64 ext_users;	/* containers: the users field; groups: outstanding gets */
	__u64 errors;
	__u32 container;	/* groups: their container; processes: the last one used */
	__u32 released;		/* containers: freed; groups: fd closed */
	__u32 missing;		/* DMA_MISSING_*: a level unknown */
	char comm[TASK_COMM_LEN];
};

struct row {
	struct top_key key;
	struct top_value v;
	double map_rate, unmap_rate, mapb_rate, unmapb_rate;
	int gone;		/* process exited, container released; 2: shown already */
};

struct table {
	struct row *rows;
	size_t nr;
};

static int key_cmp(const void *a, const void *b)
{
	const struct top_key *x = a, *y = b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->start < y->start ? -1 : x->start > y->start;
}

static int table_add(struct table *t, size_t *cap, const struct row *r)
{
	if (t->nr == *cap) {
		struct row *n;

		*cap = *cap ? *cap * 2 : 64;
		n = realloc(t->rows, *cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		t->rows = n;
	}
	t->rows[t->nr++] = *r;
	return 0;
}

static struct row *table_find(const struct table *t, const struct top_key *key)
{
	return t->nr ? bsearch(key, t->rows, t->nr, sizeof(*t->rows), key_cmp) : NULL;
}

/* The collector's rows as vfio-top's, counters from the collector's start. */
static int collect(struct collector *c, struct table *t)
{
	struct coll_container *cs = NULL;
	struct coll_group_row *gs = NULL;
	struct coll_process_row *ps = NULL;
	size_t nc = 0, ng = 0, np = 0, cap = 0, i;
	int err;

	t->nr = 0;
	err = collector_read_containers(c, &cs, &nc);
	if (!err)
		err = collector_read_groups(c, &gs, &ng);
	if (!err)
		err = collector_read_processes(c, &ps, &np);
	for (i = 0; !err && i < nc; i++) {
		const struct coll_container *cc = &cs[i];
		struct row r = { .key = { TOP_CONTAINER, cc->id, cc->gen } };

		/* The container's own part: a reused id is another row. */
		r.v.map_ops = cc->gen_ops[EXP_MAP];
		r.v.unmap_ops = cc->gen_ops[EXP_UNMAP];
		r.v.map_bytes = cc->gen_bytes[EXP_MAP];
		r.v.unmap_bytes = cc->gen_bytes[EXP_UNMAP];
		r.v.errors = cc->gen_failed[EXP_MAP] + cc->gen_failed[EXP_UNMAP] + cc->iommu_errors;
		r.v.mapped_bytes = cc->mapped;
		r.v.pinned_pages = cc->pinned;
		r.v.entries = cc->entries;
		r.v.ext_users = cc->ext_users;
		r.v.missing = cc->missing;
		r.v.released = !cc->live;
		err = table_add(t, &cap, &r);
	}
	for (i = 0; !err && i < ng; i++) {
		struct row r = { .key = { TOP_GROUP, gs[i].id, 0 } };

		r.v.container = gs[i].v.container;
		r.v.ext_users = gs[i].v.ext_users;
		r.v.errors = gs[i].v.errors;
		r.v.released = !gs[i].v.fd_open;
		err = table_add(t, &cap, &r);
	}
	for (i = 0; !err && i < np; i++) {
		const struct coll_proc *p = &ps[i].v;
		struct row r = { .key = { TOP_PROCESS, ps[i].key.tgid, ps[i].key.start } };

		r.v.map_ops = p->ops[EXP_MAP];
		r.v.unmap_ops = p->ops[EXP_UNMAP];
		r.v.map_bytes = p->bytes[EXP_MAP];
		r.v.unmap_bytes = p->bytes[EXP_UNMAP];
		r.v.errors = p->errors;
		r.v.mapped_bytes = p->mapped;
		r.v.pinned_pages = p->pinned;
		r.v.container = p->container;
		/* A process's pinned pages are a sum like its mapped bytes. */
		r.v.missing = p->missing & DMA_MISSING_MAPPED ?
			      DMA_MISSING_MAPPED | DMA_MISSING_PINNED : 0;
		memcpy(r.v.comm, p->comm, sizeof(r.v.comm));
		err = table_add(t, &cap, &r);
	}
	free(cs);
	free(gs);
	free(ps);
	if (!err)
		qsort(t->rows, t->nr, sizeof(*t->rows), key_cmp);
	return err;
}

/* The counters as they were when the tool started (collector shared). */
static struct table base;

static void since_start(struct row *r)
{
	const struct row *b = table_find(&base, &r->key);

	if (!b)
		return;		/* met after the start: all of it is new */
	r->v.map_ops -= b->v.map_ops;
	r->v.unmap_ops -= b->v.unmap_ops;
	r->v.map_bytes -= b->v.map_bytes;
	r->v.unmap_bytes -= b->v.unmap_bytes;
	r->v.errors -= b->v.errors;
}

static int row_gone(const struct row *r)
{
	return r->key.kind == TOP_PROCESS ? !process_is(r->key.id, r->key.start) :
	       r->key.kind == TOP_CONTAINER ? r->v.released : 0;
}

/* The rows as the tool starts, and which of them are gone already. */
static int read_base(struct collector *c)
{
	size_t i;
	int err = collect(c, &base);

	for (i = 0; !err && i < base.nr; i++)
		base.rows[i].gone = row_gone(&base.rows[i]);
	return err;
}

/* Whether a row that is gone went before the tool started: never shown. */
static bool gone_before_start(const struct row *r)
{
	const struct row *b = table_find(&base, &r->key);

	return b && b->gone;
}

/*
 * This interval's rows: counters since the start, rates over the interval.
 * A gone row is shown once (gone = 1), then kept hidden (2); an exited
 * process's row is then deleted from the collector, which would fill up
 * with them otherwise.
 */
static int read_rows(struct collector *c, struct table *cur, const struct table *prev,
		     double secs)
{
	size_t i;
	int err;

	err = collect(c, cur);
	if (err)
		return err;
	for (i = 0; i < cur->nr; i++) {
		struct row *r = &cur->rows[i];
		const struct row *p = table_find(prev, &r->key);

		since_start(r);
		r->gone = row_gone(r);
		if (r->gone && ((p && p->gone) || (!p && gone_before_start(r)))) {
			r->gone = 2;
			if (r->key.kind == TOP_PROCESS)
				bpf_map_delete_elem(c->processes_fd, &(struct coll_proc_key){
					.tgid = r->key.id, .start = r->key.start });
			continue;
		}
		if (secs > 0) {
			r->map_rate = (r->v.map_ops - (p ? p->v.map_ops : 0)) / secs;
			r->unmap_rate = (r->v.unmap_ops - (p ? p->v.unmap_ops : 0)) / secs;
			r->mapb_rate = (r->v.map_bytes - (p ? p->v.map_bytes : 0)) / secs;
			r->unmapb_rate = (r->v.unmap_bytes - (p ? p->v.unmap_bytes : 0)) / secs;
		}
	}
	return 0;
}

/*
 * -p PID: the process's rows, the containers it last used, and their
 * groups (a container's counts are all its processes').
 */
static bool row_wanted(const struct table *t, const struct row *r)
{
	size_t i;

	if (r->gone == 2)
		return false;
	if (!env.c.pid)
		return true;
	if (r->key.kind == TOP_PROCESS)
		return r->key.id == (__u32)env.c.pid;
	for (i = 0; i < t->nr; i++) {
		const struct row *p = &t->rows[i];
		__u32 cont = r->key.kind == TOP_CONTAINER ? r->key.id : r->v.container;

		if (p->key.kind == TOP_PROCESS && p->key.id == (__u32)env.c.pid &&
		    cont && p->v.container == cont)
			return true;
	}
	return false;
}

static double sort_value(const struct row *r)
{
	switch (env.sort) {
	case SORT_OPS: return r->map_rate + r->unmap_rate;
	case SORT_BYTES: return r->mapb_rate + r->unmapb_rate;
	case SORT_MAPPED: return r->v.mapped_bytes;
	case SORT_PINNED: return r->v.pinned_pages;
	case SORT_ERRORS: return r->v.errors;
	case SORT_MAPS: return r->v.map_ops;
	case SORT_ID: break;
	}
	return 0;
}

static int row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;
	double vx, vy;

	if (env.sort != SORT_ID) {
		vx = sort_value(x);
		vy = sort_value(y);
		if (vx != vy)
			return vx > vy ? -1 : 1;
	}
	return x->key.id < y->key.id ? -1 : x->key.id > y->key.id;
}

/* The rows of one kind, sorted for display (a copy: cur stays by key). */
static size_t select_rows(const struct table *t, __u32 kind, struct row *out)
{
	size_t i, n = 0;

	for (i = 0; i < t->nr; i++)
		if (t->rows[i].key.kind == kind && row_wanted(t, &t->rows[i]))
			out[n++] = t->rows[i];
	qsort(out, n, sizeof(*out), row_cmp);
	return n;
}

/* 1536 -> "1.5K": short columns for people; JSON has the exact numbers. */
static const char *human(double v, char *buf, size_t len)
{
	static const char units[] = " KMGTP";
	int u = 0;

	while ((v >= 1024 || v <= -1024) && u < 5) {
		v /= 1024;
		u++;
	}
	if (!u)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.1f%c", v, units[u]);
	return buf;
}

static const char *count_str(long long v, char *buf, size_t len)
{
	snprintf(buf, len, "%lld", v);
	return buf;
}

static void print_text(struct row *sel, const struct table *t, enum vfio_attach_mode mode,
		       const __u64 *lost, __u64 skipped)
{
	size_t np, nc, ng, i;
	char b[6][16];

	if (!env.batch)
		printf("\033[H\033[2J");
	if (env.c.timestamp)
		print_timestamp(stdout);
	nc = select_rows(t, TOP_CONTAINER, sel);
	ng = select_rows(t, TOP_GROUP, sel);
	np = select_rows(t, TOP_PROCESS, sel);	/* the first table: sel holds it */
	printf("vfio-top: %zu processes, %zu containers, %zu groups; attach %s; ",
	       np, nc, ng, attach_mode_name(mode));
	lost_print(stdout, lost, skipped);
	unseen_report_text(stdout, env.c.pid);

	printf("\n%7s %-16s %8s %8s %8s %8s %8s %8s %8s %8s %5s %5s\n", "PID", "COMM",
	       "MAPS", "UNMAPS", "MAP/s", "UNMAP/s", "MAPB/s", "UNMAPB/s",
	       "MAPPED", "PINNED", "ERRS", "CONT");
	for (i = 0; i < np && i < (size_t)env.rows; i++) {
		const struct row *r = &sel[i];

		printf("%7u %-16.16s %8llu %8llu %8.1f %8.1f %8s %8s %8s %8s %5llu %5u%s\n",
		       r->key.id, r->v.comm, (unsigned long long)r->v.map_ops,
		       (unsigned long long)r->v.unmap_ops, r->map_rate, r->unmap_rate,
		       human(r->mapb_rate, b[0], sizeof(b[0])),
		       human(r->unmapb_rate, b[1], sizeof(b[1])),
		       r->v.missing & DMA_MISSING_MAPPED ? "-" :
		       human(r->v.mapped_bytes, b[2], sizeof(b[2])),
		       r->v.missing & DMA_MISSING_PINNED ? "-" :
		       count_str(r->v.pinned_pages, b[3], sizeof(b[3])),
		       (unsigned long long)r->v.errors,
		       r->v.container, r->gone ? " (exited)" : "");
	}

	nc = select_rows(t, TOP_CONTAINER, sel);
	printf("\n%9s %8s %8s %8s %8s %8s %8s %8s %8s %7s %8s %5s\n", "CONTAINER",
	       "MAPS", "UNMAPS", "MAP/s", "UNMAP/s", "MAPB/s", "UNMAPB/s", "MAPPED",
	       "PINNED", "ENTRIES", "EXTUSERS", "ERRS");
	for (i = 0; i < nc && i < (size_t)env.rows; i++) {
		const struct row *r = &sel[i];

		printf("%9u %8llu %8llu %8.1f %8.1f %8s %8s %8s %8s %7lld %8lld %5llu%s\n",
		       r->key.id, (unsigned long long)r->v.map_ops,
		       (unsigned long long)r->v.unmap_ops, r->map_rate, r->unmap_rate,
		       human(r->mapb_rate, b[0], sizeof(b[0])),
		       human(r->unmapb_rate, b[1], sizeof(b[1])),
		       r->v.missing & DMA_MISSING_MAPPED ? "-" :
		       human(r->v.mapped_bytes, b[2], sizeof(b[2])),
		       r->v.missing & DMA_MISSING_PINNED ? "-" :
		       count_str(r->v.pinned_pages, b[3], sizeof(b[3])),
		       (long long)r->v.entries,
		       (long long)r->v.ext_users, (unsigned long long)r->v.errors,
		       r->gone ? " (released)" : "");
	}

	ng = select_rows(t, TOP_GROUP, sel);
	printf("\n%9s %9s %8s %5s %s\n", "GROUP", "CONTAINER", "EXTUSERS", "ERRS", "FD");
	for (i = 0; i < ng && i < (size_t)env.rows; i++) {
		const struct row *r = &sel[i];

		printf("%9u %9u %8lld %5llu %s\n", r->key.id, r->v.container,
		       (long long)r->v.ext_users, (unsigned long long)r->v.errors,
		       r->v.released ? "closed" : "open");
	}
	fflush(stdout);
}

static void json_counters(struct json *j, const struct row *r)
{
	json_u64(j, "maps", r->v.map_ops);
	json_u64(j, "unmaps", r->v.unmap_ops);
	json_u64(j, "map_bytes", r->v.map_bytes);
	json_u64(j, "unmap_bytes", r->v.unmap_bytes);
	json_double(j, "maps_per_s", r->map_rate);
	json_double(j, "unmaps_per_s", r->unmap_rate);
	json_double(j, "map_bytes_per_s", r->mapb_rate);
	json_double(j, "unmap_bytes_per_s", r->unmapb_rate);
	/* A level the events could not give is left out, never a wrong 0. */
	if (!(r->v.missing & DMA_MISSING_MAPPED))
		json_s64(j, "mapped_bytes", r->v.mapped_bytes);
	if (!(r->v.missing & DMA_MISSING_PINNED))
		json_s64(j, "pinned_pages", r->v.pinned_pages);
	json_u64(j, "errors", r->v.errors);
}

static void print_json(struct row *sel, const struct table *t, enum vfio_attach_mode mode,
		       const __u64 *lost, __u64 skipped, double secs)
{
	struct json j;
	size_t n, i;

	json_init(&j, stdout);
	json_obj_open(&j, NULL);
	json_u64(&j, "time", (__u64)time(NULL));
	json_str(&j, "attach", attach_mode_name(mode));
	json_double(&j, "interval_s", secs);

	n = select_rows(t, TOP_PROCESS, sel);
	json_arr_open(&j, "processes");
	for (i = 0; i < n && i < (size_t)env.rows; i++) {
		json_obj_open(&j, NULL);
		json_u64(&j, "pid", sel[i].key.id);
		json_str(&j, "comm", sel[i].v.comm);
		json_counters(&j, &sel[i]);
		json_u64(&j, "container", sel[i].v.container);
		json_bool(&j, "exited", sel[i].gone);
		json_obj_close(&j);
	}
	json_arr_close(&j);

	n = select_rows(t, TOP_CONTAINER, sel);
	json_arr_open(&j, "containers");
	for (i = 0; i < n && i < (size_t)env.rows; i++) {
		json_obj_open(&j, NULL);
		json_u64(&j, "container", sel[i].key.id);
		json_counters(&j, &sel[i]);
		json_s64(&j, "entries", sel[i].v.entries);
		json_s64(&j, "external_users", sel[i].v.ext_users);
		json_bool(&j, "released", sel[i].gone);
		json_obj_close(&j);
	}
	json_arr_close(&j);

	n = select_rows(t, TOP_GROUP, sel);
	json_arr_open(&j, "groups");
	for (i = 0; i < n && i < (size_t)env.rows; i++) {
		json_obj_open(&j, NULL);
		json_u64(&j, "group", sel[i].key.id);
		json_u64(&j, "container", sel[i].v.container);
		json_s64(&j, "external_users", sel[i].v.ext_users);
		json_u64(&j, "errors", sel[i].v.errors);
		json_bool(&j, "fd_open", !sel[i].v.released);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	unseen_report_json(&j, env.c.pid);
	lost_json(&j, lost, skipped);
	json_obj_close(&j);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* How long a shared collector keeps process rows for us without news from us. */
static uint64_t process_rows_keep_ns(void)
{
	long secs = env.c.interval ? 3 * env.c.interval : 24 * 3600;

	return (secs < 10 ? 10 : secs) * 1000000000ULL;
}

static int collector_start(struct collector **c);
static int read_base(struct collector *c);

/*
 * The shared collector stopped (its exporter exited or restarted): its
 * maps would show only what was.  Say so and start over on the next one,
 * or on our own; counts restart from there.
 */
static int collector_switch(struct collector **c, struct table *prev)
{
	pid_t owner = (*c)->owner;
	int err;

	collector_free(*c);
	*c = NULL;
	base.nr = 0;
	prev->nr = 0;
	err = collector_start(c);
	if (err)
		return err;
	if ((*c)->shared)
		fprintf(stderr, "%s: the collector of pid %d stopped; reading that of pid %d, counting from here\n",
			TOOL, owner, (*c)->owner);
	else
		fprintf(stderr, "%s: the collector of pid %d stopped; on our own programs, counting from here\n",
			TOOL, owner);
	return read_base(*c);
}

static int report(struct collector **cp, struct table *cur, struct table *prev, double *last)
{
	double now = now_s(), secs = now - *last;
	__u64 lost[LOST_NR_REASONS], skipped = 0;
	struct collector *c;
	struct table tmp;
	struct row *sel;
	int err;

	if (!collector_alive(*cp)) {
		err = collector_switch(cp, prev);
		if (err)
			return err;
	}
	c = *cp;
	err = read_rows(c, cur, prev, secs);
	if (!err)
		err = lost_read(c->lost_fd, lost);
	if (!err)
		err = collector_skipped_runs(c, &skipped);
	if (!err && c->shared)
		err = collector_want_processes(c, process_rows_keep_ns());
	if (err) {
		fprintf(stderr, "%s: failed to read the collector's maps: %s\n", TOOL, strerror(-err));
		return err;
	}
	sel = calloc(cur->nr + 1, sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	if (env.c.json)
		print_json(sel, cur, c->mode, lost, skipped, secs);
	else
		print_text(sel, cur, c->mode, lost, skipped);
	free(sel);
	*last = now;
	tmp = *prev;
	*prev = *cur;
	*cur = tmp;
	return 0;
}

/*
 * The host's collector if one runs (unless --attach forces a mode), else
 * our own, the same programs.
 */
static int collector_start(struct collector **c)
{
	int err;

	if (!env.c.attach) {
		err = collector_open_shared(c);
		if (!err) {
			if (env.c.verbose)
				collector_say_reading(*c, TOOL);
			return collector_want_processes(*c, process_rows_keep_ns());
		}
		if (err != -ENOENT)
			fprintf(stderr, "%s: cannot read the running collector (%s): loading our own\n",
				TOOL, strerror(-err));
	}
	err = collector_load(c, &env.c, TOOL);
	if (err)
		return err;
	return collector_want_processes(*c, UINT64_MAX);
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_opt, .doc = doc };
	struct table cur = {}, prev = {};
	struct collector *c = NULL;
	long reports = 0;
	double last;
	int err;

	/* A bad flag exits 64 (EX_USAGE) in there; an error returned is argp's own. */
	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return 1;
	common_set_libbpf_print(&env.c);

	err = collector_start(&c);
	if (err)
		goto cleanup;
	/* What was counted before we started is not ours to show. */
	err = read_base(c);
	if (err) {
		fprintf(stderr, "%s: failed to read the collector's maps: %s\n", TOOL, strerror(-err));
		goto cleanup;
	}
	common_setup_signals();
	/* Not over the live screen; scripts wait for it to know we are attached. */
	if (env.batch || env.c.json)
		fprintf(stderr, "Tracing VFIO activity (%s)... Ctrl-C to end.\n",
			attach_mode_name(c->mode));
	unseen_report_text(stderr, env.c.pid);
	last = now_s();

	for (;;) {
		bool more = common_wait_interval(&env.c);

		err = report(&c, &cur, &prev, &last);
		if (err || !more || (env.c.count && ++reports >= env.c.count))
			break;
	}

cleanup:
	free(cur.rows);
	free(prev.rows);
	free(base.rows);
	collector_free(c);
	return err ? 1 : 0;
}
