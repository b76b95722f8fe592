// SPDX-License-Identifier: GPL-2.0
/*
 * Groups: /dev/vfio/N, one per IOMMU group that has a device registered
 * with vfio.ko (N is the IOMMU group id, also the group's trace id).
 *
 * Viability is checked at use time (GET_STATUS, SET_CONTAINER) by walking
 * the IOMMU group: every device must be unbound, registered with vfio.ko,
 * or bound to a PCI driver that manages DMA itself (pci-stub).  The IOMMU
 * core enforces the same thing for real: once SET_CONTAINER has claimed
 * the group's DMA ownership, no DMA-using kernel driver can bind to a
 * device of the group, so no notifier is needed.
 *
 * A group lives while a device of its IOMMU group is registered.  When
 * the last one unregisters, the group is unplugged (vfio_group_unplug()),
 * and a file still open on it is left with nothing to act on.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>

#include "vfio.h"

/* ---- references ---------------------------------------------------------- */

/* Memory goes with the group's struct device, after the last file close. */
static void vfio_group_dev_release(struct device *dev)
{
	struct vfio_group *group = container_of(dev, struct vfio_group, dev);

	ida_free(&vfio.group_minor_ida, MINOR(group->dev.devt));
	iommu_group_put(group->iommu_group);
	mutex_destroy(&group->device_lock);
	mutex_destroy(&group->group_lock);
	kfree(group);
	atomic_dec(&vfio.nr_groups);
}

/* The last reference: the group was unplugged when its last device went. */
static void vfio_group_release(struct kref *kref)
{
	struct vfio_group *group = container_of(kref, struct vfio_group, kref);

	WARN_ON(!group->unplugged);
	WARN_ON(!list_empty(&group->device_list));
	WARN_ON(group->container);
	put_device(&group->dev);
}

noinline void vfio_group_get(struct vfio_group *group)
{
	kref_get(&group->kref);
	vfio_trace_ref(get, GROUP, group->id, kref_read(&group->kref));
}

/* For the open path, which races with the last put: false if it lost. */
static noinline bool vfio_group_tryget(struct vfio_group *group)
{
	if (!kref_get_unless_zero(&group->kref))
		return false;
	vfio_trace_ref(get, GROUP, group->id, kref_read(&group->kref));
	return true;
}

noinline void vfio_group_put(struct vfio_group *group)
{
	vfio_trace_ref(put, GROUP, group->id, kref_read(&group->kref) - 1);
	kref_put(&group->kref, vfio_group_release);
}

/* ---- creation ------------------------------------------------------------ */

static struct vfio_group *__vfio_group_find(struct iommu_group *iommu_group)
{
	struct vfio_group *group;

	lockdep_assert_held(&vfio.group_lock);

	list_for_each_entry(group, &vfio.group_list, vfio_next) {
		if (group->iommu_group == iommu_group)
			return group;
	}
	return NULL;
}

static struct vfio_group *__vfio_group_create(struct iommu_group *iommu_group)
{
	struct vfio_group *group;
	int minor, ret;

	lockdep_assert_held(&vfio.group_lock);

	group = vfio_fault(VFIO_FAULT_ALLOC) ? NULL :
		kzalloc(sizeof(*group), GFP_KERNEL);
	if (!group)
		return ERR_PTR(-ENOMEM);

	minor = ida_alloc_max(&vfio.group_minor_ida, MINORMASK, GFP_KERNEL);
	if (minor < 0) {
		kfree(group);
		return ERR_PTR(minor);
	}

	/* Freed with the struct device from here on, even on error. */
	atomic_inc(&vfio.nr_groups);
	kref_init(&group->kref);	/* the caller's reference */
	group->drivers = 1;		/* the caller's registration */
	group->id = iommu_group_id(iommu_group);
	/* Pairs with iommu_group_put() in vfio_group_dev_release(). */
	group->iommu_group = iommu_group_ref_get(iommu_group);
	mutex_init(&group->device_lock);
	INIT_LIST_HEAD(&group->device_list);
	mutex_init(&group->group_lock);
	INIT_LIST_HEAD(&group->container_next);
	init_waitqueue_head(&group->external_users_wq);
	spin_lock_init(&group->kvm_lock);

	/* From here on, put_device() frees everything above. */
	device_initialize(&group->dev);
	group->dev.devt = MKDEV(MAJOR(vfio.group_devt), minor);
	group->dev.class = vfio.class;
	group->dev.release = vfio_group_dev_release;
	cdev_init(&group->cdev, &vfio_group_fops);
	group->cdev.owner = THIS_MODULE;

	ret = dev_set_name(&group->dev, "%u", group->id);
	if (ret)
		goto err_put_device;

	ret = cdev_device_add(&group->cdev, &group->dev);
	if (ret)
		goto err_put_device;

	list_add(&group->vfio_next, &vfio.group_list);
	vfio_trace_ref(get, GROUP, group->id, 1);
	return group;

err_put_device:
	put_device(&group->dev);
	return ERR_PTR(ret);
}

/*
 * The group of @iommu_group for a device being registered, created on
 * first use.  Returns with a registration (a group reference among them)
 * that the caller ends with vfio_group_unregister_device().
 */
struct vfio_group *vfio_group_find_or_create(struct iommu_group *iommu_group)
{
	struct vfio_group *group;

	mutex_lock(&vfio.group_lock);
	group = __vfio_group_find(iommu_group);
	if (group) {
		group->drivers++;
		vfio_group_get(group);
	} else {
		group = __vfio_group_create(iommu_group);
	}
	mutex_unlock(&vfio.group_lock);
	return group;
}

/* ---- unplug -------------------------------------------------------------- */

/*
 * The group's last device is leaving.  The group ends here, as 6.1's does:
 * its node goes and it leaves its container now, while the device is still
 * bound.  Right after, the driver core takes the device out of its IOMMU
 * group (iommu_release_device()), and 6.1's IOMMU core does that without
 * the IOMMU group's lock: a detach from a group file closed at that moment
 * would run beside it and corrupt the IOMMU driver's lists.  An open group
 * file stays, unplugged: its ioctls fail with ENODEV.
 */
static void vfio_group_unplug(struct vfio_group *group)
{
	lockdep_assert_held(&vfio.group_lock);
	lockdep_assert_held(&group->group_lock);

	list_del_init(&group->vfio_next);
	/* Under vfio.group_lock, which creates groups: a new one may take the name. */
	cdev_device_del(&group->cdev, &group->dev);
	group->unplugged = true;
	if (group->container) {
		/* No device file and no external user is left: the group file's. */
		WARN_ON(group->container_users != 1);
		group->container_users = 0;
		vfio_container_detach_group(group->container, group);
	}
}

/*
 * An external user holds the container by contract (external_user.c): the
 * last device waits for every one to let go before it unplugs the group,
 * as the legacy stack's last device waited for the group to leave its
 * container.  There is no way to ask them, so this waits as long as KVM
 * keeps the group, warning every 10 s.
 */
static void vfio_group_wait_external_users(struct vfio_group *group)
{
	while (!wait_event_timeout(group->external_users_wq,
				   !READ_ONCE(group->external_users), 10 * HZ))
		pr_warn("vfio: group %u: its last device waits for %u external user(s) to let go\n",
			group->id, READ_ONCE(group->external_users));
}

/*
 * A device's registration ends (or never completed): the pair of
 * vfio_group_find_or_create().  The last one unplugs the group.
 */
void vfio_group_unregister_device(struct vfio_group *group)
{
	mutex_lock(&vfio.group_lock);
	mutex_lock(&group->group_lock);
	while (group->drivers == 1 && group->external_users) {
		mutex_unlock(&group->group_lock);
		mutex_unlock(&vfio.group_lock);
		vfio_group_wait_external_users(group);
		mutex_lock(&vfio.group_lock);
		mutex_lock(&group->group_lock);
	}
	if (!--group->drivers)
		vfio_group_unplug(group);
	mutex_unlock(&group->group_lock);
	mutex_unlock(&vfio.group_lock);
	/* The registration's reference. */
	vfio_group_put(group);
}

/* ---- viability ----------------------------------------------------------- */

static bool vfio_group_has_device(struct vfio_group *group, struct device *dev)
{
	struct vfio_device *vdev;
	bool found = false;

	mutex_lock(&group->device_lock);
	list_for_each_entry(vdev, &group->device_list, group_next) {
		if (vdev->dev == dev) {
			found = true;
			break;
		}
	}
	mutex_unlock(&group->device_lock);
	return found;
}

static int vfio_group_dev_viable(struct device *dev, void *data)
{
	struct vfio_group *group = data;
	struct device_driver *drv = READ_ONCE(dev->driver);

	if (!drv || vfio_group_has_device(group, dev))
		return 0;
	/* pci-stub and the like: bound, but no DMA through the kernel. */
	if (dev_is_pci(dev) && to_pci_driver(drv)->driver_managed_dma)
		return 0;
	return -EBUSY;
}

bool vfio_group_viable(struct vfio_group *group)
{
	return !iommu_group_for_each_dev(group->iommu_group, group,
					 vfio_group_dev_viable);
}

/* ---- container users ----------------------------------------------------- */

/*
 * A device file or an external user starts using the group's container.
 * -EINVAL unless the group is in a container set to an IOMMU backend.
 */
int __vfio_group_container_user_get(struct vfio_group *group)
{
	lockdep_assert_held(&group->group_lock);

	if (!group->container || !READ_ONCE(group->container->iommu_ops))
		return -EINVAL;
	group->container_users++;
	return 0;
}

void __vfio_group_container_user_put(struct vfio_group *group)
{
	lockdep_assert_held(&group->group_lock);

	if (WARN_ON(!group->container_users))
		return;
	if (!--group->container_users)
		vfio_container_detach_group(group->container, group);
}

void vfio_group_container_user_put(struct vfio_group *group)
{
	mutex_lock(&group->group_lock);
	__vfio_group_container_user_put(group);
	mutex_unlock(&group->group_lock);
}

/* ---- ioctls -------------------------------------------------------------- */

static long vfio_group_ioctl_get_status(struct vfio_group *group,
					struct vfio_group_status __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_group_status, flags);
	struct vfio_group_status status;

	if (copy_from_user(&status, arg, minsz))
		return -EFAULT;
	if (status.argsz < minsz)
		return -EINVAL;

	status.flags = 0;
	mutex_lock(&group->group_lock);
	if (group->unplugged) {
		mutex_unlock(&group->group_lock);
		return -ENODEV;
	}
	if (group->container)
		status.flags |= VFIO_GROUP_FLAGS_CONTAINER_SET |
				VFIO_GROUP_FLAGS_VIABLE;
	else if (vfio_group_viable(group))
		status.flags |= VFIO_GROUP_FLAGS_VIABLE;
	mutex_unlock(&group->group_lock);

	if (copy_to_user(arg, &status, minsz))
		return -EFAULT;
	return 0;
}

static long vfio_group_ioctl_set_container(struct vfio_group *group,
					   int __user *arg)
{
	struct vfio_container *container;
	struct file *file;
	int fd, ret;

	if (get_user(fd, arg))
		return -EFAULT;

	/* A negative fd is EBADF too, as in 6.1. */
	file = fget(fd);
	if (!file) {
		trace_vfio_group_attach(group->id, 0, -EBADF);
		return -EBADF;
	}

	mutex_lock(&group->group_lock);
	container = vfio_container_from_file(file);
	if (group->container)
		ret = -EINVAL;
	else if (group->unplugged)
		ret = -ENODEV;
	else if (!container)
		ret = -VFIO_COMPAT_SET_CONTAINER_NOT_A_CONTAINER;
	else
		ret = vfio_container_attach_group(container, group);
	trace_vfio_group_attach(group->id, container ? container->id : 0, ret);
	mutex_unlock(&group->group_lock);

	fput(file);
	return ret;
}

static long vfio_group_ioctl_unset_container(struct vfio_group *group)
{
	int ret = 0;

	mutex_lock(&group->group_lock);
	if (!group->container)
		ret = -EINVAL;
	else if (group->container_users != 1)
		ret = -EBUSY;	/* open device files or external users */
	else
		__vfio_group_container_user_put(group);	/* traces the detach */
	if (ret)
		trace_vfio_group_detach(group->id, group->container ?
					group->container->id : 0, ret);
	mutex_unlock(&group->group_lock);
	return ret;
}

static long vfio_group_ioctl_get_device_fd(struct vfio_group *group,
					   char __user *arg)
{
	struct vfio_device *vdev;
	struct file *file;
	char *name;
	int fd, ret;

	name = strndup_user(arg, PAGE_SIZE);
	if (IS_ERR(name)) {
		trace_vfio_device_open(0, group->id, "", PTR_ERR(name));
		return PTR_ERR(name);
	}

	/* Pairs with vfio_device_put() below or in the file's release. */
	vdev = vfio_group_device_get_by_name(group, name);
	trace_vfio_device_open(IS_ERR(vdev) ? 0 : vdev->id, group->id, name,
			       PTR_ERR_OR_ZERO(vdev));
	kfree(name);
	if (IS_ERR(vdev))
		return PTR_ERR(vdev);

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto err_put_device;
	}

	file = vfio_device_open_file(vdev);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_put_fd;
	}

	fd_install(fd, file);
	return fd;

err_put_fd:
	put_unused_fd(fd);
err_put_device:
	vfio_device_put(vdev);
	return ret;
}

static long vfio_group_fops_unl_ioctl(struct file *file, unsigned int cmd,
				      unsigned long arg)
{
	struct vfio_group *group = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case VFIO_GROUP_GET_STATUS:
		return vfio_group_ioctl_get_status(group, uarg);
	case VFIO_GROUP_SET_CONTAINER:
		return vfio_group_ioctl_set_container(group, uarg);
	case VFIO_GROUP_UNSET_CONTAINER:
		return vfio_group_ioctl_unset_container(group);
	case VFIO_GROUP_GET_DEVICE_FD:
		return vfio_group_ioctl_get_device_fd(group, uarg);
	default:
		return -ENOTTY;
	}
}

/* ---- file ---------------------------------------------------------------- */

static int vfio_group_fops_open(struct inode *inode, struct file *file)
{
	/* The open cdev keeps the group's memory (its parent device) alive. */
	struct vfio_group *group =
		container_of(inode->i_cdev, struct vfio_group, cdev);
	int ret = 0;

	/* Pairs with vfio_group_put() in vfio_group_fops_release(). */
	if (!vfio_group_tryget(group)) {
		trace_vfio_group_open(group->id, -ENODEV);
		return -ENODEV;
	}

	mutex_lock(&group->group_lock);
	if (group->unplugged)
		ret = -ENODEV;	/* its last device unregistered meanwhile */
	/*
	 * One user of a group at a time.  An external user may still hold
	 * the container a closed file set: that is a user too, and it keeps
	 * "the open file owns one container user" true for the next file.
	 */
	if (!ret && (group->opened_file || group->container))
		ret = -EBUSY;
	if (!ret) {
		group->opened_file = file;
		file->private_data = group;
	}
	mutex_unlock(&group->group_lock);

	trace_vfio_group_open(group->id, ret);
	if (ret)
		vfio_group_put(group);
	return ret;
}

/*
 * Device files hold the group file, so this runs once they are all
 * closed; only external users can still use the container.
 */
static int vfio_group_fops_release(struct inode *inode, struct file *file)
{
	struct vfio_group *group = file->private_data;

	mutex_lock(&group->group_lock);
	if (group->container)
		__vfio_group_container_user_put(group);
	group->opened_file = NULL;
	mutex_unlock(&group->group_lock);

	trace_vfio_group_release(group->id, 0);
	vfio_group_put(group);
	return 0;
}

/* The group behind a group file, or NULL for any other file. */
struct vfio_group *vfio_group_from_file(struct file *file)
{
	return file->f_op == &vfio_group_fops ? file->private_data : NULL;
}

/*
 * Whether @file is the group file of @device's group: how vfio-pci's hot
 * reset checks that user space owns every device the reset touches.  The
 * caller holds a reference on the file and keeps @device registered.
 */
bool vfio_file_has_dev(struct file *file, struct vfio_device *device)
{
	struct vfio_group *group = vfio_group_from_file(file);

	return group && group == device->group;
}
EXPORT_SYMBOL_GPL(vfio_file_has_dev);

const struct file_operations vfio_group_fops = {
	.owner = THIS_MODULE,
	.open = vfio_group_fops_open,
	.release = vfio_group_fops_release,
	.unlocked_ioctl = vfio_group_fops_unl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};
