/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What changed between the two series we build for, Debian's 6.1 and
 * 6.12: kernel interfaces our code calls, and what the in-tree VFIO of each
 * series answers user space or KVM where the two differ (ours answers as
 * the series it is built for).  Each change is behind one name with the
 * reason beside it.  The rest of the tree is written once, against these
 * names; nothing else tests LINUX_VERSION_CODE.  Each shim names the
 * first version with the change (one says where that is inferred), so a
 * third series is a matter of reading this file.
 *
 * Internal to vfioscope's modules: not part of the in-kernel API of
 * vfioscope/vfio.h.
 */
#ifndef __VFIOSCOPE_COMPAT_H
#define __VFIOSCOPE_COMPAT_H

#include <linux/device.h>
#include <linux/eventfd.h>
#include <linux/iommu.h>
#include <linux/irqdomain.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/version.h>

/* 6.2: a class's devnode() callback takes a const device. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define VFIO_COMPAT_DEVNODE_CONST const
#else
#define VFIO_COMPAT_DEVNODE_CONST
#endif

/*
 * 6.2: KVM's "is this VFIO file's DMA always cache coherent?" is answered
 * from each device's IOMMU (IOMMU_CAP_ENFORCE_CACHE_COHERENCY, new in 6.2),
 * no longer from the IOMMU backend of the group's container
 * (VFIO_DMA_CC_IOMMU).  kernel/kvm_file.c has both answers and picks one
 * by this; the per-device question only exists from 6.2.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define VFIO_COMPAT_KVM_COHERENT_BY_DEVICE 1
static inline bool vfio_compat_dev_enforces_coherency(struct device *dev)
{
	return device_iommu_capable(dev, IOMMU_CAP_ENFORCE_CACHE_COHERENCY);
}
#else
#define VFIO_COMPAT_KVM_COHERENT_BY_DEVICE 0
static inline bool vfio_compat_dev_enforces_coherency(struct device *dev)
{
	return false;	/* never asked before 6.2 */
}
#endif

/*
 * 6.2: VFIO_GROUP_SET_CONTAINER on an open file that is neither a container
 * nor (from 6.2) an iommufd is EBADFD; 6.1 said EINVAL, as for a group
 * already in a container, which stays EINVAL.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 2, 0)
#define VFIO_COMPAT_SET_CONTAINER_NOT_A_CONTAINER EBADFD
#else
#define VFIO_COMPAT_SET_CONTAINER_NOT_A_CONTAINER EINVAL
#endif

/* 6.3: vm_flags became read-only; changes go through vm_flags_set(). */
static inline void vfio_compat_vm_flags_set(struct vm_area_struct *vma,
					    vm_flags_t flags)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	vm_flags_set(vma, flags);
#else
	vma->vm_flags |= flags;
#endif
}

/*
 * 6.3: iommu_map() takes the gfp of the page-table allocations it may
 * make.  Ours map on behalf of the user, so they are charged to the user's
 * memory cgroup, as 6.12's type1 does.
 */
static inline int vfio_compat_iommu_map(struct iommu_domain *domain,
					unsigned long iova, phys_addr_t paddr,
					size_t size, int prot)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return iommu_map(domain, iova, paddr, size, prot, GFP_KERNEL_ACCOUNT);
#else
	return iommu_map(domain, iova, paddr, size, prot);
#endif
}

/*
 * 6.3: whether a group's MSIs are isolated (interrupt remapping, or an MSI
 * controller that isolates devices) is one question to the IOMMU core;
 * before, the caller asked the IRQ domains and each device's IOMMU.
 */
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 3, 0)
static inline int vfio_compat_dev_intr_remap(struct device *dev, void *unused)
{
	return device_iommu_capable(dev, IOMMU_CAP_INTR_REMAP);
}
#endif

static inline bool vfio_compat_group_has_isolated_msi(struct iommu_group *group)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0)
	return iommu_group_has_isolated_msi(group);
#else
	return irq_domain_check_msi_remap() ||
	       iommu_group_for_each_dev(group, NULL, vfio_compat_dev_intr_remap);
#endif
}

/*
 * 6.4: vfio-pci shows a Designated Vendor-Specific Extended Capability
 * (DVSEC) in the extended capability list, its body read-write pass-
 * through as an extended vendor-specific one's ("vfio/pci: Add DVSEC PCI
 * Extended Config Capability to user visible list").  6.1 unlinks it as
 * an unknown capability, which leaves its bytes read-write pass-through
 * too: only the list differs.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
#define VFIO_COMPAT_DVSEC_SHOWN 1
#else
#define VFIO_COMPAT_DVSEC_SHOWN 0
#endif

/* 6.5: pin_user_pages_remote() lost its vmas argument. */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define vfio_compat_pin_user_pages_remote(mm, start, nr, flags, pages, locked) \
	pin_user_pages_remote(mm, start, nr, flags, pages, locked)
#else
#define vfio_compat_pin_user_pages_remote(mm, start, nr, flags, pages, locked) \
	pin_user_pages_remote(mm, start, nr, flags, pages, NULL, locked)
#endif

/*
 * 6.5: vfio-pci keeps its MSI/MSI-X interrupt contexts sparse (an xarray
 * in-tree, "vfio/pci: Use xarray for interrupt context storage"), so a
 * vector of the enabled type that was never wired is no longer an error
 * to SET_IRQS: unwiring it (eventfd -1) or firing it by hand (DATA_NONE,
 * DATA_BOOL) is a no-op, wherever it lies in the device's vectors.  6.1
 * refused any vector past the ones enabled with EINVAL.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define VFIO_COMPAT_SPARSE_MSI_VECTORS 1
#else
#define VFIO_COMPAT_SPARSE_MSI_VECTORS 0
#endif

/*
 * 6.5: vfio-pci grows MSI-X while it is enabled ("vfio/pci: Support
 * dynamic MSI-X"): wiring a vector past the ones enabled allocates it with
 * pci_msix_alloc_irq_at(), where the device's MSI domain can
 * (pci_msix_can_alloc_dyn(); both PCI interfaces are from 6.2), and
 * GET_IRQ_INFO then leaves NORESIZE off MSI-X.  6.1 has neither: MSI-X
 * stays the size it was enabled with.  The vector is returned as a Linux
 * IRQ number, or -errno.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
static inline bool vfio_compat_msix_can_grow(struct pci_dev *pdev)
{
	return pci_msix_can_alloc_dyn(pdev);
}

static inline int vfio_compat_msix_alloc_at(struct pci_dev *pdev,
					    unsigned int vector)
{
	struct msi_map map = pci_msix_alloc_irq_at(pdev, vector, NULL);

	return map.index < 0 ? map.index : map.virq;
}
#else
static inline bool vfio_compat_msix_can_grow(struct pci_dev *pdev)
{
	return false;
}

static inline int vfio_compat_msix_alloc_at(struct pci_dev *pdev,
					    unsigned int vector)
{
	return -EINVAL;	/* never called: nothing can grow before 6.5 */
}
#endif

/*
 * 6.5: KVM accepts VFIO device files as well as group files
 * (vfio_file_is_valid() replaced vfio_file_is_group() in kvm.ko, for the
 * device cdev).  The check is on the device file's fops, so a device fd
 * from VFIO_GROUP_GET_DEVICE_FD is valid too, and its coherency is its
 * device's.  Before, a device file was "not VFIO" to KVM.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define VFIO_COMPAT_KVM_TAKES_DEVICE_FILES 1
#else
#define VFIO_COMPAT_KVM_TAKES_DEVICE_FILES 0
#endif

/*
 * 6.6 (the fix went in mid-2023; 6.12 has it, 6.1 has not): the GET_INFO
 * ioctls of type1 and vfio-pci copy back min(argsz, sizeof(info)) bytes,
 * the struct's padding zeroed, so the caller never keeps stale bytes in a
 * struct it gave whole.  Before, they stopped at cap_offset, or at @minsz
 * for a caller whose argsz does not reach it, and left the rest alone.
 * Callers zero the whole struct before filling it.
 */
static inline size_t vfio_compat_info_copy_size(u32 argsz, size_t minsz,
						size_t capsz, size_t size)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 6, 0)
	return min_t(size_t, argsz, size);
#else
	return argsz >= capsz ? capsz : minsz;
#endif
}

/*
 * 6.5: VFIO_DEVICE_PCI_HOT_RESET takes a zero count from a device opened
 * through its cdev (iommufd) and refuses one from a group user, and it
 * checks that before asking whether the slot or bus can be reset at all;
 * 6.1 asks the bus first.  A zero count on a root bus is EINVAL on 6.5 and
 * later, ENODEV before.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 5, 0)
#define VFIO_COMPAT_HOT_RESET_COUNT_FIRST 1
#else
#define VFIO_COMPAT_HOT_RESET_COUNT_FIRST 0
#endif

/* 6.8: eventfd_signal() always adds 1, and lost its count argument. */
static inline void vfio_compat_eventfd_signal(struct eventfd_ctx *ctx)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 8, 0)
	eventfd_signal(ctx);
#else
	eventfd_signal(ctx, 1);
#endif
}

/*
 * 6.10: __string() and __string_len() record their source, so the assign
 * in TP_fast_assign() takes the field alone; 6.1's takes the source again.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 10, 0)
#define vfio_compat_assign_str(dst, src) __assign_str(dst)
#define vfio_compat_assign_str_len(dst, src, len) __assign_str(dst)
#else
#define vfio_compat_assign_str(dst, src) __assign_str(dst, src)
#define vfio_compat_assign_str_len(dst, src, len) __assign_str_len(dst, src, len)
#endif

/*
 * 6.11: a paging domain is allocated for a device, not a bus, and failure
 * is an ERR_PTR.  6.1 returned NULL, which its type1 reported as EIO: so
 * do we on 6.1, and on 6.12 the errno 6.12 gives.
 */
static inline struct iommu_domain *vfio_compat_paging_domain_alloc(struct device *dev)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 11, 0)
	return iommu_paging_domain_alloc(dev);
#else
	return iommu_domain_alloc(dev->bus) ?: ERR_PTR(-EIO);
#endif
}

/*
 * 6.12: follow_pte() is gone; a VM_PFNMAP pfn is read between
 * follow_pfnmap_start() and _end().  Both give the pfn and whether the
 * mapping is writable, with mmap_lock held by the caller; nothing stays
 * locked on return.
 */
static inline int vfio_compat_follow_pfnmap(struct vm_area_struct *vma,
					    unsigned long addr,
					    unsigned long *pfn, bool *writable)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 0)
	struct follow_pfnmap_args args = { .vma = vma, .address = addr };
	int ret = follow_pfnmap_start(&args);

	if (ret)
		return ret;
	*pfn = args.pfn;
	*writable = args.writable;
	follow_pfnmap_end(&args);
	return 0;
#else
	spinlock_t *ptl;
	pte_t *ptep;
	int ret = follow_pte(vma->vm_mm, addr, &ptep, &ptl);

	if (ret)
		return ret;
	*pfn = pte_pfn(*ptep);
	*writable = pte_write(*ptep);
	pte_unmap_unlock(ptep, ptl);
	return 0;
#endif
}

/*
 * 6.12.94 (Debian's changelog; upstream's generic driver_override, taken
 * into 6.12's stable series): a PCI device's driver_override is the struct
 * device's, set through device_set_driver_override() under its own lock.
 * Before, it is pci_dev's own string, freed by the PCI core; a VF being
 * added, whose string no one else reads yet, gets it as 6.1's vfio-pci
 * gives it.
 */
static inline void vfio_compat_new_vf_driver_override(struct pci_dev *vf,
						      const char *name)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 12, 94)
	device_set_driver_override(&vf->dev, name);
#else
	vf->driver_override = kstrdup(name, GFP_KERNEL);
#endif
}

#endif /* __VFIOSCOPE_COMPAT_H */
