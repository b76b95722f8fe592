// SPDX-License-Identifier: GPL-2.0
/*
 * A misc device, /dev/vfio-pfnmap-pages, whose mmap() remap_pfn_range()s
 * freshly allocated kernel pages into user space: a VM_PFNMAP area backed
 * by ordinary RAM, the case type1 must refuse to map (the pages belong to
 * this module and go back to the allocator when the area is unmapped; an
 * IOMMU mapping of them would outlive that).  Test-only: it exists to
 * show MAP_DMA's checks on both VFIO stacks, so it uses no VFIO symbol.
 *
 * The mmap offset picks what backs the area (VFIO_PFNMAP_PAGES_*):
 *   0  ordinary pages
 *   1  pages marked PageReserved, as drivers that hand out their own
 *      buffers do: type1 accepts those and charges nothing
 *   2  the first half reserved, the second half ordinary
 * The area is at most 16 pages, a power of two, physically contiguous and
 * zeroed.  A MAP_PRIVATE area keeps its ptes read-only (copy on write).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/refcount.h>
#include <linux/slab.h>

#define VFIO_PFNMAP_PAGES_RAM		0
#define VFIO_PFNMAP_PAGES_RESERVED	1
#define VFIO_PFNMAP_PAGES_HALF		2
#define VFIO_PFNMAP_PAGES_MAX_ORDER	4

/* The pages behind one mmap(), shared by the VMAs split or copied from it. */
struct vfio_pfnmap_buf {
	refcount_t users;		/* VMAs pointing at the pages */
	struct page *pages;
	unsigned int order;
	unsigned long nr_reserved;	/* the first nr_reserved are reserved */
};

static void vfio_pfnmap_buf_put(struct vfio_pfnmap_buf *buf)
{
	unsigned long i;

	if (!refcount_dec_and_test(&buf->users))
		return;
	for (i = 0; i < buf->nr_reserved; i++)
		ClearPageReserved(buf->pages + i);
	__free_pages(buf->pages, buf->order);
	kfree(buf);
}

/* A split, fork or mremap made one more VMA on the same pages. */
static void vfio_pfnmap_vma_open(struct vm_area_struct *vma)
{
	struct vfio_pfnmap_buf *buf = vma->vm_private_data;

	refcount_inc(&buf->users);
}

static void vfio_pfnmap_vma_close(struct vm_area_struct *vma)
{
	vfio_pfnmap_buf_put(vma->vm_private_data);
}

static const struct vm_operations_struct vfio_pfnmap_vm_ops = {
	.open = vfio_pfnmap_vma_open,
	.close = vfio_pfnmap_vma_close,
};

static int vfio_pfnmap_mmap(struct file *file, struct vm_area_struct *vma)
{
	unsigned long size = vma->vm_end - vma->vm_start;
	unsigned long mode = vma->vm_pgoff, nr, i;
	struct vfio_pfnmap_buf *buf;
	unsigned int order;
	int ret;

	order = get_order(size);
	if (order > VFIO_PFNMAP_PAGES_MAX_ORDER || size != PAGE_SIZE << order)
		return -EINVAL;
	nr = 1UL << order;
	if (mode > VFIO_PFNMAP_PAGES_HALF ||
	    (mode == VFIO_PFNMAP_PAGES_HALF && nr < 2))
		return -EINVAL;

	buf = kzalloc(sizeof(*buf), GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	buf->pages = alloc_pages(GFP_KERNEL | __GFP_ZERO, order);
	if (!buf->pages) {
		kfree(buf);
		return -ENOMEM;
	}
	buf->order = order;
	refcount_set(&buf->users, 1);
	if (mode == VFIO_PFNMAP_PAGES_RESERVED)
		buf->nr_reserved = nr;
	else if (mode == VFIO_PFNMAP_PAGES_HALF)
		buf->nr_reserved = nr / 2;
	for (i = 0; i < buf->nr_reserved; i++)
		SetPageReserved(buf->pages + i);

	ret = remap_pfn_range(vma, vma->vm_start, page_to_pfn(buf->pages),
			      size, vma->vm_page_prot);
	if (ret) {
		vfio_pfnmap_buf_put(buf);
		return ret;
	}
	vma->vm_private_data = buf;
	vma->vm_ops = &vfio_pfnmap_vm_ops;
	return 0;
}

static const struct file_operations vfio_pfnmap_fops = {
	.owner = THIS_MODULE,
	.mmap = vfio_pfnmap_mmap,
	.llseek = noop_llseek,
};

static struct miscdevice vfio_pfnmap_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vfio-pfnmap-pages",
	.fops = &vfio_pfnmap_fops,
	.mode = 0600,
};

module_misc_device(vfio_pfnmap_misc);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfioscope test: VM_PFNMAP areas backed by kernel pages");
