// SPDX-License-Identifier: GPL-2.0
/*
 * v2: memory pre-registration.  VFIO_IOMMU_SPAPR_REGISTER_MEMORY pins a
 * user range once, charges it to locked_vm and records its physical pages
 * (the powerpc mm_iommu_* API, per mm, shared by every container of that
 * mm); MAP_DMA then only looks pages up there, which is what lets KVM
 * write TCEs in real mode.  A container remembers the regions it
 * registered so its release drops them.
 *
 * Deliberate differences from 6.1, measured on powernv
 * (tests/power/spapr_tce_v2.c):
 *  - UNREGISTER of a region this container's TCEs still use is EBUSY.
 *    6.1 returns 0: its lookup (mm_iommu_get()) takes a use of its own,
 *    so the mm_iommu_put() that should refuse is not the last one; the
 *    container forgets the region, which stays pinned and charged until
 *    the process exits, and destroy_context() WARNs then.
 *  - REGISTER of size 0 is EINVAL.  6.1 passes 0 pages on to
 *    mm_iommu_new(), whose vzalloc(0) WARNs before failing (ENOMEM): a
 *    WARN any user of a container can trigger.
 */
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <asm/mmu_context.h>

#include <vfioscope/vfio.h>

#include "spapr_tce.h"
#include "vfio_trace.h"

/* A region this container registered. */
struct tce_prereg {
	struct list_head next;		/* in tce_container.prereg */
	struct mm_iommu_table_group_mem_t *mem;
	unsigned long pages;		/* system pages in the region */
	unsigned long mapped;		/* this container's TCEs in it */
};

/* Drop the container's use of @p; the region goes with its last user. */
static long tce_prereg_free(struct tce_container *c, struct tce_prereg *p)
{
	long ret = mm_iommu_put(c->mm, p->mem);

	if (ret)
		return ret;
	c->pins -= p->pages;
	list_del(&p->next);
	kfree(p);
	return 0;
}

static struct tce_prereg *tce_prereg_find(struct tce_container *c,
					  struct mm_iommu_table_group_mem_t *mem)
{
	struct tce_prereg *p;

	list_for_each_entry(p, &c->prereg, next)
		if (p->mem == mem)
			return p;
	return NULL;
}

/* Page-aligned, not wrapping, and not empty (see the top of this file). */
static bool tce_prereg_range_ok(u64 vaddr, u64 size)
{
	return !((vaddr | size) & ~PAGE_MASK) && vaddr + size >= vaddr && size;
}

static long tce_register_pages(struct tce_container *c, u64 vaddr, u64 size)
{
	unsigned long pages = size >> PAGE_SHIFT;
	struct mm_iommu_table_group_mem_t *mem;
	struct tce_prereg *p;
	long ret;

	lockdep_assert_held(&c->lock);
	if (!tce_prereg_range_ok(vaddr, size))
		return -EINVAL;

	/* Registered by another container of this mm: share it. */
	mem = mm_iommu_get(c->mm, vaddr, pages);
	if (mem) {
		if (tce_prereg_find(c, mem)) {
			ret = -EBUSY;
			goto err_put;
		}
	} else {
		ret = mm_iommu_new(c->mm, vaddr, pages, &mem);
		if (ret)
			return ret;
	}

	p = kzalloc(sizeof(*p), GFP_KERNEL_ACCOUNT);
	if (!p) {
		ret = -ENOMEM;
		goto err_put;
	}
	p->mem = mem;
	p->pages = pages;
	list_add(&p->next, &c->prereg);
	c->pins += pages;
	c->enabled = true;
	return 0;

err_put:
	mm_iommu_put(c->mm, mem);
	return ret;
}

static long tce_unregister_pages(struct tce_container *c, u64 vaddr, u64 size)
{
	struct mm_iommu_table_group_mem_t *mem;
	struct tce_prereg *p;
	long ret;

	lockdep_assert_held(&c->lock);
	if ((vaddr | size) & ~PAGE_MASK)
		return -EINVAL;
	mem = mm_iommu_get(c->mm, vaddr, size >> PAGE_SHIFT);
	if (!mem)
		return -ENOENT;
	p = tce_prereg_find(c, mem);
	if (!p)
		ret = -ENOENT;
	else if (p->mapped)	/* 6.1: 0, and the region lost (top of file) */
		ret = -EBUSY;
	else
		ret = tce_prereg_free(c, p);
	/* The reference mm_iommu_get() took. */
	mm_iommu_put(c->mm, mem);
	return ret;
}

/* REGISTER (@reg) or UNREGISTER_MEMORY: the checks in 6.1's order. */
static long tce_ioctl_prereg(struct tce_container *c, unsigned long arg,
			     bool reg)
{
	unsigned long minsz = offsetofend(struct vfio_iommu_spapr_register_memory,
					  size);
	struct vfio_iommu_spapr_register_memory param;
	u64 start_ns = 0, pins;
	long ret;

	if (reg) {
		ret = tce_mm_set(c);
		if (ret)
			return ret;
	} else if (!c->mm) {
		return -EPERM;
	}
	if (copy_from_user(&param, (void __user *)arg, minsz))
		return -EFAULT;
	if (param.argsz < minsz || param.flags)
		return -EINVAL;

	if (trace_vfio_spapr_prereg_enabled())
		start_ns = ktime_get_ns();
	mutex_lock(&c->lock);
	ret = reg ? tce_register_pages(c, param.vaddr, param.size) :
		    tce_unregister_pages(c, param.vaddr, param.size);
	pins = c->pins;
	mutex_unlock(&c->lock);
	trace_vfio_spapr_prereg(c->id, reg, param.size, pins, ret,
				start_ns ? ktime_get_ns() - start_ns : 0);
	return ret;
}

long tce_ioctl_register_memory(struct tce_container *c, unsigned long arg)
{
	return tce_ioctl_prereg(c, arg, true);
}

long tce_ioctl_unregister_memory(struct tce_container *c, unsigned long arg)
{
	return tce_ioctl_prereg(c, arg, false);
}

/*
 * The container's release, its TCEs cleared already.  Every TCE that uses
 * a region belongs to a container that registered it (see below), and so
 * holds a use of its own: the last put never finds TCEs left.
 */
void tce_prereg_release_all(struct tce_container *c)
{
	struct tce_prereg *p, *tmp;

	lockdep_assert_held(&c->lock);
	list_for_each_entry_safe(p, tmp, &c->prereg, next)
		if (tce_prereg_free(c, p))
			pr_warn_ratelimited("vfio-spapr-tce: container %u: a pre-registered region is still mapped at release\n",
					    c->id);
}

/*
 * The region this container registered that holds @ua, and the physical
 * address of @ua in it.  6.1 takes any region of the mm, even one only
 * another container registered; that container's release then finds its
 * region still mapped (a WARN in 6.1) and leaves it pinned.  QEMU
 * registers its memory in every container it maps from, so it never
 * needs the wider lookup.
 */
struct tce_prereg *tce_prereg_lookup(struct tce_container *c,
				     unsigned long ua, unsigned int shift,
				     unsigned long *hpa)
{
	struct mm_iommu_table_group_mem_t *m;
	struct tce_prereg *p;

	m = mm_iommu_lookup(c->mm, ua, 1UL << shift);
	if (!m)
		return NULL;
	p = tce_prereg_find(c, m);
	if (!p || mm_iommu_ua_to_hpa(m, ua, shift, hpa))
		return NULL;
	return p;
}

/* A TCE of the container now uses @p; -ENXIO: it is being unregistered. */
int tce_prereg_use(struct tce_prereg *p)
{
	if (mm_iommu_mapped_inc(p->mem))
		return -ENXIO;
	p->mapped++;
	return 0;
}

void tce_prereg_unuse(struct tce_prereg *p)
{
	p->mapped--;
	mm_iommu_mapped_dec(p->mem);
}
