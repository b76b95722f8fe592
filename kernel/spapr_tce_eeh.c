// SPDX-License-Identifier: GPL-2.0
/*
 * EEH (Enhanced Error Handling) on a SPAPR TCE container: after a device
 * error, POWER freezes the device's PE (partitionable endpoint); the user
 * of the container, usually QEMU relaying its guest's RTAS calls, thaws,
 * resets and reconfigures it through VFIO_EEH_PE_OP.  6.1 has these in
 * vfio_spapr_eeh.ko; here they are part of the backend that uses them.
 * The errnos are 6.1's; a result >= 0 is the platform's (GET_STATE: the
 * PE's state).
 */
#include <linux/uaccess.h>
#include <linux/vfio.h>

#include <asm/eeh.h>

#include "spapr_tce.h"

int spapr_tce_eeh_enabled(void)
{
	return eeh_enabled() ? 1 : 0;
}

static long spapr_tce_eeh_op(struct eeh_pe *pe, struct vfio_eeh_pe_op *op,
			     unsigned long arg)
{
	unsigned long minsz;

	switch (op->op) {
	case VFIO_EEH_PE_DISABLE:
		return eeh_pe_set_option(pe, EEH_OPT_DISABLE);
	case VFIO_EEH_PE_ENABLE:
		return eeh_pe_set_option(pe, EEH_OPT_ENABLE);
	case VFIO_EEH_PE_UNFREEZE_IO:
		return eeh_pe_set_option(pe, EEH_OPT_THAW_MMIO);
	case VFIO_EEH_PE_UNFREEZE_DMA:
		return eeh_pe_set_option(pe, EEH_OPT_THAW_DMA);
	case VFIO_EEH_PE_GET_STATE:
		return eeh_pe_get_state(pe);
	case VFIO_EEH_PE_RESET_DEACTIVATE:
		return eeh_pe_reset(pe, EEH_RESET_DEACTIVATE, true);
	case VFIO_EEH_PE_RESET_HOT:
		return eeh_pe_reset(pe, EEH_RESET_HOT, true);
	case VFIO_EEH_PE_RESET_FUNDAMENTAL:
		return eeh_pe_reset(pe, EEH_RESET_FUNDAMENTAL, true);
	case VFIO_EEH_PE_CONFIGURE:
		return eeh_pe_configure(pe);
	case VFIO_EEH_PE_INJECT_ERR:
		/* The error's description follows the header. */
		minsz = offsetofend(struct vfio_eeh_pe_op, err.mask);
		if (op->argsz < minsz)
			return -EINVAL;
		if (copy_from_user(op, (void __user *)arg, minsz))
			return -EFAULT;
		return eeh_pe_inject_err(pe, op->err.type, op->err.func,
					 op->err.addr, op->err.mask);
	}
	return -EINVAL;
}

long spapr_tce_eeh_ioctl(struct iommu_group *grp, unsigned long arg)
{
	unsigned long minsz = offsetofend(struct vfio_eeh_pe_op, op);
	struct vfio_eeh_pe_op op;
	struct eeh_pe *pe;

	pe = eeh_iommu_group_to_pe(grp);
	if (!pe)
		return -ENODEV;
	if (copy_from_user(&op, (void __user *)arg, minsz))
		return -EFAULT;
	if (op.argsz < minsz || op.flags)
		return -EINVAL;
	return spapr_tce_eeh_op(pe, &op, arg);
}
