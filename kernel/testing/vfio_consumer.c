// SPDX-License-Identifier: GPL-2.0
/*
 * A user of vfio.ko's external-user API, modelled on KVM's kvm-vfio device
 * (KVM_DEV_VFIO_GROUP_ADD/DEL in kernels before 5.19): user space passes a
 * group fd, we borrow the group and its container until user space says
 * otherwise or closes us.  One mode leaks on purpose, so the tools can be
 * tested on a real leak.  The uAPI is include/uapi/vfioscope/vfio_consumer.h.
 */
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <vfioscope/vfio.h>
#include <uapi/vfioscope/vfio_consumer.h>

struct vfio_consumer_group {
	struct vfio_group *group;	/* external user reference */
	int iommu_id;
	struct list_head next;
};

/* One per open of /dev/vfio-consumer. */
struct vfio_consumer {
	struct mutex lock;		/* protects groups */
	struct list_head groups;	/* struct vfio_consumer_group.next */
};

static DEFINE_MUTEX(leaks_lock);	/* protects leaks, nr_leaks */
static LIST_HEAD(leaks);		/* forgotten on purpose */
static unsigned int nr_leaks;
static struct dentry *consumer_debugfs;

/*
 * Take an external-user reference on the group behind @fd.  Inlined on
 * purpose: the caller of vfio_group_get_external_user() shows in its
 * tracepoint, and must be the mode (add or leak), not this helper.
 */
static __always_inline struct vfio_consumer_group *vfio_consumer_group_get(int fd)
{
	struct vfio_consumer_group *cg;
	struct vfio_group *group;
	struct file *file;

	file = fget(fd);
	if (!file)
		return ERR_PTR(-EBADF);
	/* Pairs with vfio_group_put_external_user() in vfio_consumer_group_put(). */
	group = vfio_group_get_external_user(file);
	fput(file);
	if (IS_ERR(group))
		return ERR_CAST(group);

	cg = kzalloc(sizeof(*cg), GFP_KERNEL);
	if (!cg) {
		vfio_group_put_external_user(group);
		return ERR_PTR(-ENOMEM);
	}
	cg->group = group;
	cg->iommu_id = vfio_external_user_iommu_id(group);
	return cg;
}

static void vfio_consumer_group_put(struct vfio_consumer_group *cg)
{
	vfio_group_put_external_user(cg->group);
	kfree(cg);
}

static struct vfio_consumer_group *
__vfio_consumer_find(struct vfio_consumer *consumer, int iommu_id)
{
	struct vfio_consumer_group *cg;

	lockdep_assert_held(&consumer->lock);
	list_for_each_entry(cg, &consumer->groups, next)
		if (cg->iommu_id == iommu_id)
			return cg;
	return NULL;
}

/*
 * The two modes are noinline so that they, not the ioctl dispatcher, show
 * as the caller in the external-user events and the tools' reports.
 */
static noinline long vfio_consumer_group_add(struct vfio_consumer *consumer,
					     int fd)
{
	struct vfio_consumer_group *cg;
	int id;

	cg = vfio_consumer_group_get(fd);
	if (IS_ERR(cg))
		return PTR_ERR(cg);

	mutex_lock(&consumer->lock);
	if (__vfio_consumer_find(consumer, cg->iommu_id)) {
		mutex_unlock(&consumer->lock);
		vfio_consumer_group_put(cg);
		return -EEXIST;
	}
	list_add_tail(&cg->next, &consumer->groups);
	id = cg->iommu_id;
	mutex_unlock(&consumer->lock);
	return id;
}

static long vfio_consumer_group_del(struct vfio_consumer *consumer, int iommu_id)
{
	struct vfio_consumer_group *cg;

	mutex_lock(&consumer->lock);
	cg = __vfio_consumer_find(consumer, iommu_id);
	if (cg)
		list_del(&cg->next);
	mutex_unlock(&consumer->lock);
	if (!cg)
		return -ENOENT;
	vfio_consumer_group_put(cg);
	return 0;
}

/* The deliberate bug: the reference goes on a list nobody walks but us. */
static noinline long vfio_consumer_group_leak(int fd)
{
	struct vfio_consumer_group *cg;
	int id;

	cg = vfio_consumer_group_get(fd);
	if (IS_ERR(cg))
		return PTR_ERR(cg);
	id = cg->iommu_id;
	mutex_lock(&leaks_lock);
	list_add_tail(&cg->next, &leaks);
	nr_leaks++;
	mutex_unlock(&leaks_lock);
	return id;
}

static void vfio_consumer_release_leaks(void)
{
	struct vfio_consumer_group *cg, *tmp;
	LIST_HEAD(victims);

	mutex_lock(&leaks_lock);
	list_splice_init(&leaks, &victims);
	nr_leaks = 0;
	mutex_unlock(&leaks_lock);
	list_for_each_entry_safe(cg, tmp, &victims, next)
		vfio_consumer_group_put(cg);
}

static long vfio_consumer_ioctl(struct file *file, unsigned int cmd,
				unsigned long arg)
{
	struct vfio_consumer *consumer = file->private_data;
	int val;

	if (_IOC_TYPE(cmd) != VFIO_CONSUMER_TYPE)
		return -ENOTTY;
	if (get_user(val, (int __user *)arg))
		return -EFAULT;

	switch (cmd) {
	case VFIO_CONSUMER_GROUP_ADD:
		return vfio_consumer_group_add(consumer, val);
	case VFIO_CONSUMER_GROUP_DEL:
		return vfio_consumer_group_del(consumer, val);
	case VFIO_CONSUMER_GROUP_LEAK:
		return vfio_consumer_group_leak(val);
	}
	return -ENOTTY;
}

static int vfio_consumer_open(struct inode *inode, struct file *file)
{
	struct vfio_consumer *consumer;

	consumer = kzalloc(sizeof(*consumer), GFP_KERNEL);
	if (!consumer)
		return -ENOMEM;
	mutex_init(&consumer->lock);
	INIT_LIST_HEAD(&consumer->groups);
	file->private_data = consumer;
	return 0;
}

/* Like a VM going away: every group it still holds is put. */
static int vfio_consumer_release(struct inode *inode, struct file *file)
{
	struct vfio_consumer *consumer = file->private_data;
	struct vfio_consumer_group *cg, *tmp;

	list_for_each_entry_safe(cg, tmp, &consumer->groups, next)
		vfio_consumer_group_put(cg);
	mutex_destroy(&consumer->lock);
	kfree(consumer);
	return 0;
}

static const struct file_operations vfio_consumer_fops = {
	.owner = THIS_MODULE,
	.open = vfio_consumer_open,
	.release = vfio_consumer_release,
	.unlocked_ioctl = vfio_consumer_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice vfio_consumer_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vfio-consumer",
	.fops = &vfio_consumer_fops,
	.mode = 0600,
};

static ssize_t leaks_read(struct file *file, char __user *buf, size_t len,
			  loff_t *ppos)
{
	char tmp[16];
	int n;

	mutex_lock(&leaks_lock);
	n = scnprintf(tmp, sizeof(tmp), "%u\n", nr_leaks);
	mutex_unlock(&leaks_lock);
	return simple_read_from_buffer(buf, len, ppos, tmp, n);
}

static ssize_t leaks_write(struct file *file, const char __user *buf,
			   size_t len, loff_t *ppos)
{
	char tmp[16] = {};

	if (len >= sizeof(tmp))
		return -EINVAL;
	if (copy_from_user(tmp, buf, len))
		return -EFAULT;
	if (!sysfs_streq(tmp, "release"))
		return -EINVAL;
	vfio_consumer_release_leaks();
	return len;
}

static const struct file_operations leaks_fops = {
	.owner = THIS_MODULE,
	.read = leaks_read,
	.write = leaks_write,
	.llseek = noop_llseek,
};

static int __init vfio_consumer_init(void)
{
	int ret;

	ret = misc_register(&vfio_consumer_misc);
	if (ret)
		return ret;
	consumer_debugfs = debugfs_create_dir("vfio_consumer", NULL);
	debugfs_create_file("leaks", 0600, consumer_debugfs, NULL, &leaks_fops);
	return 0;
}

static void __exit vfio_consumer_exit(void)
{
	debugfs_remove_recursive(consumer_debugfs);
	misc_deregister(&vfio_consumer_misc);
	/* Nothing can reach the leaked references after us: put them. */
	vfio_consumer_release_leaks();
}

module_init(vfio_consumer_init);
module_exit(vfio_consumer_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfioscope test: a KVM-like external user of VFIO groups");
