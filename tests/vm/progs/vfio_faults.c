// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection (kernel/fault.c): for every fault point our modules
 * carry but domain_join (no failure: a group sent to an IOMMU domain of
 * its own, vfio_domains.c), make the operation behind it fail and check that
 *  - it fails with the errno a real failure would give (ENOMEM),
 *  - nothing leaks: vfio.ko's objects, type1's mappings and pinned pages
 *    (/sys/kernel/debug/vfio/{objects,type1}), the process's VmLck and
 *    the FOLL_PIN counters are back to what they were,
 *  - the same operation works right after, with the point disarmed.
 * Our stack only (the in-tree one has no fault points).  Needs edu and
 * e1000e bound to vfio-pci.  The group-creation site (probe) is driven from
 * tests/vm/guest/faults.sh, which binds and unbinds.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "check.h"
#include "vfio_util.h"

#define PCI_COMMAND_OFFSET 0x04

struct snap {
	long containers, groups, device_files;
	long iommus, mappings, pinned;
	long vmlck;
	long pins_out;		/* FOLL_PIN acquired - released */
};

static void snapshot(struct snap *s)
{
	s->containers = read_key("/sys/kernel/debug/vfio/objects", "containers");
	s->groups = read_key("/sys/kernel/debug/vfio/objects", "groups");
	s->device_files = read_key("/sys/kernel/debug/vfio/objects", "device_files");
	s->iommus = read_key("/sys/kernel/debug/vfio/type1", "iommus");
	s->mappings = read_key("/sys/kernel/debug/vfio/type1", "mappings");
	s->pinned = read_key("/sys/kernel/debug/vfio/type1", "pinned");
	s->vmlck = locked_vm_kb(0);
	s->pins_out = foll_pins_held();
}

#define CHECK_SNAP_EQ(a, b) do {					\
	CHECK_EQ((a).containers, (b).containers);			\
	CHECK_EQ((a).groups, (b).groups);				\
	CHECK_EQ((a).device_files, (b).device_files);			\
	CHECK_EQ((a).iommus, (b).iommus);				\
	CHECK_EQ((a).mappings, (b).mappings);				\
	CHECK_EQ((a).pinned, (b).pinned);				\
	CHECK_EQ((a).vmlck, (b).vmlck);					\
	CHECK_EQ((a).pins_out, (b).pins_out);				\
} while (0)

static int edu_group(char *bdf, size_t len)
{
	vfio_pci_find(EDU_VENDOR, EDU_DEVICE, bdf, len);
	return vfio_iommu_group_of(bdf);
}

/* alloc: the container's own structure (open of /dev/vfio/vfio). */
static int test_alloc_container_open(void)
{
	struct snap a, b;
	int fd;

	snapshot(&a);
	vfio_fault_arm("alloc", 0, 1);
	CHECK_ERRNO(open("/dev/vfio/vfio", O_RDWR), ENOMEM);
	CHECK_EQ(vfio_fault_disarm("alloc"), 1);
	snapshot(&b);
	CHECK_SNAP_EQ(a, b);
	fd = open("/dev/vfio/vfio", O_RDWR);
	CHECK_OK(fd);
	close(fd);
	return TEST_PASS;
}

/*
 * alloc in VFIO_SET_IOMMU: type1's context (skip 0), then, in
 * attach_group, its group record (skip 1) and its domain record (skip 2).
 * The container is still unset after the failure, and the same call works
 * next.
 */
static int set_iommu_fails_at(int skip)
{
	struct snap a, b;
	char bdf[32];
	int c, g, id = edu_group(bdf, sizeof(bdf));
	uint32_t flags;

	c = vfio_container_open();
	g = vfio_group_open(id);
	vfio_group_set_container(g, c);
	snapshot(&a);
	vfio_fault_arm("alloc", skip, 1);
	CHECK_ERRNO(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), ENOMEM);
	CHECK_EQ(vfio_fault_disarm("alloc"), 1);
	snapshot(&b);
	CHECK_SNAP_EQ(a, b);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, bdf), EINVAL);
	CHECK_OK(__vfio_group_status(g, &flags));
	CHECK(flags & VFIO_GROUP_FLAGS_CONTAINER_SET);
	CHECK_OK(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	close(g);
	close(c);
	return TEST_PASS;
}

static int test_alloc_set_iommu(void) { return set_iommu_fails_at(0); }
static int test_alloc_attach_group(void) { return set_iommu_fails_at(1); }
static int test_alloc_attach_domain(void) { return set_iommu_fails_at(2); }

/*
 * A MAP_DMA of @size that @point makes fail after @skip evaluations:
 * ENOMEM, nothing mapped, pinned or charged; the IOVA is free, the same
 * map works next.  Returns the failures injected (0: the map never got
 * that far; the caller decides whether that is fine).
 */
static int map_fails(const char *point, int skip, size_t size, long *injected)
{
	struct vfio_dev d;
	struct snap a, b;
	void *buf = alloc_scattered_buffer(size);
	uint64_t unmapped;
	int ret;

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	snapshot(&a);
	vfio_fault_arm(point, skip, 1);
	ret = __vfio_dma_map(d.container, buf, SZ_1M, size,
			     VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
	*injected = vfio_fault_disarm(point);
	if (*injected) {
		CHECK_EQ(ret, -ENOMEM);
		snapshot(&b);
		CHECK_SNAP_EQ(a, b);
		CHECK_OK(__vfio_dma_unmap(d.container, SZ_1M, size, 0, &unmapped));
		CHECK_EQ(unmapped, 0);
	} else {
		CHECK_OK(ret);
		vfio_dma_unmap(d.container, SZ_1M, size);
	}
	/* Next: it works, and unmaps whole. */
	CHECK_OK(__vfio_dma_map(d.container, buf, SZ_1M, size,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	snapshot(&b);
	CHECK_EQ(b.pinned - a.pinned, size / PAGE);
	CHECK_EQ(b.vmlck - a.vmlck, size / 1024);
	CHECK_OK(__vfio_dma_unmap(d.container, SZ_1M, size, 0, &unmapped));
	CHECK_EQ(unmapped, size);
	snapshot(&b);
	CHECK_SNAP_EQ(a, b);
	vfio_dev_close(&d);
	munmap(buf, size);
	return TEST_PASS;
}

#define MAP_FAILS(point, skip, size, must_inject) do {			\
	long __inj = 0;							\
	int __r = map_fails(point, skip, size, &__inj);			\
	if (__r != TEST_PASS)						\
		return __r;						\
	printf("# %s skip %d, %zu KiB: %ld injected\n", point, skip,	\
	       (size_t)(size) / 1024, __inj);				\
	if (must_inject)						\
		CHECK_EQ(__inj, 1);					\
} while (0)

/*
 * alloc in MAP_DMA: the mapping, the page array, the first run chunk
 * (allocated before its iommu_map(), so nothing is mapped to undo).
 */
static int test_alloc_map_dma(void)
{
	MAP_FAILS("alloc", 0, 64 * PAGE, 1);	/* struct vfio_dma */
	MAP_FAILS("alloc", 1, 64 * PAGE, 1);	/* the batch's page array */
	MAP_FAILS("alloc", 2, 64 * PAGE, 1);	/* the first run chunk */
	MAP_FAILS("alloc", 3, 4 * SZ_1M, 1);	/* a later chunk (scattered: many runs) */
	return TEST_PASS;
}

/* pin: the first batch, then the second of a 4 MiB map (512 pages each). */
static int test_pin(void)
{
	MAP_FAILS("pin", 0, 4 * SZ_1M, 1);
	MAP_FAILS("pin", 1, 4 * SZ_1M, 1);
	return TEST_PASS;
}

/* iommu_map: the first run, then a later one (the earlier ones unwound). */
static int test_iommu_map(void)
{
	MAP_FAILS("iommu_map", 0, 64 * PAGE, 1);
	MAP_FAILS("iommu_map", 3, 4 * SZ_1M, 1);
	return TEST_PASS;
}

/* alloc in GET_INFO's capability chain: ENOMEM, then it works. */
static int test_alloc_iommu_info(void)
{
	struct vfio_iommu_type1_info *info;
	struct vfio_dev d;
	struct snap a, b;

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	snapshot(&a);
	vfio_fault_arm("alloc", 0, 1);
	info = vfio_iommu_info(d.container);
	CHECK(info == NULL);
	CHECK_EQ(errno, ENOMEM);
	CHECK_EQ(vfio_fault_disarm("alloc"), 1);
	snapshot(&b);
	CHECK_SNAP_EQ(a, b);
	info = vfio_iommu_info(d.container);
	CHECK(info != NULL);
	free(info);
	vfio_dev_close(&d);
	return TEST_PASS;
}

/* Lines of /proc/interrupts naming vfio's handlers of @bdf ("vfio-msix[0](BDF)"). */
static int vfio_irq_lines(const char *bdf)
{
	return proc_lines_with("/proc/interrupts", "vfio-", bdf);
}

/*
 * eventfd: enabling e1000e's 5 MSI-X vectors fails at the third eventfd:
 * ENOMEM, the two wired before are unwound and MSI-X is off again (no
 * vfio handler left in /proc/interrupts); the same call then works and
 * every vector fires.  Then edu's INTx, failing at its only eventfd.
 */
static int test_eventfd(void)
{
	struct vfio_dev d;
	struct snap a, b;
	int fds[5];

	for (int i = 0; i < 5; i++)
		fds[i] = eventfd_new();
	vfio_dev_open(&d, E1000E_VENDOR, E1000E_DEVICE, VFIO_TYPE1v2_IOMMU);
	snapshot(&a);
	vfio_fault_arm("eventfd", 2, 1);
	CHECK_EQ(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 5, fds), -ENOMEM);
	CHECK_EQ(vfio_fault_disarm("eventfd"), 1);
	CHECK_EQ(vfio_irq_lines(d.bdf), 0);
	/* Nothing is on: disabling MSI-X is EINVAL. */
	CHECK_EQ(__vfio_irq_disable(d.device, VFIO_PCI_MSIX_IRQ_INDEX), -EINVAL);
	snapshot(&b);
	CHECK_SNAP_EQ(a, b);
	CHECK_OK(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 5, fds));
	CHECK_EQ(vfio_irq_lines(d.bdf), 5);
	CHECK_OK(__vfio_irq_set(d.device, VFIO_PCI_MSIX_IRQ_INDEX,
				VFIO_IRQ_SET_ACTION_TRIGGER | VFIO_IRQ_SET_DATA_NONE, 0, 5, NULL, 0));
	for (int i = 0; i < 5; i++)
		CHECK_EQ(eventfd_wait(fds[i], 1000), 1);
	CHECK_OK(__vfio_irq_disable(d.device, VFIO_PCI_MSIX_IRQ_INDEX));
	CHECK_EQ(vfio_irq_lines(d.bdf), 0);
	vfio_dev_close(&d);

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	vfio_fault_arm("eventfd", 0, 1);
	CHECK_EQ(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds), -ENOMEM);
	CHECK_EQ(vfio_fault_disarm("eventfd"), 1);
	CHECK_EQ(vfio_irq_lines(d.bdf), 0);
	CHECK_OK(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds));
	CHECK_EQ(vfio_irq_lines(d.bdf), 1);
	CHECK_OK(__vfio_irq_disable(d.device, VFIO_PCI_INTX_IRQ_INDEX));
	CHECK_EQ(vfio_irq_lines(d.bdf), 0);
	vfio_dev_close(&d);
	for (int i = 0; i < 5; i++)
		close(fds[i]);
	return TEST_PASS;
}

/*
 * pci_config: with one failure armed, reading edu's config space dword
 * by dword fails exactly once, with EIO, at the first dword served by
 * the device (the virtualized ones never reach it); a write to the
 * command register fails the same way.  The next accesses work and
 * return what they returned before.
 */
static int test_pci_config(void)
{
	uint32_t before[64], after[64], v;
	struct vfio_dev d;
	int failed = 0, where = -1;
	uint16_t cmd;

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	for (int i = 0; i < 64; i++)
		CHECK_EQ(__vfio_cfg_read(d.device, i * 4, &before[i], 4), 4);
	vfio_fault_arm("pci_config", 0, 1);
	for (int i = 0; i < 64; i++) {
		int ret = __vfio_cfg_read(d.device, i * 4, &v, 4);

		if (ret < 0) {
			CHECK_EQ(ret, -EIO);
			failed++;
			where = i * 4;
		}
	}
	CHECK_EQ(vfio_fault_disarm("pci_config"), 1);
	CHECK_EQ(failed, 1);
	printf("# first config dword read from the device: 0x%x\n", where);
	for (int i = 0; i < 64; i++)
		CHECK_EQ(__vfio_cfg_read(d.device, i * 4, &after[i], 4), 4);
	CHECK(!memcmp(before, after, sizeof(before)));

	cmd = vfio_cfg_read16(d.device, PCI_COMMAND_OFFSET);
	vfio_fault_arm("pci_config", 0, 1);
	CHECK_EQ(__vfio_cfg_write(d.device, PCI_COMMAND_OFFSET, &cmd, 2), -EIO);
	CHECK_EQ(vfio_fault_disarm("pci_config"), 1);
	CHECK_EQ(__vfio_cfg_write(d.device, PCI_COMMAND_OFFSET, &cmd, 2), 2);
	CHECK_EQ(vfio_cfg_read16(d.device, PCI_COMMAND_OFFSET), cmd);
	vfio_dev_close(&d);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_alloc_container_open),
	TEST(test_alloc_set_iommu),
	TEST(test_alloc_attach_group),
	TEST(test_alloc_attach_domain),
	TEST(test_alloc_map_dma),
	TEST(test_alloc_iommu_info),
	TEST(test_pin),
	TEST(test_iommu_map),
	TEST(test_eventfd),
	TEST(test_pci_config),
};

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return RUN_TESTS_FORKED("vfio_faults", tests, argc, argv);
}
