/* SPDX-License-Identifier: GPL-2.0 */
/*
 * vfio_iommu_spapr_tce.ko's files: the TCE backend (spapr_tce.c) and the
 * EEH operations it serves on a container (spapr_tce_eeh.c).
 */
#ifndef __VFIO_SPAPR_TCE_H
#define __VFIO_SPAPR_TCE_H

#include <linux/iommu.h>

/* VFIO_CHECK_EXTENSION(VFIO_EEH): 1 where the platform has EEH on. */
int spapr_tce_eeh_enabled(void);
/* VFIO_EEH_PE_OP on the PE of @grp; @arg is the user's vfio_eeh_pe_op. */
long spapr_tce_eeh_ioctl(struct iommu_group *grp, unsigned long arg);

#endif /* __VFIO_SPAPR_TCE_H */
