// SPDX-License-Identifier: GPL-2.0
/*
 * A vfio-pci device fd: VFIO_DEVICE_GET_INFO, GET_REGION_INFO, GET_IRQ_INFO,
 * SET_IRQS (bad input), RESET, and pread/pwrite/mmap of its regions.
 * Needs edu and e1000e bound to vfio-pci.  Errnos: docs/vfio-uapi.md.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "vfio_util.h"

#define VFIO_BOGUS_IOCTL _IO(VFIO_TYPE, VFIO_BASE + 60)

static struct vfio_dev d;

static void open_edu(void)
{
	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
}

static void open_nic(void)
{
	vfio_dev_open(&d, E1000E_VENDOR, E1000E_DEVICE, VFIO_TYPE1v2_IOMMU);
}

/* Size of sysfs file /sys/bus/pci/devices/BDF/NAME, or -1. */
static long sysfs_size(const char *bdf, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, name);
	return stat(path, &st) ? -1 : (long)st.st_size;
}

/* Length of BAR/ROM i from sysfs "resource" (line i). */
static uint64_t sysfs_resource_len(const char *bdf, int i)
{
	char path[PATH_MAX];
	unsigned long long start, end, flags;
	uint64_t len = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource", bdf);
	f = fopen(path, "r");
	if (!f)
		return 0;
	for (int l = 0; l <= i; l++) {
		if (fscanf(f, "%llx %llx %llx", &start, &end, &flags) != 3)
			break;
		if (l == i && end > start)
			len = end - start + 1;
	}
	fclose(f);
	return len;
}

/* Does the kernel know a reset method for the device? */
static int has_reset_method(const char *bdf)
{
	char path[PATH_MAX], buf[128];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/reset_method", bdf);
	return read_line(path, buf, sizeof(buf))[0] != '\0';
}

static int check_device_info(void)
{
	struct vfio_device_info info;

	CHECK_OK(__vfio_device_info(d.device, &info));
	CHECK(info.flags & VFIO_DEVICE_FLAGS_PCI);
	CHECK_EQ(!!(info.flags & VFIO_DEVICE_FLAGS_RESET), has_reset_method(d.bdf));
	CHECK_EQ(info.num_regions, VFIO_PCI_NUM_REGIONS);
	CHECK_EQ(info.num_irqs, VFIO_PCI_NUM_IRQS);
	return TEST_PASS;
}

static int test_device_info_edu(void)
{
	open_edu();
	return check_device_info();
}

static int test_device_info_e1000e(void)
{
	open_nic();
	return check_device_info();
}

static int test_device_info_argsz(void)
{
	struct vfio_device_info info = { .argsz = 4 };
	struct {
		struct vfio_device_info i;
		char pad[64];
	} big = { .i = { .argsz = sizeof(big), .flags = 0xffff0000 } };

	open_edu();
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_GET_INFO, &info), EINVAL);
	info.argsz = offsetofend(struct vfio_device_info, num_irqs) - 1;
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_GET_INFO, &info), EINVAL);
	/* The pre-capability size works; input flags are ignored. */
	info.argsz = offsetofend(struct vfio_device_info, num_irqs);
	info.flags = 0xffff0000;
	CHECK_OK(ioctl(d.device, VFIO_DEVICE_GET_INFO, &info));
	CHECK(info.flags & VFIO_DEVICE_FLAGS_PCI);
	CHECK_EQ(info.flags & 0xffff0000, 0);
	CHECK_OK(ioctl(d.device, VFIO_DEVICE_GET_INFO, &big));
	CHECK_EQ(big.i.num_irqs, VFIO_PCI_NUM_IRQS);
	CHECK_EQ(big.i.flags & 0xffff0000, 0);
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_GET_INFO, NULL), EFAULT);
	return TEST_PASS;
}

static int check_bars_and_config(void)
{
	struct vfio_region_info ri;

	for (int i = VFIO_PCI_BAR0_REGION_INDEX; i <= VFIO_PCI_BAR5_REGION_INDEX; i++) {
		uint64_t len = sysfs_resource_len(d.bdf, i);

		CHECK_OK(__vfio_region_info(d.device, i, &ri));
		CHECK_EQ(ri.index, i);
		CHECK_EQ(ri.offset, VFIO_PCI_OFFSET(i));
		CHECK_EQ(ri.size, len);
		if (len)
			CHECK(ri.flags & (VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE));
		else
			CHECK_EQ(ri.flags, 0);
	}
	CHECK_OK(__vfio_region_info(d.device, VFIO_PCI_CONFIG_REGION_INDEX, &ri));
	CHECK_EQ(ri.offset, VFIO_PCI_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX));
	CHECK_EQ(ri.size, sysfs_size(d.bdf, "config"));
	CHECK_EQ(ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	return TEST_PASS;
}

static int test_region_info_edu(void)
{
	struct vfio_region_info ri;

	open_edu();
	if (check_bars_and_config())
		return TEST_FAIL;
	CHECK_OK(__vfio_region_info(d.device, VFIO_PCI_BAR0_REGION_INDEX, &ri));
	CHECK_EQ(ri.size, SZ_1M);
	CHECK_EQ(ri.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE |
			   VFIO_REGION_INFO_FLAG_MMAP);
	/* edu is conventional PCI: 256 bytes of config space. */
	CHECK_OK(__vfio_region_info(d.device, VFIO_PCI_CONFIG_REGION_INDEX, &ri));
	CHECK_EQ(ri.size, 256);
	/* No option ROM: size 0, no access. */
	CHECK_OK(__vfio_region_info(d.device, VFIO_PCI_ROM_REGION_INDEX, &ri));
	CHECK_EQ(ri.size, 0);
	CHECK_EQ(ri.flags, 0);
	return TEST_PASS;
}

static int test_region_info_e1000e(void)
{
	struct vfio_region_info ri;
	uint8_t sig[2];

	open_nic();
	if (check_bars_and_config())
		return TEST_FAIL;
	/* PCI Express: 4 KiB of config space. */
	CHECK_OK(__vfio_region_info(d.device, VFIO_PCI_CONFIG_REGION_INDEX, &ri));
	CHECK_EQ(ri.size, 4096);
	/* QEMU gives e1000e an option ROM: read-only, starts 55 AA. */
	CHECK_OK(__vfio_region_info(d.device, VFIO_PCI_ROM_REGION_INDEX, &ri));
	CHECK_EQ(ri.size, sysfs_resource_len(d.bdf, 6));
	CHECK(ri.size > 0);
	CHECK_EQ(ri.flags, VFIO_REGION_INFO_FLAG_READ);
	CHECK_EQ(pread(d.device, sig, 2, ri.offset), 2);
	CHECK_EQ(sig[0], 0x55);
	CHECK_EQ(sig[1], 0xaa);
	/* The ROM cannot be written. */
	CHECK_ERRNO(pwrite(d.device, sig, 2, ri.offset), EINVAL);
	return TEST_PASS;
}

static int test_region_info_bad(void)
{
	struct vfio_region_info ri = { .argsz = sizeof(ri) };

	open_edu();
	/* No VGA on edu; past the last region. */
	CHECK_EQ(__vfio_region_info(d.device, VFIO_PCI_VGA_REGION_INDEX, &ri), -EINVAL);
	CHECK_EQ(__vfio_region_info(d.device, VFIO_PCI_NUM_REGIONS, &ri), -EINVAL);
	CHECK_EQ(__vfio_region_info(d.device, 0xffffffff, &ri), -EINVAL);
	ri.argsz = offsetofend(struct vfio_region_info, offset) - 1;
	ri.index = 0;
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &ri), EINVAL);
	ri.argsz = 0;
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &ri), EINVAL);
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, NULL), EFAULT);
	/* Input flags are ignored. */
	ri.argsz = sizeof(ri);
	ri.flags = 0xffff0000;
	CHECK_OK(ioctl(d.device, VFIO_DEVICE_GET_REGION_INFO, &ri));
	CHECK_EQ(ri.flags & 0xffff0000, 0);
	return TEST_PASS;
}

static int test_bar0_pread_pwrite(void)
{
	uint64_t bar0 = VFIO_PCI_OFFSET(VFIO_PCI_BAR0_REGION_INDEX);
	uint32_t v = 0, w;

	open_edu();
	CHECK_EQ(pread(d.device, &v, 4, bar0 + EDU_REG_ID), 4);
	CHECK_EQ(v, EDU_ID_VALUE);
	w = 0x12345678;
	CHECK_EQ(pwrite(d.device, &w, 4, bar0 + EDU_REG_LIVE), 4);
	CHECK_EQ(pread(d.device, &v, 4, bar0 + EDU_REG_LIVE), 4);
	CHECK_EQ(v, ~0x12345678u);
	/* Factorial: write n, poll the busy bit, read n!. */
	w = 5;
	CHECK_EQ(pwrite(d.device, &w, 4, bar0 + EDU_REG_FACT), 4);
	for (int i = 0; i < 1000; i++) {
		CHECK_EQ(pread(d.device, &v, 4, bar0 + EDU_REG_STATUS), 4);
		if (!(v & 1))
			break;
		usleep(1000);
	}
	CHECK_EQ(pread(d.device, &v, 4, bar0 + EDU_REG_FACT), 4);
	CHECK_EQ(v, 120);
	/* Past the end of the BAR, and a BAR that does not exist. */
	CHECK_ERRNO(pread(d.device, &v, 4, bar0 + SZ_1M), EINVAL);
	CHECK_ERRNO(pread(d.device, &v, 4, VFIO_PCI_OFFSET(1)), EINVAL);
	/* A region index past the last one. */
	CHECK_ERRNO(pread(d.device, &v, 4, VFIO_PCI_OFFSET(VFIO_PCI_NUM_REGIONS)), EINVAL);
	return TEST_PASS;
}

static int test_bar0_mmap(void)
{
	volatile uint32_t *bar;
	void *p;

	open_edu();
	bar = vfio_region_mmap(d.device, VFIO_PCI_BAR0_REGION_INDEX, SZ_1M, 0);
	CHECK(bar != MAP_FAILED);
	CHECK_EQ(bar[EDU_REG_ID / 4], EDU_ID_VALUE);
	bar[EDU_REG_LIVE / 4] = 0xcafe0000;
	CHECK_EQ(bar[EDU_REG_LIVE / 4], ~0xcafe0000u);
	munmap((void *)bar, SZ_1M);
	/* A page in the middle. */
	bar = vfio_region_mmap(d.device, VFIO_PCI_BAR0_REGION_INDEX, 4096, 0x1000);
	CHECK(bar != MAP_FAILED);
	munmap((void *)bar, 4096);
	/* Private mappings of MMIO are refused. */
	p = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, d.device, 0);
	CHECK(p == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	/* Past the end of the BAR. */
	p = vfio_region_mmap(d.device, VFIO_PCI_BAR0_REGION_INDEX, 4096, SZ_1M);
	CHECK(p == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	p = vfio_region_mmap(d.device, VFIO_PCI_BAR0_REGION_INDEX, 2 * SZ_1M, 0);
	CHECK(p == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	/* Config space, ROM and empty BARs cannot be mmap'd. */
	p = vfio_region_mmap(d.device, VFIO_PCI_CONFIG_REGION_INDEX, 4096, 0);
	CHECK(p == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	p = vfio_region_mmap(d.device, VFIO_PCI_ROM_REGION_INDEX, 4096, 0);
	CHECK(p == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	p = vfio_region_mmap(d.device, 1, 4096, 0);
	CHECK(p == MAP_FAILED);
	CHECK_EQ(errno, EINVAL);
	return TEST_PASS;
}

static int test_config_space(void)
{
	uint32_t v, bar, sized;
	uint8_t b;

	open_edu();
	CHECK_EQ(vfio_cfg_read16(d.device, 0x00), EDU_VENDOR);
	CHECK_EQ(vfio_cfg_read16(d.device, 0x02), EDU_DEVICE);
	/* Class code (0x00ff00 per sysfs) in the top 24 bits of 0x08. */
	CHECK_EQ(vfio_cfg_read32(d.device, 0x08) >> 8, 0x00ff00);
	/* BAR sizing: all ones in, the size mask out, then restore. */
	bar = vfio_cfg_read32(d.device, 0x10);
	v = 0xffffffff;
	CHECK_EQ(__vfio_cfg_write(d.device, 0x10, &v, 4), 4);
	sized = vfio_cfg_read32(d.device, 0x10);
	CHECK_EQ(sized & ~0xfu, (uint32_t)~(SZ_1M - 1));
	CHECK_EQ(sized & 0x1, 0);	/* memory, not I/O */
	CHECK_EQ(__vfio_cfg_write(d.device, 0x10, &bar, 4), 4);
	CHECK_EQ(vfio_cfg_read32(d.device, 0x10), bar);
	/* An unimplemented BAR sizes to 0. */
	CHECK_EQ(__vfio_cfg_write(d.device, 0x14, &v, 4), 4);
	CHECK_EQ(vfio_cfg_read32(d.device, 0x14), 0);
	/* The capability chain shows MSI; edu has no MSI-X. */
	CHECK(vfio_cfg_find_cap(d.device, 0x05) > 0);
	CHECK_EQ(vfio_cfg_find_cap(d.device, 0x11), 0);
	/* Byte reads anywhere inside; nothing past the end. */
	CHECK_EQ(__vfio_cfg_read(d.device, 255, &b, 1), 1);
	CHECK_EQ(__vfio_cfg_read(d.device, 256, &b, 1), -EFAULT);
	CHECK_EQ(__vfio_cfg_read(d.device, 254, &v, 4), -EFAULT);
	return TEST_PASS;
}

/*
 * The command register's memory-enable bit gates BAR access: off, pread of
 * BAR0 fails with EIO and touching its mmap raises SIGBUS; on again, both
 * work.  The bit reads back as written (it is virtualized).
 */
static int test_command_memory_gate(void)
{
	uint64_t bar0 = VFIO_PCI_OFFSET(VFIO_PCI_BAR0_REGION_INDEX);
	volatile uint32_t *bar;
	uint16_t cmd;
	uint32_t v;
	int status;
	pid_t pid;

	open_edu();
	bar = vfio_region_mmap(d.device, VFIO_PCI_BAR0_REGION_INDEX, SZ_1M, 0);
	CHECK(bar != MAP_FAILED);
	cmd = vfio_cfg_read16(d.device, 0x04);
	vfio_cfg_write16(d.device, 0x04, cmd | 0x2);
	CHECK_EQ(bar[0], EDU_ID_VALUE);
	vfio_cfg_write16(d.device, 0x04, cmd & ~0x2);
	CHECK_EQ(vfio_cfg_read16(d.device, 0x04) & 0x2, 0);
	CHECK_ERRNO(pread(d.device, &v, 4, bar0), EIO);
	fflush(NULL);
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		v = bar[0];
		_exit(0);	/* should not get here */
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status));
	CHECK_EQ(WTERMSIG(status), SIGBUS);
	vfio_cfg_write16(d.device, 0x04, cmd | 0x2);
	CHECK_EQ(vfio_cfg_read16(d.device, 0x04) & 0x2, 0x2);
	CHECK_EQ(pread(d.device, &v, 4, bar0), 4);
	CHECK_EQ(v, EDU_ID_VALUE);
	CHECK_EQ(bar[0], EDU_ID_VALUE);
	munmap((void *)bar, SZ_1M);
	return TEST_PASS;
}

static int test_config_space_e1000e(void)
{
	open_nic();
	CHECK_EQ(vfio_cfg_read16(d.device, 0x00), E1000E_VENDOR);
	CHECK_EQ(vfio_cfg_read16(d.device, 0x02), E1000E_DEVICE);
	/* MSI-X and PCI Express capabilities are in the chain. */
	CHECK(vfio_cfg_find_cap(d.device, 0x11) > 0);
	CHECK(vfio_cfg_find_cap(d.device, 0x10) > 0);
	return TEST_PASS;
}

static int test_irq_info_edu(void)
{
	struct vfio_irq_info ii;

	open_edu();
	CHECK_OK(__vfio_irq_info(d.device, VFIO_PCI_INTX_IRQ_INDEX, &ii));
	CHECK_EQ(ii.count, 1);
	CHECK_EQ(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
			   VFIO_IRQ_INFO_AUTOMASKED);
	CHECK_OK(__vfio_irq_info(d.device, VFIO_PCI_MSI_IRQ_INDEX, &ii));
	CHECK_EQ(ii.count, 1);
	CHECK_EQ(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
	CHECK_OK(__vfio_irq_info(d.device, VFIO_PCI_MSIX_IRQ_INDEX, &ii));
	CHECK_EQ(ii.count, 0);
	/* The AER error IRQ only exists on PCI Express devices. */
	CHECK_EQ(__vfio_irq_info(d.device, VFIO_PCI_ERR_IRQ_INDEX, &ii), -EINVAL);
	CHECK_OK(__vfio_irq_info(d.device, VFIO_PCI_REQ_IRQ_INDEX, &ii));
	CHECK_EQ(ii.count, 1);
	CHECK_EQ(__vfio_irq_info(d.device, VFIO_PCI_NUM_IRQS, &ii), -EINVAL);
	CHECK_EQ(__vfio_irq_info(d.device, 0xffffffff, &ii), -EINVAL);
	/* Input flags are ignored, overwritten. */
	ii.argsz = sizeof(ii);
	ii.index = VFIO_PCI_MSI_IRQ_INDEX;
	ii.flags = 0xffff0000;
	CHECK_OK(ioctl(d.device, VFIO_DEVICE_GET_IRQ_INFO, &ii));
	CHECK_EQ(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
	ii.argsz = offsetofend(struct vfio_irq_info, count) - 1;
	ii.index = 0;
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_GET_IRQ_INFO, &ii), EINVAL);
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_GET_IRQ_INFO, NULL), EFAULT);
	return TEST_PASS;
}

static int test_irq_info_e1000e(void)
{
	struct vfio_irq_info ii;

	open_nic();
	CHECK_OK(__vfio_irq_info(d.device, VFIO_PCI_MSIX_IRQ_INDEX, &ii));
	/* QEMU's e1000e has 5 MSI-X vectors. */
	CHECK_EQ(ii.count, 5);
	/*
	 * From 6.5 MSI-X grows while enabled where the MSI domain allocates
	 * at an index (dynamic MSI-X, compat.h), as the bench's interrupt
	 * remapping does: then it is not NORESIZE.
	 */
	CHECK_EQ(ii.flags, VFIO_IRQ_INFO_EVENTFD |
			   (kernel_series_at_least(6, 5) ? 0 : VFIO_IRQ_INFO_NORESIZE));
	CHECK_OK(__vfio_irq_info(d.device, VFIO_PCI_ERR_IRQ_INDEX, &ii));
	CHECK_EQ(ii.count, 1);
	CHECK_EQ(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE);
	return TEST_PASS;
}

#define TRIGGER_EVENTFD (VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER)
#define TRIGGER_NONE (VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER)

static int test_set_irqs_bad_input(void)
{
	struct vfio_irq_set set = { .argsz = sizeof(set) };
	int32_t fds[2] = { eventfd_new(), eventfd_new() };
	int32_t bad;
	uint8_t one = 1;

	open_edu();
	/* argsz. */
	set.argsz = offsetofend(struct vfio_irq_set, count) - 1;
	set.flags = TRIGGER_NONE;
	set.index = VFIO_PCI_MSI_IRQ_INDEX;
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_SET_IRQS, &set), EINVAL);
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_SET_IRQS, NULL), EFAULT);
	/* Unknown flag bits. */
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX, TRIGGER_EVENTFD | (1u << 10),
				0, 1, fds, 4), -EINVAL);
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX, TRIGGER_EVENTFD | (1u << 31),
				0, 1, fds, 4), -EINVAL);
	/* Two data types at once. */
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX,
				VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL |
				VFIO_IRQ_SET_ACTION_TRIGGER, 0, 1, &one, 1), -EINVAL);
	/* Index out of range, vectors the device does not have. */
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_NUM_IRQS, TRIGGER_EVENTFD, 0, 1, fds, 4), -EINVAL);
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX, TRIGGER_EVENTFD, 0, 2, fds, 8), -EINVAL);
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX, TRIGGER_EVENTFD, 1, 1, fds, 4), -EINVAL);
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSIX_IRQ_INDEX, TRIGGER_EVENTFD, 0, 1, fds, 4), -EINVAL);
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_ERR_IRQ_INDEX, TRIGGER_EVENTFD, 0, 1, fds, 4), -EINVAL);
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX, TRIGGER_EVENTFD, 0xffffffff, 1, fds, 4), -EINVAL);
	/* Eventfd data shorter than count says. */
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX, TRIGGER_EVENTFD, 0, 1, fds, 2), -EINVAL);
	/*
	 * MSI cannot be masked, and an action of none or of two kinds
	 * selects no handler: ENOTTY, after the header checks passed.
	 */
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX,
				VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK, 0, 1, NULL, 0), -ENOTTY);
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX,
				VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 0, 1, NULL, 0), -ENOTTY);
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE,
				0, 1, NULL, 0), -ENOTTY);
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE |
				VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK,
				0, 1, NULL, 0), -ENOTTY);
	/* Triggering MSI by hand while it is off. */
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX, TRIGGER_NONE, 0, 1, NULL, 0), -EINVAL);
	/* Not an eventfd, and no file at all. */
	bad = d.container;
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX, TRIGGER_EVENTFD, 0, 1, &bad, 4), -EINVAL);
	bad = 9999;
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX, TRIGGER_EVENTFD, 0, 1, &bad, 4), -EBADF);
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_INTX_IRQ_INDEX, TRIGGER_EVENTFD, 0, 1, &bad, 4), -EBADF);
	/* One interrupt type at a time: INTx on, then MSI is refused. */
	CHECK_OK(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds));
	CHECK_EQ(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, fds + 1), -EINVAL);
	CHECK_OK(__vfio_irq_disable(d.device, VFIO_PCI_INTX_IRQ_INDEX));
	CHECK_OK(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, fds + 1));
	CHECK_EQ(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, fds), -EINVAL);
	CHECK_OK(__vfio_irq_disable(d.device, VFIO_PCI_MSI_IRQ_INDEX));
	close(fds[0]);
	close(fds[1]);
	return TEST_PASS;
}

static int test_reset(void)
{
	struct vfio_device_info info;
	uint64_t bar0 = VFIO_PCI_OFFSET(VFIO_PCI_BAR0_REGION_INDEX);
	uint32_t v;

	for (int dev = 0; dev < 2; dev++) {
		if (dev == 0)
			open_edu();
		else
			open_nic();
		CHECK_OK(__vfio_device_info(d.device, &info));
		printf("# %s: reset %s\n", d.bdf,
		       info.flags & VFIO_DEVICE_FLAGS_RESET ? "supported" : "not supported");
		if (info.flags & VFIO_DEVICE_FLAGS_RESET)
			CHECK_OK(ioctl(d.device, VFIO_DEVICE_RESET));
		else
			CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_RESET), EINVAL);
		/* The device still answers afterwards. */
		CHECK_EQ(vfio_cfg_read16(d.device, 0x00), dev ? E1000E_VENDOR : EDU_VENDOR);
		if (dev == 0) {
			CHECK_EQ(pread(d.device, &v, 4, bar0), 4);
			CHECK_EQ(v, EDU_ID_VALUE);
		}
		vfio_dev_close(&d);
	}
	return TEST_PASS;
}

static int test_unknown_ioctl(void)
{
	open_edu();
	CHECK_ERRNO(ioctl(d.device, VFIO_BOGUS_IOCTL), ENOTTY);
	CHECK_ERRNO(ioctl(d.device, VFIO_GET_API_VERSION), ENOTTY);
	CHECK_ERRNO(ioctl(d.device, VFIO_GROUP_UNSET_CONTAINER), ENOTTY);
	return TEST_PASS;
}

/*
 * VFIO_DEVICE_FEATURE: vfio.ko checks the header (argsz, unknown flags,
 * GET with SET unless probing) before asking for the feature; edu has
 * none of the features, migration included.
 */
static int test_device_feature_bad_input(void)
{
	struct {
		struct vfio_device_feature hdr;
		uint8_t data[16];
	} f;
	const uint32_t min = offsetof(struct vfio_device_feature, data);

	open_edu();
	memset(&f, 0, sizeof(f));
	f.hdr.argsz = 0;
	f.hdr.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION;
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_FEATURE, &f), EINVAL);
	f.hdr.argsz = min - 1;
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_FEATURE, &f), EINVAL);
	f.hdr.argsz = sizeof(f);
	f.hdr.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION | (1u << 19);
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_FEATURE, &f), EINVAL);
	f.hdr.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET |
		      VFIO_DEVICE_FEATURE_MIGRATION;
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_FEATURE, &f), EINVAL);
	/* Well formed, but no such feature: what QEMU's migration probe gets. */
	f.hdr.flags = VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION;
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_FEATURE, &f), ENOTTY);
	f.hdr.flags = VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
		      VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_FEATURE, &f), ENOTTY);
	f.hdr.flags = VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN;
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_FEATURE, &f), ENOTTY);
	f.hdr.flags = VFIO_DEVICE_FEATURE_GET | 0x1234;
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_FEATURE, &f), ENOTTY);
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_FEATURE, NULL), EFAULT);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_device_info_edu),
	TEST(test_device_info_e1000e),
	TEST(test_device_info_argsz),
	TEST(test_region_info_edu),
	TEST(test_region_info_e1000e),
	TEST(test_region_info_bad),
	TEST(test_bar0_pread_pwrite),
	TEST(test_bar0_mmap),
	TEST(test_config_space),
	TEST(test_command_memory_gate),
	TEST(test_config_space_e1000e),
	TEST(test_irq_info_edu),
	TEST(test_irq_info_e1000e),
	TEST(test_set_irqs_bad_input),
	TEST(test_reset),
	TEST(test_unknown_ioctl),
	TEST(test_device_feature_bad_input),
};

int main(int argc, char **argv)
{
	return RUN_TESTS_FORKED("vfio_uapi_device", tests, argc, argv);
}
