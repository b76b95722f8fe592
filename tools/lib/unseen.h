/* SPDX-License-Identifier: GPL-2.0 */
/*
 * VFIO in use where the tools cannot see it (issue 12: no silent zero).
 *
 * The tools see the legacy container/group uAPI: our vfio:* events, or
 * fentry on Debian's in-tree vfio_iommu_type1.  A process that maps DMA
 * another way leaves no trace in them, and a report of zeros would then
 * read as "no VFIO here".  The other ways, each found by a file the
 * process holds open (/proc/PID/fd, readlink):
 *   iommufd            /dev/iommu (6.2): DMA mapped through an IOAS;
 *   cdev               /dev/vfio/devices/vfioN, the VFIO device cdev (6.6),
 *                      bound to an iommufd (or to none, no-IOMMU);
 *   iommufd_container  /dev/vfio/vfio when iommufd's container
 *                      compatibility serves it (CONFIG_IOMMUFD_VFIO_CONTAINER):
 *                      the legacy ioctls, but none of vfio_iommu_type1's
 *                      code runs (unseen_container_is_iommufd()).
 * Debian's 6.1 has none of them; 6.12 has the first two.
 *
 * A walk of /proc reads the link of every open fd of every process: about
 * 4 us a fd on the build host (0.29 s for 3,093 processes, 69,545 fds).
 * So the tools walk (unseen_update()) only where one of these files can
 * exist, and at most once per UNSEEN_WALK_EVERY times the last walk's cost
 * (1% of a CPU); in between they re-check only the processes listed, so a
 * process that closed its file or exited leaves the list at once, and a
 * new one joins it at the next walk.  Processes that exit during a walk,
 * and fds that cannot be read (gone, or another user's without
 * CAP_SYS_PTRACE), are skipped, never an error.  Files are matched by
 * their path as the holder's mount namespace names them.
 */
#ifndef __UNSEEN_H
#define __UNSEEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "json.h"

/* How a process uses VFIO unseen: bits, a process may have several. */
enum unseen_via {
	UNSEEN_IOMMUFD = 1 << 0,
	UNSEEN_CDEV = 1 << 1,
	UNSEEN_IOMMUFD_CONTAINER = 1 << 2,
};
#define UNSEEN_NR_VIA 3

/* A file that means unseen use: path, or every file under it if it ends in '/'. */
struct unseen_path {
	const char *path;
	unsigned int via;	/* enum unseen_via */
};

struct unseen_proc {
	pid_t pid;
	unsigned int via;	/* enum unseen_via bits */
	char comm[16];
};

/* Zero-initialise; unseen_free() when done. */
struct unseen {
	struct unseen_proc *procs;	/* by pid */
	size_t nr, cap;
	int err;		/* -errno when /proc could not be read: the list is unknown */
	uint64_t walked_ns;	/* CLOCK_MONOTONIC at the last walk's start, 0: none */
	uint64_t walk_cost_ns;	/* how long it took */
};

/* A walk at most once per this many times the last one took: 1% of a CPU. */
#define UNSEEN_WALK_EVERY 100

/*
 * The processes using VFIO where the tools cannot see it, into u (emptied
 * first), from a walk of /proc, or none without one when none of the
 * files can exist; only process only if it is not 0.  Returns u->err.
 */
int unseen_scan(struct unseen *u, pid_t only);

/*
 * What the tools call each report: unseen_scan() when the budget allows a
 * walk (or none was made), else unseen_recheck_paths() of the list.
 */
int unseen_update(struct unseen *u, pid_t only);

/* The walk for the files given, no gate (for tests).  Returns u->err. */
int unseen_scan_paths(struct unseen *u, const struct unseen_path *paths,
		      size_t nr_paths, pid_t only);

/*
 * Only the processes listed, again: those that no longer hold one of the
 * files (or exited) are dropped, the others' bits and comm refreshed.
 */
int unseen_recheck_paths(struct unseen *u, const struct unseen_path *paths,
			 size_t nr_paths);

/*
 * Whether /dev/vfio/vfio is iommufd's container compatibility: the misc
 * device is registered, and either the kernel's config says
 * CONFIG_IOMMUFD_VFIO_CONTAINER=y, or, with no config to read, iommufd is
 * there and no legacy backend is (neither vfio_iommu_type1, ours or
 * Debian's, nor vfio_iommu_spapr_tce).
 */
bool unseen_container_is_iommufd(void);

/* "iommufd", "cdev", "iommufd_container" for one bit. */
const char *unseen_via_name(unsigned int via);

/*
 * One line, nothing when no process uses VFIO unseen:
 *   warning: 2 processes use VFIO through iommufd/cdev, not seen: 812 qemu (iommufd, cdev), ...
 */
void unseen_print(FILE *f, const struct unseen *u);

/* "unseen": [{"pid":812,"comm":"qemu","via":["iommufd","cdev"]}], [] if none, null if unknown. */
void unseen_json(struct json *j, const struct unseen *u);

void unseen_free(struct unseen *u);

/*
 * What each tool calls once per report (and once at start), so the three
 * say it one way: unseen_update() of one list, then the line or the field.
 */
void unseen_report_text(FILE *f, pid_t only);
void unseen_report_json(struct json *j, pid_t only);

#endif /* __UNSEEN_H */
