// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci: config space virtualization.
 *
 * Every byte of config space has two masks, built at open from the tables
 * below: `virt` bits are served from (and written to) vconfig, the copy
 * user space sees; `write` bits user space may change.  Bits neither
 * virtual nor writable read through to the device and ignore writes.  A
 * few registers need an action after a write (BAR sizing, memory decode,
 * INTx disable, MSI flags, FLR and the max read request size, VPD):
 * vfio_pci_config_write_fixup().
 * A write to COMMAND first puts back the BARs of open time if the device
 * lost them to a reset we did not do (vfio_pci_bars_restore_if_lost()).
 *
 * Layout, by default:
 *   0x00-0x3f    the type 0 header, table vfio_pci_hdr_fields
 *   capabilities header virtual (so hidden ones can be unlinked), body
 *                read-only pass-through, plus the capability's own table.
 *                The driver owns MSI and MSI-X (SET_IRQS enables them): MSI
 *                flags, address and data are virtual, MSI-X control reads
 *                the device's state.  PCI Express device control is
 *                written through but for what the host must decide.
 *                PMCSR writes become power state transitions.  Vendor-
 *                specific capabilities are read-write pass-through, PCI-X
 *                command and ECC written through; VPD's address and data
 *                are virtual and a transfer follows the address's write.
 *   extended     from 0x100, walked as in-tree does (vfio_pci_ecaps_init()):
 *   capabilities the header dword virtual, so that the ones in-tree hides
 *                can be unlinked; the body read-only pass-through, but for
 *                AER's masks, severities and status bits
 *                (vfio_pci_err_fields) and vendor-specific ones (VSEC, and
 *                DVSEC where the series shows it), read-write pass-through
 *   other bytes  read-write pass-through, below 0x100 and above (devices
 *                hide registers there), hidden capabilities' included
 */
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "vfio_pci_priv.h"
#include "vfio_trace_abi.h"

#define ALL	0xffffffffU

struct vfio_pci_cfg_field {
	u16 off;	/* from the start of the header or capability */
	u8 size;	/* 1, 2 or 4 */
	u32 virt;
	u32 write;
};

static const struct vfio_pci_cfg_field vfio_pci_hdr_fields[] = {
	{ PCI_VENDOR_ID,		4, ALL, 0 },
	/* MEM/IO are mirrored to the device by the fixup, INTx disable is ours */
	{ PCI_COMMAND,			2, PCI_COMMAND_MEMORY | PCI_COMMAND_IO |
					   PCI_COMMAND_INTX_DISABLE, 0xffff },
	/* The capability list bit says whether any capability is shown. */
	{ PCI_STATUS,			2, PCI_STATUS_CAP_LIST, 0 },
	{ PCI_CLASS_REVISION,		4, ALL, 0 },
	/* Written through, as in-tree ("no harm to write") */
	{ PCI_CACHE_LINE_SIZE,		1, 0, 0xff },
	{ PCI_LATENCY_TIMER,		1, 0, 0xff },
	{ PCI_HEADER_TYPE,		1, 0xff, 0 },
	{ PCI_BIST,			1, 0, 0xff },
	{ PCI_BASE_ADDRESS_0,		4, ALL, ALL },
	{ PCI_BASE_ADDRESS_1,		4, ALL, ALL },
	{ PCI_BASE_ADDRESS_2,		4, ALL, ALL },
	{ PCI_BASE_ADDRESS_3,		4, ALL, ALL },
	{ PCI_BASE_ADDRESS_4,		4, ALL, ALL },
	{ PCI_BASE_ADDRESS_5,		4, ALL, ALL },
	{ PCI_CARDBUS_CIS,		4, ALL, 0 },
	{ PCI_SUBSYSTEM_VENDOR_ID,	4, ALL, 0 },
	{ PCI_ROM_ADDRESS,		4, ALL, ALL },
	{ PCI_CAPABILITY_LIST,		4, ALL, 0 },
	{ 0x38,				4, ALL, 0 },
	{ PCI_INTERRUPT_LINE,		1, 0xff, 0xff },
	{ PCI_INTERRUPT_PIN,		1, 0xff, 0 },
	{ PCI_MIN_GNT,			2, 0xffff, 0 },
	{ }
};

/*
 * MSI, as in-tree: enabling it is SET_IRQS's job.  The low byte of the
 * flags is virtual and takes any value, of which vfio_pci_msi_flags_write()
 * keeps the enable bit only while SET_IRQS has MSI on and bounds the queue
 * size, and which it writes to the device; the high byte (per-vector
 * masking, extended data) reads the device.  Address and data are virtual;
 * the mask and pending bits, where the function has them, are the
 * device's, written through.  Bytes no field names read the device.
 */
static const struct vfio_pci_cfg_field vfio_pci_msi_fields[] = {
	{ PCI_MSI_FLAGS,	1, 0xff, 0xff },
	{ PCI_MSI_ADDRESS_LO,	4, ALL, ALL },
	{ }
};

static const struct vfio_pci_cfg_field vfio_pci_msi32_fields[] = {
	{ PCI_MSI_DATA_32,	2, 0xffff, 0xffff },
	{ PCI_MSI_MASK_32,	4, 0, ALL },	/* only with PCI_MSI_FLAGS_MASKBIT */
	{ PCI_MSI_PENDING_32,	4, 0, ALL },
	{ }
};

static const struct vfio_pci_cfg_field vfio_pci_msi64_fields[] = {
	{ PCI_MSI_ADDRESS_HI,	4, ALL, ALL },
	{ PCI_MSI_DATA_64,	2, 0xffff, 0xffff },
	{ PCI_MSI_MASK_64,	4, 0, ALL },	/* only with PCI_MSI_FLAGS_MASKBIT */
	{ PCI_MSI_PENDING_64,	4, 0, ALL },
	{ }
};

/*
 * PCI Express device control, as in-tree: the function's own but for
 * phantom functions (their requester IDs would be unknown to the IOMMU).
 * FLR is ours to do; the max payload size is virtual (it must match the
 * link partner's, which user space does not see); the max read request
 * size is set on the device, no lower than the payload size
 * (vfio_pci_exp_devctl_write()).  Device control 2 is written through but
 * for ARI forwarding, which the host set at enumeration.
 */
static const struct vfio_pci_cfg_field vfio_pci_exp_fields[] = {
	{ PCI_EXP_DEVCTL,	2, PCI_EXP_DEVCTL_BCR_FLR | PCI_EXP_DEVCTL_PAYLOAD |
				   PCI_EXP_DEVCTL_READRQ,
				   (u16)~PCI_EXP_DEVCTL_PHANTOM },
	{ PCI_EXP_DEVCTL2,	2, 0, (u16)~PCI_EXP_DEVCTL2_ARI },
	{ }
};

/*
 * Power management is the function's own: user space asks for a state
 * through PMCSR and we make the transition (vfio_pci_pm_write()), so the
 * state bits read the device and are not written through.  PMEs are
 * handled by the host, never by user space: PME_Support, PME_En and
 * PME_Status are virtual, and read 0.
 */
static const struct vfio_pci_cfg_field vfio_pci_pm_fields[] = {
	{ PCI_PM_PMC,	2, PCI_PM_CAP_PME_MASK, 0 },
	{ PCI_PM_CTRL,	4, PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS,
			   ~(PCI_PM_CTRL_PME_ENABLE | PCI_PM_CTRL_PME_STATUS |
			     PCI_PM_CTRL_STATE_MASK) },
	{ }
};

/*
 * VPD: address and data are virtual; a write to the address's high byte
 * makes the transfer (vfio_pci_vpd_transfer()).
 */
static const struct vfio_pci_cfg_field vfio_pci_vpd_fields[] = {
	{ PCI_VPD_ADDR,	2, 0xffff, 0xffff },
	{ PCI_VPD_DATA,	4, ALL, ALL },
	{ }
};

/* PCI-X: command and (version 2) ECC control written through, as in-tree. */
static const struct vfio_pci_cfg_field vfio_pci_pcix_fields[] = {
	{ PCI_X_CMD,	 2, 0, 0xffff },
	{ PCI_X_ECC_CSR, 4, 0, ALL },
	{ }
};

/*
 * AER: the function's own error masks, severities and W1C status bits are
 * user space's to manage, as in-tree; the header dword is virtual.
 */
#define VFIO_PCI_ERR_UNC	(PCI_ERR_UNC_UND | PCI_ERR_UNC_DLP | PCI_ERR_UNC_SURPDN | \
				 PCI_ERR_UNC_POISON_TLP | PCI_ERR_UNC_FCP | \
				 PCI_ERR_UNC_COMP_TIME | PCI_ERR_UNC_COMP_ABORT | \
				 PCI_ERR_UNC_UNX_COMP | PCI_ERR_UNC_RX_OVER | \
				 PCI_ERR_UNC_MALF_TLP | PCI_ERR_UNC_ECRC | \
				 PCI_ERR_UNC_UNSUP | PCI_ERR_UNC_ACSV | PCI_ERR_UNC_INTN | \
				 PCI_ERR_UNC_MCBTLP | PCI_ERR_UNC_ATOMEG | \
				 PCI_ERR_UNC_TLPPRE)
#define VFIO_PCI_ERR_COR	(PCI_ERR_COR_RCVR | PCI_ERR_COR_BAD_TLP | \
				 PCI_ERR_COR_BAD_DLLP | PCI_ERR_COR_REP_ROLL | \
				 PCI_ERR_COR_REP_TIMER | PCI_ERR_COR_ADV_NFAT | \
				 PCI_ERR_COR_INTERNAL | PCI_ERR_COR_LOG_OVER)

static const struct vfio_pci_cfg_field vfio_pci_err_fields[] = {
	{ 0,			4, ALL, 0 },
	{ PCI_ERR_UNCOR_STATUS,	4, 0, VFIO_PCI_ERR_UNC },
	{ PCI_ERR_UNCOR_MASK,	4, 0, VFIO_PCI_ERR_UNC },
	{ PCI_ERR_UNCOR_SEVER,	4, 0, VFIO_PCI_ERR_UNC },
	{ PCI_ERR_COR_STATUS,	4, 0, VFIO_PCI_ERR_COR },
	{ PCI_ERR_COR_MASK,	4, 0, VFIO_PCI_ERR_COR },
	{ PCI_ERR_CAP,		4, 0, PCI_ERR_CAP_ECRC_GENE | PCI_ERR_CAP_ECRC_CHKE },
	{ }
};

/*
 * Power budgeting: in-tree lets the byte at PCI_PWR_DATA through, the data
 * register, which the device does not let anyone write; the data select
 * (PCI_PWR_DSR) stays read-only, so user space reads only the entry it
 * already selects.
 */
static const struct vfio_pci_cfg_field vfio_pci_pwr_fields[] = {
	{ 0,		4, ALL, 0 },
	{ PCI_PWR_DATA,	1, 0, 0xff },
	{ }
};

/* Little-endian bytes of arr at pos as a value of size bytes. */
static u32 vfio_pci_cfg_get(const u8 *arr, int pos, int size)
{
	u32 v = 0;
	int i;

	for (i = size - 1; i >= 0; i--)
		v = (v << 8) | arr[pos + i];
	return v;
}

static void vfio_pci_cfg_put(u8 *arr, int pos, int size, u32 v)
{
	int i;

	for (i = 0; i < size; i++, v >>= 8)
		arr[pos + i] = v & 0xff;
}

static void vfio_pci_cfg_fields_apply(struct vfio_pci_device *vpdev, int base,
				      const struct vfio_pci_cfg_field *f, int len)
{
	for (; f->size; f++) {
		if (f->off + f->size > len)
			continue;
		vfio_pci_cfg_put(vpdev->cfg_virt, base + f->off, f->size, f->virt);
		vfio_pci_cfg_put(vpdev->cfg_write, base + f->off, f->size, f->write);
	}
}

static void vfio_pci_cfg_range_set(struct vfio_pci_device *vpdev, int pos,
				   int len, u8 virt, u8 write)
{
	memset(vpdev->cfg_virt + pos, virt, len);
	memset(vpdev->cfg_write + pos, write, len);
}

/* ---- BARs ------------------------------------------------------------------ */

/*
 * What a BAR register can hold: the address bits its size allows plus the
 * fixed type bits.  Slot VFIO_PCI_ROM_SLOT is the ROM BAR, whose enable bit
 * is writable.  The upper half of a 64-bit BAR takes the high size bits.
 */
static void vfio_pci_bar_masks_init(struct vfio_pci_device *vpdev)
{
	struct pci_dev *pdev = vpdev->pdev;
	u64 len, mask;
	u32 bar;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		bar = vfio_pci_cfg_get(vpdev->vconfig, PCI_BASE_ADDRESS_0 + 4 * i, 4);
		len = pci_resource_len(pdev, i);
		vpdev->bar_mask[i] = 0;
		vpdev->bar_flags[i] = 0;
		if (!len)
			continue;
		mask = ~(len - 1);
		if (pci_resource_flags(pdev, i) & IORESOURCE_IO) {
			vpdev->bar_mask[i] = (u32)mask & PCI_BASE_ADDRESS_IO_MASK;
			vpdev->bar_flags[i] = bar & ~PCI_BASE_ADDRESS_IO_MASK;
			continue;
		}
		vpdev->bar_mask[i] = (u32)mask & PCI_BASE_ADDRESS_MEM_MASK;
		vpdev->bar_flags[i] = bar & ~PCI_BASE_ADDRESS_MEM_MASK;
		if ((bar & PCI_BASE_ADDRESS_MEM_TYPE_MASK) ==
		    PCI_BASE_ADDRESS_MEM_TYPE_64 && i + 1 < PCI_STD_NUM_BARS) {
			i++;
			vpdev->bar_mask[i] = mask >> 32;
			vpdev->bar_flags[i] = 0;
		}
	}

	len = pci_resource_len(pdev, PCI_ROM_RESOURCE);
	vpdev->bar_mask[VFIO_PCI_ROM_SLOT] = len ?
		((u32)~(len - 1) & PCI_ROM_ADDRESS_MASK) | PCI_ROM_ADDRESS_ENABLE : 0;
	vpdev->bar_flags[VFIO_PCI_ROM_SLOT] = 0;
}

static void vfio_pci_bar_fixup(struct vfio_pci_device *vpdev, int slot)
{
	int pos = slot == VFIO_PCI_ROM_SLOT ? PCI_ROM_ADDRESS :
					      PCI_BASE_ADDRESS_0 + 4 * slot;
	u32 v = vfio_pci_cfg_get(vpdev->vconfig, pos, 4);

	v = (v & vpdev->bar_mask[slot]) | vpdev->bar_flags[slot];
	vfio_pci_cfg_put(vpdev->vconfig, pos, 4, v);
}

/* ---- capabilities --------------------------------------------------------- */

/* Bytes a standard capability covers; 0 for those we do not know. */
static int vfio_pci_cap_len(struct vfio_pci_device *vpdev, u8 id, int pos)
{
	u8 *vc = vpdev->vconfig;
	u16 flags;
	int len;

	switch (id) {
	case PCI_CAP_ID_PM:
		return PCI_PM_SIZEOF;
	case PCI_CAP_ID_VPD:
		return PCI_CAP_VPD_SIZEOF;
	case PCI_CAP_ID_SSVID:
		return 8;
	case PCI_CAP_ID_AF:
		return PCI_CAP_AF_SIZEOF;
	case PCI_CAP_ID_MSIX:
		return PCI_CAP_MSIX_SIZEOF;
	case PCI_CAP_ID_VNDR:
		return max_t(int, vc[pos + PCI_CAP_FLAGS], 3);
	/*
	 * Shown as in-tree, where they are part of the chain: a hidden
	 * capability's bytes are gaps, and gaps below 0x100 are read-write
	 * pass-through.
	 */
	case PCI_CAP_ID_AGP:
		return PCI_AGP_SIZEOF;
	case PCI_CAP_ID_PCIX:
		flags = vfio_pci_cfg_get(vc, pos + PCI_X_CMD, 2);
		return PCI_X_CMD_VERSION(flags) ? PCI_CAP_PCIX_SIZEOF_V2 :
						  PCI_CAP_PCIX_SIZEOF_V0;
	case PCI_CAP_ID_HT:
		return (vc[pos + 3] & HT_3BIT_CAP_MASK) ? HT_CAP_SIZEOF_SHORT :
							  HT_CAP_SIZEOF_LONG;
	case PCI_CAP_ID_SATA:
		return (vc[pos + PCI_SATA_REGS] & PCI_SATA_REGS_MASK) ==
			PCI_SATA_REGS_INLINE ? PCI_SATA_SIZEOF_LONG :
					       PCI_SATA_SIZEOF_SHORT;
	case PCI_CAP_ID_MSI:
		flags = vfio_pci_cfg_get(vc, pos + PCI_MSI_FLAGS, 2);
		len = (flags & PCI_MSI_FLAGS_64BIT) ? PCI_MSI_DATA_64 + 2 :
						      PCI_MSI_DATA_32 + 2;
		if (flags & PCI_MSI_FLAGS_MASKBIT)
			len += 10;	/* mask, pending, and their padding */
		return len;
	/* As in-tree: an integrated endpoint has no link registers. */
	case PCI_CAP_ID_EXP:
		flags = vfio_pci_cfg_get(vc, pos + PCI_EXP_FLAGS, 2);
		if ((flags & PCI_EXP_FLAGS_VERS) == 1)
			return (flags & PCI_EXP_FLAGS_TYPE) >> 4 == PCI_EXP_TYPE_RC_END ?
				PCI_EXP_DEVSTA + 2 : PCI_CAP_EXP_ENDPOINT_SIZEOF_V1;
		return (flags & PCI_EXP_FLAGS_TYPE) >> 4 == PCI_EXP_TYPE_RC_END ?
			PCI_EXP_DEVSTA2 + 2 : PCI_CAP_EXP_ENDPOINT_SIZEOF_V2;
	default:
		return 0;
	}
}

static void vfio_pci_cap_init(struct vfio_pci_device *vpdev, u8 id, int pos,
			      int len)
{
	u16 flags;

	/* Body read-only pass-through, header virtual. */
	vfio_pci_cfg_range_set(vpdev, pos, len, 0, 0);
	vfio_pci_cfg_range_set(vpdev, pos, 2, 0xff, 0);

	switch (id) {
	case PCI_CAP_ID_MSI:
		vpdev->msi_cap = pos;
		vfio_pci_cfg_fields_apply(vpdev, pos, vfio_pci_msi_fields, len);
		flags = vfio_pci_cfg_get(vpdev->vconfig, pos + PCI_MSI_FLAGS, 2);
		vfio_pci_cfg_fields_apply(vpdev, pos,
					  (flags & PCI_MSI_FLAGS_64BIT) ?
					  vfio_pci_msi64_fields : vfio_pci_msi32_fields,
					  len);
		/* The user's view starts disabled, with no vector enabled. */
		flags &= ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
		vfio_pci_cfg_put(vpdev->vconfig, pos + PCI_MSI_FLAGS, 2, flags);
		break;
	/* The vendor's own registers: read-write pass-through, as in-tree. */
	case PCI_CAP_ID_VNDR:
		vfio_pci_cfg_range_set(vpdev, pos + 2, len - 2, 0, 0xff);
		break;
	case PCI_CAP_ID_VPD:
		vpdev->vpd_cap = pos;
		vfio_pci_cfg_fields_apply(vpdev, pos, vfio_pci_vpd_fields, len);
		break;
	case PCI_CAP_ID_PCIX:
		vfio_pci_cfg_fields_apply(vpdev, pos, vfio_pci_pcix_fields, len);
		break;
	/* PME bits virtual and 0; the state is set by vfio_pci_pm_write(). */
	case PCI_CAP_ID_PM:
		vpdev->pm_cap = pos;
		vfio_pci_cfg_fields_apply(vpdev, pos, vfio_pci_pm_fields, len);
		vfio_pci_cfg_put(vpdev->vconfig, pos + PCI_PM_PMC, 2, 0);
		vfio_pci_cfg_put(vpdev->vconfig, pos + PCI_PM_CTRL, 2, 0);
		break;
	/*
	 * MSI-X stays read-only pass-through, as in-tree: enable and mask-all
	 * show what SET_IRQS did to the device; writes are dropped.
	 */
	case PCI_CAP_ID_EXP:
		vpdev->exp_cap = pos;
		vfio_pci_cfg_fields_apply(vpdev, pos, vfio_pci_exp_fields, len);
		vpdev->vconfig[pos + PCI_EXP_DEVCTL + 1] &= ~(PCI_EXP_DEVCTL_BCR_FLR >> 8);
		break;
	}
}

/*
 * Walk the standard capability list.  Capabilities of unknown length are
 * hidden: unlinked from the chain in vconfig, their bytes left as gaps.
 */
static void vfio_pci_caps_init(struct vfio_pci_device *vpdev)
{
	u8 *vc = vpdev->vconfig;
	int prev = PCI_CAPABILITY_LIST, pos, len, hops;
	u8 id;

	if (!(vfio_pci_cfg_get(vc, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST))
		return;

	pos = vc[PCI_CAPABILITY_LIST] & ~3;
	for (hops = 0; pos >= PCI_STD_HEADER_SIZEOF && hops < 48; hops++) {
		id = vc[pos + PCI_CAP_LIST_ID];
		len = vfio_pci_cap_len(vpdev, id, pos);
		if (!len) {
			pci_info(vpdev->pdev, "hiding capability %#x at %#x\n",
				 id, pos);
			vc[prev] = vc[pos + PCI_CAP_LIST_NEXT];
		} else {
			len = min(len, PCI_CFG_SPACE_SIZE - pos);
			vfio_pci_cap_init(vpdev, id, pos, len);
			prev = pos + PCI_CAP_LIST_NEXT;
		}
		pos = vc[pos + PCI_CAP_LIST_NEXT] & ~3;
	}
	if (hops == 48)
		vc[prev] = 0;	/* a loop: cut it */
	if (!vc[PCI_CAPABILITY_LIST])
		vc[PCI_STATUS] &= ~PCI_STATUS_CAP_LIST;	/* none shown */
}

/* ---- extended capabilities --------------------------------------------- */

/* Virtual channels (VC, VC9, MFVC): the arbitration tables included. */
static int vfio_pci_vc_len(const u8 *vc, int pos)
{
	u32 cap1 = vfio_pci_cfg_get(vc, pos + PCI_VC_PORT_CAP1, 4);
	u32 cap2 = vfio_pci_cfg_get(vc, pos + PCI_VC_PORT_CAP2, 4);
	int len = PCI_CAP_VC_BASE_SIZEOF +
		  (1 + (cap1 & PCI_VC_CAP1_EVCC)) * PCI_CAP_VC_PER_VC_SIZEOF;
	int phases = 0;

	if (cap2 & PCI_VC_CAP2_128_PHASE)
		phases = 128;
	else if (cap2 & PCI_VC_CAP2_64_PHASE)
		phases = 64;
	else if (cap2 & PCI_VC_CAP2_32_PHASE)
		phases = 32;
	/* 4 bits per phase, the table 16-byte aligned */
	if (phases)
		len = round_up(len, 16) + phases / 2;
	return len;
}

/*
 * Bytes an extended capability covers, sized as in-tree sizes it; 0 for
 * the ones in-tree hides: root-complex-only, obsolete and not-yet-supported
 * ones (MR-IOV, Secondary PCIe, PMUX, PASID...), and every id newer than
 * its table (DOE, the PCIe 4+ link capabilities).
 */
static int vfio_pci_ecap_len(struct vfio_pci_device *vpdev, u16 id, int pos)
{
	const u8 *vc = vpdev->vconfig;
	u32 dw;
	u8 b;

	switch (id) {
	case PCI_EXT_CAP_ID_ERR:
		return PCI_ERR_ROOT_COMMAND;
	case PCI_EXT_CAP_ID_DSN:
		return PCI_EXT_CAP_DSN_SIZEOF;
	case PCI_EXT_CAP_ID_PWR:
		return PCI_EXT_CAP_PWR_SIZEOF;
	case PCI_EXT_CAP_ID_ARI:
		return PCI_EXT_CAP_ARI_SIZEOF;
	case PCI_EXT_CAP_ID_ATS:
		return PCI_EXT_CAP_ATS_SIZEOF;
	case PCI_EXT_CAP_ID_SRIOV:
		return PCI_EXT_CAP_SRIOV_SIZEOF;
	case PCI_EXT_CAP_ID_MCAST:
		return PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF;
	case PCI_EXT_CAP_ID_PRI:
		return PCI_EXT_CAP_PRI_SIZEOF;
	case PCI_EXT_CAP_ID_LTR:
		return PCI_EXT_CAP_LTR_SIZEOF;
	case PCI_EXT_CAP_ID_VNDR:
		return PCI_VNDR_HEADER_LEN(vfio_pci_cfg_get(vc, pos + PCI_VNDR_HEADER, 4));
	case PCI_EXT_CAP_ID_DVSEC:
		if (!VFIO_COMPAT_DVSEC_SHOWN)
			return 0;
		return PCI_DVSEC_HEADER1_LEN(vfio_pci_cfg_get(vc, pos + PCI_DVSEC_HEADER1, 4));
	case PCI_EXT_CAP_ID_VC:
	case PCI_EXT_CAP_ID_VC9:
	case PCI_EXT_CAP_ID_MFVC:
		return vfio_pci_vc_len(vc, pos);
	case PCI_EXT_CAP_ID_ACS:
		if (!(vc[pos + PCI_ACS_CAP] & PCI_ACS_EC))
			return 8;
		/* the egress control vector: 0 means 256 bits */
		b = vc[pos + PCI_ACS_EGRESS_BITS];
		return 8 + (b ? round_up(b, 32) : 256) / 8;
	case PCI_EXT_CAP_ID_REBAR:
		b = (vc[pos + PCI_REBAR_CTRL] & PCI_REBAR_CTRL_NBAR_MASK) >>
		    PCI_REBAR_CTRL_NBAR_SHIFT;
		return 4 + b * 8;
	case PCI_EXT_CAP_ID_DPA:
		return PCI_DPA_BASE_SIZEOF +
		       (vc[pos + PCI_DPA_CAP] & PCI_DPA_CAP_SUBSTATE_MASK) + 1;
	case PCI_EXT_CAP_ID_TPH:
		dw = vfio_pci_cfg_get(vc, pos + PCI_TPH_CAP, 4);
		if ((dw & PCI_TPH_CAP_LOC_MASK) != PCI_TPH_LOC_CAP)
			return PCI_TPH_BASE_SIZEOF;
		/* the steering tag table, 2 bytes an entry, in the capability */
		return PCI_TPH_BASE_SIZEOF + 2 +
		       2 * ((dw & PCI_TPH_CAP_ST_MASK) >> PCI_TPH_CAP_ST_SHIFT);
	default:
		return 0;
	}
}

static void vfio_pci_ecap_init(struct vfio_pci_device *vpdev, u16 id, int pos,
			       int len)
{
	/* Header virtual, body read-only pass-through. */
	vfio_pci_cfg_range_set(vpdev, pos, len, 0, 0);
	vfio_pci_cfg_range_set(vpdev, pos, min(len, 4), 0xff, 0);
	if (len <= 4)
		return;

	switch (id) {
	case PCI_EXT_CAP_ID_ERR:
		vfio_pci_cfg_fields_apply(vpdev, pos, vfio_pci_err_fields, len);
		break;
	case PCI_EXT_CAP_ID_PWR:
		vfio_pci_cfg_fields_apply(vpdev, pos, vfio_pci_pwr_fields, len);
		break;
	/* The vendor's own registers: read-write pass-through, as in-tree. */
	case PCI_EXT_CAP_ID_VNDR:
	case PCI_EXT_CAP_ID_DVSEC:
		vfio_pci_cfg_range_set(vpdev, pos + 4, len - 4, 0, 0xff);
		break;
	}
}

/*
 * In-tree finds the capability a byte belongs to by walking back a dword
 * at a time over bytes of the same id, so two capabilities of one id that
 * abut are one to it: the second one's header reads the device, next
 * pointer included, and a capability hidden behind it is linked again for
 * user space (6.12 and QEMU's CXL device: three DVSECs, then the DOE).  A
 * drop-in shows the same list: @owner holds each byte's capability id as
 * in-tree's map does, ECAP_START marking a header's first byte.
 */
#define ECAP_START	0x80	/* above every id in-tree shows */

static void vfio_pci_ecaps_merge_abutting(struct vfio_pci_device *vpdev,
					  const u8 *owner)
{
	int pos;

	for (pos = PCI_CFG_SPACE_SIZE + 4; pos < vpdev->pdev->cfg_size; pos += 4) {
		u8 id = owner[pos - PCI_CFG_SPACE_SIZE];

		if ((id & ECAP_START) &&
		    (owner[pos - 4 - PCI_CFG_SPACE_SIZE] & ~ECAP_START) ==
		    (id & ~ECAP_START))
			memset(vpdev->cfg_virt + pos, 0, 4);
	}
}

/*
 * Walk the extended capability list as in-tree does.  A hidden capability
 * is unlinked in vconfig and its bytes left as gaps; the first one cannot
 * be (the list starts at 0x100), so its header dword shows id 0, version 0
 * and the next pointer.  With none shown, the dword at 0x100 reads 0.
 */
static int vfio_pci_ecaps_init(struct vfio_pci_device *vpdev)
{
	int size = vpdev->pdev->cfg_size, pos = PCI_CFG_SPACE_SIZE;
	int prev = 0, shown = 0, hops, len;
	u8 *vc = vpdev->vconfig, *owner;
	u32 hdr;
	u16 id;

	/* In-tree walks only a list that starts with a non-zero header. */
	if (size <= PCI_CFG_SPACE_SIZE ||
	    !vfio_pci_cfg_get(vc, PCI_CFG_SPACE_SIZE, 4))
		return 0;
	owner = kzalloc(size - PCI_CFG_SPACE_SIZE, GFP_KERNEL);
	if (!owner)
		return -ENOMEM;

	for (hops = 0; pos >= PCI_CFG_SPACE_SIZE &&
	     hops < (size - PCI_CFG_SPACE_SIZE) / 4; hops++) {
		hdr = vfio_pci_cfg_get(vc, pos, 4);
		id = PCI_EXT_CAP_ID(hdr);
		len = min(vfio_pci_ecap_len(vpdev, id, pos), size - pos);
		if (len <= 0) {
			pci_info(vpdev->pdev, "hiding extended capability %#x at %#x\n",
				 id, pos);
			if (prev) {
				/*
				 * The previous header's next pointer skips it
				 * (its two low bits, reserved, are the device's).
				 */
				u32 p = vfio_pci_cfg_get(vc, prev, 4);

				p = (p & ~(0xffcU << 20)) | (PCI_EXT_CAP_NEXT(hdr) << 20);
				vfio_pci_cfg_put(vc, prev, 4, p);
				pos = PCI_EXT_CAP_NEXT(hdr);
				continue;
			}
			vfio_pci_cfg_range_set(vpdev, pos, 4, 0xff, 0);
			vfio_pci_cfg_put(vc, pos, 4, PCI_EXT_CAP_NEXT(hdr) << 20);
			len = 4;	/* in-tree's placeholder, with the real id */
		} else {
			vfio_pci_ecap_init(vpdev, id, pos, len);
			shown++;
		}
		memset(owner + pos - PCI_CFG_SPACE_SIZE, id, len);
		owner[pos - PCI_CFG_SPACE_SIZE] |= ECAP_START;
		prev = pos;
		pos = PCI_EXT_CAP_NEXT(hdr);
	}
	if (!shown)
		vfio_pci_cfg_put(vc, PCI_CFG_SPACE_SIZE, 4, 0);
	vfio_pci_ecaps_merge_abutting(vpdev, owner);
	kfree(owner);
	return 0;
}

int vfio_pci_config_init(struct vfio_pci_device *vpdev)
{
	struct pci_dev *pdev = vpdev->pdev;
	int size = pdev->cfg_size, pos, i, ret;
	u8 *buf;

	buf = kzalloc(3 * size, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;

	mutex_lock(&vpdev->cfg_lock);
	vpdev->vconfig = buf;
	vpdev->cfg_virt = buf + size;
	vpdev->cfg_write = buf + 2 * size;
	vpdev->msi_cap = 0;
	vpdev->exp_cap = 0;
	vpdev->pm_cap = 0;
	vpdev->vpd_cap = 0;

	for (pos = 0; pos < size; pos += 4) {
		u32 v;

		pci_read_config_dword(pdev, pos, &v);
		vfio_pci_cfg_put(vpdev->vconfig, pos, 4, v);
	}
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		vpdev->rbar[i] = vfio_pci_cfg_get(vpdev->vconfig,
						  PCI_BASE_ADDRESS_0 + 4 * i, 4);
	vpdev->rbar[VFIO_PCI_ROM_SLOT] = vfio_pci_cfg_get(vpdev->vconfig,
							  PCI_ROM_ADDRESS, 4);

	vfio_pci_cfg_range_set(vpdev, PCI_STD_HEADER_SIZEOF,
			       size - PCI_STD_HEADER_SIZEOF, 0, 0xff);
	vfio_pci_cfg_fields_apply(vpdev, 0, vfio_pci_hdr_fields,
				  PCI_STD_HEADER_SIZEOF);
	vfio_pci_caps_init(vpdev);
	ret = vfio_pci_ecaps_init(vpdev);
	if (ret) {
		vpdev->vconfig = NULL;
		vpdev->cfg_virt = NULL;
		vpdev->cfg_write = NULL;
		mutex_unlock(&vpdev->cfg_lock);
		kfree(buf);
		return ret;
	}

	vfio_pci_bar_masks_init(vpdev);
	for (i = 0; i <= VFIO_PCI_ROM_SLOT; i++)
		vfio_pci_bar_fixup(vpdev, i);
	mutex_unlock(&vpdev->cfg_lock);
	return 0;
}

void vfio_pci_config_free(struct vfio_pci_device *vpdev)
{
	mutex_lock(&vpdev->cfg_lock);
	kfree(vpdev->vconfig);
	vpdev->vconfig = NULL;
	vpdev->cfg_virt = NULL;
	vpdev->cfg_write = NULL;
	mutex_unlock(&vpdev->cfg_lock);
}

/* ---- access ---------------------------------------------------------------- */

static int vfio_pci_cfg_hw_read(struct pci_dev *pdev, int pos, int size, u32 *val)
{
	int ret;
	u16 w;
	u8 b;

	/* As a device that stopped answering (pci_user_*: PCIBIOS errors). */
	if (vfio_fault(VFIO_FAULT_PCI_CONFIG))
		return -EIO;
	switch (size) {
	case 4:
		ret = pci_user_read_config_dword(pdev, pos, val);
		break;
	case 2:
		ret = pci_user_read_config_word(pdev, pos, &w);
		*val = w;
		break;
	default:
		ret = pci_user_read_config_byte(pdev, pos, &b);
		*val = b;
		break;
	}
	return pcibios_err_to_errno(ret);
}

static int vfio_pci_cfg_hw_write(struct pci_dev *pdev, int pos, int size, u32 val)
{
	int ret;

	if (vfio_fault(VFIO_FAULT_PCI_CONFIG))
		return -EIO;
	switch (size) {
	case 4:
		ret = pci_user_write_config_dword(pdev, pos, val);
		break;
	case 2:
		ret = pci_user_write_config_word(pdev, pos, val);
		break;
	default:
		ret = pci_user_write_config_byte(pdev, pos, val);
		break;
	}
	return pcibios_err_to_errno(ret);
}

static bool vfio_pci_cfg_overlaps(int pos, int size, int reg, int reg_size)
{
	return pos < reg + reg_size && reg < pos + size;
}

/* Caller holds cfg_lock. */
static int __vfio_pci_config_read(struct vfio_pci_device *vpdev, int pos,
				  int size, u32 *val)
{
	u32 full = size == 4 ? ALL : (1U << (8 * size)) - 1;
	u32 virt = vfio_pci_cfg_get(vpdev->cfg_virt, pos, size);
	u32 hw = 0;
	int ret;

	lockdep_assert_held(&vpdev->cfg_lock);

	if (virt != full) {
		ret = vfio_pci_cfg_hw_read(vpdev->pdev, pos, size, &hw);
		if (ret)
			return ret;
	}
	*val = (vfio_pci_cfg_get(vpdev->vconfig, pos, size) & virt) | (hw & ~virt);
	return 0;
}

/*
 * Pass the writable, non-virtual bits to the device.  A register written
 * whole goes as one access; otherwise byte by byte, read-modify-write, so
 * a neighbour (write-1-to-clear status bits) is never written back.
 */
static int vfio_pci_cfg_hw_update(struct vfio_pci_device *vpdev, int pos,
				  int size, u32 val, u32 hwmask)
{
	u32 full = size == 4 ? ALL : (1U << (8 * size)) - 1;
	int i, ret;

	if (hwmask == full)
		return vfio_pci_cfg_hw_write(vpdev->pdev, pos, size, val);

	for (i = 0; i < size; i++) {
		u8 m = hwmask >> (8 * i), v = val >> (8 * i);
		u32 cur;

		if (!m)
			continue;
		ret = vfio_pci_cfg_hw_read(vpdev->pdev, pos + i, 1, &cur);
		if (!ret)
			ret = vfio_pci_cfg_hw_write(vpdev->pdev, pos + i, 1,
						    (cur & ~m) | (v & m));
		if (ret)
			return ret;
	}
	return 0;
}

/* Mirror the user's memory and I/O decode to the device. */
static void vfio_pci_command_sync(struct vfio_pci_device *vpdev)
{
	u16 decode = PCI_COMMAND_MEMORY | PCI_COMMAND_IO;
	u16 vcmd = vfio_pci_cfg_get(vpdev->vconfig, PCI_COMMAND, 2);
	u16 cmd;

	pci_read_config_word(vpdev->pdev, PCI_COMMAND, &cmd);
	if ((cmd & decode) != (vcmd & decode))
		pci_write_config_word(vpdev->pdev, PCI_COMMAND,
				      (cmd & ~decode) | (vcmd & decode));
}

/*
 * VPD, as in-tree: user space puts the address (PCI_VPD_ADDR_F set to
 * write what it put in PCI_VPD_DATA) in the virtual registers; the write
 * that reaches the address's high byte makes the transfer through the PCI
 * core, which knows the device's VPD size and quirks, and flips the flag
 * to say it completed.  A transfer that fails leaves the flag as it is,
 * and the driver times out as it would on the device.
 */
static void vfio_pci_vpd_transfer(struct vfio_pci_device *vpdev)
{
	int at = vpdev->vpd_cap;
	u16 addr = vfio_pci_cfg_get(vpdev->vconfig, at + PCI_VPD_ADDR, 2);
	__le32 buf = cpu_to_le32(vfio_pci_cfg_get(vpdev->vconfig,
						  at + PCI_VPD_DATA, 4));

	if (addr & PCI_VPD_ADDR_F) {
		if (pci_write_vpd(vpdev->pdev, addr & ~PCI_VPD_ADDR_F, 4, &buf) != 4)
			return;
	} else {
		buf = 0;
		if (pci_read_vpd(vpdev->pdev, addr, 4, &buf) < 0)
			return;
		vfio_pci_cfg_put(vpdev->vconfig, at + PCI_VPD_DATA, 4,
				 le32_to_cpu(buf));
	}
	vfio_pci_cfg_put(vpdev->vconfig, at + PCI_VPD_ADDR, 2,
			 addr ^ PCI_VPD_ADDR_F);
}

/*
 * Whether a write of @size bytes at @pos makes vfio_pci_msi_flags_write()
 * run.  In-tree's test is on the access, not on the bytes it changes: one
 * that ends where the flags begin counts, and so does one that writes no
 * bit at all (the capability's ID and next pointer).
 */
static bool vfio_pci_msi_flags_touched(struct vfio_pci_device *vpdev, int pos,
				       int size)
{
	int off = pos - vpdev->msi_cap;

	return vpdev->msi_cap && off >= 0 && off <= PCI_MSI_FLAGS &&
	       off + size >= PCI_MSI_FLAGS;
}

/*
 * The MSI flags user space wrote, made what SET_IRQS allows (in-tree's
 * vfio_msi_config_write()): the enable bit only while MSI is on through
 * SET_IRQS, the queue size no larger than the vectors it last enabled;
 * then written to the device.
 */
static int vfio_pci_msi_flags_write(struct vfio_pci_device *vpdev)
{
	int at = vpdev->msi_cap + PCI_MSI_FLAGS;
	u16 flags = vfio_pci_cfg_get(vpdev->vconfig, at, 2);
	u8 qmax;

	if (!vfio_pci_msi_enabled(vpdev, &qmax))
		flags &= ~PCI_MSI_FLAGS_ENABLE;
	if (((flags & PCI_MSI_FLAGS_QSIZE) >> 4) > qmax)
		flags = (flags & ~PCI_MSI_FLAGS_QSIZE) | (qmax << 4);
	vfio_pci_cfg_put(vpdev->vconfig, at, 2, flags);
	return pci_user_write_config_word(vpdev->pdev, at, flags);
}

/*
 * After a write of PCI Express device control (in-tree's
 * vfio_exp_config_write()): the FLR bit, which always reads 0, asks for a
 * function reset; a new max read request size goes to the device, raised
 * to the max payload size so that full TLPs stay possible.  @old is
 * device control before the write.
 */
static void vfio_pci_exp_devctl_write(struct vfio_pci_device *vpdev, u16 old)
{
	int at = vpdev->exp_cap + PCI_EXP_DEVCTL;
	u16 ctl = vfio_pci_cfg_get(vpdev->vconfig, at, 2);
	u32 cap;
	int rq;

	if (ctl & PCI_EXP_DEVCTL_BCR_FLR) {
		ctl &= ~PCI_EXP_DEVCTL_BCR_FLR;
		vfio_pci_cfg_put(vpdev->vconfig, at, 2, ctl);
		pci_read_config_dword(vpdev->pdev, vpdev->exp_cap + PCI_EXP_DEVCAP,
				      &cap);
		if (cap & PCI_EXP_DEVCAP_FLR) {
			int ret;

			vfio_pci_memory_lock_and_zap(vpdev);
			ret = pci_try_reset_function(vpdev->pdev);
			up_write(&vpdev->memory_lock);
			vfio_pci_trace_reset(vpdev, VFIO_TRACE_RESET_FLR, ret);
		}
	}
	if ((ctl ^ old) & PCI_EXP_DEVCTL_READRQ) {
		rq = 128 << ((ctl & PCI_EXP_DEVCTL_READRQ) >> 12);
		pcie_set_readrq(vpdev->pdev, max(rq, pcie_get_mps(vpdev->pdev)));
	}
}

/* @old_devctl: PCI Express device control before this write. */
static int vfio_pci_config_write_fixup(struct vfio_pci_device *vpdev, int pos,
				       int size, u16 old_devctl)
{
	u8 *vc = vpdev->vconfig;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		if (vfio_pci_cfg_overlaps(pos, size, PCI_BASE_ADDRESS_0 + 4 * i, 4))
			vfio_pci_bar_fixup(vpdev, i);
	if (vfio_pci_cfg_overlaps(pos, size, PCI_ROM_ADDRESS, 4))
		vfio_pci_bar_fixup(vpdev, VFIO_PCI_ROM_SLOT);

	if (vfio_pci_cfg_overlaps(pos, size, PCI_COMMAND, 2))
		vfio_pci_intx_set_virq_disabled(vpdev,
			vfio_pci_cfg_get(vc, PCI_COMMAND, 2) & PCI_COMMAND_INTX_DISABLE);

	if (vpdev->vpd_cap &&
	    vfio_pci_cfg_overlaps(pos, size, vpdev->vpd_cap + PCI_VPD_ADDR + 1, 1))
		vfio_pci_vpd_transfer(vpdev);

	if (vpdev->exp_cap &&
	    vfio_pci_cfg_overlaps(pos, size, vpdev->exp_cap + PCI_EXP_DEVCTL, 2))
		vfio_pci_exp_devctl_write(vpdev, old_devctl);

	return vfio_pci_msi_flags_touched(vpdev, pos, size) ?
	       vfio_pci_msi_flags_write(vpdev) : 0;
}

/*
 * The low byte of COMMAND (memory and I/O decode) in vconfig once this
 * write is done.  Stable while the caller holds cfg_lock.
 */
static u8 vfio_pci_cfg_write_new_command(struct vfio_pci_device *vpdev,
					 int pos, int size, u32 val)
{
	u8 cmd = vpdev->vconfig[PCI_COMMAND];
	u8 mask, byte;

	lockdep_assert_held(&vpdev->cfg_lock);

	if (vfio_pci_cfg_overlaps(pos, size, PCI_COMMAND, 1)) {
		mask = vpdev->cfg_write[PCI_COMMAND] & vpdev->cfg_virt[PCI_COMMAND];
		byte = val >> (8 * (PCI_COMMAND - pos));
		cmd = (cmd & ~mask) | (byte & mask);
	}
	return cmd;
}

/* Does the device still hold the BARs it had at open? */
static bool vfio_pci_bars_lost(struct vfio_pci_device *vpdev)
{
	u32 bar;
	int i;

	for (i = 0; i < PCI_STD_NUM_BARS; i++) {
		if (!vpdev->rbar[i])
			continue;
		if (pci_user_read_config_dword(vpdev->pdev,
					       PCI_BASE_ADDRESS_0 + 4 * i, &bar) ||
		    bar != vpdev->rbar[i])
			return true;
	}
	return false;
}

/*
 * A reset nobody asked us for (the device's own, a bus reset from a
 * neighbour, a config write behind our back) leaves the BARs at 0 and
 * decode off, while vconfig still says decode is on.  Turning decode on
 * then would have the device claim addresses that belong to someone else:
 * put the open-time BARs back first, as in-tree does.  Caller holds
 * cfg_lock and memory_lock for write.
 */
static void vfio_pci_bars_restore_if_lost(struct vfio_pci_device *vpdev,
					  u8 new_cmd)
{
	struct pci_dev *pdev = vpdev->pdev;
	u8 virt_cmd = vpdev->vconfig[PCI_COMMAND];
	u16 hw_cmd;
	int i;

	lockdep_assert_held(&vpdev->cfg_lock);
	lockdep_assert_held_write(&vpdev->memory_lock);

	if (pci_user_read_config_word(pdev, PCI_COMMAND, &hw_cmd))
		return;
	if (!(new_cmd & virt_cmd & ~hw_cmd & PCI_COMMAND_MEMORY &&
	      !pdev->no_command_memory) &&
	    !(new_cmd & virt_cmd & ~hw_cmd & PCI_COMMAND_IO) &&
	    !vfio_pci_bars_lost(vpdev))
		return;

	pci_info(pdev, "reset recovery: restoring the BARs of open time\n");
	for (i = 0; i < PCI_STD_NUM_BARS; i++)
		pci_user_write_config_dword(pdev, PCI_BASE_ADDRESS_0 + 4 * i,
					    vpdev->rbar[i]);
	pci_user_write_config_dword(pdev, PCI_ROM_ADDRESS,
				    vpdev->rbar[VFIO_PCI_ROM_SLOT]);
}

/*
 * A write that starts at PMCSR asks for the power state in its low bits,
 * as in-tree reads it.  Entering D3hot stops BAR access: mappings are
 * zapped first, as for memory decode off.
 */
static void vfio_pci_pm_write(struct vfio_pci_device *vpdev, u32 val)
{
	static const pci_power_t states[] = { PCI_D0, PCI_D1, PCI_D2, PCI_D3hot };
	pci_power_t state = states[val & PCI_PM_CTRL_STATE_MASK];

	if (state >= PCI_D3hot)
		vfio_pci_memory_lock_and_zap(vpdev);
	else
		down_write(&vpdev->memory_lock);
	/* A state the device does not support is left, as on hardware. */
	vfio_pci_set_power_state(vpdev, state);
	up_write(&vpdev->memory_lock);
}

/* Caller holds cfg_lock. */
static int __vfio_pci_config_write(struct vfio_pci_device *vpdev, int pos,
				   int size, u32 val)
{
	u32 virt = vfio_pci_cfg_get(vpdev->cfg_virt, pos, size);
	u32 write = vfio_pci_cfg_get(vpdev->cfg_write, pos, size);
	bool decode = vfio_pci_cfg_overlaps(pos, size, PCI_COMMAND, 2);
	u16 old_devctl = 0;
	u8 new_cmd = 0;
	int ret = 0;

	lockdep_assert_held(&vpdev->cfg_lock);

	/*
	 * Memory decode may change: hold off BAR access meanwhile, and when
	 * it ends up off, with every BAR mapping zapped first.
	 */
	if (decode) {
		new_cmd = vfio_pci_cfg_write_new_command(vpdev, pos, size, val);
		if (new_cmd & PCI_COMMAND_MEMORY)
			down_write(&vpdev->memory_lock);
		else
			vfio_pci_memory_lock_and_zap(vpdev);
		vfio_pci_bars_restore_if_lost(vpdev, new_cmd);
	}
	if (vpdev->exp_cap)
		old_devctl = vfio_pci_cfg_get(vpdev->vconfig,
					      vpdev->exp_cap + PCI_EXP_DEVCTL, 2);
	if (write & virt) {
		u32 v = vfio_pci_cfg_get(vpdev->vconfig, pos, size);

		v = (v & ~(write & virt)) | (val & write & virt);
		vfio_pci_cfg_put(vpdev->vconfig, pos, size, v);
	}
	if (write & ~virt)
		ret = vfio_pci_cfg_hw_update(vpdev, pos, size, val, write & ~virt);
	if (decode) {
		vfio_pci_command_sync(vpdev);
		up_write(&vpdev->memory_lock);
	}
	if (ret)
		return ret;

	/*
	 * Read-only bytes are dropped, as on hardware, but their write still
	 * takes the fixups: in-tree runs a capability's write function for any
	 * access to it, and the MSI flags' acts even then.
	 */
	ret = vfio_pci_config_write_fixup(vpdev, pos, size, old_devctl);
	if (vpdev->pm_cap && pos == vpdev->pm_cap + PCI_PM_CTRL)
		vfio_pci_pm_write(vpdev, val);
	return ret;
}

ssize_t vfio_pci_config_rw(struct vfio_pci_device *vpdev, char __user *buf,
			   size_t count, loff_t *ppos, bool iswrite)
{
	u64 pos = (u64)*ppos & VFIO_PCI_OFFSET_MASK;
	size_t done = 0;
	ssize_t ret = 0;

	if (pos >= vpdev->pdev->cfg_size || count > vpdev->pdev->cfg_size - pos)
		return -EFAULT;

	mutex_lock(&vpdev->cfg_lock);
	while (done < count) {
		size_t left = count - done;
		int size, p = pos + done;
		u8 bytes[4];
		u32 val;

		/* The widest naturally aligned access that fits. */
		if (left >= 4 && !(p % 4))
			size = 4;
		else if (left >= 2 && !(p % 2))
			size = 2;
		else
			size = 1;

		if (iswrite) {
			if (copy_from_user(bytes, buf + done, size)) {
				ret = -EFAULT;
				break;
			}
			val = vfio_pci_cfg_get(bytes, 0, size);
			ret = __vfio_pci_config_write(vpdev, p, size, val);
			if (ret)
				break;
		} else {
			ret = __vfio_pci_config_read(vpdev, p, size, &val);
			if (ret)
				break;
			vfio_pci_cfg_put(bytes, 0, size, val);
			if (copy_to_user(buf + done, bytes, size)) {
				ret = -EFAULT;
				break;
			}
		}
		done += size;
	}
	mutex_unlock(&vpdev->cfg_lock);

	if (ret)
		return ret;
	*ppos += done;
	return done;
}
