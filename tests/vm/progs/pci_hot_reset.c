// SPDX-License-Identifier: GPL-2.0
/*
 * VFIO_DEVICE_GET_PCI_HOT_RESET_INFO and VFIO_DEVICE_PCI_HOT_RESET, as a
 * client such as QEMU uses them to reset a device that has no FLR, and the
 * bus reset vfio-pci does on its own after the last close.  Needs the
 * bench's two e1000e bound to vfio-pci: the first on the root bus (nothing
 * can reset that bus), the other alone behind a PCIe root port, whose
 * address is in $VFIO_ROOT_PORT_NIC; and the two devices behind the
 * PCIe-to-PCI bridge, the second edu ($VFIO_BRIDGE_EDU) and virtio-rng,
 * neither with a reset of its own.  Checked on both stacks: the same
 * errnos, the same device lists, and devices whose registers really went
 * back to their reset values.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/pci_regs.h>

#include "check.h"
#include "vfio_util.h"

/* e1000e's receive descriptor base, low half: 0 after reset, 16-byte aligned. */
#define E1000_RDBAL0	0x2800
#define RDBAL_PATTERN	0xabcde000u

static const char *root_port_nic(void)
{
	return env_bdf("VFIO_ROOT_PORT_NIC", "e1000e_root_port_bdf");
}

static int hot_reset_info(int device, struct vfio_pci_hot_reset_info *info, uint32_t argsz)
{
	memset(info, 0, argsz);
	info->argsz = argsz;
	return ioctl(device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, info);
}

/* A hot reset request naming the group fds given (count of them). */
static int hot_reset(int device, uint32_t flags, uint32_t count, const int32_t *fds)
{
	char buf[sizeof(struct vfio_pci_hot_reset) + 4 * sizeof(int32_t)];
	struct vfio_pci_hot_reset *req = (void *)buf;

	memset(buf, 0, sizeof(buf));
	req->argsz = sizeof(*req) + count * sizeof(int32_t);
	req->flags = flags;
	req->count = count;
	if (count)
		memcpy(req->group_fds, fds, (count < 4 ? count : 4) * sizeof(int32_t));
	return ioctl(device, VFIO_DEVICE_PCI_HOT_RESET, req);
}

/* The root bus has no bridge whose secondary bus reset could reach it. */
static int test_root_bus_cannot(void)
{
	struct vfio_pci_hot_reset_info info;
	struct vfio_dev d;

	vfio_dev_open(&d, E1000E_VENDOR, E1000E_DEVICE, VFIO_TYPE1v2_IOMMU);
	CHECK(strncmp(d.bdf, "0000:00:", 8) == 0);
	CHECK_ERRNO(hot_reset_info(d.device, &info, sizeof(info)), ENODEV);
	CHECK_ERRNO(hot_reset(d.device, 0, 1, &d.group), ENODEV);
	/*
	 * No group: 6.1 asks the bus first, 6.5 and later the count (zero is
	 * for iommufd's device files).
	 */
	CHECK_ERRNO(hot_reset(d.device, 0, 0, NULL), kernel_series_at_least(6, 5) ? EINVAL : ENODEV);
	vfio_dev_close(&d);
	return TEST_PASS;
}

static int test_info(void)
{
	struct {
		struct vfio_pci_hot_reset_info hdr;
		struct vfio_pci_dependent_device devs[4];
	} info;
	unsigned int bus, slot, fn;
	struct vfio_dev d;

	vfio_dev_open_bdf(&d, root_port_nic(), VFIO_TYPE1v2_IOMMU);
	CHECK_EQ(sscanf(d.bdf, "0000:%x:%x.%x", &bus, &slot, &fn), 3);

	CHECK_ERRNO(hot_reset_info(d.device, &info.hdr,
				   offsetofend(struct vfio_pci_hot_reset_info, count) - 1), EINVAL);
	/* Room for none: ENOSPC, and the count needed. */
	memset(&info, 0xff, sizeof(info));
	info.hdr.argsz = sizeof(info.hdr);
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info), ENOSPC);
	CHECK_EQ(info.hdr.count, 1);
	CHECK_EQ(info.hdr.flags, 0);

	memset(&info, 0xff, sizeof(info));
	info.hdr.argsz = sizeof(info);
	CHECK_OK(ioctl(d.device, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	CHECK_EQ(info.hdr.flags, 0);
	CHECK_EQ(info.hdr.count, 1);
	CHECK_EQ(info.devs[0].group_id, d.group_id);
	CHECK_EQ(info.devs[0].segment, 0);
	CHECK_EQ(info.devs[0].bus, bus);
	CHECK_EQ(info.devs[0].devfn, slot << 3 | fn);
	/* Nothing written past the one entry. */
	CHECK_EQ(info.devs[1].group_id, 0xffffffffu);
	printf("# %s: hot reset touches 1 device, group %u\n", d.bdf, info.devs[0].group_id);
	vfio_dev_close(&d);
	return TEST_PASS;
}

static int test_bad_input(void)
{
	size_t minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct vfio_pci_hot_reset *req;
	struct vfio_dev d, other;
	long page = sysconf(_SC_PAGESIZE);
	int32_t fd;
	char *p;

	vfio_dev_open_bdf(&d, root_port_nic(), VFIO_TYPE1v2_IOMMU);
	vfio_dev_open(&other, E1000E_VENDOR, E1000E_DEVICE, VFIO_TYPE1v2_IOMMU);

	struct vfio_pci_hot_reset small = { .argsz = minsz - 1, .count = 1 };
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_PCI_HOT_RESET, &small), EINVAL);
	CHECK_ERRNO(hot_reset(d.device, 1, 1, &d.group), EINVAL);	/* flags */
	CHECK_ERRNO(hot_reset(d.device, 0, 0, NULL), EINVAL);		/* no group */
	/* More groups than devices the reset touches (one). */
	int32_t two[2] = { d.group, d.group };
	CHECK_ERRNO(hot_reset(d.device, 0, 2, two), EINVAL);
	fd = -1;
	CHECK_ERRNO(hot_reset(d.device, 0, 1, &fd), EBADF);
	/* Files that are not group files. */
	CHECK_ERRNO(hot_reset(d.device, 0, 1, &d.container), EINVAL);
	CHECK_ERRNO(hot_reset(d.device, 0, 1, &d.device), EINVAL);
	/* A group file, but not the group of the device the reset touches. */
	CHECK_ERRNO(hot_reset(d.device, 0, 1, &other.group), EINVAL);

	/* The fds themselves unreadable: the header ends a page, the next is gone. */
	p = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	CHECK(p != MAP_FAILED);
	CHECK_OK(munmap(p + page, page));
	req = (void *)(p + page - minsz);
	req->argsz = minsz + sizeof(int32_t);
	req->flags = 0;
	req->count = 1;
	CHECK_ERRNO(ioctl(d.device, VFIO_DEVICE_PCI_HOT_RESET, req), EFAULT);
	munmap(p, page);

	/* The device is still there and usable after all of that. */
	CHECK_OK(hot_reset(d.device, 0, 1, &d.group));
	vfio_dev_close(&other);
	vfio_dev_close(&d);
	return TEST_PASS;
}

/*
 * The reset reaches the device: a register written through the BAR
 * mapping reads back as written, and as its reset value after the hot
 * reset, through the same mapping (zapped and faulted in again).
 */
static int test_resets_device(void)
{
	volatile uint32_t *rdbal;
	struct vfio_dev d;

	vfio_dev_open_bdf(&d, root_port_nic(), VFIO_TYPE1v2_IOMMU);
	vfio_dev_map_bar0(&d);
	rdbal = (volatile uint32_t *)((char *)d.bar0 + E1000_RDBAL0);
	*rdbal = RDBAL_PATTERN;
	CHECK_EQ(*rdbal, RDBAL_PATTERN);

	CHECK_OK(hot_reset(d.device, 0, 1, &d.group));
	CHECK_EQ(*rdbal, 0);
	/* Memory decode and bus mastering were put back by the reset. */
	CHECK(vfio_cfg_read16(d.device, PCI_COMMAND) & PCI_COMMAND_MEMORY);

	*rdbal = RDBAL_PATTERN;
	CHECK_EQ(*rdbal, RDBAL_PATTERN);
	printf("# %s: RDBAL0 0x%x before the hot reset, 0 after\n", d.bdf, RDBAL_PATTERN);
	vfio_dev_close(&d);
	return TEST_PASS;
}

/*
 * A device user space left in D3hot (through PMCSR; e1000e has no
 * No_Soft_Reset, so D3hot loses its config and VFIO keeps a copy): the
 * hot reset brings it to D0 first, with that config, and after the reset
 * it is in D0, decodes its BARs again, and its registers are reset.
 */
static int test_hot_reset_from_d3hot(void)
{
	uint32_t rdbal = RDBAL_PATTERN;
	struct vfio_dev d;
	uint16_t pmcsr;
	int pm;

	vfio_dev_open_bdf(&d, root_port_nic(), VFIO_TYPE1v2_IOMMU);
	vfio_cfg_write16(d.device, PCI_COMMAND,
			 vfio_cfg_read16(d.device, PCI_COMMAND) | PCI_COMMAND_MEMORY);
	CHECK_EQ(pwrite(d.device, &rdbal, sizeof(rdbal), VFIO_PCI_OFFSET(0) + E1000_RDBAL0),
		 sizeof(rdbal));
	pm = vfio_cfg_find_cap(d.device, PCI_CAP_ID_PM);
	CHECK(pm > 0);
	pmcsr = vfio_cfg_read16(d.device, pm + PCI_PM_CTRL);
	vfio_cfg_write16(d.device, pm + PCI_PM_CTRL, (pmcsr & ~PCI_PM_CTRL_STATE_MASK) | 3);
	CHECK_EQ(vfio_cfg_read16(d.device, pm + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK, 3);
	/* No BAR access in D3hot. */
	CHECK_ERRNO(pread(d.device, &rdbal, sizeof(rdbal), VFIO_PCI_OFFSET(0) + E1000_RDBAL0), EIO);

	CHECK_OK(hot_reset(d.device, 0, 1, &d.group));
	CHECK_EQ(vfio_cfg_read16(d.device, pm + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK, 0);
	CHECK(vfio_cfg_read16(d.device, PCI_COMMAND) & PCI_COMMAND_MEMORY);
	rdbal = RDBAL_PATTERN;
	CHECK_EQ(pread(d.device, &rdbal, sizeof(rdbal), VFIO_PCI_OFFSET(0) + E1000_RDBAL0),
		 sizeof(rdbal));
	CHECK_EQ(rdbal, 0);
	printf("# %s: hot reset from D3hot: D0 after, BARs decoded, RDBAL0 0\n", d.bdf);
	vfio_dev_close(&d);
	return TEST_PASS;
}

/*
 * Hot resets against BAR access from other threads of the same process:
 * reads through a mapping (whose fault waits for memory_lock while holding
 * the process's mmap_lock, which the reset's zap needs), preads, and a
 * thread that maps and unmaps BAR0 again and again (a munmap half-way
 * when the zap comes).  Every reset must work, every access must read
 * e1000e's STATUS register, and nothing may hang.
 */
#define RACE_RESETS	40
#define E1000_STATUS	0x8

static struct vfio_dev race_dev;
static atomic_bool race_stop;
static atomic_long race_reads, race_bad, race_maps;

static void *race_mmap_reader(void *arg)
{
	volatile uint32_t *status = (void *)((char *)race_dev.bar0 + E1000_STATUS);

	while (!atomic_load(&race_stop)) {
		if (*status == 0xffffffffu)
			atomic_fetch_add(&race_bad, 1);
		atomic_fetch_add(&race_reads, 1);
	}
	return arg;
}

static void *race_preader(void *arg)
{
	uint32_t v;

	while (!atomic_load(&race_stop)) {
		if (pread(race_dev.device, &v, 4, VFIO_PCI_OFFSET(0) + E1000_STATUS) != 4 ||
		    v == 0xffffffffu)
			atomic_fetch_add(&race_bad, 1);
		atomic_fetch_add(&race_reads, 1);
	}
	return arg;
}

static void *race_remapper(void *arg)
{
	while (!atomic_load(&race_stop)) {
		volatile uint32_t *p = mmap(NULL, race_dev.bar0_size, PROT_READ,
					    MAP_SHARED, race_dev.device, VFIO_PCI_OFFSET(0));

		if (p == MAP_FAILED) {
			atomic_fetch_add(&race_bad, 1);
			continue;
		}
		if (p[E1000_STATUS / 4] == 0xffffffffu)
			atomic_fetch_add(&race_bad, 1);
		munmap((void *)p, race_dev.bar0_size);
		atomic_fetch_add(&race_maps, 1);
	}
	return arg;
}

/*
 * Whether the remapper and the readers (one count for both) have each run
 * within TIMEOUT_MS: on 6.1 and 6.12 each reset is an immediate EBUSY, so
 * resets begun at once could be over before a thread ran at all (three
 * threads, two vCPUs).
 */
static bool race_started(long timeout_ms)
{
	long until = now_ms() + timeout_ms;

	while ((!atomic_load(&race_reads) || !atomic_load(&race_maps)) && now_ms() < until)
		usleep(1000);
	return atomic_load(&race_reads) > 0 && atomic_load(&race_maps) > 0;
}

static int test_race_with_bar_access(void)
{
	void *(*fns[])(void *) = { race_mmap_reader, race_preader, race_remapper };
	const char *stack = getenv("VFIOSCOPE_STACK");
	int i, busy = 0, other = 0;
	pthread_t threads[3];

	vfio_dev_open_bdf(&race_dev, root_port_nic(), VFIO_TYPE1v2_IOMMU);
	vfio_dev_map_bar0(&race_dev);
	for (i = 0; i < 3; i++)
		CHECK_EQ(pthread_create(&threads[i], NULL, fns[i], NULL), 0);
	CHECK(race_started(30000));
	for (i = 0; i < RACE_RESETS; i++) {
		if (!hot_reset(race_dev.device, 0, 1, &race_dev.group))
			continue;
		if (errno == EBUSY)
			busy++;
		else
			other++;
	}
	atomic_store(&race_stop, true);
	for (i = 0; i < 3; i++)
		pthread_join(threads[i], NULL);

	printf("# %d hot resets (%d EBUSY), %ld BAR reads, %ld maps and unmaps beside them\n",
	       RACE_RESETS, busy, atomic_load(&race_reads), atomic_load(&race_maps));
	CHECK_EQ(other, 0);
	/*
	 * 6.1 and 6.12 only trylock the BAR users out, and give up with EBUSY
	 * when one is in the way; ours waits for them (and for a busy mm with
	 * none of its locks held), so every reset is done.
	 */
	if (stack && !strcmp(stack, "ours"))
		CHECK_EQ(busy, 0);
	CHECK_EQ(atomic_load(&race_bad), 0);
	CHECK(atomic_load(&race_reads) > 0);
	CHECK(atomic_load(&race_maps) > 0);
	vfio_dev_close(&race_dev);
	return TEST_PASS;
}

/* ---- behind the PCIe-to-PCI bridge: two devices, one group, no function reset ---- */

/* virtio's legacy header (virtio-rng is transitional): I/O BAR0. */
#define VIRTIO_LEGACY_STATUS	18	/* u8 device status */
#define VIRTIO_STATUS_ACK	1

static const char *bridge_edu(void)
{
	return env_bdf("VFIO_BRIDGE_EDU", "edu_nonviable_bdf");
}

/* virtio-rng, opened the standard way; its group also holds the bridge's edu. */
static void open_virtio_rng(struct vfio_dev *d)
{
	vfio_dev_open(d, VIRTIO_VENDOR, VIRTIO_RNG_DEVICE, VFIO_TYPE1v2_IOMMU);
}

static int virtio_status(int device, uint8_t *status)
{
	uint16_t cmd = vfio_cfg_read16(device, PCI_COMMAND);

	vfio_cfg_write16(device, PCI_COMMAND, cmd | PCI_COMMAND_IO);
	return pread(device, status, 1, VFIO_PCI_OFFSET(0) + VIRTIO_LEGACY_STATUS) == 1 ? 0 : -1;
}

static int test_info_two_devices(void)
{
	struct {
		struct vfio_pci_hot_reset_info hdr;
		struct vfio_pci_dependent_device devs[4];
	} info;
	struct vfio_device_info di = { .argsz = sizeof(di) };
	unsigned int bus, slot, fn, i, seen = 0;
	struct vfio_dev d;
	int edu;

	open_virtio_rng(&d);
	edu = vfio_group_get_device_fd(d.group, bridge_edu());
	/* The premise: neither has a reset of its own. */
	CHECK_OK(ioctl(d.device, VFIO_DEVICE_GET_INFO, &di));
	CHECK_EQ(di.flags & VFIO_DEVICE_FLAGS_RESET, 0);
	CHECK_OK(ioctl(edu, VFIO_DEVICE_GET_INFO, &di));
	CHECK_EQ(di.flags & VFIO_DEVICE_FLAGS_RESET, 0);

	memset(&info, 0, sizeof(info));
	info.hdr.argsz = sizeof(info.hdr) + sizeof(info.devs[0]);
	CHECK_ERRNO(ioctl(edu, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info), ENOSPC);
	CHECK_EQ(info.hdr.count, 2);

	info.hdr.argsz = sizeof(info);
	CHECK_OK(ioctl(edu, VFIO_DEVICE_GET_PCI_HOT_RESET_INFO, &info));
	CHECK_EQ(info.hdr.count, 2);
	for (i = 0; i < 2; i++) {
		const char *bdf = i ? bridge_edu() : d.bdf;
		unsigned int j;

		CHECK_EQ(sscanf(bdf, "0000:%x:%x.%x", &bus, &slot, &fn), 3);
		for (j = 0; j < 2; j++)
			if (info.devs[j].bus == bus && info.devs[j].devfn == (slot << 3 | fn) &&
			    info.devs[j].group_id == (uint32_t)d.group_id)
				seen |= 1u << i;
	}
	CHECK_EQ(seen, 3);
	/* One group holds both: its fd alone covers the reset. */
	CHECK_OK(hot_reset(edu, 0, 1, &d.group));
	printf("# %s and %s: hot reset touches both, group %d\n", bridge_edu(), d.bdf, d.group_id);
	close(edu);
	vfio_dev_close(&d);
	return TEST_PASS;
}

/*
 * Neither device can be reset alone, so 6.1 resets their bus once neither
 * is open, and only then.  virtio's device status shows it: written
 * through the legacy I/O BAR, kept across a close while the other device
 * is still open, 0 again after the last close.
 */
static int test_bus_reset_at_last_close(void)
{
	uint8_t ack = VIRTIO_STATUS_ACK, status = 0xff;
	struct vfio_dev d;
	int edu;

	open_virtio_rng(&d);
	edu = vfio_group_get_device_fd(d.group, bridge_edu());
	CHECK_OK(virtio_status(d.device, &status));
	CHECK_EQ(pwrite(d.device, &ack, 1, VFIO_PCI_OFFSET(0) + VIRTIO_LEGACY_STATUS), 1);
	CHECK_OK(virtio_status(d.device, &status));
	CHECK_EQ(status, VIRTIO_STATUS_ACK);

	/* The edu still open: no reset. */
	close(d.device);
	d.device = vfio_group_get_device_fd(d.group, d.bdf);
	CHECK_OK(virtio_status(d.device, &status));
	CHECK_EQ(status, VIRTIO_STATUS_ACK);

	/* Both closed: the bus is reset. */
	close(d.device);
	close(edu);
	d.device = vfio_group_get_device_fd(d.group, d.bdf);
	CHECK_OK(virtio_status(d.device, &status));
	CHECK_EQ(status, 0);
	printf("# %s: virtio status %u kept while %s was open, 0 after the last close\n",
	       d.bdf, VIRTIO_STATUS_ACK, bridge_edu());
	vfio_dev_close(&d);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_root_bus_cannot),
	TEST(test_info),
	TEST(test_bad_input),
	TEST(test_resets_device),
	TEST(test_hot_reset_from_d3hot),
	TEST(test_race_with_bar_access),
	TEST(test_info_two_devices),
	TEST(test_bus_reset_at_last_close),
};

int main(int argc, char **argv)
{
	return RUN_TESTS_FORKED("pci_hot_reset", tests, argc, argv);
}
