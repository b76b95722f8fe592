// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci: the PCI bus driver that exposes a device to user space through
 * vfioscope's vfio.ko.  Devices bind through driver_override (or ids=);
 * user space reaches them through VFIO_GROUP_GET_DEVICE_FD.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <vfioscope/version.h>

#include "vfio_pci_eeh.h"
#include "vfio_pci_priv.h"
#include "vfio_trace.h"

static char ids[1024] __initdata;
module_param_string(ids, ids, sizeof(ids), 0);
MODULE_PARM_DESC(ids, "Initial PCI IDs to add to the vfio-pci driver, format is \"vendor:device[:subvendor[:subdevice[:class[:class_mask]]]]\" and multiple comma separated entries can be specified");

/*
 * As in-tree: mask INTx at the interrupt controller (an exclusive line)
 * even on devices that can mask it in COMMAND.  For devices whose
 * INTx disable bit does not work; read at each open.
 */
static bool nointxmask;
module_param(nointxmask, bool, 0444);
MODULE_PARM_DESC(nointxmask, "Never mask INTx through the PCI 2.3 COMMAND bit: request the line exclusively and mask it at the interrupt controller");

/* ---- memory decode -------------------------------------------------------- */

/* Caller holds memory_lock (read or write). */
bool __vfio_pci_memory_enabled(struct vfio_pci_device *vpdev)
{
	lockdep_assert_held(&vpdev->memory_lock);
	return vpdev->pdev->current_state < PCI_D3hot &&
	       (vpdev->vconfig[PCI_COMMAND] & PCI_COMMAND_MEMORY);
}

/*
 * The kernel itself must touch the BARs at times (MSI-X table, ROM probe)
 * even while user space has memory decode off: turn it on underneath, with
 * BAR access from user space held off.  Returns the command to restore.
 */
u16 vfio_pci_memory_lock_and_enable(struct vfio_pci_device *vpdev)
{
	u16 cmd;

	down_write(&vpdev->memory_lock);
	pci_read_config_word(vpdev->pdev, PCI_COMMAND, &cmd);
	if (!(cmd & PCI_COMMAND_MEMORY))
		pci_write_config_word(vpdev->pdev, PCI_COMMAND,
				      cmd | PCI_COMMAND_MEMORY);
	return cmd;
}

void vfio_pci_memory_unlock_and_restore(struct vfio_pci_device *vpdev, u16 cmd)
{
	pci_write_config_word(vpdev->pdev, PCI_COMMAND, cmd);
	up_write(&vpdev->memory_lock);
}

/* ---- open / close ------------------------------------------------------------ */

static void vfio_pci_msix_probe(struct vfio_pci_device *vpdev)
{
	struct pci_dev *pdev = vpdev->pdev;
	u16 flags;
	u32 table;

	vpdev->msix_bar = 0xff;
	vpdev->msix_can_grow = false;
	if (!pdev->msix_cap)
		return;
	pci_read_config_word(pdev, pdev->msix_cap + PCI_MSIX_FLAGS, &flags);
	pci_read_config_dword(pdev, pdev->msix_cap + PCI_MSIX_TABLE, &table);
	vpdev->msix_bar = table & PCI_MSIX_TABLE_BIR;
	vpdev->msix_offset = table & PCI_MSIX_TABLE_OFFSET;
	vpdev->msix_size = ((flags & PCI_MSIX_FLAGS_QSIZE) + 1) * PCI_MSIX_ENTRY_SIZE;
	vpdev->msix_can_grow = vfio_compat_msix_can_grow(pdev);
}

/*
 * A BAR smaller than a page maps too, as in-tree, when it starts a page and
 * the rest of that page can be claimed for it: the claim keeps a BAR placed
 * later (a hot-added device's) out of the page user space reaches.  When the
 * rest is taken already, the BAR stays pread/pwrite only.
 */
static bool vfio_pci_claim_page_rest(struct vfio_pci_device *vpdev, int bar)
{
	struct resource *res = &vpdev->pdev->resource[bar];
	struct resource *rest = &vpdev->bar_page_rest[bar];

	if (!res->parent)
		return false;
	*rest = (struct resource) {
		.name = "vfio sub-page reserved",
		.start = res->end + 1,
		.end = res->start + PAGE_SIZE - 1,
		.flags = res->flags,
	};
	return !request_resource(res->parent, rest);
}

/*
 * A BAR can be mapped when it is MMIO and starts a page: whole pages of its
 * own, or a smaller BAR with the rest of its page claimed.
 */
static void vfio_pci_mmap_probe(struct vfio_pci_device *vpdev)
{
	struct pci_dev *pdev = vpdev->pdev;
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		resource_size_t start = pci_resource_start(pdev, bar);
		resource_size_t len = pci_resource_len(pdev, bar);

		vpdev->bar_mmap[bar] = false;
		if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) || !len ||
		    !PAGE_ALIGNED(start))
			continue;
		if (len >= PAGE_SIZE)
			vpdev->bar_mmap[bar] = PAGE_ALIGNED(len);
		else
			vpdev->bar_mmap[bar] = vfio_pci_claim_page_rest(vpdev, bar);
	}
}

static void vfio_pci_mmap_release(struct vfio_pci_device *vpdev)
{
	int bar;

	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++)
		if (vpdev->bar_page_rest[bar].parent)
			release_resource(&vpdev->bar_page_rest[bar]);
}

/* ---- resets ------------------------------------------------------------------ */

/* Every reset vfio-pci does or tries, for the vfio_device_reset event. */
void vfio_pci_trace_reset(struct vfio_pci_device *vpdev, u32 kind, int ret)
{
	trace_vfio_device_reset(vpdev->vdev.id, pci_name(vpdev->pdev), kind, ret);
}

/* ---- power state ----------------------------------------------------------- */

/*
 * Put the device in @state for user space (a PMCSR write) or for close.
 * A function without No_Soft_Reset comes back from D3hot reset, its config
 * lost: keep it across, as in-tree does.  Caller holds memory_lock for
 * write, taken through vfio_pci_memory_lock_and_zap() when @state stops
 * BAR access (D3hot).
 */
int vfio_pci_set_power_state(struct vfio_pci_device *vpdev, pci_power_t state)
{
	struct pci_dev *pdev = vpdev->pdev;
	bool save = false, restore = false;
	int ret;

	lockdep_assert_held_write(&vpdev->memory_lock);

	if (vpdev->needs_pm_restore) {
		save = pdev->current_state < PCI_D3hot && state >= PCI_D3hot;
		restore = pdev->current_state >= PCI_D3hot && state == PCI_D0;
	}
	if (save)
		pci_save_state(pdev);
	ret = pci_set_power_state(pdev, state);
	if (ret)
		return ret;
	/* A quirk may keep the device out of D3hot: then nothing to keep. */
	if (save && pdev->current_state >= PCI_D3hot) {
		kfree(vpdev->pm_save);
		vpdev->pm_save = pci_store_saved_state(pdev);
	} else if (restore) {
		pci_load_and_free_saved_state(pdev, &vpdev->pm_save);
		pci_restore_state(pdev);
	}
	return 0;
}

static void vfio_pci_probe_power_state(struct vfio_pci_device *vpdev)
{
	struct pci_dev *pdev = vpdev->pdev;
	u16 pmcsr;

	vpdev->needs_pm_restore = false;
	if (!pdev->pm_cap)
		return;
	pci_read_config_word(pdev, pdev->pm_cap + PCI_PM_CTRL, &pmcsr);
	vpdev->needs_pm_restore = !(pmcsr & PCI_PM_CTRL_NO_SOFT_RESET);
}

static int vfio_pci_enable(struct vfio_pci_device *vpdev)
{
	struct pci_dev *pdev = vpdev->pdev;
	u16 cmd;
	int ret;

	ret = pci_enable_device(pdev);	/* in D0 from here */
	if (ret)
		return ret;
	vfio_pci_probe_power_state(vpdev);

	/* Start from a clean device; EAGAIN means someone holds its lock. */
	ret = pci_try_reset_function(pdev);
	vfio_pci_trace_reset(vpdev, VFIO_TRACE_RESET_OPEN, ret);
	if (ret == -EAGAIN)
		goto err_disable;
	vpdev->reset_works = !ret;

	pci_save_state(pdev);
	vpdev->saved_state = pci_store_saved_state(pdev);
	if (!vpdev->saved_state)
		pci_dbg(pdev, "cannot store the config state to restore on close\n");

	vpdev->pci_2_3 = !nointxmask && pci_intx_mask_supported(pdev);
	pci_read_config_word(pdev, PCI_COMMAND, &cmd);
	if (vpdev->pci_2_3 && (cmd & PCI_COMMAND_INTX_DISABLE))
		pci_write_config_word(pdev, PCI_COMMAND,
				      cmd & ~PCI_COMMAND_INTX_DISABLE);

	ret = vfio_pci_config_init(vpdev);
	if (ret)
		goto err_free_state;

	vfio_pci_msix_probe(vpdev);
	vfio_pci_mmap_probe(vpdev);
	vpdev->irq_type = VFIO_PCI_IRQ_NONE;
	vpdev->virq_disabled = false;
	vfio_pci_eeh_open(pdev);
	return 0;

err_free_state:
	pci_load_and_free_saved_state(pdev, &vpdev->saved_state);
err_disable:
	pci_disable_device(pdev);
	return ret;
}

/* Returns whether the device was reset, so that nothing of the user's is left. */
static bool vfio_pci_disable(struct vfio_pci_device *vpdev)
{
	struct pci_dev *pdev = vpdev->pdev;
	bool restored, reset = false;

	/* The PE's errors are the platform's again from here, as in 6.1. */
	vfio_pci_eeh_release(pdev);

	/* No more DMA, no more interrupts, whatever user space left. */
	pci_clear_master(pdev);
	vfio_pci_irqs_teardown(vpdev);
	/* Their writes go through the BAR maps released below. */
	vfio_pci_ioeventfds_release(vpdev);
	/*
	 * Every vma holds the file, so none should be left; but decode goes
	 * off here, and that is never done with a BAR page mapped.
	 */
	vfio_pci_memory_lock_and_zap(vpdev);
	/* User space may have left it in D3hot, where no reset works. */
	vfio_pci_set_power_state(vpdev, PCI_D0);
	kfree(vpdev->pm_save);
	vpdev->pm_save = NULL;
	pci_write_config_word(pdev, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE);
	up_write(&vpdev->memory_lock);

	vfio_pci_barmap_release_all(vpdev);
	vfio_pci_mmap_release(vpdev);
	vfio_pci_config_free(vpdev);

	/*
	 * Put back the state of open time, reset on top when we can.  Only a
	 * trylock: close can run while remove() holds the device lock and
	 * waits for this very fd to go.
	 */
	restored = !pci_load_and_free_saved_state(pdev, &vpdev->saved_state);
	if (restored || vpdev->reset_works) {
		if (!restored)
			pci_save_state(pdev);
		pci_write_config_word(pdev, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE);
		if (vpdev->reset_works) {
			int ret = -EAGAIN;

			if (pci_dev_trylock(pdev)) {
				ret = __pci_reset_function_locked(pdev);
				pci_dev_unlock(pdev);
			}
			vfio_pci_trace_reset(vpdev, VFIO_TRACE_RESET_CLOSE, ret);
			reset = !ret;
		}
		pci_restore_state(pdev);
	}
	pci_disable_device(pdev);
	return reset;
}

/*
 * Opens and closes wait for, and hold off, a slot or bus reset of the set.
 * An open device holds a runtime PM reference (vfio_pci_pm.c), so it stays
 * in D0, or in the state user space puts it in through PMCSR, until close
 * or LOW_POWER_ENTRY.
 */
static int vfio_pci_open_device(struct vfio_device *vdev)
{
	struct vfio_pci_device *vpdev = to_vfio_pci(vdev);
	int ret;

	ret = vfio_pci_pm_open(vpdev);
	if (ret)
		return ret;
	mutex_lock(&vpdev->reset_set->lock);
	ret = vfio_pci_enable(vpdev);
	vpdev->opened = !ret;
	mutex_unlock(&vpdev->reset_set->lock);
	if (ret) {
		vfio_pci_pm_close(vpdev);
		return ret;
	}
	vfio_pci_vf_users_add(vpdev, 1);
	return 0;
}

static void vfio_pci_close_device(struct vfio_device *vdev)
{
	struct vfio_pci_device *vpdev = to_vfio_pci(vdev);

	vfio_pci_vf_users_add(vpdev, -1);
	vfio_pci_low_power_exit(vpdev);
	mutex_lock(&vpdev->reset_set->lock);
	vpdev->needs_reset = !vfio_pci_disable(vpdev);
	vpdev->opened = false;
	vfio_pci_reset_set_closed(vpdev);
	mutex_unlock(&vpdev->reset_set->lock);
	vfio_pci_pm_close(vpdev);
}

/* ---- ioctls -------------------------------------------------------------------- */

static long vfio_pci_ioctl_get_info(struct vfio_pci_device *vpdev,
				    struct vfio_device_info __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_info, num_irqs);
	struct vfio_device_info info;

	/* The padding too: 6.12 copies it back (compat.h). */
	memset(&info, 0, sizeof(info));
	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	/* We have no capabilities to chain: cap_offset 0 to callers that ask. */
	minsz = vfio_compat_info_copy_size(info.argsz, minsz,
			offsetofend(struct vfio_device_info, cap_offset),
			sizeof(info));

	info.flags = VFIO_DEVICE_FLAGS_PCI;
	if (vpdev->reset_works)
		info.flags |= VFIO_DEVICE_FLAGS_RESET;
	info.num_regions = VFIO_PCI_NUM_REGIONS;
	info.num_irqs = VFIO_PCI_NUM_IRQS;

	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

/* Is a ROM really there behind the ROM BAR? */
static bool vfio_pci_rom_present(struct vfio_pci_device *vpdev)
{
	void __iomem *io;
	size_t size;
	u16 cmd;

	cmd = vfio_pci_memory_lock_and_enable(vpdev);
	io = pci_map_rom(vpdev->pdev, &size);
	if (io)
		pci_unmap_rom(vpdev->pdev, io);
	vfio_pci_memory_unlock_and_restore(vpdev, cmd);
	return io;
}

static long vfio_pci_ioctl_get_region_info(struct vfio_pci_device *vpdev,
					   struct vfio_region_info __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_region_info, offset);
	struct pci_dev *pdev = vpdev->pdev;
	struct vfio_region_info info;
	bool msix_mappable = false;

	if (copy_from_user(&info, arg, minsz))
		return -EFAULT;
	if (info.argsz < minsz)
		return -EINVAL;

	switch (info.index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		info.offset = VFIO_PCI_INDEX_TO_OFFSET(info.index);
		info.size = pdev->cfg_size;
		info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		break;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		info.offset = VFIO_PCI_INDEX_TO_OFFSET(info.index);
		info.size = pci_resource_len(pdev, info.index);
		info.flags = 0;
		if (!info.size)
			break;
		info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
		if (vpdev->bar_mmap[info.index]) {
			info.flags |= VFIO_REGION_INFO_FLAG_MMAP;
			/*
			 * As in-tree: the BAR holding the MSI-X table maps
			 * whole, table included.  Interrupt remapping (or the
			 * container's allow_unsafe_interrupts) is what keeps
			 * a rogue table entry from reaching other MSI targets,
			 * not the mapping; pread/pwrite still hide the table.
			 */
			msix_mappable = info.index == vpdev->msix_bar;
		}
		break;
	case VFIO_PCI_ROM_REGION_INDEX:
		/* The BAR's size, not the ROM image's; read-only. */
		info.offset = VFIO_PCI_INDEX_TO_OFFSET(info.index);
		info.size = pci_resource_len(pdev, PCI_ROM_RESOURCE);
		info.flags = 0;
		if (!info.size)
			break;
		if (vfio_pci_rom_present(vpdev))
			info.flags = VFIO_REGION_INFO_FLAG_READ;
		else
			info.size = 0;
		break;
	default:
		/*
		 * VGA (index 8) is never exposed: as in-tree for a device
		 * that is not VGA, its info is EINVAL.
		 */
		return -EINVAL;
	}

	/* The one capability we chain: a header with no body, last in the chain. */
	if (msix_mappable) {
		struct vfio_info_cap_header cap = {
			.id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
			.version = 1,
			.next = 0,
		};

		info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
		if (info.argsz < sizeof(info) + sizeof(cap)) {
			/* Too small: say how much is needed, chain nothing. */
			info.argsz = sizeof(info) + sizeof(cap);
			info.cap_offset = 0;
		} else {
			if (copy_to_user(arg + 1, &cap, sizeof(cap)))
				return -EFAULT;
			info.cap_offset = sizeof(info);
		}
	}

	return copy_to_user(arg, &info, minsz) ? -EFAULT : 0;
}

static long vfio_pci_ioctl_reset(struct vfio_pci_device *vpdev)
{
	int ret;

	if (!vpdev->reset_works) {
		ret = -EINVAL;
	} else {
		/* No BAR access from user space while the device is in reset. */
		vfio_pci_memory_lock_and_zap(vpdev);
		ret = pci_try_reset_function(vpdev->pdev);
		up_write(&vpdev->memory_lock);
	}
	vfio_pci_trace_reset(vpdev, VFIO_TRACE_RESET_IOCTL, ret);
	return ret;
}

static long vfio_pci_ioctl(struct vfio_device *vdev, unsigned int cmd,
			   unsigned long arg)
{
	struct vfio_pci_device *vpdev = to_vfio_pci(vdev);
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_DEVICE_GET_INFO:
		return vfio_pci_ioctl_get_info(vpdev, uarg);
	case VFIO_DEVICE_GET_REGION_INFO:
		return vfio_pci_ioctl_get_region_info(vpdev, uarg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return vfio_pci_ioctl_get_irq_info(vpdev, uarg);
	case VFIO_DEVICE_SET_IRQS:
		return vfio_pci_ioctl_set_irqs(vpdev, uarg);
	case VFIO_DEVICE_RESET:
		return vfio_pci_ioctl_reset(vpdev);
	case VFIO_DEVICE_IOEVENTFD:
		return vfio_pci_ioctl_ioeventfd(vpdev, uarg);
	case VFIO_DEVICE_GET_PCI_HOT_RESET_INFO:
		return vfio_pci_ioctl_get_hot_reset_info(vpdev, uarg);
	case VFIO_DEVICE_PCI_HOT_RESET:
		return vfio_pci_ioctl_hot_reset(vpdev, uarg);
	default:
		return -ENOTTY;
	}
}

/* ---- read / write / mmap ---------------------------------------------------- */

static ssize_t __vfio_pci_rw(struct vfio_pci_device *vpdev, char __user *buf,
			     size_t count, loff_t *ppos, bool iswrite)
{
	u64 index = VFIO_PCI_OFFSET_TO_INDEX((u64)*ppos);

	switch (index) {
	case VFIO_PCI_CONFIG_REGION_INDEX:
		return vfio_pci_config_rw(vpdev, buf, count, ppos, iswrite);
	case VFIO_PCI_ROM_REGION_INDEX:
		if (iswrite)
			return -EINVAL;
		fallthrough;
	case VFIO_PCI_BAR0_REGION_INDEX ... VFIO_PCI_BAR5_REGION_INDEX:
		return vfio_pci_bar_rw(vpdev, buf, count, ppos, iswrite);
	default:
		return -EINVAL;
	}
}

/*
 * Awake for the access, as in 6.1: after LOW_POWER_ENTRY the device may be
 * suspended, and this wakes it (ending the low-power state if it was
 * entered with a wake eventfd).
 */
static ssize_t vfio_pci_rw(struct vfio_pci_device *vpdev, char __user *buf,
			   size_t count, loff_t *ppos, bool iswrite)
{
	struct device *dev = &vpdev->pdev->dev;
	ssize_t ret;

	if (!count)
		return 0;
	if (pm_runtime_resume_and_get(dev)) {
		pci_info_ratelimited(vpdev->pdev, "cannot wake for a read or write\n");
		return -EIO;
	}
	ret = __vfio_pci_rw(vpdev, buf, count, ppos, iswrite);
	pm_runtime_put(dev);
	return ret;
}

static ssize_t vfio_pci_read(struct vfio_device *vdev, char __user *buf,
			     size_t count, loff_t *ppos)
{
	return vfio_pci_rw(to_vfio_pci(vdev), buf, count, ppos, false);
}

static ssize_t vfio_pci_write(struct vfio_device *vdev, const char __user *buf,
			      size_t count, loff_t *ppos)
{
	return vfio_pci_rw(to_vfio_pci(vdev), (char __user *)buf, count, ppos, true);
}

static int vfio_pci_mmap(struct vfio_device *vdev, struct vm_area_struct *vma)
{
	return vfio_pci_bar_mmap(to_vfio_pci(vdev), vma);
}

static void vfio_pci_request(struct vfio_device *vdev, unsigned int count)
{
	vfio_pci_irqs_signal_req(to_vfio_pci(vdev), count);
}

/* As 6.1's vfio_check_feature(): 1 to go on, 0 for a probe, or -errno. */
int vfio_pci_check_feature(u32 flags, size_t argsz, u32 ops, size_t minsz)
{
	if ((flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)) & ~ops)
		return -EINVAL;
	if (flags & VFIO_DEVICE_FEATURE_PROBE)
		return 0;
	if (!(flags & (VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_SET)))
		return -EINVAL;
	if (argsz < minsz)
		return -EINVAL;
	return 1;
}

/* The device features of 6.1's vfio-pci; ENOTTY for any other, as 6.1. */
static int vfio_pci_device_feature(struct vfio_device *vdev, u32 flags,
				   void __user *arg, size_t argsz)
{
	struct vfio_pci_device *vpdev = to_vfio_pci(vdev);

	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
	case VFIO_DEVICE_FEATURE_LOW_POWER_EXIT:
		return vfio_pci_feature_low_power(vpdev, flags, arg, argsz);
	case VFIO_DEVICE_FEATURE_PCI_VF_TOKEN:
		return vfio_pci_feature_vf_token(vpdev, flags, arg, argsz);
	default:
		return -ENOTTY;
	}
}

static const struct vfio_device_ops vfio_pci_ops = {
	.name		= "vfio-pci",
	.open_device	= vfio_pci_open_device,
	.close_device	= vfio_pci_close_device,
	.read		= vfio_pci_read,
	.write		= vfio_pci_write,
	.ioctl		= vfio_pci_ioctl,
	.device_feature	= vfio_pci_device_feature,
	.mmap		= vfio_pci_mmap,
	.request	= vfio_pci_request,
	.match		= vfio_pci_match,		/* vfio_pci_sriov.c */
};

/* ---- the PCI driver ------------------------------------------------------------ */

static int vfio_pci_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct vfio_pci_device *vpdev;
	int ret;

	/* Bridges and cardbus: their windows belong to the host. */
	if (pdev->hdr_type != PCI_HEADER_TYPE_NORMAL)
		return -EINVAL;

	vpdev = kzalloc(sizeof(*vpdev), GFP_KERNEL);
	if (!vpdev)
		return -ENOMEM;

	vfio_init_group_dev(&vpdev->vdev, &pdev->dev, &vfio_pci_ops);
	vpdev->pdev = pdev;
	vpdev->irq_type = VFIO_PCI_IRQ_NONE;
	mutex_init(&vpdev->cfg_lock);
	mutex_init(&vpdev->barmap_lock);
	init_rwsem(&vpdev->memory_lock);
	mutex_init(&vpdev->vma_lock);
	INIT_LIST_HEAD(&vpdev->vma_list);
	mutex_init(&vpdev->igate);
	spin_lock_init(&vpdev->irqlock);
	mutex_init(&vpdev->ioeventfds_lock);
	INIT_LIST_HEAD(&vpdev->ioeventfds);
	ret = vfio_pci_sriov_probe(vpdev);
	if (ret)
		goto err_free;
	dev_set_drvdata(&pdev->dev, vpdev);

	ret = vfio_pci_reset_set_join(vpdev);
	if (ret)
		goto err_sriov;

	vfio_pci_pm_probe(pdev);	/* from here it may idle */
	ret = vfio_register_group_dev(&vpdev->vdev);
	if (ret)
		goto err_pm;
	return 0;

err_pm:
	vfio_pci_pm_remove(pdev);
	vfio_pci_reset_set_leave(vpdev);
err_sriov:
	vfio_pci_sriov_remove(vpdev);
err_free:
	dev_set_drvdata(&pdev->dev, NULL);
	kfree(vpdev);
	return ret;
}

static void vfio_pci_remove(struct pci_dev *pdev)
{
	struct vfio_pci_device *vpdev = dev_get_drvdata(&pdev->dev);

	/* The VFs go first: each waits for its own users. */
	vfio_pci_sriov_disable(vpdev);
	/* Blocks, asking through ops->request, until every fd is closed. */
	vfio_unregister_group_dev(&vpdev->vdev);
	vfio_pci_sriov_remove(vpdev);
	vfio_pci_pm_remove(pdev);
	vfio_pci_reset_set_leave(vpdev);
	dev_set_drvdata(&pdev->dev, NULL);
	kfree(vpdev);
}

static pci_ers_result_t vfio_pci_error_detected(struct pci_dev *pdev,
						pci_channel_state_t state)
{
	struct vfio_pci_device *vpdev = dev_get_drvdata(&pdev->dev);

	if (vpdev)
		vfio_pci_irqs_signal_err(vpdev);
	return PCI_ERS_RESULT_CAN_RECOVER;
}

static const struct pci_error_handlers vfio_pci_err_handlers = {
	.error_detected = vfio_pci_error_detected,
};

/*
 * No id table: a device binds only when user space asks, through
 * driver_override or ids=.  DMA is the user's, through vfio.ko, so the
 * driver core must not claim the kernel's DMA API for us.
 */
static struct pci_driver vfio_pci_driver = {
	.name			= "vfio-pci",
	.probe			= vfio_pci_probe,
	.remove			= vfio_pci_remove,
	.err_handler		= &vfio_pci_err_handlers,
	.sriov_configure	= vfio_pci_sriov_configure,
	.driver.pm		= &vfio_pci_pm_ops,
	.driver_managed_dma	= true,
};

static void __init vfio_pci_ids_add(void)
{
	char *p = ids, *id;

	while ((id = strsep(&p, ","))) {
		unsigned int vendor, device, subvendor = PCI_ANY_ID,
			subdevice = PCI_ANY_ID, class = 0, class_mask = 0;
		int ret;

		if (!*id)
			continue;
		if (sscanf(id, "%x:%x:%x:%x:%x:%x", &vendor, &device,
			   &subvendor, &subdevice, &class, &class_mask) < 2) {
			pr_warn("invalid id string \"%s\"\n", id);
			continue;
		}
		ret = pci_add_dynid(&vfio_pci_driver, vendor, device, subvendor,
				    subdevice, class, class_mask, 0);
		if (ret)
			pr_warn("failed to add dynamic id %s: %d\n", id, ret);
		else
			pr_info("add [%04x:%04x[%04x:%04x]] class %#08x/%08x\n",
				vendor, device, subvendor, subdevice, class,
				class_mask);
	}
}

static int __init vfio_pci_init(void)
{
	int ret;

	ret = pci_register_driver(&vfio_pci_driver);
	if (ret)
		return ret;
	vfio_pci_ids_add();
	return 0;
}

static void __exit vfio_pci_exit(void)
{
	pci_unregister_driver(&vfio_pci_driver);
}

module_init(vfio_pci_init);
module_exit(vfio_pci_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(VFIOSCOPE_MODULE_VERSION("0"));
MODULE_DESCRIPTION("vfioscope VFIO PCI bus driver");
