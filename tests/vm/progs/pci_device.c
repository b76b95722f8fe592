// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci, the device side: BAR access by pread/pwrite and mmap, config
 * space virtualization (BAR and ROM sizing, virtual BARs, memory decode,
 * read-only fields, MSI owned by the driver), reset.  Needs edu and
 * e1000e bound to vfio-pci.  Hardware config is read from sysfs to tell
 * what user space sees from what the device holds.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "check.h"
#include "vfio_util.h"

#define SZ_1M 0x100000u
#define BAR0 VFIO_PCI_OFFSET(VFIO_PCI_BAR0_REGION_INDEX)

static struct vfio_dev d;

/* Config space as the device holds it (sysfs), not as VFIO shows it. */
static uint32_t hw_cfg_read(const char *bdf, int off, int size)
{
	char path[PATH_MAX];
	uint32_t v = 0;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, &v, size, off) != size)
		v = 0xdeadbeef;
	if (fd >= 0)
		close(fd);
	return v;
}

/* Open a fresh device, closing one a failed test left behind. */
static void open_dev(uint16_t vendor, uint16_t device)
{
	if (d.container > 0)
		vfio_dev_close(&d);
	vfio_dev_open(&d, vendor, device, VFIO_TYPE1v2_IOMMU);
}

static void cfg_write32(int device, uint32_t off, uint32_t v)
{
	if (__vfio_cfg_write(device, off, &v, 4) != 4)
		fprintf(stderr, "  config write at 0x%x failed\n", off);
}

static int test_bar0_pread(void)
{
	uint32_t v = 0, w = 0x5a5aa5a5;

	open_dev(EDU_VENDOR, EDU_DEVICE);
	CHECK_EQ(pread(d.device, &v, 4, BAR0 + EDU_REG_ID), 4);
	CHECK_EQ(v, EDU_ID_VALUE);
	CHECK_EQ(pwrite(d.device, &w, 4, BAR0 + EDU_REG_LIVE), 4);
	CHECK_EQ(pread(d.device, &v, 4, BAR0 + EDU_REG_LIVE), 4);
	CHECK_EQ(v, ~w);
	/* A read running past the end of the BAR is cut at its end. */
	CHECK_EQ(pread(d.device, &v, 4, BAR0 + SZ_1M - 2), 2);
	vfio_dev_close(&d);
	return TEST_PASS;
}

static int test_bar0_mmap(void)
{
	volatile uint32_t *bar;

	open_dev(EDU_VENDOR, EDU_DEVICE);
	vfio_dev_map_bar0(&d);
	bar = d.bar0;
	CHECK_EQ(bar[EDU_REG_ID / 4], EDU_ID_VALUE);
	bar[EDU_REG_LIVE / 4] = 0x01234567;
	CHECK_EQ(bar[EDU_REG_LIVE / 4], ~0x01234567u);
	/* The same register through pread agrees with the mapping. */
	{
		uint32_t v = 0;

		CHECK_EQ(pread(d.device, &v, 4, BAR0 + EDU_REG_LIVE), 4);
		CHECK_EQ(v, ~0x01234567u);
	}
	/* The last page maps, one page further does not. */
	{
		void *p = vfio_region_mmap(d.device, 0, 4096, SZ_1M - 4096);

		CHECK(p != MAP_FAILED);
		munmap(p, 4096);
		p = vfio_region_mmap(d.device, 0, 8192, SZ_1M - 4096);
		CHECK(p == MAP_FAILED);
		CHECK_EQ(errno, EINVAL);
	}
	vfio_dev_close(&d);
	return TEST_PASS;
}

static int test_config_ids(void)
{
	open_dev(EDU_VENDOR, EDU_DEVICE);
	CHECK_EQ(vfio_cfg_read32(d.device, 0x00), hw_cfg_read(d.bdf, 0x00, 4));
	CHECK_EQ(vfio_cfg_read32(d.device, 0x2c), hw_cfg_read(d.bdf, 0x2c, 4));
	/* Read-only fields ignore writes. */
	vfio_cfg_write16(d.device, 0x00, 0xbeef);
	CHECK_EQ(vfio_cfg_read16(d.device, 0x00), EDU_VENDOR);
	CHECK_EQ(hw_cfg_read(d.bdf, 0x00, 2), EDU_VENDOR);
	vfio_dev_close(&d);
	return TEST_PASS;
}

static int test_config_bar_sizing(void)
{
	uint32_t bar, hw, v;

	open_dev(EDU_VENDOR, EDU_DEVICE);
	bar = vfio_cfg_read32(d.device, 0x10);
	hw = hw_cfg_read(d.bdf, 0x10, 4);
	CHECK_EQ(bar, hw);	/* starts out as the real address */

	/* Sizing by dword, and by two words. */
	cfg_write32(d.device, 0x10, 0xffffffff);
	CHECK_EQ(vfio_cfg_read32(d.device, 0x10), (~(SZ_1M - 1)) | (bar & 0xf));
	cfg_write32(d.device, 0x10, 0);
	vfio_cfg_write16(d.device, 0x10, 0xffff);
	vfio_cfg_write16(d.device, 0x12, 0xffff);
	CHECK_EQ(vfio_cfg_read32(d.device, 0x10), (~(SZ_1M - 1)) | (bar & 0xf));

	/* The BAR is virtual: the device keeps its address and still answers. */
	cfg_write32(d.device, 0x10, 0x12300000);
	CHECK_EQ(vfio_cfg_read32(d.device, 0x10), 0x12300000 | (bar & 0xf));
	CHECK_EQ(hw_cfg_read(d.bdf, 0x10, 4), hw);
	CHECK_EQ(pread(d.device, &v, 4, BAR0 + EDU_REG_ID), 4);
	CHECK_EQ(v, EDU_ID_VALUE);
	cfg_write32(d.device, 0x10, bar);
	CHECK_EQ(vfio_cfg_read32(d.device, 0x10), bar);

	/* Unimplemented BARs and the absent ROM size to 0. */
	for (int off = 0x14; off <= 0x24; off += 4) {
		cfg_write32(d.device, off, 0xffffffff);
		CHECK_EQ(vfio_cfg_read32(d.device, off), 0);
	}
	cfg_write32(d.device, 0x30, 0xffffffff);
	CHECK_EQ(vfio_cfg_read32(d.device, 0x30), 0);
	vfio_dev_close(&d);
	return TEST_PASS;
}

static int test_config_rom_sizing(void)
{
	struct vfio_region_info ri;
	uint32_t rom, hw;

	open_dev(E1000E_VENDOR, E1000E_DEVICE);
	CHECK_OK(__vfio_region_info(d.device, VFIO_PCI_ROM_REGION_INDEX, &ri));
	CHECK(ri.size > 0);
	rom = vfio_cfg_read32(d.device, 0x30);
	hw = hw_cfg_read(d.bdf, 0x30, 4);
	/* Sizing: address bits of the size, plus the enable bit. */
	cfg_write32(d.device, 0x30, 0xffffffff);
	CHECK_EQ(vfio_cfg_read32(d.device, 0x30), (uint32_t)~(ri.size - 1) | 1);
	CHECK_EQ(hw_cfg_read(d.bdf, 0x30, 4), hw);
	cfg_write32(d.device, 0x30, rom);
	CHECK_EQ(vfio_cfg_read32(d.device, 0x30), rom);
	vfio_dev_close(&d);
	return TEST_PASS;
}

static int test_config_memory_decode(void)
{
	uint16_t cmd;
	uint32_t v;

	open_dev(EDU_VENDOR, EDU_DEVICE);
	cmd = vfio_cfg_read16(d.device, 0x04);
	CHECK(cmd & 0x2);	/* enabled at open */
	vfio_cfg_write16(d.device, 0x04, cmd & ~0x2);
	CHECK_EQ(vfio_cfg_read16(d.device, 0x04) & 0x2, 0);
	CHECK_EQ(hw_cfg_read(d.bdf, 0x04, 2) & 0x2, 0);	/* passed through */
	CHECK_ERRNO(pread(d.device, &v, 4, BAR0 + EDU_REG_ID), EIO);
	vfio_cfg_write16(d.device, 0x04, cmd | 0x2);
	CHECK_EQ(hw_cfg_read(d.bdf, 0x04, 2) & 0x2, 0x2);
	CHECK_EQ(pread(d.device, &v, 4, BAR0 + EDU_REG_ID), 4);
	CHECK_EQ(v, EDU_ID_VALUE);
	/* Bus master goes through to the device too. */
	vfio_cfg_write16(d.device, 0x04, cmd | 0x6);
	CHECK_EQ(hw_cfg_read(d.bdf, 0x04, 2) & 0x4, 0x4);
	/* INTx disable is virtual: it reads back as written. */
	vfio_cfg_write16(d.device, 0x04, cmd | 0x400);
	CHECK_EQ(vfio_cfg_read16(d.device, 0x04) & 0x400, 0x400);
	vfio_cfg_write16(d.device, 0x04, cmd);
	CHECK_EQ(vfio_cfg_read16(d.device, 0x04) & 0x400, 0);
	vfio_dev_close(&d);
	return TEST_PASS;
}

/* MSI and MSI-X enable bits belong to the driver: writes stay virtual. */
static int test_config_msi_owned(void)
{
	int efd = eventfd_new();
	uint16_t flags;
	int msi, msix;

	open_dev(EDU_VENDOR, EDU_DEVICE);
	msi = vfio_cfg_find_cap(d.device, 0x05);
	CHECK(msi > 0);
	flags = vfio_cfg_read16(d.device, msi + 2);
	CHECK_EQ(flags & 1, 0);
	/* Enabling by config write does nothing: SET_IRQS enables MSI... */
	vfio_cfg_write16(d.device, msi + 2, flags | 1);
	CHECK_EQ(vfio_cfg_read16(d.device, msi + 2) & 1, 0);
	CHECK_EQ(hw_cfg_read(d.bdf, msi + 2, 2) & 1, 0);
	/* ...after which the device has it on, and the virtual bit may follow. */
	CHECK_OK(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &efd));
	CHECK_EQ(hw_cfg_read(d.bdf, msi + 2, 2) & 1, 1);
	vfio_cfg_write16(d.device, msi + 2, flags | 1);
	CHECK_EQ(vfio_cfg_read16(d.device, msi + 2) & 1, 1);
	CHECK_OK(__vfio_irq_disable(d.device, VFIO_PCI_MSI_IRQ_INDEX));
	CHECK_EQ(hw_cfg_read(d.bdf, msi + 2, 2) & 1, 0);
	/* The message address is virtual too. */
	{
		uint32_t hw = hw_cfg_read(d.bdf, msi + 4, 4);

		cfg_write32(d.device, msi + 4, 0xfee01000);
		CHECK_EQ(vfio_cfg_read32(d.device, msi + 4), 0xfee01000);
		CHECK_EQ(hw_cfg_read(d.bdf, msi + 4, 4), hw);
	}
	vfio_cfg_write16(d.device, msi + 2, flags);
	vfio_dev_close(&d);

	open_dev(E1000E_VENDOR, E1000E_DEVICE);
	msix = vfio_cfg_find_cap(d.device, 0x11);
	CHECK(msix > 0);
	flags = vfio_cfg_read16(d.device, msix + 2);
	CHECK_EQ(flags & 0x7ff, 4);	/* 5 vectors, read through */
	/* Config writes cannot enable MSI-X; the control shows SET_IRQS's doing. */
	vfio_cfg_write16(d.device, msix + 2, flags | 0x8000);
	CHECK_EQ(vfio_cfg_read16(d.device, msix + 2) & 0x8000, 0);
	CHECK_EQ(hw_cfg_read(d.bdf, msix + 2, 2) & 0x8000, 0);
	CHECK_OK(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_MSIX_IRQ_INDEX, 0, 1, &efd));
	CHECK_EQ(vfio_cfg_read16(d.device, msix + 2) & 0x8000, 0x8000);
	CHECK_OK(__vfio_irq_disable(d.device, VFIO_PCI_MSIX_IRQ_INDEX));
	CHECK_EQ(vfio_cfg_read16(d.device, msix + 2) & 0x8000, 0);
	vfio_dev_close(&d);
	close(efd);
	return TEST_PASS;
}

static int test_reset(void)
{
	struct vfio_device_info info;
	uint32_t bar0;
	uint16_t cmd;

	open_dev(E1000E_VENDOR, E1000E_DEVICE);
	CHECK_OK(__vfio_device_info(d.device, &info));
	if (!(info.flags & VFIO_DEVICE_FLAGS_RESET))
		SKIP("e1000e has no reset method in this VM");
	vfio_dev_map_bar0(&d);
	bar0 = vfio_cfg_read32(d.device, 0x10);
	cmd = hw_cfg_read(d.bdf, 0x04, 2);
	CHECK_OK(ioctl(d.device, VFIO_DEVICE_RESET));
	/* Config state comes back: the BAR, decode and bus master. */
	CHECK_EQ(vfio_cfg_read32(d.device, 0x10), bar0);
	CHECK_EQ(hw_cfg_read(d.bdf, 0x04, 2) & 0x6, cmd & 0x6);
	/* The device answers through the mapping: STATUS (0x08) reads. */
	CHECK(((volatile uint32_t *)d.bar0)[0x08 / 4] != 0xffffffff);
	vfio_dev_close(&d);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_bar0_pread),
	TEST(test_bar0_mmap),
	TEST(test_config_ids),
	TEST(test_config_bar_sizing),
	TEST(test_config_rom_sizing),
	TEST(test_config_memory_decode),
	TEST(test_config_msi_owned),
	TEST(test_reset),
};

int main(int argc, char **argv)
{
	return RUN_TESTS("pci_device", tests, argc, argv);
}
