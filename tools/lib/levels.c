// SPDX-License-Identifier: GPL-2.0
/* The newest of a container's per-CPU levels (bpf/dma_levels.bpf.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "levels.h"

int dma_level_read(int fd, uint32_t container, struct dma_level *out)
{
	int ncpu = libbpf_num_possible_cpus(), i, best = -1;
	struct dma_level *v;

	if (ncpu < 0)
		return ncpu;
	v = calloc(ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &container, v)) {
		int err = -errno;

		free(v);
		return err;
	}
	for (i = 0; i < ncpu; i++) {
		if (v[i].seq && (best < 0 || v[i].seq > v[best].seq))
			best = i;
	}
	if (best < 0) {
		free(v);
		return -ENOENT;
	}
	*out = v[best];
	free(v);
	return 0;
}
