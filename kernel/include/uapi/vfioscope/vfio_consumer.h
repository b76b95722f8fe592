/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * /dev/vfio-consumer: a test module (kernel/testing/vfio_consumer.c) that
 * uses vfio.ko's external-user API the way KVM's kvm-vfio device did: user
 * space hands it a VFIO group fd, it borrows the group and its container.
 *
 * Each open of /dev/vfio-consumer is one consumer (think: one VM).  Closing
 * it puts every group it still holds, except leaked ones.
 */
#ifndef __UAPI_VFIO_CONSUMER_H
#define __UAPI_VFIO_CONSUMER_H

#include <linux/ioctl.h>

#define VFIO_CONSUMER_TYPE 'V'

/*
 * Borrow the group behind the group fd passed as the argument (an int).
 * Returns the IOMMU group id, or -1 with errno: EBADF (not an fd), EINVAL
 * (not a VFIO group, no container, no IOMMU set), EEXIST (this consumer
 * already holds the group).
 */
#define VFIO_CONSUMER_GROUP_ADD		_IOW(VFIO_CONSUMER_TYPE, 0x40, int)

/* Put the group with this IOMMU group id (an int).  ENOENT: not held. */
#define VFIO_CONSUMER_GROUP_DEL		_IOW(VFIO_CONSUMER_TYPE, 0x41, int)

/*
 * Like GROUP_ADD, then forget the group: the reference is never put by
 * this consumer, not even on close.  A real leak, for vfio-leak to find.
 * Writing "release" to /sys/kernel/debug/vfio_consumer/leaks (or unloading
 * the module) puts leaked references, so tests can clean up.
 */
#define VFIO_CONSUMER_GROUP_LEAK	_IOW(VFIO_CONSUMER_TYPE, 0x42, int)

#endif /* __UAPI_VFIO_CONSUMER_H */
