// SPDX-License-Identifier: GPL-2.0
/*
 * IOMMU backends (vfio_iommu_type1.ko) register here; containers are set
 * to one of them by VFIO_SET_IOMMU.  A container using a backend holds a
 * reference on its module, so a backend cannot unload under a container.
 */
#include <linux/module.h>
#include <linux/slab.h>

#include "vfio.h"

int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops)
{
	struct vfio_iommu_driver *driver, *tmp;
	int ret = 0;

	if (!ops || !ops->open || !ops->release || !ops->check_extension ||
	    !ops->ioctl || !ops->attach_group || !ops->detach_group)
		return -EINVAL;

	driver = kzalloc(sizeof(*driver), GFP_KERNEL);
	if (!driver)
		return -ENOMEM;
	driver->ops = ops;

	mutex_lock(&vfio.iommu_drivers_lock);
	list_for_each_entry(tmp, &vfio.iommu_drivers_list, vfio_next) {
		if (tmp->ops == ops) {
			ret = -EEXIST;
			goto out_unlock;
		}
	}
	list_add(&driver->vfio_next, &vfio.iommu_drivers_list);
	driver = NULL;
out_unlock:
	mutex_unlock(&vfio.iommu_drivers_lock);
	kfree(driver);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_register_iommu_driver);

void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops)
{
	struct vfio_iommu_driver *driver;

	mutex_lock(&vfio.iommu_drivers_lock);
	list_for_each_entry(driver, &vfio.iommu_drivers_list, vfio_next) {
		if (driver->ops == ops) {
			list_del(&driver->vfio_next);
			kfree(driver);
			break;
		}
	}
	mutex_unlock(&vfio.iommu_drivers_lock);
}
EXPORT_SYMBOL_GPL(vfio_unregister_iommu_driver);

/* VFIO_CHECK_EXTENSION on a container not set yet: any backend says yes. */
int vfio_iommu_drivers_check_extension(unsigned long arg)
{
	struct vfio_iommu_driver *driver;
	int ret = 0;

	mutex_lock(&vfio.iommu_drivers_lock);
	list_for_each_entry(driver, &vfio.iommu_drivers_list, vfio_next) {
		if (!try_module_get(driver->ops->owner))
			continue;
		ret = driver->ops->check_extension(NULL, arg);
		module_put(driver->ops->owner);
		if (ret > 0)
			break;
	}
	mutex_unlock(&vfio.iommu_drivers_lock);
	return ret > 0 ? ret : 0;
}

/*
 * VFIO_SET_IOMMU: the first backend that supports @arg opens a context and
 * takes every group of the container.  Caller holds container->group_lock
 * for writing.  -ENODEV when no backend supports @arg.
 */
int vfio_iommu_drivers_open(struct vfio_container *container,
			    unsigned long arg)
{
	struct vfio_iommu_driver *driver;
	struct vfio_group *group, *undo;
	int ret = -ENODEV;

	lockdep_assert_held_write(&container->group_lock);

	mutex_lock(&vfio.iommu_drivers_lock);
	list_for_each_entry(driver, &vfio.iommu_drivers_list, vfio_next) {
		const struct vfio_iommu_driver_ops *ops = driver->ops;
		void *data;

		/* Pairs with module_put() in vfio_container_detach_group(). */
		if (!try_module_get(ops->owner))
			continue;
		if (ops->check_extension(NULL, arg) <= 0) {
			module_put(ops->owner);
			continue;
		}

		data = ops->open(arg, container->id);
		if (IS_ERR(data)) {
			ret = PTR_ERR(data);
			module_put(ops->owner);
			continue;
		}

		ret = 0;
		list_for_each_entry(group, &container->group_list, container_next) {
			ret = ops->attach_group(data, group->iommu_group);
			if (ret)
				break;
		}
		if (ret) {
			list_for_each_entry(undo, &container->group_list,
					    container_next) {
				if (undo == group)
					break;
				ops->detach_group(data, undo->iommu_group);
			}
			ops->release(data);
			module_put(ops->owner);
			continue;
		}

		container->iommu_ops = ops;
		container->iommu_data = data;
		break;
	}
	mutex_unlock(&vfio.iommu_drivers_lock);
	return ret;
}
