// SPDX-License-Identifier: GPL-2.0
/*
 * vfio.ko: module init/exit and the globals every file shares.
 *
 * /dev/vfio/vfio is the container misc device (container.c); /dev/vfio/N
 * are the group char devices of the "vfio" class (group.c); device files
 * are anonymous inodes (device.c).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <vfioscope/version.h>

#include "vfio.h"

#define DRIVER_DESC "vfioscope VFIO core (legacy container/group uAPI)"

struct vfio_core vfio = {
	.group_lock = __MUTEX_INITIALIZER(vfio.group_lock),
	.group_list = LIST_HEAD_INIT(vfio.group_list),
	.iommu_drivers_lock = __MUTEX_INITIALIZER(vfio.iommu_drivers_lock),
	.iommu_drivers_list = LIST_HEAD_INIT(vfio.iommu_drivers_list),
};

static struct miscdevice vfio_container_miscdev = {
	.minor = VFIO_MINOR,
	.name = "vfio",
	.fops = &vfio_container_fops,
	.nodename = "vfio/vfio",
	.mode = 0666,	/* unprivileged: only a group grants access */
};

static char *vfio_group_devnode(VFIO_COMPAT_DEVNODE_CONST struct device *dev,
				umode_t *mode)
{
	return kasprintf(GFP_KERNEL, "vfio/%s", dev_name(dev));
}

/* Registered, not class_create()d: the latter's signature changed in 6.4. */
static struct class vfio_group_class = {
	.name = "vfio",
	.devnode = vfio_group_devnode,
};

static int __init vfio_init(void)
{
	int ret;

	ida_init(&vfio.group_minor_ida);
	ida_init(&vfio.container_ida);
	ida_init(&vfio.device_ida);
	vfio_fault_init();

	ret = vfio_virqfd_init();
	if (ret)
		goto err_fault;

	ret = misc_register(&vfio_container_miscdev);
	if (ret) {
		pr_err("vfio: cannot register misc device: %d\n", ret);
		goto err_virqfd;
	}

	ret = class_register(&vfio_group_class);
	if (ret)
		goto err_misc;
	vfio.class = &vfio_group_class;

	ret = alloc_chrdev_region(&vfio.group_devt, 0, MINORMASK + 1, "vfio");
	if (ret)
		goto err_class;

	pr_info(DRIVER_DESC "\n");
	return 0;

err_class:
	class_unregister(&vfio_group_class);
	vfio.class = NULL;
err_misc:
	misc_deregister(&vfio_container_miscdev);
err_virqfd:
	vfio_virqfd_exit();
err_fault:
	vfio_fault_exit();
	return ret;
}

static void __exit vfio_exit(void)
{
	/*
	 * Every group holds a module reference through its open files or
	 * through the bus driver module that registered its devices, so
	 * nothing is left here.
	 */
	WARN_ON(!list_empty(&vfio.group_list));
	WARN_ON(!list_empty(&vfio.iommu_drivers_list));

	unregister_chrdev_region(vfio.group_devt, MINORMASK + 1);
	class_unregister(&vfio_group_class);
	misc_deregister(&vfio_container_miscdev);
	vfio_virqfd_exit();
	vfio_fault_exit();
	ida_destroy(&vfio.device_ida);
	ida_destroy(&vfio.container_ida);
	ida_destroy(&vfio.group_minor_ida);
}

module_init(vfio_init);
module_exit(vfio_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(VFIOSCOPE_MODULE_VERSION("0.3"));
MODULE_DESCRIPTION(DRIVER_DESC);
MODULE_ALIAS_MISCDEV(VFIO_MINOR);
MODULE_ALIAS("devname:vfio/vfio");
