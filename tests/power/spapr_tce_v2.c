// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO SPAPR TCE v2 backend (VFIO_SPAPR_TCE_v2_IOMMU) with edu doing
 * real DMA, in the powernv POWER guest (qemu powernv9: an IODA2 PHB whose
 * PE has table-group ops, so the container creates the DMA windows; DDW;
 * 64 KiB kernel pages).  tests/vm/guest/power-spapr-v2.sh runs it on
 * Debian's in-tree 6.1 stack, the reference, and on ours, and diffs the
 * two outputs: every line is deterministic and names the values it
 * checked.  The v1 twin is spapr_tce_v1.c (pseries).
 *
 * The wanted values are what Debian's 6.1 in-tree backend gave, measured
 * in that guest.  Two phases, each one container: the first runs memory
 * pre-registration, the default window and a DDW window; the second
 * removes the default window before it exists.
 *
 *   spapr_tce_v2 intree|ours   every check, one "ok"/"FAIL" line each
 * The stack's name matters only where ours differs from 6.1 on purpose
 * (check_ret_differs(), check_long_differs()): each stack must give its
 * own answer, and the line printed is the same for both.
 * Exits 1 if any check failed; set-up failures exit 1 with one message.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "spapr_report.h"
#include "vfio_util.h"

#define TCE_4K		0x1000ULL	/* the default window's IOMMU page */
#define TCE_64K		0x10000ULL	/* the DDW window's, in this test */
#define DEF_WINDOW_SIZE	0x80000000ULL	/* IODA2: the PHB's 32-bit space */
/* qemu's IODA2 PHB: 4 KiB, 64 KiB, 2 MiB, 1 GiB TCEs. */
#define PNV_PGSIZES	0x40211000ULL
#define PNV_WINDOWS	2
#define PNV_LEVELS	5
/* IODA2: window #1 starts at TVE #1, PCI address bit 59. */
#define DDW_START	(1ULL << 59)

/* Bus addresses in the default window. */
#define IOVA_SRC	0x100000ULL
#define IOVA_DST	0x200000ULL
#define IOVA_BUSY	0x300000ULL
#define IOVA_GONE	0x500000ULL
#define IOVA_SPARE	0x600000ULL
#define IOVA_TWICE	0x700000ULL

/* The registered region: REG_PAGES kernel pages, used as below. */
#define REG_PAGES	8
#define PG_SRC		0
#define PG_DST		1
#define PG_SCRATCH	2
#define PG_GONE		3
#define PG_DDW		4	/* 4 pages mapped through the DDW window */

static struct vfio_dev d;
static size_t page;		/* the kernel's PAGE_SIZE: 64 KiB */

#define RW	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

static long map(void *vaddr, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = flags, .vaddr = (uintptr_t)vaddr,
		.iova = iova, .size = size,
	};

	return ioctl_ret(d.container, VFIO_IOMMU_MAP_DMA, &m);
}

static long unmap(uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};

	return ioctl_ret(d.container, VFIO_IOMMU_UNMAP_DMA, &u);
}

static long set_iommu(int type)
{
	return ioctl_ret(d.container, VFIO_SET_IOMMU, (void *)(long)type);
}

static long prereg_raw(unsigned long cmd, uint32_t argsz, uint32_t flags,
		       uint64_t vaddr, uint64_t size)
{
	struct vfio_iommu_spapr_register_memory r = {
		.argsz = argsz, .flags = flags, .vaddr = vaddr, .size = size,
	};

	return ioctl_ret(d.container, cmd, &r);
}

static long reg(void *vaddr, uint64_t size)
{
	return prereg_raw(VFIO_IOMMU_SPAPR_REGISTER_MEMORY,
			  sizeof(struct vfio_iommu_spapr_register_memory), 0,
			  (uintptr_t)vaddr, size);
}

static long unreg(void *vaddr, uint64_t size)
{
	return prereg_raw(VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY,
			  sizeof(struct vfio_iommu_spapr_register_memory), 0,
			  (uintptr_t)vaddr, size);
}

static long create_raw(struct vfio_iommu_spapr_tce_create *c, uint32_t argsz,
		       uint32_t flags, uint32_t shift, uint64_t size, uint32_t levels)
{
	*c = (struct vfio_iommu_spapr_tce_create){
		.argsz = argsz, .flags = flags, .page_shift = shift,
		.window_size = size, .levels = levels, .start_addr = 0x5a5a,
	};
	return ioctl_ret(d.container, VFIO_IOMMU_SPAPR_TCE_CREATE, c);
}

static long create(uint32_t shift, uint64_t size, uint32_t levels, uint64_t *start)
{
	struct vfio_iommu_spapr_tce_create c;
	long r = create_raw(&c, sizeof(c), 0, shift, size, levels);

	if (start)
		*start = c.start_addr;
	return r;
}

static long remove_raw(uint32_t argsz, uint32_t flags, uint64_t start)
{
	struct vfio_iommu_spapr_tce_remove r = {
		.argsz = argsz, .flags = flags, .start_addr = start,
	};

	return ioctl_ret(d.container, VFIO_IOMMU_SPAPR_TCE_REMOVE, &r);
}

static long remove_window(uint64_t start)
{
	return remove_raw(sizeof(struct vfio_iommu_spapr_tce_remove), 0, start);
}

static long vmlck_start, pins_start;

static long vmlck_delta(void)
{
	return locked_vm_kb(0) - vmlck_start;
}

static long pins_delta(void)
{
	return foll_pins_held() - pins_start;
}

/*
 * The last put of a pre-registered region unpins its pages in an RCU
 * callback (mm_iommu_release()), after the ioctl or close returned: wait
 * up to 2 s for the count to reach @want, then return what it is.
 */
static long pins_delta_settled(long want)
{
	long got = pins_delta();

	for (int i = 0; i < 200 && got != want; i++) {
		usleep(10000);
		got = pins_delta();
	}
	return got;
}

/* --- the device's 4 KiB buffer, through a scratch page of the region -------- */

static uint8_t *region;		/* REG_PAGES pages, registered in phase 1 */
#define PG(n)	(region + (n) * page)

static bool device_load(const uint8_t *p, size_t n)
{
	bool ok;

	memcpy(PG(PG_SCRATCH), p, n);
	if (map(PG(PG_SCRATCH), IOVA_SPARE, page, RW))
		return false;
	ok = !__edu_dma(&d, IOVA_SPARE, 0, n, false);
	return !unmap(IOVA_SPARE, page) && ok;
}

static bool device_read(uint8_t *p, size_t n)
{
	bool ok;

	memset(PG(PG_SCRATCH), 0, n);
	if (map(PG(PG_SCRATCH), IOVA_SPARE, page, RW))
		return false;
	ok = !__edu_dma(&d, IOVA_SPARE, 0, n, true);
	memcpy(p, PG(PG_SCRATCH), n);
	return !unmap(IOVA_SPARE, page) && ok;
}

static void check_round_trip(const char *name, uint8_t *src, uint64_t src_iova,
			     uint8_t *dst, uint64_t dst_iova, uint32_t count)
{
	bool ok;

	fill_pattern(src, count, 3);
	memset(dst, 0xee, page);
	ok = !__edu_dma(&d, src_iova, 0, count, false) &&
	     !__edu_dma(&d, dst_iova, 0, count, true);
	if (!ok) {
		report(false, name, "edu DMA timed out");
		return;
	}
	report(!memcmp(src, dst, count) && all_bytes(dst + count, page - count, 0xee),
	       name, "%u bytes, %s", count,
	       !memcmp(src, dst, count) ? "data matches, nothing after it" : "data differs");
}

/* What a DMA from @iova to the device delivered, as a word. */
static const char *read_blocked(uint64_t iova, const uint8_t *pattern, uint8_t ram)
{
	uint8_t back[2048];

	if (!device_load(pattern, sizeof(back)))
		return "could not load the device";
	__edu_dma(&d, iova, 0, sizeof(back), false);
	if (!device_read(back, sizeof(back)))
		return "could not read the device";
	return !memcmp(back, pattern, sizeof(back)) ? "unchanged" :
	       all_bytes(back, sizeof(back), ram) ? "got the data" :
	       all_bytes(back, sizeof(back), 0x00) ? "all zeros" :
	       all_bytes(back, sizeof(back), 0xff) ? "all ones" : "other";
}

/* --- phase 1 ---------------------------------------------------------------- */

static void open_v2(const char *pfx)
{
	char name[64];
	uint32_t flags = 0;

	d.container = vfio_container_open();
	d.group = vfio_group_open(d.group_id);
	vfio_group_set_container(d.group, d.container);
	__vfio_group_status(d.group, &flags);
	snprintf(name, sizeof(name), "%s_group_container_set", pfx);
	check_u64(name, "flags", flags,
		  VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);
	snprintf(name, sizeof(name), "%s_set_iommu_v2", pfx);
	check_ret(name, set_iommu(VFIO_SPAPR_TCE_v2_IOMMU), 0);
	d.device = vfio_group_get_device_fd(d.group, d.bdf);
	vfio_dev_map_bar0(&d);
}

static void check_device_and_group(void)
{
	char link[256] = "", path[128];
	const char *driver;
	uint32_t flags = 0;

	vfio_pci_find(EDU_VENDOR, EDU_DEVICE, d.bdf, sizeof(d.bdf));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", d.bdf);
	if (readlink(path, link, sizeof(link) - 1) < 0)
		strcpy(link, "none");
	driver = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	report(!strcmp(driver, "vfio-pci"), "edu_bound", "driver %s", driver);
	d.group_id = vfio_iommu_group_of(d.bdf);

	d.container = vfio_container_open();
	check_u64("check_extension_v1", "ret",
		  ioctl(d.container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU), 1);
	check_u64("check_extension_v2", "ret",
		  ioctl(d.container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU), 1);
	check_u64("check_extension_type1v2", "ret",
		  ioctl(d.container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 0);

	d.group = vfio_group_open(d.group_id);
	if (__vfio_group_status(d.group, &flags))
		flags = ~0u;
	check_u64("group_viable", "flags", flags, VFIO_GROUP_FLAGS_VIABLE);
	vfio_group_set_container(d.group, d.container);
}

/* 6.1: v1 wants a group without table-group ops; IODA2's PE has them. */
static void check_set_iommu(void)
{
	check_ret("set_iommu_v1_refused", set_iommu(VFIO_SPAPR_TCE_IOMMU), -EPERM);
	check_ret("set_iommu_v2", set_iommu(VFIO_SPAPR_TCE_v2_IOMMU), 0);
	check_ret("set_iommu_v2_again", set_iommu(VFIO_SPAPR_TCE_v2_IOMMU), -EINVAL);
	d.device = vfio_group_get_device_fd(d.group, d.bdf);
	vfio_dev_map_bar0(&d);
	check_u64("edu_id", "id", edu_read32(&d, EDU_REG_ID), EDU_ID_VALUE);
}

/* EEH: powernv's is up, and edu's PE is in a normal state. */
static void check_eeh(void)
{
	struct vfio_eeh_pe_op op = {
		.argsz = sizeof(op), .op = VFIO_EEH_PE_GET_STATE,
	};

	check_u64("check_extension_eeh", "ret",
		  ioctl(d.container, VFIO_CHECK_EXTENSION, VFIO_EEH), 1);
	check_ret("eeh_get_state", ioctl_ret(d.container, VFIO_EEH_PE_OP, &op),
		  VFIO_EEH_PE_STATE_NORMAL);
}

static void check_get_info(void)
{
	struct vfio_iommu_spapr_tce_info info, in;
	size_t minsz = offsetofend(struct vfio_iommu_spapr_tce_info, dma32_window_size);
	long r;

	memset(&info, 0xa5, sizeof(info));
	info.argsz = sizeof(info);
	r = ioctl_ret(d.container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info);
	check_ret("get_info", r, 0);
	printf("# get_info: argsz=%u flags=0x%x dma32_window_start=0x%x dma32_window_size=0x%x "
	       "ddw.pgsizes=0x%llx ddw.max_dynamic_windows_supported=%u ddw.levels=%u\n",
	       info.argsz, info.flags, info.dma32_window_start, info.dma32_window_size,
	       (unsigned long long)info.ddw.pgsizes, info.ddw.max_dynamic_windows_supported,
	       info.ddw.levels);
	check_u64("get_info_flags", "flags", info.flags, VFIO_IOMMU_SPAPR_INFO_DDW);
	check_u64("get_info_window_start", "dma32_window_start", info.dma32_window_start, 0);
	check_u64("get_info_window_size", "dma32_window_size", info.dma32_window_size,
		  DEF_WINDOW_SIZE);
	check_u64("get_info_ddw_pgsizes", "ddw.pgsizes", info.ddw.pgsizes, PNV_PGSIZES);
	check_u64("get_info_ddw_windows", "ddw.max_dynamic_windows_supported",
		  info.ddw.max_dynamic_windows_supported, PNV_WINDOWS);
	check_u64("get_info_ddw_levels", "ddw.levels", info.ddw.levels, PNV_LEVELS);

	/* Only the v1 part asked for: the flags say DDW, ddw is untouched. */
	memset(&in, 0xa5, sizeof(in));
	in.argsz = minsz;
	r = ioctl_ret(d.container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &in);
	check_ret("get_info_v1_part", r, 0);
	check_u64("get_info_v1_part_flags", "flags", in.flags, VFIO_IOMMU_SPAPR_INFO_DDW);
	check_u64("get_info_v1_part_ddw_untouched", "ddw.levels", in.ddw.levels, 0xa5a5a5a5);
	memset(&in, 0, sizeof(in));
	in.argsz = minsz - 1;
	check_ret("get_info_short_argsz",
		  ioctl_ret(d.container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &in), -EINVAL);
}

/* Before the first REGISTER_MEMORY the container is not enabled. */
static void check_before_register(void)
{
	vmlck_start = locked_vm_kb(0);
	pins_start = foll_pins_held();
	check_ret("map_before_register", map(PG(PG_SRC), IOVA_SRC, page, RW), -EPERM);
	check_ret("unmap_before_register", unmap(IOVA_SRC, page), -EPERM);
	/* 6.1: no mm yet (only REGISTER, CREATE and REMOVE set it). */
	check_ret("unregister_before_register", unreg(region, page), -EPERM);
	/* v1's ioctls do not exist on v2. */
	check_ret("enable_v2", ioctl_ret(d.container, VFIO_IOMMU_ENABLE, NULL), -ENOTTY);
	check_ret("disable_v2", ioctl_ret(d.container, VFIO_IOMMU_DISABLE, NULL), -ENOTTY);
}

static void check_register(uint8_t *busy)
{
	const size_t rsz = sizeof(struct vfio_iommu_spapr_register_memory);
	uint64_t va = (uintptr_t)region, size = REG_PAGES * page;
	void *gone;

	check_ret("register_short_argsz",
		  prereg_raw(VFIO_IOMMU_SPAPR_REGISTER_MEMORY, rsz - 1, 0, va, size), -EINVAL);
	check_ret("register_flags",
		  prereg_raw(VFIO_IOMMU_SPAPR_REGISTER_MEMORY, rsz, 1, va, size), -EINVAL);
	check_ret("register_unaligned_vaddr", reg(region + TCE_4K, page), -EINVAL);
	check_ret("register_unaligned_size", reg(region, page + TCE_4K), -EINVAL);
	/* vaddr + size wraps around */
	check_ret("register_wrap", reg(region, -(uint64_t)page), -EINVAL);
	gone = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, page);
	check_ret("register_unmapped", reg(gone, page), -EFAULT);
	/*
	 * 6.1 hands 0 pages to mm_iommu_new(), whose vzalloc(0) WARNs
	 * (__vmalloc_node_range) and fails: ENOMEM and a user-triggered WARN,
	 * which power-spapr-v2.sh expects in 6.1's dmesg.  Ours: EINVAL.
	 */
	check_ret_differs("register_size_zero", reg(region, 0), -ENOMEM, -EINVAL);
	check_long("register_refused_vmlck", "VmLck_kB_delta", vmlck_delta(), 0);
	check_long("register_refused_pins", "pins", pins_delta(), 0);

	/* 6.1: pinned and charged once, one pin per kernel page. */
	check_ret("register", reg(region, size), 0);
	check_long("register_vmlck", "VmLck_kB_delta", vmlck_delta(), size / 1024);
	check_long("register_pins", "pins", pins_delta(), REG_PAGES);
	check_ret("register_twice", reg(region, size), -EBUSY);
	check_ret("register_overlap", reg(region + page, 2 * page), -EINVAL);
	check_long("register_twice_vmlck", "VmLck_kB_delta", vmlck_delta(), size / 1024);
	check_ret("register_busy", reg(busy, page), 0);
	check_long("register_busy_vmlck", "VmLck_kB_delta", vmlck_delta(), size / 1024 + page / 1024);

	check_ret("unregister_unknown", unreg(gone, page), -ENOENT);
	check_ret("unregister_size_zero", unreg(region, 0), -ENOENT);
	check_ret("unregister_part", unreg(region, page), -ENOENT);
	check_ret("unregister_unaligned", unreg(region + TCE_4K, size), -EINVAL);
	check_ret("unregister_flags",
		  prereg_raw(VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, rsz, 1, va, size), -EINVAL);
	check_ret("unregister_short_argsz",
		  prereg_raw(VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY, rsz - 1, 0, va, size), -EINVAL);
}

static long vmlck_regions;	/* KiB: what the two regions charge */
static long vmlck_def_window;	/* KiB: the default window's table */

/*
 * 6.1 maps over a live TCE: the new page replaces the old, whose use of
 * its region is dropped.  The last 4 KiB of two pages of the region; the
 * device's view read back through dst (mapped at IOVA_DST).
 */
static void check_map_twice(void)
{
	uint8_t *a = PG(PG_SRC) + page - TCE_4K, *b = PG(PG_GONE) + page - TCE_4K;
	uint8_t *dst = PG(PG_DST);
	const size_t n = 2048;

	fill_pattern(a, TCE_4K, 21);
	fill_pattern(b, TCE_4K, 22);
	check_ret("map_once", map(a, IOVA_TWICE, TCE_4K, RW), 0);
	check_ret("map_twice", map(b, IOVA_TWICE, TCE_4K, RW), 0);
	memset(dst, 0, n);
	if (!__edu_dma(&d, IOVA_TWICE, 0, n, false) && !__edu_dma(&d, IOVA_DST, 0, n, true))
		report(!memcmp(dst, b, n), "map_twice_replaces", "device reads the %s page",
		       !memcmp(dst, b, n) ? "second" : !memcmp(dst, a, n) ? "first" : "neither");
	else
		report(false, "map_twice_replaces", "edu DMA timed out");
	check_ret("unmap_twice", unmap(IOVA_TWICE, TCE_4K), 0);
}

/* The default window: made by the first MAP_DMA, 4 KiB TCEs over 2 GiB. */
static void check_default_window(uint8_t *unregistered)
{
	uint8_t *src = PG(PG_SRC), *dst = PG(PG_DST);

	vmlck_regions = vmlck_delta();
	check_ret("map_src", map(src, IOVA_SRC, page, RW), 0);
	vmlck_def_window = vmlck_delta() - vmlck_regions;
	/*
	 * 6.1: the table is charged to locked_vm, its size doubled for the
	 * userspace view: 512K TCEs of 8 bytes, twice.
	 */
	check_long("default_window_vmlck", "table_kB", vmlck_def_window,
		   2 * (DEF_WINDOW_SIZE / TCE_4K) * 8 / 1024);
	check_ret("map_dst", map(dst, IOVA_DST, page, RW), 0);
	/* v2 pins at REGISTER only. */
	check_long("map_pins", "pins", pins_delta(), REG_PAGES + 1);
	check_round_trip("dma_default_window", src, IOVA_SRC, dst, IOVA_DST, EDU_DMA_MAX);

	/* 6.1: memory nobody registered is not in the mm's list: EINVAL. */
	check_ret("map_unregistered", map(unregistered, IOVA_SPARE, page, RW), -EINVAL);
	check_ret("map_past_window", map(src, DEF_WINDOW_SIZE, page, RW), -ENXIO);
	check_ret("map_unaligned_vaddr", map(src + 0x800, IOVA_SPARE, TCE_4K, RW), -EINVAL);
	check_ret("map_unaligned_size", map(src, IOVA_SPARE, 0x800, RW), -EINVAL);
	/* As on v1 (spapr_tce_v1.c): 6.1's ORed param checks return 1. */
	check_ret_differs("map_unaligned_iova", map(src, IOVA_SPARE + 0x800, TCE_4K, RW),
			  1, -EINVAL);
	check_ret("map_no_direction", map(src, IOVA_SPARE, TCE_4K, 0), -EINVAL);
	check_ret("map_unknown_flag", map(src, IOVA_SPARE, TCE_4K, RW | (1u << 2)), -EINVAL);
	check_long("map_refused_pins", "pins", pins_delta(), REG_PAGES + 1);
	/* 6.1: zero TCEs to write or clear is a success. */
	check_ret("map_size_zero", map(src, IOVA_SPARE, 0, RW), 0);
	check_ret("unmap_size_zero", unmap(IOVA_SPARE, 0), 0);
	/* As on v1: 6.1's ORed clear checks return 1 for a range past the end. */
	check_ret_differs("unmap_across_window_end", unmap(DEF_WINDOW_SIZE - TCE_4K, 2 * TCE_4K),
			  1, -EINVAL);
	check_map_twice();
	/*
	 * Not tested: a map across the window's end.  6.1 checks the first
	 * TCE only and IODA2's xchg has no bound check: it would write past
	 * the table.
	 */
}

/*
 * UNREGISTER of a region TCEs use.  6.1's lookup (mm_iommu_get) takes a
 * use of its own, so its mm_iommu_put() is not the last one and returns
 * 0: the container forgets the region, which stays pinned and charged
 * until the process exits, and destroy_context() WARNs then.  Ours
 * refuses it, EBUSY, and the region can be unregistered after the unmap.
 */
static void check_unregister_busy(uint8_t *busy)
{
	check_ret("map_busy", map(busy, IOVA_BUSY, page, RW), 0);
	check_ret_differs("unregister_while_mapped", unreg(busy, page), 0, -EBUSY);
	check_ret("unmap_busy", unmap(IOVA_BUSY, page), 0);
	check_ret_differs("unregister_after_unmap", unreg(busy, page), -ENOENT, 0);
	check_long_differs("unregister_busy_vmlck", "VmLck_kB_delta", vmlck_delta(),
			   vmlck_regions + vmlck_def_window,
			   vmlck_regions + vmlck_def_window - page / 1024);
}

/* After UNMAP_DMA the device reaches nothing at that bus address. */
static void check_unmap_blocks(void)
{
	uint8_t pattern[2048], *buf = PG(PG_GONE);
	const char *what;

	fill_pattern(pattern, sizeof(pattern), 9);
	memset(buf, 0x77, page);
	check_ret("map_then_unmap", map(buf, IOVA_GONE, page, RW), 0);
	check_ret("unmap", unmap(IOVA_GONE, page), 0);
	if (!device_load(pattern, sizeof(pattern))) {
		report(false, "dma_write_after_unmap_blocked", "could not load the device");
		return;
	}
	__edu_dma(&d, IOVA_GONE, 0, sizeof(pattern), true);
	report(all_bytes(buf, page, 0x77), "dma_write_after_unmap_blocked", "buffer %s",
	       all_bytes(buf, page, 0x77) ? "unchanged" : "written");
	what = read_blocked(IOVA_GONE, pattern, 0x77);
	report(!strcmp(what, "unchanged") || !strcmp(what, "all zeros") ||
	       !strcmp(what, "all ones"), "dma_read_after_unmap_blocked",
	       "device buffer %s", what);
}

/* A second window (DDW): 64 KiB TCEs at bus address 1 << 59. */
static void check_ddw_window(void)
{
	struct vfio_iommu_spapr_tce_create c;
	const size_t csz = sizeof(c);
	uint8_t pattern[2048], *buf = PG(PG_DDW);
	uint64_t start = 0, win = SZ_1G;
	long before = vmlck_delta();
	const char *what;

	/* Refusals, with a slot free so that they reach the argument checks. */
	check_ret("create_short_argsz", create_raw(&c, csz - 1, 0, 16, win, 1), -EINVAL);
	check_ret("create_flags", create_raw(&c, csz, 1, 16, win, 1), -EINVAL);
	check_ret("create_bad_page_shift", create(13, win, 1, NULL), -EINVAL);
	check_ret("create_huge_page_shift", create(63, win, 1, NULL), -EINVAL);
	check_ret("create_levels_0", create(16, win, 0, NULL), -EINVAL);
	check_ret("create_levels_6", create(16, win, PNV_LEVELS + 1, NULL), -EINVAL);
	check_ret("create_size_not_pow2", create(16, win + TCE_64K, 1, NULL), -EINVAL);
	check_long("create_refused_vmlck", "VmLck_kB_change", vmlck_delta() - before, 0);
	/*
	 * Four levels of 64 KiB (the minimum, a kernel page) for 4 KiB TCEs
	 * address more than IODA2's 55 bits: get_table_size() accepts it,
	 * pnv_pci_ioda2_table_alloc_pages() refuses it.  6.1 charged the
	 * table's size to locked_vm first and never gives it back (until
	 * the process exits); ours gives it back.
	 */
	check_ret("create_too_deep", create(12, 1ULL << 28, 4, NULL), -EINVAL);
	check_long_differs("create_too_deep_vmlck", "VmLck_kB_change", vmlck_delta() - before,
			   2 * (512 + 3 * 64), 0);
	before = vmlck_delta();

	check_ret("create", create(16, win, 1, &start), 0);
	check_u64("create_start", "start_addr", start, DDW_START);
	/* 1 GiB / 64 KiB = 16K TCEs, 128 KiB of table, twice. */
	check_long("create_vmlck", "table_kB", vmlck_delta() - before,
		   2 * (win / TCE_64K) * 8 / 1024);
	check_ret("create_third", create(16, win, 1, NULL), -ENOSPC);

	check_ret("map_ddw", map(buf, start, 4 * page, RW), 0);
	check_ret("map_ddw_past_window", map(buf, start + win, page, RW), -ENXIO);
	check_round_trip("dma_ddw_window", buf + page, start + page, buf + 2 * page,
			 start + 2 * page, EDU_DMA_MAX);
	/* One window to the other: RAM -> device from DDW, device -> RAM default. */
	fill_pattern(buf, EDU_DMA_MAX, 5);
	memset(PG(PG_DST), 0, page);
	if (!__edu_dma(&d, start, 0, EDU_DMA_MAX, false) &&
	    !__edu_dma(&d, IOVA_DST, 0, EDU_DMA_MAX, true))
		report(!memcmp(buf, PG(PG_DST), EDU_DMA_MAX), "dma_ddw_to_default",
		       "%s", !memcmp(buf, PG(PG_DST), EDU_DMA_MAX) ? "data matches" : "differs");
	else
		report(false, "dma_ddw_to_default", "edu DMA timed out");

	check_ret("remove_wrong_address", remove_window(start + win), -EINVAL);
	check_ret("remove_flags", remove_raw(sizeof(struct vfio_iommu_spapr_tce_remove), 1,
					     start), -EINVAL);
	check_ret("remove_short_argsz",
		  remove_raw(sizeof(struct vfio_iommu_spapr_tce_remove) - 1, 0, start), -EINVAL);
	/* 6.1: removal clears what is still mapped in it. */
	check_ret("remove", remove_window(start), 0);
	check_long("remove_vmlck", "VmLck_kB_change", vmlck_delta() - before, 0);
	check_ret("remove_again", remove_window(start), -EINVAL);
	check_ret("map_removed_window", map(buf, start, page, RW), -ENXIO);
	check_ret("unmap_removed_window", unmap(start, page), -ENXIO);

	fill_pattern(pattern, sizeof(pattern), 11);
	memset(buf, 0x66, page);
	if (device_load(pattern, sizeof(pattern))) {
		__edu_dma(&d, start, 0, sizeof(pattern), true);
		report(all_bytes(buf, page, 0x66), "dma_removed_window_blocked", "buffer %s",
		       all_bytes(buf, page, 0x66) ? "unchanged" : "written");
	} else {
		report(false, "dma_removed_window_blocked", "could not load the device");
	}
	what = read_blocked(start, pattern, 0x66);
	report(!strcmp(what, "unchanged") || !strcmp(what, "all zeros") ||
	       !strcmp(what, "all ones"), "dma_read_removed_window_blocked",
	       "device buffer %s", what);
	/* The removed slot is free again. */
	check_ret("create_again", create(16, win, 1, &start), 0);
	check_u64("create_again_start", "start_addr", start, DDW_START);
	check_ret("map_ddw_again", map(buf, start, page, RW), 0);
}

/* The default window goes like any other; MAP then has nowhere to go. */
static void check_remove_default_window(void)
{
	long before = vmlck_delta();

	check_ret("remove_default_window", remove_window(0), 0);
	check_long("remove_default_window_vmlck", "table_kB", before - vmlck_delta(),
		   vmlck_def_window);
	check_ret("map_after_remove_default", map(PG(PG_SRC), IOVA_SRC, page, RW), -ENXIO);
}

/*
 * Close with the DDW window mapped and the region registered: the release
 * clears the window, frees it and unregisters the region.  6.1 still holds
 * the region it lost in check_unregister_busy().
 */
static void check_close(void)
{
	vfio_dev_close(&d);
	check_long_differs("close_vmlck", "VmLck_kB_delta", vmlck_delta(),
			   page / 1024 + 2 * (512 + 3 * 64), 0);
	check_long_differs("close_pins", "pins", pins_delta_settled(report_ours ? 0 : 1), 1, 0);
}

/* --- phase 2: the default window removed before it exists ---------------- */

static void check_remove_pending(void)
{
	uint64_t start = 0x5a5a;
	long before;

	open_v2("p2");
	/* Before any REGISTER: REMOVE sets the mm itself. */
	check_ret("p2_remove_pending_default", remove_window(0), 0);
	before = vmlck_delta();
	check_ret("p2_register", reg(region, REG_PAGES * page), 0);
	check_long("p2_register_vmlck", "VmLck_kB_change", vmlck_delta() - before,
		   REG_PAGES * page / 1024);
	before = vmlck_delta();
	/* 6.1: no window at all now, and MAP makes none. */
	check_ret("p2_map_no_window", map(PG(PG_SRC), IOVA_SRC, page, RW), -ENXIO);
	check_long("p2_map_no_window_vmlck", "VmLck_kB_change", vmlck_delta() - before, 0);
	check_ret("p2_remove_zero_again", remove_window(0), -EINVAL);
	/* Slot 0 is free: IODA2 places it at tce32_start, bus address 0. */
	check_ret("p2_create_4k", create(12, 1ULL << 28, 1, &start), 0);
	check_u64("p2_create_4k_start", "start_addr", start, 0);
	check_ret("p2_map", map(PG(PG_SRC), IOVA_SRC, page, RW), 0);
	check_ret("p2_map_dst", map(PG(PG_DST), IOVA_DST, page, RW), 0);
	check_round_trip("p2_dma", PG(PG_SRC), IOVA_SRC, PG(PG_DST), IOVA_DST, EDU_DMA_MAX);
	check_ret("p2_unmap", unmap(IOVA_SRC, page), 0);
	check_ret("p2_unmap_dst", unmap(IOVA_DST, page), 0);

	/*
	 * A two-level table: its second level is allocated on first use, a
	 * map at 768 MiB into the window (the table's last quarter).
	 */
	before = vmlck_delta();
	check_ret("p2_create_2level", create(16, SZ_1G, 2, &start), 0);
	check_u64("p2_create_2level_start", "start_addr", start, DDW_START);
	printf("# p2_create_2level: table_kB=%ld\n", vmlck_delta() - before);
	check_ret("p2_map_2level", map(PG(PG_DDW), start + 3 * (SZ_1G / 4), 2 * page, RW), 0);
	check_round_trip("p2_dma_2level", PG(PG_DDW), start + 3 * (SZ_1G / 4),
			 PG(PG_DDW + 1), start + 3 * (SZ_1G / 4) + page, EDU_DMA_MAX);
	check_ret("p2_unmap_2level", unmap(start + 3 * (SZ_1G / 4), 2 * page), 0);
	check_ret("p2_map_2level_again", map(PG(PG_DDW), start + page, page, RW), 0);
	/* The mapped window keeps the region. */
	check_ret_differs("p2_unregister_mapped", unreg(region, REG_PAGES * page), 0, -EBUSY);
	check_ret("p2_remove_2level", remove_window(start), 0);
	check_long("p2_remove_2level_vmlck", "VmLck_kB_change", vmlck_delta() - before, 0);
	check_ret_differs("p2_unregister", unreg(region, REG_PAGES * page), -ENOENT, 0);
	vfio_dev_close(&d);
	/* 6.1 lost the region too now, to p2_unregister_mapped. */
	check_long_differs("p2_close_vmlck", "VmLck_kB_delta", vmlck_delta(),
			   (1 + REG_PAGES) * page / 1024 + 2 * (512 + 3 * 64), 0);
	check_long_differs("p2_close_pins", "pins",
			   pins_delta_settled(report_ours ? 0 : 1 + REG_PAGES), 1 + REG_PAGES, 0);
}

int main(int argc, char **argv)
{
	uint8_t *busy, *unregistered;

	if (argc != 2 || (strcmp(argv[1], "ours") && strcmp(argv[1], "intree"))) {
		fprintf(stderr, "usage: spapr_tce_v2 intree|ours\n");
		return 2;
	}
	report_ours = !strcmp(argv[1], "ours");
	setvbuf(stdout, NULL, _IOLBF, 0);
	page = sysconf(_SC_PAGESIZE);
	printf("# spapr_tce_v2: page size %zu\n", page);
	region = alloc_buffer(REG_PAGES * page);
	busy = alloc_buffer(page);
	unregistered = alloc_buffer(page);

	check_device_and_group();
	check_set_iommu();
	check_eeh();
	check_get_info();
	check_before_register();
	check_register(busy);
	check_default_window(unregistered);
	check_unregister_busy(busy);
	check_unmap_blocks();
	check_ddw_window();
	check_remove_default_window();
	check_close();
	check_remove_pending();

	printf("# spapr_tce_v2: %d check(s) failed\n", report_failures);
	return report_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
