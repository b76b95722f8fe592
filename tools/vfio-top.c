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

#include "common.h"
#include "json.h"
#include "levels.h"
#include "process.h"
#include "vfio-top.skel.h"
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

const char *argp_program_version = "vfio-top (vfioscope)";
static const char doc[] =
"Show VFIO DMA activity per process, container and group, like top.\n"
"\n"
"USAGE: vfio-top [-h] [-p PID] [-s SORT] [-r ROWS] [-b] [-T] [-j] [-v]\n"
"                [interval] [count]\n"
"\n"
"MAPS/UNMAPS count operations since the tool started; /s columns are rates\n"
"over the last interval (default 1 s).  A process's MAPPED and PINNED are\n"
"what it mapped and pinned minus what it unmapped since the tool started;\n"
"a container's are what it holds now (\"-\": mapped before the tool met it,\n"
"unknown).  Containers also show their DMA entries and external\n"
"users, groups their container and external users.  A process or\n"
"container that is gone is shown once more, then dropped.\n"
"Sort keys: ops (map+unmap per second), bytes, mapped, pinned, errors,\n"
"maps (cumulative), id.\n"
"\n"
"EXAMPLES:\n"
"    vfio-top              # refresh every second\n"
"    vfio-top -s mapped    # biggest mappers first\n"
"    vfio-top -b 5 3       # three plain-text reports, 5 s apart\n"
"    vfio-top -j -r 5      # JSON lines, top 5 rows per table\n"
"    vfio-top -p 1234      # one process\n";

static const struct argp_option opts[] = {
	COMMON_OPTIONS,
	{ "sort", 's', "SORT", 0, "Sort rows by ops, bytes, mapped, pinned, errors, maps or id", 0 },
	{ "rows", 'r', "ROWS", 0, "At most ROWS rows per table (default 20)", 0 },
	{ "batch", 'b', NULL, 0, "Plain text, no screen control", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, "Show the full help", 0 },
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
	case 'h':
		argp_state_help(state, stderr, ARGP_HELP_STD_HELP);
		break;
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

struct row {
	struct top_key key;
	struct top_value v;
	double map_rate, unmap_rate, mapb_rate, unmapb_rate;
	int gone;		/* process exited, container released; 2: drop */
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

static __u64 delta(__u64 cur, __u64 prev)
{
	/* A row reset in between (a container id reused) starts again. */
	return cur >= prev ? cur - prev : cur;
}

/*
 * A container's pinned pages and entries are its newest operation's
 * (tools/lib/levels.c), which BPF keeps per CPU ordered by seq.
 */
static void read_levels(int levels_fd, struct row *r)
{
	struct dma_level l;

	if (dma_level_read(levels_fd, r->key.id, &l))
		return;		/* no operation yet: nothing pinned */
	r->v.pinned_pages = l.pinned;
	r->v.entries = l.entries;
	r->v.missing |= l.missing & DMA_MISSING_PINNED;
}

/*
 * Read every row; rows already shown as gone are deleted from the map,
 * so each exited process and released container is reported once.
 */
static int read_rows(int fd, int levels_fd, struct table *cur,
		     const struct table *prev, double secs)
{
	struct top_key key, next, *k = NULL;
	size_t cap = 0, i, n;
	int err;

	cur->nr = 0;
	while (!(err = bpf_map_get_next_key(fd, k, &next))) {
		struct row r = { .key = next }, *p;

		k = &key;
		key = next;
		if (bpf_map_lookup_elem(fd, &key, &r.v))
			continue;	/* deleted meanwhile */
		r.gone = key.kind == TOP_PROCESS ? !process_is(key.id, key.start) :
			 key.kind == TOP_CONTAINER ? r.v.released : false;
		if (key.kind == TOP_CONTAINER && !r.v.released)
			read_levels(levels_fd, &r);
		/* A process's pinned pages are a sum like its mapped bytes. */
		if (key.kind == TOP_PROCESS && (r.v.missing & DMA_MISSING_MAPPED))
			r.v.missing |= DMA_MISSING_PINNED;
		p = prev->nr ? bsearch(&key, prev->rows, prev->nr, sizeof(*p), key_cmp) : NULL;
		if (p && p->gone && r.gone) {
			/* Deleted after the walk: a deleted key restarts it. */
			r.gone = 2;
			goto append;
		}
		if (secs > 0) {
			r.map_rate = delta(r.v.map_ops, p ? p->v.map_ops : 0) / secs;
			r.unmap_rate = delta(r.v.unmap_ops, p ? p->v.unmap_ops : 0) / secs;
			r.mapb_rate = delta(r.v.map_bytes, p ? p->v.map_bytes : 0) / secs;
			r.unmapb_rate = delta(r.v.unmap_bytes, p ? p->v.unmap_bytes : 0) / secs;
		}
append:
		if (cur->nr == cap) {
			struct row *n;

			cap = cap ? cap * 2 : 64;
			n = realloc(cur->rows, cap * sizeof(*n));
			if (!n)
				return -ENOMEM;
			cur->rows = n;
		}
		cur->rows[cur->nr++] = r;
	}
	if (err && errno != ENOENT)
		return -errno;
	for (i = 0, n = 0; i < cur->nr; i++) {
		if (cur->rows[i].gone == 2)
			bpf_map_delete_elem(fd, &cur->rows[i].key);
		else
			cur->rows[n++] = cur->rows[i];
	}
	cur->nr = n;
	qsort(cur->rows, cur->nr, sizeof(*cur->rows), key_cmp);
	return 0;
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
		if (t->rows[i].key.kind == kind)
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
		       const __u64 *lost)
{
	size_t np, nc, ng, i;
	char b[6][16];

	np = select_rows(t, TOP_PROCESS, sel);
	if (!env.batch)
		printf("\033[H\033[2J");
	if (env.c.timestamp)
		print_timestamp(stdout);
	nc = 0;
	ng = 0;
	for (i = 0; i < t->nr; i++) {
		nc += t->rows[i].key.kind == TOP_CONTAINER;
		ng += t->rows[i].key.kind == TOP_GROUP;
	}
	printf("vfio-top: %zu processes, %zu containers, %zu groups; attach %s; ",
	       np, nc, ng, attach_mode_name(mode));
	lost_print(stdout, lost);

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
		       const __u64 *lost, double secs)
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
	lost_json(&j, lost);
	json_obj_close(&j);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int report(struct vfio_top *skel, struct table *cur, struct table *prev,
		  enum vfio_attach_mode mode, double *last)
{
	double now = now_s(), secs = now - *last;
	__u64 lost[LOST_NR_REASONS];
	struct table tmp;
	struct row *sel;
	int err;

	err = read_rows(bpf_map__fd(skel->maps.rows),
			bpf_map__fd(skel->maps.dma_levels), cur, prev, secs);
	if (!err)
		err = lost_read(bpf_map__fd(skel->maps.lost), lost);
	if (err) {
		fprintf(stderr, "%s: failed to read the BPF maps: %s\n", TOOL, strerror(-err));
		return err;
	}
	sel = calloc(cur->nr + 1, sizeof(*sel));
	if (!sel)
		return -ENOMEM;
	if (env.c.json)
		print_json(sel, cur, mode, lost, secs);
	else
		print_text(sel, cur, mode, lost);
	free(sel);
	*last = now;
	tmp = *prev;
	*prev = *cur;
	*cur = tmp;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct argp argp = { .options = opts, .parser = parse_opt, .doc = doc };
	struct table cur = {}, prev = {};
	struct vfio_top *skel;
	long reports = 0;
	double last;
	int err, mode;

	err = argp_parse(&argp, argc, argv, 0, NULL, NULL);
	if (err)
		return err;
	common_set_libbpf_print(&env.c);

	skel = vfio_top__open();
	if (!skel) {
		fprintf(stderr, "%s: failed to open the BPF skeleton: %s\n", TOOL, strerror(errno));
		return 1;
	}
	mode = common_choose_attach(skel->obj, &env.c, TOOL);
	if (mode < 0) {
		err = mode;
		goto cleanup;
	}
	skel->rodata->filter_pid = env.c.pid;
	if (mode == ATTACH_FENTRY) {
		skel->rodata->targ_dma_entry_limit = attach_intree_dma_entry_limit();
	}
	err = vfio_top__load(skel);
	if (err) {
		fprintf(stderr, "%s: failed to load the BPF programs: %s\n", TOOL, strerror(-err));
		goto cleanup;
	}
	err = vfio_top__attach(skel);
	if (err) {
		fprintf(stderr, "%s: failed to attach the BPF programs: %s\n", TOOL, strerror(-err));
		goto cleanup;
	}
	common_setup_signals();
	/* Not over the live screen; scripts wait for it to know we are attached. */
	if (env.batch || env.c.json)
		fprintf(stderr, "Tracing VFIO activity (%s)... Ctrl-C to end.\n",
			attach_mode_name(mode));
	last = now_s();

	for (;;) {
		bool more = common_wait_interval(&env.c);

		err = report(skel, &cur, &prev, mode, &last);
		if (err || !more || (env.c.count && ++reports >= env.c.count))
			break;
	}

cleanup:
	free(cur.rows);
	free(prev.rows);
	vfio_top__destroy(skel);
	return err ? 1 : 0;
}
