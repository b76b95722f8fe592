/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EEH on POWER: while a user has the device open, the platform's error
 * recovery must leave the device's PE to that user (who drives it with
 * VFIO_EEH_PE_OP on the container, vfio_iommu_spapr_tce.ko) instead of
 * recovering it behind the user's back.  eeh_dev_open() counts the PE as
 * passed through; 6.1's vfio-pci does the same.  Nothing elsewhere.
 */
#ifndef __VFIO_PCI_EEH_H
#define __VFIO_PCI_EEH_H

#include <linux/pci.h>

#if IS_ENABLED(CONFIG_EEH)
#include <asm/eeh.h>

static inline void vfio_pci_eeh_open(struct pci_dev *pdev)
{
	eeh_dev_open(pdev);
}

static inline void vfio_pci_eeh_release(struct pci_dev *pdev)
{
	eeh_dev_release(pdev);
}
#else
static inline void vfio_pci_eeh_open(struct pci_dev *pdev) { }
static inline void vfio_pci_eeh_release(struct pci_dev *pdev) { }
#endif

#endif /* __VFIO_PCI_EEH_H */
