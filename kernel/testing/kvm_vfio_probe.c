// SPDX-License-Identifier: GPL-2.0
/*
 * Asks a file what KVM's kvm-vfio device asks it, the way kvm.ko does:
 * symbol_get() the vfio_file_*() function, call it, symbol_put().  No
 * VFIO symbol is linked, so this loads beside our stack and beside
 * Debian's in-tree one, and reports a function the loaded vfio.ko does not
 * export as "absent" (6.1's has no vfio_file_is_valid).  Test-only.
 *
 * /dev/kvm-vfio-probe: write a file descriptor number of the writing
 * process; read back one line,
 *   is_group=B is_valid=B coherent=B iommu_group=G set_kvm=S
 * B is 0, 1 or absent; G the IOMMU group id, none (NULL) or absent; S
 * called or absent.  set_kvm is vfio_file_set_kvm(file, NULL), KVM's
 * unlink: there is no VM to link under TCG.
 */
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/iommu.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/slab.h>

struct kvm;

/*
 * <linux/vfio.h>'s signatures, declared here for symbol_get()'s typeof:
 * 6.1's header has no vfio_file_is_valid.
 */
bool vfio_file_is_group(struct file *file);
bool vfio_file_is_valid(struct file *file);
bool vfio_file_enforced_coherent(struct file *file);
void vfio_file_set_kvm(struct file *file, struct kvm *kvm);
struct iommu_group *vfio_file_iommu_group(struct file *file);

#define KVM_VFIO_PROBE_ANSWER_MAX 128

/* One per open of the misc device. */
struct kvm_vfio_probe {
	struct mutex lock;			/* protects answer */
	char answer[KVM_VFIO_PROBE_ANSWER_MAX];	/* of the last write */
};

/* kvm.ko's pattern for a bool question; -ENOENT when not exported. */
#define KVM_VFIO_PROBE_BOOL(sym, file) ({			\
	bool (*__fn)(struct file *) = symbol_get(sym);		\
	int __ret = -ENOENT;					\
								\
	if (__fn) {						\
		__ret = __fn(file);				\
		symbol_put(sym);				\
	}							\
	__ret;							\
})

static const char *kvm_vfio_probe_bool(int answer)
{
	if (answer < 0)
		return "absent";
	return answer ? "1" : "0";
}

static void kvm_vfio_probe_iommu_group(struct file *file, char *buf,
				       size_t len)
{
	struct iommu_group *(*fn)(struct file *file);
	struct iommu_group *group;

	fn = symbol_get(vfio_file_iommu_group);
	if (!fn) {
		strscpy(buf, "absent", len);
		return;
	}
	group = fn(file);
	symbol_put(vfio_file_iommu_group);
	if (!group) {
		strscpy(buf, "none", len);
		return;
	}
	snprintf(buf, len, "%d", iommu_group_id(group));
	/* The function returned a reference, as kvm.ko's SPAPR path keeps. */
	iommu_group_put(group);
}

static const char *kvm_vfio_probe_set_kvm(struct file *file)
{
	void (*fn)(struct file *file, struct kvm *kvm);

	fn = symbol_get(vfio_file_set_kvm);
	if (!fn)
		return "absent";
	fn(file, NULL);
	symbol_put(vfio_file_set_kvm);
	return "called";
}

static void kvm_vfio_probe_file(struct kvm_vfio_probe *probe,
				struct file *file)
{
	int is_group = KVM_VFIO_PROBE_BOOL(vfio_file_is_group, file);
	int is_valid = KVM_VFIO_PROBE_BOOL(vfio_file_is_valid, file);
	int coherent = KVM_VFIO_PROBE_BOOL(vfio_file_enforced_coherent, file);
	const char *set_kvm;
	char group[16];

	kvm_vfio_probe_iommu_group(file, group, sizeof(group));
	set_kvm = kvm_vfio_probe_set_kvm(file);

	mutex_lock(&probe->lock);
	snprintf(probe->answer, sizeof(probe->answer),
		 "is_group=%s is_valid=%s coherent=%s iommu_group=%s set_kvm=%s\n",
		 kvm_vfio_probe_bool(is_group), kvm_vfio_probe_bool(is_valid),
		 kvm_vfio_probe_bool(coherent), group, set_kvm);
	mutex_unlock(&probe->lock);
}

static ssize_t kvm_vfio_probe_write(struct file *file, const char __user *ubuf,
				    size_t count, loff_t *ppos)
{
	struct file *target;
	int fd, ret;

	ret = kstrtoint_from_user(ubuf, count, 10, &fd);
	if (ret)
		return ret;
	target = fget(fd);
	if (!target)
		return -EBADF;
	kvm_vfio_probe_file(file->private_data, target);
	fput(target);
	*ppos = 0;	/* the next read starts at the new answer */
	return count;
}

static ssize_t kvm_vfio_probe_read(struct file *file, char __user *ubuf,
				   size_t count, loff_t *ppos)
{
	struct kvm_vfio_probe *probe = file->private_data;
	ssize_t ret;

	mutex_lock(&probe->lock);
	ret = simple_read_from_buffer(ubuf, count, ppos, probe->answer,
				      strlen(probe->answer));
	mutex_unlock(&probe->lock);
	return ret;
}

static int kvm_vfio_probe_open(struct inode *inode, struct file *file)
{
	struct kvm_vfio_probe *probe = kzalloc(sizeof(*probe), GFP_KERNEL);

	if (!probe)
		return -ENOMEM;
	mutex_init(&probe->lock);
	file->private_data = probe;
	return 0;
}

static int kvm_vfio_probe_release(struct inode *inode, struct file *file)
{
	struct kvm_vfio_probe *probe = file->private_data;

	mutex_destroy(&probe->lock);
	kfree(probe);
	return 0;
}

static const struct file_operations kvm_vfio_probe_fops = {
	.owner = THIS_MODULE,
	.open = kvm_vfio_probe_open,
	.release = kvm_vfio_probe_release,
	.read = kvm_vfio_probe_read,
	.write = kvm_vfio_probe_write,
};

static struct miscdevice kvm_vfio_probe_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "kvm-vfio-probe",
	.fops = &kvm_vfio_probe_fops,
};

module_misc_device(kvm_vfio_probe_misc);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Test-only: asks a file what kvm.ko asks of a VFIO file");
