// SPDX-License-Identifier: GPL-2.0
/*
 * SR-IOV through vfio-pci, and the VF token (6.1's vfio-pci, loaded with
 * enable_sriov=1): QEMU's NVMe controller is the PF (VFIO_PF), bound to
 * vfio-pci by tests/vm/guest/pci-vf-token.sh; this program enables a VF
 * through sysfs and opens both sides with and without the token, unbinds
 * the PF while its VF is open, removes VFs as their groups close, and
 * gives the PF to Debian's nvme driver (loaded by the script) for the
 * cases where the PF is not vfio-pci's.
 * The same assertions hold on both stacks.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>

#include "check.h"
#include "vfio_util.h"

#define TOKEN_A "0f0e0d0c-0b0a-4908-8706-050403020100"
#define TOKEN_B "11111111-2222-4333-8444-555555555555"
#define TOKEN_C "c0ffee00-0000-4000-8000-00000000beef"

static const char *pf;
static char vf[32];

/* The 16 bytes of a UUID string, as the kernel's uuid_parse() reads it. */
static void uuid_bytes(const char *s, uint8_t out[16])
{
	for (int i = 0; i < 16; i++, s += 2) {
		if (*s == '-')
			s++;
		sscanf(s, "%2hhx", &out[i]);
	}
}

static int sysfs_write(const char *bdf, const char *attr, const char *val)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", bdf, attr);
	return write_str(path, val);
}

#define PCI_DRIVERS "/sys/bus/pci/drivers"

/* Bind @bdf, bound to no driver, to @driver (named by driver_override): 0 or -errno. */
static int bind_to(const char *bdf, const char *driver)
{
	char path[PATH_MAX];
	int ret = sysfs_write(bdf, "driver_override", driver);

	if (ret)
		return ret;
	snprintf(path, sizeof(path), PCI_DRIVERS "/%s/bind", driver);
	return write_str(path, bdf);
}

/* Unbind @bdf from its driver: 0 or -errno. */
static int unbind(const char *bdf)
{
	char path[PATH_MAX], drv[64];
	int ret = pci_driver_of(bdf, drv, sizeof(drv));

	if (ret)
		return ret;
	snprintf(path, sizeof(path), PCI_DRIVERS "/%s/unbind", drv);
	return write_str(path, bdf);
}

/* The PF's first VF, into vf[]: 0 or -errno. */
static int find_vf(void)
{
	char link[PATH_MAX], path[PATH_MAX];
	ssize_t n;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/virtfn0", pf);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return -errno;
	link[n] = '\0';
	snprintf(vf, sizeof(vf), "%s", strrchr(link, '/') + 1);
	return 0;
}

static bool exists(const char *bdf)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s", bdf);
	return access(path, F_OK) == 0;
}

/*
 * @bdf's runtime PM status ("active", "suspended"...): now, or with @want
 * once it is @want or after 10 s (a close lets a device go with an
 * asynchronous idle request).  Static storage.
 */
static const char *runtime_status(const char *bdf, const char *want)
{
	static char buf[32];
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power/runtime_status", bdf);
	read_line(path, buf, sizeof(buf));
	for (int i = 0; want && strcmp(buf, want) && i < 200; i++) {
		usleep(50 * 1000);
		read_line(path, buf, sizeof(buf));
	}
	return buf;
}

/* VFIO_DEVICE_FEATURE_PCI_VF_TOKEN with @flags and @token (NULL: none). */
static int feature_vf_token(int device, uint32_t flags, const char *token, size_t argsz)
{
	struct {
		struct vfio_device_feature hdr;
		uint8_t uuid[16];
	} f = { .hdr.argsz = argsz,
		.hdr.flags = flags | VFIO_DEVICE_FEATURE_PCI_VF_TOKEN };

	if (token)
		uuid_bytes(token, f.uuid);
	return ioctl(device, VFIO_DEVICE_FEATURE, &f) ? -errno : 0;
}

/* GET_DEVICE_FD of "@bdf@suffix": the fd, or -errno. */
static int open_named(int group, const char *bdf, const char *suffix)
{
	char name[128];

	snprintf(name, sizeof(name), "%s%s", bdf, suffix);
	return __vfio_group_get_device_fd(group, name);
}

static int test_feature_bad_input(void)
{
	struct vfio_dev d;
	size_t full = sizeof(struct vfio_device_feature) + 16;

	vfio_dev_open_bdf(&d, pf, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(feature_vf_token(d.device, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET, NULL, full));
	/* No GET: it would give the token to the PF's next user. */
	CHECK_EQ(feature_vf_token(d.device, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_GET, NULL, full), -EINVAL);
	CHECK_EQ(feature_vf_token(d.device, VFIO_DEVICE_FEATURE_GET, NULL, full), -EINVAL);
	CHECK_EQ(feature_vf_token(d.device, VFIO_DEVICE_FEATURE_SET, TOKEN_A, full - 1), -EINVAL);
	CHECK_OK(feature_vf_token(d.device, VFIO_DEVICE_FEATURE_SET, TOKEN_A, full));
	vfio_dev_close(&d);

	/* A device that is not a PF has no such feature, and takes no token. */
	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	CHECK_EQ(feature_vf_token(d.device, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET, NULL, full), -ENOTTY);
	CHECK_EQ(open_named(d.group, d.bdf, " vf_token=" TOKEN_A), -EINVAL);
	vfio_dev_close(&d);
	return TEST_PASS;
}

#define ENABLE_SRIOV "/sys/module/vfio_pci/parameters/enable_sriov"

/* Without enable_sriov, sriov_numvfs is refused: ENOENT, as in-tree. */
static int test_sriov_off(void)
{
	int ret;

	CHECK_OK(write_str(ENABLE_SRIOV, "N"));
	ret = sysfs_write(pf, "sriov_numvfs", "1");
	CHECK_OK(write_str(ENABLE_SRIOV, "Y"));
	CHECK_EQ(ret, -ENOENT);
	return TEST_PASS;
}

static int test_vf_token(void)
{
	size_t full = sizeof(struct vfio_device_feature) + 16;
	struct vfio_dev p, v;
	int pf_dev2, vf_dev, vf_dev2;
	char drv[64];

	vfio_dev_open_bdf(&p, pf, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(feature_vf_token(p.device, VFIO_DEVICE_FEATURE_SET, TOKEN_A, full));

	CHECK_OK(sysfs_write(pf, "sriov_numvfs", "1"));
	CHECK_OK(find_vf());
	pci_driver_of(vf, drv, sizeof(drv));
	printf("# PF %s: VF %s, bound to %s, IOMMU group %d\n", pf, vf, drv,
	       vfio_iommu_group_of(vf));
	/* A VF of a PF on vfio-pci comes to vfio-pci. */
	CHECK_STR(drv, "vfio-pci");

	CHECK_OK(__vfio_dev_attach_bdf(&v, vf, VFIO_TYPE1v2_IOMMU));
	CHECK_EQ(open_named(v.group, vf, ""), -EACCES);
	CHECK_EQ(open_named(v.group, vf, " vf_token=" TOKEN_B), -EACCES);
	CHECK_EQ(open_named(v.group, vf, " vf_token=not-a-uuid"), -EINVAL);
	CHECK_EQ(open_named(v.group, vf, " vf_token=" TOKEN_A " vf_token=" TOKEN_A), -EINVAL);
	CHECK_EQ(open_named(v.group, vf, " token=" TOKEN_A), -EINVAL);
	CHECK_EQ(open_named(v.group, vf, "0"), -ENODEV);	/* another name */
	vf_dev = open_named(v.group, vf, "  vf_token=" TOKEN_A " ");
	CHECK(vf_dev >= 0);

	/* A VF is open: the PF opens again only with the token. */
	CHECK_EQ(open_named(p.group, pf, ""), -EACCES);
	CHECK_EQ(open_named(p.group, pf, " vf_token=" TOKEN_B), -EACCES);
	pf_dev2 = open_named(p.group, pf, " vf_token=" TOKEN_A);
	CHECK(pf_dev2 >= 0);
	close(pf_dev2);

	/* The PF's user may change it meanwhile: the VF's next open needs the new one. */
	CHECK_OK(feature_vf_token(p.device, VFIO_DEVICE_FEATURE_SET, TOKEN_C, full));
	CHECK_EQ(open_named(v.group, vf, " vf_token=" TOKEN_A), -EACCES);
	vf_dev2 = open_named(v.group, vf, " vf_token=" TOKEN_C);
	CHECK(vf_dev2 >= 0);
	close(vf_dev2);
	close(vf_dev);

	/* No VF open: the PF opens without a token, and one named sets it. */
	pf_dev2 = open_named(p.group, pf, "");
	CHECK(pf_dev2 >= 0);
	close(pf_dev2);
	pf_dev2 = open_named(p.group, pf, " vf_token=" TOKEN_B);
	CHECK(pf_dev2 >= 0);
	close(pf_dev2);
	CHECK_EQ(open_named(v.group, vf, " vf_token=" TOKEN_C), -EACCES);
	vf_dev = open_named(v.group, vf, " vf_token=" TOKEN_B);
	CHECK(vf_dev >= 0);
	close(vf_dev);

	vfio_dev_close(&v);
	CHECK_OK(sysfs_write(pf, "sriov_numvfs", "0"));
	CHECK(!exists(vf));
	vfio_dev_close(&p);
	return TEST_PASS;
}

/*
 * The PF unbound from vfio-pci while its VF is open: vfio-pci disables
 * SR-IOV first, and the VF's removal waits for the VF's user, asking for
 * the device back through the VF's REQ eventfd.  The PF's unbind ends
 * when the VF is closed, and the VF is gone.
 */
static int test_pf_unbind_with_vf_open(void)
{
	size_t full = sizeof(struct vfio_device_feature) + 16;
	char drv[64], usage[16], path[PATH_MAX];
	int req = eventfd_new();
	struct vfio_dev p, v;
	pid_t child;

	/* The token outlives the PF's close: the VF's open needs it. */
	vfio_dev_open_bdf(&p, pf, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(feature_vf_token(p.device, VFIO_DEVICE_FEATURE_SET, TOKEN_A, full));
	vfio_dev_close(&p);
	/*
	 * Idle, the PF sleeps; with VFs it is awake, closed as it is, and
	 * stays so: vfio-pci holds a runtime PM reference for them.
	 */
	CHECK_STR(runtime_status(pf, "suspended"), "suspended");
	CHECK_OK(sysfs_write(pf, "sriov_numvfs", "1"));
	CHECK_STR(runtime_status(pf, NULL), "active");
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/power/runtime_usage", pf);
	CHECK_STR(read_line(path, usage, sizeof(usage)), "1");
	CHECK_OK(find_vf());
	CHECK_OK(__vfio_dev_attach_bdf(&v, vf, VFIO_TYPE1v2_IOMMU));
	v.device = open_named(v.group, vf, " vf_token=" TOKEN_A);
	CHECK(v.device >= 0);
	CHECK_OK(__vfio_irq_enable_eventfds(v.device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &req));

	child = write_str_async(PCI_DRIVERS "/vfio-pci/unbind", pf);
	CHECK(child > 0);
	CHECK(eventfd_wait(req, 5000) >= 1);
	CHECK_EQ(wait_child(child, 500), -1);
	vfio_dev_close(&v);
	CHECK_EQ(wait_child(child, 10000), 0);
	CHECK(!exists(vf));
	CHECK_EQ(pci_driver_of(pf, drv, sizeof(drv)), -ENOENT);
	CHECK_OK(bind_to(pf, "vfio-pci"));
	close(req);
	return TEST_PASS;
}

/*
 * A VF removed (sriov_numvfs 0) while its user closes everything: the
 * removal waits for the device fd, and the group and container fds are
 * closed right after it, so the group leaves its container just as the
 * driver core takes the VF out of its IOMMU group.  6.1's IOMMU core does
 * the latter without the IOMMU group's lock: unless VFIO takes the group
 * out first (as 6.1's does at the unregistration), the two corrupt the
 * Intel IOMMU driver's lists (an oops here, about once in 20 rounds).
 */
static int removal_rounds(void)
{
	struct utsname u;

	/*
	 * 6.12's IOMMU core releases a device under the IOMMU group's lock:
	 * the race is 6.1's, where it needs rounds; 6.12 gets the semantics.
	 */
	return !uname(&u) && !strncmp(u.release, "6.1.", 4) ? 20 : 3;
}

static int test_vf_removed_as_group_closes(void)
{
	size_t full = sizeof(struct vfio_device_feature) + 16;
	int rounds = removal_rounds();
	char path[PATH_MAX];
	struct vfio_dev v;
	pid_t child;

	vfio_dev_open_bdf(&v, pf, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(feature_vf_token(v.device, VFIO_DEVICE_FEATURE_SET, TOKEN_A, full));
	vfio_dev_close(&v);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_numvfs", pf);
	for (int round = 0; round < rounds; round++) {
		CHECK_OK(sysfs_write(pf, "sriov_numvfs", "1"));
		CHECK_OK(find_vf());
		CHECK_OK(__vfio_dev_attach_bdf(&v, vf, VFIO_TYPE1v2_IOMMU));
		v.device = open_named(v.group, vf, " vf_token=" TOKEN_A);
		CHECK(v.device >= 0);
		child = write_str_async(path, "0");
		CHECK(child > 0);
		CHECK_EQ(wait_child(child, 200), -1);
		vfio_dev_close(&v);
		CHECK_EQ(wait_child(child, 10000), 0);
		CHECK(!exists(vf));
	}
	printf("# %d VFs removed as their group closed\n", rounds);
	return TEST_PASS;
}

/*
 * A PF on another driver (Debian's nvme, loaded by the guest script):
 *  - its VF, bound to vfio-pci by hand, opens without a token, and one
 *    named is EINVAL: nobody on vfio-pci could have set it;
 *  - vfio-pci refuses to bind a PF whose VFs exist (EBUSY): it can
 *    neither count their users nor take them back.
 * The VF is made with sriov_drivers_autoprobe 0, so no driver probes it
 * and it is bound to vfio-pci by hand, as an administrator does.
 */
static int test_vf_of_foreign_pf(void)
{
	size_t full = sizeof(struct vfio_device_feature) + 16;
	struct vfio_dev v;
	char drv[64], numvfs[16], path[PATH_MAX];
	int fd;

	CHECK_OK(unbind(pf));
	CHECK_OK(bind_to(pf, "nvme"));
	CHECK_OK(sysfs_write(pf, "sriov_drivers_autoprobe", "0"));
	CHECK_OK(sysfs_write(pf, "sriov_numvfs", "1"));
	CHECK_OK(find_vf());
	CHECK_EQ(pci_driver_of(vf, drv, sizeof(drv)), -ENOENT);
	CHECK_OK(bind_to(vf, "vfio-pci"));

	CHECK_OK(__vfio_dev_attach_bdf(&v, vf, VFIO_TYPE1v2_IOMMU));
	CHECK_EQ(open_named(v.group, vf, " vf_token=" TOKEN_A), -EINVAL);
	fd = open_named(v.group, vf, "");
	CHECK(fd >= 0);
	CHECK_EQ(feature_vf_token(fd, VFIO_DEVICE_FEATURE_PROBE | VFIO_DEVICE_FEATURE_SET, NULL, full), -ENOTTY);
	close(fd);
	vfio_dev_close(&v);
	CHECK_OK(unbind(vf));

	CHECK_OK(unbind(pf));
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/sriov_numvfs", pf);
	/* nvme leaves its VFs behind (the PCI core says so in the log). */
	CHECK_STR(read_line(path, numvfs, sizeof(numvfs)), "1");
	CHECK_EQ(bind_to(pf, "vfio-pci"), -EBUSY);

	/* Back as it was: nvme takes the VFs away, vfio-pci the PF. */
	CHECK_OK(bind_to(pf, "nvme"));
	CHECK_OK(sysfs_write(pf, "sriov_numvfs", "0"));
	CHECK_OK(sysfs_write(pf, "sriov_drivers_autoprobe", "1"));
	CHECK_OK(unbind(pf));
	CHECK_OK(bind_to(pf, "vfio-pci"));
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_feature_bad_input),
	TEST(test_sriov_off),
	TEST(test_vf_token),
	TEST(test_pf_unbind_with_vf_open),
	TEST(test_vf_removed_as_group_closes),
	TEST(test_vf_of_foreign_pf),
};

int main(int argc, char **argv)
{
	pf = env_bdf("VFIO_PF", "nvme_bdf");
	return RUN_TESTS("pci_vf_token", tests, argc, argv);
}
