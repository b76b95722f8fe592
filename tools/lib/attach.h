/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How the tools attach, decided once at start-up (issue 5):
 *   1. tp_btf on our vfio:* events when vfio.ko carries BTF;
 *   2. raw_tp on our events when it has none;
 *   3. fentry/fexit on Debian's in-tree vfio_iommu_type1, which has no
 *      events of ours, for the subset of data it lets us see.
 * attach_select() then turns on exactly the programs of that mode, found
 * by their section prefix, so every tool picks its programs the same way.
 */
#ifndef __ATTACH_H
#define __ATTACH_H

#include <stdbool.h>
#include <stddef.h>

#include <bpf/libbpf.h>

#include "vfio_tools.h"

/* The tracepoint the probes look for: every vfio:* event comes with it. */
#define ATTACH_PROBE_EVENT "vfio_dma_map"

/*
 * Probe the running kernel.  Returns the mode (ATTACH_NONE when no VFIO
 * stack is loaded) and writes into why, if given, what was found.
 */
enum vfio_attach_mode attach_detect(char *why, size_t len);

const char *attach_mode_name(enum vfio_attach_mode mode);

/* "tp_btf", "raw_tp", "fentry" (or "auto": ATTACH_NONE); -EINVAL if unknown. */
int attach_parse_mode(const char *s, enum vfio_attach_mode *mode);

/*
 * Set the autoload of every program of obj by its section:
 *   tp_btf/  raw_tp/                    only in that mode
 *   fentry/  fexit/  kprobe/ kretprobe/ only in ATTACH_FENTRY
 *   tracepoint/syscalls/                in the tracepoint modes, when
 *                                       tracefs has the event
 *   iter/                               never: a loader that runs one
 *                                       turns it on (intree_ids.h)
 * Others are left as they are.  Returns how many programs will load.
 */
int attach_select(struct bpf_object *obj, enum vfio_attach_mode mode);

/*
 * Whether the running kernel has its own BTF (/sys/kernel/btf/vmlinux).
 * Debian's ppc64el 6.1 kernel has none (CONFIG_DEBUG_INFO_BTF off): no
 * tp_btf or fentry there, no helper returning a BTF pointer, and CO-RE
 * relocations need the BTF of that kernel as a file (--btf).
 */
bool attach_kernel_has_btf(void);

/* Whether tracefs (or debugfs' tracing/) has events/<system>/<event>. */
bool attach_have_tracefs_event(const char *system, const char *event);

/* An integer from a sysfs file (a module parameter); -errno on failure. */
long long attach_read_sysfs_ll(const char *path);

/*
 * Debian's in-tree vfio_iommu_type1's dma_entry_limit (its containers'
 * DMA entries are that minus their dma_avail, which fentry mode reads), or
 * 0 when it cannot be read.
 */
unsigned int attach_intree_dma_entry_limit(void);

#endif /* __ATTACH_H */
