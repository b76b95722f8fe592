// SPDX-License-Identifier: GPL-2.0
/*
 * The VFIO SPAPR TCE v1 backend (VFIO_SPAPR_TCE_IOMMU) with edu doing real
 * DMA through the TCE table, in the POWER guest (qemu pseries: one group,
 * a 32-bit window at 0..1 GiB of 4 KiB TCEs, 64 KiB kernel pages).
 * tests/vm/guest/power-spapr-v1.sh runs it on Debian's in-tree 6.1 stack,
 * the reference, and on ours, and diffs the two outputs: every line is
 * deterministic (no addresses, no pids) and names the values it checked.
 *
 * The wanted values are what Debian's 6.1 in-tree backend gave, measured
 * in that guest (the "6.1:" notes say where they come from).  One
 * process, one sequence: the backend's state (enabled, mappings, the mm
 * it charged) carries from each step to the next.
 *
 *   spapr_tce_v1 intree|ours   every check, one "ok"/"FAIL" line each
 * The stack's name matters only where ours differs from 6.1 on purpose
 * (check_ret_differs(), and docs/vfio-uapi.md): each stack must give its
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

#define TCE_PAGE	0x1000ULL	/* the window's IOMMU page size */

/* Bus addresses the test maps, all below edu's 28-bit DMA limit. */
#define IOVA_SRC	0x100000ULL
#define IOVA_DST	0x200000ULL
#define IOVA_SUB	0x300000ULL
#define IOVA_RO		0x400000ULL
#define IOVA_GONE	0x500000ULL
#define IOVA_SPARE	0x600000ULL
#define IOVA_TWICE	0x700000ULL

static struct vfio_dev d;
static size_t page;		/* the kernel's PAGE_SIZE: 64 KiB */

/* Not __vfio_dma_map(): its caller cannot tell a positive return. */
static long map(void *vaddr, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = flags, .vaddr = (uintptr_t)vaddr,
		.iova = iova, .size = size,
	};

	return ioctl_ret(d.container, VFIO_IOMMU_MAP_DMA, &m);
}

static long set_iommu(int type)
{
	return ioctl_ret(d.container, VFIO_SET_IOMMU, (void *)(long)type);
}

#define RW	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)

/* UNMAP_DMA with the struct kept, to see what the kernel wrote back. */
static long unmap_raw(struct vfio_iommu_type1_dma_unmap *u, uint64_t iova,
		      uint64_t size, uint32_t flags)
{
	*u = (struct vfio_iommu_type1_dma_unmap){
		.argsz = sizeof(*u), .flags = flags, .iova = iova, .size = size,
	};
	return ioctl_ret(d.container, VFIO_IOMMU_UNMAP_DMA, u);
}

static long unmap(uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u;

	return unmap_raw(&u, iova, size, 0);
}

/* The growth of VmLck since base, in KiB. */
static long vmlck_delta(long base)
{
	return locked_vm_kb(0) - base;
}

/* --- the device's 4 KiB buffer, through a scratch mapping ------------------ */

static uint8_t *scratch;	/* one page, mapped at IOVA_SPARE when in use */

/* Put n bytes of p at the start of edu's buffer; false on failure. */
static bool device_load(const uint8_t *p, size_t n)
{
	bool ok;

	memcpy(scratch, p, n);
	if (map(scratch, IOVA_SPARE, page, RW))
		return false;
	ok = !__edu_dma(&d, IOVA_SPARE, 0, n, false);
	return !unmap(IOVA_SPARE, page) && ok;
}

static bool device_read(uint8_t *p, size_t n)
{
	bool ok;

	memset(scratch, 0, n);
	if (map(scratch, IOVA_SPARE, page, RW))
		return false;
	ok = !__edu_dma(&d, IOVA_SPARE, 0, n, true);
	memcpy(p, scratch, n);
	return !unmap(IOVA_SPARE, page) && ok;
}

/* --- the checks, in order ---------------------------------------------------- */

static void check_device_and_group(void)
{
	char link[256] = "", path[128];
	const char *driver;
	uint32_t flags = 0;
	long ext;

	vfio_pci_find(EDU_VENDOR, EDU_DEVICE, d.bdf, sizeof(d.bdf));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", d.bdf);
	if (readlink(path, link, sizeof(link) - 1) < 0)
		strcpy(link, "none");
	driver = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	report(!strcmp(driver, "vfio-pci"), "edu_bound", "%s driver %s", d.bdf, driver);
	d.group_id = vfio_iommu_group_of(d.bdf);

	d.container = vfio_container_open();
	check_u64("api_version", "version", ioctl(d.container, VFIO_GET_API_VERSION),
		  VFIO_API_VERSION);
	ext = ioctl(d.container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU);
	check_u64("check_extension_v1", "ret", ext, 1);
	/* 6.1: asked of every registered backend; type1 is not loaded here. */
	ext = ioctl(d.container, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU);
	check_u64("check_extension_v2", "ret", ext, 1);
	ext = ioctl(d.container, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU);
	check_u64("check_extension_type1v2", "ret", ext, 0);
	/* qemu's pseries under TCG: no EEH for this PE, so 0. */
	ext = ioctl(d.container, VFIO_CHECK_EXTENSION, VFIO_EEH);
	check_u64("check_extension_eeh", "ret", ext, 0);

	d.group = vfio_group_open(d.group_id);
	if (__vfio_group_status(d.group, &flags))
		flags = ~0u;
	check_u64("group_viable", "flags", flags, VFIO_GROUP_FLAGS_VIABLE);
	vfio_group_set_container(d.group, d.container);
	__vfio_group_status(d.group, &flags);
	check_u64("group_container_set", "flags", flags,
		  VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);
}

/* 6.1: v2 wants a group with table-group ops, which pseries has not. */
static void check_set_iommu(void)
{
	check_ret("set_iommu_v2_refused", set_iommu(VFIO_SPAPR_TCE_v2_IOMMU),
		    -EPERM);
	check_ret("set_iommu_v1", set_iommu(VFIO_SPAPR_TCE_IOMMU), 0);
	/* 6.1's container: an IOMMU is set already. */
	check_ret("set_iommu_v1_again", set_iommu(VFIO_SPAPR_TCE_IOMMU),
		    -EINVAL);
	d.device = vfio_group_get_device_fd(d.group, d.bdf);
	vfio_dev_map_bar0(&d);
	check_u64("edu_id", "id", edu_read32(&d, EDU_REG_ID), EDU_ID_VALUE);
}

static struct vfio_iommu_spapr_tce_info info;

/* Without EEH the group has no PE to operate on. */
static void check_eeh(void)
{
	struct vfio_eeh_pe_op op = { .argsz = sizeof(op), .op = VFIO_EEH_PE_GET_STATE };

	check_ret("eeh_pe_get_state", ioctl_ret(d.container, VFIO_EEH_PE_OP, &op), -ENODEV);
}

static void check_get_info(void)
{
	struct vfio_iommu_spapr_tce_info in;
	size_t minsz = offsetofend(struct vfio_iommu_spapr_tce_info, dma32_window_size);
	long r;

	/* The whole struct: ddw is written too (zeros for v1), argsz kept. */
	memset(&info, 0xa5, sizeof(info));
	info.argsz = sizeof(info);
	r = ioctl_ret(d.container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &info);
	check_ret("get_info", r, 0);
	printf("# get_info: argsz=%u flags=0x%x dma32_window_start=0x%x dma32_window_size=0x%x "
	       "ddw.pgsizes=0x%llx ddw.max_dynamic_windows_supported=%u ddw.levels=%u\n",
	       info.argsz, info.flags, info.dma32_window_start, info.dma32_window_size,
	       (unsigned long long)info.ddw.pgsizes, info.ddw.max_dynamic_windows_supported,
	       info.ddw.levels);
	check_u64("get_info_argsz", "argsz", info.argsz, sizeof(info));
	check_u64("get_info_flags", "flags", info.flags, 0);
	check_u64("get_info_window_start", "dma32_window_start", info.dma32_window_start, 0);
	check_u64("get_info_window_size", "dma32_window_size", info.dma32_window_size, SZ_1G);
	check_u64("get_info_ddw_pgsizes", "ddw.pgsizes", info.ddw.pgsizes, 0);
	check_u64("get_info_ddw_windows", "ddw.max_dynamic_windows_supported",
		  info.ddw.max_dynamic_windows_supported, 0);
	check_u64("get_info_ddw_levels", "ddw.levels", info.ddw.levels, 0);

	/* Only the v1 part asked for: ddw untouched. */
	memset(&in, 0xa5, sizeof(in));
	in.argsz = minsz;
	r = ioctl_ret(d.container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &in);
	check_ret("get_info_v1_part", r, 0);
	check_u64("get_info_v1_part_window_size", "dma32_window_size", in.dma32_window_size,
		  info.dma32_window_size);
	check_u64("get_info_v1_part_ddw_untouched", "ddw.levels", in.ddw.levels, 0xa5a5a5a5);

	memset(&in, 0, sizeof(in));
	in.argsz = minsz - 1;
	check_ret("get_info_short_argsz", ioctl_ret(d.container, VFIO_IOMMU_SPAPR_TCE_GET_INFO, &in),
		    -EINVAL);
}

static long vmlck_start, pins_start;

static void check_before_enable(uint8_t *buf)
{
	vmlck_start = locked_vm_kb(0);
	pins_start = foll_pins_held();
	check_ret("map_before_enable", map(buf, IOVA_SRC, page, RW), -EPERM);
	check_ret("unmap_before_enable", unmap(IOVA_SRC, page), -EPERM);
	check_ret("disable_before_enable", ioctl_ret(d.container, VFIO_IOMMU_DISABLE, NULL), 0);
}

/* 6.1: ENABLE charges the whole window to locked_vm, once. */
static void check_enable(void)
{
	check_ret("enable", ioctl_ret(d.container, VFIO_IOMMU_ENABLE, NULL), 0);
	check_long("enable_vmlck", "VmLck_kB_delta", vmlck_delta(vmlck_start),
		  info.dma32_window_size / 1024);
	check_ret("enable_again", ioctl_ret(d.container, VFIO_IOMMU_ENABLE, NULL), -EBUSY);
	check_long("enable_again_vmlck", "VmLck_kB_delta", vmlck_delta(vmlck_start),
		  info.dma32_window_size / 1024);
}

/* RAM -> device -> RAM through two mappings, count bytes at off in each. */
static void check_round_trip(const char *name, uint8_t *src, uint64_t src_iova,
			     uint8_t *dst, uint64_t dst_iova, uint32_t off, uint32_t count)
{
	bool ok = !__edu_dma(&d, src_iova + off, 0, count, false) &&
		  !__edu_dma(&d, dst_iova + off, 0, count, true);

	if (!ok) {
		report(false, name, "edu DMA timed out");
		return;
	}
	report(!memcmp(src + off, dst + off, count) && all_bytes(dst, off, 0xee) &&
	       all_bytes(dst + off + count, page - off - count, 0xee),
	       name, "%u bytes at +0x%x, %s", count, off,
	       !memcmp(src + off, dst + off, count) ? "data matches, nothing around it"
						     : "data differs");
}

static void check_map_and_dma(uint8_t *src, uint8_t *dst)
{
	long pins;

	fill_pattern(src, page, 1);
	memset(dst, 0xee, page);
	check_ret("map_src", map(src, IOVA_SRC, page, RW), 0);
	check_ret("map_dst", map(dst, IOVA_DST, page, RW), 0);
	/* 6.1: one pin per TCE, so a 64 KiB page is pinned 16 times. */
	pins = foll_pins_held() - pins_start;
	check_long("map_pins", "pins", pins, 2 * page / TCE_PAGE);
	check_long("map_vmlck", "VmLck_kB_delta", vmlck_delta(vmlck_start),
		  info.dma32_window_size / 1024);
	check_round_trip("dma_round_trip", src, IOVA_SRC, dst, IOVA_DST, 0, EDU_DMA_MAX);
	/* Across a TCE boundary inside one 64 KiB page: two TCEs, in order. */
	memset(dst, 0xee, page);
	check_round_trip("dma_round_trip_tce_boundary", src, IOVA_SRC, dst, IOVA_DST,
			 TCE_PAGE - 1000, 3000);
	/* The last bytes of the mapping. */
	memset(dst, 0xee, page);
	check_round_trip("dma_round_trip_page_end", src, IOVA_SRC, dst, IOVA_DST,
			 page - 2048, 2048);
}

/* A 4 KiB map from the middle of a 64 KiB page gives exactly that 4 KiB. */
static void check_sub_page_map(uint8_t *src)
{
	uint8_t back[2048];

	check_ret("map_sub_page", map(src + 5 * TCE_PAGE, IOVA_SUB, TCE_PAGE, RW), 0);
	if (!__edu_dma(&d, IOVA_SUB, 0, sizeof(back), false) && device_read(back, sizeof(back)))
		report(!memcmp(back, src + 5 * TCE_PAGE, sizeof(back)), "dma_sub_page",
		       "device read the 6th 4 KiB of the page: %s",
		       !memcmp(back, src + 5 * TCE_PAGE, sizeof(back)) ? "yes" : "no");
	else
		report(false, "dma_sub_page", "edu DMA failed");
	check_ret("unmap_sub_page", unmap(IOVA_SUB, TCE_PAGE), 0);
}

/*
 * Arguments 6.1 refuses, each with its errno, and the ones it lets
 * through; pins says nothing was left pinned behind a refusal.
 */
static void check_bad_map_args(uint8_t *buf)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = offsetofend(struct vfio_iommu_type1_dma_map, size) - 1,
		.flags = RW, .vaddr = (uintptr_t)buf, .iova = IOVA_SPARE, .size = page,
	};
	uint64_t end = info.dma32_window_start + (uint64_t)info.dma32_window_size;
	long pins = foll_pins_held();
	void *gone;

	check_ret("map_short_argsz", ioctl_ret(d.container, VFIO_IOMMU_MAP_DMA, &m), -EINVAL);
	/*
	 * 6.1: iommu_tce_put_param_check() is a macro that ORs the window
	 * and alignment checks, so a misaligned iova is refused with a
	 * return value of 1, not an errno; nothing is mapped.  Ours: EINVAL.
	 */
	check_ret_differs("map_unaligned_iova", map(buf, IOVA_SPARE + 0x800, TCE_PAGE, RW),
			  1, -EINVAL);
	check_ret("map_unaligned_vaddr", map(buf + 0x800, IOVA_SPARE, TCE_PAGE, RW), -EINVAL);
	check_ret("map_unaligned_size", map(buf, IOVA_SPARE, 0x800, RW), -EINVAL);
	/* 6.1: zero TCEs to build is a success. */
	check_ret("map_size_zero", map(buf, IOVA_SPARE, 0, RW), 0);
	/* 6.1: no window holds that bus address. */
	check_ret("map_past_window", map(buf, end, TCE_PAGE, RW), -ENXIO);
	/*
	 * 6.1 checks only the first TCE against the window; H_PUT_TCE then
	 * refuses the second with H_PARAMETER (-4), which reaches user space
	 * as -4, EINTR, after the first is undone.  Ours checks the whole
	 * range first: EINVAL, nothing written.
	 */
	check_ret_differs("map_across_window_end",
			  map(buf, end - TCE_PAGE, 2 * TCE_PAGE, RW), -EINTR, -EINVAL);
	check_ret("map_unknown_flag", map(buf, IOVA_SPARE, TCE_PAGE, RW | (1u << 2)), -EINVAL);
	check_ret("map_no_direction", map(buf, IOVA_SPARE, TCE_PAGE, 0), -EINVAL);
	gone = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(gone, page);
	check_ret("map_unmapped_vaddr", map(gone, IOVA_SPARE, TCE_PAGE, RW), -EFAULT);
	check_long("map_refused_pins", "pins", foll_pins_held() - pins, 0);
}

/*
 * 6.1 maps over a live TCE without a word: the new page replaces the old
 * one, whose pin is dropped.
 */
static void check_map_twice(uint8_t *a, uint8_t *b)
{
	uint8_t back[2048];
	long pins;

	fill_pattern(a, TCE_PAGE, 21);
	fill_pattern(b, TCE_PAGE, 22);
	check_ret("map_once", map(a, IOVA_TWICE, TCE_PAGE, RW), 0);
	pins = foll_pins_held();
	check_ret("map_twice", map(b, IOVA_TWICE, TCE_PAGE, RW), 0);
	check_long("map_twice_pins", "pins", foll_pins_held() - pins, 0);
	if (!__edu_dma(&d, IOVA_TWICE, 0, sizeof(back), false) && device_read(back, sizeof(back)))
		report(!memcmp(back, b, sizeof(back)), "map_twice_replaces",
		       "device reads the %s page",
		       !memcmp(back, b, sizeof(back)) ? "second" :
		       !memcmp(back, a, sizeof(back)) ? "first" : "neither");
	else
		report(false, "map_twice_replaces", "edu DMA failed");
	/*
	 * 6.1: as for MAP_DMA, a misaligned iova returns 1 (the ORed checks
	 * of iommu_tce_clear_param_check()) and clears nothing.  Ours: EINVAL.
	 */
	pins = foll_pins_held();
	check_ret_differs("unmap_unaligned_iova", unmap(IOVA_TWICE + 0x800, TCE_PAGE),
			  1, -EINVAL);
	check_long("unmap_unaligned_iova_pins", "pins", foll_pins_held() - pins, 0);
	memset(back, 0, sizeof(back));
	if (!__edu_dma(&d, IOVA_TWICE, 0, sizeof(back), false) && device_read(back, sizeof(back)))
		report(!memcmp(back, b, sizeof(back)), "unmap_unaligned_iova_still_mapped",
		       "device reads %s", !memcmp(back, b, sizeof(back)) ? "the page" : "something else");
	else
		report(false, "unmap_unaligned_iova_still_mapped", "edu DMA failed");
	check_ret("unmap_twice_page", unmap(IOVA_TWICE, TCE_PAGE), 0);
}

static void check_bad_unmap_args(void)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = offsetofend(struct vfio_iommu_type1_dma_unmap, size) - 1,
		.iova = IOVA_SPARE, .size = TCE_PAGE,
	};
	uint64_t end = info.dma32_window_start + (uint64_t)info.dma32_window_size;

	check_ret("unmap_short_argsz", ioctl_ret(d.container, VFIO_IOMMU_UNMAP_DMA, &u), -EINVAL);
	check_ret("unmap_unaligned_size", unmap(IOVA_SPARE, 0x800), -EINVAL);
	check_ret("unmap_past_window", unmap(end, TCE_PAGE), -ENXIO);
	check_ret("unmap_unknown_flag", unmap_raw(&u, IOVA_SPARE, TCE_PAGE, 1u << 1), -EINVAL);
	/*
	 * Nothing mapped there: 6.1 succeeds and leaves size as passed (it
	 * never writes the struct back; type1 would say 0 bytes).
	 */
	check_ret("unmap_not_mapped", unmap_raw(&u, IOVA_SPARE, page, 0), 0);
	check_u64("unmap_not_mapped_size", "size", u.size, page);
}

/* READ only: the device may read the pages, its writes are dropped. */
static void check_read_only(uint8_t *ro)
{
	uint8_t pattern[2048], back[2048];

	fill_pattern(pattern, sizeof(pattern), 7);
	memset(ro, 0x11, page);
	if (!device_load(pattern, sizeof(pattern))) {
		report(false, "dma_read_only_blocks_write", "could not load the device");
		return;
	}
	check_ret("map_read_only", map(ro, IOVA_RO, page, VFIO_DMA_MAP_FLAG_READ), 0);
	__edu_dma(&d, IOVA_RO, 0, sizeof(pattern), true);
	report(all_bytes(ro, page, 0x11), "dma_read_only_blocks_write", "buffer %s",
	       all_bytes(ro, page, 0x11) ? "unchanged" : "written");
	__edu_dma(&d, IOVA_RO, 0, sizeof(pattern), false);
	device_read(back, sizeof(back));
	report(all_bytes(back, sizeof(back), 0x11), "dma_read_only_allows_read", "device got %s",
	       all_bytes(back, sizeof(back), 0x11) ? "the buffer" : "something else");
	check_ret("unmap_read_only", unmap(IOVA_RO, page), 0);
}

/* After UNMAP_DMA the device reaches nothing at that bus address. */
static void check_unmap_blocks(uint8_t *buf)
{
	struct vfio_iommu_type1_dma_unmap u;
	uint8_t pattern[2048], back[2048];
	const char *what;
	long r;

	fill_pattern(pattern, sizeof(pattern), 9);
	memset(buf, 0x77, page);
	check_ret("map_then_unmap", map(buf, IOVA_GONE, page, RW), 0);
	r = unmap_raw(&u, IOVA_GONE, page, 0);
	check_ret("unmap", r, 0);
	check_u64("unmap_size", "size", u.size, page);
	check_u64("unmap_flags", "flags", u.flags, 0);

	/* device -> RAM: the buffer keeps its 0x77s. */
	if (!device_load(pattern, sizeof(pattern))) {
		report(false, "dma_write_after_unmap_blocked", "could not load the device");
		return;
	}
	__edu_dma(&d, IOVA_GONE, 0, sizeof(pattern), true);
	report(all_bytes(buf, page, 0x77), "dma_write_after_unmap_blocked", "buffer %s",
	       all_bytes(buf, page, 0x77) ? "unchanged" : "written");

	/* RAM -> device: the device must not get the 0x77s. */
	__edu_dma(&d, IOVA_GONE, 0, sizeof(pattern), false);
	device_read(back, sizeof(back));
	what = !memcmp(back, pattern, sizeof(back)) ? "unchanged" :
	       all_bytes(back, sizeof(back), 0x77) ? "got the data" :
	       all_bytes(back, sizeof(back), 0x00) ? "all zeros" :
	       all_bytes(back, sizeof(back), 0xff) ? "all ones" : "other";
	report(strcmp(what, "got the data") && strcmp(what, "other"),
	       "dma_read_after_unmap_blocked", "device buffer %s", what);
}

static void check_unmap_all_and_disable(void)
{
	struct vfio_iommu_type1_dma_unmap u;

	check_ret("unmap_src", unmap(IOVA_SRC, page), 0);
	/* One call over a range only partly mapped (dst, then nothing). */
	check_ret("unmap_partly_mapped", unmap_raw(&u, IOVA_DST, 2 * page, 0), 0);
	check_u64("unmap_partly_mapped_size", "size", u.size, 2 * page);
	check_long("unmap_pins", "pins", foll_pins_held() - pins_start, 0);

	check_ret("disable", ioctl_ret(d.container, VFIO_IOMMU_DISABLE, NULL), 0);
	check_long("disable_vmlck", "VmLck_kB_delta", vmlck_delta(vmlck_start), 0);
	check_ret("disable_again", ioctl_ret(d.container, VFIO_IOMMU_DISABLE, NULL), 0);
	check_ret("map_after_disable", map(scratch, IOVA_SPARE, page, RW), -EPERM);
	/* Enabled again and closed enabled: the release gives it all back. */
	check_ret("enable_after_disable", ioctl_ret(d.container, VFIO_IOMMU_ENABLE, NULL), 0);
	check_long("enable_after_disable_vmlck", "VmLck_kB_delta", vmlck_delta(vmlck_start),
		  info.dma32_window_size / 1024);
	check_ret("map_before_close", map(scratch, IOVA_SPARE, page, RW), 0);
	vfio_dev_close(&d);
	check_long("close_vmlck", "VmLck_kB_delta", vmlck_delta(vmlck_start), 0);
	check_long("close_pins", "pins", foll_pins_held() - pins_start, 0);
}

int main(int argc, char **argv)
{
	uint8_t *src, *dst, *ro, *gone;

	if (argc != 2 || (strcmp(argv[1], "ours") && strcmp(argv[1], "intree"))) {
		fprintf(stderr, "usage: spapr_tce_v1 intree|ours\n");
		return 2;
	}
	report_ours = !strcmp(argv[1], "ours");
	setvbuf(stdout, NULL, _IOLBF, 0);
	page = sysconf(_SC_PAGESIZE);
	printf("# spapr_tce_v1: page size %zu, TCE page %llu\n", page, TCE_PAGE);
	src = alloc_buffer(page);
	dst = alloc_buffer(page);
	ro = alloc_buffer(page);
	gone = alloc_buffer(page);
	scratch = alloc_buffer(page);

	check_device_and_group();
	check_set_iommu();
	check_eeh();
	check_get_info();
	check_before_enable(src);
	check_enable();
	check_map_and_dma(src, dst);
	check_sub_page_map(src);
	check_bad_map_args(gone);
	check_map_twice(ro, gone);
	check_bad_unmap_args();
	check_read_only(ro);
	check_unmap_blocks(gone);
	check_unmap_all_and_disable();

	printf("# spapr_tce_v1: %d check(s) failed\n", report_failures);
	return report_failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
