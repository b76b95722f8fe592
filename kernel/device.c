// SPDX-License-Identifier: GPL-2.0
/*
 * Devices: registration by bus drivers, and the device files handed out by
 * VFIO_GROUP_GET_DEVICE_FD.
 *
 * A registered device has one "registration" reference; every open device
 * file adds one.  Unregistration drops its own and waits on the completion
 * for the files to go, asking user space through ops->request meanwhile.
 * A device file also holds the group file and one container user of the
 * group, so the group cannot leave its container under an open device.
 */
#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/sched.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "vfio.h"

/* ---- references ---------------------------------------------------------- */

/* false once unregistration has begun: no new users. */
noinline bool vfio_device_get(struct vfio_device *vdev)
{
	if (!refcount_inc_not_zero(&vdev->refcount))
		return false;
	vfio_trace_ref(get, DEVICE, vdev->id, refcount_read(&vdev->refcount));
	return true;
}

noinline void vfio_device_put(struct vfio_device *vdev)
{
	vfio_trace_ref(put, DEVICE, vdev->id, refcount_read(&vdev->refcount) - 1);
	if (refcount_dec_and_test(&vdev->refcount))
		complete(&vdev->comp);
}

/* ---- registration -------------------------------------------------------- */

void vfio_init_group_dev(struct vfio_device *vdev, struct device *dev,
			 const struct vfio_device_ops *ops)
{
	vdev->dev = dev;
	vdev->ops = ops;
	INIT_LIST_HEAD(&vdev->group_next);
	init_completion(&vdev->comp);
	mutex_init(&vdev->open_lock);
}
EXPORT_SYMBOL_GPL(vfio_init_group_dev);

int vfio_register_group_dev(struct vfio_device *vdev)
{
	struct iommu_group *iommu_group;
	struct vfio_group *group;
	struct vfio_device *other;
	int id, ret;

	if (!vdev->dev || !vdev->ops)
		return -EINVAL;

	iommu_group = iommu_group_get(vdev->dev);
	if (!iommu_group)
		return -EINVAL;	/* no IOMMU: we do not offer no-IOMMU mode */

	/*
	 * Mappings always carry IOMMU_CACHE and user space has no way to
	 * restore coherency itself: refuse devices that cannot honour it.
	 */
	if (!device_iommu_capable(vdev->dev, IOMMU_CAP_CACHE_COHERENCY)) {
		ret = -EINVAL;
		goto err_put_iommu_group;
	}

	/* Pairs with vfio_group_unregister_device() in vfio_unregister_group_dev(). */
	group = vfio_group_find_or_create(iommu_group);
	if (IS_ERR(group)) {
		ret = PTR_ERR(group);
		goto err_put_iommu_group;
	}

	/* Ids start at 1: 0 means "no device" in trace events. */
	id = ida_alloc_min(&vfio.device_ida, 1, GFP_KERNEL);
	if (id < 0) {
		ret = id;
		goto err_put_group;
	}

	vdev->id = id;
	vdev->group = group;
	vdev->open_count = 0;
	reinit_completion(&vdev->comp);
	/* The registration reference, dropped in vfio_unregister_group_dev(). */
	refcount_set(&vdev->refcount, 1);
	vfio_trace_ref(get, DEVICE, id, 1);

	mutex_lock(&group->device_lock);
	list_for_each_entry(other, &group->device_list, group_next) {
		if (other->dev == vdev->dev) {
			ret = -EBUSY;
			goto err_unlock;
		}
	}
	list_add(&vdev->group_next, &group->device_list);
	mutex_unlock(&group->device_lock);

	iommu_group_put(iommu_group);
	return 0;

err_unlock:
	mutex_unlock(&group->device_lock);
	ida_free(&vfio.device_ida, id);
	vdev->group = NULL;
err_put_group:
	vfio_group_unregister_device(group);
err_put_iommu_group:
	iommu_group_put(iommu_group);
	return ret;
}
EXPORT_SYMBOL_GPL(vfio_register_group_dev);

/*
 * Called from the bus driver's remove(), typically with the device lock
 * held: nothing on the device-file paths takes it, so waiting here cannot
 * deadlock with the files we wait for.
 */
void vfio_unregister_group_dev(struct vfio_device *vdev)
{
	struct vfio_group *group = vdev->group;
	unsigned int count = 0;

	/* Drop the registration reference: name lookups fail from now on. */
	vfio_device_put(vdev);

	while (!try_wait_for_completion(&vdev->comp)) {
		if (vdev->ops->request)
			vdev->ops->request(vdev, count);
		if (count == 1)
			dev_warn(vdev->dev,
				 "device in use, %s (%d) waits for user space to close it\n",
				 current->comm, task_pid_nr(current));
		count++;
		if (wait_for_completion_timeout(&vdev->comp, 10 * HZ))
			break;
	}

	mutex_lock(&group->device_lock);
	list_del_init(&vdev->group_next);
	mutex_unlock(&group->device_lock);

	ida_free(&vfio.device_ida, vdev->id);
	vdev->group = NULL;
	/*
	 * Pairs with vfio_group_find_or_create() in vfio_register_group_dev().
	 * The last device takes the group out of its container here, before
	 * the driver core may take the device out of its IOMMU group.
	 */
	vfio_group_unregister_device(group);
}
EXPORT_SYMBOL_GPL(vfio_unregister_group_dev);

/* The default of vfio_device_ops.match: "NAME" or "NAME OPTIONS". */
static int vfio_device_match_name(struct vfio_device *vdev, const char *buf)
{
	const char *name = dev_name(vdev->dev);
	size_t len = strlen(name);

	if (strncmp(buf, name, len))
		return 0;
	buf += len;
	if (!*buf)
		return 1;
	if (*buf != ' ')
		return 0;	/* a longer name */
	buf = skip_spaces(buf);
	/* No SR-IOV here, so no option (vf_token=) can be right. */
	return *buf ? -EINVAL : 1;
}

/*
 * The registered device of @group named by @buf, with a reference the
 * caller drops with vfio_device_put().  -ENODEV if there is none.
 */
struct vfio_device *vfio_group_device_get_by_name(struct vfio_group *group,
						  char *buf)
{
	struct vfio_device *vdev, *found = ERR_PTR(-ENODEV);
	int ret;

	mutex_lock(&group->device_lock);
	list_for_each_entry(vdev, &group->device_list, group_next) {
		if (vdev->ops->match)
			ret = vdev->ops->match(vdev, buf);
		else
			ret = vfio_device_match_name(vdev, buf);
		if (ret < 0) {
			found = ERR_PTR(ret);
			break;
		}
		if (ret) {
			if (vfio_device_get(vdev))
				found = vdev;
			break;
		}
	}
	mutex_unlock(&group->device_lock);
	return found;
}

/* ---- open and close ------------------------------------------------------ */

/* Runs the bus driver's open_device on the first open. */
static int vfio_device_first_open(struct vfio_device *vdev)
{
	int ret;

	lockdep_assert_held(&vdev->open_lock);

	/* The bus driver's module stays while one of its devices is open. */
	if (!try_module_get(vdev->dev->driver->owner))
		return -ENODEV;
	/* Pairs with vfio_device_put_kvm() below or in last_close. */
	vfio_device_get_kvm(vdev);
	if (vdev->ops->open_device) {
		ret = vdev->ops->open_device(vdev);
		if (ret) {
			vfio_device_put_kvm(vdev);
			module_put(vdev->dev->driver->owner);
			return ret;
		}
	}
	return 0;
}

static void vfio_device_last_close(struct vfio_device *vdev)
{
	lockdep_assert_held(&vdev->open_lock);

	if (vdev->ops->close_device)
		vdev->ops->close_device(vdev);
	vfio_device_put_kvm(vdev);
	/* Pairs with try_module_get() in vfio_device_first_open(). */
	module_put(vdev->dev->driver->owner);
}

static int vfio_device_fops_release(struct inode *inode, struct file *file)
{
	struct vfio_device *vdev = file->private_data;
	struct vfio_group *group = vdev->group;
	struct file *group_file;

	trace_vfio_device_release(vdev->id, group->id, dev_name(vdev->dev), 0);
	mutex_lock(&vdev->open_lock);
	if (!--vdev->open_count)
		vfio_device_last_close(vdev);
	mutex_unlock(&vdev->open_lock);

	mutex_lock(&group->group_lock);
	group_file = group->opened_file;
	/* Pairs with __vfio_group_container_user_get() in open_file. */
	__vfio_group_container_user_put(group);
	mutex_unlock(&group->group_lock);

	atomic_dec(&vfio.nr_device_files);
	/* After this, unregistration may complete and vdev may be freed. */
	vfio_device_put(vdev);
	/* Pairs with get_file() in vfio_device_open_file(). */
	fput(group_file);
	return 0;
}

static ssize_t vfio_device_fops_read(struct file *file, char __user *buf,
				     size_t count, loff_t *ppos)
{
	struct vfio_device *vdev = file->private_data;

	if (!vdev->ops->read)
		return -EINVAL;
	return vdev->ops->read(vdev, buf, count, ppos);
}

static ssize_t vfio_device_fops_write(struct file *file, const char __user *buf,
				      size_t count, loff_t *ppos)
{
	struct vfio_device *vdev = file->private_data;

	if (!vdev->ops->write)
		return -EINVAL;
	return vdev->ops->write(vdev, buf, count, ppos);
}

/*
 * VFIO_DEVICE_FEATURE: the header is checked here, before any feature is
 * asked for, as 6.1's vfio.ko does.  Migration and DMA logging are for
 * drivers with migration ops, which none of ours has.
 */
static long vfio_device_feature(struct vfio_device *vdev,
				struct vfio_device_feature __user *arg)
{
	size_t minsz = offsetofend(struct vfio_device_feature, flags);
	struct vfio_device_feature feature;

	if (copy_from_user(&feature, arg, minsz))
		return -EFAULT;
	if (feature.argsz < minsz)
		return -EINVAL;
	if (feature.flags & ~(VFIO_DEVICE_FEATURE_MASK | VFIO_DEVICE_FEATURE_SET |
			      VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_PROBE))
		return -EINVAL;
	/* GET and SET together only to probe for both. */
	if (!(feature.flags & VFIO_DEVICE_FEATURE_PROBE) &&
	    (feature.flags & VFIO_DEVICE_FEATURE_SET) &&
	    (feature.flags & VFIO_DEVICE_FEATURE_GET))
		return -EINVAL;

	switch (feature.flags & VFIO_DEVICE_FEATURE_MASK) {
	case VFIO_DEVICE_FEATURE_MIGRATION:
	case VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE:
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_START:
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP:
	case VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT:
#ifdef VFIO_DEVICE_FEATURE_MIG_DATA_SIZE	/* 6.2 */
	case VFIO_DEVICE_FEATURE_MIG_DATA_SIZE:
#endif
		return -ENOTTY;
	default:
		if (!vdev->ops->device_feature)
			return -EINVAL;
		return vdev->ops->device_feature(vdev, feature.flags, arg->data,
						 feature.argsz - minsz);
	}
}

static long __vfio_device_ioctl(struct vfio_device *vdev, unsigned int cmd,
				unsigned long arg)
{
	if (cmd == VFIO_DEVICE_FEATURE)
		return vfio_device_feature(vdev, (void __user *)arg);
	if (!vdev->ops->ioctl)
		return -EINVAL;
	return vdev->ops->ioctl(vdev, cmd, arg);
}

/*
 * A driver with runtime PM (vfio-pci) may let an open device suspend
 * (LOW_POWER_ENTRY): every ioctl runs with the device awake, as in 6.1.
 */
static long vfio_device_fops_unl_ioctl(struct file *file, unsigned int cmd,
				       unsigned long arg)
{
	struct vfio_device *vdev = file->private_data;
	struct device *dev = vdev->dev;
	bool pm = dev->driver && dev->driver->pm;
	long ret;

	if (pm && pm_runtime_resume_and_get(dev)) {
		dev_info_ratelimited(dev, "vfio: cannot wake the device for an ioctl\n");
		return -EIO;
	}
	ret = __vfio_device_ioctl(vdev, cmd, arg);
	if (pm)
		pm_runtime_put(dev);
	return ret;
}

static int vfio_device_fops_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct vfio_device *vdev = file->private_data;

	if (!vdev->ops->mmap)
		return -EINVAL;
	return vdev->ops->mmap(vdev, vma);
}

static const struct file_operations vfio_device_fops = {
	.owner = THIS_MODULE,
	.release = vfio_device_fops_release,
	.read = vfio_device_fops_read,
	.write = vfio_device_fops_write,
	.unlocked_ioctl = vfio_device_fops_unl_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = vfio_device_fops_mmap,
};

/* The device behind a device file, or NULL for any other file. */
struct vfio_device *vfio_device_from_file(struct file *file)
{
	return file->f_op == &vfio_device_fops ? file->private_data : NULL;
}

/*
 * A new file for @vdev; consumes the caller's device reference on success.
 * -EINVAL unless the group is in a container set to an IOMMU backend.
 */
struct file *vfio_device_open_file(struct vfio_device *vdev)
{
	struct vfio_group *group = vdev->group;
	struct file *file, *group_file;
	int ret;

	mutex_lock(&group->group_lock);
	ret = __vfio_group_container_user_get(group);
	if (ret) {
		mutex_unlock(&group->group_lock);
		return ERR_PTR(ret);
	}
	/* The group file stays open as long as the device file. */
	group_file = get_file(group->opened_file);
	mutex_unlock(&group->group_lock);

	mutex_lock(&vdev->open_lock);
	if (!vdev->open_count) {
		ret = vfio_device_first_open(vdev);
		if (ret)
			goto err_unlock;
	}
	vdev->open_count++;
	mutex_unlock(&vdev->open_lock);

	file = anon_inode_getfile("[vfio-device]", &vfio_device_fops, vdev,
				  O_RDWR);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto err_close;
	}
	file->f_mode |= FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE;
	atomic_inc(&vfio.nr_device_files);
	return file;

err_close:
	mutex_lock(&vdev->open_lock);
	if (!--vdev->open_count)
		vfio_device_last_close(vdev);
err_unlock:
	mutex_unlock(&vdev->open_lock);
	vfio_group_container_user_put(group);
	fput(group_file);
	return ERR_PTR(ret);
}
