/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the VFIO uAPI tests (tests/vm/progs/).
 *
 * Convention (libbpf, upstream VFIO selftests): __vfio_x() returns a value
 * >= 0 or -errno and never prints; vfio_x() is the same call for set-up
 * code that cannot go on without it: on failure it prints what failed and
 * why, and exits the test program with status 1.  Use __vfio_x() for the
 * call under test and vfio_x() for the scaffolding around it.
 */
#ifndef __VFIO_UTIL_H
#define __VFIO_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <linux/vfio.h>

#define SZ_4K		0x1000ULL
#define SZ_1M		0x100000ULL
#define SZ_2M		0x200000ULL
#define SZ_1G		0x40000000ULL
/* The guest's page size (amd64), type1's smallest IOMMU page on the bench. */
#define PAGE		SZ_4K

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8
#define E1000E_VENDOR	0x8086
#define E1000E_DEVICE	0x10d3
#define VIRTIO_VENDOR		0x1af4
#define VIRTIO_RNG_DEVICE	0x1005	/* transitional: behind the bench's PCI bridge */
#define IVSHMEM_DEVICE		0x1110	/* ivshmem-plain: a 256-byte register BAR0 */

/* edu BAR0 registers (QEMU hw/misc/edu.c). */
#define EDU_REG_ID		0x00	/* reads 0x010000ed */
#define EDU_REG_LIVE		0x04	/* reads back ~value */
#define EDU_REG_FACT		0x08
#define EDU_REG_STATUS		0x20
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_RAISE	0x60
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_COUNT	0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_START		0x1
#define EDU_DMA_TO_RAM		0x2	/* direction: device buffer -> RAM */
#define EDU_DMA_IRQ		0x4
#define EDU_ID_VALUE		0x010000ed
#define EDU_DMA_BUF		0x40000	/* the device's 4 KiB buffer */
/* QEMU 7.2 aborts on a 4096-byte transfer (off-by-one range check). */
#define EDU_DMA_MAX		4095
#define EDU_IOVA		0x1000000ULL	/* an IOVA below edu's 28-bit DMA mask */
/* edu's DMA mask is 28 bits: every IOVA it uses must be below this. */
#define EDU_IOVA_LIMIT		(1ULL << 28)

#ifndef offsetofend
#define offsetofend(type, member) (offsetof(type, member) + sizeof(((type *)0)->member))
#endif

#define VFIO_PCI_OFFSET(index)	((uint64_t)(index) << 40)

/* One device opened the standard way: container, group, IOMMU, device. */
struct vfio_dev {
	int container;
	int group;
	int device;
	int group_id;
	char bdf[32];
	void *bar0;		/* mmap of BAR0, once vfio_dev_map_bar0() ran */
	size_t bar0_size;
};

/* sysfs */
/*
 * @bdf's config space as the device holds it (sysfs), not as VFIO shows
 * it: the read gives 0xdeadbeef when it fails, the write 0 or -errno.
 */
uint32_t sysfs_cfg_read(const char *bdf, int off, int size);
int sysfs_cfg_write(const char *bdf, int off, uint32_t v, int size);
/* The PM capability's offset in @bdf's config space (read through sysfs), or 0. */
uint8_t sysfs_pm_cap(const char *bdf);
int __vfio_pci_find(uint16_t vendor, uint16_t device, char *bdf, size_t len);
void vfio_pci_find(uint16_t vendor, uint16_t device, char *bdf, size_t len);
int __vfio_iommu_group_of(const char *bdf);
int vfio_iommu_group_of(const char *bdf);
/* The driver @bdf is bound to, into @buf ("" for none): 0 or -errno. */
int pci_driver_of(const char *bdf, char *buf, size_t len);
/* Write @val to @path (sysfs, a module parameter): 0 or -errno. */
int write_str(const char *path, const char *val);

/*
 * The first line of @path (sysfs, a module parameter) in @buf, without its
 * newline; "" when it cannot be read.  Returns @buf.
 */
const char *read_line(const char *path, char *buf, size_t len);
/*
 * Write @val to @path from a child process that holds none of our fds or
 * mappings (either would block an unbind it does): its pid.  The child
 * exits 0 when the write succeeded, non-zero when it failed.
 */
pid_t write_str_async(const char *path, const char *val);
/* CLOCK_MONOTONIC in milliseconds, for deadlines. */
long now_ms(void);
/* waitpid() with a timeout: the child's exit status, or -1 if it still runs. */
int wait_child(pid_t pid, int timeout_ms);
/* Wait up to 5 s for /dev/vfio/@group_id to appear after a bind. */
void wait_group_node(int group_id);

/* container, group, device */
int __vfio_container_open(void);
int vfio_container_open(void);
int __vfio_group_open(int group_id);
int vfio_group_open(int group_id);
int __vfio_group_status(int group, uint32_t *flags);
int __vfio_group_set_container(int group, int container);
void vfio_group_set_container(int group, int container);
int __vfio_set_iommu(int container, int type);
void vfio_set_iommu(int container, int type);
int __vfio_group_get_device_fd(int group, const char *name);
int vfio_group_get_device_fd(int group, const char *name);

/*
 * Open vendor:device, or the device at PCI address bdf, through a fresh
 * container with IOMMU type (e.g. VFIO_TYPE1v2_IOMMU).  The plain versions
 * exit on failure.
 */
int __vfio_dev_open_bdf(struct vfio_dev *d, const char *bdf, int type);
/* The same but the device fd (d->device stays -1): to open it by another name. */
int __vfio_dev_attach_bdf(struct vfio_dev *d, const char *bdf, int type);
void vfio_dev_open_bdf(struct vfio_dev *d, const char *bdf, int type);
int __vfio_dev_open(struct vfio_dev *d, uint16_t vendor, uint16_t device, int type);
void vfio_dev_open(struct vfio_dev *d, uint16_t vendor, uint16_t device, int type);
void vfio_dev_close(struct vfio_dev *d);
/* The PCI address a guest script passes in $name, found by lib.sh's @helper; exits if unset. */
const char *env_bdf(const char *name, const char *helper);
/* mmap BAR0 into d->bar0 and turn on memory decode and bus mastering. */
void vfio_dev_map_bar0(struct vfio_dev *d);

/* type1 */
int __vfio_dma_map(int container, void *vaddr, uint64_t iova, uint64_t size, uint32_t flags);
void vfio_dma_map(int container, void *vaddr, uint64_t iova, uint64_t size);
/* *unmapped (may be NULL) gets the size the kernel reports. */
int __vfio_dma_unmap(int container, uint64_t iova, uint64_t size, uint32_t flags,
		     uint64_t *unmapped);
void vfio_dma_unmap(int container, uint64_t iova, uint64_t size);
/*
 * VFIO_IOMMU_GET_INFO with room for the capability chain: returns a
 * malloc'd buffer (free it) or NULL with errno set.
 */
struct vfio_iommu_type1_info *vfio_iommu_info(int container);
/* The capability with id in an info buffer's chain, or NULL. */
struct vfio_info_cap_header *vfio_info_cap_find(void *info, uint32_t cap_offset,
						uint16_t id);

/* device */
int __vfio_device_info(int device, struct vfio_device_info *info);
int __vfio_region_info(int device, uint32_t index, struct vfio_region_info *info);
int __vfio_irq_info(int device, uint32_t index, struct vfio_irq_info *info);
/* pread/pwrite the config region; return -errno or the byte count. */
int __vfio_cfg_read(int device, uint32_t off, void *buf, size_t len);
int __vfio_cfg_write(int device, uint32_t off, const void *buf, size_t len);
uint32_t vfio_cfg_read32(int device, uint32_t off);
uint16_t vfio_cfg_read16(int device, uint32_t off);
void vfio_cfg_write16(int device, uint32_t off, uint16_t val);
/* Offset of PCI capability id in config space as seen through VFIO, or 0. */
int vfio_cfg_find_cap(int device, uint8_t id);
/* mmap size bytes of region index at offset off; MAP_FAILED and errno on error. */
void *vfio_region_mmap(int device, uint32_t index, size_t size, uint64_t off);
/*
 * One 32-bit access through a BAR mapping.  Returns false when it raised
 * SIGBUS: the page could not be mapped in (decode off, D3hot, low power).
 */
bool mmio_access(volatile uint32_t *p, uint32_t *val, bool write);
/* Lines of a /proc file holding what (and also, unless NULL); -1: unreadable. */
int proc_lines_with(const char *path, const char *what, const char *also);

/* interrupts */
int __vfio_irq_set(int device, uint32_t index, uint32_t flags, uint32_t start,
		   uint32_t count, const void *data, size_t data_len);
/* Enable vectors [start, start + count) of index, one eventfd each. */
int __vfio_irq_enable_eventfds(int device, uint32_t index, uint32_t start,
			       uint32_t count, const int *fds);
int __vfio_irq_disable(int device, uint32_t index);
int eventfd_new(void);
/* Wait up to timeout_ms for fd to fire; return its count, 0 on timeout, -errno. */
int64_t eventfd_wait(int fd, int timeout_ms);

/* The DMA data of the tests: n bytes of a pseudo-random pattern from seed. */
void fill_pattern(uint8_t *p, size_t n, unsigned int seed);

/* edu through its mmap'd BAR0 */
uint32_t edu_read32(struct vfio_dev *d, uint32_t off);
void edu_write32(struct vfio_dev *d, uint32_t off, uint32_t val);
uint64_t edu_read64(struct vfio_dev *d, uint32_t off);
void edu_write64(struct vfio_dev *d, uint32_t off, uint64_t val);
/*
 * Start a DMA of count bytes.  to_ram: device buffer offset devoff ->
 * IOVA iova; else IOVA -> device buffer.  irq also raises edu's DMA
 * interrupt.  Does not wait.
 */
void edu_dma_start(struct vfio_dev *d, uint64_t iova, uint32_t devoff,
		   uint32_t count, bool to_ram, bool irq);
/* Poll until the DMA is done: 0, or -ETIMEDOUT after timeout_ms. */
int __edu_dma_wait(struct vfio_dev *d, int timeout_ms);
int __edu_dma(struct vfio_dev *d, uint64_t iova, uint32_t devoff, uint32_t count,
	      bool to_ram);

/* accounting */
/* VmLck of pid (0 = self) in KiB, or -errno. */
long locked_vm_kb(int pid);
/* A /proc/meminfo field in KiB, or -errno. */
long meminfo_kb(const char *field);
/* The value of the "KEY VALUE" line of @path (/proc/vmstat, debugfs), or -1. */
long read_key(const char *path, const char *key);
/*
 * Pages pinned with FOLL_PIN and not released, system wide.  The vmstat
 * counters have per-CPU deltas: stat_refresh (root) folds them first, so
 * the difference is exact.
 */
long foll_pins_held(void);
/* Drop CAP_IPC_LOCK from the effective set, so RLIMIT_MEMLOCK applies. */
int drop_cap_ipc_lock(void);

/* mmap an anonymous, populated, page-aligned buffer; exits on failure. */
void *alloc_buffer(size_t size);
/*
 * The same, populated backwards with THP off, so that hardly any page
 * follows its predecessor in physical memory: a mapping of many runs.
 */
void *alloc_scattered_buffer(size_t size);

/* Our stack's fault points (kernel/fault.c, /sys/kernel/debug/vfio/fault/) */
/* Arm @point to fail @times evaluations after letting @skip pass; exits on failure. */
void vfio_fault_arm(const char *point, int skip, int times);
/* Disarm @point; returns how many failures it injected. */
long vfio_fault_disarm(const char *point);

/*
 * Is the running kernel of series major.minor or later?  The in-tree VFIO
 * a test compares against, and ours built for that series, behave by it
 * (kernel/include/vfioscope/compat.h names the version of each change).
 */
bool kernel_series_at_least(int major, int minor);

#endif /* __VFIO_UTIL_H */
