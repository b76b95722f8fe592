// SPDX-License-Identifier: GPL-2.0
/*
 * Real DMA through the IOMMU with edu: a round trip RAM -> device -> RAM
 * through IOVAs matches byte for byte, and DMA the container did not allow
 * (unmapped, unmapped again, read-only) is blocked: the memory behind it
 * is unchanged.  Each blocked case prints "# dma-fault <dir> iova 0x..."
 * so the guest script can find the IOMMU's fault report in dmesg.
 */
#include <stdlib.h>
#include <unistd.h>
#include <sys/mman.h>

#include "check.h"
#include "vfio_util.h"

static struct vfio_dev d;

static void setup(void)
{
	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	vfio_dev_map_bar0(&d);
}

/* First differing byte of a and b, or -1. */
static long first_diff(const uint8_t *a, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (a[i] != b[i])
			return i;
	return -1;
}

static int all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/*
 * Announce a DMA the IOMMU must block.  The DMAR driver rate-limits its
 * fault reports (10 messages per 5 s, three per fault) and QEMU collapses
 * a fault raised while the previous one is pending: spacing the faults
 * lets every one of them reach dmesg, where the guest script looks.
 */
static void expect_fault(const char *dir, uint64_t iova)
{
	sleep(2);
	printf("# dma-fault %s iova 0x%llx\n", dir, (unsigned long long)iova);
}

/* RAM -> device -> RAM, count bytes, at an offset inside the pages. */
static int round_trip(uint32_t off, uint32_t count, uint32_t devoff)
{
	uint8_t *src = alloc_buffer(2 * PAGE), *dst = alloc_buffer(2 * PAGE);
	uint64_t src_iova = 0x100000, dst_iova = 0x200000;
	long diff;

	fill_pattern(src, 2 * PAGE, off * 31 + count);
	memset(dst, 0xee, 2 * PAGE);
	CHECK_OK(__vfio_dma_map(d.container, src, src_iova, 2 * PAGE, VFIO_DMA_MAP_FLAG_READ));
	CHECK_OK(__vfio_dma_map(d.container, dst, dst_iova, 2 * PAGE, VFIO_DMA_MAP_FLAG_WRITE));
	CHECK_OK(__edu_dma(&d, src_iova + off, devoff, count, false));
	CHECK_OK(__edu_dma(&d, dst_iova + off, devoff, count, true));
	diff = first_diff(src + off, dst + off, count);
	if (diff >= 0)
		fprintf(stderr, "  byte %ld of %u differs: 0x%02x != 0x%02x\n", diff, count,
			dst[off + diff], src[off + diff]);
	CHECK_EQ(diff, -1);
	/* Not one byte more: around the transfer dst is untouched. */
	CHECK(all_bytes(dst, off, 0xee));
	CHECK(all_bytes(dst + off + count, 2 * PAGE - off - count, 0xee));
	vfio_dma_unmap(d.container, src_iova, 2 * PAGE);
	vfio_dma_unmap(d.container, dst_iova, 2 * PAGE);
	munmap(src, 2 * PAGE);
	munmap(dst, 2 * PAGE);
	return TEST_PASS;
}

static int test_round_trip_page(void)
{
	setup();
	return round_trip(0, EDU_DMA_MAX, 0);
}

/* Across a page boundary of the IOVA space: two IOMMU pages. */
static int test_round_trip_crossing(void)
{
	setup();
	return round_trip(PAGE - 1000, 3000, 0);
}

static int test_round_trip_small(void)
{
	setup();
	if (round_trip(0, 1, 0) || round_trip(123, 77, 4000 - 77))
		return TEST_FAIL;
	return TEST_PASS;
}

/* Many buffers at many IOVAs, the last below edu's 28-bit limit. */
static int test_round_trip_iovas(void)
{
	static const uint64_t iovas[] = { 0x0, 0x1000, 0x7fff000, 0xfff0000, EDU_IOVA_LIMIT - PAGE };
	uint8_t *src = alloc_buffer(PAGE), *dst = alloc_buffer(PAGE);

	setup();
	for (size_t i = 0; i < sizeof(iovas) / sizeof(iovas[0]); i++) {
		fill_pattern(src, PAGE, i + 7);
		memset(dst, 0, PAGE);
		CHECK_OK(__vfio_dma_map(d.container, src, iovas[i], PAGE, VFIO_DMA_MAP_FLAG_READ));
		CHECK_OK(__edu_dma(&d, iovas[i], 0, 2048, false));
		vfio_dma_unmap(d.container, iovas[i], PAGE);
		CHECK_OK(__vfio_dma_map(d.container, dst, iovas[i], PAGE, VFIO_DMA_MAP_FLAG_WRITE));
		CHECK_OK(__edu_dma(&d, iovas[i], 0, 2048, true));
		vfio_dma_unmap(d.container, iovas[i], PAGE);
		CHECK_EQ(first_diff(src, dst, 2048), -1);
	}
	return TEST_PASS;
}

/* Put a known pattern in the device buffer through a mapped IOVA. */
static int load_device(uint8_t *pattern, size_t n)
{
	uint8_t *src = alloc_buffer(PAGE);

	memcpy(src, pattern, n);
	CHECK_OK(__vfio_dma_map(d.container, src, 0x10000, PAGE, VFIO_DMA_MAP_FLAG_READ));
	CHECK_OK(__edu_dma(&d, 0x10000, 0, n, false));
	vfio_dma_unmap(d.container, 0x10000, PAGE);
	munmap(src, PAGE);
	return TEST_PASS;
}

/* Read the device buffer back through a mapped IOVA. */
static int read_device(uint8_t *out, size_t n)
{
	uint8_t *dst = alloc_buffer(PAGE);

	CHECK_OK(__vfio_dma_map(d.container, dst, 0x20000, PAGE, VFIO_DMA_MAP_FLAG_WRITE));
	CHECK_OK(__edu_dma(&d, 0x20000, 0, n, true));
	vfio_dma_unmap(d.container, 0x20000, PAGE);
	memcpy(out, dst, n);
	munmap(dst, PAGE);
	return TEST_PASS;
}

/*
 * Device -> RAM at an IOVA that was mapped and then unmapped: the pages
 * that were behind it keep their content.
 */
static int test_write_to_unmapped_blocked(void)
{
	uint8_t *victim = alloc_buffer(PAGE), pattern[2048];
	uint64_t iova = 0x300000;

	setup();
	fill_pattern(pattern, sizeof(pattern), 99);
	if (load_device(pattern, sizeof(pattern)))
		return TEST_FAIL;
	memset(victim, 0xaa, PAGE);
	CHECK_OK(__vfio_dma_map(d.container, victim, iova, PAGE, VFIO_DMA_MAP_FLAG_WRITE));
	vfio_dma_unmap(d.container, iova, PAGE);
	expect_fault("write", iova);
	/* The device completes the command; the IOMMU drops the writes. */
	CHECK_OK(__edu_dma(&d, iova, 0, sizeof(pattern), true));
	CHECK(all_bytes(victim, PAGE, 0xaa));
	/* An IOVA never mapped at all. */
	expect_fault("write", 0x4000000ULL);
	CHECK_OK(__edu_dma(&d, 0x4000000, 0, sizeof(pattern), true));
	CHECK(all_bytes(victim, PAGE, 0xaa));
	return TEST_PASS;
}

/* A mapping without WRITE: the device may read it but not write it. */
static int test_write_to_readonly_blocked(void)
{
	uint8_t *ro = alloc_buffer(PAGE), pattern[2048], back[2048];
	uint64_t iova = 0x500000;

	setup();
	fill_pattern(pattern, sizeof(pattern), 5);
	if (load_device(pattern, sizeof(pattern)))
		return TEST_FAIL;
	memset(ro, 0x11, PAGE);
	CHECK_OK(__vfio_dma_map(d.container, ro, iova, PAGE, VFIO_DMA_MAP_FLAG_READ));
	expect_fault("write", iova);
	CHECK_OK(__edu_dma(&d, iova, 0, sizeof(pattern), true));
	CHECK(all_bytes(ro, PAGE, 0x11));
	/* Reading it is allowed: the device buffer becomes 0x11s. */
	CHECK_OK(__edu_dma(&d, iova, 0, sizeof(pattern), false));
	if (read_device(back, sizeof(back)))
		return TEST_FAIL;
	CHECK(all_bytes(back, sizeof(back), 0x11));
	return TEST_PASS;
}

/* RAM -> device from an unmapped IOVA: the device buffer is not changed. */
static int test_read_from_unmapped_blocked(void)
{
	uint8_t *secret = alloc_buffer(PAGE), pattern[2048], back[2048];
	uint64_t iova = 0x600000;

	setup();
	fill_pattern(pattern, sizeof(pattern), 42);
	if (load_device(pattern, sizeof(pattern)))
		return TEST_FAIL;
	memset(secret, 0x77, PAGE);
	CHECK_OK(__vfio_dma_map(d.container, secret, iova, PAGE, VFIO_DMA_MAP_FLAG_READ));
	vfio_dma_unmap(d.container, iova, PAGE);
	expect_fault("read", iova);
	CHECK_OK(__edu_dma(&d, iova, 0, sizeof(pattern), false));
	if (read_device(back, sizeof(back)))
		return TEST_FAIL;
	/*
	 * The device must not have got the secret: its buffer keeps the old
	 * pattern, or holds what QEMU returns for a failed read (0s or 1s).
	 */
	if (!(first_diff(back, pattern, sizeof(back)) == -1 ||
	      all_bytes(back, sizeof(back), 0x00) || all_bytes(back, sizeof(back), 0xff))) {
		fprintf(stderr, "  device buffer after a blocked read: %02x %02x %02x %02x...\n",
			back[0], back[1], back[2], back[3]);
		return TEST_FAIL;
	}
	printf("# device buffer after the blocked read: %s\n",
	       first_diff(back, pattern, sizeof(back)) == -1 ? "unchanged" :
	       back[0] ? "all ones" : "all zeros");
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_round_trip_page),
	TEST(test_round_trip_crossing),
	TEST(test_round_trip_small),
	TEST(test_round_trip_iovas),
	TEST(test_write_to_unmapped_blocked),
	TEST(test_write_to_readonly_blocked),
	TEST(test_read_from_unmapped_blocked),
};

int main(int argc, char **argv)
{
	return RUN_TESTS_FORKED("vfio_dma", tests, argc, argv);
}
