// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vfio/N: VFIO_GROUP_GET_STATUS, VFIO_GROUP_SET_CONTAINER,
 * VFIO_GROUP_UNSET_CONTAINER, VFIO_GROUP_GET_DEVICE_FD, one open at a time.
 * Needs edu and e1000e bound to vfio-pci.  Errnos: docs/vfio-uapi.md.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "check.h"
#include "vfio_util.h"

#define VFIO_BOGUS_IOCTL _IO(VFIO_TYPE, VFIO_BASE + 60)

static char edu[32];
static int edu_group;

static void find_edu(void)
{
	vfio_pci_find(EDU_VENDOR, EDU_DEVICE, edu, sizeof(edu));
	edu_group = vfio_iommu_group_of(edu);
}

static int test_status_flags(void)
{
	int c = vfio_container_open(), g = vfio_group_open(edu_group);
	uint32_t flags;

	CHECK_OK(__vfio_group_status(g, &flags));
	CHECK_EQ(flags, VFIO_GROUP_FLAGS_VIABLE);
	vfio_group_set_container(g, c);
	CHECK_OK(__vfio_group_status(g, &flags));
	CHECK_EQ(flags, VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);
	vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(__vfio_group_status(g, &flags));
	CHECK_EQ(flags, VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);
	CHECK_OK(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	CHECK_OK(__vfio_group_status(g, &flags));
	CHECK_EQ(flags, VFIO_GROUP_FLAGS_VIABLE);
	close(g);
	close(c);
	return TEST_PASS;
}

/* argsz below the struct is EINVAL; above it is fine; flags is output only. */
static int test_status_argsz(void)
{
	struct {
		struct vfio_group_status st;
		char pad[32];
	} big;
	struct vfio_group_status st;
	int g = vfio_group_open(edu_group);

	st.argsz = sizeof(st) - 1;
	st.flags = 0;
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_STATUS, &st), EINVAL);
	st.argsz = 0;
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_STATUS, &st), EINVAL);
	memset(&big, 0, sizeof(big));
	big.st.argsz = sizeof(big);
	big.st.flags = 0xffff0000;	/* ignored, overwritten */
	CHECK_OK(ioctl(g, VFIO_GROUP_GET_STATUS, &big));
	CHECK_EQ(big.st.flags, VFIO_GROUP_FLAGS_VIABLE);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_STATUS, NULL), EFAULT);
	close(g);
	return TEST_PASS;
}

static int test_second_open_ebusy(void)
{
	int g = vfio_group_open(edu_group), g2;

	CHECK_EQ(__vfio_group_open(edu_group), -EBUSY);
	close(g);
	/* Once the first open is gone, the group opens again. */
	g2 = __vfio_group_open(edu_group);
	CHECK(g2 >= 0);
	close(g2);
	return TEST_PASS;
}

static int test_open_missing_group(void)
{
	/* No such group node: the core is not asked at all. */
	CHECK_EQ(__vfio_group_open(99999), -ENOENT);
	return TEST_PASS;
}

static int test_set_container_bad_fd(void)
{
	int c = vfio_container_open(), g = vfio_group_open(edu_group);
	int null = open("/dev/null", O_RDWR), bad = -1, closed, not_container;

	/* 6.1 has no fd < 0 check: fdget(-1) fails, EBADF. */
	uint32_t flags;

	closed = dup(null);
	close(closed);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_SET_CONTAINER, &bad), EBADF);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_SET_CONTAINER, &closed), EBADF);
	/*
	 * An open file that is not a container: EINVAL on 6.1, EBADFD from
	 * 6.2 (where it could also have been an iommufd).  A group is not a
	 * container either.
	 */
	not_container = kernel_series_at_least(6, 2) ? EBADFD : EINVAL;
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_SET_CONTAINER, &null), not_container);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_SET_CONTAINER, &g), not_container);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_SET_CONTAINER, NULL), EFAULT);
	CHECK_OK(__vfio_group_status(g, &flags));
	CHECK_EQ(flags, VFIO_GROUP_FLAGS_VIABLE);
	CHECK_OK(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c));
	/* Already in a container, even the same one. */
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c), EINVAL);
	close(null);
	close(g);
	close(c);
	return TEST_PASS;
}

/* A second container for a group already in one. */
static int test_set_container_other_container(void)
{
	int c = vfio_container_open(), c2 = vfio_container_open();
	int g = vfio_group_open(edu_group);

	vfio_group_set_container(g, c);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c2), EINVAL);
	close(g);
	close(c2);
	close(c);
	return TEST_PASS;
}

static int test_unset_without_container(void)
{
	int g = vfio_group_open(edu_group);

	CHECK_ERRNO(ioctl(g, VFIO_GROUP_UNSET_CONTAINER), EINVAL);
	close(g);
	return TEST_PASS;
}

/* The container cannot be taken away while a device fd uses it. */
static int test_unset_with_device_open(void)
{
	int c = vfio_container_open(), g = vfio_group_open(edu_group), d;

	vfio_group_set_container(g, c);
	vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	d = vfio_group_get_device_fd(g, edu);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_UNSET_CONTAINER), EBUSY);
	close(d);
	CHECK_OK(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	close(g);
	close(c);
	return TEST_PASS;
}

/* No device fd until the group has a container and the container an IOMMU. */
static int test_get_device_fd_too_early(void)
{
	int c = vfio_container_open(), g = vfio_group_open(edu_group), d;

	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, edu), EINVAL);
	vfio_group_set_container(g, c);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, edu), EINVAL);
	vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, edu);
	CHECK(d >= 0);
	close(d);
	close(g);
	close(c);
	return TEST_PASS;
}

static int test_get_device_fd_bad_names(void)
{
	int c = vfio_container_open(), g = vfio_group_open(edu_group), d;
	char name[64];

	vfio_group_set_container(g, c);
	vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "0000:00:1f.7"), ENODEV);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, ""), ENODEV);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, "edu"), ENODEV);
	/* A prefix of the name, and the name with something glued on. */
	snprintf(name, sizeof(name), "%.*s", (int)strlen(edu) - 1, edu);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name), ENODEV);
	snprintf(name, sizeof(name), "%sx", edu);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name), ENODEV);
	/*
	 * In-tree vfio-pci parses "NAME vf_token=UUID": any other argument
	 * after a space is EINVAL, not ENODEV.
	 */
	snprintf(name, sizeof(name), "%s junk", edu);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name), EINVAL);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, NULL), EFAULT);
	/* A device of another group is not in this one. */
	if (__vfio_pci_find(E1000E_VENDOR, E1000E_DEVICE, name, sizeof(name)) == 0)
		CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, name), ENODEV);
	/* And the real name still works. */
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, edu);
	CHECK(d >= 0);
	close(d);
	close(g);
	close(c);
	return TEST_PASS;
}

/* vfio-pci lets one device be opened through several fds. */
static int test_get_device_fd_twice(void)
{
	struct vfio_device_info info;
	int c = vfio_container_open(), g = vfio_group_open(edu_group), d1, d2;

	vfio_group_set_container(g, c);
	vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	d1 = vfio_group_get_device_fd(g, edu);
	d2 = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, edu);
	CHECK(d2 >= 0);
	CHECK(d2 != d1);
	close(d1);
	CHECK_OK(__vfio_device_info(d2, &info));
	CHECK(info.flags & VFIO_DEVICE_FLAGS_PCI);
	close(d2);
	close(g);
	close(c);
	return TEST_PASS;
}

/* Two groups share one container and its IOMMU. */
static int test_two_groups_one_container(void)
{
	char nic[32];
	int c, g1, g2, d1, d2, nic_group;
	uint32_t flags;

	vfio_pci_find(E1000E_VENDOR, E1000E_DEVICE, nic, sizeof(nic));
	nic_group = vfio_iommu_group_of(nic);
	CHECK(nic_group != edu_group);
	c = vfio_container_open();
	g1 = vfio_group_open(edu_group);
	g2 = vfio_group_open(nic_group);
	vfio_group_set_container(g1, c);
	vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	/* Joining after SET_IOMMU attaches to the IOMMU already there. */
	CHECK_OK(ioctl(g2, VFIO_GROUP_SET_CONTAINER, &c));
	CHECK_OK(__vfio_group_status(g2, &flags));
	CHECK_EQ(flags, VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET);
	d1 = vfio_group_get_device_fd(g1, edu);
	d2 = vfio_group_get_device_fd(g2, nic);
	/* Each group only knows its own device. */
	CHECK_ERRNO(ioctl(g1, VFIO_GROUP_GET_DEVICE_FD, nic), ENODEV);
	close(d2);
	CHECK_OK(ioctl(g2, VFIO_GROUP_UNSET_CONTAINER));
	/* The container keeps its IOMMU for the remaining group. */
	{
		struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };

		CHECK_OK(ioctl(c, VFIO_IOMMU_GET_INFO, &info));
	}
	close(d1);
	close(g2);
	close(g1);
	close(c);
	return TEST_PASS;
}

static int test_unknown_ioctl(void)
{
	int g = vfio_group_open(edu_group);

	CHECK_ERRNO(ioctl(g, VFIO_BOGUS_IOCTL), ENOTTY);
	CHECK_ERRNO(ioctl(g, VFIO_GET_API_VERSION), ENOTTY);
	CHECK_ERRNO(ioctl(g, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), ENOTTY);
	close(g);
	return TEST_PASS;
}

/*
 * A group with a device bound to vfio-pci and another bound to a host
 * driver is not viable: GET_STATUS says so and SET_CONTAINER fails.  The
 * test bed gives every device its own group, so this needs a group made
 * of several devices (devices behind a conventional PCI bridge).
 */
static int test_nonviable_group(void)
{
	char path[PATH_MAX], drv[PATH_MAX];
	struct dirent *e;
	int found = -1;
	DIR *dir;

	dir = opendir("/sys/kernel/iommu_groups");
	CHECK(dir != NULL);
	while (found < 0 && (e = readdir(dir))) {
		int vfio = 0, other = 0;
		struct dirent *de;
		DIR *dd;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/devices", e->d_name);
		dd = opendir(path);
		if (!dd)
			continue;
		while ((de = readdir(dd))) {
			ssize_t n;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path),
				 "/sys/kernel/iommu_groups/%s/devices/%s/driver",
				 e->d_name, de->d_name);
			n = readlink(path, drv, sizeof(drv) - 1);
			if (n < 0)
				continue;
			drv[n] = '\0';
			if (strstr(drv, "/vfio-pci"))
				vfio++;
			else if (!strstr(drv, "/pcieport"))
				other++;
		}
		closedir(dd);
		if (vfio && other)
			found = atoi(e->d_name);
	}
	closedir(dir);
	/* The bench always has one (tests/vm/boot.sh): not finding it fails. */
	CHECK(found >= 0);
	{
		int c = vfio_container_open(), g = vfio_group_open(found);
		uint32_t flags;

		CHECK_OK(__vfio_group_status(g, &flags));
		CHECK_EQ(flags & VFIO_GROUP_FLAGS_VIABLE, 0);
		CHECK_ERRNO(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c), EPERM);
		close(g);
		close(c);
	}
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_status_flags),
	TEST(test_status_argsz),
	TEST(test_second_open_ebusy),
	TEST(test_open_missing_group),
	TEST(test_set_container_bad_fd),
	TEST(test_set_container_other_container),
	TEST(test_unset_without_container),
	TEST(test_unset_with_device_open),
	TEST(test_get_device_fd_too_early),
	TEST(test_get_device_fd_bad_names),
	TEST(test_get_device_fd_twice),
	TEST(test_two_groups_one_container),
	TEST(test_unknown_ioctl),
	TEST(test_nonviable_group),
};

int main(int argc, char **argv)
{
	find_edu();
	return RUN_TESTS_FORKED("vfio_uapi_group", tests, argc, argv);
}
