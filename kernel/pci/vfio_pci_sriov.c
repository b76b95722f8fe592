// SPDX-License-Identifier: GPL-2.0
/*
 * SR-IOV, as 6.1's vfio-pci does it:
 *   - with enable_sriov, user space may enable VFs on a PF bound to vfio-pci
 *     (sysfs sriov_numvfs); the PF stays in D0 while it has VFs;
 *   - the VFs of such a PF come to vfio-pci (their driver_override is set
 *     as they appear);
 *   - a PF and its VFs trust each other (the PF can reset them, and its
 *     driver may see what passes through them), so user space proves that
 *     the two sides work together with a shared VF token, a UUID:
 *       * the PF's user sets it, through VFIO_DEVICE_FEATURE_PCI_VF_TOKEN
 *         or by naming it when it opens the PF while no VF is open;
 *       * a VF opens only as "BDF vf_token=UUID" with that UUID;
 *       * the PF opens again while a VF is open only with it too.
 *     A token named for a device that is neither is EINVAL.
 * The token is under its own lock; enabling and disabling the VFs is under
 * the PF's device lock, which the PCI core holds around sriov_configure and
 * remove.
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/pm_runtime.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/uuid.h>

#include "vfio_pci_priv.h"

/* Read at each sriov_numvfs write, as in-tree. */
static bool enable_sriov;
module_param(enable_sriov, bool, 0644);
MODULE_PARM_DESC(enable_sriov, "Let user space enable SR-IOV VFs on a PF bound to vfio-pci (sysfs sriov_numvfs); the PF's user must then be able to serve them");

struct vfio_pci_vf_token {
	struct mutex lock;
	uuid_t uuid;
	int users;			/* VFs open through vfio-pci */
};

/*
 * The PF's vfio-pci device, when vfio-pci drives the PF of this VF.  It
 * stays while the VF is in use: the PF's remove disables SR-IOV first,
 * which waits for every VF's remove, which waits for the VF's users and
 * for a lookup by name in its group.  A PF being bound has no VFs (probe
 * refuses one that has), so no drvdata is half made here.
 */
static struct vfio_pci_device *vfio_pci_sriov_pf(struct vfio_pci_device *vpdev)
{
	struct pci_dev *physfn;

	if (!vpdev->pdev->is_virtfn)
		return NULL;
	physfn = pci_physfn(vpdev->pdev);
	if (pci_dev_driver(physfn) != pci_dev_driver(vpdev->pdev))
		return NULL;
	return dev_get_drvdata(&physfn->dev);
}

/* ---- the VF token ------------------------------------------------------------ */

/*
 * Whether @vpdev may be opened with the token given (@uuid, or none).
 * A PF with no VF open takes a token given as its new one.
 */
static int vfio_pci_vf_token_check(struct vfio_pci_device *vpdev,
				   const uuid_t *uuid)
{
	struct vfio_pci_device *pf = vfio_pci_sriov_pf(vpdev);
	struct vfio_pci_vf_token *token;
	int ret = 0;

	if (vpdev->pdev->is_virtfn && !pf) {
		if (!uuid)
			return 0;
		pci_info_ratelimited(vpdev->pdev,
				     "VF token given, but the PF is not bound to vfio-pci\n");
		return -EINVAL;
	}
	token = pf ? pf->vf_token : vpdev->vf_token;
	if (!token) {
		if (!uuid)
			return 0;
		pci_info_ratelimited(vpdev->pdev, "VF token given for a device that is not a PF or VF\n");
		return -EINVAL;
	}

	mutex_lock(&token->lock);
	if (pf || token->users) {
		if (!uuid || !uuid_equal(uuid, &token->uuid)) {
			pci_info_ratelimited(vpdev->pdev, "%s VF token to open the device\n",
					     uuid ? "wrong" : "no");
			ret = -EACCES;
		}
	} else if (uuid) {
		uuid_copy(&token->uuid, uuid);
	}
	mutex_unlock(&token->lock);
	return ret;
}

#define VF_TOKEN_ARG "vf_token="

/*
 * vfio_device_ops.match: "BDF", or "BDF vf_token=UUID" with spaces around
 * the option.  0 for another device's name; EINVAL for an option that is
 * unknown, given twice or malformed.
 */
int vfio_pci_match(struct vfio_device *vdev, char *buf)
{
	struct vfio_pci_device *vpdev = to_vfio_pci(vdev);
	const char *name = pci_name(vpdev->pdev);
	bool have_token = false;
	uuid_t uuid;

	if (strncmp(buf, name, strlen(name)))
		return 0;
	buf += strlen(name);
	if (*buf && *buf != ' ')
		return 0;	/* a longer name */
	while (*buf) {
		if (*buf == ' ') {
			buf++;
			continue;
		}
		if (have_token || strncmp(buf, VF_TOKEN_ARG, strlen(VF_TOKEN_ARG)))
			return -EINVAL;
		buf += strlen(VF_TOKEN_ARG);
		if (strlen(buf) < UUID_STRING_LEN || uuid_parse(buf, &uuid))
			return -EINVAL;
		have_token = true;
		buf += UUID_STRING_LEN;
	}
	return vfio_pci_vf_token_check(vpdev, have_token ? &uuid : NULL) ?: 1;
}

/* A VF opened or closed: the PF's token counts its users. */
void vfio_pci_vf_users_add(struct vfio_pci_device *vpdev, int delta)
{
	struct vfio_pci_device *pf = vfio_pci_sriov_pf(vpdev);

	if (!pf || !pf->vf_token)
		return;
	mutex_lock(&pf->vf_token->lock);
	pf->vf_token->users += delta;
	WARN_ON(pf->vf_token->users < 0);
	mutex_unlock(&pf->vf_token->lock);
}

/*
 * VFIO_DEVICE_FEATURE_PCI_VF_TOKEN: SET only.  A GET would hand the token
 * to whoever opens the PF next.
 */
int vfio_pci_feature_vf_token(struct vfio_pci_device *vpdev, u32 flags,
			      void __user *arg, size_t argsz)
{
	uuid_t uuid;
	int ret;

	if (!vpdev->vf_token)
		return -ENOTTY;
	ret = vfio_pci_check_feature(flags, argsz, VFIO_DEVICE_FEATURE_SET, sizeof(uuid));
	if (ret != 1)
		return ret;
	if (copy_from_user(&uuid, arg, sizeof(uuid)))
		return -EFAULT;
	mutex_lock(&vpdev->vf_token->lock);
	uuid_copy(&vpdev->vf_token->uuid, &uuid);
	mutex_unlock(&vpdev->vf_token->lock);
	return 0;
}

/* ---- VFs ------------------------------------------------------------------- */

/* A VF of this PF appearing comes to vfio-pci; one bound elsewhere is told. */
static int vfio_pci_sriov_notify(struct notifier_block *nb, unsigned long action,
				 void *data)
{
	struct vfio_pci_device *vpdev = container_of(nb, struct vfio_pci_device, sriov_nb);
	struct pci_dev *pdev = to_pci_dev(data);
	struct pci_driver *drv;

	if (!pdev->is_virtfn || pci_physfn(pdev) != vpdev->pdev)
		return NOTIFY_DONE;
	if (action == BUS_NOTIFY_ADD_DEVICE) {
		pci_info(vpdev->pdev, "VF %s goes to vfio-pci (driver_override)\n",
			 pci_name(pdev));
		vfio_compat_new_vf_driver_override(pdev, "vfio-pci");
	} else if (action == BUS_NOTIFY_BOUND_DRIVER) {
		drv = pci_dev_driver(pdev);
		if (drv && drv != pci_dev_driver(vpdev->pdev))
			pci_warn(vpdev->pdev, "VF %s bound to %s while the PF is on vfio-pci\n",
				 pci_name(pdev), drv->name);
	}
	return NOTIFY_DONE;
}

/* Under the PF's device lock, as the PCI core calls it. */
int vfio_pci_sriov_configure(struct pci_dev *pdev, int nr_virtfn)
{
	struct vfio_pci_device *vpdev = dev_get_drvdata(&pdev->dev);
	int ret;

	if (!enable_sriov)
		return -ENOENT;
	if (!nr_virtfn) {
		vfio_pci_sriov_disable(vpdev);
		return 0;
	}
	if (pci_num_vf(pdev))
		return -EINVAL;
	/* A VF's power state is never above its PF's. */
	ret = pm_runtime_resume_and_get(&pdev->dev);
	if (ret)
		return ret;
	down_write(&vpdev->memory_lock);
	vfio_pci_set_power_state(vpdev, PCI_D0);
	ret = pci_enable_sriov(pdev, nr_virtfn);
	up_write(&vpdev->memory_lock);
	if (ret) {
		pm_runtime_put(&pdev->dev);
		return ret;
	}
	return nr_virtfn;
}

/*
 * Under the PF's device lock.  VFs exist only as vfio-pci enabled them
 * (probe refuses a PF that has some), each time with a PM reference.
 */
void vfio_pci_sriov_disable(struct vfio_pci_device *vpdev)
{
	if (!pci_num_vf(vpdev->pdev))
		return;
	pci_disable_sriov(vpdev->pdev);
	pm_runtime_put(&vpdev->pdev->dev);
}

/*
 * A PF that has VFs already is refused, as in-tree: they may be in use,
 * and their users could not be counted.
 */
int vfio_pci_sriov_probe(struct vfio_pci_device *vpdev)
{
	struct pci_dev *pdev = vpdev->pdev;
	int ret;

	if (pci_num_vf(pdev)) {
		pci_warn(pdev, "cannot bind to a PF with SR-IOV enabled\n");
		return -EBUSY;
	}
	if (!pdev->is_physfn)
		return 0;
	vpdev->vf_token = kzalloc(sizeof(*vpdev->vf_token), GFP_KERNEL);
	if (!vpdev->vf_token)
		return -ENOMEM;
	mutex_init(&vpdev->vf_token->lock);
	uuid_gen(&vpdev->vf_token->uuid);
	vpdev->sriov_nb.notifier_call = vfio_pci_sriov_notify;
	ret = bus_register_notifier(&pci_bus_type, &vpdev->sriov_nb);
	if (ret) {
		kfree(vpdev->vf_token);
		vpdev->vf_token = NULL;
	}
	return ret;
}

/* After the PF's VFs are gone and its vfio device unregistered. */
void vfio_pci_sriov_remove(struct vfio_pci_device *vpdev)
{
	if (!vpdev->vf_token)
		return;
	bus_unregister_notifier(&pci_bus_type, &vpdev->sriov_nb);
	WARN_ON(vpdev->vf_token->users);
	mutex_destroy(&vpdev->vf_token->lock);
	kfree(vpdev->vf_token);
	vpdev->vf_token = NULL;
}
