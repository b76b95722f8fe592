/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio.ko's private structures, shared by its files.
 *
 * Objects and who holds them:
 *  - container: one per open of /dev/vfio/vfio.  References: the container
 *    file, and each group attached to it.
 *  - group: one per IOMMU group with a registered device.  References: each
 *    registered device, the open group file, each external user.  The
 *    group's struct device (the /dev/vfio/N node) only keeps the memory.
 *    When its last device unregisters, the group is unplugged: out of its
 *    container, no node, its IOMMU group handed to no one (the reference
 *    stays until the free); an open group file outlives it.
 *  - device: embedded in the bus driver's structure.  Registration
 *    references (refcount_t + completion): the registration itself and each
 *    open device file.
 *
 * Lock order (outer first):
 *   vfio.group_lock -> group->group_lock (unplug)
 *   vfio.group_lock -> group->device_lock
 *   group->group_lock -> container->group_lock -> vfio.iommu_drivers_lock
 *   iommu core group mutex -> group->device_lock (viability walk)
 *   device->open_lock and group->group_lock are never nested.
 *   device->open_lock -> group->kvm_lock (innermost, a spinlock: KVM sets
 *   it from paths that may hold anything, and a VM's last put at device
 *   close calls back into vfio_file_set_kvm())
 */
#ifndef __VFIO_VFIO_H
#define __VFIO_VFIO_H

#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/idr.h>
#include <linux/kref.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/wait.h>
#include <vfioscope/compat.h>
#include <vfioscope/fault.h>
#include <vfioscope/vfio.h>

#include "vfio_trace.h"

/*
 * Reference events (vfio_ref_get/put): the count is read only while the
 * event is on.  Used inside the one get and one put function of each
 * object, which are noinline so that _RET_IP_ names whoever took or
 * dropped the reference.
 */
#define vfio_trace_ref(dir, kind, id, count) do {			\
	if (trace_vfio_ref_##dir##_enabled())				\
		trace_vfio_ref_##dir(VFIO_TRACE_OBJ_##kind, id, count,	\
				     _RET_IP_);				\
} while (0)

struct vfio_iommu_driver {
	const struct vfio_iommu_driver_ops *ops;
	struct list_head vfio_next;	/* in vfio.iommu_drivers_list */
};

struct vfio_container {
	struct kref kref;		/* vfio_container_get/put */
	u32 id;				/* from vfio.container_ida */
	struct rw_semaphore group_lock;	/* protects group_list, iommu_ops,
					 * iommu_data */
	struct list_head group_list;	/* struct vfio_group.container_next */
	/* Set by VFIO_SET_IOMMU; holds a reference on iommu_ops->owner. */
	const struct vfio_iommu_driver_ops *iommu_ops;
	void *iommu_data;
};

struct vfio_group {
	struct device dev;		/* /dev/vfio/<id>; frees the group */
	struct cdev cdev;
	struct kref kref;		/* vfio_group_get/put */
	u32 id;				/* = iommu_group_id() */
	struct iommu_group *iommu_group; /* reference held until free */
	struct list_head vfio_next;	/* in vfio.group_list until unplugged */
	/* Registrations, done or under way; under vfio.group_lock. */
	unsigned int drivers;

	struct mutex device_lock;	/* protects device_list */
	struct list_head device_list;	/* struct vfio_device.group_next */

	struct mutex group_lock;	/* protects the fields below */
	struct file *opened_file;	/* the one open group file, or NULL */
	struct vfio_container *container; /* holds a container reference */
	struct list_head container_next; /* in container->group_list */
	/*
	 * Users of the container through this group: 1 for the group file
	 * once SET_CONTAINER succeeded, +1 per open device file, +1 per
	 * external user.  The group leaves the container when it drops to 0.
	 */
	unsigned int container_users;
	unsigned int external_users;	/* of those, external users */
	wait_queue_head_t external_users_wq; /* the last device waits on it */
	/* The last device went: no container, no node, nothing to open. */
	bool unplugged;

	spinlock_t kvm_lock;		/* protects kvm */
	struct kvm *kvm;		/* vfio_file_set_kvm(); no reference */
};

/* vfio.ko's globals (vfio_main.c). */
struct vfio_core {
	struct class *class;
	dev_t group_devt;
	struct ida group_minor_ida;
	struct ida container_ida;
	struct ida device_ida;

	struct mutex group_lock;	/* protects group_list */
	struct list_head group_list;	/* struct vfio_group.vfio_next */

	struct mutex iommu_drivers_lock; /* protects iommu_drivers_list */
	struct list_head iommu_drivers_list;

	/* Objects alive, for /sys/kernel/debug/vfio/objects (fault.c). */
	atomic_t nr_containers;
	atomic_t nr_groups;
	atomic_t nr_device_files;
};

extern struct vfio_core vfio;

/* container.c */
extern const struct file_operations vfio_container_fops;
struct vfio_container *vfio_container_from_file(struct file *file);
void vfio_container_get(struct vfio_container *container);
void vfio_container_put(struct vfio_container *container);
int vfio_container_attach_group(struct vfio_container *container,
				struct vfio_group *group);
void vfio_container_detach_group(struct vfio_container *container,
				 struct vfio_group *group);
long vfio_container_ioctl_check_extension(struct vfio_container *container,
					  unsigned long arg);

/* group.c */
extern const struct file_operations vfio_group_fops;
struct vfio_group *vfio_group_from_file(struct file *file);
struct vfio_group *vfio_group_find_or_create(struct iommu_group *iommu_group);
void vfio_group_unregister_device(struct vfio_group *group);
void vfio_group_get(struct vfio_group *group);
void vfio_group_put(struct vfio_group *group);
int __vfio_group_container_user_get(struct vfio_group *group);
void __vfio_group_container_user_put(struct vfio_group *group);
void vfio_group_container_user_put(struct vfio_group *group);
bool vfio_group_viable(struct vfio_group *group);

/* device.c */
bool vfio_device_get(struct vfio_device *vdev);
void vfio_device_put(struct vfio_device *vdev);
struct vfio_device *vfio_group_device_get_by_name(struct vfio_group *group,
						  char *buf);
struct file *vfio_device_open_file(struct vfio_device *vdev);
struct vfio_device *vfio_device_from_file(struct file *file);

/* kvm_file.c */
void vfio_device_get_kvm(struct vfio_device *vdev);
void vfio_device_put_kvm(struct vfio_device *vdev);

/* fault.c */
void vfio_fault_init(void);
void vfio_fault_exit(void);

/* virqfd.c */
int vfio_virqfd_init(void);
void vfio_virqfd_exit(void);

/* iommu_drivers.c */
int vfio_iommu_drivers_check_extension(unsigned long arg);
int vfio_iommu_drivers_open(struct vfio_container *container,
			    unsigned long arg);

#endif /* __VFIO_VFIO_H */
