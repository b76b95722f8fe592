// SPDX-License-Identifier: GPL-2.0
/*
 * TCEs: VFIO_IOMMU_MAP_DMA writes them, VFIO_IOMMU_UNMAP_DMA clears them.
 *
 * v1 pins one system page per TCE at map time and unpins it at clear.
 * v2 pins nothing here: the memory was pinned when it was pre-registered
 * (spapr_tce_prereg.c), a TCE only counts as a user of its region
 * (mm_iommu_mapped_inc) so the region cannot be unregistered under it,
 * and the table's userspace view (it_userspace) remembers which user
 * address each TCE came from, to find the region again at clear.
 *
 * The checks run in 6.1's order, so a bad argument gets 6.1's errno.
 */
#include <linux/mm.h>
#include <linux/uaccess.h>

#include <asm/mmu_context.h>

#include <vfioscope/vfio.h>

#include "spapr_tce.h"
#include "vfio_dma_op.h"

/*
 * A TCE must not reach past the page it was pinned from: with 4 KiB TCEs
 * on 64 KiB pages that always holds; a 16 MiB TCE needs a 16 MiB page.
 */
static bool tce_page_is_contained(struct mm_struct *mm, unsigned long hpa,
				  unsigned int it_page_shift)
{
	unsigned long size = 0;

	if (mm_iommu_is_devmem(mm, hpa, it_page_shift, &size))
		return size == (1UL << it_page_shift);
	return page_shift(compound_head(pfn_to_page(hpa >> PAGE_SHIFT))) >=
	       it_page_shift;
}

/* v2: the TCE at @entry no longer uses its pre-registered region. */
static void tce_unuse_v2(struct tce_container *c, struct iommu_table *tbl,
			 unsigned long entry)
{
	__be64 *pua = IOMMU_TABLE_USERSPACE_ENTRY_RO(tbl, entry);
	struct tce_prereg *p;
	unsigned long hpa;

	if (!pua)
		return;
	/* Found: a region in use cannot be unregistered (tce_prereg_use). */
	p = tce_prereg_lookup(c, be64_to_cpu(*pua), tbl->it_page_shift, &hpa);
	if (p)
		tce_prereg_unuse(p);
	*pua = 0;
}

/* The (hardware) TCE at @entry was valid and held @hpa: let it go. */
static void tce_release_entry(struct tce_container *c, struct iommu_table *tbl,
			      unsigned long entry, unsigned long hpa)
{
	if (c->v2) {
		tce_unuse_v2(c, tbl, entry);
	} else {
		unpin_user_page(pfn_to_page(hpa >> PAGE_SHIFT));
		c->pins--;
	}
}

/*
 * Clear @pages TCEs from @entry (the platform dirties pages a device could
 * write).  Every entry is exchanged, valid or not, as 6.1 does: the table
 * is the hardware's, not a copy of ours.  A multi-level table skips the
 * levels never allocated: nothing was ever written there.
 */
void tce_clear(struct tce_container *c, struct iommu_table *tbl,
	       unsigned long entry, unsigned long pages, struct vfio_dma_op *op)
{
	unsigned long end = entry + pages, e;

	for (e = entry; e < end; e++) {
		enum dma_data_direction dir = DMA_NONE;
		unsigned long old = 0;

		if (tbl->it_indirect_levels && tbl->it_userspace &&
		    !IOMMU_TABLE_USERSPACE_ENTRY_RO(tbl, e)) {
			e |= tbl->it_level_size - 1;
			continue;
		}
		/* A whole window is 256K TCEs on pseries: let others run. */
		cond_resched();
		if (iommu_tce_xchg_no_kill(c->mm, tbl, e, &old, &dir) ||
		    dir == DMA_NONE)
			continue;
		tce_release_entry(c, tbl, e, old);
		c->tces--;
		if (op)
			op->npages++;
	}
	iommu_tce_kill(tbl, entry, pages);
}

/* Clear a whole window; returns the bytes that were mapped in it. */
u64 tce_clear_table(struct tce_container *c, struct iommu_table *tbl,
		    struct vfio_dma_op *op)
{
	unsigned long before = op->npages;

	tce_clear(c, tbl, tbl->it_offset, tbl->it_size, op);
	return (u64)(op->npages - before) << tbl->it_page_shift;
}

/* v1: pin the page under @ua; its physical address in @hpa. */
static int tce_pin_v1(struct tce_container *c, struct iommu_table *tbl,
		      unsigned long ua, enum dma_data_direction dir,
		      unsigned long *hpa)
{
	unsigned int gup = FOLL_LONGTERM |
			   (dir != DMA_TO_DEVICE ? FOLL_WRITE : 0);
	struct page *page;

	if (pin_user_pages_fast(ua & PAGE_MASK, 1, gup, &page) != 1)
		return -EFAULT;
	*hpa = page_to_phys(page);
	if (!tce_page_is_contained(c->mm, *hpa, tbl->it_page_shift)) {
		unpin_user_page(page);
		return -EPERM;
	}
	return 0;
}

/* v2: the page under @ua must be in a region this mm pre-registered. */
static int tce_use_v2(struct tce_container *c, struct iommu_table *tbl,
		      unsigned long ua, unsigned long *hpa,
		      struct tce_prereg **p)
{
	*p = tce_prereg_lookup(c, ua, tbl->it_page_shift, hpa);
	if (!*p)
		return -EINVAL;
	if (!tce_page_is_contained(c->mm, *hpa, tbl->it_page_shift))
		return -EPERM;
	/*
	 * -ENXIO: the region is being unregistered.  6.1 stops the map there
	 * and returns 0 with part of the range mapped; we refuse it whole.
	 */
	return tce_prereg_use(*p);
}

/*
 * Write @pages TCEs from @entry for user address @ua.  A TCE that was
 * valid is replaced and what it held released (6.1 allows a map over a
 * map).  On failure, what this call wrote is cleared again.
 */
static long tce_build(struct tce_container *c, struct iommu_table *tbl,
		      unsigned long entry, unsigned long ua,
		      unsigned long pages, enum dma_data_direction dir,
		      struct vfio_dma_op *op)
{
	unsigned long i;
	long ret = 0;

	for (i = 0; i < pages; i++, ua += IOMMU_PAGE_SIZE(tbl)) {
		enum dma_data_direction old = dir;
		struct tce_prereg *p = NULL;
		__be64 *pua = NULL;
		unsigned long hpa;

		if (c->v2) {
			pua = IOMMU_TABLE_USERSPACE_ENTRY(tbl, entry + i);
			if (!pua) {
				ret = -ENOMEM;
				break;
			}
		}
		vfio_dma_op_lap(op, NULL);
		ret = c->v2 ? tce_use_v2(c, tbl, ua, &hpa, &p) :
			      tce_pin_v1(c, tbl, ua, dir, &hpa);
		vfio_dma_op_lap(op, &op->pin_ns);
		if (ret)
			break;
		/* The TCE's offset inside the (larger) system page. */
		hpa |= ua & IOMMU_PAGE_MASK(tbl) & ~PAGE_MASK;
		ret = iommu_tce_xchg_no_kill(c->mm, tbl, entry + i, &hpa, &old);
		vfio_dma_op_lap(op, &op->iommu_ns);
		if (ret) {
			if (c->v2)
				tce_prereg_unuse(p);
			else
				unpin_user_page(pfn_to_page(hpa >> PAGE_SHIFT));
			pr_err_ratelimited("vfio-spapr-tce: TCE write failed, ioba 0x%lx: %ld\n",
					   (entry + i) << tbl->it_page_shift, ret);
			break;
		}
		/* hpa is what the entry held before, if it was valid. */
		if (old != DMA_NONE)
			tce_release_entry(c, tbl, entry + i, hpa);
		else
			c->tces++;
		if (c->v2)
			*pua = cpu_to_be64(ua);
		else
			c->pins++;
	}

	if (ret) {
		/* Undoing a failed map is part of it, not an unmap of its own. */
		tce_clear(c, tbl, entry, i, NULL);
		return ret;
	}
	iommu_tce_kill(tbl, entry, pages);
	op->npages = pages;
	return 0;
}

/* The table whose window holds bus address @ioba, or NULL. */
static struct iommu_table *tce_find_table(struct tce_container *c, u64 ioba)
{
	int i;

	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++) {
		struct iommu_table *tbl = c->tables[i];
		u64 entry;

		if (!tbl)
			continue;
		entry = ioba >> tbl->it_page_shift;
		if (entry >= tbl->it_offset &&
		    entry < tbl->it_offset + tbl->it_size)
			return tbl;
	}
	return NULL;
}

/* Map flags to the direction the device may use the memory in. */
static int tce_direction(u32 flags, enum dma_data_direction *dir)
{
	switch (flags & (VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)) {
	case VFIO_DMA_MAP_FLAG_READ:
		*dir = DMA_TO_DEVICE;
		return 0;
	case VFIO_DMA_MAP_FLAG_WRITE:
		*dir = DMA_FROM_DEVICE;
		return 0;
	case VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE:
		*dir = DMA_BIDIRECTIONAL;
		return 0;
	}
	return -EINVAL;
}

/*
 * Is [ioba, ioba + pages TCEs) inside @tbl's window, TCE-aligned?  6.1's
 * iommu_tce_{put,clear}_param_check() macros evaluate to 1, not an errno,
 * and 6.1 returns that 1 from the ioctl: here it is EINVAL.  And 6.1's map
 * checks the first TCE only, leaving the platform to refuse the first one
 * past the window after the others were written: here the whole range is
 * checked up front.
 */
static bool tce_range_ok(struct iommu_table *tbl, u64 ioba,
			 unsigned long pages)
{
	return !iommu_tce_check_ioba(tbl->it_page_shift, tbl->it_offset,
				     tbl->it_size, ioba, pages);
}

static long __tce_map(struct tce_container *c,
		      const struct vfio_iommu_type1_dma_map *map,
		      struct vfio_dma_op *op)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	enum dma_data_direction dir;
	struct iommu_table *tbl;
	unsigned long pages;
	int ret;

	if (map->argsz < minsz)
		return -EINVAL;
	if (map->flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -EINVAL;
	ret = tce_create_default_window(c);
	if (ret)
		return ret;
	tbl = tce_find_table(c, map->iova);
	if (!tbl)
		return -ENXIO;
	if ((map->size | map->vaddr) & ~IOMMU_PAGE_MASK(tbl))
		return -EINVAL;
	if (tce_direction(map->flags, &dir))
		return -EINVAL;
	pages = map->size >> tbl->it_page_shift;
	if (!tce_range_ok(tbl, map->iova, max(pages, 1UL)))
		return -EINVAL;
	return tce_build(c, tbl, map->iova >> tbl->it_page_shift, map->vaddr,
			 pages, dir, op);
}

long tce_ioctl_map(struct tce_container *c, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	struct vfio_iommu_type1_dma_map map = {};
	struct vfio_dma_op op = {};
	long ret = 0;

	vfio_dma_op_start(&op, trace_vfio_dma_map_enabled());
	if (copy_from_user(&map, (void __user *)arg, minsz))
		ret = -EFAULT;

	mutex_lock(&c->lock);
	/* 6.1 refuses a container not enabled before reading the argument. */
	if (!c->enabled)
		ret = -EPERM;
	else if (!ret)
		ret = __tce_map(c, &map, &op);
	tce_snapshot(c, &op);
	mutex_unlock(&c->lock);
	vfio_dma_op_trace(c->id, true, map.iova, map.size, map.flags, ret, &op);
	return ret;
}

/* @bytes: what was mapped in the range (its valid TCEs), for the event. */
static long __tce_unmap(struct tce_container *c,
			const struct vfio_iommu_type1_dma_unmap *unmap,
			struct vfio_dma_op *op, u64 *bytes)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_unmap,
					  size);
	struct iommu_table *tbl;
	unsigned long pages;
	int ret;

	if (unmap->argsz < minsz || unmap->flags)
		return -EINVAL;
	ret = tce_create_default_window(c);
	if (ret)
		return ret;
	tbl = tce_find_table(c, unmap->iova);
	if (!tbl)
		return -ENXIO;
	if (unmap->size & ~IOMMU_PAGE_MASK(tbl))
		return -EINVAL;
	pages = unmap->size >> tbl->it_page_shift;
	if (!tce_range_ok(tbl, unmap->iova, pages))
		return -EINVAL;
	vfio_dma_op_lap(op, NULL);
	tce_clear(c, tbl, unmap->iova >> tbl->it_page_shift, pages, op);
	/* Clearing is unpinning and writing at once: one phase, the IOMMU's. */
	vfio_dma_op_lap(op, &op->iommu_ns);
	*bytes = (u64)op->npages << tbl->it_page_shift;
	return 0;
}

/*
 * 6.1 does not write the unmapped size back: nor do we.  A range may hold
 * invalid TCEs (6.1 clears them without complaint); the event's size is
 * the bytes that were mapped.
 */
long tce_ioctl_unmap(struct tce_container *c, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_unmap,
					  size);
	struct vfio_iommu_type1_dma_unmap unmap = {};
	struct vfio_dma_op op = {};
	u64 bytes = 0;
	long ret = 0;

	vfio_dma_op_start(&op, trace_vfio_dma_unmap_enabled());
	if (copy_from_user(&unmap, (void __user *)arg, minsz))
		ret = -EFAULT;

	mutex_lock(&c->lock);
	if (!c->enabled)
		ret = -EPERM;
	else if (!ret)
		ret = __tce_unmap(c, &unmap, &op, &bytes);
	tce_snapshot(c, &op);
	mutex_unlock(&c->lock);
	vfio_dma_op_trace(c->id, false, unmap.iova, bytes, unmap.flags, ret,
			  &op);
	return ret;
}
