// SPDX-License-Identifier: GPL-2.0
/*
 * Security boundaries: each case is an attacker's move that must fail.
 * Run by tests/vm/guest/security-*.sh against both stacks, with edu and
 * e1000e bound to vfio-pci (the non-viable case also wants the bench's
 * second edu, behind the PCIe-to-PCI bridge with a virtio-rng).
 *
 * Node modes (both stacks, asserted by test_node_modes): /dev/vfio/vfio is
 * 0666, a container alone grants nothing (no IOMMU without a group, so no
 * pinning, no mapping); /dev/vfio/N is 0600 root:root, and the group is
 * what grants a device: an administrator hands it to a user with chown,
 * as libvirt does.
 *
 * The "attacker" is uid/gid 65534 (nobody) with no capabilities: a forked
 * child that drops everything (as_nobody()).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <unistd.h>
#include <grp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "check.h"
#include "vfio_util.h"

#define NOBODY		65534

/* Checks inside a forked child: report, then exit non-zero. */
#define KID_CHECK(c) do {						\
	if (!(c)) {							\
		fprintf(stderr, "  %s:%d: check failed: %s (errno %d %s)\n", \
			__FILE__, __LINE__, #c, errno, strerror(errno));	\
		_exit(1);						\
	}								\
} while (0)

static int edu_group(void)
{
	char bdf[32];

	vfio_pci_find(EDU_VENDOR, EDU_DEVICE, bdf, sizeof(bdf));
	return vfio_iommu_group_of(bdf);
}

static void group_path(char *buf, size_t len, int id)
{
	snprintf(buf, len, "/dev/vfio/%d", id);
}

/* Become uid/gid 65534 with no supplementary groups and no capabilities. */
static void as_nobody(void)
{
	KID_CHECK(setgroups(0, NULL) == 0);
	KID_CHECK(setresgid(NOBODY, NOBODY, NOBODY) == 0);
	/* A non-zero uid clears the effective and permitted capabilities. */
	KID_CHECK(setresuid(NOBODY, NOBODY, NOBODY) == 0);
	KID_CHECK(geteuid() == NOBODY);
}

/* A child that takes longer is stuck: the case fails rather than hang. */
#define CHILD_TIMEOUT_MS	30000

/* ---- device nodes -------------------------------------------------------- */

static int test_node_modes(void)
{
	char path[64];
	struct stat st;

	CHECK_OK(stat("/dev/vfio/vfio", &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0666);
	group_path(path, sizeof(path), edu_group());
	CHECK_OK(stat(path, &st));
	CHECK(S_ISCHR(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0600);
	CHECK_EQ(st.st_uid, 0);
	CHECK_EQ(st.st_gid, 0);
	return TEST_PASS;
}

/* nobody cannot open a group it was not given. */
static int test_nobody_cannot_open_group(void)
{
	int id = edu_group();
	pid_t pid = fork();

	CHECK(pid >= 0);
	if (!pid) {
		char path[64];

		as_nobody();
		group_path(path, sizeof(path), id);
		errno = 0;
		KID_CHECK(open(path, O_RDWR) < 0 && errno == EACCES);
		KID_CHECK(open(path, O_RDONLY) < 0 && errno == EACCES);
		_exit(0);
	}
	CHECK_EQ(wait_child(pid, CHILD_TIMEOUT_MS), 0);
	return TEST_PASS;
}

/*
 * nobody may open the container (0666), and it gets nothing from it:
 * without a group there is no IOMMU to set and nothing to map.
 */
static int test_nobody_container_is_useless(void)
{
	pid_t pid = fork();

	CHECK(pid >= 0);
	if (!pid) {
		struct vfio_iommu_type1_dma_map map = {
			.argsz = sizeof(map), .flags = VFIO_DMA_MAP_FLAG_READ,
			.size = PAGE, .iova = 0,
		};
		void *buf = alloc_buffer(PAGE);
		int c;

		as_nobody();
		c = open("/dev/vfio/vfio", O_RDWR);
		KID_CHECK(c >= 0);
		map.vaddr = (uintptr_t)buf;
		errno = 0;
		KID_CHECK(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) < 0 && errno == EINVAL);
		errno = 0;
		KID_CHECK(ioctl(c, VFIO_IOMMU_MAP_DMA, &map) < 0 && errno == EINVAL);
		KID_CHECK(locked_vm_kb(0) == 0);
		_exit(0);
	}
	CHECK_EQ(wait_child(pid, CHILD_TIMEOUT_MS), 0);
	return TEST_PASS;
}

/* An administrator who makes /dev/vfio/vfio 0600 locks nobody out. */
static int test_container_0600(void)
{
	pid_t pid;
	int rc;

	CHECK_OK(chmod("/dev/vfio/vfio", 0600));
	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		as_nobody();
		errno = 0;
		KID_CHECK(open("/dev/vfio/vfio", O_RDWR) < 0 && errno == EACCES);
		_exit(0);
	}
	rc = wait_child(pid, CHILD_TIMEOUT_MS);
	CHECK_OK(chmod("/dev/vfio/vfio", 0666));
	CHECK_EQ(rc, 0);
	return TEST_PASS;
}

/* ---- RLIMIT_MEMLOCK ------------------------------------------------------ */

static int nobody_map(int c, void *buf, uint64_t iova, uint64_t size)
{
	return __vfio_dma_map(c, buf, iova, size,
			      VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
}

/*
 * A user given the group (chown, as libvirt does) pins at most its
 * RLIMIT_MEMLOCK, cannot raise the limit, and cannot get around it by
 * mapping the same pages twice or by spreading them over two containers
 * (edu's and e1000e's): the charge is per process.  The group's owner is
 * the only thing standing between nobody and the device: the first open
 * works once it is chowned (the positive control for the EACCES above).
 */
static int test_nobody_memlock(void)
{
	char path[64], path2[64], bdf[32];
	int id = edu_group(), id2, rc;
	pid_t pid;

	vfio_pci_find(E1000E_VENDOR, E1000E_DEVICE, bdf, sizeof(bdf));
	id2 = vfio_iommu_group_of(bdf);
	group_path(path, sizeof(path), id);
	group_path(path2, sizeof(path2), id2);
	CHECK_OK(chown(path, NOBODY, NOBODY));
	CHECK_OK(chown(path2, NOBODY, NOBODY));
	pid = fork();
	CHECK(pid >= 0);
	if (!pid) {
		struct rlimit rl = { .rlim_cur = SZ_1M, .rlim_max = SZ_1M };
		void *buf = alloc_buffer(4 * SZ_1M);
		int c1, c2, g1, g2;

		KID_CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) == 0);
		as_nobody();
		rl.rlim_cur = rl.rlim_max = 64 * SZ_1M;
		errno = 0;
		KID_CHECK(setrlimit(RLIMIT_MEMLOCK, &rl) < 0 && errno == EPERM);

		c1 = open("/dev/vfio/vfio", O_RDWR);
		c2 = open("/dev/vfio/vfio", O_RDWR);
		g1 = open(path, O_RDWR);
		g2 = open(path2, O_RDWR);
		KID_CHECK(c1 >= 0 && c2 >= 0 && g1 >= 0 && g2 >= 0);
		KID_CHECK(ioctl(g1, VFIO_GROUP_SET_CONTAINER, &c1) == 0);
		KID_CHECK(ioctl(g2, VFIO_GROUP_SET_CONTAINER, &c2) == 0);
		KID_CHECK(ioctl(c1, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0);
		KID_CHECK(ioctl(c2, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU) == 0);

		KID_CHECK(nobody_map(c1, buf, 0, 2 * SZ_1M) == -ENOMEM);
		KID_CHECK(locked_vm_kb(0) == 0);
		KID_CHECK(nobody_map(c1, buf, 0, SZ_1M) == 0);
		KID_CHECK(locked_vm_kb(0) == 1024);
		/* The same pages again, at another IOVA: charged again. */
		KID_CHECK(nobody_map(c1, buf, 4 * SZ_1M, PAGE) == -ENOMEM);
		/* Another container of the same process: the same budget. */
		KID_CHECK(nobody_map(c2, (char *)buf + 2 * SZ_1M, 0, PAGE) == -ENOMEM);
		KID_CHECK(locked_vm_kb(0) == 1024);
		close(g1);
		close(g2);
		close(c1);
		close(c2);
		KID_CHECK(locked_vm_kb(0) == 0);
		_exit(0);
	}
	rc = wait_child(pid, CHILD_TIMEOUT_MS);
	CHECK_OK(chown(path, 0, 0));
	CHECK_OK(chown(path2, 0, 0));
	CHECK_EQ(rc, 0);
	return TEST_PASS;
}

/* ---- non-viable groups --------------------------------------------------- */

/*
 * The bench's non-viable group: a device on vfio-pci and one on a host
 * driver (other than pcieport).  Returns its id and the host-driven
 * device's BDF and driver name; the vfio-pci one's goes to
 * nonviable_vfio_bdf.
 */
static char nonviable_vfio_bdf[256];

static int find_nonviable(char *other, size_t olen, char *odrv, size_t dlen)
{
	char path[PATH_MAX], drv[PATH_MAX];
	struct dirent *e;
	int found = -1;
	DIR *dir;

	dir = opendir("/sys/kernel/iommu_groups");
	if (!dir)
		return -1;
	while (found < 0 && (e = readdir(dir))) {
		int vfio = 0, host = 0;
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
			char *base;

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "/sys/kernel/iommu_groups/%s/devices/%s/driver",
				 e->d_name, de->d_name);
			n = readlink(path, drv, sizeof(drv) - 1);
			if (n < 0)
				continue;
			drv[n] = '\0';
			base = strrchr(drv, '/') + 1;
			if (!strcmp(base, "vfio-pci")) {
				vfio++;
				snprintf(nonviable_vfio_bdf, sizeof(nonviable_vfio_bdf),
					 "%s", de->d_name);
			} else if (strcmp(base, "pcieport")) {
				host++;
				snprintf(other, olen, "%s", de->d_name);
				snprintf(odrv, dlen, "%s", base);
			}
		}
		closedir(dd);
		if (vfio && host)
			found = atoi(e->d_name);
	}
	closedir(dir);
	return found;
}

/*
 * A non-viable group cannot be used: not alone, not by joining a working
 * container (whose mappings stay intact), and no device fd comes out of it.
 */
static int test_nonviable_cannot_be_used(void)
{
	char other[256], odrv[256];
	void *buf = alloc_buffer(PAGE);
	struct vfio_dev d;
	int id, c, g;
	uint32_t flags;
	uint64_t unmapped;

	id = find_nonviable(other, sizeof(other), odrv, sizeof(odrv));
	CHECK(id >= 0);
	printf("# non-viable group %d: %s on %s\n", id, other, odrv);
	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	CHECK_OK(__vfio_dma_map(d.container, buf, 0x100000, PAGE, VFIO_DMA_MAP_FLAG_READ));

	c = vfio_container_open();
	g = vfio_group_open(id);
	CHECK_OK(__vfio_group_status(g, &flags));
	CHECK_EQ(flags & VFIO_GROUP_FLAGS_VIABLE, 0);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_SET_CONTAINER, &c), EPERM);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_SET_CONTAINER, &d.container), EPERM);
	CHECK_ERRNO(ioctl(g, VFIO_GROUP_GET_DEVICE_FD, nonviable_vfio_bdf), EINVAL);
	CHECK_OK(__vfio_group_status(g, &flags));
	CHECK_EQ(flags & VFIO_GROUP_FLAGS_CONTAINER_SET, 0);
	/* The container it tried to join is as it was. */
	CHECK_OK(__vfio_dma_unmap(d.container, 0x100000, PAGE, 0, &unmapped));
	CHECK_EQ(unmapped, PAGE);
	close(g);
	close(c);
	vfio_dev_close(&d);
	return TEST_PASS;
}

/*
 * The other way round: the group made viable (its host driver unbound)
 * and in use, a host driver cannot bind to the other device and DMA
 * through the IOMMU domain user space now controls.
 */
static int test_host_driver_cannot_join(void)
{
	char other[256], odrv[256], path[PATH_MAX], now[256];
	int id, c, g, ret;
	uint32_t flags;

	id = find_nonviable(other, sizeof(other), odrv, sizeof(odrv));
	CHECK(id >= 0);
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", other);
	CHECK_OK(write_str(path, other));
	c = vfio_container_open();
	g = vfio_group_open(id);
	CHECK_OK(__vfio_group_status(g, &flags));
	CHECK(flags & VFIO_GROUP_FLAGS_VIABLE);
	vfio_group_set_container(g, c);
	vfio_set_iommu(c, VFIO_TYPE1v2_IOMMU);

	snprintf(path, sizeof(path), "/sys/bus/pci/drivers/%s/bind", odrv);
	ret = write_str(path, other);
	pci_driver_of(other, now, sizeof(now));
	printf("# binding %s to %s while group %d is owned: %s, driver now '%s'\n",
	       other, odrv, id, ret ? strerror(-ret) : "accepted", now);
	CHECK(ret < 0);
	CHECK_EQ(now[0], '\0');

	close(g);
	close(c);
	/* Released: the host driver gets its device back. */
	CHECK_OK(write_str(path, other));
	pci_driver_of(other, now, sizeof(now));
	CHECK(!strcmp(now, odrv));
	return TEST_PASS;
}

/* ---- isolation between containers ---------------------------------------- */

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 7);
}

static int all_bytes(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return 0;
	return 1;
}

/*
 * Process A (edu, container A) maps a buffer at IOVA X.  Process B (e1000e,
 * container B) tries to take it away: UNMAP of X's range and UNMAP_ALL in
 * its own container unmap nothing of A's (size 0), and it can map its own
 * memory at the same X.  A's mapping still works: edu copies through X.
 * B cannot open A's group to join A's container either (EBUSY).
 */
static int test_unmap_other_container(void)
{
	const uint64_t X = 0x400000;
	int to_b[2], to_a[2], rc_b;
	char ch;
	pid_t b;

	CHECK_OK(pipe(to_b));
	CHECK_OK(pipe(to_a));
	b = fork();
	CHECK(b >= 0);
	if (!b) {
		struct vfio_dev e;
		void *mine = alloc_buffer(PAGE);
		uint64_t unmapped = 1;

		close(to_b[1]);
		close(to_a[0]);
		vfio_dev_open(&e, E1000E_VENDOR, E1000E_DEVICE, VFIO_TYPE1v2_IOMMU);
		KID_CHECK(read(to_b[0], &ch, 1) == 1);	/* A has mapped X */
		KID_CHECK(__vfio_dma_unmap(e.container, X, PAGE, 0, &unmapped) == 0);
		KID_CHECK(unmapped == 0);
		KID_CHECK(__vfio_dma_unmap(e.container, 0, 1ULL << 39, 0, &unmapped) == 0);
		KID_CHECK(unmapped == 0);
		KID_CHECK(__vfio_dma_unmap(e.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL,
					   &unmapped) == 0);
		KID_CHECK(unmapped == 0);
		KID_CHECK(__vfio_dma_map(e.container, mine, X, PAGE,
					 VFIO_DMA_MAP_FLAG_READ) == 0);
		{
			char path[64];

			group_path(path, sizeof(path), edu_group());
			errno = 0;
			KID_CHECK(open(path, O_RDWR) < 0 && errno == EBUSY);
		}
		KID_CHECK(write(to_a[1], "x", 1) == 1);
		KID_CHECK(read(to_b[0], &ch, 1) == 1);	/* A is done */
		vfio_dev_close(&e);
		_exit(0);
	}
	close(to_b[0]);
	close(to_a[1]);
	{
		uint8_t *src = alloc_buffer(PAGE), *dst = alloc_buffer(PAGE);
		struct vfio_dev d;
		uint64_t unmapped;

		vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
		vfio_dev_map_bar0(&d);
		fill(src, PAGE, 3);
		memset(dst, 0xee, PAGE);
		CHECK_OK(__vfio_dma_map(d.container, src, X, PAGE, VFIO_DMA_MAP_FLAG_READ));
		CHECK_OK(__vfio_dma_map(d.container, dst, X + PAGE, PAGE, VFIO_DMA_MAP_FLAG_WRITE));
		CHECK_EQ(write(to_b[1], "x", 1), 1);
		CHECK_EQ(read(to_a[0], &ch, 1), 1);	/* B tried everything */
		CHECK_OK(__edu_dma(&d, X, 0, 2048, false));
		CHECK_OK(__edu_dma(&d, X + PAGE, 0, 2048, true));
		CHECK(!memcmp(src, dst, 2048));
		CHECK(all_bytes(dst + 2048, PAGE - 2048, 0xee));
		CHECK_OK(__vfio_dma_unmap(d.container, X, 2 * PAGE, 0, &unmapped));
		CHECK_EQ(unmapped, 2 * PAGE);
		CHECK_EQ(write(to_b[1], "x", 1), 1);
		vfio_dev_close(&d);
	}
	rc_b = wait_child(b, CHILD_TIMEOUT_MS);
	CHECK_EQ(rc_b, 0);
	return TEST_PASS;
}

/*
 * A device cannot DMA into another container's mappings: e1000e's
 * container maps a victim page at X; edu, in its own container where X is
 * not mapped, writes to X.  The IOMMU faults, the victim is unchanged.
 * Prints "# dma-fault write iova 0x..." for the guest script's DMAR check.
 */
static int test_dma_into_other_container(void)
{
	const uint64_t X = 0x700000;
	uint8_t *victim = alloc_buffer(PAGE), *src = alloc_buffer(PAGE);
	struct vfio_dev d, e;

	vfio_dev_open(&e, E1000E_VENDOR, E1000E_DEVICE, VFIO_TYPE1v2_IOMMU);
	memset(victim, 0x5a, PAGE);
	CHECK_OK(__vfio_dma_map(e.container, victim, X, PAGE,
				VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE));

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	vfio_dev_map_bar0(&d);
	fill(src, PAGE, 9);
	/* Load edu's buffer with a pattern through a mapping of its own. */
	CHECK_OK(__vfio_dma_map(d.container, src, 0x100000, PAGE, VFIO_DMA_MAP_FLAG_READ));
	CHECK_OK(__edu_dma(&d, 0x100000, 0, 2048, false));
	sleep(2);	/* space DMAR reports out (see vfio_dma.c) */
	printf("# dma-fault write iova 0x%llx\n", (unsigned long long)X);
	fflush(stdout);
	CHECK_OK(__edu_dma(&d, X, 0, 2048, true));
	CHECK(all_bytes(victim, PAGE, 0x5a));
	vfio_dev_close(&d);
	vfio_dev_close(&e);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_node_modes),
	TEST(test_nobody_cannot_open_group),
	TEST(test_nobody_container_is_useless),
	TEST(test_container_0600),
	TEST(test_nobody_memlock),
	TEST(test_nonviable_cannot_be_used),
	TEST(test_host_driver_cannot_join),
	TEST(test_unmap_other_container),
	TEST(test_dma_into_other_container),
};

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return RUN_TESTS_FORKED("vfio_security", tests, argc, argv);
}
