/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The collector (bpf/vfio-collector.bpf.c) from user space: one program set
 * per host, behind every front end.
 *
 * vfio-exporter, the daemon, loads it and pins its maps and programs
 * under COLLECTOR_PIN_DIR; vfio-top, vfio-leak and vfio-lat then read
 * those maps and attach nothing (the programs are opened only to read
 * their skipped runs).
 * With no collector running, a front end loads a private one, the same
 * programs, pinned nowhere.  A reader tells a running collector from
 * stale pins by its owner: the pid and start of the process that loaded
 * it, written last when pinning and cleared first when unpinning.
 *
 * Counters are cumulative from the collector's start: when it restarts
 * they start again from 0, which Prometheus takes as a counter reset.
 * Container ids are not: in fentry mode, where we number the in-tree
 * containers ourselves, the exporter's collector also pins those ids
 * under INTREE_STATE_DIR, which outlives it, and the next one takes them
 * over, so a live container keeps its id; private collectors start from
 * a copy (intree_ids.h).
 */
#ifndef __COLLECTOR_H
#define __COLLECTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "common.h"
#include "intree_ids.h"
#include "vfio_tools.h"

#define COLLECTOR_PIN_DIR	"/sys/fs/bpf/vfioscope"

struct vfio_collector;

struct collector {
	struct vfio_collector *skel;	/* loaded here; NULL when reading pins */
	int settings_fd, dma_fd, life_fd, errors_fd, hists_fd, groups_fd,
	    processes_fd, lost_fd, events_fd, stack_events_fd, stack_lost_fd,
	    lat_stats_fd, lat_bank_fd;
	/*
	 * The settings entry, mmapped: fields are stored one by one, so
	 * front ends never overwrite one another's (vfio-top's process rows,
	 * a claim, the exporter's owner).
	 */
	struct coll_config *cfg;
	enum vfio_attach_mode mode;
	bool shared;			/* another process's collector, from pins */
	bool pinned;			/* ours, pinned: unpinned when freed */
	struct intree_ids ids;		/* loaded here: fentry mode's id maps */
	int pin_lock_fd;		/* collector_load_pinnable() until collector_pin() */
	pid_t owner;			/* shared: the process that loaded it */
	int ncpus;
};

/*
 * The host's running collector (COLLECTOR_PIN_DIR, owner alive, same
 * layout), or -ENOENT when there is none.
 */
int collector_open_shared(struct collector **out);

/* "TOOL: reading the collector of pid N (mode), attaching nothing" (-v). */
void collector_say_reading(const struct collector *c, const char *tool);

/*
 * Load and attach a private collector for the env's attach mode (what
 * common_choose_attach() decides); tool names the caller in messages.
 * In fentry mode its in-tree container ids start from a copy of the
 * persisted ones (intree_ids.h), so they are the exporter's.
 * Returns 0 or -errno, a message printed.
 */
int collector_load(struct collector **out, const struct common_env *env,
		   const char *tool);
/*
 * collector_load() for the collector collector_pin() will pin (the
 * exporter's): in fentry mode it takes the persisted in-tree ids over,
 * and collector_pin() pins them for the next one.
 */
int collector_load_pinnable(struct collector **out, const struct common_env *env,
			    const char *tool);
/*
 * With attach false (tests), programs are loaded for `mode` but not
 * attached; collector_load_mode() numbers in-tree containers afresh.
 * tool NULL: no message.
 */
int collector_load_mode(struct collector **out, enum vfio_attach_mode mode, bool attach);
int collector_load_ids(struct collector **out, enum vfio_attach_mode mode, bool attach,
		       enum intree_ids_use ids, const char *tool);
/*
 * collector_load_mode() as on a kernel without BTF (POWER), for the host
 * tests: the process start read through probe reads, not the task's BTF
 * pointer, relocated against the kernel's BTF.
 */
int collector_load_no_task_btf(struct collector **out, enum vfio_attach_mode mode);

/*
 * Pin a loaded collector's maps and programs under COLLECTOR_PIN_DIR,
 * replacing stale pins; -EBUSY when another live collector holds them
 * (*owner says who).  One from collector_load_pinnable() in fentry mode
 * also pins its in-tree id maps under INTREE_STATE_DIR, which
 * collector_free() leaves for the next one.
 */
int collector_pin(struct collector *c, pid_t *owner);

/*
 * Whether the collector still collects: ours always; a shared one while
 * its owner lives (when it exits its programs go, and its maps, which we
 * still hold, would only show what was).
 */
bool collector_alive(struct collector *c);

/*
 * Runs of the collector's programs the kernel skipped (a program of the
 * same kind already running on the CPU: recursion_misses), each an event
 * lost to every reader.
 */
int collector_skipped_runs(struct collector *c, __u64 *n);

/* Unpin if pinned here, detach if loaded here, free. */
void collector_free(struct collector *c);

/* One container id as the collector saw it. */
struct coll_container {
	__u32 id;
	__u64 gen;			/* its newest container, 0: none seen */
	bool live;			/* that container is not released */
	__u64 released_ns;		/* else its release, bpf_ktime_get_ns() */
	/* every container that had the id since the collector started */
	__u64 ops[EXP_NR_OPS], bytes[EXP_NR_OPS], failed[EXP_NR_OPS];
	/* container gen only */
	__u64 gen_ops[EXP_NR_OPS], gen_bytes[EXP_NR_OPS], gen_failed[EXP_NR_OPS];
	/* levels of a live container; 0 for a released one */
	__s64 mapped;
	__u64 pinned;
	__u32 entries;
	__u32 missing;			/* DMA_MISSING_* */
	__s64 ext_users;
	__u64 iommu_errors;
};

/* Every id with a container seen, by id; *rows malloc()ed. */
int collector_read_containers(struct collector *c, struct coll_container **rows, size_t *nr);
int collector_read_container(struct collector *c, __u32 id, struct coll_container *out);

struct coll_error {
	struct coll_err_key key;
	__u64 count;			/* every container of the id */
};

int collector_read_errors(struct collector *c, struct coll_error **rows, size_t *nr);

struct coll_group_row {
	__u32 id;
	struct coll_group v;
};

int collector_read_groups(struct collector *c, struct coll_group_row **rows, size_t *nr);

struct coll_process_row {
	struct coll_proc_key key;
	struct coll_proc v;		/* the CPUs summed; container: the newest */
};

int collector_read_processes(struct collector *c, struct coll_process_row **rows, size_t *nr);

/*
 * Ask for process rows for the next keep_ns (0: stop asking, ~0: always).
 * Rows kept while nobody asked would miss operations: when no reader had
 * asked, they are cleared first, and what was mapped before is unknown.
 */
int collector_want_processes(struct collector *c, uint64_t keep_ns);

/* Send reference events to `events` (a reader consumes them) or not. */
int collector_want_refs(struct collector *c, bool on);

/*
 * Become the one reader of what `kind` names (vfio_tools.h) for the next
 * keep_ns (~0: for ever); call it again before that runs out.  -EBUSY
 * while another live process holds it.
 */
int collector_claim(struct collector *c, enum coll_claim_kind kind, uint64_t keep_ns);
/*
 * collector_claim(), and *unreleased says whether it was taken over from
 * a holder that never released it (killed): what that holder was reading
 * may be left half done.
 */
int collector_claim_over(struct collector *c, enum coll_claim_kind kind, uint64_t keep_ns,
			 bool *unreleased);
void collector_release(struct collector *c, enum coll_claim_kind kind);

#endif /* __COLLECTOR_H */
