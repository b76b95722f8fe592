// SPDX-License-Identifier: GPL-2.0
/*
 * What KVM's kvm-vfio device asks of a file, asked through the test module
 * kernel/testing/kvm_vfio_probe.c (/dev/kvm-vfio-probe) the way kvm.ko
 * does, on our stack and on Debian's in-tree one: both must answer alike
 * (docs/vfio-uapi.md, "What KVM looks up").
 *
 * The answers depend on the series (kernel/include/vfioscope/compat.h):
 *  - before 6.2 a group's coherency is its container's VFIO_DMA_CC_IOMMU,
 *    and true in no container; from 6.2 it is its devices' IOMMU cap
 *    (IOMMU_CAP_ENFORCE_CACHE_COHERENCY), whatever the container;
 *  - from 6.5 a device file is a VFIO file to KVM (is_valid, and its
 *    device's coherency); before, it is like /dev/null;
 *  - vfio_file_is_valid only exists in-tree from 6.5 (absent on 6.1).
 * vfio_file_iommu_group answers only on IBM POWER (SPAPR).
 */
#include <fcntl.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "check.h"
#include "vfio_util.h"

#define PROBE_PATH "/dev/kvm-vfio-probe"

/* What the running series and stack answer; see the header comment. */
static struct {
	bool coherent_by_device;	/* 6.2 */
	bool takes_device_files;	/* 6.5 */
	bool has_is_valid;
	int device_cap;		/* the edu IOMMU's coherency, on 6.2+ */
} series;

/* The probe's line for @fd, without its newline; -errno on failure. */
static int probe(int fd, char *out, size_t len)
{
	int p = open(PROBE_PATH, O_RDWR | O_CLOEXEC);
	char num[16];
	ssize_t n;

	if (p < 0)
		return -errno;
	snprintf(num, sizeof(num), "%d", fd);
	if (write(p, num, strlen(num)) < 0 || (n = read(p, out, len - 1)) <= 0) {
		n = -errno;
		close(p);
		return n ? n : -EIO;
	}
	close(p);
	out[n] = 0;
	out[strcspn(out, "\n")] = 0;
	return 0;
}

static const char *b(int v) { return v ? "1" : "0"; }

/* Asserts the probe's line for @fd and logs it under @what. */
static int check_probe(int fd, const char *want, const char *what)
{
	char got[128];

	CHECK_OK(probe(fd, got, sizeof(got)));
	CHECK_STR(got, want);
	printf("# %s: %s\n", what, got);
	return TEST_PASS;
}

/* The line every stack must give; is_valid absent where not exported. */
static void expect(char *buf, size_t len, bool is_group, bool is_valid,
		   bool coherent, int iommu_group)
{
	char group[16] = "none";

#ifdef __powerpc64__
	if (is_group)
		snprintf(group, sizeof(group), "%d", iommu_group);
#endif
	(void)iommu_group;
	snprintf(buf, len,
		 "is_group=%s is_valid=%s coherent=%s iommu_group=%s set_kvm=called",
		 b(is_group), series.has_is_valid ? b(is_valid) : "absent",
		 b(coherent), group);
}

static int edu_group_id(void)
{
	char bdf[32];

	vfio_pci_find(EDU_VENDOR, EDU_DEVICE, bdf, sizeof(bdf));
	return vfio_iommu_group_of(bdf);
}

/* A file that is not VFIO: no, coherent (KVM has nothing to register). */
static int check_not_vfio(int fd, const char *what)
{
	char want[128];

	expect(want, sizeof(want), false, false, true, 0);
	return check_probe(fd, want, what);
}

static int test_dev_null(void)
{
	int fd = open("/dev/null", O_RDWR), ret;

	CHECK_OK(fd);
	ret = check_not_vfio(fd, "/dev/null");
	close(fd);
	return ret;
}

static int test_container_fd(void)
{
	int fd = vfio_container_open(), ret;

	ret = check_not_vfio(fd, "container fd");
	close(fd);
	return ret;
}

static int test_group_no_container(void)
{
	int id = edu_group_id(), group = vfio_group_open(id), ret;
	char want[128];

	/* 6.1: coherent until it joins a container. */
	expect(want, sizeof(want), true, true,
	       series.coherent_by_device ? series.device_cap : true, id);
	ret = check_probe(group, want, "group fd, no container");
	close(group);
	return ret;
}

static int test_group_container_no_iommu(void)
{
	int id = edu_group_id(), group = vfio_group_open(id);
	int container = vfio_container_open(), ret;
	char want[128];

	vfio_group_set_container(group, container);
	/* 6.1: the backends polled with no domain all answer 0. */
	expect(want, sizeof(want), true, true,
	       series.coherent_by_device ? series.device_cap : false, id);
	ret = check_probe(group, want, "group fd, container without IOMMU");
	close(group);
	close(container);
	return ret;
}

static int test_group_type1(void)
{
	int id = edu_group_id(), group = vfio_group_open(id);
	int container = vfio_container_open(), cc, ret;
	char want[128];

	vfio_group_set_container(group, container);
	vfio_set_iommu(container, VFIO_TYPE1v2_IOMMU);
	cc = ioctl(container, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU);
	CHECK_OK(cc);
	printf("# VFIO_DMA_CC_IOMMU of the type1 container: %d\n", cc);
	/* 6.1: what user space's VFIO_CHECK_EXTENSION(VFIO_DMA_CC_IOMMU) says. */
	expect(want, sizeof(want), true, true,
	       series.coherent_by_device ? series.device_cap : cc > 0, id);
	ret = check_probe(group, want, "group fd, type1 container");
	close(group);
	close(container);
	return ret;
}

static int test_device_fd(void)
{
	char want[128];
	struct vfio_dev d;
	int ret;

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	if (series.takes_device_files)
		expect(want, sizeof(want), false, true, series.device_cap, 0);
	else
		expect(want, sizeof(want), false, false, true, 0);
	ret = check_probe(d.device, want, "device fd");
	vfio_dev_close(&d);
	return ret;
}

/*
 * From 6.2 a group's answer is its devices' IOMMU cap.  On this bench it
 * equals type1's VFIO_DMA_CC_IOMMU: QEMU's intel-iommu answers both from
 * its snoop-control bit (off by default).
 */
static int bench_device_cap(void)
{
	struct vfio_dev d;
	int cc;

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	cc = ioctl(d.container, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU);
	vfio_dev_close(&d);
	return cc > 0;
}

static void series_init(void)
{
	const char *stack = getenv("VFIOSCOPE_STACK");
	int major = 0, minor = 0, v;
	struct utsname u;

	uname(&u);
	sscanf(u.release, "%d.%d", &major, &minor);
	v = major * 100 + minor;
	series.coherent_by_device = v >= 602;
	series.takes_device_files = v >= 605;
	series.has_is_valid = v >= 605 || !stack || strcmp(stack, "intree");
	series.device_cap = bench_device_cap();
	printf("# %s, stack %s: coherency by %s, device files %s, is_valid %s\n",
	       u.release, stack ? stack : "ours",
	       series.coherent_by_device ? "device cap" : "container",
	       series.takes_device_files ? "taken" : "not VFIO",
	       series.has_is_valid ? "exported" : "absent");
}

static const struct test tests[] = {
	TEST(test_dev_null),
	TEST(test_container_fd),
	TEST(test_group_no_container),
	TEST(test_group_container_no_iommu),
	TEST(test_group_type1),
	TEST(test_device_fd),
};

int main(int argc, char **argv)
{
	series_init();
	return RUN_TESTS_FORKED("kvm_file", tests, argc, argv);
}
