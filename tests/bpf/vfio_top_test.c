// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of vfio-top.bpf.c: a crafted life of one container (open,
 * a group attached, maps, unmaps, a failure, external users, teardown,
 * release) run through the raw_tp entry points must leave exact counts in
 * the process, container and group rows.
 */
#include <errno.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "attach.h"
#include "check.h"
#include "raw_tp_run.h"
#include "common.h"
#include "vfio-top.skel.h"
#include "levels.h"
#include "process.h"
#include "vfio_tools.h"

#define KB64 65536ULL

#define RUN(skel, prog, ...) RAW_TP_RUN((skel)->progs.prog, __VA_ARGS__)

/* The operations' seq, as the driver numbers them: in the order they ran. */
static uint64_t seq;

/* vfio_dma_map/unmap(container, iova, size, flags, npages, entries, pinned, ret, total_ns, pin_ns, iommu_ns, seq) */
#define MAP(skel, c, size, npages, entries, pinned, ret) \
	RUN(skel, vfio_dma_map_raw, c, 0x100000, size, 3, npages, entries, pinned, (uint64_t)(int64_t)(ret), 2000, 1000, 1000, ++seq)
#define UNMAP(skel, c, size, flags, npages, entries, pinned) \
	RUN(skel, vfio_dma_unmap_raw, c, 0x100000, size, flags, npages, entries, pinned, 0, 2000, 1000, 1000, ++seq)

static struct vfio_top *top_open(void)
{
	struct vfio_top *skel = vfio_top__open();

	if (!skel)
		return NULL;
	attach_select(skel->obj, ATTACH_RAW_TP);
	return skel;
}

static struct vfio_top *top_load(void)
{
	struct vfio_top *skel = top_open();

	if (skel && vfio_top__load(skel)) {
		vfio_top__destroy(skel);
		return NULL;
	}
	return skel;
}

/* A process row's key also holds its start: found by kind and id alone. */
static int find_key(struct vfio_top *skel, __u32 kind, __u32 id, struct top_key *key)
{
	int fd = bpf_map__fd(skel->maps.rows);
	struct top_key k, next, *prev = NULL;

	while (!bpf_map_get_next_key(fd, prev, &next)) {
		k = next;
		prev = &k;
		if (k.kind == kind && k.id == id) {
			*key = k;
			return 0;
		}
	}
	errno = ENOENT;
	return -1;
}

static int get_row(struct vfio_top *skel, __u32 kind, __u32 id, struct top_value *v)
{
	struct top_key key;

	if (find_key(skel, kind, id, &key))
		return -1;
	return bpf_map_lookup_elem(bpf_map__fd(skel->maps.rows), &key, v);
}

static uint64_t lost_reason(struct vfio_top *skel, int reason)
{
	__u64 n[LOST_NR_REASONS];

	if (lost_read(bpf_map__fd(skel->maps.lost), n))
		return UINT64_MAX;
	return n[reason];
}

/* A map with an explicit seq: the order the driver did it in. */
#define MAP_SEQ(skel, c, npages, entries, pinned, sq) \
	RUN(skel, vfio_dma_map_raw, c, 0x100000, KB64, 3, npages, entries, pinned, 0, 2000, 1000, 1000, sq)

/*
 * The driver emits after dropping the container's lock, so the events of
 * two racing maps can come in the other order: the levels must be those
 * of the later operation (highest seq), not of the later event.
 */
static int test_levels_out_of_order(void)
{
	struct vfio_top *skel = top_load();
	struct dma_level l;
	struct top_value v;

	CHECK(skel);
	CHECK_OK(RUN(skel, vfio_container_open_raw, 4));
	CHECK_OK(MAP_SEQ(skel, 4, 16, 2, 32, 2));
	CHECK_OK(MAP_SEQ(skel, 4, 16, 1, 16, 1));	/* came late */
	CHECK_OK(dma_level_read(bpf_map__fd(skel->maps.dma_levels), 4, &l));
	CHECK_EQ(l.seq, 2);
	CHECK_EQ(l.pinned, 32);
	CHECK_EQ(l.entries, 2);
	CHECK_OK(get_row(skel, TOP_CONTAINER, 4, &v));
	CHECK_EQ(v.mapped_bytes, 2 * KB64);	/* a sum: the order does not matter */
	CHECK_EQ(v.missing, 0);

	/* A reused id starts over: its seq counts from 1 again. */
	CHECK_OK(RUN(skel, vfio_container_release_raw, 4));
	CHECK_OK(RUN(skel, vfio_container_open_raw, 4));
	CHECK_OK(MAP_SEQ(skel, 4, 16, 1, 16, 1));
	CHECK_OK(dma_level_read(bpf_map__fd(skel->maps.dma_levels), 4, &l));
	CHECK_EQ(l.pinned, 16);
	CHECK_EQ(l.entries, 1);
	vfio_top__destroy(skel);
	return TEST_PASS;
}

/*
 * A container that was mapped before vfio-top started: its first event
 * shows entries it did not see made, so its mapped bytes are unknown
 * (shown as "-"), never a sum that goes negative at the first unmap.
 * Its pinned pages and entries are the events' own, so they are known.
 */
static int test_container_predates_tool(void)
{
	struct vfio_top *skel = top_load();
	struct dma_level l;
	struct top_value v;

	CHECK(skel);
	CHECK_OK(UNMAP(skel, 6, KB64, 0, 16, 4, 64));
	CHECK_OK(get_row(skel, TOP_CONTAINER, 6, &v));
	CHECK_EQ(v.missing & DMA_MISSING_MAPPED, DMA_MISSING_MAPPED);
	CHECK_OK(dma_level_read(bpf_map__fd(skel->maps.dma_levels), 6, &l));
	CHECK_EQ(l.pinned, 64);
	CHECK_EQ(l.entries, 4);

	/* One met at its first map is known from zero. */
	CHECK_OK(MAP(skel, 7, KB64, 16, 1, 16, 0));
	CHECK_OK(get_row(skel, TOP_CONTAINER, 7, &v));
	CHECK_EQ(v.missing, 0);
	CHECK_EQ(v.mapped_bytes, KB64);
	vfio_top__destroy(skel);
	return TEST_PASS;
}

/*
 * A process row is keyed by pid and start, the start /proc/PID/stat
 * shows: vfio-top tells a process that exited from a later one that got
 * its pid, and does not merge their rows.
 */
static int test_process_row_start(void)
{
	struct vfio_top *skel = top_load();
	struct top_key key;

	CHECK(skel);
	CHECK_OK(MAP(skel, 3, KB64, 16, 1, 16, 0));
	CHECK_OK(find_key(skel, TOP_PROCESS, getpid(), &key));
	CHECK(key.start != 0);
	CHECK(process_is(getpid(), key.start));
	CHECK(!process_is(getpid(), key.start + 1000000000ULL));
	CHECK_OK(find_key(skel, TOP_CONTAINER, 3, &key));
	CHECK_EQ(key.start, 0);
	vfio_top__destroy(skel);
	return TEST_PASS;
}

static int test_container_life(void)
{
	struct vfio_top *skel = top_load();
	struct top_value v;
	struct dma_level l;
	char comm[16] = {};
	int i;

	CHECK(skel);
	prctl(PR_GET_NAME, comm);
	CHECK_OK(RUN(skel, vfio_container_open_raw, 3));
	CHECK_OK(RUN(skel, vfio_group_open_raw, 5, 0));
	CHECK_OK(RUN(skel, vfio_group_attach_raw, 5, 3, 0));
	for (i = 1; i <= 10; i++)
		CHECK_OK(MAP(skel, 3, KB64, 16, i, 16 * i, 0));
	for (i = 1; i <= 4; i++)
		CHECK_OK(UNMAP(skel, 3, KB64, 0, 16, 10 - i, 16 * (10 - i)));
	CHECK_OK(MAP(skel, 3, KB64, 0, 6, 96, -22));
	/* external users: get, get, put; a get on something not a group */
	CHECK_OK(RUN(skel, vfio_external_user_get_raw, 5, 3, 1, 0xffffffffc0001000ULL, 0));
	CHECK_OK(RUN(skel, vfio_external_user_get_raw, 5, 3, 2, 0xffffffffc0001000ULL, 0));
	CHECK_OK(RUN(skel, vfio_external_user_put_raw, 5, 3, 1, 0xffffffffc0002000ULL, 0));
	CHECK_OK(RUN(skel, vfio_external_user_get_raw, 0, 0, 0, 0xffffffffc0001000ULL,
		     (uint64_t)(int64_t)-22));
	CHECK_OK(RUN(skel, vfio_group_release_raw, 5, 0));

	/* Before teardown: what is mapped now. */
	CHECK_OK(get_row(skel, TOP_CONTAINER, 3, &v));
	CHECK_EQ(v.mapped_bytes, 6 * KB64);
	CHECK_EQ(v.missing, 0);
	CHECK_OK(dma_level_read(bpf_map__fd(skel->maps.dma_levels), 3, &l));
	CHECK_EQ(l.pinned, 96);
	CHECK_EQ(l.entries, 6);

	/* The teardown of what is left, then the release. */
	CHECK_OK(UNMAP(skel, 3, 6 * KB64, VFIO_TRACE_UNMAP_TEARDOWN, 96, 0, 0));
	CHECK_OK(RUN(skel, vfio_group_detach_raw, 5, 3, 0));
	CHECK_OK(RUN(skel, vfio_container_release_raw, 3));

	CHECK_OK(get_row(skel, TOP_PROCESS, getpid(), &v));
	CHECK_EQ(v.map_ops, 10);
	CHECK_EQ(v.unmap_ops, 4);
	CHECK_EQ(v.map_bytes, 10 * KB64);
	CHECK_EQ(v.unmap_bytes, 4 * KB64);
	CHECK_EQ(v.mapped_bytes, 6 * KB64);	/* a teardown is the container's */
	CHECK_EQ(v.pinned_pages, 96);
	CHECK_EQ(v.errors, 2);			/* the failed map, the get on no group */
	CHECK_EQ(v.container, 3);
	CHECK(!strncmp(v.comm, comm, sizeof(v.comm)));

	CHECK_OK(get_row(skel, TOP_CONTAINER, 3, &v));
	CHECK_EQ(v.map_ops, 10);
	CHECK_EQ(v.unmap_ops, 4);		/* a teardown is no operation */
	CHECK_EQ(v.map_bytes, 10 * KB64);
	CHECK_EQ(v.unmap_bytes, 10 * KB64);
	CHECK_EQ(v.mapped_bytes, 0);
	CHECK_EQ(v.pinned_pages, 0);
	CHECK_EQ(v.entries, 0);
	CHECK_EQ(dma_level_read(bpf_map__fd(skel->maps.dma_levels), 3, &l), -ENOENT);
	CHECK_EQ(v.ext_users, 1);
	CHECK_EQ(v.errors, 1);
	CHECK_EQ(v.released, 1);

	CHECK_OK(get_row(skel, TOP_GROUP, 5, &v));
	CHECK_EQ(v.container, 0);		/* detached */
	CHECK_EQ(v.ext_users, 1);
	CHECK_EQ(v.errors, 0);
	CHECK_EQ(v.released, 1);
	/* No group is no row: that error was the process's. */
	CHECK(get_row(skel, TOP_GROUP, 0, &v));

	CHECK_EQ(lost_reason(skel, LOST_MAP_FULL), 0);
	vfio_top__destroy(skel);
	return TEST_PASS;
}

/* An id reused by a new container starts from zero. */
static int test_container_id_reused(void)
{
	struct vfio_top *skel = top_load();
	struct top_value v;

	CHECK(skel);
	CHECK_OK(RUN(skel, vfio_container_open_raw, 1));
	CHECK_OK(MAP(skel, 1, 4096, 1, 1, 1, 0));
	CHECK_OK(RUN(skel, vfio_container_release_raw, 1));
	CHECK_OK(RUN(skel, vfio_container_open_raw, 1));
	CHECK_OK(get_row(skel, TOP_CONTAINER, 1, &v));
	CHECK_EQ(v.map_ops, 0);
	CHECK_EQ(v.released, 0);
	vfio_top__destroy(skel);
	return TEST_PASS;
}

/* -p: another process's DMA is not counted, a teardown still is. */
static int test_pid_filter(void)
{
	struct vfio_top *skel = top_open();
	struct top_value v;

	CHECK(skel);
	skel->rodata->filter_pid = getpid() + 1;
	CHECK_OK(vfio_top__load(skel));
	CHECK_OK(MAP(skel, 2, 4096, 1, 1, 1, 0));
	CHECK_ERRNO(get_row(skel, TOP_PROCESS, getpid(), &v), ENOENT);
	CHECK_ERRNO(get_row(skel, TOP_CONTAINER, 2, &v), ENOENT);
	CHECK_OK(UNMAP(skel, 2, 4096, VFIO_TRACE_UNMAP_TEARDOWN, 1, 0, 0));
	CHECK_OK(get_row(skel, TOP_CONTAINER, 2, &v));
	CHECK_EQ(v.unmap_bytes, 4096);
	vfio_top__destroy(skel);
	return TEST_PASS;
}

/* A full row map drops rows, and says so. */
static int test_map_full_counted(void)
{
	struct vfio_top *skel = top_load();
	__u32 max, i;

	CHECK(skel);
	max = bpf_map__max_entries(skel->maps.rows);
	for (i = 1; i <= max; i++)
		CHECK_OK(RUN(skel, vfio_container_open_raw, i));
	CHECK_EQ(lost_reason(skel, LOST_MAP_FULL), 0);
	CHECK_OK(RUN(skel, vfio_container_open_raw, max + 1));
	CHECK_OK(RUN(skel, vfio_group_open_raw, 1, 0));
	CHECK_EQ(lost_reason(skel, LOST_MAP_FULL), 2);
	vfio_top__destroy(skel);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_container_life),
	TEST(test_process_row_start),
	TEST(test_levels_out_of_order),
	TEST(test_container_predates_tool),
	TEST(test_container_id_reused),
	TEST(test_pid_filter),
	TEST(test_map_full_counted),
};

int main(int argc, char **argv)
{
	libbpf_set_print(NULL);
	return RUN_TESTS("bpf/vfio_top", tests, argc, argv);
}
