// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/vfio/vfio: VFIO_GET_API_VERSION, VFIO_CHECK_EXTENSION, VFIO_SET_IOMMU
 * and what the container does with ioctls it does not know.
 * Needs edu bound to vfio-pci.  Errnos: docs/vfio-uapi.md.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "check.h"
#include "vfio_util.h"

/* An ioctl number in VFIO's range that no VFIO object knows. */
#define VFIO_BOGUS_IOCTL _IO(VFIO_TYPE, VFIO_BASE + 60)

static int edu_group_id(void)
{
	char bdf[32];

	vfio_pci_find(EDU_VENDOR, EDU_DEVICE, bdf, sizeof(bdf));
	return vfio_iommu_group_of(bdf);
}

static int test_api_version(void)
{
	int c = vfio_container_open();

	CHECK_EQ(ioctl(c, VFIO_GET_API_VERSION), VFIO_API_VERSION);
	close(c);
	return TEST_PASS;
}

/* Before SET_IOMMU the container answers for every registered backend. */
static int test_check_extension_no_iommu(void)
{
	int c = vfio_container_open();

	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 1);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL), 1);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU), 0);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_v2_IOMMU), 0);
	/* no-IOMMU mode is off (enable_unsafe_noiommu_mode=0). */
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU), 0);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, 0), 0);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, 0x7fff), 0);
	close(c);
	return TEST_PASS;
}

/* After SET_IOMMU only the chosen backend answers. */
static int test_check_extension_type1(void)
{
	int c = vfio_container_open(), g = vfio_group_open(edu_group_id());

	vfio_group_set_container(g, c);
	vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 1);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL), 1);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU), 0);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU), 0);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, 0x7fff), 0);
	close(g);
	close(c);
	return TEST_PASS;
}

/* SET_IOMMU needs a group in the container first. */
static int test_set_iommu_without_group(void)
{
	int c = vfio_container_open();

	CHECK_ERRNO(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), EINVAL);
	CHECK_ERRNO(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU), EINVAL);
	close(c);
	return TEST_PASS;
}

/* A type no backend supports: ENODEV, and the container stays usable. */
static int test_set_iommu_unknown_type(void)
{
	int c = vfio_container_open(), g = vfio_group_open(edu_group_id());

	vfio_group_set_container(g, c);
	CHECK_ERRNO(ioctl(c, VFIO_SET_IOMMU, 0x7fff), ENODEV);
	CHECK_ERRNO(ioctl(c, VFIO_SET_IOMMU, VFIO_SPAPR_TCE_IOMMU), ENODEV);
	CHECK_ERRNO(ioctl(c, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU), ENODEV);
	CHECK_ERRNO(ioctl(c, VFIO_SET_IOMMU, 0), ENODEV);
	CHECK_OK(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	close(g);
	close(c);
	return TEST_PASS;
}

/* One IOMMU per container: a second SET_IOMMU is refused. */
static int test_set_iommu_twice(void)
{
	int c = vfio_container_open(), g = vfio_group_open(edu_group_id());

	vfio_group_set_container(g, c);
	CHECK_OK(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU));
	CHECK_ERRNO(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU), EINVAL);
	CHECK_ERRNO(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), EINVAL);
	close(g);
	close(c);
	return TEST_PASS;
}

/* Dropping the last group releases the IOMMU: SET_IOMMU works again. */
static int test_set_iommu_after_unset(void)
{
	int c = vfio_container_open(), g = vfio_group_open(edu_group_id());

	vfio_group_set_container(g, c);
	vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(ioctl(g, VFIO_GROUP_UNSET_CONTAINER));
	/* No group, no backend: type1 ioctls fall back to the core's EINVAL. */
	CHECK_ERRNO(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), EINVAL);
	vfio_group_set_container(g, c);
	CHECK_OK(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU));
	close(g);
	close(c);
	return TEST_PASS;
}

/*
 * Without a backend the container refuses what it does not know with
 * EINVAL; with type1 set, unknown ioctls are passed to type1, which says
 * ENOTTY.
 */
static int test_unknown_ioctl(void)
{
	struct vfio_iommu_type1_info info = { .argsz = sizeof(info) };
	int c = vfio_container_open(), g = vfio_group_open(edu_group_id());

	CHECK_ERRNO(ioctl(c, VFIO_BOGUS_IOCTL), EINVAL);
	CHECK_ERRNO(ioctl(c, VFIO_IOMMU_GET_INFO, &info), EINVAL);
	vfio_group_set_container(g, c);
	CHECK_ERRNO(ioctl(c, VFIO_IOMMU_GET_INFO, &info), EINVAL);
	vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);
	CHECK_ERRNO(ioctl(c, VFIO_BOGUS_IOCTL), ENOTTY);
	/* sPAPR-only ioctls are not type1's. */
	CHECK_ERRNO(ioctl(c, VFIO_IOMMU_ENABLE), ENOTTY);
	CHECK_OK(ioctl(c, VFIO_IOMMU_GET_INFO, &info));
	/* Group and device ioctls mean nothing to a container. */
	CHECK_ERRNO(ioctl(c, VFIO_GROUP_UNSET_CONTAINER), ENOTTY);
	close(g);
	close(c);
	return TEST_PASS;
}

/* Every open of /dev/vfio/vfio is a new, independent container. */
static int test_many_containers(void)
{
	int c[8], i;

	for (i = 0; i < 8; i++) {
		c[i] = vfio_container_open();
		CHECK_EQ(ioctl(c[i], VFIO_GET_API_VERSION), VFIO_API_VERSION);
	}
	for (i = 0; i < 8; i++)
		close(c[i]);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_api_version),
	TEST(test_check_extension_no_iommu),
	TEST(test_check_extension_type1),
	TEST(test_set_iommu_without_group),
	TEST(test_set_iommu_unknown_type),
	TEST(test_set_iommu_twice),
	TEST(test_set_iommu_after_unset),
	TEST(test_unknown_ioctl),
	TEST(test_many_containers),
};

int main(int argc, char **argv)
{
	return RUN_TESTS_FORKED("vfio_uapi_container", tests, argc, argv);
}
