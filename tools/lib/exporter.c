// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include <bpf/bpf.h>

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
	ex->rt = reftrack__new(opts->max_refs ? opts->max_refs : 65536);
	if (!ex->rt) {
		free(ex);
		return NULL;
	}
	snprintf(ex->kernel, sizeof(ex->kernel), "%s", uname(&u) ? "unknown" : u.release);
	return ex;
}

void exporter__free(struct exporter *ex)
{
	if (!ex)
		return;
	reftrack__free(ex->rt);
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

struct crow {
	__u32 id;
	struct exp_container v;
};

static int cmp_crow(const void *a, const void *b)
{
	const struct crow *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* Live containers, by id; released ones are deleted from the map. */
static int read_containers(struct exporter *ex, struct crow **out, size_t *nr)
{
	int fd = ex->o.containers_fd;
	struct crow *rows = NULL, *n;
	size_t cap = 0, cnt = 0, i;
	__u32 key, next, *gone = NULL;
	size_t nr_gone = 0;
	bool first = true;
	int err = 0;

	while (!bpf_map_get_next_key(fd, first ? NULL : &key, &next)) {
		first = false;
		key = next;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			n = realloc(rows, cap * sizeof(*rows));
			if (!n) {
				err = -ENOMEM;
				goto out;
			}
			rows = n;
		}
		if (bpf_map_lookup_elem(fd, &key, &rows[cnt].v))
			continue;	/* deleted meanwhile */
		rows[cnt].id = key;
		cnt++;
	}
	gone = calloc(cnt ? cnt : 1, sizeof(*gone));
	if (!gone) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < cnt; ) {
		if (rows[i].v.released) {
			gone[nr_gone++] = rows[i].id;
			rows[i] = rows[--cnt];
		} else {
			i++;
		}
	}
	/*
	 * After the walk, not during it (a delete would restart it).  A
	 * container reopened under the same id since the lookup loses its
	 * first events: vfio_container_open resets the row anyway, so at
	 * most what it did between the lookup and here.
	 */
	for (i = 0; i < nr_gone; i++)
		bpf_map_delete_elem(fd, &gone[i]);
	qsort(rows, cnt, sizeof(*rows), cmp_crow);
out:
	free(gone);
	if (err) {
		free(rows);
		return err;
	}
	*out = rows;
	*nr = cnt;
	return 0;
}

static void render_containers(struct strbuf *b, const struct crow *rows, size_t nr)
{
	size_t i, op, e;

	family(b, "vfioscope_dma_operations_total", "counter",
	       "VFIO DMA map and unmap operations by container and outcome (ok or the errno name).");
	for (i = 0; i < nr; i++) {
		for (op = 0; op < EXP_NR_OPS; op++) {
			const struct exp_container *c = &rows[i].v;
			__u64 other = c->errors[op][0];

			strbuf_printf(b, "vfioscope_dma_operations_total{op=\"%s\",container=\"%u\",result=\"ok\"} %llu\n",
				      op_names[op], rows[i].id, (unsigned long long)c->ops[op]);
			for (e = 1; e < EXP_NR_ERRNO; e++) {
				if (!c->errors[op][e])
					continue;
				if (!errno_names[e]) {
					other += c->errors[op][e];
					continue;
				}
				strbuf_printf(b, "vfioscope_dma_operations_total{op=\"%s\",container=\"%u\",result=\"%s\"} %llu\n",
					      op_names[op], rows[i].id, errno_names[e],
					      (unsigned long long)c->errors[op][e]);
			}
			if (other)
				strbuf_printf(b, "vfioscope_dma_operations_total{op=\"%s\",container=\"%u\",result=\"error\"} %llu\n",
					      op_names[op], rows[i].id, (unsigned long long)other);
		}
	}
	family(b, "vfioscope_dma_bytes_total", "counter",
	       "Bytes mapped by successful maps, or unmapped by successful unmaps and container teardowns.");
	for (i = 0; i < nr; i++)
		for (op = 0; op < EXP_NR_OPS; op++)
			strbuf_printf(b, "vfioscope_dma_bytes_total{op=\"%s\",container=\"%u\"} %llu\n",
				      op_names[op], rows[i].id,
				      (unsigned long long)rows[i].v.bytes[op]);
	family(b, "vfioscope_dma_mapped_bytes", "gauge",
	       "Bytes currently mapped in the container (maps minus unmaps the exporter saw).");
	for (i = 0; i < nr; i++)
		strbuf_printf(b, "vfioscope_dma_mapped_bytes{container=\"%u\"} %lld\n", rows[i].id,
			      rows[i].v.mapped_bytes > 0 ? (long long)rows[i].v.mapped_bytes : 0LL);
	family(b, "vfioscope_dma_pinned_pages", "gauge",
	       "Pages currently pinned by the container.");
	for (i = 0; i < nr; i++)
		strbuf_printf(b, "vfioscope_dma_pinned_pages{container=\"%u\"} %llu\n", rows[i].id,
			      (unsigned long long)rows[i].v.pinned_pages);
	family(b, "vfioscope_dma_entries", "gauge",
	       "DMA mappings currently in the container.");
	for (i = 0; i < nr; i++)
		strbuf_printf(b, "vfioscope_dma_entries{container=\"%u\"} %llu\n", rows[i].id,
			      (unsigned long long)rows[i].v.entries);
}

static int render_hists(struct exporter *ex, struct strbuf *b)
{
	int cpus = common_nr_cpus(), cpu, k;
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
		if (bpf_map_lookup_elem(ex->o.hists_fd, &op, vals)) {
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
	       "References the exporter saw taken, not yet dropped, held longer than --stale-after.");
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
	return 0;
}

static void render_lost(struct strbuf *b, const __u64 *n)
{
	static const char *const names[LOST_NR_REASONS] = {
		[LOST_RINGBUF] = "ringbuf", [LOST_MAP_FULL] = "map_full", [LOST_STACK] = "stack",
	};
	int i;

	family(b, "vfioscope_lost_events_total", "counter",
	       "Events the BPF side could not record; any increase means the other numbers undercount.");
	for (i = 0; i < LOST_NR_REASONS; i++)
		strbuf_printf(b, "vfioscope_lost_events_total{reason=\"%s\"} %llu\n", names[i],
			      (unsigned long long)n[i]);
}

int exporter__render(struct exporter *ex, struct strbuf *b, uint64_t now_ns)
{
	const char *attach = ex->o.mode == ATTACH_NONE ? "none" : attach_mode_name(ex->o.mode);
	__u64 lost[LOST_NR_REASONS];
	struct crow *rows = NULL;
	char secs[32];
	size_t nr = 0;
	int err;

	strbuf_reset(b);
	ex->scrapes++;
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
	/* --no-attach: nothing more is known. */
	if (ex->o.mode == ATTACH_NONE)
		return b->failed ? -ENOMEM : 0;

	err = read_containers(ex, &rows, &nr);
	if (err)
		return err;
	render_containers(b, rows, nr);
	free(rows);
	err = render_hists(ex, b);
	if (err)
		return err;
	/* Debian's in-tree VFIO has no reference events: nothing to say there. */
	if (ex->o.mode != ATTACH_FENTRY) {
		err = render_refs(ex, b, now_ns);
		if (err)
			return err;
	}
	err = lost_read(ex->o.lost_fd, lost);
	if (err)
		return err;
	render_lost(b, lost);
	return b->failed ? -ENOMEM : 0;
}
