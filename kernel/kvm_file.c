// SPDX-License-Identifier: GPL-2.0
/*
 * What KVM asks of a VFIO file.  KVM's kvm-vfio device (virt/kvm/vfio.c)
 * is handed a file by user space (KVM_DEV_VFIO_FILE_ADD) and finds these
 * functions with symbol_get(), so that kvm.ko loads without vfio.ko:
 *   6.1:  vfio_file_is_group, vfio_file_enforced_coherent,
 *         vfio_file_set_kvm, vfio_file_iommu_group (SPAPR only)
 *   6.12: vfio_file_is_valid instead of vfio_file_is_group
 * We export the union on both series, with <linux/vfio.h>'s signatures.
 *
 * Our VFIO files are group files; on 6.5 and later a device file is one
 * too (compat.h: VFIO_COMPAT_KVM_TAKES_DEVICE_FILES), because 6.12 tells
 * its device files by their fops, which the device cdev (that we do not
 * have) and VFIO_GROUP_GET_DEVICE_FD share.  Any other file is not VFIO.
 *
 * The VM recorded by vfio_file_set_kvm() reaches a device at its first
 * open, with a reference held until its last close, as 6.12 does: 6.1
 * handed the bare pointer to the driver, which then had to take its own
 * reference, and could not do so safely against the VM's teardown.
 */
#include <linux/fs.h>
#include <linux/kvm_host.h>
#include <linux/module.h>

#include "vfio.h"

/* A device file, when KVM takes device files at all. */
static struct vfio_device *vfio_kvm_device_from_file(struct file *file)
{
	if (!VFIO_COMPAT_KVM_TAKES_DEVICE_FILES)
		return NULL;
	return vfio_device_from_file(file);
}

bool vfio_file_is_group(struct file *file)
{
	return vfio_group_from_file(file);
}
EXPORT_SYMBOL_GPL(vfio_file_is_group);

/*
 * 6.1 has no such function: ours answers as its vfio_file_is_group() did,
 * the question kvm.ko asked there.
 */
bool vfio_file_is_valid(struct file *file)
{
	return vfio_group_from_file(file) || vfio_kvm_device_from_file(file);
}
EXPORT_SYMBOL_GPL(vfio_file_is_valid);

/* ---- cache coherency ----------------------------------------------------- */

/*
 * 6.1: the container's IOMMU backend knows (VFIO_DMA_CC_IOMMU).  A group
 * in no container is coherent until it joins one: KVM asks again after
 * user space has set one up.  A container with no backend set yet polls
 * the registered backends, which answer 0 without a domain.
 */
static bool vfio_group_coherent_by_container(struct vfio_group *group)
{
	bool ret = true;

	mutex_lock(&group->group_lock);
	if (group->container)
		ret = vfio_container_ioctl_check_extension(group->container,
							   VFIO_DMA_CC_IOMMU) > 0;
	mutex_unlock(&group->group_lock);
	return ret;
}

/*
 * 6.2 and later: every device's IOMMU must be able to enforce coherency;
 * a domain attached later is then one that does, whatever the container.
 */
static bool vfio_group_coherent_by_device(struct vfio_group *group)
{
	struct vfio_device *vdev;
	bool ret = true;

	mutex_lock(&group->device_lock);
	list_for_each_entry(vdev, &group->device_list, group_next) {
		if (!vfio_compat_dev_enforces_coherency(vdev->dev)) {
			ret = false;
			break;
		}
	}
	mutex_unlock(&group->device_lock);
	return ret;
}

/*
 * False lets the guest use wbinvd and the like (KVM registers
 * non-coherent DMA).  A file that is not VFIO is coherent on both series.
 */
bool vfio_file_enforced_coherent(struct file *file)
{
	struct vfio_group *group = vfio_group_from_file(file);
	struct vfio_device *vdev;

	if (group)
		return VFIO_COMPAT_KVM_COHERENT_BY_DEVICE ?
		       vfio_group_coherent_by_device(group) :
		       vfio_group_coherent_by_container(group);
	vdev = vfio_kvm_device_from_file(file);
	if (vdev)
		return vfio_compat_dev_enforces_coherency(vdev->dev);
	return true;
}
EXPORT_SYMBOL_GPL(vfio_file_enforced_coherent);

/* ---- the VM -------------------------------------------------------------- */

/*
 * Link the group to @kvm, or unlink it (NULL); devices opened from now on
 * get it.  KVM holds @kvm across the call.  A device file is accepted and
 * ignored: 6.12 keeps its VM for the cdev's bind, which we do not have.
 */
void vfio_file_set_kvm(struct file *file, struct kvm *kvm)
{
	struct vfio_group *group = vfio_group_from_file(file);

	if (!group)
		return;
	spin_lock(&group->kvm_lock);
	group->kvm = kvm;
	spin_unlock(&group->kvm_lock);
	/* Named by KVM's own id for it (its uevents' PID=), not its address. */
	trace_vfio_group_set_kvm(group->id, kvm ? kvm->userspace_pid : 0);
}
EXPORT_SYMBOL_GPL(vfio_file_set_kvm);

/*
 * Only KVM on IBM POWER asks, for the TCE tables of its guests; elsewhere
 * the answer is NULL on both series.  Returns an iommu_group reference.
 */
struct iommu_group *vfio_file_iommu_group(struct file *file)
{
	struct vfio_group *group = vfio_group_from_file(file);
	struct iommu_group *iommu_group = NULL;

	if (!IS_ENABLED(CONFIG_SPAPR_TCE_IOMMU) || !group)
		return NULL;
	/* None once the group is unplugged, as in 6.1. */
	mutex_lock(&group->group_lock);
	if (!group->unplugged)
		iommu_group = iommu_group_ref_get(group->iommu_group);
	mutex_unlock(&group->group_lock);
	return iommu_group;
}
EXPORT_SYMBOL_GPL(vfio_file_iommu_group);

/*
 * At a device's first open: the group's VM, if any and not being torn
 * down, with a reference.  kvm.ko may be gone (symbol_get() fails): then
 * no VM was set either, since only kvm.ko sets one.
 */
void vfio_device_get_kvm(struct vfio_device *vdev)
{
	struct vfio_group *group = vdev->group;
	bool (*get)(struct kvm *kvm);
	void (*put)(struct kvm *kvm);

	lockdep_assert_held(&vdev->open_lock);

	spin_lock(&group->kvm_lock);
	if (!group->kvm)
		goto out_unlock;
	/* Held while vdev->kvm is set; pairs with vfio_device_put_kvm(). */
	put = symbol_get(kvm_put_kvm);
	if (!put)
		goto out_unlock;
	get = symbol_get(kvm_get_kvm_safe);
	if (get && get(group->kvm)) {
		/* Pairs with put_kvm() in vfio_device_put_kvm(). */
		vdev->kvm = group->kvm;
		vdev->put_kvm = put;
	} else {
		symbol_put(kvm_put_kvm);
	}
	if (get)
		symbol_put(kvm_get_kvm_safe);
out_unlock:
	spin_unlock(&group->kvm_lock);
}

/*
 * At the last close, after close_device().  The VM's last put may tear it
 * down, and its kvm-vfio device then unlinks our group: vfio_file_set_kvm()
 * takes only group->kvm_lock, which is not held here.
 */
void vfio_device_put_kvm(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->open_lock);

	if (!vdev->kvm)
		return;
	vdev->put_kvm(vdev->kvm);
	vdev->kvm = NULL;
	vdev->put_kvm = NULL;
	symbol_put(kvm_put_kvm);
}
