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
 * IODA2): memory is pre-registered (pinned and charged once,
 * spapr_tce_prereg.c), and the container creates its own DMA windows
 * (spapr_tce_window.c) shared by all its groups.  Either version on the
 * other kind of group is EPERM, as in 6.1, which is what a client that
 * probes v2 then v1 relies on.
 *
 * In-tree 6.1 is the reference for every errno.  Deliberate differences,
 * all on the safe side: MAP_DMA and UNMAP_DMA run under the container's
 * lock (6.1 takes none, so two threads could race on one TCE); pages are
 * pinned FOLL_LONGTERM (kept out of movable/CMA memory while a device can
 * reach them); a v1 container with a group never dereferences a missing
 * table-group ops when a second group is offered (6.1 can); a v2
 * UNREGISTER_MEMORY of a region still mapped is EBUSY (6.1 returns 0 and
 * loses the region, pinned until the process exits); the smaller ones
 * are with the code they concern (spapr_tce_map.c, _prereg.c, _window.c).
 *
 * MAP_DMA and UNMAP_DMA emit vfio_dma_map/vfio_dma_unmap, the same events
 * as type1 (kernel/vfio_dma_op.h): npages counts TCEs written or cleared,
 * entries the valid TCEs of the container after, pinned the page pins it
 * holds (v1: one per valid TCE; v2: the pages of its pre-registered
 * regions).  Clearing a whole window (a v1 group's detach, a v2 window's
 * removal, the container's release) emits one vfio_dma_unmap with
 * VFIO_TRACE_UNMAP_TEARDOWN.  v2's pre-registration and windows have
 * events of their own, vfio_spapr_prereg and vfio_spapr_window.
 */
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <vfioscope/vfio.h>
#include <vfioscope/version.h>

#include "spapr_tce.h"
#include "vfio_dma_op.h"

#define DRIVER_DESC "vfioscope SPAPR TCE IOMMU backend"

static bool tce_groups_attached(const struct tce_container *c)
{
	return !list_empty(&c->groups);
}

/*
 * The container belongs to the first mm that needed one; others: EPERM.
 * Set once, without the container's lock (ENABLE calls this under it,
 * REGISTER_MEMORY and the window ioctls before taking it), so two threads
 * racing to set it must agree: 6.1 could take two references and keep one.
 */
int tce_mm_set(struct tce_container *c)
{
	struct mm_struct *mm = READ_ONCE(c->mm);

	if (!mm) {
		if (!current->mm)
			return -ESRCH;
		mmgrab(current->mm);
		mm = cmpxchg(&c->mm, NULL, current->mm);
		if (!mm)
			return 0;
		mmdrop(current->mm);	/* another thread set it first */
	}
	return mm == current->mm ? 0 : -EPERM;
}

void tce_snapshot(struct tce_container *c, struct vfio_dma_op *op)
{
	lockdep_assert_held(&c->lock);
	op->seq = ++c->seq;
	op->pinned = c->pins;
	op->entries = min_t(u64, c->tces, U32_MAX);
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
	if (c->v2 || !c->enabled)
		return;
	c->enabled = false;
	account_locked_vm(c->mm, c->locked_pages, false);
	c->locked_pages = 0;
}

static long tce_ioctl_eeh(struct tce_container *c, unsigned long arg)
{
	struct tce_group *g;
	long ret = 0;

	mutex_lock(&c->lock);
	list_for_each_entry(g, &c->groups, next) {
		ret = spapr_tce_eeh_ioctl(g->iommu_group, arg);
		if (ret)
			break;
	}
	mutex_unlock(&c->lock);
	return ret;
}

/* ENOTTY for what the container's version does not have, as in 6.1. */
static long tce_ioctl(void *iommu_data, unsigned int cmd, unsigned long arg)
{
	struct tce_container *c = iommu_data;
	long ret;

	/* One process's container is not another's to drive. */
	if (READ_ONCE(c->mm) && READ_ONCE(c->mm) != current->mm)
		return -EPERM;

	switch (cmd) {
	case VFIO_IOMMU_SPAPR_TCE_GET_INFO:
		return tce_ioctl_get_info(c, arg);
	case VFIO_IOMMU_MAP_DMA:
		return tce_ioctl_map(c, arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return tce_ioctl_unmap(c, arg);
	case VFIO_EEH_PE_OP:
		return tce_ioctl_eeh(c, arg);
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
	case VFIO_IOMMU_SPAPR_REGISTER_MEMORY:
		if (!c->v2)
			break;
		return tce_ioctl_register_memory(c, arg);
	case VFIO_IOMMU_SPAPR_UNREGISTER_MEMORY:
		if (!c->v2)
			break;
		return tce_ioctl_unregister_memory(c, arg);
	case VFIO_IOMMU_SPAPR_TCE_CREATE:
		if (!c->v2)
			break;
		return tce_ioctl_create_window(c, arg);
	case VFIO_IOMMU_SPAPR_TCE_REMOVE:
		if (!c->v2)
			break;
		return tce_ioctl_remove_window(c, arg);
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

		if (!tbl)
			continue;
		bytes += tce_clear_table(c, tbl, op);
		if (tbl->it_map)
			iommu_release_ownership(tbl);
		c->tables[i] = NULL;
	}
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
	else
		ret = c->v2 ? tce_windows_take_group(c, tg) : -EPERM;
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
	struct iommu_table_group *tg = tce_table_group(grp);
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
		/* v1: the group's tables go back with it, cleared. */
		if (!tce_group_has_ops(tg))
			unmapped = tce_return_tables(c, &op);
		else
			tce_windows_release_group(c, tg);
		break;
	}
	vfio_dma_op_lap(&op, &op.iommu_ns);
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
	INIT_LIST_HEAD(&c->prereg);
	c->id = container_id;
	c->v2 = arg == VFIO_SPAPR_TCE_v2_IOMMU;
	return c;
}

/*
 * The container is going away, maybe from a killed process's exit: the
 * windows it created are cleared and freed, then its pre-registered
 * memory released, all charged back to the mm that made them.
 */
static void tce_release(void *iommu_data)
{
	struct tce_container *c = iommu_data;
	struct vfio_dma_op op = {};
	struct tce_group *g;
	u64 unmapped = 0;

	/* vfio.ko detaches every group first; this is only a safety net. */
	while ((g = list_first_entry_or_null(&c->groups, struct tce_group,
					     next)))
		tce_detach_group(c, g->iommu_group);

	vfio_dma_op_start(&op, trace_vfio_dma_unmap_enabled());
	mutex_lock(&c->lock);
	/* v2 only: a v1 container's tables went back with its group. */
	if (c->v2)
		unmapped = tce_windows_free_all(c, &op);
	tce_prereg_release_all(c);
	tce_disable(c);
	vfio_dma_op_lap(&op, &op.iommu_ns);
	tce_snapshot(c, &op);
	mutex_unlock(&c->lock);
	if (unmapped)
		vfio_dma_op_trace(c->id, false, 0, unmapped,
				  VFIO_TRACE_UNMAP_TEARDOWN, 0, &op);
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
MODULE_VERSION(VFIOSCOPE_MODULE_VERSION("0.1"));
MODULE_DESCRIPTION(DRIVER_DESC);
