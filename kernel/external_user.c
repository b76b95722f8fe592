// SPDX-License-Identifier: GPL-2.0
/*
 * External users: another kernel module (KVM-like) is handed a group file
 * by user space and borrows the group and its container, so the container
 * keeps its IOMMU context while the external user needs it, even after
 * user space closed the group file.  The group's last device waits for
 * them before it unregisters (group.c, vfio_group_unregister_device()).
 */
#include <linux/fs.h>
#include <linux/module.h>

#include "vfio.h"

struct vfio_group *vfio_group_get_external_user(struct file *filep)
{
	struct vfio_group *group = filep ? vfio_group_from_file(filep) : NULL;
	int ret;

	if (!group) {
		trace_vfio_external_user_get(0, 0, 0, _RET_IP_, -EINVAL);
		return ERR_PTR(-EINVAL);
	}

	mutex_lock(&group->group_lock);
	/* Pairs with the put in vfio_group_put_external_user(). */
	ret = __vfio_group_container_user_get(group);
	if (!ret) {
		group->external_users++;
		/* Pairs with vfio_group_put() in vfio_group_put_external_user(). */
		vfio_group_get(group);
	}
	trace_vfio_external_user_get(group->id, group->container ?
				     group->container->id : 0,
				     group->container_users, _RET_IP_, ret);
	mutex_unlock(&group->group_lock);

	return ret ? ERR_PTR(ret) : group;
}
EXPORT_SYMBOL_GPL(vfio_group_get_external_user);

int vfio_external_user_iommu_id(struct vfio_group *group)
{
	return iommu_group_id(group->iommu_group);
}
EXPORT_SYMBOL_GPL(vfio_external_user_iommu_id);

void vfio_group_put_external_user(struct vfio_group *group)
{
	mutex_lock(&group->group_lock);
	/* The container goes with the last user: name it before. */
	trace_vfio_external_user_put(group->id, group->container ?
				     group->container->id : 0,
				     group->container_users - 1, _RET_IP_, 0);
	__vfio_group_container_user_put(group);
	if (!--group->external_users)
		wake_up(&group->external_users_wq);
	mutex_unlock(&group->group_lock);
	vfio_group_put(group);
}
EXPORT_SYMBOL_GPL(vfio_group_put_external_user);
