// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime PM, as 6.1's vfio-pci does it:
 *   - a bound device that no one has open idles: the PCI core puts it in
 *     D3hot (when it has a PM capability) once no runtime PM reference is
 *     held, unless vfio-pci was loaded with disable_idle_d3;
 *   - an open holds one reference until the last close, and every device
 *     ioctl (vfio.ko), read and write holds one while it runs;
 *   - VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY lets the open device go too: it
 *     drops the open's reference, so the device suspends between accesses,
 *     with no BAR page mapped and INTx masked, until LOW_POWER_EXIT or the
 *     close.  With LOW_POWER_ENTRY_WITH_WAKEUP the first wake (an ioctl, a
 *     read or write, a reset of its slot or bus) ends it and signals the
 *     eventfd given.
 * pm_runtime_engaged and pm_wake_trigger are under memory_lock (write), as
 * a BAR fault reads the first under it.
 */
#include <linux/eventfd.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/uaccess.h>

#include "vfio_pci_priv.h"

/* Read at probe, open, close and remove: set it at module load. */
static bool disable_idle_d3;
module_param(disable_idle_d3, bool, 0444);
MODULE_PARM_DESC(disable_idle_d3, "Keep bound devices that no one has open in D0 instead of letting runtime PM put them in D3hot");

/*
 * The PCI core probes with runtime PM forbidden (pci_pm_init) and with a
 * reference of its own (local_pci_probe), for the driver to drop once its
 * device may idle.  The device's state is unknown to the PCI core at boot
 * and after another driver let go of it, and from there D0 is the one way
 * out: D0 first, as in-tree, so that D3hot can follow.
 */
void vfio_pci_pm_probe(struct pci_dev *pdev)
{
	pci_set_power_state(pdev, PCI_D0);
	pm_runtime_allow(&pdev->dev);
	if (!disable_idle_d3)
		pm_runtime_put(&pdev->dev);
}

/* Give the PCI core its reference back, and runtime PM as probe found it. */
void vfio_pci_pm_remove(struct pci_dev *pdev)
{
	if (!disable_idle_d3)
		pm_runtime_get_noresume(&pdev->dev);
	pm_runtime_forbid(&pdev->dev);
}

/* The open's reference; with disable_idle_d3, probe's serves. */
int vfio_pci_pm_open(struct vfio_pci_device *vpdev)
{
	return disable_idle_d3 ? 0 : pm_runtime_resume_and_get(&vpdev->pdev->dev);
}

void vfio_pci_pm_close(struct vfio_pci_device *vpdev)
{
	if (!disable_idle_d3)
		pm_runtime_put(&vpdev->pdev->dev);
}

/* ---- the low-power features ------------------------------------------------- */

/* Caller holds memory_lock (write). */
static void __vfio_pci_low_power_exit(struct vfio_pci_device *vpdev)
{
	lockdep_assert_held_write(&vpdev->memory_lock);

	if (!vpdev->pm_runtime_engaged)
		return;
	vpdev->pm_runtime_engaged = false;
	pm_runtime_get_noresume(&vpdev->pdev->dev);	/* the open's, again */
	if (vpdev->pm_wake_trigger) {
		eventfd_ctx_put(vpdev->pm_wake_trigger);
		vpdev->pm_wake_trigger = NULL;
	}
}

static void vfio_pci_low_power_end(struct vfio_pci_device *vpdev)
{
	down_write(&vpdev->memory_lock);
	__vfio_pci_low_power_exit(vpdev);
	up_write(&vpdev->memory_lock);
}

/*
 * At close, before anything touches the device: end the low-power state
 * user space left, and wake the device if it went.
 */
void vfio_pci_low_power_exit(struct vfio_pci_device *vpdev)
{
	vfio_pci_low_power_end(vpdev);
	pm_runtime_resume(&vpdev->pdev->dev);
}

/*
 * Drop the open's reference: the ioctl's own, let go as it returns, is
 * then the last.  Consumes @wake on success.
 */
static int vfio_pci_low_power_entry(struct vfio_pci_device *vpdev,
				    struct eventfd_ctx *wake)
{
	/* No BAR page stays mapped into a device that may be in D3hot. */
	vfio_pci_memory_lock_and_zap(vpdev);
	if (vpdev->pm_runtime_engaged) {
		up_write(&vpdev->memory_lock);
		return -EINVAL;
	}
	vpdev->pm_runtime_engaged = true;
	vpdev->pm_wake_trigger = wake;
	pm_runtime_put_noidle(&vpdev->pdev->dev);
	up_write(&vpdev->memory_lock);
	return 0;
}

static int vfio_pci_feature_low_power_entry(struct vfio_pci_device *vpdev,
					    u32 flags, size_t argsz)
{
	int ret = vfio_pci_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);

	return ret != 1 ? ret : vfio_pci_low_power_entry(vpdev, NULL);
}

static int vfio_pci_feature_low_power_entry_wakeup(struct vfio_pci_device *vpdev,
		u32 flags, struct vfio_device_low_power_entry_with_wakeup __user *arg,
		size_t argsz)
{
	struct vfio_device_low_power_entry_with_wakeup entry;
	struct eventfd_ctx *wake;
	int ret;

	ret = vfio_pci_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET,
				     sizeof(entry));
	if (ret != 1)
		return ret;
	if (copy_from_user(&entry, arg, sizeof(entry)))
		return -EFAULT;
	if (entry.wakeup_eventfd < 0)
		return -EINVAL;
	wake = vfio_pci_eventfd_get(entry.wakeup_eventfd);
	if (IS_ERR(wake))
		return PTR_ERR(wake);
	ret = vfio_pci_low_power_entry(vpdev, wake);
	if (ret)
		eventfd_ctx_put(wake);
	return ret;
}

/*
 * The device is awake here (vfio.ko holds a reference across the ioctl):
 * if a wake eventfd was given, that wake already ended the low-power state
 * and this finds nothing to do, as in 6.1.
 */
static int vfio_pci_feature_low_power_exit(struct vfio_pci_device *vpdev,
					   u32 flags, size_t argsz)
{
	int ret = vfio_pci_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, 0);

	if (ret != 1)
		return ret;
	vfio_pci_low_power_end(vpdev);
	return 0;
}

/* The LOW_POWER_* features (vfio_pci_device_feature() picks them). */
int vfio_pci_feature_low_power(struct vfio_pci_device *vpdev, u32 flags,
			       void __user *arg, size_t argsz)
{
	switch (flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY:
		return vfio_pci_feature_low_power_entry(vpdev, flags, argsz);
	case VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP:
		return vfio_pci_feature_low_power_entry_wakeup(vpdev, flags, arg, argsz);
	default:
		return vfio_pci_feature_low_power_exit(vpdev, flags, argsz);
	}
}

/* ---- the PCI core's callbacks -------------------------------------------------- */

/*
 * Before the PCI core saves the config and enters D3hot: a device user
 * space left in D3hot through PMCSR goes to D0 first, its config restored
 * (pm_save), so the PCI core saves and later restores that; INTx is masked
 * so that a device that still asserts it finds no handler to storm.
 */
static int vfio_pci_runtime_suspend(struct device *dev)
{
	struct vfio_pci_device *vpdev = dev_get_drvdata(dev);

	down_write(&vpdev->memory_lock);
	vfio_pci_set_power_state(vpdev, PCI_D0);
	up_write(&vpdev->memory_lock);
	vpdev->pm_intx_masked = vfio_pci_intx_mask(vpdev);
	return 0;
}

static int vfio_pci_runtime_resume(struct device *dev)
{
	struct vfio_pci_device *vpdev = dev_get_drvdata(dev);

	down_write(&vpdev->memory_lock);
	if (vpdev->pm_wake_trigger) {
		vfio_compat_eventfd_signal(vpdev->pm_wake_trigger);
		__vfio_pci_low_power_exit(vpdev);
	}
	up_write(&vpdev->memory_lock);
	if (vpdev->pm_intx_masked)
		vfio_pci_intx_unmask(vpdev);
	return 0;
}

const struct dev_pm_ops vfio_pci_pm_ops = {
	SET_RUNTIME_PM_OPS(vfio_pci_runtime_suspend, vfio_pci_runtime_resume, NULL)
};
