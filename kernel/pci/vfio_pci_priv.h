/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio-pci: what its files share.  One file per concept:
 *   vfio_pci_core.c    probe/remove, device ops, GET_INFO, REGION_INFO, RESET
 *   vfio_pci_config.c  config space virtualization
 *   vfio_pci_rdwr.c    BAR and ROM access, BAR mmap
 *   vfio_pci_intrs.c   INTx, MSI, MSI-X, ERR and REQ through eventfds
 *   vfio_pci_ioeventfd.c  BAR writes on an eventfd's signal (IOEVENTFD)
 *   vfio_pci_reset.c   slot and bus resets: reset sets, hot reset
 *
 * Lock order: reset set lock -> cfg_lock -> igate -> memory_lock -> irqlock;
 * a hot reset takes the memory_lock of every device of its set, under the
 * set's lock (vfio_pci_reset_set_memory_lock_and_zap());
 * cfg_lock -> memory_lock; barmap_lock is a leaf;
 * ioeventfds_lock -> barmap_lock.  An ioeventfd's write takes memory_lock
 * (read) from a virqfd's handler (trylock) or thread, under none of ours.
 * Tearing a virqfd down (igate, ioeventfds_lock held) waits for its
 * thread, so nothing may hold memory_lock while waiting for igate or
 * ioeventfds_lock.
 *
 * BAR mmaps add the mm's mmap_lock:
 *   mmap_lock -> memory_lock (read)   the fault handler
 *   mmap_lock -> vma_lock             mmap, vm_ops open and close
 *   mmap_lock -> barmap_lock          mmap
 *   cfg_lock -> mmap_lock             copies from/to user space under
 *                                     cfg_lock; waiting for a busy mm
 *   memory_lock -> vma_lock           the zap
 * The zap needs mmap_lock under memory_lock and vma_lock, against the
 * order above: it only ever trylocks it there, and when that fails it
 * drops both and waits for mmap_lock holding neither
 * (vfio_pci_memory_lock_and_zap()).  Nothing copies from or to user space
 * under memory_lock: the buffer may be a BAR mapping, whose fault takes
 * memory_lock.
 */
#ifndef __VFIO_PCI_PRIV_H
#define __VFIO_PCI_PRIV_H

#include <linux/eventfd.h>
#include <linux/list.h>
#include <linux/mm_types.h>
#include <linux/mutex.h>
#include <linux/pci.h>
#include <linux/rwsem.h>
#include <linux/spinlock.h>
#include <vfioscope/compat.h>
#include <vfioscope/fault.h>
#include <vfioscope/vfio.h>

/* Region index <-> device fd offset, as the in-tree driver lays them out. */
#define VFIO_PCI_OFFSET_SHIFT	40
#define VFIO_PCI_OFFSET_TO_INDEX(off)	((off) >> VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_INDEX_TO_OFFSET(index)	((u64)(index) << VFIO_PCI_OFFSET_SHIFT)
#define VFIO_PCI_OFFSET_MASK	(((u64)1 << VFIO_PCI_OFFSET_SHIFT) - 1)

/* irq_type when no interrupt is set up. */
#define VFIO_PCI_IRQ_NONE	VFIO_PCI_NUM_IRQS

/* The ROM BAR's slot in the per-BAR arrays of the config code. */
#define VFIO_PCI_ROM_SLOT	PCI_STD_NUM_BARS

struct vfio_pci_irq_ctx {
	struct eventfd_ctx *trigger;	/* NULL: vector not wired */
	char *name;			/* for /proc/interrupts */
};

/* One BAR mapping: vma->vm_private_data, on vpdev->vma_list until ->close. */
struct vfio_pci_mmap {
	struct list_head node;
	struct vm_area_struct *vma;
	struct vfio_pci_device *vpdev;
};

/*
 * The vfio-pci devices one slot or bus reset touches (vfio_pci_reset.c),
 * joined at probe, left at remove.
 */
struct vfio_pci_reset_set {
	struct list_head node;		/* in the list of sets */
	const void *key;		/* the slot, the bus, or a device alone */
	unsigned int refs;		/* devices; under the list's lock */
	struct mutex lock;		/* protects devices, and each one's
					 * opened and needs_reset */
	struct list_head devices;	/* struct vfio_pci_device.reset_set_next */
};

struct vfio_pci_device {
	struct vfio_device vdev;
	struct pci_dev *pdev;

	struct vfio_pci_reset_set *reset_set;
	struct list_head reset_set_next;
	bool opened;			/* between open_device and close_device */
	bool needs_reset;		/* closed without a reset of its own */

	/* Set by open_device, constant until close_device. */
	struct pci_saved_state *saved_state;
	bool reset_works;
	bool pci_2_3;			/* INTx maskable through COMMAND */
	bool bar_mmap[PCI_STD_NUM_BARS];
	/* The rest of a sub-page BAR's page, held while bar_mmap says so. */
	struct resource bar_page_rest[PCI_STD_NUM_BARS];
	u8 msix_bar;			/* 0xff: no MSI-X */
	u32 msix_offset;		/* MSI-X table in msix_bar */
	u32 msix_size;
	bool msix_can_grow;		/* MSI-X vectors can be added while enabled */

	struct mutex cfg_lock;		/* protects vconfig, cfg_virt, cfg_write */
	u8 *vconfig;			/* what user space sees of virtual bits */
	u8 *cfg_virt;			/* per byte: bits served from vconfig */
	u8 *cfg_write;			/* per byte: bits user space may write */
	u32 bar_mask[PCI_STD_NUM_BARS + 1];	/* writable address bits */
	u32 bar_flags[PCI_STD_NUM_BARS + 1];	/* fixed low bits */
	u32 rbar[PCI_STD_NUM_BARS + 1];	/* the device's BARs and ROM BAR at open */
	u8 msi_cap;			/* 0: none; visible MSI capability */
	u8 exp_cap;			/* 0: none; visible PCIe capability */
	u8 pm_cap;			/* 0: none; visible PM capability */
	u8 vpd_cap;			/* 0: none; visible VPD capability */

	/* Under memory_lock (write): the config kept across D3hot, if lost there. */
	bool needs_pm_restore;		/* PMCSR without No_Soft_Reset */
	struct pci_saved_state *pm_save;

	/* Under memory_lock (write): the LOW_POWER_* features (vfio_pci_pm.c). */
	bool pm_runtime_engaged;	/* the open's runtime PM reference dropped */
	struct eventfd_ctx *pm_wake_trigger;	/* signalled by the wake that ends it */
	/* Runtime suspend masked INTx, for resume to unmask; PM core serialized. */
	bool pm_intx_masked;

	/* SR-IOV (vfio_pci_sriov.c): a PF's VF token, NULL for any other device. */
	struct vfio_pci_vf_token *vf_token;
	struct notifier_block sriov_nb;	/* gives the PF's new VFs to vfio-pci */

	struct mutex barmap_lock;	/* protects barmap */
	void __iomem *barmap[PCI_STD_NUM_BARS];	/* regions requested + mapped */

	/*
	 * Protects COMMAND.MEM in vconfig against BAR access: readers access
	 * the BARs (pread/pwrite, mmap faults), writers change memory decode
	 * or reset the device.  A writer that may stop the device decoding
	 * takes it through vfio_pci_memory_lock_and_zap(), which leaves no
	 * BAR page mapped while it is held.
	 */
	struct rw_semaphore memory_lock;

	struct mutex vma_lock;		/* protects vma_list */
	struct list_head vma_list;	/* struct vfio_pci_mmap, every BAR vma */

	struct mutex igate;		/* protects irq_type, num_ctx, ctx,
					 * err_trigger, req_trigger */
	unsigned int irq_type;		/* VFIO_PCI_*_IRQ_INDEX or _NONE */
	/*
	 * ctx[num_ctx]: one per vector enabled; grows when a vector past
	 * them is wired (msix_can_grow), so a ctx may have no IRQ yet.
	 */
	unsigned int num_ctx;
	struct vfio_pci_irq_ctx *ctx;
	u8 msi_qmax;			/* log2 of the MSI vectors last enabled */
	struct eventfd_ctx *err_trigger;
	struct eventfd_ctx *req_trigger;
	/*
	 * INTx's unmask eventfd (ACTION_UNMASK | DATA_EVENTFD, KVM's
	 * resampler); set and cleared under igate and vfio.ko's virqfd
	 * lock, also cleared by the eventfd's close.
	 */
	struct virqfd *intx_unmask;

	spinlock_t irqlock;		/* protects the intx_* fields, virq_disabled */
	bool intx_active;		/* irq_type is INTx */
	bool intx_requested;		/* the INTx handler is installed */
	bool intx_masked;		/* user space must unmask before the next one */
	bool virq_disabled;		/* COMMAND.INTX_DISABLE set by user space */

	struct mutex ioeventfds_lock;	/* protects ioeventfds, ioeventfds_nr */
	struct list_head ioeventfds;	/* struct vfio_pci_ioeventfd.node */
	unsigned int ioeventfds_nr;
};

static inline struct vfio_pci_device *to_vfio_pci(struct vfio_device *vdev)
{
	return container_of(vdev, struct vfio_pci_device, vdev);
}

/* vfio_pci_core.c */
void vfio_pci_trace_reset(struct vfio_pci_device *vpdev, u32 kind, int ret);
int vfio_pci_set_power_state(struct vfio_pci_device *vpdev, pci_power_t state);
int vfio_pci_check_feature(u32 flags, size_t argsz, u32 ops, size_t minsz);
u16 vfio_pci_memory_lock_and_enable(struct vfio_pci_device *vpdev);
void vfio_pci_memory_unlock_and_restore(struct vfio_pci_device *vpdev, u16 cmd);
bool __vfio_pci_memory_enabled(struct vfio_pci_device *vpdev);

/* vfio_pci_config.c */
int vfio_pci_config_init(struct vfio_pci_device *vpdev);
void vfio_pci_config_free(struct vfio_pci_device *vpdev);
ssize_t vfio_pci_config_rw(struct vfio_pci_device *vpdev, char __user *buf,
			   size_t count, loff_t *ppos, bool iswrite);

/* vfio_pci_rdwr.c */
ssize_t vfio_pci_bar_rw(struct vfio_pci_device *vpdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite);
int vfio_pci_bar_mmap(struct vfio_pci_device *vpdev, struct vm_area_struct *vma);
void vfio_pci_memory_lock_and_zap(struct vfio_pci_device *vpdev);
void vfio_pci_barmap_release_all(struct vfio_pci_device *vpdev);
void __iomem *vfio_pci_barmap_get(struct vfio_pci_device *vpdev, int bar);

/* vfio_pci_rdwr.c, for a reset set */
void vfio_pci_reset_set_memory_lock_and_zap(struct vfio_pci_reset_set *set);
void vfio_pci_reset_set_memory_unlock(struct vfio_pci_reset_set *set);

/* vfio_pci_reset.c */
int vfio_pci_reset_set_join(struct vfio_pci_device *vpdev);
void vfio_pci_reset_set_leave(struct vfio_pci_device *vpdev);
void vfio_pci_reset_set_closed(struct vfio_pci_device *vpdev);
long vfio_pci_ioctl_get_hot_reset_info(struct vfio_pci_device *vpdev,
				       struct vfio_pci_hot_reset_info __user *arg);
long vfio_pci_ioctl_hot_reset(struct vfio_pci_device *vpdev,
			      struct vfio_pci_hot_reset __user *arg);

/* vfio_pci_ioeventfd.c */
long vfio_pci_ioctl_ioeventfd(struct vfio_pci_device *vpdev,
			      struct vfio_device_ioeventfd __user *arg);
void vfio_pci_ioeventfds_release(struct vfio_pci_device *vpdev);

/* vfio_pci_pm.c */
extern const struct dev_pm_ops vfio_pci_pm_ops;
void vfio_pci_pm_probe(struct pci_dev *pdev);
void vfio_pci_pm_remove(struct pci_dev *pdev);
int vfio_pci_pm_open(struct vfio_pci_device *vpdev);
void vfio_pci_pm_close(struct vfio_pci_device *vpdev);
void vfio_pci_low_power_exit(struct vfio_pci_device *vpdev);
int vfio_pci_feature_low_power(struct vfio_pci_device *vpdev, u32 flags,
			       void __user *arg, size_t argsz);

/* vfio_pci_sriov.c */
int vfio_pci_match(struct vfio_device *vdev, char *buf);
void vfio_pci_vf_users_add(struct vfio_pci_device *vpdev, int delta);
int vfio_pci_feature_vf_token(struct vfio_pci_device *vpdev, u32 flags,
			      void __user *arg, size_t argsz);
int vfio_pci_sriov_configure(struct pci_dev *pdev, int nr_virtfn);
void vfio_pci_sriov_disable(struct vfio_pci_device *vpdev);
int vfio_pci_sriov_probe(struct vfio_pci_device *vpdev);
void vfio_pci_sriov_remove(struct vfio_pci_device *vpdev);

/* vfio_pci_intrs.c */
struct eventfd_ctx *vfio_pci_eventfd_get(int fd);
bool vfio_pci_intx_mask(struct vfio_pci_device *vpdev);
void vfio_pci_intx_unmask(struct vfio_pci_device *vpdev);
long vfio_pci_ioctl_get_irq_info(struct vfio_pci_device *vpdev,
				 struct vfio_irq_info __user *arg);
long vfio_pci_ioctl_set_irqs(struct vfio_pci_device *vpdev,
			     struct vfio_irq_set __user *arg);
void vfio_pci_intx_set_virq_disabled(struct vfio_pci_device *vpdev, bool disabled);
bool vfio_pci_msi_enabled(struct vfio_pci_device *vpdev, u8 *qmax);
void vfio_pci_irqs_teardown(struct vfio_pci_device *vpdev);
void vfio_pci_irqs_signal_err(struct vfio_pci_device *vpdev);
void vfio_pci_irqs_signal_req(struct vfio_pci_device *vpdev, unsigned int count);

#endif /* __VFIO_PCI_PRIV_H */
