// SPDX-License-Identifier: GPL-2.0
/*
 * One type1 container, two groups (edu's and e1000e's), and what 6.1 does
 * when the second group cannot join the container's IOMMU domain (an
 * IOMMU of another driver, or one that cannot enforce cache coherency as
 * the domain does): the group gets a domain of its own in the same
 * container, every mapping is replayed into it, and later maps and unmaps
 * go to every domain.
 *
 * The bench has one IOMMU, so every group joins the first domain.  On our
 * stack each case runs twice: joined, and split, with the fault point
 * domain_join playing an IOMMU that refuses; on the in-tree stack joined
 * only.  The same must hold every time:
 *  - edu's DMA reaches a buffer mapped before its group came (replayed
 *    into its domain when split) and one mapped after (mapped in both);
 *  - GET_INFO's page sizes and VFIO_DMA_CC_IOMMU stay what they were;
 *  - once the other group has left (its domain freed when split), edu's
 *    DMA still reaches every mapping, and a new one; the group comes back;
 *  - every unmap unmaps its size; after close VmLck and FOLL_PIN are back.
 * Split only: a replay that fails half-way (fault point iommu_map) fails
 * the attach with ENOMEM, leaves nothing mapped or pinned in the new
 * domain's name, and the group attaches next time.
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "check.h"
#include "vfio_util.h"

#define BUF_SIZE	(64 * PAGE)
/* edu reaches IOVAs below 256 MiB (EDU_IOVA_LIMIT). */
#define IOVA_BEFORE	0x100000ULL	/* mapped before the second group came */
#define IOVA_AFTER	0x200000ULL	/* mapped after */
#define IOVA_LATE	0x300000ULL	/* mapped after the other group left */
/* A copy across a page boundary of scattered buffers: two runs. */
#define COPY_OFF	(3 * PAGE - 1024)
#define COPY_LEN	2048

static bool ours;	/* our stack: the fault points exist */

struct bench {
	int container;
	int nic_group;
	struct vfio_dev edu;	/* its container field is unused: -1 */
};

static void bench_open(struct bench *b)
{
	char bdf[32];

	b->container = vfio_container_open();
	vfio_pci_find(E1000E_VENDOR, E1000E_DEVICE, bdf, sizeof(bdf));
	b->nic_group = vfio_group_open(vfio_iommu_group_of(bdf));
	memset(&b->edu, 0, sizeof(b->edu));
	b->edu.container = b->edu.device = -1;
	vfio_pci_find(EDU_VENDOR, EDU_DEVICE, b->edu.bdf, sizeof(b->edu.bdf));
	b->edu.group_id = vfio_iommu_group_of(b->edu.bdf);
	b->edu.group = vfio_group_open(b->edu.group_id);
}

static void bench_close(struct bench *b)
{
	vfio_dev_close(&b->edu);
	close(b->nic_group);
	close(b->container);
}

/* edu's device fd and BAR0, once its group is in the container. */
static void edu_open(struct bench *b)
{
	b->edu.device = vfio_group_get_device_fd(b->edu.group, b->edu.bdf);
	vfio_dev_map_bar0(&b->edu);
}

/*
 * Attach @group to the container that has an IOMMU set; split: through
 * a domain of its own.  Returns 0 or -errno.
 */
static int attach(struct bench *b, int group, bool split)
{
	int ret;

	if (split)
		vfio_fault_arm("domain_join", 0, 1);
	ret = __vfio_group_set_container(group, b->container);
	if (split && vfio_fault_disarm("domain_join") != 1) {
		fprintf(stderr, "domain_join was never asked: no domain to join?\n");
		return -EPROTO;
	}
	return ret;
}

/*
 * Whether edu's DMA carries a fresh pattern from @src (IOVA @src_iova) to
 * @dst (@dst_iova) through its buffer: 0 if it arrived whole.
 */
static int edu_carries(struct bench *b, uint8_t *src, uint64_t src_iova,
		       uint8_t *dst, uint64_t dst_iova)
{
	static unsigned int seed = 1;
	int ret;

	fill_pattern(src + COPY_OFF, COPY_LEN, seed++);
	memset(dst + COPY_OFF, 0, COPY_LEN);
	ret = __edu_dma(&b->edu, src_iova + COPY_OFF, 0, COPY_LEN, false);
	if (!ret)
		ret = __edu_dma(&b->edu, dst_iova + COPY_OFF, 0, COPY_LEN, true);
	if (ret)
		return ret;
	return memcmp(src + COPY_OFF, dst + COPY_OFF, COPY_LEN) ? -EIO : 0;
}

static uint64_t pgsizes(int container)
{
	struct vfio_iommu_type1_info *info = vfio_iommu_info(container);
	uint64_t sizes = info ? info->iova_pgsizes : 0;

	free(info);
	return sizes;
}

static int unmap_whole(int container, uint64_t iova)
{
	uint64_t unmapped = 0;

	CHECK_OK(__vfio_dma_unmap(container, iova, BUF_SIZE, 0, &unmapped));
	CHECK_EQ(unmapped, BUF_SIZE);
	return TEST_PASS;
}

/*
 * The case: @edu_first decides whose group sets the IOMMU (and, split,
 * keeps the first domain) and whose joins second.
 */
static int two_groups(bool edu_first, bool split)
{
	uint8_t *before = alloc_scattered_buffer(BUF_SIZE);
	uint8_t *after = alloc_scattered_buffer(BUF_SIZE);
	uint8_t *late = alloc_scattered_buffer(BUF_SIZE);
	long vmlck = locked_vm_kb(0), pins = foll_pins_held();
	uint64_t sizes;
	struct bench b;
	int first, second, cc;

	printf("# edu's group %s, %s\n", edu_first ? "first" : "second",
	       split ? "split: the second group in a domain of its own" : "joined");
	bench_open(&b);
	first = edu_first ? b.edu.group : b.nic_group;
	second = edu_first ? b.nic_group : b.edu.group;
	vfio_group_set_container(first, b.container);
	vfio_set_iommu(b.container, VFIO_TYPE1v2_IOMMU);
	sizes = pgsizes(b.container);
	cc = ioctl(b.container, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU);
	CHECK(sizes != 0);
	CHECK_OK(__vfio_dma_map(b.container, before, IOVA_BEFORE, BUF_SIZE,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));

	CHECK_OK(attach(&b, second, split));
	CHECK_EQ(pgsizes(b.container), sizes);
	CHECK_EQ(ioctl(b.container, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU), cc);
	edu_open(&b);
	CHECK_OK(__vfio_dma_map(b.container, after, IOVA_AFTER, BUF_SIZE,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	CHECK_OK(edu_carries(&b, before, IOVA_BEFORE, after, IOVA_AFTER));
	CHECK_OK(edu_carries(&b, after, IOVA_AFTER, before, IOVA_BEFORE));

	/* The NIC's group leaves; split, its domain goes with it. */
	CHECK_OK(ioctl(b.nic_group, VFIO_GROUP_UNSET_CONTAINER));
	CHECK_EQ(pgsizes(b.container), sizes);
	CHECK_OK(__vfio_dma_map(b.container, late, IOVA_LATE, BUF_SIZE,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	CHECK_OK(edu_carries(&b, before, IOVA_BEFORE, late, IOVA_LATE));
	CHECK_OK(edu_carries(&b, late, IOVA_LATE, after, IOVA_AFTER));
	if (unmap_whole(b.container, IOVA_BEFORE) != TEST_PASS)
		return TEST_FAIL;

	/* And comes back: split, into a third domain, two mappings replayed. */
	CHECK_OK(attach(&b, b.nic_group, split));
	CHECK_EQ(ioctl(b.container, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU), cc);
	CHECK_OK(edu_carries(&b, after, IOVA_AFTER, late, IOVA_LATE));
	if (unmap_whole(b.container, IOVA_AFTER) != TEST_PASS ||
	    unmap_whole(b.container, IOVA_LATE) != TEST_PASS)
		return TEST_FAIL;

	bench_close(&b);
	CHECK_EQ(locked_vm_kb(0), vmlck);
	CHECK_EQ(foll_pins_held(), pins);
	munmap(before, BUF_SIZE);
	munmap(after, BUF_SIZE);
	munmap(late, BUF_SIZE);
	return TEST_PASS;
}

static int both_ways(bool edu_first)
{
	int ret = two_groups(edu_first, false);

	if (ret == TEST_PASS && ours)
		ret = two_groups(edu_first, true);
	return ret;
}

/* edu's group joins a container that already maps. */
static int test_edu_second(void) { return both_ways(false); }

/* edu's group sets the IOMMU; the NIC's joins, leaves and comes back. */
static int test_edu_first(void) { return both_ways(true); }

/*
 * Split only: the replay into edu's new domain fails at the second run of
 * the second mapping (a one-page mapping first, one run).  ENOMEM; the
 * group is in no container, the mappings and the pages pinned are those
 * of before, and the next attach (split again) works.
 */
static int test_replay_fails(void)
{
	uint8_t *one = alloc_buffer(PAGE);
	uint8_t *many = alloc_scattered_buffer(BUF_SIZE);
	long pinned_before, mappings_before;
	uint32_t flags;
	struct bench b;

	if (!ours) {
		printf("# in-tree: no fault points, nothing to split\n");
		return TEST_PASS;
	}
	bench_open(&b);
	vfio_group_set_container(b.nic_group, b.container);
	vfio_set_iommu(b.container, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(__vfio_dma_map(b.container, one, IOVA_BEFORE, PAGE,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	CHECK_OK(__vfio_dma_map(b.container, many, IOVA_AFTER, BUF_SIZE,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	pinned_before = read_key("/sys/kernel/debug/vfio/type1", "pinned");
	mappings_before = read_key("/sys/kernel/debug/vfio/type1", "mappings");

	vfio_fault_arm("domain_join", 0, 1);
	vfio_fault_arm("iommu_map", 2, 1);
	CHECK_EQ(__vfio_group_set_container(b.edu.group, b.container), -ENOMEM);
	CHECK_EQ(vfio_fault_disarm("iommu_map"), 1);
	CHECK_EQ(vfio_fault_disarm("domain_join"), 1);
	CHECK_OK(__vfio_group_status(b.edu.group, &flags));
	CHECK(!(flags & VFIO_GROUP_FLAGS_CONTAINER_SET));
	CHECK_EQ(read_key("/sys/kernel/debug/vfio/type1", "pinned"), pinned_before);
	CHECK_EQ(read_key("/sys/kernel/debug/vfio/type1", "mappings"), mappings_before);

	CHECK_OK(attach(&b, b.edu.group, true));
	edu_open(&b);
	CHECK_OK(edu_carries(&b, many, IOVA_AFTER, many + 4 * PAGE, IOVA_AFTER + 4 * PAGE));
	bench_close(&b);
	CHECK_EQ(read_key("/sys/kernel/debug/vfio/type1", "pinned"), 0);
	munmap(one, PAGE);
	munmap(many, BUF_SIZE);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_edu_second),
	TEST(test_edu_first),
	TEST(test_replay_fails),
};

int main(int argc, char **argv)
{
	const char *stack = getenv("VFIOSCOPE_STACK");

	setvbuf(stdout, NULL, _IOLBF, 0);
	ours = !stack || strcmp(stack, "intree");
	return RUN_TESTS_FORKED("vfio_domains", tests, argc, argv);
}
