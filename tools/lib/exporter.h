/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-exporter's metrics, without sockets: the state the daemon keeps
 * (the BPF maps of bpf/vfio-exporter.bpf.c and a reftrack fed from its
 * ring buffer) and the function that renders it in the Prometheus text
 * exposition format 0.0.4 into a buffer.  The names, types and labels are
 * docs/metrics.md's.  tools/vfio-exporter.c serves the buffer; the host
 * test (tests/bpf/vfio_exporter_test.c) compares it with crafted events.
 */
#ifndef __EXPORTER_H
#define __EXPORTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reftrack.h"
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

struct exporter_opts {
	/* Map fds of bpf/vfio-exporter.bpf.c; -1 each when nothing is attached. */
	int containers_fd, released_fd, hists_fd, lost_fd, levels_fd;
	enum vfio_attach_mode mode;	/* ATTACH_NONE: serve build info only */
	uint64_t stale_after_ns;
	uint64_t retain_ns;		/* a released container's series stay this long */
	size_t max_refs;		/* outstanding gets remembered */
	const char *version;
};

/*
 * A container id's counters as served: what its released containers did
 * (a live one's row is added at render time).  It stays while a container
 * with this id is live and for retain_ns after the last one's release.
 */
struct exp_slot {
	uint32_t id;
	uint64_t idle_since;		/* the last release (events' clock) */
	uint64_t last_inst;		/* the newest instance folded in */
	struct exp_container c;		/* counters only */
};

struct exporter {
	struct exporter_opts o;
	struct reftrack *rt;
	char kernel[128];		/* uname -r */
	struct exp_slot *slots;		/* by id, sorted */
	size_t nr_slots, cap_slots;
	struct exp_container gone;	/* counters of the slots retained no more */
	bool any_gone;
};

struct exporter *exporter__new(const struct exporter_opts *opts);
void exporter__free(struct exporter *ex);

/* ring_buffer__new() callback: one struct leak_event. */
int exporter__event(void *ex, void *data, size_t size);

/*
 * Take the released containers' rows out of the BPF map (which they would
 * fill otherwise) and fold the slots idle for retain_ns into the
 * container="released" series, as of now_ns (CLOCK_MONOTONIC, the clock
 * of the events' ts).  What /metrics serves does not change by it: the
 * daemon calls it once a second, exporter__render() at every scrape.
 */
int exporter__collect(struct exporter *ex, uint64_t now_ns);

/*
 * Render every metric into b (reset first) as of now_ns.  What it renders
 * depends on the events seen and on now_ns, not on the scrapes before:
 * two scrapes with no event between them get the same counters.  Returns
 * 0 or a negative errno (a map read failed, out of memory).
 */
int exporter__render(struct exporter *ex, struct strbuf *b, uint64_t now_ns);

/* "0.000001024": ns as seconds, exactly (no binary floating point). */
char *exporter__fmt_seconds(char *buf, size_t len, uint64_t ns);

/* "ok", "EINVAL", ..., "error": the result label of a ret (0 or -errno). */
const char *exporter__result_name(int err);

#endif /* __EXPORTER_H */
