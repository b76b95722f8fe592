// SPDX-License-Identifier: GPL-2.0
/*
 * The floor under MAP_DMA: pin user pages the way vfio_iommu_type1.ko does
 * (FOLL_LONGTERM | FOLL_WRITE, one page of struct page pointers = 512
 * pages per call) and do nothing else.  bench/vfio_bench.c times a PIN +
 * UNPIN against a MAP_DMA + UNMAP_DMA of the same pages.
 *
 * The pages stay pinned between the two ioctls, held in a kvmalloc'd
 * array, so the unpin can be timed on its own.  Closing the file unpins.
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <uapi/vfioscope/vfio_pin_bench.h>

/* What vfio_iommu_type1.ko pins per call. */
#define PIN_BATCH (PAGE_SIZE / sizeof(struct page *))

struct pin_bench {
	struct mutex lock;		/* protects pages, npages */
	struct page **pages;
	unsigned long npages;
};

static void __pin_bench_unpin(struct pin_bench *pb)
{
	lockdep_assert_held(&pb->lock);

	unpin_user_pages_dirty_lock(pb->pages, pb->npages, true);
	kvfree(pb->pages);
	pb->pages = NULL;
	pb->npages = 0;
}

static long pin_bench_pin(struct pin_bench *pb, void __user *arg)
{
	struct vfio_pin_bench_range r;
	unsigned long total, done = 0;
	struct page **pages;
	long ret = 0;

	if (copy_from_user(&r, arg, sizeof(r)))
		return -EFAULT;
	if (!r.size || (r.vaddr | r.size) & ~PAGE_MASK ||
	    r.vaddr + r.size < r.vaddr)
		return -EINVAL;
	total = r.size >> PAGE_SHIFT;

	mutex_lock(&pb->lock);
	if (pb->pages) {
		ret = -EBUSY;
		goto out_unlock;
	}
	pages = kvmalloc_array(total, sizeof(*pages), GFP_KERNEL_ACCOUNT);
	if (!pages) {
		ret = -ENOMEM;
		goto out_unlock;
	}
	while (done < total) {
		unsigned long want = min(total - done, PIN_BATCH);
		long n;

		n = pin_user_pages_fast(r.vaddr + (done << PAGE_SHIFT), want,
					FOLL_LONGTERM | FOLL_WRITE, pages + done);
		if (n <= 0) {
			ret = n ? n : -EFAULT;
			unpin_user_pages(pages, done);
			kvfree(pages);
			goto out_unlock;
		}
		done += n;
		cond_resched();
	}
	pb->pages = pages;
	pb->npages = total;
out_unlock:
	mutex_unlock(&pb->lock);
	return ret;
}

static long pin_bench_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct pin_bench *pb = file->private_data;
	long ret = 0;

	switch (cmd) {
	case VFIO_PIN_BENCH_PIN:
		return pin_bench_pin(pb, (void __user *)arg);
	case VFIO_PIN_BENCH_UNPIN:
		mutex_lock(&pb->lock);
		if (pb->pages)
			__pin_bench_unpin(pb);
		else
			ret = -ENOENT;
		mutex_unlock(&pb->lock);
		return ret;
	default:
		return -ENOTTY;
	}
}

static int pin_bench_open(struct inode *inode, struct file *file)
{
	struct pin_bench *pb = kzalloc(sizeof(*pb), GFP_KERNEL);

	if (!pb)
		return -ENOMEM;
	mutex_init(&pb->lock);
	file->private_data = pb;
	return 0;
}

static int pin_bench_release(struct inode *inode, struct file *file)
{
	struct pin_bench *pb = file->private_data;

	mutex_lock(&pb->lock);
	if (pb->pages)
		__pin_bench_unpin(pb);
	mutex_unlock(&pb->lock);
	mutex_destroy(&pb->lock);
	kfree(pb);
	return 0;
}

static const struct file_operations pin_bench_fops = {
	.owner = THIS_MODULE,
	.open = pin_bench_open,
	.release = pin_bench_release,
	.unlocked_ioctl = pin_bench_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice pin_bench_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vfio-pin-bench",
	.fops = &pin_bench_fops,
	.mode = 0600,
};

module_misc_device(pin_bench_misc);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfioscope test: pin and unpin user pages as type1 does, nothing else");
