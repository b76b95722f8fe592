// SPDX-License-Identifier: GPL-2.0
/*
 * Type1's safety checks on what MAP_DMA may hand to the IOMMU, the ones
 * Linux 6.1 makes, asserted the same on both stacks:
 *
 *  - a VM_PFNMAP area is mapped without pinning only when its pfns are not
 *    ordinary RAM (device memory, or pages a driver marked reserved); RAM
 *    behind a remap_pfn_range() is EFAULT and leaves nothing behind.  The
 *    areas come from the test module vfio_pfnmap_pages.ko
 *    (kernel/testing/vfio_pfnmap_pages.c, /dev/vfio-pfnmap-pages).
 *  - a write mapping of such an area needs VM_WRITE and a writable pte.
 *  - reserved pfns are not charged to locked_vm, and nothing is pinned.
 *  - reserved pfns are outside RLIMIT_MEMLOCK too.
 *  - a vaddr in the kernel's half is EFAULT; a huge size fails cleanly.
 *
 * The interrupt-remapping cases (test_intremap_*) need a boot without
 * interrupt remapping (tests/vm/guest/security-intremap.sh) and run only
 * when named on the command line.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>

#include "check.h"
#include "vfio_util.h"

#define RW		(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
#define IOVA		(4 * SZ_1M)

/* vfio_pfnmap_pages.ko's mmap offsets (in pages). */
#define PFNMAP_RAM	0
#define PFNMAP_RESERVED	1
#define PFNMAP_HALF	2
#define PFNMAP_DEV	"/dev/vfio-pfnmap-pages"

static struct vfio_dev d;
static void *buf;		/* 1 MiB of ordinary anonymous memory */

/* An area of @pages pages of the test module, mode @mode. */
static void *pfnmap_area(int mode, size_t pages, int prot, int flags)
{
	int fd = open(PFNMAP_DEV, O_RDWR);
	void *p;

	if (fd < 0) {
		fprintf(stderr, "  open %s: %s (insmod vfio_pfnmap_pages.ko first)\n",
			PFNMAP_DEV, strerror(errno));
		return NULL;
	}
	p = mmap(NULL, pages * PAGE, prot, flags, fd, mode * PAGE);
	close(fd);	/* the mapping keeps what it needs */
	if (p == MAP_FAILED) {
		fprintf(stderr, "  mmap of %s mode %d: %s\n", PFNMAP_DEV, mode,
			strerror(errno));
		return NULL;
	}
	return p;
}

/* Nothing of a failed map stayed: the IOVA maps again, ordinary memory. */
static int iova_is_free(uint64_t iova, uint64_t size)
{
	uint64_t done = 0;

	CHECK_OK(__vfio_dma_map(d.container, buf, iova, size, RW));
	CHECK_OK(__vfio_dma_unmap(d.container, iova, size, 0, &done));
	CHECK_EQ(done, size);
	return TEST_PASS;
}

#define FIXTURE_TEST(name)						\
	static int __##name(void);					\
	static int name(void)						\
	{								\
		vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU); \
		return __##name();	/* the process exit closes all */ \
	}								\
	static int __##name(void)

/*
 * Kernel pages remapped into user space are no device memory: the IOMMU
 * must not get them (6.1: is_invalid_reserved_pfn() false, EFAULT), or a
 * device could write them after their owner freed them.
 */
FIXTURE_TEST(test_pfnmap_ram_refused)
{
	long locked = locked_vm_kb(0), pins = foll_pins_held();
	void *p = pfnmap_area(PFNMAP_RAM, 4, PROT_READ | PROT_WRITE, MAP_SHARED);

	CHECK(p != NULL);
	CHECK_ERRNO(__vfio_dma_map(d.container, p, IOVA, 4 * PAGE, RW), EFAULT);
	CHECK_ERRNO(__vfio_dma_map(d.container, p, IOVA, 4 * PAGE,
				   VFIO_DMA_MAP_FLAG_READ), EFAULT);
	CHECK_ERRNO(__vfio_dma_map(d.container, (char *)p + 3 * PAGE, IOVA, PAGE, RW),
		    EFAULT);
	CHECK_EQ(locked_vm_kb(0), locked);
	CHECK_EQ(foll_pins_held(), pins);
	CHECK_EQ(iova_is_free(IOVA, 4 * PAGE), TEST_PASS);
	CHECK_OK(munmap(p, 4 * PAGE));
	return TEST_PASS;
}

/*
 * Reserved pages then RAM in one area: the reserved run maps, the RAM one
 * fails, and the failure takes the first run down again.
 */
FIXTURE_TEST(test_pfnmap_half_refused)
{
	long locked = locked_vm_kb(0), pins = foll_pins_held();
	void *p = pfnmap_area(PFNMAP_HALF, 8, PROT_READ | PROT_WRITE, MAP_SHARED);

	CHECK(p != NULL);
	CHECK_ERRNO(__vfio_dma_map(d.container, p, IOVA, 8 * PAGE, RW), EFAULT);
	CHECK_EQ(locked_vm_kb(0), locked);
	CHECK_EQ(foll_pins_held(), pins);
	CHECK_EQ(iova_is_free(IOVA, 8 * PAGE), TEST_PASS);
	/* The reserved half alone is fine. */
	CHECK_OK(__vfio_dma_map(d.container, p, IOVA, 4 * PAGE, RW));
	CHECK_EQ(locked_vm_kb(0), locked);
	vfio_dma_unmap(d.container, IOVA, 4 * PAGE);
	CHECK_OK(munmap(p, 8 * PAGE));
	return TEST_PASS;
}

/*
 * Reserved pages map without pinning and without a charge to locked_vm,
 * and edu's DMA really goes through them: page 0 to the device, back to
 * page 1.
 */
FIXTURE_TEST(test_pfnmap_reserved_ok)
{
	long locked = locked_vm_kb(0), pins = foll_pins_held();
	unsigned char *p = pfnmap_area(PFNMAP_RESERVED, 4, PROT_READ | PROT_WRITE,
				       MAP_SHARED);
	uint64_t done = 0;
	int i;

	CHECK(p != NULL);
	vfio_dev_map_bar0(&d);
	for (i = 0; i < 256; i++)
		p[i] = i ^ 0x5a;
	CHECK_OK(__vfio_dma_map(d.container, p, IOVA, 4 * PAGE, RW));
	CHECK_EQ(locked_vm_kb(0), locked);
	CHECK_EQ(foll_pins_held(), pins);
	CHECK_OK(__edu_dma(&d, IOVA, 0, 256, false));
	CHECK_OK(__edu_dma(&d, IOVA + PAGE, 0, 256, true));
	for (i = 0; i < 256; i++)
		CHECK_EQ(p[PAGE + i], i ^ 0x5a);
	CHECK_OK(__vfio_dma_unmap(d.container, IOVA, 4 * PAGE, 0, &done));
	CHECK_EQ(done, 4 * PAGE);
	CHECK_EQ(locked_vm_kb(0), locked);
	CHECK_OK(munmap(p, 4 * PAGE));
	return TEST_PASS;
}

/*
 * Reserved pfns cost no locked memory, so RLIMIT_MEMLOCK does not apply
 * to them: with a limit of 0 and no CAP_IPC_LOCK they still map, while
 * one page of ordinary memory does not.
 */
static int test_pfnmap_reserved_no_rlimit(void)
{
	struct rlimit rl = { 0, 0 };
	void *p;

	CHECK_OK(setrlimit(RLIMIT_MEMLOCK, &rl));
	CHECK_OK(drop_cap_ipc_lock());
	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	p = pfnmap_area(PFNMAP_RESERVED, 16, PROT_READ | PROT_WRITE, MAP_SHARED);
	CHECK(p != NULL);
	CHECK_ERRNO(__vfio_dma_map(d.container, buf, IOVA, PAGE, RW), ENOMEM);
	CHECK_OK(__vfio_dma_map(d.container, p, IOVA, 16 * PAGE, RW));
	CHECK_EQ(locked_vm_kb(0), 0);
	vfio_dma_unmap(d.container, IOVA, 16 * PAGE);
	CHECK_OK(munmap(p, 16 * PAGE));
	return TEST_PASS;
}

/*
 * A private (copy on write) remap has VM_WRITE but read-only ptes: a
 * device may read it, never write it (6.1's follow_fault_pfn() checks
 * pte_write()).
 */
FIXTURE_TEST(test_pfnmap_pte_readonly)
{
	long locked = locked_vm_kb(0);
	void *p = pfnmap_area(PFNMAP_RESERVED, 4, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE);

	CHECK(p != NULL);
	CHECK_ERRNO(__vfio_dma_map(d.container, p, IOVA, 4 * PAGE, RW), EFAULT);
	CHECK_ERRNO(__vfio_dma_map(d.container, p, IOVA, 4 * PAGE,
				   VFIO_DMA_MAP_FLAG_WRITE), EFAULT);
	CHECK_EQ(iova_is_free(IOVA, 4 * PAGE), TEST_PASS);
	CHECK_OK(__vfio_dma_map(d.container, p, IOVA, 4 * PAGE,
				VFIO_DMA_MAP_FLAG_READ));
	CHECK_EQ(locked_vm_kb(0), locked);
	vfio_dma_unmap(d.container, IOVA, 4 * PAGE);
	CHECK_OK(munmap(p, 4 * PAGE));
	return TEST_PASS;
}

/* A read-only area (no VM_WRITE): read mappings only. */
FIXTURE_TEST(test_pfnmap_vma_readonly)
{
	void *p = pfnmap_area(PFNMAP_RESERVED, 4, PROT_READ, MAP_SHARED);

	CHECK(p != NULL);
	CHECK_ERRNO(__vfio_dma_map(d.container, p, IOVA, 4 * PAGE,
				   VFIO_DMA_MAP_FLAG_WRITE), EFAULT);
	CHECK_EQ(iova_is_free(IOVA, 4 * PAGE), TEST_PASS);
	CHECK_OK(__vfio_dma_map(d.container, p, IOVA, 4 * PAGE,
				VFIO_DMA_MAP_FLAG_READ));
	vfio_dma_unmap(d.container, IOVA, 4 * PAGE);
	CHECK_OK(munmap(p, 4 * PAGE));
	return TEST_PASS;
}

/*
 * The legitimate VM_PFNMAP: a BAR mmap()ed from vfio-pci (peer to peer),
 * device memory, mapped whole, nothing pinned, nothing charged.
 */
FIXTURE_TEST(test_pfnmap_bar0)
{
	long locked = locked_vm_kb(0), pins = foll_pins_held();
	uint64_t done = 0;

	vfio_dev_map_bar0(&d);
	CHECK_EQ(edu_read32(&d, EDU_REG_ID), EDU_ID_VALUE);
	CHECK_OK(__vfio_dma_map(d.container, d.bar0, 16 * SZ_1M, d.bar0_size, RW));
	CHECK_EQ(locked_vm_kb(0), locked);
	CHECK_EQ(foll_pins_held(), pins);
	CHECK_ERRNO(__vfio_dma_map(d.container, buf, 16 * SZ_1M, PAGE, RW), EEXIST);
	CHECK_OK(__vfio_dma_unmap(d.container, 16 * SZ_1M, d.bar0_size, 0, &done));
	CHECK_EQ(done, d.bar0_size);
	return TEST_PASS;
}

/* A vaddr in the kernel's half (the direct map) is no user memory. */
FIXTURE_TEST(test_vaddr_kernel)
{
	void *kern = (void *)0xffff888000000000ULL;

	CHECK_ERRNO(__vfio_dma_map(d.container, kern, IOVA, SZ_1M, RW), EFAULT);
	CHECK_ERRNO(__vfio_dma_map(d.container, kern, IOVA, SZ_1M,
				   VFIO_DMA_MAP_FLAG_READ), EFAULT);
	/* The last user page and beyond. */
	CHECK_ERRNO(__vfio_dma_map(d.container, (void *)(0x800000000000ULL - PAGE),
				   IOVA, 2 * PAGE, RW), EFAULT);
	CHECK_EQ(iova_is_free(IOVA, SZ_1M), TEST_PASS);
	return TEST_PASS;
}

/*
 * A size of 2^38 (256 GiB, 2^26 pages) from 1 MiB of memory followed by
 * PROT_NONE: pinning stops at the first page it may not touch, EFAULT,
 * and the 256 pages pinned before are released and uncharged.  A size
 * past the usable IOVA ranges is EINVAL before anything is pinned.
 */
FIXTURE_TEST(test_map_huge_size)
{
	long locked = locked_vm_kb(0), pins = foll_pins_held();
	char *p = mmap(NULL, 4 * SZ_1M, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS,
		       -1, 0);

	CHECK(p != MAP_FAILED);
	CHECK_OK(mprotect(p, SZ_1M, PROT_READ | PROT_WRITE));
	memset(p, 1, SZ_1M);
	/* [256 GiB, 512 GiB): inside the bench's usable IOVA ranges. */
	CHECK_ERRNO(__vfio_dma_map(d.container, p, 1ULL << 38, 1ULL << 38, RW), EFAULT);
	CHECK_ERRNO(__vfio_dma_map(d.container, p, 1ULL << 38, 1ULL << 62, RW), EINVAL);
	CHECK_EQ(locked_vm_kb(0), locked);
	CHECK_EQ(foll_pins_held(), pins);
	CHECK_EQ(iova_is_free(1ULL << 38, SZ_1M), TEST_PASS);
	munmap(p, 4 * SZ_1M);
	return TEST_PASS;
}

/* Open edu's group in a fresh container, up to (not including) SET_IOMMU. */
static int group_in_container(uint16_t vendor, uint16_t device, int *container,
			      int *group)
{
	char bdf[32];

	vfio_pci_find(vendor, device, bdf, sizeof(bdf));
	*container = vfio_container_open();
	*group = vfio_group_open(vfio_iommu_group_of(bdf));
	vfio_group_set_container(*group, *container);
	return 0;
}

static int set_unsafe_interrupts(const char *val)
{
	const char *param = "/sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts";
	int fd = open(param, O_WRONLY);
	ssize_t n;

	if (fd < 0) {
		fprintf(stderr, "  open %s: %s\n", param, strerror(errno));
		return -1;
	}
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -1;
}

/*
 * Without interrupt remapping a device's MSI writes can forge any host
 * interrupt: VFIO_SET_IOMMU (the attach of the container's groups) is
 * EPERM unless allow_unsafe_interrupts=1.  The group stays in the
 * container, which stays unset.
 */
static int test_intremap_off_refused(void)
{
	int container, group;

	CHECK_OK(set_unsafe_interrupts("0"));
	group_in_container(EDU_VENDOR, EDU_DEVICE, &container, &group);
	CHECK_ERRNO(__vfio_set_iommu(container, VFIO_TYPE1v2_IOMMU), EPERM);
	CHECK_ERRNO(__vfio_set_iommu(container, VFIO_TYPE1_IOMMU), EPERM);
	/* No backend: the type1 ioctls are not there. */
	CHECK_ERRNO(__vfio_dma_map(container, buf, IOVA, PAGE, RW), EINVAL);
	close(group);
	close(container);
	return TEST_PASS;
}

/* The module parameter lets it through, and DMA works. */
static int test_intremap_off_allowed(void)
{
	int ret;

	CHECK_OK(set_unsafe_interrupts("1"));
	ret = __vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	set_unsafe_interrupts("0");
	CHECK_OK(ret);
	vfio_dev_map_bar0(&d);
	memset(buf, 0x3c, 64);
	CHECK_OK(__vfio_dma_map(d.container, buf, IOVA, PAGE, RW));
	CHECK_OK(__edu_dma(&d, IOVA, 0, 64, false));
	CHECK_OK(__edu_dma(&d, IOVA + 64, 0, 64, true));
	CHECK_EQ(((unsigned char *)buf)[64 + 63], 0x3c);
	vfio_dev_close(&d);
	return TEST_PASS;
}

/*
 * The check is made for every group attached, not only the first: with
 * the parameter turned off again, a second group cannot join a container
 * whose IOMMU is set.
 */
static int test_intremap_off_second_group(void)
{
	char bdf[32];
	int group2;

	CHECK_OK(set_unsafe_interrupts("1"));
	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(set_unsafe_interrupts("0"));
	vfio_pci_find(E1000E_VENDOR, E1000E_DEVICE, bdf, sizeof(bdf));
	group2 = vfio_group_open(vfio_iommu_group_of(bdf));
	CHECK_ERRNO(__vfio_group_set_container(group2, d.container), EPERM);
	CHECK_OK(set_unsafe_interrupts("1"));
	CHECK_OK(__vfio_group_set_container(group2, d.container));
	CHECK_OK(set_unsafe_interrupts("0"));
	close(group2);
	vfio_dev_close(&d);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_pfnmap_ram_refused),
	TEST(test_pfnmap_half_refused),
	TEST(test_pfnmap_reserved_ok),
	TEST(test_pfnmap_reserved_no_rlimit),
	TEST(test_pfnmap_pte_readonly),
	TEST(test_pfnmap_vma_readonly),
	TEST(test_pfnmap_bar0),
	TEST(test_vaddr_kernel),
	TEST(test_map_huge_size),
};

static const struct test intremap_tests[] = {
	TEST(test_intremap_off_refused),
	TEST(test_intremap_off_allowed),
	TEST(test_intremap_off_second_group),
};

int main(int argc, char **argv)
{
	buf = alloc_buffer(SZ_1M);
	if (argc > 1 && !strcmp(argv[1], "intremap"))
		return RUN_TESTS_FORKED("vfio_type1_safety", intremap_tests,
					argc - 1, argv + 1);
	return RUN_TESTS_FORKED("vfio_type1_safety", tests, argc, argv);
}
