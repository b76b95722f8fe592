// SPDX-License-Identifier: GPL-2.0
/*
 * Runtime PM of vfio-pci devices, as 6.1 does it: a bound device that no
 * one has open idles (D3hot when it has a PM capability, D0 otherwise)
 * with no runtime PM reference held; an open wakes it and holds one
 * reference until the last close, whatever user space does to PMCSR in
 * between; a hot reset wakes every device it touches and lets go of them
 * after.  LOW_POWER_ENTRY lets an open device suspend too, until
 * LOW_POWER_EXIT, the close, or (WITH_WAKEUP) the first access, which
 * fires the eventfd given.  Loaded with disable_idle_d3=1, vfio-pci holds
 * one reference per bound device (and an open takes none of its own), so
 * they do not idle; LOW_POWER_ENTRY still lets one suspend.
 *
 * The references are counted from sysfs (power/runtime_usage: Debian's
 * kernels have CONFIG_PM_ADVANCED_DEBUG), so one leaked or dropped twice
 * shows.  Device addresses come from the guest script: $VFIO_NIC (e1000e
 * on the root bus, with a PM capability), $VFIO_EDU (none), and behind the
 * PCIe-to-PCI bridge $VFIO_BRIDGE_EDU and $VFIO_RNG (one group, one reset
 * set).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/pci_regs.h>

#include "check.h"
#include "vfio_util.h"

#define PCI_D3HOT		3	/* PMCSR's PowerState field */
#define E1000_STATUS		0x0008

static const char *nic(void) { return env_bdf("VFIO_NIC", "e1000e_bdf"); }
static const char *edu(void) { return env_bdf("VFIO_EDU", "edu_bdf"); }
static const char *bridge_edu(void) { return env_bdf("VFIO_BRIDGE_EDU", "edu_nonviable_bdf"); }
static const char *rng(void) { return env_bdf("VFIO_RNG", "virtio_rng_bdf"); }

static const char *dev_attr(const char *bdf, const char *attr, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	return read_line(path, buf, len);
}

struct pm_state {
	char status[32];	/* power/runtime_status */
	char power[16];		/* power_state: D0, D3hot... */
	long usage;		/* power/runtime_usage; -1 unreadable */
};

static void pm_state_read(const char *bdf, struct pm_state *st)
{
	char usage[32];

	dev_attr(bdf, "power/runtime_status", st->status, sizeof(st->status));
	dev_attr(bdf, "power_state", st->power, sizeof(st->power));
	dev_attr(bdf, "power/runtime_usage", usage, sizeof(usage));
	st->usage = *usage ? atol(usage) : -1;
}

/* vfio-pci's disable_idle_d3, read once in main(): fixed while it is loaded. */
static bool idle_d3_off;

/* The references vfio-pci holds on a bound device no one has open. */
static long idle_usage(void)
{
	return idle_d3_off ? 1 : 0;
}

/*
 * Runtime PM lets a device go with an asynchronous idle request: wait, up
 * to 10 s under TCG, for it to settle where it should.
 */
static void pm_state_settle(const char *bdf, const char *status, struct pm_state *st)
{
	int i;

	for (i = 0; i < 200; i++) {
		pm_state_read(bdf, st);
		if (!strcmp(st->status, status))
			return;
		usleep(50 * 1000);
	}
}

/* Bound, no one has it open: idle as vfio-pci was loaded to leave it. */
static int check_idle(const char *bdf)
{
	struct pm_state st;

	pm_state_settle(bdf, idle_d3_off ? "active" : "suspended", &st);
	printf("# %s: idle: %s, %s, %ld runtime PM references\n",
	       bdf, st.status, st.power, st.usage);
	CHECK_STR(st.status, idle_d3_off ? "active" : "suspended");
	CHECK_STR(st.power, !idle_d3_off && sysfs_pm_cap(bdf) ? "D3hot" : "D0");
	CHECK_EQ(st.usage, idle_usage());
	return TEST_PASS;
}

/*
 * Open: awake, in @power, on one reference: the open's, or with
 * disable_idle_d3 the one bound devices hold already.
 */
static int check_open(const char *bdf, const char *power)
{
	struct pm_state st;

	pm_state_read(bdf, &st);
	CHECK_STR(st.status, "active");
	CHECK_STR(st.power, power);
	CHECK_EQ(st.usage, 1);
	return TEST_PASS;
}

static int test_bound_devices_idle(void)
{
	const char *bdfs[] = { nic(), edu(), bridge_edu(), rng() };
	unsigned int i;

	CHECK(sysfs_pm_cap(nic()));
	CHECK(!sysfs_pm_cap(edu()));
	for (i = 0; i < sizeof(bdfs) / sizeof(bdfs[0]); i++)
		if (check_idle(bdfs[i]))
			return TEST_FAIL;
	return TEST_PASS;
}

/* An open wakes the device, and its registers answer; the close lets go. */
static int test_open_holds_d0(void)
{
	struct vfio_dev d;
	uint32_t status;
	int pm;

	vfio_dev_open_bdf(&d, nic(), VFIO_TYPE1v2_IOMMU);
	if (check_open(d.bdf, "D0"))
		return TEST_FAIL;
	pm = vfio_cfg_find_cap(d.device, PCI_CAP_ID_PM);
	CHECK(pm > 0);
	CHECK_EQ(vfio_cfg_read16(d.device, pm + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK, 0);
	vfio_cfg_write16(d.device, PCI_COMMAND, vfio_cfg_read16(d.device, PCI_COMMAND) |
			 PCI_COMMAND_MEMORY);
	CHECK_EQ(pread(d.device, &status, sizeof(status), VFIO_PCI_OFFSET(0) + E1000_STATUS),
		 sizeof(status));
	CHECK(status != 0xffffffffu);
	printf("# %s: open: D0, STATUS 0x%x\n", d.bdf, status);
	vfio_dev_close(&d);
	return check_idle(nic());
}

/*
 * vfio.ko calls open_device once however many fds the device has: one
 * reference for all of them, let go with the last.
 */
static int test_two_fds_one_reference(void)
{
	struct vfio_dev d;
	int second;

	vfio_dev_open_bdf(&d, nic(), VFIO_TYPE1v2_IOMMU);
	second = vfio_group_get_device_fd(d.group, d.bdf);
	if (check_open(d.bdf, "D0"))
		return TEST_FAIL;
	close(d.device);
	if (check_open(d.bdf, "D0"))
		return TEST_FAIL;
	d.device = second;
	vfio_dev_close(&d);
	return check_idle(nic());
}

/*
 * User space may put an open device in D3hot through PMCSR: that is its
 * state to choose, and the reference the open holds keeps runtime PM out
 * of it.  Close brings it back to D0 for the reset, then it idles.
 */
static int test_user_d3hot_then_close(void)
{
	struct vfio_dev d;
	uint16_t pmcsr;
	int pm;

	vfio_dev_open_bdf(&d, nic(), VFIO_TYPE1v2_IOMMU);
	pm = vfio_cfg_find_cap(d.device, PCI_CAP_ID_PM);
	CHECK(pm > 0);
	pmcsr = vfio_cfg_read16(d.device, pm + PCI_PM_CTRL);
	vfio_cfg_write16(d.device, pm + PCI_PM_CTRL, (pmcsr & ~PCI_PM_CTRL_STATE_MASK) | PCI_D3HOT);
	CHECK_EQ(vfio_cfg_read16(d.device, pm + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK, PCI_D3HOT);
	if (check_open(d.bdf, "D3hot"))
		return TEST_FAIL;
	vfio_dev_close(&d);
	if (check_idle(nic()))
		return TEST_FAIL;

	/* The next user finds it in D0. */
	vfio_dev_open_bdf(&d, nic(), VFIO_TYPE1v2_IOMMU);
	CHECK_EQ(vfio_cfg_read16(d.device, pm + PCI_PM_CTRL) & PCI_PM_CTRL_STATE_MASK, 0);
	vfio_dev_close(&d);
	return check_idle(nic());
}

/*
 * Behind the bridge: a hot reset asked through the edu also resets
 * virtio-rng, which no one has open.  It is woken for the reset and let go
 * after; then the bus reset after the edu's close does the same to both.
 */
static int test_hot_reset_wakes_the_set(void)
{
	char buf[sizeof(struct vfio_pci_hot_reset) + sizeof(int32_t)];
	struct vfio_pci_hot_reset *req = (void *)buf;
	struct vfio_dev d;

	if (check_idle(rng()))
		return TEST_FAIL;
	vfio_dev_open_bdf(&d, bridge_edu(), VFIO_TYPE1v2_IOMMU);
	memset(buf, 0, sizeof(buf));
	req->argsz = sizeof(buf);
	req->count = 1;
	req->group_fds[0] = d.group;
	CHECK_OK(ioctl(d.device, VFIO_DEVICE_PCI_HOT_RESET, req));
	if (check_open(d.bdf, "D0") || check_idle(rng()))
		return TEST_FAIL;
	vfio_dev_close(&d);
	if (check_idle(bridge_edu()) || check_idle(rng()))
		return TEST_FAIL;
	return TEST_PASS;
}

/* ---- VFIO_DEVICE_FEATURE_LOW_POWER_* ---- */

static int feature(int device, uint32_t flags, const void *data, size_t len)
{
	char buf[sizeof(struct vfio_device_feature) + 16];
	struct vfio_device_feature *f = (void *)buf;

	memset(buf, 0, sizeof(buf));
	f->argsz = sizeof(*f) + len;
	f->flags = flags;
	if (len)
		memcpy(f->data, data, len);
	return ioctl(device, VFIO_DEVICE_FEATURE, f);
}

static int low_power_entry_wakeup(int device, int32_t fd)
{
	struct vfio_device_low_power_entry_with_wakeup entry = { .wakeup_eventfd = fd };

	return feature(device, VFIO_DEVICE_FEATURE_SET |
		       VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP, &entry, sizeof(entry));
}

#define SET(which)	(VFIO_DEVICE_FEATURE_SET | VFIO_DEVICE_FEATURE_##which)
#define PROBE(which)	(VFIO_DEVICE_FEATURE_PROBE | SET(which))

/* Open, after LOW_POWER_ENTRY: suspended, on no reference at all. */
static int check_low_power(const char *bdf)
{
	struct pm_state st;

	pm_state_settle(bdf, "suspended", &st);
	printf("# %s: low power: %s, %s, %ld runtime PM references\n",
	       bdf, st.status, st.power, st.usage);
	CHECK_STR(st.status, "suspended");
	CHECK_STR(st.power, "D3hot");
	CHECK_EQ(st.usage, 0);
	return TEST_PASS;
}

static int test_low_power_bad_input(void)
{
	struct vfio_dev d;
	int efd = eventfd_new();

	vfio_dev_open_bdf(&d, nic(), VFIO_TYPE1v2_IOMMU);
	CHECK_OK(feature(d.device, PROBE(LOW_POWER_ENTRY), NULL, 0));
	CHECK_OK(feature(d.device, PROBE(LOW_POWER_ENTRY_WITH_WAKEUP), NULL, 0));
	CHECK_OK(feature(d.device, PROBE(LOW_POWER_EXIT), NULL, 0));
	/* SET only. */
	CHECK_ERRNO(feature(d.device, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET |
			    VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY, NULL, 0), EINVAL);
	CHECK_ERRNO(feature(d.device, VFIO_DEVICE_FEATURE_GET |
			    VFIO_DEVICE_FEATURE_LOW_POWER_EXIT, NULL, 0), EINVAL);
	/* The wakeup entry: its argument, a real eventfd. */
	CHECK_ERRNO(feature(d.device, SET(LOW_POWER_ENTRY_WITH_WAKEUP), NULL, 0), EINVAL);
	CHECK_ERRNO(low_power_entry_wakeup(d.device, -1), EINVAL);
	CHECK_ERRNO(low_power_entry_wakeup(d.device, 1000), EBADF);
	CHECK_ERRNO(low_power_entry_wakeup(d.device, d.group), EINVAL);
	/* None of them entered it; an exit with nothing to end is fine. */
	if (check_open(d.bdf, "D0"))
		return TEST_FAIL;
	CHECK_OK(feature(d.device, SET(LOW_POWER_EXIT), NULL, 0));
	if (check_open(d.bdf, "D0"))
		return TEST_FAIL;
	close(efd);
	vfio_dev_close(&d);
	return check_idle(nic());
}

/*
 * LOW_POWER_ENTRY lets the open device suspend.  Its BAR pages are gone
 * and do not fault back in (SIGBUS); a read or ioctl wakes it for the
 * access only; LOW_POWER_EXIT keeps it awake, and the mapping answers.
 */
static int test_low_power_entry_exit(void)
{
	uint32_t status = 0;
	struct vfio_dev d;

	vfio_dev_open_bdf(&d, nic(), VFIO_TYPE1v2_IOMMU);
	vfio_cfg_write16(d.device, PCI_COMMAND, vfio_cfg_read16(d.device, PCI_COMMAND) |
			 PCI_COMMAND_MEMORY);
	vfio_dev_map_bar0(&d);
	CHECK(mmio_access((uint32_t *)((char *)d.bar0 + E1000_STATUS), &status, false));
	CHECK_OK(feature(d.device, SET(LOW_POWER_ENTRY), NULL, 0));
	if (check_low_power(d.bdf))
		return TEST_FAIL;
	CHECK(!mmio_access((uint32_t *)((char *)d.bar0 + E1000_STATUS), &status, false));
	/* Entered already: EINVAL, from a device woken for the ioctl. */
	CHECK_ERRNO(feature(d.device, SET(LOW_POWER_ENTRY), NULL, 0), EINVAL);
	if (check_low_power(d.bdf))
		return TEST_FAIL;
	/* A read wakes it for itself, and the register answers. */
	status = 0xffffffffu;
	CHECK_EQ(pread(d.device, &status, sizeof(status), VFIO_PCI_OFFSET(0) + E1000_STATUS),
		 sizeof(status));
	CHECK(status != 0xffffffffu);
	if (check_low_power(d.bdf))
		return TEST_FAIL;

	CHECK_OK(feature(d.device, SET(LOW_POWER_EXIT), NULL, 0));
	if (check_open(d.bdf, "D0"))
		return TEST_FAIL;
	CHECK(mmio_access((uint32_t *)((char *)d.bar0 + E1000_STATUS), &status, false));
	CHECK(status != 0xffffffffu);
	vfio_dev_close(&d);
	return check_idle(nic());
}

/* Open the NIC and let it suspend, to be woken through @efd. */
static int open_in_low_power(struct vfio_dev *d, int efd)
{
	vfio_dev_open_bdf(d, nic(), VFIO_TYPE1v2_IOMMU);
	CHECK_OK(low_power_entry_wakeup(d->device, efd));
	return check_low_power(d->bdf);
}

/*
 * With a wake eventfd, the first wake ends the low-power state: the
 * eventfd fires once, the open's reference is back, LOW_POWER_EXIT finds
 * nothing left to do.
 */
static int test_low_power_wakeup(void)
{
	struct vfio_dev d;
	int efd = eventfd_new();

	if (open_in_low_power(&d, efd))
		return TEST_FAIL;
	CHECK_EQ(eventfd_wait(efd, 0), 0);
	CHECK_EQ(vfio_cfg_read16(d.device, PCI_VENDOR_ID), 0x8086);
	CHECK_EQ(eventfd_wait(efd, 5000), 1);
	if (check_open(d.bdf, "D0"))
		return TEST_FAIL;
	CHECK_OK(feature(d.device, SET(LOW_POWER_EXIT), NULL, 0));
	if (check_open(d.bdf, "D0"))
		return TEST_FAIL;
	CHECK_EQ(eventfd_wait(efd, 0), 0);
	close(efd);
	vfio_dev_close(&d);
	return check_idle(nic());
}

/*
 * A close in the low-power state ends it: the reference it dropped is not
 * dropped twice, the device idles as any closed one, the wake eventfd is
 * let go without firing, and the next open finds it in D0.
 */
static int test_low_power_close(void)
{
	struct vfio_dev d;
	int efd = eventfd_new();

	if (open_in_low_power(&d, efd))
		return TEST_FAIL;
	vfio_dev_close(&d);
	if (check_idle(nic()))
		return TEST_FAIL;
	CHECK_EQ(eventfd_wait(efd, 0), 0);
	close(efd);

	vfio_dev_open_bdf(&d, nic(), VFIO_TYPE1v2_IOMMU);
	if (check_open(d.bdf, "D0"))
		return TEST_FAIL;
	vfio_dev_close(&d);
	return check_idle(nic());
}

static const struct test tests[] = {
	TEST(test_bound_devices_idle),
	TEST(test_open_holds_d0),
	TEST(test_two_fds_one_reference),
	TEST(test_user_d3hot_then_close),
	TEST(test_hot_reset_wakes_the_set),
	TEST(test_low_power_bad_input),
	TEST(test_low_power_entry_exit),
	TEST(test_low_power_wakeup),
	TEST(test_low_power_close),
};

int main(int argc, char **argv)
{
	char buf[8];

	idle_d3_off = !strcmp(read_line("/sys/module/vfio_pci/parameters/disable_idle_d3",
					buf, sizeof(buf)), "Y");
	printf("# vfio_pci disable_idle_d3=%c\n", idle_d3_off ? 'Y' : 'N');
	return RUN_TESTS_FORKED("pci_runtime_pm", tests, argc, argv);
}
