// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "common.h"
#include "histogram.h"
#include "latency.h"

int lat_wait_programs(const struct lat_maps *m)
{
	__u32 key = 0;

	/* The same inner map again: only the wait is wanted. */
	if (bpf_map_update_elem(m->sync_fd, &key, &m->sync_slot_fd, BPF_ANY))
		return -errno;
	return 0;
}

int lat_sync_create(struct lat_maps *m)
{
	LIBBPF_OPTS(bpf_map_create_opts, opts);

	m->sync_slot_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY, "lat_sync_slot", 4, 4, 1, NULL);
	if (m->sync_slot_fd < 0)
		return -errno;
	opts.inner_map_fd = m->sync_slot_fd;
	m->sync_fd = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "lat_sync", 4, 4, 1, &opts);
	return m->sync_fd < 0 ? -errno : 0;
}

static int bank_flip(const struct lat_maps *m, __u32 *old)
{
	__u32 key = 0, next;

	if (m->bank) {
		*old = __atomic_load_n(m->bank, __ATOMIC_RELAXED) & 1;
		__atomic_store_n(m->bank, *old ^ 1, __ATOMIC_SEQ_CST);
		return 0;
	}
	if (bpf_map_lookup_elem(m->bank_fd, &key, old))
		return -errno;
	*old &= 1;
	next = *old ^ 1;
	return bpf_map_update_elem(m->bank_fd, &key, &next, BPF_ANY) ? -errno : 0;
}

void lat_stats_add(struct lat_stats *sum, const struct lat_stats *v)
{
	int part, i;

	for (part = 0; part < LAT_NR_PARTS; part++) {
		struct lat_hist *h = &sum->parts[part];
		const struct lat_hist *x = &v->parts[part];

		for (i = 0; i < HIST_NR_SLOTS; i++)
			h->slots[i] += x->slots[i];
		h->sum_ns += x->sum_ns;
		if (x->max_ns > h->max_ns)
			h->max_ns = x->max_ns;
	}
	for (i = 0; i < LAT_NR_COUNTERS; i++)
		sum->counters[i] += v->counters[i];
}

int lat_interval_end(const struct lat_maps *m, struct lat_interval *out)
{
	int cpus = common_nr_cpus(), cpu, err = 0;
	struct lat_stats *v;
	__u32 bank, op, key;

	if (cpus < 0)
		return cpus;
	v = calloc(cpus, sizeof(*v));
	if (!v)
		return -ENOMEM;
	memset(out, 0, sizeof(*out));

	err = bank_flip(m, &bank);
	if (err)
		goto out;
	/*
	 * A program that read the old bank before the store may still be
	 * adding to it; after the wait none is, and every later one writes
	 * the new bank.
	 */
	err = lat_wait_programs(m);
	if (err)
		goto out;
	for (op = 0; op < LAT_NR_OPS; op++) {
		key = LAT_KEY(bank, op);
		if (bpf_map_lookup_elem(m->stats_fd, &key, v)) {
			err = -errno;
			goto out;
		}
		for (cpu = 0; cpu < cpus; cpu++)
			lat_stats_add(&out->op[op], &v[cpu]);
		memset(v, 0, cpus * sizeof(*v));
		if (bpf_map_update_elem(m->stats_fd, &key, v, BPF_ANY)) {
			err = -errno;
			goto out;
		}
	}
out:
	free(v);
	return err;
}

__u64 lat_hist_count(const struct lat_hist *h)
{
	return hist_total((const uint64_t *)h->slots, HIST_NR_SLOTS);
}
