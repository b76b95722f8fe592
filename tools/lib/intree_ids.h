/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ids of Debian's in-tree containers (fentry mode) across collectors
 * (bpf/intree_ids.bpf.h).
 *
 * The exporter's collector pins its two id maps, intree_containers and
 * intree_ids, under INTREE_STATE_DIR, which outlives it: the next
 * exporter's collector takes them over, so a live container keeps its id
 * across restarts.  A private collector (a front end with no exporter),
 * or vfio-lat's own programs, must not share them: two attached
 * collectors would both add every operation to the shared levels.  They
 * start from a copy instead, so the ids they show are the exporter's.
 *
 * What happened while no collector ran is unknown: every entry carried
 * over is partial (its mapped and pinned levels are not served; its
 * entries are read from the container itself).  The entries of
 * containers released meanwhile are dropped and their ids freed: the
 * intree_live iterator finds every in-tree container reachable from a
 * process's open VFIO file (container, group or device).  A live
 * container reachable from none (only KVM holds its group) loses its id
 * too, and is numbered afresh at its next operation.
 *
 * Between open and load intree_ids_prepare(), between load and attach
 * intree_ids_carry(), and for the pinning collector intree_ids_pin().
 */
#ifndef __INTREE_IDS_H
#define __INTREE_IDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpf/libbpf.h>

#include "vfio_tools.h"

#define INTREE_STATE_DIR	"/sys/fs/bpf/vfioscope-state"

enum intree_ids_use {
	INTREE_IDS_FRESH,	/* number from 1: tracepoint modes, tests */
	INTREE_IDS_COPY,	/* from a copy of the persisted ids */
	INTREE_IDS_SHARE,	/* the persisted maps themselves: the pinning collector */
};

/* vfio.ko's file_operations the iterator recognises files by. */
enum intree_fops { INTREE_FOPS_CONTAINER, INTREE_FOPS_GROUP, INTREE_FOPS_DEVICE, INTREE_NR_FOPS };

struct intree_ids {
	enum intree_ids_use use;
	/* obj's: libbpf renames a reused map, so they are not looked up again */
	struct bpf_map *containers, *idmap;
	struct bpf_program *iter;
	int containers_fd, ids_fd;	/* the persisted maps, -1: none usable */
	bool reused;			/* SHARE: our maps are the persisted ones */
	bool prune;			/* the iterator is loaded */
	uint64_t fops[INTREE_NR_FOPS];	/* for the skeleton's .rodata */
};

/* The skeleton's .rodata takes what intree_ids_prepare() found. */
#define INTREE_IDS_SET_RODATA(skel, ids) do {					\
	(skel)->rodata->targ_vfio_fops = (ids)->fops[INTREE_FOPS_CONTAINER];	\
	(skel)->rodata->targ_vfio_group_fops = (ids)->fops[INTREE_FOPS_GROUP];	\
	(skel)->rodata->targ_vfio_device_fops = (ids)->fops[INTREE_FOPS_DEVICE]; \
} while (0)

/*
 * Before load: find the persisted maps (SHARE: reused by obj's, or
 * removed when of another layout), and when there are some to carry
 * over, the fops in /proc/kallsyms, turning the iterator on.  Failing
 * that, one line on stderr (tool NULL: none) and no pruning.
 */
int intree_ids_prepare(struct intree_ids *ids, struct bpf_object *obj,
		       enum intree_ids_use use, const char *tool);

/*
 * After load, before attach: the copy (COPY), every entry partial, the
 * released containers' entries dropped, the state's version written.
 */
int intree_ids_carry(struct intree_ids *ids, const char *tool);

/*
 * SHARE: pin the id maps under INTREE_STATE_DIR, unless they are the
 * pinned ones.  Nothing unpins them: they are for the next collector.
 */
int intree_ids_pin(struct intree_ids *ids);

/* Close what intree_ids_carry() did not get to (a failed load); idempotent. */
void intree_ids_release(struct intree_ids *ids);

/*
 * Drop the entries of intree_containers whose key is not among live[] and
 * free their ids in *state; mark the others partial.  (Part of
 * intree_ids_carry(), which gets live[] from the iterator; tests give it.)
 */
int intree_ids_prune(int containers_fd, struct intree_id_state *state,
		     const __u64 *live, size_t nr_live);

#endif /* __INTREE_IDS_H */
