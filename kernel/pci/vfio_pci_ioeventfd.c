// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci: ioeventfds (VFIO_DEVICE_IOEVENTFD).  User space (QEMU, for
 * the device registers its guest writes often, with a value it knows in
 * advance) has the kernel write @data, 1, 2, 4 or 8 bytes wide, at an
 * offset in a BAR each time an eventfd is signalled (a virqfd of vfio.ko),
 * without going through user space: KVM signals the eventfd from the
 * guest's trapped write.
 *
 * The write obeys memory decode as pread/pwrite do: while user space has
 * COMMAND.MEMORY off it is dropped (not EIO: nobody is there to be told),
 * as in-tree.  The handler runs in atomic context, where it can only try
 * memory_lock; when that fails the write is left to the virqfd's thread,
 * which waits for it.
 *
 * Checks and errnos are 6.1's (and 6.12's): only BARs, only inside the
 * BAR, not over the MSI-X table, at most VFIO_PCI_IOEVENTFD_MAX per
 * device, one per (BAR, offset, size, data).
 */
#include <linux/io.h>
/*
 * iowrite64() where the architecture has none of its own: on x86-64
 * iowrite64_lo_hi(), the function Debian's vfio-pci-core.ko calls too:
 * two 4-byte writes, the low half first, not one 8-byte access (edu's
 * 64-bit DMA source register ends up with all 8 bytes, on both stacks).
 */
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/list.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vfio_pci_priv.h"
#include "vfio_trace.h"

/* As in-tree: per device, across its BARs. */
#define VFIO_PCI_IOEVENTFD_MAX	1000

struct vfio_pci_ioeventfd {
	struct list_head node;		/* in vpdev->ioeventfds */
	struct vfio_pci_device *vpdev;
	struct virqfd *virqfd;
	void __iomem *addr;		/* in vpdev->barmap[bar] */
	u64 data;
	u64 pos;			/* offset in the BAR */
	int bar;
	int size;
	bool test_mem;			/* MMIO: needs memory decode on */
};

static void vfio_pci_ioeventfd_write(struct vfio_pci_ioeventfd *ioeventfd)
{
	switch (ioeventfd->size) {
	case 1:
		iowrite8(ioeventfd->data, ioeventfd->addr);
		break;
	case 2:
		iowrite16(ioeventfd->data, ioeventfd->addr);
		break;
	case 4:
		iowrite32(ioeventfd->data, ioeventfd->addr);
		break;
#ifdef iowrite64
	case 8:
		iowrite64(ioeventfd->data, ioeventfd->addr);
		break;
#endif
	}
}

/* virqfd handler: atomic context.  Non-zero: leave it to the thread. */
static int vfio_pci_ioeventfd_handler(void *opaque, void *unused)
{
	struct vfio_pci_ioeventfd *ioeventfd = opaque;
	struct vfio_pci_device *vpdev = ioeventfd->vpdev;

	if (!ioeventfd->test_mem) {
		vfio_pci_ioeventfd_write(ioeventfd);
		return 0;
	}
	if (!down_read_trylock(&vpdev->memory_lock))
		return 1;
	if (__vfio_pci_memory_enabled(vpdev))
		vfio_pci_ioeventfd_write(ioeventfd);
	up_read(&vpdev->memory_lock);
	return 0;
}

/* virqfd thread: memory_lock was contended in the handler. */
static void vfio_pci_ioeventfd_thread(void *opaque, void *unused)
{
	struct vfio_pci_ioeventfd *ioeventfd = opaque;
	struct vfio_pci_device *vpdev = ioeventfd->vpdev;

	down_read(&vpdev->memory_lock);
	if (__vfio_pci_memory_enabled(vpdev))
		vfio_pci_ioeventfd_write(ioeventfd);
	up_read(&vpdev->memory_lock);
}

/* Caller holds ioeventfds_lock. */
static void __vfio_pci_ioeventfd_free(struct vfio_pci_device *vpdev,
				      struct vfio_pci_ioeventfd *ioeventfd)
{
	lockdep_assert_held(&vpdev->ioeventfds_lock);

	/* Returns once neither handler nor thread runs: then it can go. */
	vfio_virqfd_disable(&ioeventfd->virqfd);
	list_del(&ioeventfd->node);
	vpdev->ioeventfds_nr--;
	kfree(ioeventfd);
}

/*
 * Register (fd >= 0) or remove (fd -1) the ioeventfd writing @data,
 * @size bytes, at device fd offset @offset.  A removal must name all
 * four as registered: ENODEV otherwise.
 */
static int vfio_pci_ioeventfd_set(struct vfio_pci_device *vpdev, u64 offset,
				  u64 data, int size, int fd)
{
	struct pci_dev *pdev = vpdev->pdev;
	int bar = VFIO_PCI_OFFSET_TO_INDEX(offset);
	u64 pos = offset & VFIO_PCI_OFFSET_MASK;
	struct vfio_pci_ioeventfd *ioeventfd;
	void __iomem *io;
	int ret;

	if (bar > VFIO_PCI_BAR5_REGION_INDEX)
		return -EINVAL;
	/* An absent BAR has length 0. */
	if (pos + size > pci_resource_len(pdev, bar))
		return -EINVAL;
	/* The MSI-X table is the kernel's, as for pwrite. */
	if (bar == vpdev->msix_bar &&
	    pos + size > vpdev->msix_offset &&
	    pos < vpdev->msix_offset + vpdev->msix_size)
		return -EINVAL;
#ifndef iowrite64
	if (size == 8)
		return -EINVAL;
#endif

	io = vfio_pci_barmap_get(vpdev, bar);
	if (IS_ERR(io))
		return PTR_ERR(io);

	mutex_lock(&vpdev->ioeventfds_lock);
	list_for_each_entry(ioeventfd, &vpdev->ioeventfds, node) {
		if (ioeventfd->bar != bar || ioeventfd->pos != pos ||
		    ioeventfd->size != size || ioeventfd->data != data)
			continue;
		if (fd == -1) {
			__vfio_pci_ioeventfd_free(vpdev, ioeventfd);
			ret = 0;
		} else {
			ret = -EEXIST;
		}
		goto out_unlock;
	}

	if (fd < 0) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (vpdev->ioeventfds_nr >= VFIO_PCI_IOEVENTFD_MAX) {
		ret = -ENOSPC;
		goto out_unlock;
	}

	ioeventfd = kzalloc(sizeof(*ioeventfd), GFP_KERNEL_ACCOUNT);
	if (!ioeventfd) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	ioeventfd->vpdev = vpdev;
	ioeventfd->addr = io + pos;
	ioeventfd->data = data;
	ioeventfd->pos = pos;
	ioeventfd->bar = bar;
	ioeventfd->size = size;
	ioeventfd->test_mem = pci_resource_flags(pdev, bar) & IORESOURCE_MEM;

	ret = vfio_virqfd_enable(ioeventfd, vfio_pci_ioeventfd_handler,
				 vfio_pci_ioeventfd_thread, NULL,
				 &ioeventfd->virqfd, fd);
	if (ret) {
		kfree(ioeventfd);
		goto out_unlock;
	}
	list_add(&ioeventfd->node, &vpdev->ioeventfds);
	vpdev->ioeventfds_nr++;

out_unlock:
	mutex_unlock(&vpdev->ioeventfds_lock);
	return ret;
}

long vfio_pci_ioctl_ioeventfd(struct vfio_pci_device *vpdev,
			      struct vfio_device_ioeventfd __user *arg)
{
	unsigned long minsz = offsetofend(struct vfio_device_ioeventfd, fd);
	struct vfio_device_ioeventfd req;
	int size, ret;

	if (copy_from_user(&req, arg, minsz))
		return -EFAULT;

	size = req.flags & VFIO_DEVICE_IOEVENTFD_SIZE_MASK;
	if (req.argsz < minsz ||
	    req.flags & ~VFIO_DEVICE_IOEVENTFD_SIZE_MASK ||
	    hweight8(size) != 1 || req.fd < -1)
		ret = -EINVAL;
	else
		ret = vfio_pci_ioeventfd_set(vpdev, req.offset, req.data, size,
					     req.fd);

	trace_vfio_ioeventfd(vpdev->vdev.id, dev_name(vpdev->vdev.dev),
			     VFIO_PCI_OFFSET_TO_INDEX(req.offset),
			     req.offset & VFIO_PCI_OFFSET_MASK, size, req.data,
			     req.fd != -1, ret);
	return ret;
}

/* At the device's last close: every ioeventfd goes, before the BAR maps. */
void vfio_pci_ioeventfds_release(struct vfio_pci_device *vpdev)
{
	struct vfio_pci_ioeventfd *ioeventfd, *next;

	mutex_lock(&vpdev->ioeventfds_lock);
	list_for_each_entry_safe(ioeventfd, next, &vpdev->ioeventfds, node) {
		trace_vfio_ioeventfd(vpdev->vdev.id, dev_name(vpdev->vdev.dev),
				     ioeventfd->bar, ioeventfd->pos,
				     ioeventfd->size, ioeventfd->data, 0, 0);
		__vfio_pci_ioeventfd_free(vpdev, ioeventfd);
	}
	mutex_unlock(&vpdev->ioeventfds_lock);
}
