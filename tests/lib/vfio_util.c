// SPDX-License-Identifier: GPL-2.0
/* Helpers for the VFIO uAPI tests: see vfio_util.h for the conventions. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/capability.h>
#include <linux/pci_regs.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#include "vfio_util.h"

/* Report a failed set-up step and leave: the test cannot go on. */
static void die(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "vfio_util: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (err)
		fprintf(stderr, ": %s", strerror(err < 0 ? -err : err));
	fprintf(stderr, "\n");
	exit(EXIT_FAILURE);
}

static int neg_errno(void)
{
	return errno ? -errno : -EIO;
}

static int read_hex_file(const char *path, unsigned long *val)
{
	char buf[64];
	FILE *f = fopen(path, "r");

	if (!f)
		return neg_errno();
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -EIO;
	}
	fclose(f);
	*val = strtoul(buf, NULL, 0);
	return 0;
}

/*
 * The first match in sorted BDF order, as the guest scripts' pci_find (a
 * sorted glob) picks it: both must name the same device when there are two.
 */
int __vfio_pci_find(uint16_t vendor, uint16_t device, char *bdf, size_t len)
{
	struct dirent **names;
	int n, i, ret = -ENODEV;

	n = scandir("/sys/bus/pci/devices", &names, NULL, alphasort);
	if (n < 0)
		return neg_errno();
	for (i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char path[PATH_MAX];
		unsigned long v, d;

		if (ret == 0 || name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", name);
		if (read_hex_file(path, &v))
			continue;
		snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/device", name);
		if (read_hex_file(path, &d))
			continue;
		if (v == vendor && d == device) {
			snprintf(bdf, len, "%s", name);
			ret = 0;
		}
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return ret;
}

void vfio_pci_find(uint16_t vendor, uint16_t device, char *bdf, size_t len)
{
	int ret = __vfio_pci_find(vendor, device, bdf, len);

	if (ret)
		die(ret, "no PCI device %04x:%04x", vendor, device);
}

int __vfio_iommu_group_of(const char *bdf)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;
	char *slash;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/iommu_group", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return neg_errno();
	link[n] = '\0';
	slash = strrchr(link, '/');
	return atoi(slash ? slash + 1 : link);
}

int vfio_iommu_group_of(const char *bdf)
{
	int ret = __vfio_iommu_group_of(bdf);

	if (ret < 0)
		die(ret, "failed to read the iommu group of %s", bdf);
	return ret;
}

int __vfio_container_open(void)
{
	int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

	return fd < 0 ? neg_errno() : fd;
}

int vfio_container_open(void)
{
	int fd = __vfio_container_open();

	if (fd < 0)
		die(fd, "failed to open /dev/vfio/vfio");
	return fd;
}

int __vfio_group_open(int group_id)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/dev/vfio/%d", group_id);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? neg_errno() : fd;
}

int vfio_group_open(int group_id)
{
	int fd = __vfio_group_open(group_id);

	if (fd < 0)
		die(fd, "failed to open /dev/vfio/%d", group_id);
	return fd;
}

int __vfio_group_status(int group, uint32_t *flags)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };

	if (ioctl(group, VFIO_GROUP_GET_STATUS, &st))
		return neg_errno();
	*flags = st.flags;
	return 0;
}

int __vfio_group_set_container(int group, int container)
{
	return ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) ? neg_errno() : 0;
}

void vfio_group_set_container(int group, int container)
{
	int ret = __vfio_group_set_container(group, container);

	if (ret)
		die(ret, "VFIO_GROUP_SET_CONTAINER failed");
}

int __vfio_set_iommu(int container, int type)
{
	return ioctl(container, VFIO_SET_IOMMU, type) ? neg_errno() : 0;
}

void vfio_set_iommu(int container, int type)
{
	int ret = __vfio_set_iommu(container, type);

	if (ret)
		die(ret, "VFIO_SET_IOMMU %d failed", type);
}

int __vfio_group_get_device_fd(int group, const char *name)
{
	int fd = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name);

	return fd < 0 ? neg_errno() : fd;
}

int vfio_group_get_device_fd(int group, const char *name)
{
	int fd = __vfio_group_get_device_fd(group, name);

	if (fd < 0)
		die(fd, "VFIO_GROUP_GET_DEVICE_FD %s failed", name);
	return fd;
}

static int sysfs_cfg_open(const char *bdf, int flags)
{
	char path[128];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	return open(path, flags);
}

uint32_t sysfs_cfg_read(const char *bdf, int off, int size)
{
	int fd = sysfs_cfg_open(bdf, O_RDONLY);
	uint32_t v = 0;

	if (fd < 0 || pread(fd, &v, size, off) != size)
		v = 0xdeadbeef;
	if (fd >= 0)
		close(fd);
	return v;
}

int sysfs_cfg_write(const char *bdf, int off, uint32_t v, int size)
{
	int fd = sysfs_cfg_open(bdf, O_WRONLY), ret;

	if (fd < 0)
		return -errno;
	ret = pwrite(fd, &v, size, off) == size ? 0 : -errno;
	close(fd);
	return ret;
}

uint8_t sysfs_pm_cap(const char *bdf)
{
	char path[128];
	uint8_t cfg[256];
	int fd, ptr, hops = 0;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", bdf);
	fd = open(path, O_RDONLY);
	if (fd < 0 || pread(fd, cfg, sizeof(cfg), 0) != sizeof(cfg)) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	close(fd);
	for (ptr = cfg[PCI_CAPABILITY_LIST]; ptr && hops < 48; ptr = cfg[ptr + 1], hops++) {
		if (cfg[ptr] == PCI_CAP_ID_PM)
			return ptr;
	}
	return 0;
}

/* Container, group and IOMMU for the device at @bdf; no device fd yet. */
int __vfio_dev_attach_bdf(struct vfio_dev *d, const char *bdf, int type)
{
	int ret;

	memset(d, 0, sizeof(*d));
	d->container = d->group = d->device = -1;
	snprintf(d->bdf, sizeof(d->bdf), "%s", bdf);
	d->group_id = __vfio_iommu_group_of(d->bdf);
	if (d->group_id < 0)
		return d->group_id;
	ret = d->container = __vfio_container_open();
	if (ret < 0)
		goto err;
	ret = d->group = __vfio_group_open(d->group_id);
	if (ret < 0)
		goto err;
	ret = __vfio_group_set_container(d->group, d->container);
	if (ret)
		goto err;
	ret = __vfio_set_iommu(d->container, type);
	if (ret)
		goto err;
	return 0;
err:
	vfio_dev_close(d);
	return ret;
}

/* Open the device at PCI address @bdf the standard way. */
int __vfio_dev_open_bdf(struct vfio_dev *d, const char *bdf, int type)
{
	int ret = __vfio_dev_attach_bdf(d, bdf, type);

	if (ret)
		return ret;
	ret = d->device = __vfio_group_get_device_fd(d->group, d->bdf);
	if (ret < 0) {
		vfio_dev_close(d);
		return ret;
	}
	return 0;
}

/* The first device (in address order) with these ids. */
int __vfio_dev_open(struct vfio_dev *d, uint16_t vendor, uint16_t device, int type)
{
	char bdf[sizeof(d->bdf)];
	int ret;

	memset(d, 0, sizeof(*d));
	d->container = d->group = d->device = -1;
	ret = __vfio_pci_find(vendor, device, bdf, sizeof(bdf));
	if (ret)
		return ret;
	return __vfio_dev_open_bdf(d, bdf, type);
}

void vfio_dev_open_bdf(struct vfio_dev *d, const char *bdf, int type)
{
	int ret = __vfio_dev_open_bdf(d, bdf, type);

	if (ret)
		die(ret, "failed to open %s through VFIO (group %d)", bdf, d->group_id);
}

/* A device address the guest script found, in $name (lib.sh: @helper). */
const char *env_bdf(const char *name, const char *helper)
{
	const char *bdf = getenv(name);

	if (!bdf || !*bdf)
		die(0, "%s is not set (tests/vm/lib.sh: %s)", name, helper);
	return bdf;
}

void vfio_dev_open(struct vfio_dev *d, uint16_t vendor, uint16_t device, int type)
{
	int ret = __vfio_dev_open(d, vendor, device, type);

	if (ret)
		die(ret, "failed to open %04x:%04x through VFIO (%s, group %d)",
		    vendor, device, d->bdf[0] ? d->bdf : "not found", d->group_id);
}

void vfio_dev_close(struct vfio_dev *d)
{
	if (d->bar0)
		munmap(d->bar0, d->bar0_size);
	if (d->device >= 0)
		close(d->device);
	if (d->group >= 0)
		close(d->group);
	if (d->container >= 0)
		close(d->container);
	d->bar0 = NULL;
	d->container = d->group = d->device = -1;
}

void vfio_dev_map_bar0(struct vfio_dev *d)
{
	struct vfio_region_info ri;
	uint16_t cmd;
	int ret;

	ret = __vfio_region_info(d->device, VFIO_PCI_BAR0_REGION_INDEX, &ri);
	if (ret)
		die(ret, "VFIO_DEVICE_GET_REGION_INFO BAR0 of %s failed", d->bdf);
	if (!(ri.flags & VFIO_REGION_INFO_FLAG_MMAP))
		die(0, "BAR0 of %s cannot be mmap'd (flags 0x%x)", d->bdf, ri.flags);
	d->bar0 = mmap(NULL, ri.size, PROT_READ | PROT_WRITE, MAP_SHARED,
		       d->device, ri.offset);
	if (d->bar0 == MAP_FAILED) {
		d->bar0 = NULL;
		die(errno, "mmap of BAR0 of %s failed", d->bdf);
	}
	d->bar0_size = ri.size;
	/* DMA and MSI both need bus mastering; MMIO needs memory decode. */
	cmd = vfio_cfg_read16(d->device, 0x04);
	vfio_cfg_write16(d->device, 0x04, cmd | 0x6);
}

int __vfio_dma_map(int container, void *vaddr, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = flags,
		.vaddr = (uintptr_t)vaddr,
		.iova = iova,
		.size = size,
	};

	return ioctl(container, VFIO_IOMMU_MAP_DMA, &map) ? neg_errno() : 0;
}

void vfio_dma_map(int container, void *vaddr, uint64_t iova, uint64_t size)
{
	int ret = __vfio_dma_map(container, vaddr, iova, size,
				 VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);

	if (ret)
		die(ret, "VFIO_IOMMU_MAP_DMA iova 0x%llx size 0x%llx failed",
		    (unsigned long long)iova, (unsigned long long)size);
}

int __vfio_dma_unmap(int container, uint64_t iova, uint64_t size, uint32_t flags,
		     uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap unmap = {
		.argsz = sizeof(unmap),
		.flags = flags,
		.iova = iova,
		.size = size,
	};

	if (ioctl(container, VFIO_IOMMU_UNMAP_DMA, &unmap))
		return neg_errno();
	if (unmapped)
		*unmapped = unmap.size;
	return 0;
}

void vfio_dma_unmap(int container, uint64_t iova, uint64_t size)
{
	uint64_t done = 0;
	int ret = __vfio_dma_unmap(container, iova, size, 0, &done);

	if (ret)
		die(ret, "VFIO_IOMMU_UNMAP_DMA iova 0x%llx failed", (unsigned long long)iova);
	if (done != size)
		die(0, "VFIO_IOMMU_UNMAP_DMA iova 0x%llx unmapped 0x%llx of 0x%llx",
		    (unsigned long long)iova, (unsigned long long)done,
		    (unsigned long long)size);
}

struct vfio_iommu_type1_info *vfio_iommu_info(int container)
{
	struct vfio_iommu_type1_info *info;
	uint32_t argsz = sizeof(*info);

	/* Ask once for the size the capability chain needs, then fetch it. */
	for (int i = 0; i < 2; i++) {
		info = calloc(1, argsz);
		if (!info)
			return NULL;
		info->argsz = argsz;
		if (ioctl(container, VFIO_IOMMU_GET_INFO, info)) {
			int err = errno;

			free(info);
			errno = err;
			return NULL;
		}
		if (info->argsz <= argsz)
			return info;
		argsz = info->argsz;
		free(info);
	}
	errno = EMSGSIZE;
	return NULL;
}

struct vfio_info_cap_header *vfio_info_cap_find(void *info, uint32_t cap_offset,
						uint16_t id)
{
	uint32_t off = cap_offset;
	int hops = 0;

	while (off && hops++ < 64) {
		struct vfio_info_cap_header *h = (void *)((char *)info + off);

		if (h->id == id)
			return h;
		off = h->next;
	}
	return NULL;
}

int __vfio_device_info(int device, struct vfio_device_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	return ioctl(device, VFIO_DEVICE_GET_INFO, info) ? neg_errno() : 0;
}

int __vfio_region_info(int device, uint32_t index, struct vfio_region_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(device, VFIO_DEVICE_GET_REGION_INFO, info) ? neg_errno() : 0;
}

int __vfio_irq_info(int device, uint32_t index, struct vfio_irq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	return ioctl(device, VFIO_DEVICE_GET_IRQ_INFO, info) ? neg_errno() : 0;
}

int __vfio_cfg_read(int device, uint32_t off, void *buf, size_t len)
{
	ssize_t n = pread(device, buf, len,
			  VFIO_PCI_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + off);

	return n < 0 ? neg_errno() : (int)n;
}

int __vfio_cfg_write(int device, uint32_t off, const void *buf, size_t len)
{
	ssize_t n = pwrite(device, buf, len,
			   VFIO_PCI_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + off);

	return n < 0 ? neg_errno() : (int)n;
}

uint32_t vfio_cfg_read32(int device, uint32_t off)
{
	uint32_t v;
	int n = __vfio_cfg_read(device, off, &v, sizeof(v));

	if (n != sizeof(v))
		die(n < 0 ? n : 0, "config read at 0x%x returned %d", off, n);
	return v;
}

uint16_t vfio_cfg_read16(int device, uint32_t off)
{
	uint16_t v;
	int n = __vfio_cfg_read(device, off, &v, sizeof(v));

	if (n != sizeof(v))
		die(n < 0 ? n : 0, "config read at 0x%x returned %d", off, n);
	return v;
}

void vfio_cfg_write16(int device, uint32_t off, uint16_t val)
{
	int n = __vfio_cfg_write(device, off, &val, sizeof(val));

	if (n != sizeof(val))
		die(n < 0 ? n : 0, "config write at 0x%x returned %d", off, n);
}

int vfio_cfg_find_cap(int device, uint8_t id)
{
	uint8_t ptr, hdr[2];
	int hops = 0;

	if (!(vfio_cfg_read16(device, 0x06) & 0x10))	/* PCI_STATUS_CAP_LIST */
		return 0;
	if (__vfio_cfg_read(device, 0x34, &ptr, 1) != 1)
		return 0;
	while (ptr && hops++ < 48) {
		if (__vfio_cfg_read(device, ptr, hdr, 2) != 2)
			return 0;
		if (hdr[0] == id)
			return ptr;
		ptr = hdr[1];
	}
	return 0;
}

void *vfio_region_mmap(int device, uint32_t index, size_t size, uint64_t off)
{
	return mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, device,
		    VFIO_PCI_OFFSET(index) + off);
}

int __vfio_irq_set(int device, uint32_t index, uint32_t flags, uint32_t start,
		   uint32_t count, const void *data, size_t data_len)
{
	size_t sz = sizeof(struct vfio_irq_set) + data_len;
	struct vfio_irq_set *set = calloc(1, sz);
	int ret;

	if (!set)
		return -ENOMEM;
	set->argsz = sz;
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	if (data_len)
		memcpy(set->data, data, data_len);
	ret = ioctl(device, VFIO_DEVICE_SET_IRQS, set) ? neg_errno() : 0;
	free(set);
	return ret;
}

int __vfio_irq_enable_eventfds(int device, uint32_t index, uint32_t start,
			       uint32_t count, const int *fds)
{
	return __vfio_irq_set(device, index,
			      VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			      start, count, fds, count * sizeof(int32_t));
}

int __vfio_irq_disable(int device, uint32_t index)
{
	return __vfio_irq_set(device, index,
			      VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
			      0, 0, NULL, 0);
}

int eventfd_new(void)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		die(errno, "eventfd failed");
	return fd;
}

int64_t eventfd_wait(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint64_t n;
	int r;

	r = poll(&p, 1, timeout_ms);
	if (r < 0)
		return neg_errno();
	if (r == 0)
		return 0;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return neg_errno();
	return (int64_t)n;
}

static volatile uint32_t *edu_reg32(struct vfio_dev *d, uint32_t off)
{
	if (!d->bar0)
		die(0, "edu BAR0 is not mapped (vfio_dev_map_bar0)");
	return (volatile uint32_t *)((char *)d->bar0 + off);
}

/*
 * edu's registers are DEVICE_NATIVE_ENDIAN in QEMU: little-endian on x86,
 * big-endian on ppc64 (QEMU's target is big-endian there whatever the
 * guest's mode), so a little-endian POWER guest swaps every access; its id
 * register reads 0xed000001 otherwise.
 */
#if defined(__powerpc64__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define edu_to_cpu32(v)	__builtin_bswap32(v)
#define edu_to_cpu64(v)	__builtin_bswap64(v)
#else
#define edu_to_cpu32(v)	(v)
#define edu_to_cpu64(v)	(v)
#endif

uint32_t edu_read32(struct vfio_dev *d, uint32_t off)
{
	return edu_to_cpu32(*edu_reg32(d, off));
}

void edu_write32(struct vfio_dev *d, uint32_t off, uint32_t val)
{
	*edu_reg32(d, off) = edu_to_cpu32(val);
}

uint64_t edu_read64(struct vfio_dev *d, uint32_t off)
{
	return edu_to_cpu64(*(volatile uint64_t *)edu_reg32(d, off));
}

void edu_write64(struct vfio_dev *d, uint32_t off, uint64_t val)
{
	*(volatile uint64_t *)edu_reg32(d, off) = edu_to_cpu64(val);
}

void edu_dma_start(struct vfio_dev *d, uint64_t iova, uint32_t devoff,
		   uint32_t count, bool to_ram, bool irq)
{
	uint64_t dev = EDU_DMA_BUF + devoff;

	if (count > EDU_DMA_MAX || devoff + count > 4096)
		die(0, "edu DMA of %u bytes at +%u does not fit the device buffer",
		    count, devoff);
	edu_write64(d, EDU_REG_DMA_SRC, to_ram ? dev : iova);
	edu_write64(d, EDU_REG_DMA_DST, to_ram ? iova : dev);
	edu_write64(d, EDU_REG_DMA_COUNT, count);
	edu_write64(d, EDU_REG_DMA_CMD, EDU_DMA_START | (to_ram ? EDU_DMA_TO_RAM : 0) |
					(irq ? EDU_DMA_IRQ : 0));
}

long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

int __edu_dma_wait(struct vfio_dev *d, int timeout_ms)
{
	long end = now_ms() + timeout_ms;

	/* The start bit of the command register clears when the DMA is done. */
	while (edu_read32(d, EDU_REG_DMA_CMD) & EDU_DMA_START) {
		if (now_ms() > end)
			return -ETIMEDOUT;
		usleep(1000);
	}
	return 0;
}

int __edu_dma(struct vfio_dev *d, uint64_t iova, uint32_t devoff, uint32_t count,
	      bool to_ram)
{
	edu_dma_start(d, iova, devoff, count, to_ram, false);
	return __edu_dma_wait(d, 10000);
}

static long status_field_kb(const char *path, const char *field)
{
	char line[256];
	size_t n = strlen(field);
	long val = -ENOENT;
	FILE *f = fopen(path, "r");

	if (!f)
		return neg_errno();
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, field, n) && line[n] == ':') {
			val = strtol(line + n + 1, NULL, 10);
			break;
		}
	}
	fclose(f);
	return val;
}

long locked_vm_kb(int pid)
{
	char path[64];

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	return status_field_kb(path, "VmLck");
}

long meminfo_kb(const char *field)
{
	return status_field_kb("/proc/meminfo", field);
}

long read_key(const char *path, const char *key)
{
	char line[128], k[64];
	long v, found = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %ld", k, &v) == 2 && !strcmp(k, key)) {
			found = v;
			break;
		}
	}
	fclose(f);
	return found;
}

long foll_pins_held(void)
{
	int fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);

	if (fd >= 0) {
		if (write(fd, "1", 1) != 1)
			perror("stat_refresh");
		close(fd);
	}
	return read_key("/proc/vmstat", "nr_foll_pin_acquired") -
	       read_key("/proc/vmstat", "nr_foll_pin_released");
}

int drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2];

	if (syscall(SYS_capget, &hdr, data))
		return neg_errno();
	data[CAP_IPC_LOCK / 32].effective &= ~(1u << (CAP_IPC_LOCK % 32));
	data[CAP_IPC_LOCK / 32].permitted &= ~(1u << (CAP_IPC_LOCK % 32));
	if (syscall(SYS_capset, &hdr, data))
		return neg_errno();
	return 0;
}

void *alloc_buffer(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		die(errno, "mmap of %zu bytes failed", size);
	return p;
}

void fill_pattern(uint8_t *p, size_t n, unsigned int seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245 + 12345;
		p[i] = seed >> 16;
	}
}

void *alloc_scattered_buffer(size_t size)
{
	uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		die(errno, "mmap of %zu bytes failed", size);
	madvise(p, size, MADV_NOHUGEPAGE);
	for (size_t off = size; off >= 4096; off -= 4096)
		p[off - 4096] = 1;
	return p;
}

#define FAULT_DIR "/sys/kernel/debug/vfio/fault"

static int fault_write(const char *point, const char *file, long val)
{
	char path[256], buf[32];

	snprintf(path, sizeof(path), FAULT_DIR "/%s/%s", point, file);
	snprintf(buf, sizeof(buf), "%ld", val);
	return write_str(path, buf);
}

void vfio_fault_arm(const char *point, int skip, int times)
{
	fault_write(point, "injected", 0);
	fault_write(point, "skip", skip);
	if (fault_write(point, "times", times))
		die(errno, "cannot arm fault point %s (debugfs mounted? our vfio.ko?)", point);
}

long vfio_fault_disarm(const char *point)
{
	char path[256];
	long injected = -1;
	FILE *f;

	fault_write(point, "times", 0);
	fault_write(point, "skip", 0);
	snprintf(path, sizeof(path), FAULT_DIR "/%s/injected", point);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%ld", &injected) != 1)
			injected = -1;
		fclose(f);
	}
	return injected;
}

bool kernel_series_at_least(int major, int minor)
{
	static int running = -1;	/* major * 1000 + minor, once read */
	int ma = 0, mi = 0;
	struct utsname u;

	if (running < 0) {
		if (uname(&u) || sscanf(u.release, "%d.%d", &ma, &mi) != 2) {
			fprintf(stderr, "cannot tell the kernel series from uname\n");
			exit(1);
		}
		running = ma * 1000 + mi;
	}
	return running >= major * 1000 + minor;
}

static sigjmp_buf sigbus_jmp;

static void on_sigbus(int sig)
{
	(void)sig;
	siglongjmp(sigbus_jmp, 1);
}

/* Not thread-safe: one jump buffer for the process. */
bool mmio_access(volatile uint32_t *p, uint32_t *val, bool write)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	volatile bool ok = false;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (!sigsetjmp(sigbus_jmp, 1)) {
		if (write)
			*p = *val;
		else
			*val = *p;
		ok = true;
	}
	sigaction(SIGBUS, &old, NULL);
	return ok;
}

/*
 * Lines of @path (a /proc file) that hold @what, and @also unless it is
 * NULL; -1 when it cannot be read.
 */
int proc_lines_with(const char *path, const char *what, const char *also)
{
	char line[1024];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, what) && (!also || strstr(line, also));
	fclose(f);
	return n;
}

int write_str(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY), ret = 0;

	if (fd < 0)
		return -errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

const char *read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, len, f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

pid_t write_str_async(const char *path, const char *val)
{
	pid_t pid = fork();

	if (pid)
		return pid;
	/*
	 * Nothing of the caller's: a device fd, or a mapping of a region
	 * (which fork copies, and only exec drops), held here would block
	 * the unbind this child does.
	 */
	for (int fd = 3; fd < 1024; fd++)
		close(fd);
	execl("/bin/sh", "sh", "-c", "printf %s \"$1\" >\"$2\"", "sh", val, path, (char *)NULL);
	_exit(127);
}

void wait_group_node(int group_id)
{
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%d", group_id);
	for (int i = 0; i < 50 && access(path, F_OK); i++)
		usleep(100000);
}

int wait_child(pid_t pid, int timeout_ms)
{
	int status;

	for (int t = 0; t <= timeout_ms; t += 10) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
		usleep(10000);
	}
	return -1;
}

int pci_driver_of(const char *bdf, char *buf, size_t len)
{
	char path[PATH_MAX], link[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", bdf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		buf[0] = '\0';
		return -errno;
	}
	link[n] = '\0';
	snprintf(buf, len, "%s", strrchr(link, '/') + 1);
	return 0;
}
