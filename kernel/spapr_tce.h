/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio_iommu_spapr_tce.ko's private header.  Its files:
 *   spapr_tce.c         containers, groups and the ioctl switch
 *   spapr_tce_map.c     TCEs: MAP_DMA and UNMAP_DMA, v1 and v2
 *   spapr_tce_prereg.c  v2: memory pre-registration
 *   spapr_tce_window.c  v2: DMA windows (tables the container creates)
 *   spapr_tce_eeh.c     EEH operations on the container's PEs
 */
#ifndef __VFIO_SPAPR_TCE_H
#define __VFIO_SPAPR_TCE_H

#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/types.h>

#include <asm/iommu.h>

struct vfio_dma_op;

/* A group of the container. */
struct tce_group {
	struct list_head next;		/* in tce_container.groups */
	struct iommu_group *iommu_group;
};

struct tce_container {
	struct mutex lock;		/* everything below */
	u32 id;				/* vfio.ko's container id, for tracing */
	bool v2;
	/*
	 * MAP_DMA/UNMAP_DMA allowed: v1 after ENABLE (the window charged to
	 * locked_vm), v2 after the first REGISTER_MEMORY, never cleared.
	 */
	bool enabled;
	unsigned long locked_pages;	/* v1: charged to mm->locked_vm */
	struct mm_struct *mm;		/* the one mm allowed to use it (mmgrab) */
	struct list_head groups;	/* struct tce_group */
	/*
	 * The windows.  v1: the group's own tables, borrowed while it is
	 * attached.  v2: tables the container created (the default window
	 * and CREATE's), programmed into every group and freed with the
	 * container.
	 */
	struct iommu_table *tables[IOMMU_TABLE_GROUP_MAX_TABLES];
	bool def_window_pending;	/* v2: the default window is due */
	struct list_head prereg;	/* v2: struct tce_prereg */
	/* for the trace events: valid TCEs, page pins, operations */
	u64 tces;
	u64 pins;
	u64 seq;
};

static inline struct iommu_table_group *tce_table_group(struct iommu_group *grp)
{
	return iommu_group_get_iommudata(grp);
}

static inline struct iommu_table_group *
tce_first_table_group(struct tce_container *c)
{
	struct tce_group *g = list_first_entry_or_null(&c->groups,
						       struct tce_group, next);

	return g ? tce_table_group(g->iommu_group) : NULL;
}

/* The platform lets the container own the group's windows (IODA2). */
static inline bool tce_group_has_ops(const struct iommu_table_group *tg)
{
	return tg->ops && tg->ops->take_ownership && tg->ops->release_ownership;
}

int tce_mm_set(struct tce_container *c);
void tce_snapshot(struct tce_container *c, struct vfio_dma_op *op);

/* spapr_tce_map.c */
long tce_ioctl_map(struct tce_container *c, unsigned long arg);
long tce_ioctl_unmap(struct tce_container *c, unsigned long arg);
void tce_clear(struct tce_container *c, struct iommu_table *tbl,
	       unsigned long entry, unsigned long pages, struct vfio_dma_op *op);
u64 tce_clear_table(struct tce_container *c, struct iommu_table *tbl,
		    struct vfio_dma_op *op);

/* spapr_tce_prereg.c */
long tce_ioctl_register_memory(struct tce_container *c, unsigned long arg);
long tce_ioctl_unregister_memory(struct tce_container *c, unsigned long arg);
void tce_prereg_release_all(struct tce_container *c);
struct tce_prereg;
struct tce_prereg *tce_prereg_lookup(struct tce_container *c,
				     unsigned long ua, unsigned int shift,
				     unsigned long *hpa);
int tce_prereg_use(struct tce_prereg *p);
void tce_prereg_unuse(struct tce_prereg *p);

/* spapr_tce_window.c */
long tce_ioctl_create_window(struct tce_container *c, unsigned long arg);
long tce_ioctl_remove_window(struct tce_container *c, unsigned long arg);
int tce_create_default_window(struct tce_container *c);
int tce_windows_take_group(struct tce_container *c,
			   struct iommu_table_group *tg);
void tce_windows_release_group(struct tce_container *c,
			       struct iommu_table_group *tg);
u64 tce_windows_free_all(struct tce_container *c, struct vfio_dma_op *op);

/* spapr_tce_eeh.c */
/* VFIO_CHECK_EXTENSION(VFIO_EEH): 1 where the platform has EEH on. */
int spapr_tce_eeh_enabled(void);
/* VFIO_EEH_PE_OP on the PE of @grp; @arg is the user's vfio_eeh_pe_op. */
long spapr_tce_eeh_ioctl(struct iommu_group *grp, unsigned long arg);

#endif /* __VFIO_SPAPR_TCE_H */
