// SPDX-License-Identifier: GPL-2.0
/*
 * Lifetimes: container, group and device fds closed in every order; a BAR
 * mmap outliving its fds; a process killed (or exiting) with live mappings
 * gets everything unpinned and uncharged; unbinding a device whose fd is
 * open asks the user through the request IRQ and waits, without deadlock.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "check.h"
#include "vfio_util.h"

#define BIG		(256 * SZ_1M)

static struct vfio_dev d;

static int bar0_id_by_pread(int device)
{
	uint32_t v = 0;

	if (pread(device, &v, 4, VFIO_PCI_OFFSET(VFIO_PCI_BAR0_REGION_INDEX)) != 4)
		return -1;
	return v == EDU_ID_VALUE ? 0 : -1;
}

/*
 * Open edu, map 1 MiB, mmap BAR0, then close the three fds in the order
 * given ('c'ontainer, 'g'roup, 'd'evice).  While the device fd is open it
 * keeps working; the BAR mmap works after all fds are gone; once it is
 * unmapped too, locked_vm is back where it was and the group opens again.
 */
static int close_in_order(const char *order)
{
	void *buf = alloc_buffer(SZ_1M);
	volatile uint32_t *bar;
	long base = locked_vm_kb(0);

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	vfio_dma_map(d.container, buf, SZ_1M, SZ_1M);
	CHECK_EQ(locked_vm_kb(0), base + 1024);
	bar = vfio_region_mmap(d.device, VFIO_PCI_BAR0_REGION_INDEX, SZ_1M, 0);
	CHECK(bar != MAP_FAILED);
	for (const char *o = order; *o; o++) {
		int *fd = *o == 'c' ? &d.container : *o == 'g' ? &d.group : &d.device;

		CHECK_OK(close(*fd));
		*fd = -1;
		if (d.device >= 0)
			CHECK_OK(bar0_id_by_pread(d.device));
		CHECK_EQ(bar[EDU_REG_ID / 4], EDU_ID_VALUE);
	}
	/* No fd left, the mapping of BAR0 still holds the device. */
	CHECK_EQ(bar[EDU_REG_ID / 4], EDU_ID_VALUE);
	CHECK_OK(munmap((void *)bar, SZ_1M));
	CHECK_EQ(locked_vm_kb(0), base);
	/* Everything was released: the whole set-up works again. */
	CHECK_OK(__vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU));
	CHECK_OK(__vfio_dma_map(d.container, buf, SZ_1M, SZ_1M,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	CHECK_OK(bar0_id_by_pread(d.device));
	vfio_dev_close(&d);
	CHECK_EQ(locked_vm_kb(0), base);
	return TEST_PASS;
}

static int test_close_cgd(void) { return close_in_order("cgd"); }
static int test_close_cdg(void) { return close_in_order("cdg"); }
static int test_close_gcd(void) { return close_in_order("gcd"); }
static int test_close_gdc(void) { return close_in_order("gdc"); }
static int test_close_dcg(void) { return close_in_order("dcg"); }
static int test_close_dgc(void) { return close_in_order("dgc"); }

/* Closing the container first keeps its mappings: the group holds it. */
static int test_container_outlived_by_group(void)
{
	void *buf = alloc_buffer(SZ_1M);
	long base = locked_vm_kb(0);
	uint64_t done = 0;
	int c2;

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	vfio_dma_map(d.container, buf, SZ_1M, SZ_1M);
	close(d.container);
	d.container = -1;
	CHECK_EQ(locked_vm_kb(0), base + 1024);
	/* Releasing the device and the group releases the container. */
	close(d.device);
	d.device = -1;
	CHECK_EQ(locked_vm_kb(0), base + 1024);
	CHECK_OK(ioctl(d.group, VFIO_GROUP_UNSET_CONTAINER));
	CHECK_EQ(locked_vm_kb(0), base);
	/* The group joins a new container, which starts empty. */
	c2 = vfio_container_open();
	vfio_group_set_container(d.group, c2);
	vfio_set_iommu(c2, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(__vfio_dma_unmap(c2, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &done));
	CHECK_EQ(done, 0);
	close(c2);
	return TEST_PASS;
}

/*
 * A child maps BIG bytes of populated memory and then dies (killed by
 * sig, or exits on its own when sig is 0) without closing anything.
 * Afterwards its pages are free again (MemFree), the group opens, and the
 * same mapping works in the parent, charged to the parent.
 */
static int child_dies_with_mappings(int sig)
{
	int ready[2];
	long child_locked = 0, free0, free1, free2, base;
	pid_t pid;
	int status, g = -1;
	void *buf;

	CHECK_OK(pipe(ready));
	free0 = meminfo_kb("MemFree");
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		long locked;

		vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
		vfio_dev_map_bar0(&d);
		buf = alloc_buffer(BIG);
		vfio_dma_map(d.container, buf, SZ_1M, BIG);
		locked = locked_vm_kb(0);
		if (write(ready[1], &locked, sizeof(locked)) != sizeof(locked))
			_exit(2);
		if (sig)
			pause();
		_exit(0);	/* exit with every fd and mapping still open */
	}
	close(ready[1]);
	CHECK_EQ(read(ready[0], &child_locked, sizeof(child_locked)), sizeof(child_locked));
	close(ready[0]);
	printf("# child locked_vm %ld KiB\n", child_locked);
	CHECK(child_locked >= (long)(BIG >> 10));
	if (sig) {
		CHECK_EQ(locked_vm_kb(pid), child_locked);
		free1 = meminfo_kb("MemFree");
		printf("# MemFree %ld KiB before the child, %ld KiB while it lives\n", free0, free1);
		CHECK(free0 - free1 >= (long)(BIG >> 10) * 3 / 4);
		/* The child holds the group. */
		CHECK_EQ(__vfio_group_open(d.group_id), -EBUSY);
		CHECK_OK(kill(pid, sig));
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	if (sig)
		CHECK(WIFSIGNALED(status) && WTERMSIG(status) == sig);
	else
		CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* Every pinned page was released with the process. */
	free2 = meminfo_kb("MemFree");
	printf("# MemFree %ld KiB after the child\n", free2);
	CHECK(free2 >= free0 - (long)(BIG >> 10) / 4);
	/* The group is free again, at once. */
	g = __vfio_group_open(d.group_id);
	CHECK(g >= 0);
	close(g);
	/* The same mapping works here, charged here. */
	base = locked_vm_kb(0);
	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	buf = alloc_buffer(BIG);
	CHECK_OK(__vfio_dma_map(d.container, buf, SZ_1M, BIG,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));
	CHECK_EQ(locked_vm_kb(0), base + (long)(BIG >> 10));
	vfio_dev_close(&d);
	CHECK_EQ(locked_vm_kb(0), base);
	munmap(buf, BIG);
	return TEST_PASS;
}

static int find_edu(void)
{
	vfio_pci_find(EDU_VENDOR, EDU_DEVICE, d.bdf, sizeof(d.bdf));
	d.group_id = vfio_iommu_group_of(d.bdf);
	return 0;
}

static int test_child_killed_with_mappings(void)
{
	find_edu();
	return child_dies_with_mappings(SIGKILL);
}

static int test_child_exits_with_mappings(void)
{
	find_edu();
	return child_dies_with_mappings(0);
}

/*
 * Unbind edu from vfio-pci while a process has its fd open: the unbind
 * waits, the driver asks the user to let go through the request IRQ, the
 * user closes, the unbind completes.  Then edu is bound again.
 */
static int test_unbind_while_open(void)
{
	int ready[2], asked[2];
	char path[256], link[256], note = 0;
	pid_t pid;
	int status;
	ssize_t n;

	find_edu();
	CHECK_OK(pipe(ready));
	CHECK_OK(pipe(asked));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int efd = eventfd_new();
		char c = 'r';

		vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
		if (__vfio_irq_enable_eventfds(d.device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &efd))
			_exit(2);
		if (write(ready[1], &c, 1) != 1)
			_exit(2);
		if (eventfd_wait(efd, 20000) <= 0)
			_exit(3);	/* never asked */
		c = 'R';
		if (write(asked[1], &c, 1) != 1)
			_exit(2);
		vfio_dev_close(&d);
		_exit(0);
	}
	close(ready[1]);
	close(asked[1]);
	CHECK_EQ(read(ready[0], &note, 1), 1);
	/* Blocks until the child has closed its fds. */
	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/vfio-pci/unbind");
	CHECK_OK(write_str(path, d.bdf));
	CHECK_EQ(read(asked[0], &note, 1), 1);
	CHECK_EQ(note, 'R');
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", d.bdf);
	CHECK(readlink(path, link, sizeof(link)) < 0);
	/* Bind it again (driver_override still names vfio-pci). */
	CHECK_OK(write_str("/sys/bus/pci/drivers_probe", d.bdf));
	n = readlink(path, link, sizeof(link) - 1);
	CHECK(n > 0);
	link[n] = '\0';
	CHECK(strstr(link, "/vfio-pci") != NULL);
	wait_group_node(d.group_id);
	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(bar0_id_by_pread(d.device));
	vfio_dev_close(&d);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_close_cgd),
	TEST(test_close_cdg),
	TEST(test_close_gcd),
	TEST(test_close_gdc),
	TEST(test_close_dcg),
	TEST(test_close_dgc),
	TEST(test_container_outlived_by_group),
	TEST(test_child_killed_with_mappings),
	TEST(test_child_exits_with_mappings),
	TEST(test_unbind_while_open),
};

int main(int argc, char **argv)
{
	return RUN_TESTS_FORKED("vfio_lifetime", tests, argc, argv);
}
