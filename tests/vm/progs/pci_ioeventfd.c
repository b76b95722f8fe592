// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO_DEVICE_IOEVENTFD: a write of a fixed value to a BAR each time an
 * eventfd is signalled.  edu's liveness register (BAR0 0x04 reads back
 * ~value) shows the write; its DMA source (0x80) takes an 8-byte one.
 * Every errno is the one Debian 6.1's and 6.12's vfio-pci give (measured
 * on both, asserted on both stacks): docs/vfio-uapi.md.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "check.h"
#include "vfio_util.h"

#define TIMEOUT_MS	3000
#define QUIET_MS	300
#define IOEVENTFD_MAX	1000	/* per device, in-tree */

static struct vfio_dev d;

static int ioeventfd_argsz(uint32_t argsz, uint32_t flags, uint64_t offset,
			   uint64_t data, int32_t fd)
{
	struct vfio_device_ioeventfd req = {
		.argsz = argsz,
		.flags = flags,
		.offset = offset,
		.data = data,
		.fd = fd,
	};

	return ioctl(d.device, VFIO_DEVICE_IOEVENTFD, &req) ? -errno : 0;
}

/* size in bytes (1, 2, 4, 8) at offset in region index. */
static int ioeventfd(uint32_t index, uint64_t off, int size, uint64_t data, int32_t fd)
{
	return ioeventfd_argsz(sizeof(struct vfio_device_ioeventfd), size,
			       VFIO_PCI_OFFSET(index) + off, data, fd);
}

static void kick(int fd)
{
	uint64_t one = 1;

	if (write(fd, &one, sizeof(one)) != sizeof(one))
		perror("eventfd write");
}

/* edu's liveness register through pread: ~ what was last written. */
static uint32_t live_read(void)
{
	uint32_t v = 0;

	if (pread(d.device, &v, 4, VFIO_PCI_OFFSET(0) + EDU_REG_LIVE) != 4)
		return 0xdeadbeef;
	return v;
}

static void live_write(uint32_t v)
{
	if (pwrite(d.device, &v, 4, VFIO_PCI_OFFSET(0) + EDU_REG_LIVE) != 4)
		perror("pwrite liveness");
}

/* Poll the liveness register until it reads want: 1, or 0 on timeout. */
static int live_wait(uint32_t want, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	do {
		if (live_read() == want)
			return 1;
		usleep(1000);
	} while (now_ms() < end);
	return 0;
}

static void memory_decode(int on)
{
	uint16_t cmd = vfio_cfg_read16(d.device, 0x04);

	vfio_cfg_write16(d.device, 0x04, on ? cmd | 0x2 : cmd & ~0x2);
}

/* Signalled, the ioeventfd writes; removed, it does not. */
static int test_edu_write(void)
{
	int efd = eventfd_new(), efd2 = eventfd_new(), efd8 = eventfd_new();
	const uint32_t D = 0x12345678, D2 = 0x0badcafe;

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	vfio_dev_map_bar0(&d);
	live_write(0);
	CHECK_EQ(live_read(), 0xffffffff);

	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, D, efd));
	/* Registered, not signalled: nothing written. */
	usleep(QUIET_MS * 1000);
	CHECK_EQ(live_read(), 0xffffffff);
	kick(efd);
	CHECK(live_wait(~D, TIMEOUT_MS));
	/* The write consumed the eventfd's count. */
	CHECK_EQ(eventfd_wait(efd, 0), 0);

	/* The same place with other data is another ioeventfd. */
	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, D2, efd2));
	kick(efd2);
	CHECK(live_wait(~D2, TIMEOUT_MS));
	kick(efd);
	CHECK(live_wait(~D, TIMEOUT_MS));
	/* Same BAR, offset, size and data: EEXIST, whatever the eventfd. */
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 4, D, efd2), -EEXIST);
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 4, D, efd), -EEXIST);

	/* Memory decode off: the write is dropped, not held for later. */
	memory_decode(0);
	kick(efd2);
	usleep(QUIET_MS * 1000);
	memory_decode(1);
	usleep(QUIET_MS * 1000);
	CHECK_EQ(live_read(), ~D);
	kick(efd2);
	CHECK(live_wait(~D2, TIMEOUT_MS));

	/* Removed (fd -1, the same four): its eventfd writes no more. */
	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, D2, -1));
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 4, D2, -1), -ENODEV);
	live_write(0);
	kick(efd2);
	usleep(QUIET_MS * 1000);
	CHECK_EQ(live_read(), 0xffffffff);
	CHECK_EQ(eventfd_wait(efd2, 0), 1);	/* nobody consumed it */
	kick(efd);
	CHECK(live_wait(~D, TIMEOUT_MS));

	/* 8 bytes: edu's DMA source register takes them whole. */
	CHECK_OK(ioeventfd(0, EDU_REG_DMA_SRC, 8, 0x1122334455667788ull, efd8));
	kick(efd8);
	{
		int64_t end = now_ms() + TIMEOUT_MS;

		while (edu_read64(&d, EDU_REG_DMA_SRC) != 0x1122334455667788ull &&
		       now_ms() < end)
			usleep(1000);
	}
	CHECK_EQ(edu_read64(&d, EDU_REG_DMA_SRC), 0x1122334455667788ull);

	/* 1 and 2 bytes register and remove (edu ignores such writes). */
	CHECK_OK(ioeventfd(0, 0x10, 1, 0x5a, efd8));
	CHECK_OK(ioeventfd(0, 0x10, 2, 0x5a5a, efd8));
	CHECK_OK(ioeventfd(0, 0x10, 1, 0x5a, -1));
	CHECK_OK(ioeventfd(0, 0x10, 2, 0x5a5a, -1));
	/* The last byte of the BAR; its last 4. */
	CHECK_OK(ioeventfd(0, d.bar0_size - 1, 1, 0, efd8));
	CHECK_OK(ioeventfd(0, d.bar0_size - 4, 4, 0, efd8));
	CHECK_OK(ioeventfd(0, d.bar0_size - 1, 1, 0, -1));
	CHECK_OK(ioeventfd(0, d.bar0_size - 4, 4, 0, -1));
	return TEST_PASS;
}

static int test_edu_bad_input(void)
{
	int efd = eventfd_new(), closed = eventfd_new();
	int null = open("/dev/null", O_RDWR);
	uint32_t minsz = offsetofend(struct vfio_device_ioeventfd, fd);

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	close(closed);
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_IOEVENTFD, NULL), EFAULT);
	/* argsz up to fd; the struct's tail padding is not required. */
	CHECK_EQ(ioeventfd_argsz(minsz - 1, 4, EDU_REG_LIVE, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd_argsz(0, 4, EDU_REG_LIVE, 1, efd), -EINVAL);
	CHECK_OK(ioeventfd_argsz(minsz, 4, EDU_REG_LIVE, 1, efd));
	CHECK_OK(ioeventfd_argsz(minsz, 4, EDU_REG_LIVE, 1, -1));
	/* One size bit, nothing else. */
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 0, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 3, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 0xc, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 0x10 | 4, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 0x80000000u | 4, 1, efd), -EINVAL);
	/* fd below -1, even naming one that exists. */
	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, 1, efd));
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 4, 1, -2), -EINVAL);
	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, 1, -1));
	/* BARs only: not ROM, config, VGA or past them; not an absent BAR. */
	CHECK_EQ(ioeventfd(VFIO_PCI_ROM_REGION_INDEX, 0, 4, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(VFIO_PCI_CONFIG_REGION_INDEX, 0, 4, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(VFIO_PCI_VGA_REGION_INDEX, 0, 4, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(9, 0, 4, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(1, 0, 4, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(5, 0, 4, 1, efd), -EINVAL);
	/* Inside the BAR: 1 MiB. */
	CHECK_EQ(ioeventfd(0, 0x100000, 1, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(0, 0x100000 - 2, 4, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(0, 0x100000 - 4, 8, 1, efd), -EINVAL);
	/* Not an eventfd; not open. */
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 4, 1, null), -EINVAL);
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 4, 1, closed), -EBADF);
	/* Removing what was never registered; what differs in one of four. */
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 4, 1, -1), -ENODEV);
	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, 1, efd));
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 4, 2, -1), -ENODEV);
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 2, 1, -1), -ENODEV);
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE + 4, 4, 1, -1), -ENODEV);
	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, 1, -1));
	close(null);
	return TEST_PASS;
}

/* At most 1000 per device; the device's close releases them all. */
static int test_edu_max(void)
{
	int efd = eventfd_new();
	uint32_t i;

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	for (i = 0; i < IOEVENTFD_MAX; i++)
		CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, i, efd));
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 4, i, efd), -ENOSPC);
	/* A duplicate is still EEXIST, a removal still works, when full. */
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 4, 7, efd), -EEXIST);
	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, 7, -1));
	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, i, efd));
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 4, 7, efd), -ENOSPC);

	/* Closed and opened again: none is left. */
	vfio_dev_close(&d);
	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	vfio_dev_map_bar0(&d);
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 4, 0, -1), -ENODEV);
	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, 0x600d, efd));
	live_write(0);
	kick(efd);
	CHECK(live_wait(~0x600du, TIMEOUT_MS));
	return TEST_PASS;
}

/* The MSI-X table is refused, what is around it is not; I/O BARs too. */
static int test_e1000e_msix_table(void)
{
	int efd = eventfd_new();
	struct vfio_region_info ri;
	uint32_t t, bar, table, end;
	int cap;

	vfio_dev_open(&d, E1000E_VENDOR, E1000E_DEVICE, VFIO_TYPE1v2_IOMMU);
	cap = vfio_cfg_find_cap(d.device, 0x11);
	CHECK(cap > 0);
	t = vfio_cfg_read32(d.device, cap + 4);
	bar = t & 7;
	table = t & ~7u;
	end = table + ((vfio_cfg_read16(d.device, cap + 2) & 0x7ff) + 1) * 16;
	CHECK_EQ(bar, 3);
	CHECK_EQ(table, 0);
	CHECK_EQ(end, 5 * 16);

	CHECK_EQ(ioeventfd(bar, table, 4, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(bar, table + 12, 4, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(bar, end - 1, 1, 1, efd), -EINVAL);
	CHECK_EQ(ioeventfd(bar, end - 4, 8, 1, efd), -EINVAL);
	CHECK_OK(ioeventfd(bar, end, 4, 1, efd));
	CHECK_OK(ioeventfd(bar, end, 4, 1, -1));
	/* Another BAR at the table's offset is fine. */
	CHECK_OK(ioeventfd(0, table, 4, 0, efd));
	CHECK_OK(ioeventfd(0, table, 4, 0, -1));

	/* e1000e's I/O port BAR (2, 32 bytes). */
	CHECK_OK(__vfio_region_info(d.device, 2, &ri));
	CHECK_EQ(ri.size, 32);
	CHECK_OK(ioeventfd(2, 0, 4, 0, efd));
	CHECK_EQ(ioeventfd(2, 30, 4, 0, efd), -EINVAL);
	CHECK_OK(ioeventfd(2, 0, 4, 0, -1));
	return TEST_PASS;
}

/*
 * An ioeventfd whose eventfd was closed no longer writes, but stays
 * registered: the same four are EEXIST until removed with fd -1.
 */
static int test_edu_eventfd_closed(void)
{
	int efd = eventfd_new(), efd2 = eventfd_new();

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, 0x77, efd));
	close(efd);
	CHECK_EQ(ioeventfd(0, EDU_REG_LIVE, 4, 0x77, efd2), -EEXIST);
	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, 0x77, -1));
	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, 0x77, efd2));
	live_write(0);
	kick(efd2);
	CHECK(live_wait(~0x77u, TIMEOUT_MS));
	return TEST_PASS;
}

static atomic_int racing;
static int race_fds[4], race_ufd;

/* Memory decode off and on, over and over (memory_lock for write). */
static void *race_decode(void *unused)
{
	for (int on = 0; atomic_load(&racing); on = !on)
		memory_decode(on);
	memory_decode(1);
	return NULL;
}

/* Signal every eventfd and raise edu's INTx, over and over. */
static void *race_kick(void *unused)
{
	uint32_t raise = 1;

	while (atomic_load(&racing)) {
		for (int i = 0; i < 4; i++)
			kick(race_fds[i]);
		kick(race_ufd);
		/* EIO while decode is off: fine. */
		if (pwrite(d.device, &raise, 4, VFIO_PCI_OFFSET(0) + EDU_REG_IRQ_RAISE) == 4)
			pwrite(d.device, &raise, 4, VFIO_PCI_OFFSET(0) + EDU_REG_IRQ_ACK);
	}
	return NULL;
}

/*
 * Registration, removal and the eventfd's close racing its signals and
 * memory decode changes; the INTx unmask eventfd racing INTx's disable
 * and its trigger's replacement.  Nothing may crash, warn or hang (the
 * runner checks dmesg), and the device works afterwards.
 */
static int test_edu_races(void)
{
	pthread_t decode, kicker;
	int efd = eventfd_new();

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	vfio_dev_map_bar0(&d);
	for (int i = 0; i < 4; i++)
		race_fds[i] = eventfd_new();
	race_ufd = eventfd_new();
	CHECK_OK(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &efd));
	atomic_store(&racing, 1);
	CHECK_EQ(pthread_create(&decode, NULL, race_decode, NULL), 0);
	CHECK_EQ(pthread_create(&kicker, NULL, race_kick, NULL), 0);
	for (int i = 0; i < 1000; i++) {
		int32_t ufd = race_ufd;
		int tmp = eventfd_new();

		CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, i, race_fds[i % 4]));
		CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, i + 1000, tmp));
		kick(tmp);
		close(tmp);		/* EPOLLHUP tears its virqfd down */
		CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, i, -1));
		CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, i + 1000, -1));
		switch (i % 3) {
		case 0:
			CHECK_OK(__vfio_irq_set(d.device, VFIO_PCI_INTX_IRQ_INDEX,
						VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK,
						0, 1, &ufd, sizeof(ufd)));
			break;
		case 1:
			/* A new trigger while the unmask eventfd's thread may run. */
			CHECK_OK(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_INTX_IRQ_INDEX,
							    0, 1, &efd));
			break;
		case 2:
			CHECK_OK(__vfio_irq_disable(d.device, VFIO_PCI_INTX_IRQ_INDEX));
			CHECK_OK(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_INTX_IRQ_INDEX,
							    0, 1, &efd));
			break;
		}
	}
	atomic_store(&racing, 0);
	pthread_join(kicker, NULL);
	pthread_join(decode, NULL);
	CHECK_OK(__vfio_irq_disable(d.device, VFIO_PCI_INTX_IRQ_INDEX));
	edu_write32(&d, EDU_REG_IRQ_ACK, 0xffffffff);

	/* Still works. */
	CHECK_OK(ioeventfd(0, EDU_REG_LIVE, 4, 0x600d, race_fds[0]));
	eventfd_wait(race_fds[0], 0);
	live_write(0);
	kick(race_fds[0]);
	CHECK(live_wait(~0x600du, TIMEOUT_MS));
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_edu_write),
	TEST(test_edu_bad_input),
	TEST(test_edu_max),
	TEST(test_e1000e_msix_table),
	TEST(test_edu_eventfd_closed),
	TEST(test_edu_races),
};

int main(int argc, char **argv)
{
	return RUN_TESTS_FORKED("pci_ioeventfd", tests, argc, argv);
}
