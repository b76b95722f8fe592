// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci lifetimes: unbinding a device whose fd is open waits for the
 * fd to close, asking user space through the REQ eventfd, without
 * deadlock; one whose group and container alone are open does not wait,
 * and leaves the group unplugged.  Needs edu bound to vfio-pci; leaves it
 * bound again.
 *
 *   pci_lifetime [CASE...]   the test cases
 *   pci_lifetime hold        open edu with MSI and e1000e with MSI-X,
 *                            print "ready", then sleep until killed
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "check.h"
#include "vfio_util.h"

static struct vfio_dev d;

static bool bound_to_vfio(const char *bdf)
{
	char drv[64];

	return !pci_driver_of(bdf, drv, sizeof(drv)) && !strcmp(drv, "vfio-pci");
}

/* Unbind bdf from vfio-pci in a child: it blocks while the device is open. */
static pid_t unbind_async(const char *bdf)
{
	return write_str_async("/sys/bus/pci/drivers/vfio-pci/unbind", bdf);
}

static int rebind(const char *bdf)
{
	write_str("/sys/bus/pci/drivers_probe", bdf);
	for (int i = 0; i < 50 && !bound_to_vfio(bdf); i++)
		usleep(100000);
	return bound_to_vfio(bdf) ? 0 : -1;
}

static int test_unbind_requests_release(void)
{
	int req = eventfd_new(), msi = eventfd_new();
	char bdf[32];
	pid_t child;

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	snprintf(bdf, sizeof(bdf), "%s", d.bdf);
	CHECK_OK(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &req));
	CHECK_OK(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &msi));

	child = unbind_async(bdf);
	CHECK(child > 0);
	/* The driver asks for the device back... */
	CHECK(eventfd_wait(req, 5000) >= 1);
	/* ...and waits: the unbind does not finish while the fd is open. */
	CHECK_EQ(wait_child(child, 500), -1);
	vfio_dev_close(&d);
	CHECK_EQ(wait_child(child, 10000), 0);
	CHECK(!bound_to_vfio(bdf));
	CHECK_OK(rebind(bdf));
	close(req);
	close(msi);
	return TEST_PASS;
}

/* Without a REQ eventfd, the unbind just waits for the close. */
static int test_unbind_without_req(void)
{
	char bdf[32];
	pid_t child;

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	vfio_dev_map_bar0(&d);
	snprintf(bdf, sizeof(bdf), "%s", d.bdf);
	child = unbind_async(bdf);
	CHECK(child > 0);
	CHECK_EQ(wait_child(child, 1000), -1);
	/* Still usable meanwhile. */
	CHECK_EQ(edu_read32(&d, EDU_REG_ID), EDU_ID_VALUE);
	vfio_dev_close(&d);	/* unmaps BAR0 too: the mapping holds the fd */
	CHECK_EQ(wait_child(child, 10000), 0);
	CHECK(!bound_to_vfio(bdf));
	CHECK_OK(rebind(bdf));
	return TEST_PASS;
}

/*
 * The device's fd closed, its group and container kept open (and a map in
 * the container): the unbind does not wait for them.  The group's last
 * device is gone, so the group is unplugged, as 6.1 does it: it left its
 * container, which lost its IOMMU with it (the map is unpinned), its node
 * is gone and its fd answers ENODEV.  Bound again, the device's group
 * opens anew beside the old file.
 */
static int test_unbind_with_group_open(void)
{
	void *buf = alloc_buffer(SZ_1M);
	long pins = foll_pins_held(), locked = locked_vm_kb(0);
	char bdf[32], node[64];
	struct vfio_dev again;
	int container;
	uint32_t flags;
	pid_t child;

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	snprintf(bdf, sizeof(bdf), "%s", d.bdf);
	snprintf(node, sizeof(node), "/dev/vfio/%d", d.group_id);
	vfio_dma_map(d.container, buf, EDU_IOVA, SZ_1M);
	CHECK_EQ(locked_vm_kb(0), locked + (long)(SZ_1M >> 10));
	close(d.device);
	d.device = -1;

	child = unbind_async(bdf);
	CHECK(child > 0);
	CHECK_EQ(wait_child(child, 10000), 0);
	CHECK(!bound_to_vfio(bdf));

	CHECK_EQ(access(node, F_OK) ? -errno : 0, -ENOENT);
	CHECK_EQ(__vfio_group_status(d.group, &flags), -ENODEV);
	CHECK_EQ(__vfio_group_get_device_fd(d.group, bdf), -ENODEV);
	CHECK_EQ(ioctl(d.group, VFIO_GROUP_UNSET_CONTAINER) ? -errno : 0, -EINVAL);
	container = vfio_container_open();
	CHECK_EQ(__vfio_group_set_container(d.group, container), -ENODEV);
	close(container);
	CHECK_EQ(__vfio_dma_map(d.container, buf, EDU_IOVA + SZ_1M, SZ_1M,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE), -EINVAL);
	CHECK_EQ(locked_vm_kb(0), locked);
	CHECK_EQ(foll_pins_held(), pins);

	CHECK_OK(rebind(bdf));
	wait_group_node(d.group_id);
	vfio_dev_open_bdf(&again, bdf, VFIO_TYPE1v2_IOMMU);
	vfio_dev_map_bar0(&again);
	CHECK_EQ(edu_read32(&again, EDU_REG_ID), EDU_ID_VALUE);
	vfio_dev_close(&again);
	vfio_dev_close(&d);
	munmap(buf, SZ_1M);
	return TEST_PASS;
}

static int hold(void)
{
	struct vfio_dev edu, nic;
	int fds[5];

	for (int i = 0; i < 5; i++)
		fds[i] = eventfd_new();
	vfio_dev_open(&edu, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	vfio_dev_open(&nic, E1000E_VENDOR, E1000E_DEVICE, VFIO_TYPE1v2_IOMMU);
	vfio_dev_map_bar0(&edu);
	if (__vfio_irq_enable_eventfds(edu.device, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, fds) ||
	    __vfio_irq_enable_eventfds(nic.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 5, fds)) {
		fprintf(stderr, "enabling interrupts failed\n");
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;)
		pause();
}

static const struct test tests[] = {
	TEST(test_unbind_requests_release),
	TEST(test_unbind_without_req),
	TEST(test_unbind_with_group_open),
};

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "hold"))
		return hold();
	return RUN_TESTS("pci_lifetime", tests, argc, argv);
}
