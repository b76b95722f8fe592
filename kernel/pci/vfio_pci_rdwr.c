// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci: BAR and ROM access through the device fd, and BAR mmap.
 *
 * pread/pwrite use the widest naturally aligned access (4, 2 or 1 bytes)
 * so registers see the width user space asked for.  The MSI-X table
 * belongs to the kernel's MSI-X code: reads of it return 0xff bytes and
 * writes to it are dropped.  MMIO access needs memory decode on (EIO).
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/uaccess.h>

#include "vfio_pci_priv.h"

/* Request and map the BAR on first use; undone at close. */
static void __iomem *vfio_pci_barmap_get(struct vfio_pci_device *vpdev, int bar)
{
	struct pci_dev *pdev = vpdev->pdev;
	void __iomem *io;
	int ret;

	mutex_lock(&vpdev->barmap_lock);
	io = vpdev->barmap[bar];
	if (io)
		goto out_unlock;

	ret = pci_request_selected_regions(pdev, 1 << bar, "vfio-pci");
	if (ret) {
		io = IOMEM_ERR_PTR(ret);
		goto out_unlock;
	}
	io = pci_iomap(pdev, bar, 0);
	if (!io) {
		pci_release_selected_regions(pdev, 1 << bar);
		io = IOMEM_ERR_PTR(-ENOMEM);
		goto out_unlock;
	}
	vpdev->barmap[bar] = io;
out_unlock:
	mutex_unlock(&vpdev->barmap_lock);
	return io;
}

void vfio_pci_barmap_release_all(struct vfio_pci_device *vpdev)
{
	int bar;

	mutex_lock(&vpdev->barmap_lock);
	for (bar = 0; bar < PCI_STD_NUM_BARS; bar++) {
		if (!vpdev->barmap[bar])
			continue;
		pci_iounmap(vpdev->pdev, vpdev->barmap[bar]);
		pci_release_selected_regions(vpdev->pdev, 1 << bar);
		vpdev->barmap[bar] = NULL;
	}
	mutex_unlock(&vpdev->barmap_lock);
}

/* One access of size bytes at io + off; test_mem: MMIO, needs decode on. */
static int vfio_pci_io_access(struct vfio_pci_device *vpdev, bool test_mem,
			      void __iomem *io, u64 off, int size, u32 *val,
			      bool iswrite)
{
	if (test_mem) {
		down_read(&vpdev->memory_lock);
		if (!__vfio_pci_memory_enabled(vpdev)) {
			up_read(&vpdev->memory_lock);
			return -EIO;
		}
	}

	if (iswrite) {
		switch (size) {
		case 4:
			iowrite32(*val, io + off);
			break;
		case 2:
			iowrite16(*val, io + off);
			break;
		default:
			iowrite8(*val, io + off);
			break;
		}
	} else {
		switch (size) {
		case 4:
			*val = ioread32(io + off);
			break;
		case 2:
			*val = ioread16(io + off);
			break;
		default:
			*val = ioread8(io + off);
			break;
		}
	}

	if (test_mem)
		up_read(&vpdev->memory_lock);
	return 0;
}

/*
 * Move count bytes between buf and io + pos; [x_start, x_end) is excluded
 * (reads 0xff, writes dropped).  Returns the bytes done or an errno.
 */
static ssize_t vfio_pci_io_rw(struct vfio_pci_device *vpdev, bool test_mem,
			      void __iomem *io, char __user *buf, u64 pos,
			      size_t count, u64 x_start, u64 x_end, bool iswrite)
{
	static const u8 ones[4] = { 0xff, 0xff, 0xff, 0xff };
	size_t done = 0;
	int ret;

	while (done < count) {
		u64 off = pos + done;
		size_t left = count - done;
		int size;
		u32 val = 0;

		if (off >= x_start && off < x_end) {
			size = min_t(u64, min_t(size_t, left, 4), x_end - off);
			if (!iswrite && copy_to_user(buf + done, ones, size))
				return -EFAULT;
			done += size;
			continue;
		}
		if (off < x_start)
			left = min_t(u64, left, x_start - off);

		if (left >= 4 && !(off % 4))
			size = 4;
		else if (left >= 2 && !(off % 2))
			size = 2;
		else
			size = 1;

		if (iswrite) {
			u8 bytes[4] = { };

			if (copy_from_user(bytes, buf + done, size))
				return -EFAULT;
			val = le32_to_cpu(*(__le32 *)bytes);
		}
		ret = vfio_pci_io_access(vpdev, test_mem, io, off, size, &val,
					 iswrite);
		if (ret)
			return ret;
		if (!iswrite) {
			__le32 le = cpu_to_le32(val);

			if (copy_to_user(buf + done, &le, size))
				return -EFAULT;
		}
		done += size;
	}
	return done;
}

ssize_t vfio_pci_bar_rw(struct vfio_pci_device *vpdev, char __user *buf,
			size_t count, loff_t *ppos, bool iswrite)
{
	struct pci_dev *pdev = vpdev->pdev;
	int bar = VFIO_PCI_OFFSET_TO_INDEX((u64)*ppos);
	u64 pos = (u64)*ppos & VFIO_PCI_OFFSET_MASK;
	u64 x_start = U64_MAX, x_end = U64_MAX;
	bool test_mem;
	void __iomem *io;
	resource_size_t end;
	size_t romsize;
	ssize_t done;
	u16 cmd;

	if (!pci_resource_start(pdev, bar))
		return -EINVAL;
	end = pci_resource_len(pdev, bar);
	if (pos >= end)
		return -EINVAL;
	count = min_t(u64, count, end - pos);
	test_mem = pci_resource_flags(pdev, bar) & IORESOURCE_MEM;

	if (bar == PCI_ROM_RESOURCE) {
		/* Past the image, up to the end of the BAR, reads 0xff. */
		cmd = vfio_pci_memory_lock_and_enable(vpdev);
		io = pci_map_rom(pdev, &romsize);
		if (!io) {
			vfio_pci_memory_unlock_and_restore(vpdev, cmd);
			return -ENOMEM;
		}
		done = vfio_pci_io_rw(vpdev, false, io, buf, pos, count,
				      romsize, end, false);
		pci_unmap_rom(pdev, io);
		vfio_pci_memory_unlock_and_restore(vpdev, cmd);
	} else {
		io = vfio_pci_barmap_get(vpdev, bar);
		if (IS_ERR(io))
			return PTR_ERR(io);
		if (bar == vpdev->msix_bar) {
			x_start = vpdev->msix_offset;
			x_end = x_start + vpdev->msix_size;
		}
		done = vfio_pci_io_rw(vpdev, test_mem, io, buf, pos, count,
				      x_start, x_end, iswrite);
	}

	if (done > 0)
		*ppos += done;
	return done;
}

/*
 * Map (part of) an MMIO BAR.  The offset within the region and the length
 * must be page aligned and stay inside the BAR.  The mapping lives as long
 * as the vma, which holds the device fd open: close_device cannot run
 * under it.
 */
int vfio_pci_bar_mmap(struct vfio_pci_device *vpdev, struct vm_area_struct *vma)
{
	struct pci_dev *pdev = vpdev->pdev;
	unsigned long index, pgoff, req_len;
	u64 phys_len, req_start;
	void __iomem *io;

	index = vma->vm_pgoff >> (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT);
	pgoff = vma->vm_pgoff & ((1UL << (VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT)) - 1);
	if (index >= VFIO_PCI_ROM_REGION_INDEX || !vpdev->bar_mmap[index])
		return -EINVAL;
	if (!(vma->vm_flags & VM_SHARED))
		return -EINVAL;

	phys_len = PAGE_ALIGN(pci_resource_len(pdev, index));
	req_len = vma->vm_end - vma->vm_start;
	req_start = (u64)pgoff << PAGE_SHIFT;
	if (req_start >= phys_len || req_len > phys_len - req_start)
		return -EINVAL;

	/* The region must be ours, as for pread/pwrite. */
	io = vfio_pci_barmap_get(vpdev, index);
	if (IS_ERR(io))
		return PTR_ERR(io);

	vma->vm_private_data = vpdev;
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	return io_remap_pfn_range(vma, vma->vm_start,
				  (pci_resource_start(pdev, index) >> PAGE_SHIFT) + pgoff,
				  req_len, vma->vm_page_prot);
}
