// SPDX-License-Identifier: GPL-2.0
/*
 * v2: DMA windows.  On a platform with table-group ops (powernv's IODA2)
 * the container takes the groups' windows over: it creates TCE tables
 * (ops->create_table, charged to locked_vm by their size) and programs
 * each into every group (ops->set_window), up to
 * IOMMU_TABLE_GROUP_MAX_TABLES windows (DDW: dynamic DMA windows of any
 * supported page size, e.g. one big window of 64 KiB or 16 MiB TCEs over
 * all of RAM).  The default 32-bit window (4 KiB TCEs, tce32_size) is
 * created on first use unless user space removes it first (REMOVE at
 * bus address 0 while it is still pending), as 6.1 does.
 */
#include <linux/mm.h>
#include <linux/uaccess.h>

#include <vfioscope/vfio.h>

#include "spapr_tce.h"
#include "vfio_dma_op.h"

static int tce_find_free_table(struct tce_container *c)
{
	int i;

	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++)
		if (!c->tables[i])
			return i;
	return -ENOSPC;
}

static int tce_table_index(struct tce_container *c, u64 start)
{
	int i;

	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++) {
		struct iommu_table *tbl = c->tables[i];

		if (tbl && start >> tbl->it_page_shift >= tbl->it_offset &&
		    start >> tbl->it_page_shift < tbl->it_offset + tbl->it_size)
			return i;
	}
	return -1;
}

static void tce_free_table(struct tce_container *c, struct iommu_table *tbl)
{
	unsigned long pages = tbl->it_allocated_size >> PAGE_SHIFT;

	iommu_tce_table_put(tbl);
	account_locked_vm(c->mm, pages, false);
}

/* Create table @num with the first group's ops, charged to locked_vm. */
static long tce_new_table(struct tce_container *c,
			  struct iommu_table_group *tg, int num, u32 shift,
			  u64 size, u32 levels, struct iommu_table **ptbl)
{
	unsigned long bytes = tg->ops->get_table_size(shift, size, levels);
	long ret;

	if (!bytes)
		return -EINVAL;
	ret = account_locked_vm(c->mm, bytes >> PAGE_SHIFT, true);
	if (ret)
		return ret;
	ret = tg->ops->create_table(tg, num, shift, size, levels, ptbl);
	if (ret) {
		/*
		 * 6.1 keeps the charge here (until the process exits): IODA2
		 * sizes tables it then refuses to build, e.g. four levels of
		 * 4 KiB TCEs reach past its 55 bits.  Ours gives it back.
		 */
		account_locked_vm(c->mm, bytes >> PAGE_SHIFT, false);
		return ret;
	}
	/*
	 * tce_free_table() gives back it_allocated_size: charge exactly that
	 * (6.1 WARNs when it is larger than estimated, and leaves it so).
	 */
	if ((*ptbl)->it_allocated_size < bytes) {
		account_locked_vm(c->mm, (bytes - (*ptbl)->it_allocated_size) >>
				  PAGE_SHIFT, false);
	} else if ((*ptbl)->it_allocated_size > bytes) {
		ret = account_locked_vm(c->mm, ((*ptbl)->it_allocated_size -
						bytes) >> PAGE_SHIFT, true);
		if (ret) {
			account_locked_vm(c->mm, bytes >> PAGE_SHIFT, false);
			iommu_tce_table_put(*ptbl);
			*ptbl = NULL;
		}
	}
	return ret;
}

static long tce_create_window(struct tce_container *c, u32 shift, u64 size,
			      u32 levels, u64 *start)
{
	struct iommu_table_group *tg;
	struct iommu_table *tbl = NULL;
	struct tce_group *g;
	long ret;
	int num;

	lockdep_assert_held(&c->lock);
	num = tce_find_free_table(c);
	if (num < 0)
		return num;
	tg = tce_first_table_group(c);
	if (!tg)
		return -EFAULT;
	if (shift >= 64 || !(tg->pgsizes & (1ULL << shift)))
		return -EINVAL;
	if (!tg->ops->set_window || !tg->ops->unset_window ||
	    !tg->ops->get_table_size || !tg->ops->create_table)
		return -EPERM;

	ret = tce_new_table(c, tg, num, shift, size, levels, &tbl);
	if (ret)
		return ret;
	/* Groups were checked compatible (same create_table) at attach. */
	list_for_each_entry(g, &c->groups, next) {
		ret = tce_table_group(g->iommu_group)->ops->set_window(
			tce_table_group(g->iommu_group), num, tbl);
		if (ret)
			goto err_unset;
	}
	c->tables[num] = tbl;
	*start = (u64)tbl->it_offset << tbl->it_page_shift;
	return 0;

err_unset:
	list_for_each_entry(g, &c->groups, next)
		tce_table_group(g->iommu_group)->ops->unset_window(
			tce_table_group(g->iommu_group), num);
	tce_free_table(c, tbl);
	return ret;
}

/* @bytes: what was still mapped in the window, for the teardown event. */
static long tce_remove_window(struct tce_container *c, u64 start,
			      struct vfio_dma_op *op, u64 *bytes)
{
	struct iommu_table *tbl;
	struct tce_group *g;
	int num;

	lockdep_assert_held(&c->lock);
	num = tce_table_index(c, start);
	if (num < 0)
		return -EINVAL;
	tbl = c->tables[num];
	/* Some platforms keep the default window: 6.1's EPERM. */
	list_for_each_entry(g, &c->groups, next) {
		struct iommu_table_group *tg = tce_table_group(g->iommu_group);

		if (!tg->ops || !tg->ops->unset_window)
			return -EPERM;
	}
	list_for_each_entry(g, &c->groups, next) {
		struct iommu_table_group *tg = tce_table_group(g->iommu_group);

		tg->ops->unset_window(tg, num);
	}
	*bytes = tce_clear_table(c, tbl, op);
	tce_free_table(c, tbl);
	c->tables[num] = NULL;
	return 0;
}

static void tce_trace_window(struct tce_container *c, bool create, u64 start,
			     u32 shift, u64 size, u32 levels, long ret,
			     u64 start_ns)
{
	trace_vfio_spapr_window(c->id, create, start, size, shift, levels, ret,
				start_ns ? ktime_get_ns() - start_ns : 0);
}

/*
 * The default 32-bit window, on first use (MAP, UNMAP, CREATE).  Its event
 * is emitted here, under the lock, inside the operation that needed it.
 */
int tce_create_default_window(struct tce_container *c)
{
	struct iommu_table_group *tg;
	u64 start = 0, start_ns = 0;
	int ret;

	lockdep_assert_held(&c->lock);
	if (!c->def_window_pending)
		return 0;
	tg = tce_first_table_group(c);
	if (!tg)
		return -ENODEV;
	if (trace_vfio_spapr_window_enabled())
		start_ns = ktime_get_ns();
	ret = tce_create_window(c, IOMMU_PAGE_SHIFT_4K, tg->tce32_size, 1,
				&start);
	tce_trace_window(c, true, start, IOMMU_PAGE_SHIFT_4K, tg->tce32_size, 1,
			 ret, start_ns);
	if (!ret)
		c->def_window_pending = false;
	return ret;
}

/*
 * CREATE and REMOVE begin alike, in 6.1's order: the container becomes the
 * caller's mm's, must have a group, then the argument (whose first two
 * fields are argsz and flags in both) is copied and checked.
 */
struct tce_window_arg_head {
	__u32 argsz;
	__u32 flags;
};
static_assert(offsetof(struct vfio_iommu_spapr_tce_create, flags) ==
	      offsetof(struct tce_window_arg_head, flags));
static_assert(offsetof(struct vfio_iommu_spapr_tce_remove, flags) ==
	      offsetof(struct tce_window_arg_head, flags));

static long tce_window_args(struct tce_container *c, void *karg,
			    unsigned long arg, unsigned long minsz)
{
	struct tce_window_arg_head *head = karg;
	long ret;

	ret = tce_mm_set(c);
	if (ret)
		return ret;
	if (list_empty(&c->groups))
		return -ENXIO;
	if (copy_from_user(karg, (void __user *)arg, minsz))
		return -EFAULT;
	if (head->argsz < minsz || head->flags)
		return -EINVAL;
	return 0;
}

long tce_ioctl_create_window(struct tce_container *c, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_spapr_tce_create,
					  start_addr);
	struct vfio_iommu_spapr_tce_create create;
	u64 start_ns = 0;
	long ret;

	ret = tce_window_args(c, &create, arg, minsz);
	if (ret)
		return ret;

	if (trace_vfio_spapr_window_enabled())
		start_ns = ktime_get_ns();
	mutex_lock(&c->lock);
	ret = tce_create_default_window(c);
	if (!ret)
		ret = tce_create_window(c, create.page_shift, create.window_size,
					create.levels, &create.start_addr);
	mutex_unlock(&c->lock);
	tce_trace_window(c, true, ret ? 0 : create.start_addr,
			 create.page_shift, create.window_size, create.levels,
			 ret, start_ns);
	if (!ret && copy_to_user((void __user *)arg, &create, minsz))
		return -EFAULT;
	return ret;
}

long tce_ioctl_remove_window(struct tce_container *c, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_spapr_tce_remove,
					  start_addr);
	struct vfio_iommu_spapr_tce_remove remove;
	struct vfio_dma_op op = {};
	u64 start_ns = 0, unmapped = 0;
	u32 shift = 0;
	long ret;

	ret = tce_window_args(c, &remove, arg, minsz);
	if (ret)
		return ret;

	if (trace_vfio_spapr_window_enabled())
		start_ns = ktime_get_ns();
	vfio_dma_op_start(&op, trace_vfio_dma_unmap_enabled());
	mutex_lock(&c->lock);
	if (c->def_window_pending && !remove.start_addr) {
		/* Never created: user space does not want it. */
		c->def_window_pending = false;
		ret = 0;
	} else {
		int num = tce_table_index(c, remove.start_addr);

		if (num >= 0)
			shift = c->tables[num]->it_page_shift;
		ret = tce_remove_window(c, remove.start_addr, &op, &unmapped);
	}
	vfio_dma_op_lap(&op, &op.iommu_ns);
	tce_snapshot(c, &op);
	mutex_unlock(&c->lock);
	/* TCEs still valid in a removed window went with it: a teardown. */
	if (unmapped)
		vfio_dma_op_trace(c->id, false, remove.start_addr, unmapped,
				  VFIO_TRACE_UNMAP_TEARDOWN, 0, &op);
	tce_trace_window(c, false, remove.start_addr, shift, 0, 0, ret,
			 start_ns);
	return ret;
}

/*
 * A group joins a v2 container: the platform hands its windows over and
 * every window the container already has is programmed into it.
 */
int tce_windows_take_group(struct tce_container *c,
			   struct iommu_table_group *tg)
{
	long ret = 0;
	int i;

	lockdep_assert_held(&c->lock);
	if (!tg->ops->create_table || !tg->ops->set_window ||
	    !tg->ops->unset_window)
		return -EFAULT;	/* 6.1's errno for a platform without them */

	tg->ops->take_ownership(tg);
	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++) {
		if (!c->tables[i])
			continue;
		ret = tg->ops->set_window(tg, i, c->tables[i]);
		if (ret)
			break;
	}
	if (ret) {
		for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++)
			tg->ops->unset_window(tg, i);
		tg->ops->release_ownership(tg);
		return ret;
	}
	if (list_empty(&c->groups) && !c->tables[0])
		c->def_window_pending = true;
	return 0;
}

/* A group leaves a v2 container: the tables stay the container's. */
void tce_windows_release_group(struct tce_container *c,
			       struct iommu_table_group *tg)
{
	int i;

	lockdep_assert_held(&c->lock);
	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++)
		if (c->tables[i])
			tg->ops->unset_window(tg, i);
	tg->ops->release_ownership(tg);
}

/*
 * The container's release: clear and free the tables it created.  Returns
 * the bytes that were still mapped, for the teardown event.
 */
u64 tce_windows_free_all(struct tce_container *c, struct vfio_dma_op *op)
{
	u64 bytes = 0;
	int i;

	lockdep_assert_held(&c->lock);
	for (i = 0; i < IOMMU_TABLE_GROUP_MAX_TABLES; i++) {
		struct iommu_table *tbl = c->tables[i];

		if (!tbl)
			continue;
		bytes += tce_clear_table(c, tbl, op);
		tce_free_table(c, tbl);
		c->tables[i] = NULL;
	}
	return bytes;
}
