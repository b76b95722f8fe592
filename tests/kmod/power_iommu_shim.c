// SPDX-License-Identifier: GPL-2.0
/*
 * TEST-ONLY.  A do-nothing powerpc iommu_ops, so that stock Debian 6.1
 * ppc64el lets vfio-pci bind a device in the POWER test guest
 * (tests/vm/guest/power-spapr-v1.sh).  Never install it, never load it on
 * a machine whose devices you care about: it gives NO ISOLATION.
 *
 * Why it exists: 6.1 has no iommu_ops on powerpc.  The platform code puts
 * every PCI device in an iommu_group (its PE's, holding the TCE table
 * group as iommudata), but nothing answers the IOMMU core's questions, so
 *  - vfio-pci's probe fails with -EINVAL: VFIO wants
 *    device_iommu_capable(IOMMU_CAP_CACHE_COHERENCY), which needs
 *    dev->iommu and an ops->capable;
 *  - VFIO_GROUP_SET_CONTAINER would fail too:
 *    iommu_group_claim_dma_owner() allocates a blocking domain through
 *    the bus's iommu_ops.
 * Upstream fixed it after 6.1 (a940904443e4, "powerpc/iommu: Add
 * iommu_ops to report capabilities and allow blocking domains"); this is
 * the least that gets a 6.1 guest there, written for the test bench.
 *
 * What it does, once, at load: for each PCI device in a platform group it
 * takes the device out of that group and registers one iommu_device with
 * these ops; the core then probes every device again, and device_group()
 * puts each back into the very group it came from, now with dev->iommu
 * set.  The group's iommudata (the TCE table group) is untouched, so the
 * VFIO SPAPR TCE backend under test still finds it and takes ownership of
 * the TCE tables: that backend does the real DMA translation.
 *
 * The blocked domain does nothing on attach or detach: DMA stays as the
 * TCE tables say, nothing is blocked.  That is the missing isolation.
 *
 * It cannot be unloaded (no module_exit): 6.1's iommu_device_register()
 * sets pci_bus_type.iommu_ops and platform_bus_type.iommu_ops and
 * iommu_device_unregister() never clears them, so an unload would leave
 * the buses pointing into freed module memory.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/iommu.h>
#include <linux/list.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/platform_device.h>
#include <linux/slab.h>

/* A PCI device we took out of its platform group, and that group. */
struct shim_dev {
	struct list_head list;
	struct pci_dev *pdev;		/* pci_dev_get(); never put: permanent */
	struct iommu_group *group;	/* iommu_group_get(); never put */
};

/* Written once in shim_init(), before the core can call us; read after. */
static LIST_HEAD(shim_devs);
static struct iommu_device shim_iommu;

static struct shim_dev *shim_dev_find(struct device *dev)
{
	struct shim_dev *sd;

	if (!dev_is_pci(dev))
		return NULL;
	list_for_each_entry(sd, &shim_devs, list)
		if (&sd->pdev->dev == dev)
			return sd;
	return NULL;
}

static bool shim_capable(struct device *dev, enum iommu_cap cap)
{
	/* VFIO always maps IOMMU_CACHE; TCE DMA on POWER is coherent. */
	return cap == IOMMU_CAP_CACHE_COHERENCY;
}

static int shim_attach_dev(struct iommu_domain *domain, struct device *dev)
{
	return 0;	/* no isolation: see the top of this file */
}

static void shim_detach_dev(struct iommu_domain *domain, struct device *dev)
{
}

static void shim_domain_free(struct iommu_domain *domain)
{
	kfree(domain);
}

static const struct iommu_domain_ops shim_blocked_ops = {
	.attach_dev	= shim_attach_dev,
	.detach_dev	= shim_detach_dev,
	.free		= shim_domain_free,
};

/*
 * Only the blocked domain iommu_group_claim_dma_owner() asks for.  No
 * DMA or identity domain: the group then has no default domain, and the
 * DMA API keeps using the platform's TCE ops as before.
 */
static struct iommu_domain *shim_domain_alloc(unsigned int type)
{
	if (type != IOMMU_DOMAIN_BLOCKED)
		return NULL;
	/* The core sets ->type and ->ops (our default_domain_ops). */
	return kzalloc(sizeof(struct iommu_domain), GFP_KERNEL);
}

/* Ours only the devices we took out of a group; the core skips -ENODEV. */
static struct iommu_device *shim_probe_device(struct device *dev)
{
	return shim_dev_find(dev) ? &shim_iommu : ERR_PTR(-ENODEV);
}

/* Back into the platform group: a new reference, the core puts it. */
static struct iommu_group *shim_device_group(struct device *dev)
{
	struct shim_dev *sd = shim_dev_find(dev);

	return sd ? iommu_group_ref_get(sd->group) : ERR_PTR(-ENODEV);
}

static const struct iommu_ops shim_ops = {
	.capable		= shim_capable,
	.domain_alloc		= shim_domain_alloc,
	.probe_device		= shim_probe_device,
	.device_group		= shim_device_group,
	.default_domain_ops	= &shim_blocked_ops,
	.owner			= THIS_MODULE,
};

/* Take every PCI device that is in a platform group out of it. */
static int shim_take_devices(void)
{
	struct pci_dev *pdev = NULL;
	struct shim_dev *sd;

	for_each_pci_dev(pdev) {
		struct iommu_group *group = iommu_group_get(&pdev->dev);

		if (!group)
			continue;
		if (pdev->dev.iommu) {
			/* Some IOMMU driver already owns it: not stock 6.1. */
			pci_err(pdev, "already managed by an IOMMU driver\n");
			iommu_group_put(group);
			pci_dev_put(pdev);
			return -EBUSY;
		}
		sd = kzalloc(sizeof(*sd), GFP_KERNEL);
		if (!sd) {
			iommu_group_put(group);
			pci_dev_put(pdev);
			return -ENOMEM;
		}
		sd->pdev = pci_dev_get(pdev);
		sd->group = group;
		list_add_tail(&sd->list, &shim_devs);
		iommu_group_remove_device(&pdev->dev);
	}
	return list_empty(&shim_devs) ? -ENODEV : 0;
}

/* Undo shim_take_devices(): each device back into its group, as before. */
static void shim_give_back_devices(void)
{
	struct shim_dev *sd, *next;

	list_for_each_entry_safe(sd, next, &shim_devs, list) {
		if (!sd->pdev->dev.iommu_group &&
		    iommu_group_add_device(sd->group, &sd->pdev->dev))
			pci_err(sd->pdev, "could not go back to iommu group %d\n",
				iommu_group_id(sd->group));
		list_del(&sd->list);
		iommu_group_put(sd->group);
		pci_dev_put(sd->pdev);
		kfree(sd);
	}
}

/* 6.1's iommu_device_register() leaves the ops on the buses on failure. */
static void shim_clear_bus_ops(void)
{
	if (pci_bus_type.iommu_ops == &shim_ops)
		pci_bus_type.iommu_ops = NULL;
	if (platform_bus_type.iommu_ops == &shim_ops)
		platform_bus_type.iommu_ops = NULL;
}

static int __init shim_init(void)
{
	struct shim_dev *sd;
	int ret;

	/* iommu_device_link() puts the device links under this one. */
	ret = iommu_device_sysfs_add(&shim_iommu, NULL, NULL, "vfioscope-test-shim");
	if (ret)
		return ret;
	ret = shim_take_devices();
	if (ret)
		goto err_give_back;
	ret = iommu_device_register(&shim_iommu, &shim_ops, NULL);
	if (ret)
		goto err_clear_bus_ops;

	list_for_each_entry(sd, &shim_devs, list) {
		struct iommu_group *now = iommu_group_get(&sd->pdev->dev);

		if (now != sd->group || !sd->pdev->dev.iommu)
			pci_err(sd->pdev, "not back in iommu group %d after the probe\n",
				iommu_group_id(sd->group));
		else
			pci_info(sd->pdev, "in iommu group %d, with iommu_ops: test only, no isolation\n",
				 iommu_group_id(now));
		iommu_group_put(now);
	}
	return 0;

err_clear_bus_ops:
	/* It unregistered itself, if it got as far as registering. */
	shim_clear_bus_ops();
err_give_back:
	shim_give_back_devices();
	iommu_device_sysfs_remove(&shim_iommu);
	return ret;
}
module_init(shim_init);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("vfioscope TEST-ONLY: do-nothing powerpc iommu_ops so vfio-pci binds on 6.1; no isolation");
