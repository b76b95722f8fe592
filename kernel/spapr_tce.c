// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_iommu_spapr_tce.ko: the IOMMU backend of vfioscope's vfio.ko for
 * IBM POWER, where a device's DMA goes through TCE tables (Translation
 * Control Entries: one IOMMU page of a bus address window each).
 *
 * v1 (VFIO_SPAPR_TCE_IOMMU), for groups whose platform gives no table-group
 * ops (qemu's pseries, PowerVM): the container takes the group's existing
 * tables (the 32-bit window, tce32_start/size).  VFIO_IOMMU_ENABLE charges
 * the whole window to the caller's locked_vm at once, as 6.1 does: POWER
 * maps and unmaps are too hot to account page by page, and the window is
 * the bound of what can be pinned.  MAP_DMA then pins one page per TCE
 * and writes the TCE; UNMAP_DMA clears TCEs and unpins.
 *
 * v2 (VFIO_SPAPR_TCE_v2_IOMMU), for groups with table-group ops (powernv's
 * IODA2), is not implemented yet: such a container is refused at attach
 * (EOPNOTSUPP).  Either version on the other kind of group is EPERM, as in
 * 6.1, which is what a client that probes v2 then v1 relies on.
 *
 * In-tree 6.1 is the reference for every errno.  Deliberate differences,
 * all on the safe side: MAP_DMA and UNMAP_DMA run under the container's
 * lock (6.1 takes none, so two threads could race on one TCE); pages are
 * pinned FOLL_LONGTERM (kept out of movable/CMA memory while a device can
 * reach them); a v1 container with a group never dereferences a missing
 * table-group ops when a second group is offered (6.1 can).
 *
 * MAP_DMA and UNMAP_DMA emit vfio_dma_map/vfio_dma_unmap, the same events
 * as type1 (kernel/vfio_dma_op.h): npages counts TCEs written or cleared,
 * entries the valid TCEs of the container after, pinned the page pins it
 * holds (one per valid TCE).  A group's detach clears its tables and emits
 * one vfio_dma_unmap with VFIO_TRACE_UNMAP_TEARDOWN.
 */
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <asm/iommu.h>
#include <asm/mmu_context.h>

#include <vfioscope/vfio.h>

#include "spapr_tce.h"
#include "vfio_dma_op.h"

#define DRIVER_DESC "vfioscope SPAPR TCE IOMMU backend"

/* A group of the container. */
struct tce_group {
	struct list_head next;		/* in tce_container.groups */
	struct iommu_group *iommu_group;
};

struct tce_container {
	struct mutex lock;		/* everything below */
	u32 id;				/* vfio.ko's container id, for tracing */
	bool v2;
	bool enabled;			/* v1: ENABLE done, window charged */
	unsigned long locked_pages;	/* charged to mm->locked_vm */
	struct mm_struct *mm;		/* the one mm allowed to use it (mmgrab) */
	struct list_head groups;	/* struct tce_group */
	/* v1: the group's own tables, borrowed while it is attached */
	struct iommu_table *tables[IOMMU_TABLE_GROUP_MAX_TABLES];
	/* for the trace events: valid TCEs, page pins, operations */
	u64 tces;
	u64 pins;
	u64 seq;
};

static struct iommu_table_group *tce_table_group(struct iommu_group *grp)
{
	return iommu_group_get_iommudata(grp);
}

/* The platform lets the container own the group's windows (IODA2). */
static bool tce_group_has_ops(const struct iommu_table_group *tg)
{
	return tg->ops && tg->ops->take_ownership && tg->ops->release_ownership;
}

static bool tce_groups_attached(const struct tce_container *c)
{
	return !list_empty(&c->groups);
}

static struct iommu_table_group *tce_first_table_group(struct tce_container *c)
{
	struct tce_group *g = list_first_entry_or_null(&c->groups,
						       struct tce_group, next);

	return g ? tce_table_group(g->iommu_group) : NULL;
}

/* The container belongs to the first mm that needed one; others: EPERM. */
static int tce_mm_set(struct tce_container *c)
{
	if (c->mm)
		return c->mm == current->mm ? 0 : -EPERM;
	if (!current->mm)
		return -ESRCH;
	c->mm = current->mm;
	mmgrab(c->mm);
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

static void tce_snapshot(struct tce_container *c, struct vfio_dma_op *op)
{
	lockdep_assert_held(&c->lock);
	op->seq = ++c->seq;
	op->pinned = c->pins;
	op->entries = min_t(u64, c->tces, U32_MAX);
}

/* ---- TCEs ----------------------------------------------------------------- */

static void tce_unpin(unsigned long hpa)
{
	unpin_user_page(pfn_to_page(hpa >> PAGE_SHIFT));
}

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

/*
 * Clear @pages TCEs from @entry, unpinning what they held (the platform
 * dirties pages a device could write).  Every entry is exchanged, valid or
 * not, as 6.1 does: the table is the hardware's, not a copy of ours.
 */
static void tce_clear(struct tce_container *c, struct iommu_table *tbl,
		      unsigned long entry, unsigned long pages,
		      struct vfio_dma_op *op)
{
	unsigned long i;

	for (i = 0; i < pages; i++) {
		enum dma_data_direction dir = DMA_NONE;
		unsigned long old = 0;

		/* A whole window is 256K TCEs on pseries: let others run. */
		cond_resched();
		if (iommu_tce_xchg_no_kill(c->mm, tbl, entry + i, &old, &dir) ||
		    dir == DMA_NONE)
			continue;
		tce_unpin(old);
		c->tces--;
		c->pins--;
		if (op)
			op->npages++;
	}
	iommu_tce_kill(tbl, entry, pages);
}

/*
 * Pin and write @pages TCEs from @entry for user address @ua.  A TCE that
 * was valid is replaced and its page unpinned (6.1 allows a map over a
 * map).  On failure, what this call wrote is cleared again.
 */
static long tce_build(struct tce_container *c, struct iommu_table *tbl,
		      unsigned long entry, unsigned long ua,
		      unsigned long pages, enum dma_data_direction dir,
		      struct vfio_dma_op *op)
{
	unsigned int gup = FOLL_LONGTERM |
			   (dir != DMA_TO_DEVICE ? FOLL_WRITE : 0);
	unsigned long i;
	long ret = 0;

	for (i = 0; i < pages; i++, ua += IOMMU_PAGE_SIZE(tbl)) {
		enum dma_data_direction old = dir;
		struct page *page;
		unsigned long hpa;

		vfio_dma_op_lap(op, NULL);
		if (pin_user_pages_fast(ua & PAGE_MASK, 1, gup, &page) != 1) {
			ret = -EFAULT;
			break;
		}
		hpa = page_to_phys(page);
		vfio_dma_op_lap(op, &op->pin_ns);
		if (!tce_page_is_contained(c->mm, hpa, tbl->it_page_shift)) {
			unpin_user_page(page);
			ret = -EPERM;
			break;
		}
		/* The TCE's offset inside the (larger) system page. */
		hpa |= ua & IOMMU_PAGE_MASK(tbl) & ~PAGE_MASK;
		ret = iommu_tce_xchg_no_kill(c->mm, tbl, entry + i, &hpa, &old);
		vfio_dma_op_lap(op, &op->iommu_ns);
		if (ret) {
			unpin_user_page(page);
			pr_err_ratelimited("vfio-spapr-tce: TCE write failed, ioba 0x%lx: %ld\n",
					   (entry + i) << tbl->it_page_shift, ret);
			break;
		}
		if (old != DMA_NONE) {
			tce_unpin(hpa);	/* hpa is the replaced entry now */
		} else {
			c->tces++;
			c->pins++;
		}
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

/* ---- ioctls ----------------------------------------------------------------- */

static long tce_ioctl_get_info(struct tce_container *c, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_spapr_tce_info,
					  dma32_window_size);
	unsigned long ddwsz = offsetofend(struct vfio_iommu_spapr_tce_info, ddw);
	struct vfio_iommu_spapr_tce_info info;
	struct iommu_table_group *tg;

	mutex_lock(&c->lock);
	tg = tce_first_table_group(c);
	mutex_unlock(&c->lock);
	if (!tg)
		return -ENXIO;
	if (copy_from_user(&info, (void __user *)arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	info.flags = 0;
	info.dma32_window_start = tg->tce32_start;
	info.dma32_window_size = tg->tce32_size;
	memset(&info.ddw, 0, sizeof(info.ddw));
	if (c->v2 && tg->max_dynamic_windows_supported) {
		info.flags |= VFIO_IOMMU_SPAPR_INFO_DDW;
		info.ddw.pgsizes = tg->pgsizes;
		info.ddw.max_dynamic_windows_supported =
			tg->max_dynamic_windows_supported;
		info.ddw.levels = tg->max_levels;
	}
	if (info.argsz >= ddwsz)
		minsz = ddwsz;
	return copy_to_user((void __user *)arg, &info, minsz) ? -EFAULT : 0;
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

/* The checks in 6.1's order, so the same bad argument gets the same errno. */
static long __tce_map(struct tce_container *c,
		      const struct vfio_iommu_type1_dma_map *map,
		      struct vfio_dma_op *op)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_type1_dma_map, size);
	enum dma_data_direction dir;
	struct iommu_table *tbl;

	if (map->argsz < minsz)
		return -EINVAL;
	if (map->flags & ~(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE))
		return -EINVAL;
	tbl = tce_find_table(c, map->iova);
	if (!tbl)
		return -ENXIO;
	if ((map->size | map->vaddr) & ~IOMMU_PAGE_MASK(tbl))
		return -EINVAL;
	if (tce_direction(map->flags, &dir))
		return -EINVAL;
	if (iommu_tce_put_param_check(tbl, map->iova, map->vaddr))
		return -EINVAL;
	/*
	 * 6.1 checks only that the first TCE is in the window; past its end
	 * the platform's xchg refuses, after the first TCEs were written.
	 * Refusing the whole range up front leaves nothing half done.
	 */
	if (iommu_tce_check_ioba(tbl->it_page_shift, tbl->it_offset,
				 tbl->it_size, map->iova,
				 map->size >> tbl->it_page_shift))
		return -EINVAL;
	return tce_build(c, tbl, map->iova >> tbl->it_page_shift, map->vaddr,
			 map->size >> tbl->it_page_shift, dir, op);
}

static long tce_ioctl_map(struct tce_container *c, unsigned long arg)
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

	if (unmap->argsz < minsz || unmap->flags)
		return -EINVAL;
	tbl = tce_find_table(c, unmap->iova);
	if (!tbl)
		return -ENXIO;
	if (unmap->size & ~IOMMU_PAGE_MASK(tbl))
		return -EINVAL;
	pages = unmap->size >> tbl->it_page_shift;
	if (iommu_tce_clear_param_check(tbl, unmap->iova, 0, pages))
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
static long tce_ioctl_unmap(struct tce_container *c, unsigned long arg)
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

/*
 * v1 ENABLE: charge the whole 32-bit window to locked_vm (see the top of
 * this file).  A container without a group cannot know its window.
 */
static long tce_enable(struct tce_container *c)
{
	struct iommu_table_group *tg;
	unsigned long pages;
	int ret;

	lockdep_assert_held(&c->lock);
	if (c->enabled)
		return -EBUSY;
	tg = tce_first_table_group(c);
	if (!tg)
		return -ENODEV;
	if (!tg->tce32_size)
		return -EPERM;
	ret = tce_mm_set(c);
	if (ret)
		return ret;

	pages = tg->tce32_size >> PAGE_SHIFT;
	ret = account_locked_vm(c->mm, pages, true);
	if (ret)
		return ret;
	c->locked_pages = pages;
	c->enabled = true;
	return 0;
}

static void tce_disable(struct tce_container *c)
{
	lockdep_assert_held(&c->lock);
	if (!c->enabled)
		return;
	c->enabled = false;
	account_locked_vm(c->mm, c->locked_pages, false);
	c->locked_pages = 0;
}

static long tce_ioctl(void *iommu_data, unsigned int cmd, unsigned long arg)
{
	struct tce_container *c = iommu_data;
	long ret;

	/* One process's container is not another's to drive. */
	if (c->mm && c->mm != current->mm)
		return -EPERM;

	switch (cmd) {
	case VFIO_IOMMU_SPAPR_TCE_GET_INFO:
		return tce_ioctl_get_info(c, arg);
	case VFIO_IOMMU_MAP_DMA:
		return tce_ioctl_map(c, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return tce_ioctl_unmap(c, arg);
	case VFIO_IOMMU_ENABLE:
		if (c->v2)
			break;
		mutex_lock(&c->lock);
		ret = tce_enable(c);
		mutex_unlock(&c->lock);
		return ret;
	case VFIO_IOMMU_DISABLE:
		if (c->v2)
			break;
		mutex_lock(&c->lock);
		tce_disable(c);
		mutex_unlock(&c->lock);
		return 0;
	case VFIO_EEH_PE_OP: {
		struct tce_group *g;

		ret = 0;
		mutex_lock(&c->lock);
		list_for_each_entry(g, &c->groups, next) {
			ret = spapr_tce_eeh_ioctl(g->iommu_group, arg);
			if (ret)
				break;
		}
		mutex_unlock(&c->lock);
		return ret;
	}
	}
	return -ENOTTY;
}

static int tce_check_extension(void *iommu_data, unsigned long arg)
{
	switch (arg) {
	case VFIO_SPAPR_TCE_IOMMU:
	case VFIO_SPAPR_TCE_v2_IOMMU:
		return 1;
	case VFIO_EEH:
		return spapr_tce_eeh_enabled();
	}
	return 0;
}

/* ---- groups ------------------------------------------------------------------- */

/* v1: borrow the group's own tables, which the platform stops using. */
static int tce_take_tables(struct tce_container *c,
			   struct iommu_table_group *tg)
{
	int i, j, ret;

	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++) {
		struct iommu_table *tbl = tg->tables[i];

		if (!tbl || !tbl->it_map)
			continue;
		ret = iommu_take_ownership(tbl);
		if (ret) {
			for (j = 0; j < i; j++)
				if (tg->tables[j] && tg->tables[j]->it_map)
					iommu_release_ownership(tg->tables[j]);
			return ret;
		}
	}
	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++)
		c->tables[i] = tg->tables[i];
	return 0;
}

/*
 * v1: clear every TCE of the borrowed tables and give them back.  Returns
 * the bytes that were mapped, for the teardown event.
 */
static u64 tce_return_tables(struct tce_container *c, struct vfio_dma_op *op)
{
	u64 bytes = 0;
	int i;

	lockdep_assert_held(&c->lock);
	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++) {
		struct iommu_table *tbl = c->tables[i];
		unsigned long before = op->npages;

		if (!tbl)
			continue;
		tce_clear(c, tbl, tbl->it_offset, tbl->it_size, op);
		bytes += (u64)(op->npages - before) << tbl->it_page_shift;
		if (tbl->it_map)
			iommu_release_ownership(tbl);
		c->tables[i] = NULL;
	}
	vfio_dma_op_lap(op, &op->iommu_ns);
	return bytes;
}

static int tce_attach_group(void *iommu_data, struct iommu_group *grp)
{
	struct tce_container *c = iommu_data;
	struct iommu_table_group *tg = tce_table_group(grp);
	struct tce_group *g, *new;
	int ret;

	if (!tg)
		return -ENODEV;

	mutex_lock(&c->lock);
	ret = -EBUSY;
	/* v1 is one group per container; a v2 group joins only its kind. */
	if (tce_groups_attached(c) && !tce_group_has_ops(tg))
		goto out_unlock;
	list_for_each_entry(g, &c->groups, next) {
		struct iommu_table_group *other = tce_table_group(g->iommu_group);

		if (g->iommu_group == grp)
			goto out_unlock;
		if (!tce_group_has_ops(other))
			goto out_unlock;
		if (other->ops->create_table != tg->ops->create_table) {
			ret = -EPERM;
			goto out_unlock;
		}
	}

	ret = -ENOMEM;
	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		goto out_unlock;

	if (!tce_group_has_ops(tg))
		ret = c->v2 ? -EPERM : tce_take_tables(c, tg);
	else if (!c->v2)
		ret = -EPERM;
	else
		ret = -EOPNOTSUPP; /* v2 windows: not implemented yet */
	if (ret) {
		kfree(new);
		goto out_unlock;
	}
	new->iommu_group = grp;
	list_add(&new->next, &c->groups);
out_unlock:
	mutex_unlock(&c->lock);
	return ret;
}

static void tce_detach_group(void *iommu_data, struct iommu_group *grp)
{
	struct tce_container *c = iommu_data;
	struct vfio_dma_op op = {};
	struct tce_group *g;
	u64 unmapped = 0;

	vfio_dma_op_start(&op, trace_vfio_dma_unmap_enabled());
	mutex_lock(&c->lock);
	list_for_each_entry(g, &c->groups, next) {
		if (g->iommu_group != grp)
			continue;
		list_del(&g->next);
		kfree(g);
		/* v1 only, so far: the group's tables go back with it. */
		unmapped = tce_return_tables(c, &op);
		break;
	}
	tce_snapshot(c, &op);
	mutex_unlock(&c->lock);
	if (unmapped)
		vfio_dma_op_trace(c->id, false, 0, unmapped,
				  VFIO_TRACE_UNMAP_TEARDOWN, 0, &op);
}

/* ---- containers ----------------------------------------------------------------- */

static void *tce_open(unsigned long arg, u32 container_id)
{
	struct tce_container *c;

	if (arg != VFIO_SPAPR_TCE_IOMMU && arg != VFIO_SPAPR_TCE_v2_IOMMU)
		return ERR_PTR(-EINVAL);
	c = kzalloc(sizeof(*c), GFP_KERNEL_ACCOUNT);
	if (!c)
		return ERR_PTR(-ENOMEM);
	mutex_init(&c->lock);
	INIT_LIST_HEAD(&c->groups);
	c->id = container_id;
	c->v2 = arg == VFIO_SPAPR_TCE_v2_IOMMU;
	return c;
}

static void tce_release(void *iommu_data)
{
	struct tce_container *c = iommu_data;
	struct tce_group *g;

	/* vfio.ko detaches every group first; this is only a safety net. */
	while ((g = list_first_entry_or_null(&c->groups, struct tce_group,
					     next)))
		tce_detach_group(c, g->iommu_group);

	mutex_lock(&c->lock);
	tce_disable(c);
	mutex_unlock(&c->lock);
	if (c->mm)
		mmdrop(c->mm);
	mutex_destroy(&c->lock);
	kfree(c);
}

static const struct vfio_iommu_driver_ops tce_iommu_ops = {
	.name = "vfio-iommu-spapr-tce",
	.owner = THIS_MODULE,
	.open = tce_open,
	.release = tce_release,
	.check_extension = tce_check_extension,
	.ioctl = tce_ioctl,
	.attach_group = tce_attach_group,
	.detach_group = tce_detach_group,
};

static int __init tce_iommu_init(void)
{
	return vfio_register_iommu_driver(&tce_iommu_ops);
}

static void __exit tce_iommu_exit(void)
{
	vfio_unregister_iommu_driver(&tce_iommu_ops);
}

module_init(tce_iommu_init);
module_exit(tce_iommu_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION(DRIVER_DESC);
