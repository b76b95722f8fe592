// SPDX-License-Identifier: GPL-2.0
/*
 * Test-bench smoke module: writing N to /sys/kernel/debug/vfioscope_smoke/fire
 * fires the vfioscope_smoke_tick tracepoint exactly N times, so a test can
 * check that a BPF consumer sees exactly N events.
 */
#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/module.h>

#define CREATE_TRACE_POINTS
#include "vfioscope_smoke_trace.h"

/* Caps one write so a typo cannot keep the CPU busy for minutes. */
#define SMOKE_MAX_FIRE 1000000

static struct dentry *smoke_dir;
static u32 smoke_seq;	/* protected by smoke_lock */
static DEFINE_MUTEX(smoke_lock);

static ssize_t smoke_fire_write(struct file *file, const char __user *buf,
				size_t len, loff_t *ppos)
{
	unsigned int n, i;
	int ret;

	ret = kstrtouint_from_user(buf, len, 0, &n);
	if (ret)
		return ret;
	if (n > SMOKE_MAX_FIRE)
		return -ERANGE;

	mutex_lock(&smoke_lock);
	for (i = 0; i < n; i++) {
		trace_vfioscope_smoke_tick(smoke_seq, 0xfeed0000ULL + smoke_seq);
		smoke_seq++;
	}
	mutex_unlock(&smoke_lock);
	return len;
}

static const struct file_operations smoke_fire_fops = {
	.owner = THIS_MODULE,
	.write = smoke_fire_write,
	.llseek = noop_llseek,
};

static int __init smoke_init(void)
{
	smoke_dir = debugfs_create_dir("vfioscope_smoke", NULL);
	debugfs_create_file("fire", 0200, smoke_dir, NULL, &smoke_fire_fops);
	return 0;
}

static void __exit smoke_exit(void)
{
	debugfs_remove_recursive(smoke_dir);
}

module_init(smoke_init);
module_exit(smoke_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfioscope test bench: a tracepoint fired on demand");
