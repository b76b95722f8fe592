/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-exporter's metrics, without sockets: the state the daemon keeps
 * (what it read of the collector, bpf/vfio-collector.bpf.c through
 * tools/lib/collector.h, and a reftrack fed from its ring buffer) and the
 * function that renders it in the Prometheus text exposition format 0.0.4
 * into a buffer.  The names, types and labels are docs/metrics.md's.
 * tools/vfio-exporter.c serves the buffer; the host test
 * (tests/bpf/vfio_exporter_test.c) compares it with crafted events.
 */
#ifndef __EXPORTER_H
#define __EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reftrack.h"
#include "unseen.h"
#include "vfio_tools.h"

/* The smallest and largest `le` rendered, as 2^k ns: 1.024 us to 34.4 s. */
#define EXP_LE_MIN_LOG2	10
#define EXP_LE_MAX_LOG2	35

/* A growable text buffer; after an allocation failure `failed` stays set. */
struct strbuf {
	char *buf;
	size_t len, cap;
	bool failed;
};

void strbuf_reset(struct strbuf *b);
void strbuf_free(struct strbuf *b);
__attribute__((format(printf, 2, 3)))
void strbuf_printf(struct strbuf *b, const char *fmt, ...);

struct collector;

struct exporter_opts {
	/*
	 * Where the metrics come from, and its attach mode; NULL when nothing
	 * is attached (--no-attach: build info only).  Only read: any number
	 * of exporters can read one collector.
	 */
	struct collector *coll;
	uint64_t stale_after_ns;
	uint64_t retain_ns;		/* a released container's series stay this long */
	size_t max_refs;		/* outstanding gets remembered */
	const char *version;
};

/* What a container id's series count: operations, bytes, errors by errno. */
struct exp_counters {
	__u64 ops[EXP_NR_OPS];			/* successful operations (no teardown) */
	__u64 bytes[EXP_NR_OPS];		/* maps; unmaps and teardowns */
	__u64 errors[EXP_NR_OPS][EXP_NR_ERRNO];	/* [0]: an errno without a name */
};

/*
 * A container id as served.  The collector counts per id since it
 * started, over every container that had the id (cumulative); `base` is
 * the part of that already moved into container="released", and the
 * id's series serve cumulative - base.  They are shown while a container
 * with this id is live and for retain_ns after the last one's release;
 * then what they served moves into container="released" (base catches
 * up) and they are hidden, until a container has the id again.
 */
struct exp_slot {
	uint32_t id;
	bool shown;
	struct exp_counters base;
};

struct exporter {
	struct exporter_opts o;
	enum vfio_attach_mode mode;	/* the collector's; ATTACH_NONE without one */
	struct reftrack *rt;
	char kernel[128];		/* uname -r */
	struct exp_slot *slots;		/* by id, sorted */
	size_t nr_slots, cap_slots;
	struct exp_counters gone;	/* what the hidden series served: "released" */
	bool any_gone;
	struct unseen unseen;		/* VFIO users the collector cannot see, by collect */
};

struct exporter *exporter__new(const struct exporter_opts *opts);
void exporter__free(struct exporter *ex);

/* ring_buffer__new() callback: one struct leak_event. */
int exporter__event(void *ex, void *data, size_t size);

/*
 * Make the moves a render as of now_ns would make: the series no longer
 * served (released, retain_ns past) go, and what they served moves into
 * container="released".  now_ns is CLOCK_MONOTONIC, the clock of the
 * collector's releases.  It reads the collector and writes nothing
 * there.  The daemon calls it once a second, so that series go when
 * their retention ends whether or not anyone scrapes: a container that
 * takes the id later starts the id's series afresh.
 */
int exporter__collect(struct exporter *ex, uint64_t now_ns);

/*
 * Render every metric into b (reset first) as of now_ns, the moves due
 * by then made first.  It only reads the collector, so it changes
 * nothing another reader sees, and two renders with no event between
 * them and at the same now_ns get the same page.  Returns 0 or a
 * negative errno (a map read failed, out of memory).
 */
int exporter__render(struct exporter *ex, struct strbuf *b, uint64_t now_ns);

/* "0.000001024": ns as seconds, exactly (no binary floating point). */
char *exporter__fmt_seconds(char *buf, size_t len, uint64_t ns);

/* "ok", "EINVAL", ..., "error": the result label of a ret (0 or -errno). */
const char *exporter__result_name(int err);

#endif /* __EXPORTER_H */
