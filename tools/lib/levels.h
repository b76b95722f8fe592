/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Reading bpf/dma_levels.bpf.h's per-CPU levels: of a container's copies,
 * the one with the highest seq is its current state.
 */
#ifndef __LEVELS_H
#define __LEVELS_H

#include <stdint.h>

#include "vfio_tools.h"

/*
 * The levels of @container from the dma_levels map @fd: 0, or -ENOENT
 * when no event reported them (yet, or since the container's release),
 * or another -errno.
 */
int dma_level_read(int fd, uint32_t container, struct dma_level *out);

#endif /* __LEVELS_H */
