// SPDX-License-Identifier: GPL-2.0
/*
 * The container: /dev/vfio/vfio.  Each open is a new container; groups are
 * added to it through VFIO_GROUP_SET_CONTAINER, and VFIO_SET_IOMMU then
 * binds it to an IOMMU backend.  Removing the last group deprivileges the
 * container again (the backend is released), as in the legacy uAPI.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "vfio.h"

/* ---- references ---------------------------------------------------------- */

static void vfio_container_release(struct kref *kref)
{
	struct vfio_container *container =
		container_of(kref, struct vfio_container, kref);

	trace_vfio_container_release(container->id);
	/* The last group took the backend with it (vfio_container_detach_group). */
	WARN_ON(container->iommu_ops);
	WARN_ON(!list_empty(&container->group_list));
	ida_free(&vfio.container_ida, container->id);
	kfree(container);
	atomic_dec(&vfio.nr_containers);
}

noinline void vfio_container_get(struct vfio_container *container)
{
	kref_get(&container->kref);
	vfio_trace_ref(get, CONTAINER, container->id, kref_read(&container->kref));
}

noinline void vfio_container_put(struct vfio_container *container)
{
	vfio_trace_ref(put, CONTAINER, container->id,
		       kref_read(&container->kref) - 1);
	kref_put(&container->kref, vfio_container_release);
}

struct vfio_container *vfio_container_from_file(struct file *file)
{
	if (file->f_op != &vfio_container_fops)
		return NULL;
	return file->private_data;
}

/* ---- groups -------------------------------------------------------------- */

/*
 * Caller holds group->group_lock and has checked that the group is not in
 * a container yet.  Claims the group's DMA ownership from the IOMMU core:
 * this fails (-EPERM) while a kernel driver uses the group's default
 * domain, and keeps kernel drivers from binding while we own it.
 */
int vfio_container_attach_group(struct vfio_container *container,
				struct vfio_group *group)
{
	int ret;

	lockdep_assert_held(&group->group_lock);

	down_write(&container->group_lock);

	if (!vfio_group_viable(group)) {
		ret = -EPERM;
		goto out_unlock;
	}

	ret = iommu_group_claim_dma_owner(group->iommu_group, group);
	if (ret)
		goto out_unlock;

	if (container->iommu_ops) {
		ret = container->iommu_ops->attach_group(container->iommu_data,
							 group->iommu_group);
		if (ret)
			goto err_release_owner;
	}

	/* Pairs with vfio_container_put() in vfio_container_detach_group(). */
	vfio_container_get(container);
	group->container = container;
	group->container_users = 1;
	list_add(&group->container_next, &container->group_list);
	up_write(&container->group_lock);
	return 0;

err_release_owner:
	iommu_group_release_dma_owner(group->iommu_group);
out_unlock:
	up_write(&container->group_lock);
	return ret;
}

/* Caller holds group->group_lock; the group's last container user is gone. */
void vfio_container_detach_group(struct vfio_container *container,
				 struct vfio_group *group)
{
	lockdep_assert_held(&group->group_lock);

	trace_vfio_group_detach(group->id, container->id, 0);
	down_write(&container->group_lock);
	if (container->iommu_ops)
		container->iommu_ops->detach_group(container->iommu_data,
						   group->iommu_group);
	iommu_group_release_dma_owner(group->iommu_group);
	list_del(&group->container_next);
	group->container = NULL;

	/* The last group out deprivileges the container. */
	if (list_empty(&container->group_list) && container->iommu_ops) {
		const struct vfio_iommu_driver_ops *ops = container->iommu_ops;

		ops->release(container->iommu_data);
		container->iommu_ops = NULL;
		container->iommu_data = NULL;
		/* Pairs with try_module_get() in vfio_iommu_drivers_open(). */
		module_put(ops->owner);
	}
	up_write(&container->group_lock);

	/* Pairs with vfio_container_get() in vfio_container_attach_group(). */
	vfio_container_put(container);
}

/* ---- ioctls -------------------------------------------------------------- */

/* Also KVM's coherency question on 6.1 (kvm_file.c). */
long vfio_container_ioctl_check_extension(struct vfio_container *container,
					  unsigned long arg)
{
	long ret;

	down_read(&container->group_lock);
	if (container->iommu_ops)
		ret = container->iommu_ops->check_extension(container->iommu_data,
							    arg);
	else
		ret = vfio_iommu_drivers_check_extension(arg);
	up_read(&container->group_lock);
	return ret;
}

/*
 * Only a container holding a group may be set: the group is what grants
 * the right to allocate IOMMU resources.  There is no unset.
 */
static long vfio_container_ioctl_set_iommu(struct vfio_container *container,
					   unsigned long arg)
{
	int ret;

	down_write(&container->group_lock);
	if (list_empty(&container->group_list) || container->iommu_ops) {
		ret = -EINVAL;
		goto out_unlock;
	}
	ret = vfio_iommu_drivers_open(container, arg);
out_unlock:
	trace_vfio_iommu_set(container->id, container->iommu_ops ?
			     container->iommu_ops->name : "", arg, ret);
	up_write(&container->group_lock);
	return ret;
}

static long vfio_container_ioctl_backend(struct vfio_container *container,
					 unsigned int cmd, unsigned long arg)
{
	long ret = -EINVAL;

	/* Read side: the backend cannot be released during the call. */
	down_read(&container->group_lock);
	if (container->iommu_ops)
		ret = container->iommu_ops->ioctl(container->iommu_data, cmd, arg);
	up_read(&container->group_lock);
	return ret;
}

static long vfio_container_fops_unl_ioctl(struct file *file, unsigned int cmd,
					  unsigned long arg)
{
	struct vfio_container *container = file->private_data;

	switch (cmd) {
	case VFIO_GET_API_VERSION:
		return VFIO_API_VERSION;
	case VFIO_CHECK_EXTENSION:
		return vfio_container_ioctl_check_extension(container, arg);
	case VFIO_SET_IOMMU:
		return vfio_container_ioctl_set_iommu(container, arg);
	default:
		return vfio_container_ioctl_backend(container, cmd, arg);
	}
}

/* ---- file ---------------------------------------------------------------- */

static int vfio_container_fops_open(struct inode *inode, struct file *file)
{
	struct vfio_container *container;
	int id;

	container = vfio_fault(VFIO_FAULT_ALLOC) ? NULL :
		    kzalloc(sizeof(*container), GFP_KERNEL);
	if (!container)
		return -ENOMEM;

	/* Ids start at 1: 0 means "no container" in trace events. */
	id = ida_alloc_min(&vfio.container_ida, 1, GFP_KERNEL);
	if (id < 0) {
		kfree(container);
		return id;
	}

	container->id = id;
	kref_init(&container->kref);	/* put in vfio_container_fops_release() */
	init_rwsem(&container->group_lock);
	INIT_LIST_HEAD(&container->group_list);
	file->private_data = container;
	atomic_inc(&vfio.nr_containers);
	trace_vfio_container_open(id);
	vfio_trace_ref(get, CONTAINER, id, 1);
	return 0;
}

static int vfio_container_fops_release(struct inode *inode, struct file *file)
{
	struct vfio_container *container = file->private_data;

	file->private_data = NULL;
	trace_vfio_container_close(container->id);
	/* Groups still attached keep the container (and its mappings). */
	vfio_container_put(container);
	return 0;
}

const struct file_operations vfio_container_fops = {
	.owner = THIS_MODULE,
	.open = vfio_container_fops_open,
	.release = vfio_container_fops_release,
	.unlocked_ioctl = vfio_container_fops_unl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};
