// SPDX-License-Identifier: GPL-2.0
/*
 * Named fault points (include/vfioscope/fault.h), armed through debugfs,
 * and /sys/kernel/debug/vfio/objects, the object counts leak checks read.
 *
 * The fast path is one static key for all points: off, vfio_fault() is a
 * no-op jump.  The key is taken once per armed point (writing a non-zero
 * "times") and dropped when the point is disarmed (writing 0); a point
 * that ran out of failures stays armed but injects nothing more.  Only
 * the debugfs writers change the key, so the points may be evaluated in
 * any context, atomic included.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/seq_file.h>

#include "vfio.h"
#include <vfioscope/fault.h>

DEFINE_STATIC_KEY_FALSE(vfio_fault_key);
EXPORT_SYMBOL_GPL(vfio_fault_key);

struct dentry *vfio_debugfs_root;
EXPORT_SYMBOL_GPL(vfio_debugfs_root);

struct vfio_fault {
	const char *name;
	bool armed;		/* holds a vfio_fault_key reference */
	atomic_t times;		/* failures left */
	atomic_t skip;
	u32 every;
	atomic_t hits;
	atomic_t injected;
};

static struct vfio_fault vfio_faults[VFIO_FAULT_NR] = {
	[VFIO_FAULT_ALLOC] = { .name = "alloc" },
	[VFIO_FAULT_PIN] = { .name = "pin" },
	[VFIO_FAULT_IOMMU_MAP] = { .name = "iommu_map" },
	[VFIO_FAULT_EVENTFD] = { .name = "eventfd" },
	[VFIO_FAULT_PCI_CONFIG] = { .name = "pci_config" },
	[VFIO_FAULT_DOMAIN_JOIN] = { .name = "domain_join" },
};

static DEFINE_MUTEX(vfio_fault_lock);	/* protects vfio_fault.armed */

bool __vfio_fault_should_fail(enum vfio_fault_point point)
{
	struct vfio_fault *f = &vfio_faults[point];
	int hit, times;
	u32 every;

	/* Out-of-range points never fail. */

	if (point >= VFIO_FAULT_NR || !READ_ONCE(f->armed))
		return false;
	hit = atomic_inc_return(&f->hits);
	if (atomic_dec_if_positive(&f->skip) >= 0)
		return false;
	every = READ_ONCE(f->every);
	if (every > 1 && hit % every)
		return false;
	/* Claim one of the failures left. */
	times = atomic_dec_if_positive(&f->times);
	if (times < 0)
		return false;
	atomic_inc(&f->injected);
	return true;
}
EXPORT_SYMBOL_GPL(__vfio_fault_should_fail);

static int vfio_fault_times_get(void *data, u64 *val)
{
	struct vfio_fault *f = data;

	*val = atomic_read(&f->times);
	return 0;
}

static int vfio_fault_times_set(void *data, u64 val)
{
	struct vfio_fault *f = data;
	u64 times = val;

	if (times > INT_MAX)
		return -EINVAL;
	mutex_lock(&vfio_fault_lock);
	atomic_set(&f->times, (int)times);
	if (times && !f->armed) {
		static_branch_inc(&vfio_fault_key);
		WRITE_ONCE(f->armed, true);
	} else if (!times && f->armed) {
		WRITE_ONCE(f->armed, false);
		static_branch_dec(&vfio_fault_key);
	}
	mutex_unlock(&vfio_fault_lock);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vfio_fault_times_fops, vfio_fault_times_get,
			 vfio_fault_times_set, "%llu\n");

static int vfio_fault_atomic_get(void *data, u64 *val)
{
	*val = atomic_read((atomic_t *)data);
	return 0;
}

static int vfio_fault_atomic_set(void *data, u64 val)
{
	if (val > INT_MAX)
		return -EINVAL;
	atomic_set((atomic_t *)data, (int)val);
	return 0;
}
DEFINE_DEBUGFS_ATTRIBUTE(vfio_fault_atomic_fops, vfio_fault_atomic_get,
			 vfio_fault_atomic_set, "%llu\n");

/* /sys/kernel/debug/vfio/objects: what vfio.ko has alive, for leak checks. */
static int vfio_objects_show(struct seq_file *s, void *unused)
{
	seq_printf(s, "containers %d\ngroups %d\ndevice_files %d\n",
		   atomic_read(&vfio.nr_containers), atomic_read(&vfio.nr_groups),
		   atomic_read(&vfio.nr_device_files));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vfio_objects);

void vfio_fault_init(void)
{
	struct dentry *dir;
	int i;

	vfio_debugfs_root = debugfs_create_dir("vfio", NULL);
	debugfs_create_file("objects", 0400, vfio_debugfs_root, NULL,
			    &vfio_objects_fops);
	dir = debugfs_create_dir("fault", vfio_debugfs_root);
	for (i = 0; i < VFIO_FAULT_NR; i++) {
		struct vfio_fault *f = &vfio_faults[i];
		struct dentry *d = debugfs_create_dir(f->name, dir);

		f->every = 1;
		debugfs_create_file_unsafe("times", 0600, d, f, &vfio_fault_times_fops);
		debugfs_create_file_unsafe("skip", 0600, d, &f->skip,
					   &vfio_fault_atomic_fops);
		debugfs_create_u32("every", 0600, d, &f->every);
		debugfs_create_file_unsafe("hits", 0600, d, &f->hits,
					   &vfio_fault_atomic_fops);
		debugfs_create_file_unsafe("injected", 0600, d, &f->injected,
					   &vfio_fault_atomic_fops);
	}
}

void vfio_fault_exit(void)
{
	int i;

	debugfs_remove_recursive(vfio_debugfs_root);
	vfio_debugfs_root = NULL;
	for (i = 0; i < VFIO_FAULT_NR; i++) {
		if (vfio_faults[i].armed) {
			vfio_faults[i].armed = false;
			static_branch_dec(&vfio_fault_key);
		}
	}
}
