// SPDX-License-Identifier: GPL-2.0
/*
 * Type1 IOMMU on a container: VFIO_IOMMU_GET_INFO, VFIO_IOMMU_MAP_DMA,
 * VFIO_IOMMU_UNMAP_DMA, locked_vm accounting and RLIMIT_MEMLOCK.
 * Every case runs on a fresh container holding edu's group, type1v2.
 * Errnos: docs/vfio-uapi.md.
 */
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "check.h"
#include "vfio_util.h"

#define RW	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static struct vfio_dev d;
static void *buf;		/* 8 MiB, populated */
static const size_t buf_size = 8 * SZ_1M;

static void setup(void)
{
	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
}

static void teardown(void)
{
	vfio_dev_close(&d);
}

/* Run one case inside the fixture. */
#define FIXTURE_TEST(name)						\
	static int __##name(void);					\
	static int name(void)						\
	{								\
		int ret;						\
		setup();						\
		ret = __##name();					\
		teardown();						\
		return ret;						\
	}								\
	static int __##name(void)

static int map(uint64_t iova, uint64_t size)
{
	return __vfio_dma_map(d.container, buf, iova, size, RW);
}

FIXTURE_TEST(test_get_info)
{
	struct vfio_iommu_type1_info small = { .argsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes) };
	struct vfio_iommu_type1_info *info;

	/* The original, capability-less size is still accepted. */
	small.flags = 0xdead0000;	/* output only: overwritten */
	CHECK_OK(ioctl(d.container, VFIO_IOMMU_GET_INFO, &small));
	CHECK(small.flags & VFIO_IOMMU_INFO_PGSIZES);
	/* 4 KiB pages, nothing smaller. */
	CHECK(small.iova_pgsizes & SZ_4K);
	CHECK_EQ(small.iova_pgsizes & (SZ_4K - 1), 0);
	info = vfio_iommu_info(d.container);
	CHECK(info != NULL);
	CHECK_EQ(info->iova_pgsizes, small.iova_pgsizes);
	CHECK(info->flags & VFIO_IOMMU_INFO_CAPS);
	CHECK(info->cap_offset >= sizeof(*info));
	printf("# iova_pgsizes 0x%llx argsz %u\n", (unsigned long long)info->iova_pgsizes,
	       info->argsz);
	free(info);
	return TEST_PASS;
}

FIXTURE_TEST(test_get_info_argsz)
{
	struct vfio_iommu_type1_info info = { .argsz = 8 };

	CHECK_ERRNO(ioctl(d.container, VFIO_IOMMU_GET_INFO, &info), EINVAL);
	info.argsz = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes) - 1;
	CHECK_ERRNO(ioctl(d.container, VFIO_IOMMU_GET_INFO, &info), EINVAL);
	/* Too small for the chain: argsz grows to what is needed, no cap_offset. */
	info.argsz = sizeof(info);
	info.cap_offset = 0;
	CHECK_OK(ioctl(d.container, VFIO_IOMMU_GET_INFO, &info));
	CHECK(info.argsz > sizeof(info));
	CHECK_EQ(info.cap_offset, 0);
	CHECK_ERRNO(ioctl(d.container, VFIO_IOMMU_GET_INFO, NULL), EFAULT);
	return TEST_PASS;
}

/*
 * GET_INFO writes what it answers and nothing past it: the bytes past the
 * capability chain, and past what the series copies back, stay what the
 * caller put there.  How much of the struct is copied back differs: 6.1
 * stops at iova_pgsizes or cap_offset, leaving the tail padding alone;
 * 6.6 and later copy min(argsz, sizeof(info)), the padding as zeros.  A
 * kernel that copied an uninitialised struct would hand out stack bytes.
 */
static size_t type1_info_copied(uint32_t argsz)
{
	const size_t capsz = offsetofend(struct vfio_iommu_type1_info, cap_offset);

	if (kernel_series_at_least(6, 6))
		return argsz < sizeof(struct vfio_iommu_type1_info) ?
		       argsz : sizeof(struct vfio_iommu_type1_info);
	return argsz >= capsz ? capsz :
	       offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
}

/* Bytes [from, to) of @raw are zero, [to, end) still 0xa5. */
static int info_tail_ok(const unsigned char *raw, size_t from, size_t to, size_t end)
{
	size_t i;

	for (i = from; i < to; i++)
		CHECK_EQ(raw[i], 0);
	for (i = to; i < end; i++)
		CHECK_EQ(raw[i], 0xa5);
	return TEST_PASS;
}

FIXTURE_TEST(test_get_info_no_stray_bytes)
{
	const size_t capsz = offsetofend(struct vfio_iommu_type1_info, cap_offset);
	const size_t pgsz_end = offsetofend(struct vfio_iommu_type1_info, iova_pgsizes);
	unsigned char raw[4096];
	struct vfio_iommu_type1_info *info = (void *)raw;
	uint32_t need;

	/* argsz short of cap_offset (old user space). */
	memset(raw, 0xa5, sizeof(raw));
	info->argsz = pgsz_end + 3;
	CHECK_OK(ioctl(d.container, VFIO_IOMMU_GET_INFO, raw));
	CHECK_EQ(info_tail_ok(raw, pgsz_end, type1_info_copied(pgsz_end + 3),
			      sizeof(raw)), TEST_PASS);

	/* Too small for the chain: cap_offset is 0, argsz what is needed. */
	memset(raw, 0xa5, sizeof(raw));
	info->argsz = sizeof(*info);
	CHECK_OK(ioctl(d.container, VFIO_IOMMU_GET_INFO, raw));
	CHECK_EQ(info->cap_offset, 0);
	need = info->argsz;
	CHECK(need > sizeof(*info) && need < sizeof(raw));
	CHECK_EQ(info_tail_ok(raw, capsz, type1_info_copied(sizeof(*info)),
			      sizeof(raw)), TEST_PASS);

	/* Room for the chain: the padding before it and the rest after it. */
	memset(raw, 0xa5, sizeof(raw));
	info->argsz = sizeof(raw);
	CHECK_OK(ioctl(d.container, VFIO_IOMMU_GET_INFO, raw));
	CHECK_EQ(info->cap_offset, sizeof(*info));
	CHECK_EQ(info->argsz, sizeof(raw));
	CHECK_EQ(info_tail_ok(raw, capsz, type1_info_copied(sizeof(raw)),
			      sizeof(*info)), TEST_PASS);
	CHECK_EQ(info_tail_ok(raw, need, need, sizeof(raw)), TEST_PASS);
	return TEST_PASS;
}

FIXTURE_TEST(test_iova_range_cap)
{
	struct vfio_iommu_type1_info *info = vfio_iommu_info(d.container);
	struct vfio_iommu_type1_info_cap_iova_range *r;
	uint64_t msi = 0xfee00000, prev_end = 0;
	int in_range = 0;

	CHECK(info != NULL);
	r = (void *)vfio_info_cap_find(info, info->cap_offset,
				       VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	CHECK(r != NULL);
	CHECK_EQ(r->header.version, 1);
	CHECK(r->nr_iovas >= 1);
	for (uint32_t i = 0; i < r->nr_iovas; i++) {
		printf("# iova range [0x%llx, 0x%llx]\n",
		       (unsigned long long)r->iova_ranges[i].start,
		       (unsigned long long)r->iova_ranges[i].end);
		CHECK(r->iova_ranges[i].start <= r->iova_ranges[i].end);
		/* Sorted and disjoint. */
		if (i)
			CHECK(r->iova_ranges[i].start > prev_end);
		prev_end = r->iova_ranges[i].end;
		/* The x86 MSI window is reserved: never inside a usable range. */
		CHECK(!(r->iova_ranges[i].start <= msi && msi <= r->iova_ranges[i].end));
		if (r->iova_ranges[i].start <= SZ_1M && SZ_1M + buf_size <= r->iova_ranges[i].end)
			in_range = 1;
	}
	/* The low IOVAs edu can reach are usable. */
	CHECK(in_range);
	free(info);
	return TEST_PASS;
}

FIXTURE_TEST(test_map_unmap)
{
	long base = locked_vm_kb(0);
	uint64_t done = 0;

	CHECK_OK(map(SZ_1M, SZ_1M));
	/* Pinned pages are charged to locked_vm, even with CAP_IPC_LOCK. */
	CHECK_EQ(locked_vm_kb(0), base + 1024);
	CHECK_OK(__vfio_dma_unmap(d.container, SZ_1M, SZ_1M, 0, &done));
	CHECK_EQ(done, SZ_1M);
	CHECK_EQ(locked_vm_kb(0), base);
	/* Read-only and write-only mappings. */
	CHECK_OK(__vfio_dma_map(d.container, buf, SZ_1M, SZ_4K, VFIO_DMA_MAP_FLAG_READ));
	CHECK_OK(__vfio_dma_map(d.container, buf, SZ_2M, SZ_4K, VFIO_DMA_MAP_FLAG_WRITE));
	CHECK_OK(__vfio_dma_unmap(d.container, SZ_1M, SZ_4K, 0, &done));
	CHECK_EQ(done, SZ_4K);
	CHECK_OK(__vfio_dma_unmap(d.container, SZ_2M, SZ_4K, 0, &done));
	CHECK_EQ(done, SZ_4K);
	CHECK_EQ(locked_vm_kb(0), base);
	return TEST_PASS;
}

/* The same pages mapped at two IOVAs are pinned and charged twice. */
FIXTURE_TEST(test_map_same_pages_twice)
{
	long base = locked_vm_kb(0);

	CHECK_OK(map(SZ_1M, SZ_1M));
	CHECK_OK(map(4 * SZ_1M, SZ_1M));
	CHECK_EQ(locked_vm_kb(0), base + 2048);
	vfio_dma_unmap(d.container, SZ_1M, SZ_1M);
	vfio_dma_unmap(d.container, 4 * SZ_1M, SZ_1M);
	CHECK_EQ(locked_vm_kb(0), base);
	return TEST_PASS;
}

FIXTURE_TEST(test_map_misaligned)
{
	long base = locked_vm_kb(0);

	CHECK_ERRNO(map(SZ_1M + 0x800, SZ_4K), EINVAL);
	CHECK_ERRNO(map(SZ_1M + 1, SZ_4K), EINVAL);
	CHECK_ERRNO(map(SZ_1M, SZ_4K + 0x800), EINVAL);
	CHECK_ERRNO(map(SZ_1M, 1), EINVAL);
	CHECK_ERRNO(map(SZ_1M, 0), EINVAL);
	CHECK_ERRNO(__vfio_dma_map(d.container, (char *)buf + 0x800, SZ_1M, SZ_4K, RW), EINVAL);
	CHECK_EQ(locked_vm_kb(0), base);
	return TEST_PASS;
}

FIXTURE_TEST(test_map_flags)
{
	/* Neither READ nor WRITE. */
	CHECK_ERRNO(__vfio_dma_map(d.container, buf, SZ_1M, SZ_4K, 0), EINVAL);
	/* Unknown flag bits. */
	CHECK_ERRNO(__vfio_dma_map(d.container, buf, SZ_1M, SZ_4K, RW | (1u << 3)), EINVAL);
	CHECK_ERRNO(__vfio_dma_map(d.container, buf, SZ_1M, SZ_4K, RW | (1u << 31)), EINVAL);
	/* VADDR (update vaddr) on a range never mapped. */
	CHECK_ERRNO(__vfio_dma_map(d.container, buf, SZ_1M, SZ_4K,
				   VFIO_DMA_MAP_FLAG_VADDR | RW), EINVAL);
	CHECK_OK(map(SZ_1M, SZ_4K));
	return TEST_PASS;
}

FIXTURE_TEST(test_map_argsz)
{
	struct {
		struct vfio_iommu_type1_dma_map m;
		char pad[16];
	} big = { .m = {
		.flags = RW, .iova = SZ_1M, .size = SZ_4K,
	} };
	struct vfio_iommu_type1_dma_map m = {
		.flags = RW, .vaddr = (uintptr_t)buf, .iova = SZ_1M, .size = SZ_4K,
	};

	m.argsz = 0;
	CHECK_ERRNO(ioctl(d.container, VFIO_IOMMU_MAP_DMA, &m), EINVAL);
	m.argsz = sizeof(m) - 1;
	CHECK_ERRNO(ioctl(d.container, VFIO_IOMMU_MAP_DMA, &m), EINVAL);
	CHECK_ERRNO(ioctl(d.container, VFIO_IOMMU_MAP_DMA, NULL), EFAULT);
	/* A larger argsz (a newer user) is fine. */
	big.m.argsz = sizeof(big);
	big.m.vaddr = (uintptr_t)buf;
	CHECK_OK(ioctl(d.container, VFIO_IOMMU_MAP_DMA, &big));
	return TEST_PASS;
}

FIXTURE_TEST(test_map_overlap)
{
	long base = locked_vm_kb(0);

	CHECK_OK(map(2 * SZ_1M, SZ_1M));
	CHECK_ERRNO(map(2 * SZ_1M, SZ_1M), EEXIST);		/* the same */
	CHECK_ERRNO(map(2 * SZ_1M + SZ_4K, SZ_4K), EEXIST);	/* inside */
	CHECK_ERRNO(map(SZ_1M + SZ_1M / 2, SZ_1M), EEXIST);	/* the head */
	CHECK_ERRNO(map(3 * SZ_1M - SZ_4K, SZ_1M), EEXIST);	/* the tail */
	CHECK_ERRNO(map(SZ_1M, 4 * SZ_1M), EEXIST);		/* around */
	CHECK_EQ(locked_vm_kb(0), base + 1024);
	/* Adjacent on both sides is fine. */
	CHECK_OK(map(SZ_1M, SZ_1M));
	CHECK_OK(map(3 * SZ_1M, SZ_1M));
	CHECK_EQ(locked_vm_kb(0), base + 3072);
	return TEST_PASS;
}

/*
 * Ranges that wrap past 2^64.  Debian 6.1's type1 says EINVAL (upstream
 * later moved to EOVERFLOW): the reference stack wins.
 */
FIXTURE_TEST(test_map_wrap)
{
	CHECK_ERRNO(map(~0ULL - SZ_4K + 1, 2 * SZ_4K), EINVAL);
	CHECK_ERRNO(map(~0ULL - SZ_4K + 1, ~0ULL - SZ_4K + 1), EINVAL);
	CHECK_ERRNO(__vfio_dma_map(d.container, (void *)(uintptr_t)(~0ULL - SZ_4K + 1),
				   SZ_1M, 2 * SZ_4K, RW), EINVAL);
	return TEST_PASS;
}

/* IOVAs outside the usable ranges: the MSI window, past the aperture. */
FIXTURE_TEST(test_map_reserved_iova)
{
	CHECK_ERRNO(map(0xfee00000, SZ_4K), EINVAL);
	CHECK_ERRNO(map(0xfedff000, 2 * SZ_4K), EINVAL);
	CHECK_ERRNO(map(1ULL << 60, SZ_4K), EINVAL);
	return TEST_PASS;
}

/* vaddr with nothing behind it, or read-only behind a WRITE mapping. */
FIXTURE_TEST(test_map_bad_vaddr)
{
	long base = locked_vm_kb(0);
	void *hole = mmap(NULL, SZ_1M, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *ro = mmap(NULL, SZ_1M, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	CHECK(hole != MAP_FAILED && ro != MAP_FAILED);
	/* Real pages (not the zero page, which type1 does not charge). */
	memset(ro, 0x5a, SZ_1M);
	CHECK_OK(mprotect(ro, SZ_1M, PROT_READ));
	munmap(hole, SZ_1M);
	CHECK_ERRNO(__vfio_dma_map(d.container, hole, SZ_1M, SZ_1M, RW), EFAULT);
	CHECK_ERRNO(__vfio_dma_map(d.container, ro, SZ_1M, SZ_1M, RW), EFAULT);
	CHECK_EQ(locked_vm_kb(0), base);
	/* A failed map leaves nothing behind: the same IOVA maps afterwards. */
	CHECK_OK(__vfio_dma_map(d.container, ro, SZ_1M, SZ_1M, VFIO_DMA_MAP_FLAG_READ));
	CHECK_EQ(locked_vm_kb(0), base + 1024);
	vfio_dma_unmap(d.container, SZ_1M, SZ_1M);
	munmap(ro, SZ_1M);
	return TEST_PASS;
}

/* Unmapping where nothing is mapped is not an error: it unmaps 0 bytes. */
FIXTURE_TEST(test_unmap_not_mapped)
{
	uint64_t done = 1;

	CHECK_OK(__vfio_dma_unmap(d.container, 16 * SZ_1M, SZ_1M, 0, &done));
	CHECK_EQ(done, 0);
	CHECK_OK(map(SZ_1M, SZ_1M));
	done = 1;
	CHECK_OK(__vfio_dma_unmap(d.container, 4 * SZ_1M, SZ_1M, 0, &done));
	CHECK_EQ(done, 0);
	done = 1;
	CHECK_OK(__vfio_dma_unmap(d.container, 0, SZ_4K, 0, &done));
	CHECK_EQ(done, 0);
	return TEST_PASS;
}

FIXTURE_TEST(test_unmap_misaligned)
{
	CHECK_OK(map(SZ_1M, SZ_1M));
	CHECK_ERRNO(__vfio_dma_unmap(d.container, SZ_1M + 0x800, SZ_4K, 0, NULL), EINVAL);
	CHECK_ERRNO(__vfio_dma_unmap(d.container, SZ_1M, SZ_4K + 1, 0, NULL), EINVAL);
	CHECK_ERRNO(__vfio_dma_unmap(d.container, SZ_1M, 0, 0, NULL), EINVAL);
	/* Wrapping: EINVAL in 6.1, as for MAP_DMA. */
	CHECK_ERRNO(__vfio_dma_unmap(d.container, ~0ULL - SZ_4K + 1, 2 * SZ_4K, 0, NULL), EINVAL);
	CHECK_ERRNO(__vfio_dma_unmap(d.container, SZ_1M, ~0ULL - SZ_4K + 1, 0, NULL), EINVAL);
	/* Nothing of the mapping went away. */
	CHECK_ERRNO(map(SZ_1M, SZ_1M), EEXIST);
	return TEST_PASS;
}

/* v2: an unmap may cover mappings whole but never cut one in two. */
FIXTURE_TEST(test_unmap_no_split)
{
	long base = locked_vm_kb(0);
	uint64_t done = 1;

	CHECK_OK(map(SZ_2M, SZ_2M));
	CHECK_ERRNO(__vfio_dma_unmap(d.container, SZ_2M, SZ_1M, 0, NULL), EINVAL);
	CHECK_ERRNO(__vfio_dma_unmap(d.container, 3 * SZ_1M, SZ_1M, 0, NULL), EINVAL);
	CHECK_ERRNO(__vfio_dma_unmap(d.container, 3 * SZ_1M, 4 * SZ_1M, 0, NULL), EINVAL);
	CHECK_ERRNO(__vfio_dma_unmap(d.container, SZ_1M, 2 * SZ_1M, 0, NULL), EINVAL);
	CHECK_EQ(locked_vm_kb(0), base + 2048);
	CHECK_ERRNO(map(SZ_2M, SZ_2M), EEXIST);
	/* A range bigger than the mapping on both sides takes it whole. */
	CHECK_OK(__vfio_dma_unmap(d.container, SZ_1M, 8 * SZ_1M, 0, &done));
	CHECK_EQ(done, SZ_2M);
	CHECK_EQ(locked_vm_kb(0), base);
	return TEST_PASS;
}

/* One unmap over several mappings returns the sum of their sizes. */
FIXTURE_TEST(test_unmap_many)
{
	uint64_t done = 0;

	CHECK_OK(map(SZ_1M, SZ_4K));
	CHECK_OK(map(SZ_2M, SZ_1M));
	CHECK_OK(map(5 * SZ_1M, 2 * SZ_4K));
	CHECK_OK(map(64 * SZ_1M, SZ_4K));	/* outside the range below */
	CHECK_OK(__vfio_dma_unmap(d.container, 0, 32 * SZ_1M, 0, &done));
	CHECK_EQ(done, SZ_1M + 3 * SZ_4K);
	CHECK_OK(__vfio_dma_unmap(d.container, 64 * SZ_1M, SZ_4K, 0, &done));
	CHECK_EQ(done, SZ_4K);
	return TEST_PASS;
}

FIXTURE_TEST(test_unmap_all)
{
	long base = locked_vm_kb(0);
	uint64_t done = 0;

	CHECK_OK(map(SZ_1M, SZ_1M));
	CHECK_OK(map(4 * SZ_1M, SZ_2M));
	CHECK_OK(map(100 * SZ_1M, SZ_4K));
	/* ALL takes neither an iova nor a size. */
	CHECK_ERRNO(__vfio_dma_unmap(d.container, SZ_1M, 0, VFIO_DMA_UNMAP_FLAG_ALL, NULL), EINVAL);
	CHECK_ERRNO(__vfio_dma_unmap(d.container, 0, SZ_1M, VFIO_DMA_UNMAP_FLAG_ALL, NULL), EINVAL);
	CHECK_OK(__vfio_dma_unmap(d.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &done));
	CHECK_EQ(done, 3 * SZ_1M + SZ_4K);
	CHECK_EQ(locked_vm_kb(0), base);
	/* Again, with nothing mapped: success, 0 bytes. */
	done = 1;
	CHECK_OK(__vfio_dma_unmap(d.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &done));
	CHECK_EQ(done, 0);
	CHECK_OK(map(SZ_1M, SZ_1M));
	return TEST_PASS;
}

FIXTURE_TEST(test_unmap_flags_argsz)
{
	struct vfio_iommu_type1_dma_unmap u = { .iova = SZ_1M, .size = SZ_1M };

	CHECK_OK(map(SZ_1M, SZ_1M));
	CHECK_ERRNO(__vfio_dma_unmap(d.container, SZ_1M, SZ_1M, 1u << 3, NULL), EINVAL);
	CHECK_ERRNO(__vfio_dma_unmap(d.container, SZ_1M, SZ_1M, 1u << 31, NULL), EINVAL);
	/* A dirty bitmap cannot go with ALL. */
	CHECK_ERRNO(__vfio_dma_unmap(d.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL |
				     VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP, NULL), EINVAL);
	u.argsz = 0;
	CHECK_ERRNO(ioctl(d.container, VFIO_IOMMU_UNMAP_DMA, &u), EINVAL);
	u.argsz = sizeof(u) - 1;
	CHECK_ERRNO(ioctl(d.container, VFIO_IOMMU_UNMAP_DMA, &u), EINVAL);
	CHECK_ERRNO(ioctl(d.container, VFIO_IOMMU_UNMAP_DMA, NULL), EFAULT);
	CHECK_ERRNO(map(SZ_1M, SZ_1M), EEXIST);
	u.argsz = sizeof(u);
	CHECK_OK(ioctl(d.container, VFIO_IOMMU_UNMAP_DMA, &u));
	CHECK_EQ(u.size, SZ_1M);
	return TEST_PASS;
}

/* If type1 reports the DMA-available capability, it counts mappings. */
FIXTURE_TEST(test_dma_avail_cap)
{
	struct vfio_iommu_type1_info *info;
	struct vfio_iommu_type1_info_dma_avail *a;
	uint32_t before;

	info = vfio_iommu_info(d.container);
	CHECK(info != NULL);
	a = (void *)vfio_info_cap_find(info, info->cap_offset,
				       VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	if (!a) {
		free(info);
		SKIP("no VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL capability");
	}
	before = a->avail;
	free(info);
	CHECK_OK(map(SZ_1M, SZ_4K));
	CHECK_OK(map(SZ_2M, SZ_4K));
	info = vfio_iommu_info(d.container);
	CHECK(info != NULL);
	a = (void *)vfio_info_cap_find(info, info->cap_offset,
				       VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL);
	CHECK(a != NULL);
	CHECK_EQ(a->avail, before - 2);
	free(info);
	return TEST_PASS;
}

/*
 * The dma_entry_limit module parameter caps the number of mappings of a
 * container (read when the container gets its IOMMU): one more is ENOSPC.
 */
static int test_dma_entry_limit(void)
{
	const char *param = "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit";
	char old[32] = "";
	FILE *f = fopen(param, "r");
	int i, ret = TEST_FAIL;

	if (!f)
		SKIP("no %s", param);
	if (!fgets(old, sizeof(old), f))
		old[0] = '\0';
	fclose(f);
	f = fopen(param, "w");
	CHECK(f != NULL);
	fprintf(f, "4\n");
	CHECK_EQ(fclose(f), 0);
	setup();
	for (i = 0; i < 4; i++)
		if (map(SZ_1M + i * SZ_1M, SZ_4K))
			goto out;
	if (map(16 * SZ_1M, SZ_4K) != -ENOSPC) {
		fprintf(stderr, "  5th mapping with dma_entry_limit=4: not ENOSPC\n");
		goto out;
	}
	/* Unmapping one makes room for one. */
	vfio_dma_unmap(d.container, SZ_1M, SZ_4K);
	if (map(16 * SZ_1M, SZ_4K))
		goto out;
	ret = TEST_PASS;
out:
	teardown();
	f = fopen(param, "w");
	if (f) {
		fputs(old, f);
		fclose(f);
	}
	return ret;
}

/*
 * RLIMIT_MEMLOCK applies to a process without CAP_IPC_LOCK: a map that
 * would go over it fails with ENOMEM and charges nothing.  Run in a child,
 * which drops the capability and opens the group itself.
 */
static int test_rlimit_memlock(void)
{
	pid_t pid = fork();
	int status;

	CHECK(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { .rlim_cur = SZ_1M, .rlim_max = SZ_1M };
		long base;
		int ret = 0;

		if (setrlimit(RLIMIT_MEMLOCK, &rl) || drop_cap_ipc_lock()) {
			perror("setrlimit/capset");
			_exit(2);
		}
		setup();
		base = locked_vm_kb(0);
#define CHILD_CHECK(c) do { if (!(c)) { fprintf(stderr, "  %s:%d: check failed: %s (locked_vm %ld)\n", __FILE__, __LINE__, #c, locked_vm_kb(0)); ret = 1; goto out; } } while (0)
		CHILD_CHECK(base == 0);
		CHILD_CHECK(map(SZ_1M, SZ_2M) == -ENOMEM);
		CHILD_CHECK(locked_vm_kb(0) == base);
		CHILD_CHECK(map(SZ_1M, SZ_1M + SZ_4K) == -ENOMEM);
		CHILD_CHECK(locked_vm_kb(0) == base);
		/* Up to the limit is fine... */
		CHILD_CHECK(map(SZ_1M, SZ_1M / 2) == 0);
		CHILD_CHECK(locked_vm_kb(0) == base + 512);
		CHILD_CHECK(map(SZ_2M, SZ_1M / 2) == 0);
		CHILD_CHECK(locked_vm_kb(0) == base + 1024);
		/* ...one page more is not. */
		CHILD_CHECK(map(4 * SZ_1M, SZ_4K) == -ENOMEM);
		CHILD_CHECK(locked_vm_kb(0) == base + 1024);
		/* Unmapping gives the room back. */
		vfio_dma_unmap(d.container, SZ_2M, SZ_1M / 2);
		CHILD_CHECK(map(4 * SZ_1M, SZ_4K) == 0);
		CHILD_CHECK(locked_vm_kb(0) == base + 512 + 4);
out:
		teardown();
		_exit(ret);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	return TEST_PASS;
}

/* Type1 ioctls on a container whose IOMMU is type1 (v1): the same checks. */
static int test_type1_v1_basics(void)
{
	uint64_t done = 0;

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1_IOMMU);
	CHECK_OK(map(SZ_2M, SZ_2M));
	CHECK_ERRNO(map(SZ_2M, SZ_4K), EEXIST);
	/*
	 * v1 compatibility: an unmap starting inside a mapping succeeds and
	 * unmaps nothing; one covering its first IOVA takes it whole.
	 */
	CHECK_OK(__vfio_dma_unmap(d.container, 3 * SZ_1M, SZ_1M, 0, &done));
	CHECK_EQ(done, 0);
	CHECK_OK(__vfio_dma_unmap(d.container, SZ_2M, SZ_4K, 0, &done));
	CHECK_EQ(done, SZ_2M);
	teardown();
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_get_info),
	TEST(test_get_info_argsz),
	TEST(test_get_info_no_stray_bytes),
	TEST(test_iova_range_cap),
	TEST(test_map_unmap),
	TEST(test_map_same_pages_twice),
	TEST(test_map_misaligned),
	TEST(test_map_flags),
	TEST(test_map_argsz),
	TEST(test_map_overlap),
	TEST(test_map_wrap),
	TEST(test_map_reserved_iova),
	TEST(test_map_bad_vaddr),
	TEST(test_unmap_not_mapped),
	TEST(test_unmap_misaligned),
	TEST(test_unmap_no_split),
	TEST(test_unmap_many),
	TEST(test_unmap_all),
	TEST(test_unmap_flags_argsz),
	TEST(test_dma_avail_cap),
	TEST(test_dma_entry_limit),
	TEST(test_rlimit_memlock),
	TEST(test_type1_v1_basics),
};

int main(int argc, char **argv)
{
	buf = alloc_buffer(buf_size);
	return RUN_TESTS_FORKED("vfio_uapi_type1", tests, argc, argv);
}
