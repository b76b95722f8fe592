// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci: BAR and ROM access through the device fd, and BAR mmap.
 *
 * pread/pwrite use the widest naturally aligned access (4, 2 or 1 bytes)
 * so registers see the width user space asked for.  The MSI-X table
 * belongs to the kernel's MSI-X code: reads of it return 0xff bytes and
 * writes to it are dropped (as in-tree, an mmap of its BAR still maps it
 * whole: interrupt remapping is what protects MSI, see REGION_INFO's
 * MSIX_MAPPABLE).  MMIO access needs memory decode on (EIO).
 * BAR mmaps fault their pages in, and only while decode is on (SIGBUS).
 */
#include <linux/io.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vfio_pci_priv.h"

/* Request and map the BAR on first use; undone at close. */
void __iomem *vfio_pci_barmap_get(struct vfio_pci_device *vpdev, int bar)
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

/*
 * The ROM is read with memory decode forced on, so under memory_lock, and
 * through a bounce buffer: the user's buffer may be a BAR mapping, whose
 * fault takes memory_lock.  Past the image, up to the end of the BAR,
 * reads 0xff.
 */
static ssize_t vfio_pci_rom_read(struct vfio_pci_device *vpdev,
				 char __user *buf, u64 pos, size_t count)
{
	struct pci_dev *pdev = vpdev->pdev;
	size_t done = 0, romsize, n, in_image;
	void __iomem *io;
	ssize_t ret = 0;
	u8 *bounce;
	u64 off;
	u16 cmd;

	bounce = kmalloc(PAGE_SIZE, GFP_KERNEL);
	if (!bounce)
		return -ENOMEM;

	while (done < count) {
		off = pos + done;
		n = min_t(size_t, count - done, PAGE_SIZE);

		cmd = vfio_pci_memory_lock_and_enable(vpdev);
		io = pci_map_rom(pdev, &romsize);
		if (io) {
			in_image = off < romsize ? min_t(u64, n, romsize - off) : 0;
			memcpy_fromio(bounce, io + off, in_image);
			memset(bounce + in_image, 0xff, n - in_image);
			pci_unmap_rom(pdev, io);
		}
		vfio_pci_memory_unlock_and_restore(vpdev, cmd);

		if (!io) {
			ret = -ENOMEM;
			break;
		}
		if (copy_to_user(buf + done, bounce, n)) {
			ret = -EFAULT;
			break;
		}
		done += n;
	}

	kfree(bounce);
	return ret ? ret : done;
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
	ssize_t done;

	if (!pci_resource_start(pdev, bar))
		return -EINVAL;
	end = pci_resource_len(pdev, bar);
	if (pos >= end)
		return -EINVAL;
	count = min_t(u64, count, end - pos);
	test_mem = pci_resource_flags(pdev, bar) & IORESOURCE_MEM;

	if (bar == PCI_ROM_RESOURCE) {
		done = vfio_pci_rom_read(vpdev, buf, pos, count);
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

/* ---- BAR mmap ---------------------------------------------------------------- */

/*
 * A BAR mapping holds no page until user space touches it, and only while
 * memory decode is on: the fault handler inserts the pfn under memory_lock
 * (read), and whoever turns decode off or resets the device first zaps
 * every mapping under memory_lock (write).  So no process can reach the
 * device through a mapping while it does not decode memory, which on real
 * hardware can raise unsupported-request errors fatal to the host
 * (CVE-2020-12888).  An access in that state gets SIGBUS instead.
 */

#define VFIO_PCI_PGOFF_SHIFT	(VFIO_PCI_OFFSET_SHIFT - PAGE_SHIFT)
#define VFIO_PCI_PGOFF_MASK	((1UL << VFIO_PCI_PGOFF_SHIFT) - 1)

static void vfio_pci_mmap_track(struct vfio_pci_device *vpdev,
				struct vfio_pci_mmap *map,
				struct vm_area_struct *vma)
{
	map->vpdev = vpdev;
	map->vma = vma;
	vma->vm_private_data = map;
	mutex_lock(&vpdev->vma_lock);
	list_add(&map->node, &vpdev->vma_list);
	mutex_unlock(&vpdev->vma_lock);
}

/*
 * A copy of a tracked vma (fork, split, mremap): it must be tracked too,
 * or a zap would miss it.  open cannot fail, hence __GFP_NOFAIL for these
 * few bytes.  Runs under mmap_lock.
 */
static void vfio_pci_mmap_open(struct vm_area_struct *vma)
{
	struct vfio_pci_mmap *orig = vma->vm_private_data;
	struct vfio_pci_mmap *map;

	map = kmalloc(sizeof(*map), GFP_KERNEL_ACCOUNT | __GFP_NOFAIL);
	vfio_pci_mmap_track(orig->vpdev, map, vma);
}

/* Runs under mmap_lock, after the vma's pages are gone. */
static void vfio_pci_mmap_close(struct vm_area_struct *vma)
{
	struct vfio_pci_mmap *map = vma->vm_private_data;
	struct vfio_pci_device *vpdev = map->vpdev;

	mutex_lock(&vpdev->vma_lock);
	list_del(&map->node);
	mutex_unlock(&vpdev->vma_lock);
	kfree(map);
}

/* Runs under mmap_lock (read): takes memory_lock after it. */
static vm_fault_t vfio_pci_mmap_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct vfio_pci_mmap *map = vma->vm_private_data;
	struct vfio_pci_device *vpdev = map->vpdev;
	struct pci_dev *pdev = vpdev->pdev;
	unsigned int bar = vmf->pgoff >> VFIO_PCI_PGOFF_SHIFT;
	unsigned long pgoff = vmf->pgoff & VFIO_PCI_PGOFF_MASK;
	vm_fault_t ret = VM_FAULT_SIGBUS;

	/* mmap checked the range and VM_DONTEXPAND keeps it: be safe anyway. */
	if (bar >= PCI_STD_NUM_BARS ||
	    pgoff >= PAGE_ALIGN(pci_resource_len(pdev, bar)) >> PAGE_SHIFT)
		return VM_FAULT_SIGBUS;

	down_read(&vpdev->memory_lock);
	/* After LOW_POWER_ENTRY the device may suspend any time: no new page. */
	if (!vpdev->pm_runtime_engaged && __vfio_pci_memory_enabled(vpdev))
		ret = vmf_insert_pfn(vma, vmf->address,
				     (pci_resource_start(pdev, bar) >> PAGE_SHIFT) +
				     pgoff);
	up_read(&vpdev->memory_lock);
	return ret;
}

static const struct vm_operations_struct vfio_pci_mmap_ops = {
	.open	= vfio_pci_mmap_open,
	.close	= vfio_pci_mmap_close,
	.fault	= vfio_pci_mmap_fault,
};

/* Why __vfio_pci_zap_bars() could not finish. */
enum vfio_pci_zap_wait {
	VFIO_PCI_ZAP_WAIT_READ,		/* mmap_lock held for write */
	VFIO_PCI_ZAP_WAIT_WRITE,	/* a munmap() half-way, under read */
};

/*
 * Zap every tracked vma.  Returns NULL when done, or an mm to wait for,
 * with a reference (mmgrab) the caller drops, and in *wait how.  The fault
 * handler takes memory_lock under mmap_lock, so with memory_lock held we
 * may only try mmap_lock: blocking on it could wait for a fault that waits
 * for us.
 */
static struct mm_struct *__vfio_pci_zap_bars(struct vfio_pci_device *vpdev,
					     enum vfio_pci_zap_wait *wait)
{
	struct vfio_pci_mmap *map;
	struct mm_struct *mm;

	lockdep_assert_held_write(&vpdev->memory_lock);

	mutex_lock(&vpdev->vma_lock);
	list_for_each_entry(map, &vpdev->vma_list, node) {
		struct vm_area_struct *vma = map->vma;

		mm = vma->vm_mm;

		/*
		 * A tracked vma is not closed, so its mm is not freed.  With no
		 * user left, exit_mmap() is unmapping it and no task can reach it.
		 */
		if (!atomic_read(&mm->mm_users))
			continue;
		if (!mmap_read_trylock(mm)) {
			*wait = VFIO_PCI_ZAP_WAIT_READ;
			goto out_busy;
		}
		if (vma_lookup(mm, vma->vm_start) == vma) {
			zap_vma_ptes(vma, vma->vm_start, vma->vm_end - vma->vm_start);
			mmap_read_unlock(mm);
			continue;
		}
		/*
		 * Tracked but not in the tree: munmap() took it out, downgraded
		 * mmap_lock to read and is unmapping it, and closes it before
		 * it lets go of the lock.  Its page tables may be on their way
		 * out, so we must not walk them; but its pages may still be
		 * mapped, and another thread of that process still reach the
		 * device through them.  Wait for that munmap() to finish: once
		 * we get mmap_lock for write the vma is closed and off our list.
		 */
		mmap_read_unlock(mm);
		*wait = VFIO_PCI_ZAP_WAIT_WRITE;
		goto out_busy;
	}
	mutex_unlock(&vpdev->vma_lock);
	return NULL;

out_busy:
	/* Pairs with mmdrop() in vfio_pci_memory_lock_and_zap(). */
	mmgrab(mm);
	mutex_unlock(&vpdev->vma_lock);
	return mm;
}

/* Wait for the mmap_lock that stopped a zap, holding nothing of ours. */
static void vfio_pci_zap_wait(struct mm_struct *busy, enum vfio_pci_zap_wait wait)
{
	if (wait == VFIO_PCI_ZAP_WAIT_WRITE) {
		mmap_write_lock(busy);
		mmap_write_unlock(busy);
	} else {
		mmap_read_lock(busy);
		mmap_read_unlock(busy);
	}
	/* Pairs with mmgrab() in __vfio_pci_zap_bars(). */
	mmdrop(busy);
}

/*
 * Take memory_lock for write with no BAR page mapped in any process; as
 * faults wait for memory_lock, none comes back before the caller releases
 * it.  When a process's mmap_lock is in the way, drop everything, wait for
 * that lock with nothing held that its holder may need, and start over.
 */
void vfio_pci_memory_lock_and_zap(struct vfio_pci_device *vpdev)
{
	enum vfio_pci_zap_wait wait;
	struct mm_struct *busy;

	for (;;) {
		down_write(&vpdev->memory_lock);
		busy = __vfio_pci_zap_bars(vpdev, &wait);
		if (!busy)
			return;
		up_write(&vpdev->memory_lock);
		vfio_pci_zap_wait(busy, wait);
	}
}

/*
 * The same for every device of a reset set at once (a slot or bus reset
 * touches them all), the set's lock held.  One process often maps BARs of
 * several of them: a fault on one waits for its memory_lock with that
 * process's mmap_lock held, which zapping another needs.  So on a busy mm
 * every memory_lock taken is dropped before waiting, as above.
 */
void vfio_pci_reset_set_memory_lock_and_zap(struct vfio_pci_reset_set *set)
{
	struct vfio_pci_device *cur, *undo;
	enum vfio_pci_zap_wait wait;
	struct mm_struct *busy;

	lockdep_assert_held(&set->lock);
again:
	list_for_each_entry(cur, &set->devices, reset_set_next) {
		down_write_nest_lock(&cur->memory_lock, &set->lock);
		busy = __vfio_pci_zap_bars(cur, &wait);
		if (!busy)
			continue;
		list_for_each_entry(undo, &set->devices, reset_set_next) {
			up_write(&undo->memory_lock);
			if (undo == cur)
				break;
		}
		vfio_pci_zap_wait(busy, wait);
		goto again;
	}
}

void vfio_pci_reset_set_memory_unlock(struct vfio_pci_reset_set *set)
{
	struct vfio_pci_device *cur;

	list_for_each_entry(cur, &set->devices, reset_set_next)
		up_write(&cur->memory_lock);
}

/*
 * Map (part of) an MMIO BAR.  The offset within the region and the length
 * must be page aligned and stay inside the BAR; the mapping must be shared
 * (a private one would copy device pages on write).  Pages come in on
 * access, through vfio_pci_mmap_fault().  The vma holds the device fd
 * open: close_device cannot run under it.
 */
int vfio_pci_bar_mmap(struct vfio_pci_device *vpdev, struct vm_area_struct *vma)
{
	struct pci_dev *pdev = vpdev->pdev;
	unsigned long index, pgoff, req_len;
	struct vfio_pci_mmap *map;
	u64 phys_len, req_start;
	void __iomem *io;

	index = vma->vm_pgoff >> VFIO_PCI_PGOFF_SHIFT;
	pgoff = vma->vm_pgoff & VFIO_PCI_PGOFF_MASK;
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

	map = kmalloc(sizeof(*map), GFP_KERNEL_ACCOUNT);
	if (!map)
		return -ENOMEM;

	/*
	 * Device memory, not pages: no struct page behind it (PFNMAP), no
	 * core dump or memory access from outside (IO, DONTDUMP), and no
	 * growing past the BAR with mremap (DONTEXPAND).
	 */
	vfio_compat_vm_flags_set(vma, VM_IO | VM_PFNMAP | VM_DONTEXPAND | VM_DONTDUMP);
	vma->vm_page_prot = pgprot_noncached(vma->vm_page_prot);
	vma->vm_ops = &vfio_pci_mmap_ops;
	/* From here, mmap's own failure paths undo this through ->close. */
	vfio_pci_mmap_track(vpdev, map, vma);
	return 0;
}
