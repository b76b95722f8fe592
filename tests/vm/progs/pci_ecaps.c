// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci's extended config space (0x100 and up), on QEMU's CXL type 3
 * memory device (tests/vm/boot.sh --boot cxl), whose list is a Device
 * Serial Number, three CXL DVSECs and a DOE mailbox:
 *   - the list user space walks is the device's with the capabilities
 *     in-tree hides unlinked: DVSEC before 6.4 (compat.h), DOE always,
 *     but where it follows two abutting DVSECs, which in-tree takes for
 *     one capability: the second's header then reads the device's next
 *     pointer, and the DOE is in the list again (6.12);
 *   - a shown capability's header is read-only, its body read-only but
 *     for vendor-specific registers (DVSEC), which are written through;
 *   - the bytes of a hidden capability, and the gaps between and after
 *     capabilities, read and write the device, as in-tree.
 * The device's own config space is read through sysfs to tell what user
 * space sees from what the device holds.
 */
#include <stdbool.h>
#include <linux/pci_regs.h>

#include "check.h"
#include "vfio_util.h"

#define CXL_VENDOR	0x8086
#define CXL_TYPE3_DEVICE	0x0d93
#define CXL_DVSEC_VENDOR	0x1e98	/* the CXL consortium */
#define CXL_DVSEC_GPF_DEVICE	5	/* its global persistent flush DVSEC */
#define GPF_PHASE2_POWER	0x0c	/* a register QEMU lets the host write */
/* Past every capability; QEMU keeps it writable, as a device's own register. */
#define FREE_DWORD	0x400

#define MAX_ECAPS	16

static struct vfio_dev d;

struct ecap {
	int pos;
	uint16_t id;
};

static void open_dev(void)
{
	if (d.container > 0)
		vfio_dev_close(&d);
	vfio_dev_open(&d, CXL_VENDOR, CXL_TYPE3_DEVICE, VFIO_TYPE1v2_IOMMU);
}

static uint32_t dev_read32(const char *bdf, int pos, bool through_vfio)
{
	return through_vfio ? vfio_cfg_read32(d.device, pos) :
			      sysfs_cfg_read(bdf, pos, 4);
}

/* The extended capability list from 0x100, through VFIO or as the device holds it. */
static int ecap_list(struct ecap *out, bool through_vfio)
{
	int pos = PCI_CFG_SPACE_SIZE, n = 0, hops;
	uint32_t hdr;

	for (hops = 0; pos >= PCI_CFG_SPACE_SIZE && hops < 1024; hops++) {
		hdr = dev_read32(d.bdf, pos, through_vfio);
		if (!hdr || n == MAX_ECAPS)
			break;
		out[n].pos = pos;
		out[n].id = PCI_EXT_CAP_ID(hdr);
		n++;
		pos = PCI_EXT_CAP_NEXT(hdr);
	}
	return n;
}

/*
 * What in-tree shows of this device: from 6.4 the whole list (the DVSECs
 * shown, the DOE linked again behind the abutting ones); before, the DSN.
 */
static bool ecap_shown(uint16_t id)
{
	return id == PCI_EXT_CAP_ID_DSN || kernel_series_at_least(6, 4);
}

/* The device's GPF DVSEC, found in its own list: the position or 0. */
static int gpf_dvsec(void)
{
	struct ecap hw[MAX_ECAPS];
	int i, n = ecap_list(hw, false);
	uint32_t hdr1;

	for (i = 0; i < n; i++) {
		if (hw[i].id != PCI_EXT_CAP_ID_DVSEC)
			continue;
		hdr1 = sysfs_cfg_read(d.bdf, hw[i].pos + PCI_DVSEC_HEADER1, 4);
		if ((hdr1 & 0xffff) == CXL_DVSEC_VENDOR &&
		    (sysfs_cfg_read(d.bdf, hw[i].pos + PCI_DVSEC_HEADER2, 2) ==
		     CXL_DVSEC_GPF_DEVICE))
			return hw[i].pos;
	}
	return 0;
}

/*
 * The list through VFIO is the device's with the hidden capabilities
 * taken out, each shown one at its own offset with its own id.  The
 * DVSECs abut, which is what links the DOE again from 6.4.
 */
static int test_ecap_list(void)
{
	struct ecap hw[MAX_ECAPS], seen[MAX_ECAPS], want[MAX_ECAPS];
	int nhw, nseen, nwant = 0, i;

	open_dev();
	nhw = ecap_list(hw, false);
	nseen = ecap_list(seen, true);
	for (i = 0; i < nhw; i++) {
		fprintf(stderr, "# device: 0x%03x id 0x%02x%s\n", hw[i].pos, hw[i].id,
			ecap_shown(hw[i].id) ? "" : " (not shown)");
		if (ecap_shown(hw[i].id))
			want[nwant++] = hw[i];
	}
	/* DSN, three DVSECs, DOE: the bench's device is what this test knows */
	CHECK_EQ(nhw, 5);
	CHECK_EQ(hw[4].id, PCI_EXT_CAP_ID_DOE);
	CHECK_EQ(hw[2].pos, hw[1].pos +
		 (int)PCI_DVSEC_HEADER1_LEN(sysfs_cfg_read(d.bdf, hw[1].pos + PCI_DVSEC_HEADER1, 4)));
	CHECK_EQ(nseen, nwant);
	for (i = 0; i < nseen && i < nwant; i++) {
		CHECK_EQ(seen[i].pos, want[i].pos);
		CHECK_EQ(seen[i].id, want[i].id);
	}
	vfio_dev_close(&d);
	return TEST_PASS;
}

/*
 * A shown capability's header and a Device Serial Number's body are
 * read-only: writes are dropped, what reads back is unchanged.
 */
static int test_ecap_read_only(void)
{
	uint32_t hdr, serial;

	open_dev();
	CHECK_EQ(PCI_EXT_CAP_ID(sysfs_cfg_read(d.bdf, 0x100, 4)), PCI_EXT_CAP_ID_DSN);
	hdr = vfio_cfg_read32(d.device, 0x100);
	serial = vfio_cfg_read32(d.device, 0x104);
	CHECK_EQ(__vfio_cfg_write(d.device, 0x100, &(uint32_t){ 0 }, 4), 4);
	CHECK_EQ(__vfio_cfg_write(d.device, 0x104, &(uint32_t){ ~serial }, 4), 4);
	CHECK_EQ(vfio_cfg_read32(d.device, 0x100), hdr);
	CHECK_EQ(vfio_cfg_read32(d.device, 0x104), serial);
	CHECK_EQ(sysfs_cfg_read(d.bdf, 0x104, 4), serial);
	vfio_dev_close(&d);
	return TEST_PASS;
}

/*
 * A DVSEC's registers are the vendor's: written through, shown (6.4 on)
 * or hidden (6.1, where its bytes are gaps).  Its header is what the
 * device holds either way.
 */
static int test_dvsec_read_write(void)
{
	int gpf, reg;
	uint32_t old;

	open_dev();
	gpf = gpf_dvsec();
	fprintf(stderr, "# GPF DVSEC at 0x%x\n", gpf);
	CHECK(gpf >= PCI_CFG_SPACE_SIZE);
	reg = gpf + GPF_PHASE2_POWER;
	CHECK_EQ(vfio_cfg_read32(d.device, gpf + PCI_DVSEC_HEADER1),
		 sysfs_cfg_read(d.bdf, gpf + PCI_DVSEC_HEADER1, 4));
	old = vfio_cfg_read32(d.device, reg);
	CHECK_EQ(__vfio_cfg_write(d.device, reg, &(uint32_t){ old ^ 0x5a5a0000 }, 4), 4);
	CHECK_EQ(vfio_cfg_read32(d.device, reg), old ^ 0x5a5a0000);
	CHECK_EQ(sysfs_cfg_read(d.bdf, reg, 4), old ^ 0x5a5a0000);
	/* one byte alone reaches the device too, its neighbours kept */
	CHECK_EQ(__vfio_cfg_write(d.device, reg + 1, &(uint8_t){ 0xc3 }, 1), 1);
	CHECK_EQ(sysfs_cfg_read(d.bdf, reg, 4), ((old ^ 0x5a5a0000) & ~0xff00u) | 0xc300);
	CHECK_EQ(__vfio_cfg_write(d.device, reg, &old, 4), 4);
	CHECK_EQ(sysfs_cfg_read(d.bdf, reg, 4), old);
	vfio_dev_close(&d);
	return TEST_PASS;
}

/*
 * The bytes of a hidden capability read as the device holds them (DOE's
 * header, unlinked from the list, still reads its id), and config space
 * past every capability reads and writes the device.
 */
static int test_gaps_pass_through(void)
{
	struct ecap hw[MAX_ECAPS];
	int i, n, doe = 0;
	uint32_t old;

	open_dev();
	n = ecap_list(hw, false);
	for (i = 0; i < n; i++)
		if (hw[i].id == PCI_EXT_CAP_ID_DOE)
			doe = hw[i].pos;
	fprintf(stderr, "# DOE at 0x%x\n", doe);
	CHECK(doe >= PCI_CFG_SPACE_SIZE);
	CHECK_EQ(vfio_cfg_read32(d.device, doe), sysfs_cfg_read(d.bdf, doe, 4));
	CHECK_EQ(PCI_EXT_CAP_ID(vfio_cfg_read32(d.device, doe)), PCI_EXT_CAP_ID_DOE);

	old = vfio_cfg_read32(d.device, FREE_DWORD);
	CHECK_EQ(old, sysfs_cfg_read(d.bdf, FREE_DWORD, 4));
	CHECK_EQ(__vfio_cfg_write(d.device, FREE_DWORD, &(uint32_t){ 0xa5c3e1f0 }, 4), 4);
	CHECK_EQ(sysfs_cfg_read(d.bdf, FREE_DWORD, 4), 0xa5c3e1f0);
	CHECK_EQ(vfio_cfg_read32(d.device, FREE_DWORD), 0xa5c3e1f0);
	CHECK_EQ(__vfio_cfg_write(d.device, FREE_DWORD, &old, 4), 4);
	CHECK_EQ(sysfs_cfg_read(d.bdf, FREE_DWORD, 4), old);
	vfio_dev_close(&d);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_ecap_list),
	TEST(test_ecap_read_only),
	TEST(test_dvsec_read_write),
	TEST(test_gaps_pass_through),
};

int main(int argc, char **argv)
{
	return RUN_TESTS("pci_ecaps", tests, argc, argv);
}
