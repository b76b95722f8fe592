/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The in-kernel API of vfioscope's vfio.ko.
 *
 * Three kinds of users build against this header:
 *  - bus drivers (vfio-pci) that expose a device through a VFIO group,
 *  - IOMMU backends (vfio_iommu_type1) that a container is set to,
 *  - external users (a KVM-like module) that borrow a group and its
 *    container from a file descriptor user space handed them,
 *  - KVM itself, which finds the vfio_file_*() functions with symbol_get().
 *
 * Bus drivers also get virqfd: their functions run when an eventfd fires.
 *
 * The user-space ABI is Debian 6.1's <uapi/linux/vfio.h>, unchanged.
 * Out-of-tree users add kernel/include to their include path.
 */
#ifndef __VFIOSCOPE_VFIO_H
#define __VFIOSCOPE_VFIO_H

#include <linux/completion.h>
#include <linux/device.h>
#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/mm.h>
#include <linux/refcount.h>
#include <uapi/linux/vfio.h>

struct file;
struct kvm;
struct vfio_device;
struct vfio_group;
struct virqfd;

/* ---- bus drivers ------------------------------------------------------ */

/*
 * Callbacks a bus driver implements for its devices.  open_device runs on
 * the first open of a device fd and close_device on the last close, both
 * under the device's open lock; the other callbacks run on an open fd.
 */
struct vfio_device_ops {
	const char *name;
	int (*open_device)(struct vfio_device *vdev);
	void (*close_device)(struct vfio_device *vdev);
	ssize_t (*read)(struct vfio_device *vdev, char __user *buf,
			size_t count, loff_t *ppos);
	ssize_t (*write)(struct vfio_device *vdev, const char __user *buf,
			 size_t count, loff_t *ppos);
	long (*ioctl)(struct vfio_device *vdev, unsigned int cmd,
		      unsigned long arg);
	int (*mmap)(struct vfio_device *vdev, struct vm_area_struct *vma);
	/* Unregistration is waiting for user space to close the device. */
	void (*request)(struct vfio_device *vdev, unsigned int count);
	/*
	 * Optional: does the VFIO_GROUP_GET_DEVICE_FD string @buf name this
	 * device?  1 yes, 0 no, -errno fails the ioctl.  Without it the core
	 * accepts dev_name() alone or followed by spaces, and fails options
	 * after a space ("NAME vf_token=...") with -EINVAL, as 6.1's vfio-pci
	 * does for a device that is neither an SR-IOV PF nor a VF.
	 */
	int (*match)(struct vfio_device *vdev, char *buf);
	/*
	 * Optional: a VFIO_DEVICE_FEATURE the core does not serve, its header
	 * checked; @arg is the data after it, @argsz its size.  Without it
	 * the core answers -EINVAL, as 6.1's for such a driver.
	 */
	int (*device_feature)(struct vfio_device *vdev, u32 flags,
			      void __user *arg, size_t argsz);
};

/*
 * Embedded in the bus driver's own device structure (container_of).
 * Fields below "private" belong to vfio.ko.
 */
struct vfio_device {
	struct device *dev;
	const struct vfio_device_ops *ops;
	/*
	 * The VM user space linked to the device's group through KVM
	 * (vfio_file_set_kvm()) when the device was first opened, or NULL.
	 * Valid from open_device() to close_device(): vfio.ko holds a
	 * reference on the VM for that long.  A driver that keeps it longer
	 * takes its own.
	 */
	struct kvm *kvm;

	/* private to vfio.ko */
	struct vfio_group *group;
	struct list_head group_next;	/* in group->device_list */
	u32 id;				/* stable id for tracing */
	refcount_t refcount;		/* registration users; 1 while registered */
	struct completion comp;		/* refcount reached zero */
	struct mutex open_lock;		/* protects open_count */
	unsigned int open_count;	/* open device fds */
	/* kvm_put_kvm(), held with symbol_get() while kvm is set. */
	void (*put_kvm)(struct kvm *kvm);
};

/* Zero the structure, then init; register makes it visible to user space. */
void vfio_init_group_dev(struct vfio_device *vdev, struct device *dev,
			 const struct vfio_device_ops *ops);
int vfio_register_group_dev(struct vfio_device *vdev);
/* Waits, calling ops->request, until every fd of the device is closed. */
void vfio_unregister_group_dev(struct vfio_device *vdev);
/* Is @file the group file of @device's group?  (6.1's name and signature.) */
bool vfio_file_has_dev(struct file *file, struct vfio_device *device);

/* ---- virqfd (kernel/virqfd.c) ----------------------------------------- */

/*
 * Run handler(opaque, data) in atomic context when the eventfd @fd is
 * signalled (its count consumed), and thread(opaque, data) from a
 * workqueue when the handler returns non-zero or is NULL; the eventfd's
 * close tears it down.  *pvirqfd holds it, and must be NULL to enable
 * (-EBUSY).  disable returns once neither function runs any more.  The
 * in-tree names and signatures (<linux/vfio.h>), exported GPL.
 */
int vfio_virqfd_enable(void *opaque, int (*handler)(void *, void *),
		       void (*thread)(void *, void *), void *data,
		       struct virqfd **pvirqfd, int fd);
void vfio_virqfd_disable(struct virqfd **pvirqfd);
void vfio_virqfd_flush_thread(struct virqfd **pvirqfd);

/* ---- IOMMU backends --------------------------------------------------- */

/*
 * An IOMMU backend serves the containers set to it.  open() receives the
 * VFIO_SET_IOMMU argument and the container's id (for tracing), and
 * returns the backend's per-container data or an ERR_PTR.
 * check_extension() answers VFIO_CHECK_EXTENSION for a container not yet
 * set (iommu_data == NULL) as well as for one that is.  ioctl() receives
 * every container ioctl the core does not handle itself, under the
 * container's lock, so iommu_data stays valid for the call.
 * attach_group()/detach_group() run with the group's DMA ownership
 * claimed by vfio.ko (iommu_group_claim_dma_owner()).
 */
struct vfio_iommu_driver_ops {
	const char *name;
	struct module *owner;
	void *(*open)(unsigned long arg, u32 container_id);
	void (*release)(void *iommu_data);
	int (*check_extension)(void *iommu_data, unsigned long arg);
	long (*ioctl)(void *iommu_data, unsigned int cmd, unsigned long arg);
	int (*attach_group)(void *iommu_data, struct iommu_group *group);
	void (*detach_group)(void *iommu_data, struct iommu_group *group);
};

int vfio_register_iommu_driver(const struct vfio_iommu_driver_ops *ops);
void vfio_unregister_iommu_driver(const struct vfio_iommu_driver_ops *ops);

/* ---- external users (issue 4) ----------------------------------------- */

/*
 * Borrow the group behind a VFIO group file: fails with ERR_PTR(-EINVAL)
 * unless filep is a group file whose group is in a container with an IOMMU
 * backend set.  Holds the group and the container until the put.
 */
struct vfio_group *vfio_group_get_external_user(struct file *filep);
int vfio_external_user_iommu_id(struct vfio_group *group);
void vfio_group_put_external_user(struct vfio_group *group);

/* ---- KVM (kernel/kvm_file.c) ----------------------------------------- */

/*
 * What KVM's kvm-vfio device asks of a file user space hands it, with the
 * signatures of <linux/vfio.h>.  kvm.ko finds them with symbol_get(), so
 * vfio.ko may be absent.  A VFIO file here is a group file (and, on 6.5
 * and later, also a device file: see kernel/kvm_file.c).
 */
bool vfio_file_is_group(struct file *file);
bool vfio_file_is_valid(struct file *file);
bool vfio_file_enforced_coherent(struct file *file);
void vfio_file_set_kvm(struct file *file, struct kvm *kvm);
struct iommu_group *vfio_file_iommu_group(struct file *file);

#endif /* __VFIOSCOPE_VFIO_H */
