// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <bpf/bpf.h>

#include "collector.h"
#include "common.h"
#include "exporter.h"

/* ---- strbuf ---------------------------------------------------------------- */

void strbuf_reset(struct strbuf *b)
{
	b->len = 0;
	b->failed = false;
	if (b->buf)
		b->buf[0] = '\0';
}

void strbuf_free(struct strbuf *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

void strbuf_printf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->buf ? b->buf + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if ((size_t)n < room) {
			b->len += n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 16384;
		char *nb;

		while (cap - b->len <= (size_t)n)
			cap *= 2;
		nb = realloc(b->buf, cap);
		if (!nb) {
			b->failed = true;
			return;
		}
		b->buf = nb;
		b->cap = cap;
	}
}

/* ---- the model ------------------------------------------------------------- */

struct exporter *exporter__new(const struct exporter_opts *opts)
{
	struct exporter *ex = calloc(1, sizeof(*ex));
	struct utsname u;

	if (!ex)
		return NULL;
	ex->o = *opts;
	ex->mode = opts->coll ? opts->coll->mode : ATTACH_NONE;
	ex->rt = reftrack__new(opts->max_refs ? opts->max_refs : 65536);
	if (!ex->rt) {
		free(ex);
		return NULL;
	}
	snprintf(ex->kernel, sizeof(ex->kernel), "%s", uname(&u) ? "unknown" : u.release);
	/* Known from the first scrape on; then once a second (exporter__collect). */
	unseen_update(&ex->unseen, 0);
	return ex;
}

void exporter__free(struct exporter *ex)
{
	if (!ex)
		return;
	free(ex->slots);
	reftrack__free(ex->rt);
	unseen_free(&ex->unseen);
	free(ex);
}

int exporter__event(void *ctx, void *data, size_t size)
{
	struct exporter *ex = ctx;

	if (size >= sizeof(struct leak_event))
		reftrack__event(ex->rt, data);
	return 0;
}

char *exporter__fmt_seconds(char *buf, size_t len, uint64_t ns)
{
	int n = snprintf(buf, len, "%llu.%09llu", (unsigned long long)(ns / 1000000000ULL),
			 (unsigned long long)(ns % 1000000000ULL));

	/* Trailing zeros say nothing: 1.500000000 is 1.5, 2.000000000 is 2. */
	while (n > 0 && (size_t)n < len && buf[n - 1] == '0')
		buf[--n] = '\0';
	if (n > 0 && (size_t)n < len && buf[n - 1] == '.')
		buf[--n] = '\0';
	return buf;
}

/* The errnos VFIO's ioctls return; anything else is "error" (bounded labels). */
static const char *const errno_names[EXP_NR_ERRNO] = {
	[EPERM] = "EPERM", [ENOENT] = "ENOENT", [EINTR] = "EINTR", [EIO] = "EIO",
	[E2BIG] = "E2BIG", [EBADF] = "EBADF", [EAGAIN] = "EAGAIN",
	[ENOMEM] = "ENOMEM", [EACCES] = "EACCES", [EFAULT] = "EFAULT",
	[EBUSY] = "EBUSY", [EEXIST] = "EEXIST", [ENODEV] = "ENODEV",
	[EINVAL] = "EINVAL", [ENOTTY] = "ENOTTY", [ENOSPC] = "ENOSPC",
	[ERANGE] = "ERANGE",
};

const char *exporter__result_name(int err)
{
	if (!err)
		return "ok";
	if (err < 0 && -err < EXP_NR_ERRNO && errno_names[-err])
		return errno_names[-err];
	return "error";
}

/* ---- rendering ------------------------------------------------------------- */

static const char *const op_names[EXP_NR_OPS] = { "map", "unmap" };

static void family(struct strbuf *b, const char *name, const char *type, const char *help)
{
	strbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A label value: backslash, double quote and newline escaped (format 0.0.4). */
static void label_value(struct strbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			strbuf_printf(b, "\\\\");
		else if (*s == '"')
			strbuf_printf(b, "\\\"");
		else if (*s == '\n')
			strbuf_printf(b, "\\n");
		else
			strbuf_printf(b, "%c", *s);
	}
}

/*
 * One container id as a render serves it: its counters (cumulative -
 * base), and the levels of its live container (0 when released: nothing
 * is mapped any more).
 */
struct crow {
	__u32 id;
	struct exp_counters c;
	__s64 mapped;
	__u64 pinned;
	__u32 entries;
	__u32 missing;			/* DMA_MISSING_*: a level not served */
};

static void counters_add(struct exp_counters *to, const struct exp_counters *from)
{
	int op, e;

	for (op = 0; op < EXP_NR_OPS; op++) {
		to->ops[op] += from->ops[op];
		to->bytes[op] += from->bytes[op];
		for (e = 0; e < EXP_NR_ERRNO; e++)
			to->errors[op][e] += from->errors[op][e];
	}
}

/*
 * a - b.  The collector's counters only grow while it runs, so a
 * cumulative value is never below a base taken from it earlier; 0 if one
 * were, rather than a wrapped counter.
 */
static void counters_sub(struct exp_counters *to, const struct exp_counters *a,
			 const struct exp_counters *b)
{
	int op, e;

#define SUB(x, y) ((x) > (y) ? (x) - (y) : 0)
	for (op = 0; op < EXP_NR_OPS; op++) {
		to->ops[op] = SUB(a->ops[op], b->ops[op]);
		to->bytes[op] = SUB(a->bytes[op], b->bytes[op]);
		for (e = 0; e < EXP_NR_ERRNO; e++)
			to->errors[op][e] = SUB(a->errors[op][e], b->errors[op][e]);
	}
#undef SUB
}

static struct exp_slot *slot_find(struct exporter *ex, __u32 id)
{
	size_t lo = 0, hi = ex->nr_slots;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (ex->slots[mid].id == id)
			return &ex->slots[mid];
		if (ex->slots[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* The slot of id, made (base 0, not shown) if there is none; NULL: no memory. */
static struct exp_slot *slot_get(struct exporter *ex, __u32 id)
{
	struct exp_slot *s = slot_find(ex, id);
	size_t i;

	if (s)
		return s;
	if (ex->nr_slots == ex->cap_slots) {
		size_t cap = ex->cap_slots ? ex->cap_slots * 2 : 16;

		s = realloc(ex->slots, cap * sizeof(*s));
		if (!s)
			return NULL;
		ex->slots = s;
		ex->cap_slots = cap;
	}
	for (i = ex->nr_slots; i > 0 && ex->slots[i - 1].id > id; i--)
		ex->slots[i] = ex->slots[i - 1];
	memset(&ex->slots[i], 0, sizeof(ex->slots[i]));
	ex->slots[i].id = id;
	ex->nr_slots++;
	return &ex->slots[i];
}

static int cmp_container(const void *a, const void *b)
{
	const struct coll_container *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/*
 * Every id's cumulative counters: operations and bytes from its DMA
 * slots, errors from the collector's errors by (id, op, errno).  cs is
 * sorted by id.  An error of an id not in cs (its first event came
 * between the two reads) is left for the next read.
 */
static int read_cumulative(struct collector *coll, const struct coll_container *cs, size_t nr,
			   struct exp_counters *cum)
{
	struct coll_error *errs = NULL;
	size_t ne = 0, i;
	int op, err;

	for (i = 0; i < nr; i++) {
		for (op = 0; op < EXP_NR_OPS; op++) {
			cum[i].ops[op] = cs[i].ops[op];
			cum[i].bytes[op] = cs[i].bytes[op];
		}
	}
	err = collector_read_errors(coll, &errs, &ne);
	if (err)
		return err;
	for (i = 0; i < ne; i++) {
		const struct coll_err_key *k = &errs[i].key;
		struct coll_container key = { .id = k->id };
		const struct coll_container *c;

		c = nr ? bsearch(&key, cs, nr, sizeof(*cs), cmp_container) : NULL;
		if (!c || k->op >= EXP_NR_OPS || k->err >= EXP_NR_ERRNO)
			continue;
		cum[c - cs].errors[k->op][k->err] += errs[i].count;
	}
	free(errs);
	return 0;
}

/*
 * Whether the id's series are served at now_ns: its container is live,
 * or was released less than retain_ns ago (after the last release when
 * the id was reused meanwhile: the collector keeps the newest).
 */
static bool served(const struct exporter *ex, const struct coll_container *c, uint64_t now_ns)
{
	return c->live || now_ns < c->released_ns || now_ns - c->released_ns < ex->o.retain_ns;
}

/*
 * The ids served as of now_ns (rows, sorted by id, if rows is not NULL),
 * after moving the ids no longer served into container="released":
 * what such an id served (cumulative - base) goes into `gone`, and its
 * base catches up.  Nothing is written to the collector.
 *
 * The counters are read after the ids' lives: a container opened under a
 * hidden id between the reads could have its first operations moved
 * with its predecessors' (served as "released", not as the id's); no
 * count is lost, and sums stay exact.
 */
static int observe(struct exporter *ex, uint64_t now_ns, struct crow **rows, size_t *nr_rows)
{
	struct coll_container *cs = NULL;
	struct exp_counters *cum = NULL, moved;
	struct crow *out = NULL;
	size_t nr = 0, n = 0, i;
	struct exp_slot *s;
	int err;

	err = collector_read_containers(ex->o.coll, &cs, &nr);
	if (err)
		return err;
	qsort(cs, nr, sizeof(*cs), cmp_container);
	cum = calloc(nr ? nr : 1, sizeof(*cum));
	if (rows)
		out = calloc(nr ? nr : 1, sizeof(*out));
	if (!cum || (rows && !out)) {
		err = -ENOMEM;
		goto done;
	}
	err = read_cumulative(ex->o.coll, cs, nr, cum);
	if (err)
		goto done;
	for (i = 0; i < nr; i++) {
		s = slot_get(ex, cs[i].id);
		if (!s) {
			err = -ENOMEM;
			goto done;
		}
		if (served(ex, &cs[i], now_ns)) {
			s->shown = true;
			if (!out)
				continue;
			out[n].id = cs[i].id;
			counters_sub(&out[n].c, &cum[i], &s->base);
			/* The collector gives a released container's levels as 0. */
			out[n].mapped = cs[i].mapped;
			out[n].pinned = cs[i].pinned;
			out[n].entries = cs[i].entries;
			out[n].missing = cs[i].missing;
			n++;
			continue;
		}
		if (!s->shown && !memcmp(&cum[i], &s->base, sizeof(cum[i])))
			continue;
		counters_sub(&moved, &cum[i], &s->base);
		counters_add(&ex->gone, &moved);
		s->base = cum[i];
		s->shown = false;
		ex->any_gone = true;
	}
	if (rows) {
		*rows = out;
		*nr_rows = n;
		out = NULL;
	}
done:
	free(cs);
	free(cum);
	free(out);
	return err;
}

int exporter__collect(struct exporter *ex, uint64_t now_ns)
{
	/* Here, not at a scrape: a scrape has no side effects (docs/metrics.md). */
	unseen_update(&ex->unseen, 0);
	if (!ex->o.coll)
		return 0;
	return observe(ex, now_ns, NULL, NULL);
}

/*
 * Every via is served (0 included), so an absent series never reads as
 * none; when /proc could not be read the answer is unknown: none served.
 */
static void render_unseen(struct strbuf *b, const struct unseen *u)
{
	unsigned int bit;
	size_t i, n;

	family(b, "vfioscope_unseen_vfio_processes", "gauge",
	       "Processes using VFIO through a path vfioscope does not see (iommufd, the VFIO device cdev, iommufd's /dev/vfio/vfio).");
	if (u->err)
		return;
	for (bit = 1; bit < 1U << UNSEEN_NR_VIA; bit <<= 1) {
		for (i = n = 0; i < u->nr; i++)
			n += !!(u->procs[i].via & bit);
		strbuf_printf(b, "vfioscope_unseen_vfio_processes{via=\"%s\"} %zu\n",
			      unseen_via_name(bit), n);
	}
}

static void operations(struct strbuf *b, int op, const char *container, const struct exp_counters *c)
{
	__u64 other = c->errors[op][0];
	int e;

	strbuf_printf(b, "vfioscope_dma_operations_total{op=\"%s\",container=\"%s\",result=\"ok\"} %llu\n",
		      op_names[op], container, (unsigned long long)c->ops[op]);
	for (e = 1; e < EXP_NR_ERRNO; e++) {
		if (!c->errors[op][e])
			continue;
		if (!errno_names[e]) {
			other += c->errors[op][e];
			continue;
		}
		strbuf_printf(b, "vfioscope_dma_operations_total{op=\"%s\",container=\"%s\",result=\"%s\"} %llu\n",
			      op_names[op], container, errno_names[e],
			      (unsigned long long)c->errors[op][e]);
	}
	if (other)
		strbuf_printf(b, "vfioscope_dma_operations_total{op=\"%s\",container=\"%s\",result=\"error\"} %llu\n",
			      op_names[op], container, (unsigned long long)other);
}

static void render_containers(struct exporter *ex, struct strbuf *b, const struct crow *rows, size_t nr)
{
	char id[16];
	size_t i;
	int op;

	family(b, "vfioscope_dma_operations_total", "counter",
	       "VFIO DMA map and unmap operations by container and outcome (ok or the errno name).");
	for (i = 0; i < nr; i++) {
		snprintf(id, sizeof(id), "%u", rows[i].id);
		for (op = 0; op < EXP_NR_OPS; op++)
			operations(b, op, id, &rows[i].c);
	}
	if (ex->any_gone)
		for (op = 0; op < EXP_NR_OPS; op++)
			operations(b, op, "released", &ex->gone);
	family(b, "vfioscope_dma_bytes_total", "counter",
	       "Bytes mapped by successful maps, or unmapped by successful unmaps and container teardowns.");
	for (i = 0; i < nr; i++)
		for (op = 0; op < EXP_NR_OPS; op++)
			strbuf_printf(b, "vfioscope_dma_bytes_total{op=\"%s\",container=\"%u\"} %llu\n",
				      op_names[op], rows[i].id,
				      (unsigned long long)rows[i].c.bytes[op]);
	if (ex->any_gone)
		for (op = 0; op < EXP_NR_OPS; op++)
			strbuf_printf(b, "vfioscope_dma_bytes_total{op=\"%s\",container=\"released\"} %llu\n",
				      op_names[op], (unsigned long long)ex->gone.bytes[op]);
	/*
	 * A level the events could not give is left out, never shown as 0:
	 * bytes mapped before the collector met the container, pages pinned
	 * before it attached to the in-tree stack (docs/metrics.md).
	 */
	family(b, "vfioscope_dma_mapped_bytes", "gauge",
	       "Bytes currently mapped in the container (maps minus unmaps since its first mapping).");
	for (i = 0; i < nr; i++)
		if (!(rows[i].missing & DMA_MISSING_MAPPED))
			strbuf_printf(b, "vfioscope_dma_mapped_bytes{container=\"%u\"} %lld\n",
				      rows[i].id, (long long)rows[i].mapped);
	family(b, "vfioscope_dma_pinned_pages", "gauge",
	       "Pages currently pinned by the container.");
	for (i = 0; i < nr; i++)
		if (!(rows[i].missing & DMA_MISSING_PINNED))
			strbuf_printf(b, "vfioscope_dma_pinned_pages{container=\"%u\"} %llu\n",
				      rows[i].id, (unsigned long long)rows[i].pinned);
	family(b, "vfioscope_dma_entries", "gauge",
	       "DMA mappings currently in the container.");
	for (i = 0; i < nr; i++)
		strbuf_printf(b, "vfioscope_dma_entries{container=\"%u\"} %llu\n", rows[i].id,
			      (unsigned long long)rows[i].entries);
}

static int render_hists(struct exporter *ex, struct strbuf *b)
{
	int cpus = ex->o.coll->ncpus, cpu, k;
	struct exp_hist *vals, h;
	char le[32], sum[32];
	__u32 op;
	__u64 cum;

	if (cpus < 0)
		return cpus;
	vals = calloc(cpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	family(b, "vfioscope_dma_duration_seconds", "histogram",
	       "Time per successful VFIO DMA map or unmap (the events' total_ns).");
	for (op = 0; op < EXP_NR_OPS; op++) {
		if (bpf_map_lookup_elem(ex->o.coll->hists_fd, &op, vals)) {
			free(vals);
			return -errno;
		}
		memset(&h, 0, sizeof(h));
		for (cpu = 0; cpu < cpus; cpu++) {
			for (k = 0; k < HIST_NR_SLOTS; k++)
				h.slots[k] += vals[cpu].slots[k];
			h.sum_ns += vals[cpu].sum_ns;
		}
		/*
		 * The count is the slots' sum, not the count field: a CPU's
		 * value read while it is being updated could disagree, and
		 * +Inf must equal _count.
		 */
		cum = 0;
		for (k = 0; k < HIST_NR_SLOTS; k++) {
			cum += h.slots[k];
			if (k < EXP_LE_MIN_LOG2 || k > EXP_LE_MAX_LOG2)
				continue;
			strbuf_printf(b, "vfioscope_dma_duration_seconds_bucket{op=\"%s\",le=\"%s\"} %llu\n",
				      op_names[op],
				      exporter__fmt_seconds(le, sizeof(le), 1ULL << k),
				      (unsigned long long)cum);
		}
		strbuf_printf(b, "vfioscope_dma_duration_seconds_bucket{op=\"%s\",le=\"+Inf\"} %llu\n",
			      op_names[op], (unsigned long long)cum);
		strbuf_printf(b, "vfioscope_dma_duration_seconds_sum{op=\"%s\"} %s\n", op_names[op],
			      exporter__fmt_seconds(sum, sizeof(sum), h.sum_ns));
		strbuf_printf(b, "vfioscope_dma_duration_seconds_count{op=\"%s\"} %llu\n",
			      op_names[op], (unsigned long long)cum);
	}
	free(vals);
	return 0;
}

struct group_users {
	__u32 group;
	__u64 users;
};

static int cmp_group(const void *a, const void *b)
{
	const struct group_users *x = a, *y = b;

	return x->group < y->group ? -1 : x->group > y->group;
}

static struct group_users *group_add(struct group_users *g, size_t *nr, __u32 group)
{
	size_t i;

	for (i = 0; i < *nr; i++)
		if (g[i].group == group)
			return &g[i];
	g[*nr].group = group;
	g[*nr].users = 0;
	return &g[(*nr)++];
}

/*
 * External users by group: the outstanding external-user gets reftrack
 * holds (by container, each naming its group), for every group we know
 * that is not freed, 0 included.
 */
static int render_refs(struct exporter *ex, struct strbuf *b, uint64_t now_ns)
{
	static const struct { uint32_t kind; const char *name; } kinds[] = {
		{ VFIO_TRACE_OBJ_CONTAINER, "container" },
		{ VFIO_TRACE_OBJ_GROUP, "group" },
		{ VFIO_TRACE_OBJ_DEVICE, "device" },
		{ REF_KIND_EXTERNAL, "external_user" },
	};
	struct reftrack *rt = ex->rt;
	struct group_users *groups;
	size_t i, j, k, nr = 0, max = 0;

	family(b, "vfioscope_objects", "gauge",
	       "Live VFIO objects the exporter saw created and not freed.");
	for (k = 0; k < 3; k++)
		strbuf_printf(b, "vfioscope_objects{kind=\"%s\"} %zu\n", kinds[k].name,
			      reftrack__count_live(rt, kinds[k].kind));

	for (i = 0; i < rt->nr_objs; i++)
		max += rt->objs[i].kind == REF_KIND_EXTERNAL ? rt->objs[i].nr_held : 1;
	groups = calloc(max ? max : 1, sizeof(*groups));
	if (!groups)
		return -ENOMEM;
	for (i = 0; i < rt->nr_objs; i++) {
		const struct ref_obj *o = &rt->objs[i];

		if (o->kind == VFIO_TRACE_OBJ_GROUP && !o->freed)
			group_add(groups, &nr, o->id);
		if (o->kind != REF_KIND_EXTERNAL)
			continue;
		for (j = 0; j < o->nr_held; j++)
			group_add(groups, &nr, o->held[j].group)->users++;
	}
	qsort(groups, nr, sizeof(*groups), cmp_group);
	family(b, "vfioscope_external_users", "gauge",
	       "External users (in-kernel users such as KVM) holding the group.");
	for (i = 0; i < nr; i++)
		strbuf_printf(b, "vfioscope_external_users{group=\"%u\"} %llu\n", groups[i].group,
			      (unsigned long long)groups[i].users);
	free(groups);

	family(b, "vfioscope_stale_references", "gauge",
	       "References the exporter saw taken, not yet dropped, held for --stale-after seconds or more.");
	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		__u64 n = 0;

		for (i = 0; i < rt->nr_objs; i++) {
			const struct ref_obj *o = &rt->objs[i];

			if (o->kind != kinds[k].kind)
				continue;
			for (j = 0; j < o->nr_held; j++)
				n += now_ns >= o->held[j].ts &&
				     now_ns - o->held[j].ts >= ex->o.stale_after_ns;
		}
		strbuf_printf(b, "vfioscope_stale_references{kind=\"%s\"} %llu\n", kinds[k].name,
			      (unsigned long long)n);
	}

	/*
	 * When records were lost, the reference numbers above were mended
	 * with the kernel's own counts (tools/lib/reftrack.h): say how often,
	 * so that a mended number is never a silent one.
	 */
	family(b, "vfioscope_reference_corrections_total", "counter",
	       "Gets the exporter dropped because the kernel's counts showed them put "
	       "(reconciled), and of those, brought back by a later count (restored).");
	strbuf_printf(b, "vfioscope_reference_corrections_total{action=\"reconciled\"} %llu\n",
		      (unsigned long long)rt->reconciled);
	strbuf_printf(b, "vfioscope_reference_corrections_total{action=\"restored\"} %llu\n",
		      (unsigned long long)rt->restored);
	return 0;
}

static void render_lost(struct strbuf *b, const __u64 *n, __u64 skipped)
{
	int i;

	family(b, "vfioscope_lost_events_total", "counter",
	       "Events the BPF side could not record; any increase means the other numbers undercount.");
	for (i = 0; i < LOST_NR_REASONS; i++)
		strbuf_printf(b, "vfioscope_lost_events_total{reason=\"%s\"} %llu\n", lost_reason_name(i),
			      (unsigned long long)n[i]);
	strbuf_printf(b, "vfioscope_lost_events_total{reason=\"skipped\"} %llu\n",
		      (unsigned long long)skipped);
}

int exporter__render(struct exporter *ex, struct strbuf *b, uint64_t now_ns)
{
	const char *attach = ex->mode == ATTACH_NONE ? "none" : attach_mode_name(ex->mode);
	__u64 lost[LOST_NR_REASONS], skipped;
	struct crow *rows = NULL;
	char secs[32];
	size_t nr = 0;
	int err;

	strbuf_reset(b);
	family(b, "vfioscope_build_info", "gauge",
	       "The exporter's version, the running kernel and the attach mode; always 1.");
	strbuf_printf(b, "vfioscope_build_info{version=\"");
	label_value(b, ex->o.version ? ex->o.version : "unknown");
	strbuf_printf(b, "\",kernel=\"");
	label_value(b, ex->kernel);
	strbuf_printf(b, "\",attach=\"%s\"} 1\n", attach);
	family(b, "vfioscope_stale_after_seconds", "gauge",
	       "The age from which a held reference counts as stale (--stale-after).");
	strbuf_printf(b, "vfioscope_stale_after_seconds %s\n",
		      exporter__fmt_seconds(secs, sizeof(secs), ex->o.stale_after_ns));
	family(b, "vfioscope_retain_seconds", "gauge",
	       "How long a released container's series stay after its release (--retain).");
	strbuf_printf(b, "vfioscope_retain_seconds %s\n",
		      exporter__fmt_seconds(secs, sizeof(secs), ex->o.retain_ns));
	render_unseen(b, &ex->unseen);
	/* --no-attach: nothing more is known. */
	if (!ex->o.coll)
		return b->failed ? -ENOMEM : 0;

	err = observe(ex, now_ns, &rows, &nr);
	if (err)
		return err;
	render_containers(ex, b, rows, nr);
	free(rows);
	err = render_hists(ex, b);
	if (err)
		return err;
	/* Debian's in-tree VFIO has no reference events: nothing to say there. */
	if (ex->mode != ATTACH_FENTRY) {
		err = render_refs(ex, b, now_ns);
		if (err)
			return err;
	}
	err = lost_read(ex->o.coll->lost_fd, lost);
	if (!err)
		err = collector_skipped_runs(ex->o.coll, &skipped);
	if (err)
		return err;
	render_lost(b, lost, skipped);
	return b->failed ? -ENOMEM : 0;
}
