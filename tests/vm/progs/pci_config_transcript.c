// SPDX-License-Identifier: GPL-2.0
/*
 * A transcript of what a device's config space does through VFIO, for
 * config_differential (tests/vm/lib.sh) to compare between Debian's
 * in-tree vfio-pci and ours in one boot:
 *
 *	pci_config_transcript BDF SEED OPS
 *
 *   - the device reset where VFIO can (VFIO_DEVICE_RESET), so that both
 *     stacks start from the same state whatever the last one left;
 *   - a dump of every dword;
 *   - OPS accesses drawn from SEED: a read of 1 to 8 bytes anywhere (past
 *     the end too), or a write of 1 to 8 bytes of a random value, then a
 *     read back through VFIO and one of the device's own registers
 *     (sysfs), a write of what was there, and both reads again.  Every
 *     write is undone, so the device is where it was for the next access,
 *     whatever the stack made of the write.  Offsets favour the standard
 *     header and the first extended capabilities, where the permission
 *     tables are; lengths favour 1, 2 and 4 at their natural alignment;
 *   - the MSI capability again with MSI on (msi_pass());
 *   - the dump again, and writes of the dwords that read otherwise than at
 *     the start.
 * Each line holds the return value (bytes or -errno) and the bytes read,
 * so any difference in what user space or the device sees shows.
 *
 * Exits 0 unless the device cannot be opened; a difference is the
 * caller's to find.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/pci_regs.h>

#include "vfio_util.h"

#define MAX_LEN	8

static uint64_t rng_state;

/* xorshift64*: the same sequence from the same seed on every stack. */
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng() >> 32) % n;
}

static void print_access(const char *what, uint32_t off, uint32_t len, int ret,
			 const uint8_t *buf)
{
	int i;

	printf("%s 0x%03x/%u = %d", what, off, len, ret);
	for (i = 0; i < ret && i < MAX_LEN; i++)
		printf(" %02x", buf[i]);
	putchar('\n');
}

static int cfg_read(int device, uint32_t off, uint32_t len, uint8_t *buf)
{
	memset(buf, 0, MAX_LEN);
	return __vfio_cfg_read(device, off, buf, len);
}

/* A read through VFIO, printed. */
static void print_read(int device, uint32_t off, uint32_t len)
{
	uint8_t buf[MAX_LEN];

	print_access("R", off, len, cfg_read(device, off, len, buf), buf);
}

#define MAX_DWORDS	(PCI_CFG_SPACE_EXP_SIZE / 4)

/* Every dword, printed and kept in @dwords. */
static void dump(int device, uint32_t size, uint32_t *dwords)
{
	uint8_t buf[MAX_LEN];
	uint32_t off;
	int ret;

	for (off = 0; off < size && off / 4 < MAX_DWORDS; off += 4) {
		ret = cfg_read(device, off, 4, buf);
		print_access("D", off, 4, ret, buf);
		memcpy(&dwords[off / 4], buf, 4);
	}
}

/*
 * Write back each dword that reads otherwise than it did at the start:
 * what an undo could not restore (a write-only bit that changed state
 * when written, say), so that the next stack meets the device as this
 * one did.  Only those: rewriting a mailbox register that reads the same
 * would push data into it.
 */
static void restore(int device, uint32_t size, const uint32_t *was, const uint32_t *now)
{
	uint32_t off;

	for (off = 0; off < size && off / 4 < MAX_DWORDS; off += 4) {
		if (was[off / 4] == now[off / 4])
			continue;
		print_access("F", off, 4, __vfio_cfg_write(device, off, &was[off / 4], 4),
			     (const uint8_t *)&was[off / 4]);
	}
}

/* 1, 2 or 4 bytes at their alignment mostly; now and then any 1 to 8 anywhere. */
static void pick(uint32_t size, uint32_t *off, uint32_t *len)
{
	static const uint32_t natural[] = { 1, 2, 4 };
	uint32_t where = rng_below(10);

	if (where < 5)
		*off = rng_below(PCI_CFG_SPACE_SIZE);
	else if (where < 8 && size > PCI_CFG_SPACE_SIZE)
		*off = PCI_CFG_SPACE_SIZE + rng_below(0x100);
	else
		*off = rng_below(size + 16);
	if (rng_below(8)) {
		*len = natural[rng_below(3)];
		*off &= ~(*len - 1);
	} else {
		*len = 1 + rng_below(MAX_LEN);
	}
}

/* All ones or zero now and then (sizing a BAR, clearing a register). */
static void random_bytes(uint8_t *buf, uint32_t len)
{
	uint64_t v = rng();
	uint32_t kind = rng_below(8);

	if (kind == 0)
		v = ~0ULL;
	else if (kind == 1)
		v = 0;
	memcpy(buf, &v, len);
}

/*
 * A DOE mailbox is a state machine that neither an undo nor a reset puts
 * back (QEMU 7.2 keeps its status bits across a reset), and both stacks
 * pass its bytes through to the device: writes there would tell the
 * device's history apart, not the stacks.  They become reads.
 */
#define MAX_DOES	4
#define DOE_LEN		(PCI_DOE_READ + 4)

static uint32_t does[MAX_DOES], nr_does;

static void find_does(const char *bdf)
{
	uint32_t pos = PCI_CFG_SPACE_SIZE, hdr;
	int hops;

	for (hops = 0; pos >= PCI_CFG_SPACE_SIZE && hops < 1024; hops++) {
		hdr = sysfs_cfg_read(bdf, pos, 4);
		if (!hdr || hdr == ~0U)
			break;
		if (PCI_EXT_CAP_ID(hdr) == PCI_EXT_CAP_ID_DOE && nr_does < MAX_DOES) {
			printf("# DOE at 0x%03x: not written\n", pos);
			does[nr_does++] = pos;
		}
		pos = PCI_EXT_CAP_NEXT(hdr);
	}
}

static bool in_doe(uint32_t off, uint32_t len)
{
	uint32_t i;

	for (i = 0; i < nr_does; i++)
		if (off < does[i] + DOE_LEN && does[i] < off + len)
			return true;
	return false;
}

/* The device's own config space (sysfs), to see what a write did to it. */
static int sysfs_fd = -1;

static void print_device(uint32_t off, uint32_t len)
{
	uint8_t buf[MAX_LEN] = { 0 };
	ssize_t n = pread(sysfs_fd, buf, len, off);

	print_access("S", off, len, n < 0 ? -errno : (int)n, buf);
}

static void write_and_undo(int device, uint32_t off, uint32_t len)
{
	uint8_t was[MAX_LEN], val[MAX_LEN];
	int ret;

	print_access("R", off, len, cfg_read(device, off, len, was), was);
	random_bytes(val, len);
	ret = __vfio_cfg_write(device, off, val, len);
	print_access("W", off, len, ret, val);
	print_read(device, off, len);
	print_device(off, len);
	if (ret <= 0)
		return;
	/* What was there, as far as the write went. */
	print_access("U", off, ret, __vfio_cfg_write(device, off, was, ret), was);
	print_read(device, off, len);
	print_device(off, len);
}

/*
 * The MSI capability again with MSI on through SET_IRQS (one vector):
 * the flags then keep the enable bit user space writes, and go to the
 * device.  Every access within the capability.
 */
static void msi_pass(int device, long ops)
{
	uint32_t off, len;
	int cap, efd, ret;
	long i;

	cap = vfio_cfg_find_cap(device, PCI_CAP_ID_MSI);
	if (cap <= 0)
		return;
	efd = eventfd_new();
	ret = __vfio_irq_enable_eventfds(device, VFIO_PCI_MSI_IRQ_INDEX, 0, 1, &efd);
	printf("# MSI on: %d\n", ret);
	if (ret)
		goto out;
	for (i = 0; i < ops; i++) {
		len = 1 + rng_below(4);
		off = cap + rng_below(PCI_MSI_DATA_64 + 2);
		if (rng_below(2))
			write_and_undo(device, off, len);
		else
			print_read(device, off, len);
	}
	printf("# MSI off: %d\n", __vfio_irq_disable(device, VFIO_PCI_MSI_IRQ_INDEX));
out:
	close(efd);
}

int main(int argc, char **argv)
{
	static uint32_t first[MAX_DWORDS], last[MAX_DWORDS];
	char path[128];
	struct vfio_device_info dev_info = { .argsz = sizeof(dev_info) };
	struct vfio_region_info info = { .argsz = sizeof(info) };
	struct vfio_dev d;
	uint32_t off, len;
	long ops, i;
	int ret;

	if (argc != 4) {
		fprintf(stderr, "usage: %s BDF SEED OPS\n", argv[0]);
		return 2;
	}
	rng_state = strtoull(argv[2], NULL, 0) | 1;
	ops = strtol(argv[3], NULL, 0);
	vfio_dev_open_bdf(&d, argv[1], VFIO_TYPE1v2_IOMMU);
	/*
	 * From the device's reset state, where it has one, so that what the
	 * last stack left in its registers (a mailbox's status, say) does not
	 * tell the two transcripts apart.
	 */
	ret = __vfio_device_info(d.device, &dev_info);
	if (ret) {
		fprintf(stderr, "device info of %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	if (dev_info.flags & VFIO_DEVICE_FLAGS_RESET)
		printf("# reset: %d\n", ioctl(d.device, VFIO_DEVICE_RESET) ? -errno : 0);
	else
		printf("# no reset\n");
	find_does(argv[1]);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", argv[1]);
	sysfs_fd = open(path, O_RDONLY);
	if (sysfs_fd < 0) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return 1;
	}
	ret = __vfio_region_info(d.device, VFIO_PCI_CONFIG_REGION_INDEX, &info);
	if (ret) {
		fprintf(stderr, "config region info of %s: %s\n", argv[1], strerror(-ret));
		return 1;
	}
	printf("# %s config region: size 0x%llx flags 0x%x\n", argv[1],
	       (unsigned long long)info.size, info.flags);
	dump(d.device, info.size, first);
	for (i = 0; i < ops; i++) {
		pick(info.size, &off, &len);
		if (rng_below(4) && !in_doe(off, len))
			write_and_undo(d.device, off, len);
		else
			print_read(d.device, off, len);
	}
	msi_pass(d.device, ops / 8);
	dump(d.device, info.size, last);
	restore(d.device, info.size, first, last);
	vfio_dev_close(&d);
	return 0;
}
