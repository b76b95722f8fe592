// SPDX-License-Identifier: GPL-2.0
/*
 * Resets wider than one function.  A slot or bus reset touches every
 * device below the slot or on the bus, so, as in 6.1, the vfio-pci devices
 * one such reset touches form a reset set, and:
 *   - VFIO_DEVICE_GET_PCI_HOT_RESET_INFO lists the devices a reset of this
 *     device's slot (when it has a slot reset) or bus would touch, with
 *     their IOMMU groups;
 *   - VFIO_DEVICE_PCI_HOT_RESET does that reset, when every device it
 *     touches is bound to vfio-pci and user space shows it owns them all
 *     by passing the file of each one's group;
 *   - after the last close in the set, a device that was left unreset (it
 *     has no reset of its own) gets that reset, so the next user never
 *     sees the last one's state.
 * The set's lock serializes the opens and closes of its devices with these
 * resets: a device cannot be opened under a reset, nor reset while
 * another user of the set still has it open without having said so.
 */
#include <linux/file.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vfio_pci_priv.h"
#include "vfio_trace.h"

static DEFINE_MUTEX(vfio_pci_reset_sets_lock);	/* protects the list and refs */
static LIST_HEAD(vfio_pci_reset_sets);

/*
 * Which reset set a device joins at probe, keyed as 6.1 keys its device
 * sets: the slot when the slot can be reset, else the bus; a device on a
 * root bus (no bridge to reset it) is a set of its own.
 */
static const void *vfio_pci_reset_set_key(struct vfio_pci_device *vpdev)
{
	struct pci_dev *pdev = vpdev->pdev;

	if (pci_is_root_bus(pdev->bus))
		return vpdev;
	if (!pci_probe_reset_slot(pdev->slot))
		return pdev->slot;
	return pdev->bus;
}

int vfio_pci_reset_set_join(struct vfio_pci_device *vpdev)
{
	const void *key = vfio_pci_reset_set_key(vpdev);
	struct vfio_pci_reset_set *set;

	mutex_lock(&vfio_pci_reset_sets_lock);
	list_for_each_entry(set, &vfio_pci_reset_sets, node)
		if (set->key == key)
			goto found;
	set = kzalloc(sizeof(*set), GFP_KERNEL);
	if (!set) {
		mutex_unlock(&vfio_pci_reset_sets_lock);
		return -ENOMEM;
	}
	set->key = key;
	mutex_init(&set->lock);
	INIT_LIST_HEAD(&set->devices);
	list_add(&set->node, &vfio_pci_reset_sets);
found:
	set->refs++;
	mutex_lock(&set->lock);
	list_add_tail(&vpdev->reset_set_next, &set->devices);
	mutex_unlock(&set->lock);
	vpdev->reset_set = set;
	mutex_unlock(&vfio_pci_reset_sets_lock);
	return 0;
}

void vfio_pci_reset_set_leave(struct vfio_pci_device *vpdev)
{
	struct vfio_pci_reset_set *set = vpdev->reset_set;

	mutex_lock(&vfio_pci_reset_sets_lock);
	mutex_lock(&set->lock);
	list_del(&vpdev->reset_set_next);
	mutex_unlock(&set->lock);
	if (!--set->refs) {
		list_del(&set->node);
		mutex_destroy(&set->lock);
		kfree(set);
	}
	vpdev->reset_set = NULL;
	mutex_unlock(&vfio_pci_reset_sets_lock);
}

/* ---- what a slot or bus reset touches -------------------------------------- */

/* A slot reset where the slot has one, else a bus reset; -ENODEV: neither. */
static int vfio_pci_reset_scope(struct pci_dev *pdev, bool *slot)
{
	*slot = !pci_probe_reset_slot(pdev->slot);
	if (!*slot && pci_probe_reset_bus(pdev->bus))
		return -ENODEV;
	return 0;
}

static bool vfio_pci_below_slot(struct pci_dev *pdev, struct pci_slot *slot)
{
	for (; pdev; pdev = pdev->bus->self)
		if (pdev->bus == slot->bus)
			return pdev->slot == slot;
	return false;
}

struct vfio_pci_walk {
	int (*fn)(struct pci_dev *pdev, void *data);
	void *data;
	struct pci_slot *slot;		/* NULL: the whole bus */
	int ret;
};

static int vfio_pci_walk_one(struct pci_dev *pdev, void *data)
{
	struct vfio_pci_walk *walk = data;

	if (!walk->slot || vfio_pci_below_slot(pdev, walk->slot))
		walk->ret = walk->fn(pdev, walk->data);
	return walk->ret;
}

/*
 * Call @fn on each device a reset of @pdev's slot or bus touches (those
 * below its subordinate bridges too), until it returns non-zero.
 */
static int vfio_pci_for_each_touched(struct pci_dev *pdev, bool slot,
				     int (*fn)(struct pci_dev *, void *), void *data)
{
	struct vfio_pci_walk walk = {
		.fn = fn, .data = data, .slot = slot ? pdev->slot : NULL,
	};

	pci_walk_bus(pdev->bus, vfio_pci_walk_one, &walk);
	return walk.ret;
}

static int vfio_pci_count_one(struct pci_dev *pdev, void *data)
{
	(*(unsigned int *)data)++;
	return 0;
}

static int vfio_pci_in_set(struct pci_dev *pdev, void *data)
{
	struct vfio_pci_reset_set *set = data;
	struct vfio_pci_device *cur;

	list_for_each_entry(cur, &set->devices, reset_set_next)
		if (cur->pdev == pdev)
			return 0;
	return -EBUSY;
}

/*
 * The device to reset the set's slot or bus through, or NULL when that
 * reset is impossible or touches a device not bound to vfio-pci (a host
 * driver's, or none's): its state is not ours to lose.
 */
static struct pci_dev *vfio_pci_reset_set_resettable(struct vfio_pci_reset_set *set)
{
	struct pci_dev *pdev;
	bool slot;

	lockdep_assert_held(&set->lock);
	pdev = list_first_entry(&set->devices, struct vfio_pci_device,
				reset_set_next)->pdev;
	if (vfio_pci_reset_scope(pdev, &slot) ||
	    vfio_pci_for_each_touched(pdev, slot, vfio_pci_in_set, set))
		return NULL;
	return pdev;
}

/*
 * A slot or bus reset must find every device of the set awake: one that no
 * one has open may be runtime suspended in D3hot.  Hold them all in D0
 * across the reset, as 6.1 does.
 */
static int vfio_pci_reset_set_pm_get(struct vfio_pci_reset_set *set)
{
	struct vfio_pci_device *cur;
	int ret;

	list_for_each_entry(cur, &set->devices, reset_set_next) {
		ret = pm_runtime_resume_and_get(&cur->pdev->dev);
		if (ret)
			goto err_put;
	}
	return 0;

err_put:
	list_for_each_entry_continue_reverse(cur, &set->devices, reset_set_next)
		pm_runtime_put(&cur->pdev->dev);
	return ret;
}

static void vfio_pci_reset_set_pm_put(struct vfio_pci_reset_set *set)
{
	struct vfio_pci_device *cur;

	list_for_each_entry(cur, &set->devices, reset_set_next)
		pm_runtime_put(&cur->pdev->dev);
}

/* ---- after the last close ------------------------------------------------------ */

/*
 * Called by close_device with the set's lock held, @vpdev just closed.  6.1
 * does this too: a device without a reset of its own (no FLR, no PM reset,
 * not alone on its bus) would otherwise hand its state to the next user.
 */
void vfio_pci_reset_set_closed(struct vfio_pci_device *vpdev)
{
	struct vfio_pci_reset_set *set = vpdev->reset_set;
	struct vfio_pci_device *cur;
	bool needed = false;
	struct pci_dev *pdev;
	int ret;

	lockdep_assert_held(&set->lock);
	list_for_each_entry(cur, &set->devices, reset_set_next) {
		if (cur->opened)
			return;
		needed |= cur->needs_reset;
	}
	if (!needed)
		return;
	pdev = vfio_pci_reset_set_resettable(set);
	if (!pdev || vfio_pci_reset_set_pm_get(set))
		return;
	ret = pci_reset_bus(pdev);
	vfio_pci_reset_set_pm_put(set);
	list_for_each_entry(cur, &set->devices, reset_set_next) {
		if (!ret)
			cur->needs_reset = false;
		vfio_pci_trace_reset(cur, VFIO_TRACE_RESET_BUS, ret);
	}
}

/* ---- VFIO_DEVICE_GET_PCI_HOT_RESET_INFO ------------------------------------------ */

struct vfio_pci_fill {
	struct vfio_pci_dependent_device *devices;
	unsigned int cur, max;
};

static int vfio_pci_fill_one(struct pci_dev *pdev, void *data)
{
	struct vfio_pci_fill *fill = data;
	struct iommu_group *group;

	if (fill->cur == fill->max)
		return -EAGAIN;	/* a device came since we counted */
	group = iommu_group_get(&pdev->dev);
	if (!group)
		return -EPERM;
	fill->devices[fill->cur++] = (struct vfio_pci_dependent_device) {
		.group_id = iommu_group_id(group),
		.segment = pci_domain_nr(pdev->bus),
		.bus = pdev->bus->number,
		.devfn = pdev->devfn,
	};
	iommu_group_put(group);
	return 0;
}

long vfio_pci_ioctl_get_hot_reset_info(struct vfio_pci_device *vpdev,
				       struct vfio_pci_hot_reset_info __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset_info, count);
	struct vfio_pci_hot_reset_info hdr;
	struct vfio_pci_fill fill = {};
	bool slot;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz)
		return -EINVAL;
	hdr.flags = 0;

	ret = vfio_pci_reset_scope(vpdev->pdev, &slot);
	if (ret)
		return ret;
	vfio_pci_for_each_touched(vpdev->pdev, slot, vfio_pci_count_one, &fill.max);

	/* Too small: say how many there are, as 6.1 does, with ENOSPC. */
	if (hdr.argsz < sizeof(hdr) + fill.max * sizeof(*fill.devices)) {
		hdr.count = fill.max;
		return copy_to_user(arg, &hdr, minsz) ? -EFAULT : -ENOSPC;
	}

	fill.devices = kcalloc(fill.max, sizeof(*fill.devices), GFP_KERNEL);
	if (!fill.devices)
		return -ENOMEM;
	ret = vfio_pci_for_each_touched(vpdev->pdev, slot, vfio_pci_fill_one, &fill);
	/* One may have gone since we counted: then fewer. */
	if (!ret) {
		hdr.count = fill.cur;
		if (copy_to_user(arg, &hdr, minsz) ||
		    copy_to_user(arg->devices, fill.devices,
				 hdr.count * sizeof(*fill.devices)))
			ret = -EFAULT;
	}
	kfree(fill.devices);
	return ret;
}

/* ---- VFIO_DEVICE_PCI_HOT_RESET ------------------------------------------------------ */

static bool vfio_pci_in_files(struct vfio_pci_device *vpdev, struct file **files,
			      unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (vfio_file_has_dev(files[i], &vpdev->vdev))
			return true;
	return false;
}

/*
 * Every vfio-pci device of the set must be in one of the groups given:
 * bound to vfio-pci but not opened by this caller still counts, as in 6.1,
 * since another user may open it any time after.
 */
static int vfio_pci_reset_set_hot_reset(struct vfio_pci_device *vpdev,
					struct file **files, unsigned int n)
{
	struct vfio_pci_reset_set *set = vpdev->reset_set;
	struct vfio_pci_device *cur;
	struct pci_dev *pdev;
	int ret;

	mutex_lock(&set->lock);
	pdev = vfio_pci_reset_set_resettable(set);
	if (!pdev) {
		ret = -EINVAL;
		goto out_refused;
	}
	list_for_each_entry(cur, &set->devices, reset_set_next) {
		if (!vfio_pci_in_files(cur, files, n)) {
			ret = -EINVAL;
			goto out_refused;
		}
	}

	ret = vfio_pci_reset_set_pm_get(set);
	if (ret)
		goto out_refused;

	/* No BAR access to any of them while the bus is in reset. */
	vfio_pci_reset_set_memory_lock_and_zap(set);
	/*
	 * The reset puts every device in D0 under us; one user space put in
	 * D3hot would lose the config we keep for it (pm_save): bring it back
	 * to D0 first, as 6.1 does.
	 */
	list_for_each_entry(cur, &set->devices, reset_set_next)
		vfio_pci_set_power_state(cur, PCI_D0);
	ret = pci_reset_bus(pdev);
	vfio_pci_reset_set_memory_unlock(set);
	vfio_pci_reset_set_pm_put(set);

	list_for_each_entry(cur, &set->devices, reset_set_next)
		vfio_pci_trace_reset(cur, VFIO_TRACE_RESET_HOT, ret);
	mutex_unlock(&set->lock);
	return ret;

out_refused:
	mutex_unlock(&set->lock);
	vfio_pci_trace_reset(vpdev, VFIO_TRACE_RESET_HOT, ret);
	return ret;
}

long vfio_pci_ioctl_hot_reset(struct vfio_pci_device *vpdev,
			      struct vfio_pci_hot_reset __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_pci_hot_reset, count);
	struct vfio_pci_hot_reset hdr;
	unsigned int max = 0, n = 0;
	struct file **files;
	s32 *fds;
	bool slot;
	int ret;

	if (copy_from_user(&hdr, arg, minsz))
		return -EFAULT;
	if (hdr.argsz < minsz || hdr.flags ||
	    (VFIO_COMPAT_HOT_RESET_COUNT_FIRST && !hdr.count)) {
		ret = -EINVAL;
		goto out_trace;
	}

	ret = vfio_pci_reset_scope(vpdev->pdev, &slot);
	if (ret)
		goto out_trace;
	/*
	 * At most one group per device touched: bounds the copy whatever
	 * count user space claims.
	 */
	vfio_pci_for_each_touched(vpdev->pdev, slot, vfio_pci_count_one, &max);
	if (!hdr.count || hdr.count > max) {
		ret = -EINVAL;
		goto out_trace;
	}

	files = kcalloc(hdr.count, sizeof(*files), GFP_KERNEL);
	if (!files) {
		ret = -ENOMEM;
		goto out_trace;
	}
	fds = memdup_user(arg->group_fds, hdr.count * sizeof(*fds));
	if (IS_ERR(fds)) {
		ret = PTR_ERR(fds);
	} else {
		/* The group files hold their groups, so their devices, across the reset. */
		for (; n < hdr.count; n++) {
			files[n] = fget(fds[n]);
			if (!files[n]) {
				ret = -EBADF;
				break;
			}
			if (!vfio_file_is_group(files[n])) {
				fput(files[n]);
				ret = -EINVAL;
				break;
			}
		}
		kfree(fds);
	}
	if (!ret)
		ret = vfio_pci_reset_set_hot_reset(vpdev, files, n);	/* traces */
	else
		vfio_pci_trace_reset(vpdev, VFIO_TRACE_RESET_HOT, ret);
	while (n--)
		fput(files[n]);
	kfree(files);
	return ret;

out_trace:
	vfio_pci_trace_reset(vpdev, VFIO_TRACE_RESET_HOT, ret);
	return ret;
}
