// SPDX-License-Identifier: GPL-2.0
/*
 * Smoke test of vfio.ko + vfio_iommu_type1.ko: the container alone, then
 * (with EDU_GROUP and EDU_BDF set, edu bound to vfio-pci) the lifetimes the
 * uAPI suite does not stress: pins and locked_vm after unmap, after close
 * in every order, after SIGKILL; dma_entry_limit; RLIMIT_MEMLOCK.
 *
 *   core_vfio [CASE...]
 *
 * Pins are counted with /proc/vmstat's nr_foll_pin_acquired/released:
 * every page type1 pins must be released once the container is gone.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/vfio.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "check.h"
#include "vfio_util.h"

#define RW	(VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE)
static long locked_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static int map(int c, void *va, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m), .flags = RW,
		.vaddr = (uintptr_t)va, .iova = iova, .size = size,
	};

	return ioctl(c, VFIO_IOMMU_MAP_DMA, &m);
}

/* Returns bytes unmapped, or -1. */
static long long unmap(int c, uint64_t iova, uint64_t size, uint32_t flags)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .flags = flags, .iova = iova, .size = size,
	};

	if (ioctl(c, VFIO_IOMMU_UNMAP_DMA, &u))
		return -1;
	return u.size;
}

static void *buffer(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* ---- container alone ---------------------------------------------------- */

static int test_container(void)
{
	int c = open("/dev/vfio/vfio", O_RDWR);

	CHECK_OK(c);
	CHECK_EQ(ioctl(c, VFIO_GET_API_VERSION), VFIO_API_VERSION);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU), 1);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU), 1);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_UNMAP_ALL), 1);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_NOIOMMU_IOMMU), 0);
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_SPAPR_TCE_IOMMU), 0);
	/* Not set yet: no domain, so no coherency to promise. */
	CHECK_EQ(ioctl(c, VFIO_CHECK_EXTENSION, VFIO_DMA_CC_IOMMU), 0);
	/* No group: no right to set an IOMMU, and nothing to forward to. */
	CHECK_ERRNO(ioctl(c, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU), EINVAL);
	CHECK_ERRNO(ioctl(c, VFIO_IOMMU_MAP_DMA, NULL), EINVAL);
	/* Group ioctls are not container ioctls. */
	CHECK_ERRNO(ioctl(c, VFIO_GROUP_GET_STATUS, NULL), EINVAL);
	close(c);
	return TEST_PASS;
}

static int test_many_containers(void)
{
	int c[64], i;

	for (i = 0; i < 64; i++)
		CHECK_OK(c[i] = open("/dev/vfio/vfio", O_RDWR));
	for (i = 0; i < 64; i++)
		close(c[i]);
	return TEST_PASS;
}

/* ---- with edu ----------------------------------------------------------- */

struct stack {
	int container, group, device;
};

static char group_path[64];
static const char *bdf;

static int have_edu(void)
{
	const char *g = getenv("EDU_GROUP");

	bdf = getenv("EDU_BDF");
	if (!g || !bdf)
		return 0;
	snprintf(group_path, sizeof(group_path), "/dev/vfio/%s", g);
	return 1;
}

/* Container + group + type1v2 (+ device fd if @device). -errno on failure. */
static int stack_open(struct stack *s, int device)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };

	s->device = -1;
	s->container = open("/dev/vfio/vfio", O_RDWR);
	if (s->container < 0)
		return -errno;
	s->group = open(group_path, O_RDWR);
	if (s->group < 0)
		return -errno;
	if (ioctl(s->group, VFIO_GROUP_GET_STATUS, &st))
		return -errno;
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE))
		return -EPERM;
	if (ioctl(s->group, VFIO_GROUP_SET_CONTAINER, &s->container))
		return -errno;
	if (ioctl(s->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return -errno;
	if (device) {
		s->device = ioctl(s->group, VFIO_GROUP_GET_DEVICE_FD, bdf);
		if (s->device < 0)
			return -errno;
	}
	return 0;
}

static void stack_close(struct stack *s)
{
	if (s->device >= 0)
		close(s->device);
	close(s->group);
	close(s->container);
}

#define NEED_EDU() do {							\
	if (!have_edu())						\
		SKIP("EDU_GROUP/EDU_BDF not set: edu not bound to vfio-pci"); \
} while (0)

/* Map, check the charge, unmap, check it is all given back. */
static int test_map_accounting(void)
{
	const size_t size = 4 * SZ_1M;
	long pins0 = foll_pins_held(), kb0 = locked_kb();
	struct stack s;
	void *buf;

	NEED_EDU();
	CHECK(buf = buffer(size));
	CHECK_OK(stack_open(&s, 0));
	CHECK(pins0 >= 0);

	CHECK_OK(map(s.container, buf, EDU_IOVA, size));
	CHECK_EQ(locked_kb() - kb0, size / 1024);
	CHECK_EQ(foll_pins_held() - pins0, size / SZ_4K);
	CHECK_ERRNO(map(s.container, buf, EDU_IOVA, SZ_4K), EEXIST);
	/* v2: no splitting; the exact range goes. */
	CHECK_ERRNO(unmap(s.container, EDU_IOVA, SZ_4K, 0), EINVAL);
	CHECK_EQ(unmap(s.container, EDU_IOVA, size, 0), size);
	CHECK_EQ(locked_kb(), kb0);
	CHECK_EQ(foll_pins_held(), pins0);
	/* Nothing there: success, 0 bytes. */
	CHECK_EQ(unmap(s.container, EDU_IOVA, size, 0), 0);

	/* Several mappings, one UNMAP_ALL. */
	CHECK_OK(map(s.container, buf, EDU_IOVA, SZ_1M));
	CHECK_OK(map(s.container, (char *)buf + SZ_1M, EDU_IOVA + 2 * SZ_1M, SZ_1M));
	CHECK_EQ(unmap(s.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL), 2 * SZ_1M);
	CHECK_EQ(foll_pins_held(), pins0);

	stack_close(&s);
	munmap(buf, size);
	return TEST_PASS;
}

/*
 * Close the three fds in every order with mappings live: each order must
 * unpin and uncharge everything, and leave the group openable again.
 */
static int test_close_orders(void)
{
	static const int orders[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	const size_t size = SZ_1M;
	long pins0 = foll_pins_held(), kb0 = locked_kb();
	void *buf;
	int i, j;

	NEED_EDU();
	CHECK(buf = buffer(size));
	for (i = 0; i < 6; i++) {
		struct stack s;
		int fds[3];

		CHECK_OK(stack_open(&s, 1));
		CHECK_OK(map(s.container, buf, EDU_IOVA, size));
		/* An open device keeps the group in its container. */
		CHECK_ERRNO(ioctl(s.group, VFIO_GROUP_UNSET_CONTAINER), EBUSY);
		fds[0] = s.container;
		fds[1] = s.group;
		fds[2] = s.device;
		for (j = 0; j < 3; j++)
			close(fds[orders[i][j]]);
		CHECK_EQ(locked_kb(), kb0);
		CHECK_EQ(foll_pins_held(), pins0);
	}
	munmap(buf, size);
	return TEST_PASS;
}

/* One open of a group at a time; the device fd holds the group open. */
static int test_group_exclusive(void)
{
	struct stack s;
	int g;

	NEED_EDU();
	CHECK_OK(stack_open(&s, 1));
	CHECK_ERRNO(open(group_path, O_RDWR), EBUSY);
	close(s.group);
	CHECK_ERRNO(open(group_path, O_RDWR), EBUSY);
	close(s.device);
	close(s.container);
	/* The group file's release ran when the device fd let go of it. */
	CHECK_OK(g = open(group_path, O_RDWR));
	close(g);
	return TEST_PASS;
}

/* A process killed with live mappings leaves no pin behind. */
static int test_killed(void)
{
	const size_t size = 8 * SZ_1M;
	long pins0 = foll_pins_held();
	int ready[2], i, status;
	char c;
	pid_t pid;

	NEED_EDU();
	CHECK_OK(pipe(ready));
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct stack s;
		void *buf = buffer(size);

		if (!buf || stack_open(&s, 1) ||
		    map(s.container, buf, EDU_IOVA, size / 2) ||
		    map(s.container, (char *)buf + size / 2, EDU_IOVA + size, size / 2))
			_exit(1);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	CHECK_EQ(read(ready[0], &c, 1), 1);
	CHECK_EQ(foll_pins_held() - pins0, size / SZ_4K);
	kill(pid, SIGKILL);
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFSIGNALED(status));
	close(ready[0]);

	/* The last fput may run a moment after the exit. */
	for (i = 0; i < 50 && foll_pins_held() != pins0; i++)
		usleep(100000);
	CHECK_EQ(foll_pins_held(), pins0);
	return TEST_PASS;
}

/* dma_entry_limit (set to 4 by the script): the fifth mapping is ENOSPC. */
static int test_entry_limit(void)
{
	struct stack s;
	void *buf;
	int i;

	NEED_EDU();
	if (!getenv("ENTRY_LIMIT_4"))
		SKIP("ENTRY_LIMIT_4 not set: dma_entry_limit not lowered");
	CHECK(buf = buffer(8 * SZ_4K));
	CHECK_OK(stack_open(&s, 0));
	for (i = 0; i < 4; i++)
		CHECK_OK(map(s.container, (char *)buf + i * SZ_4K,
			     EDU_IOVA + 2 * i * SZ_4K, SZ_4K));
	CHECK_ERRNO(map(s.container, (char *)buf + 4 * SZ_4K, EDU_IOVA + 8 * SZ_4K,
			SZ_4K), ENOSPC);
	/* Unmapping gives an entry back. */
	CHECK_EQ(unmap(s.container, EDU_IOVA, SZ_4K, 0), SZ_4K);
	CHECK_OK(map(s.container, (char *)buf + 4 * SZ_4K, EDU_IOVA + 8 * SZ_4K,
		     SZ_4K));
	stack_close(&s);
	munmap(buf, 8 * SZ_4K);
	return TEST_PASS;
}

/*
 * Over RLIMIT_MEMLOCK without CAP_IPC_LOCK: ENOMEM, and nothing stays
 * pinned or charged.  The fds are opened as root, then the child becomes
 * nobody, which drops every capability.
 */
static int test_memlock(void)
{
	int status;
	pid_t pid;

	NEED_EDU();
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { 256 * 1024, 256 * 1024 };
		long kb0;
		struct stack s;
		void *buf = buffer(SZ_1M);

		if (!buf || stack_open(&s, 0))
			_exit(2);
		if (setrlimit(RLIMIT_MEMLOCK, &rl) || setresuid(65534, 65534, 65534))
			_exit(3);
		kb0 = locked_kb();
		if (map(s.container, buf, EDU_IOVA, SZ_1M) == 0 || errno != ENOMEM)
			_exit(4);
		if (locked_kb() != kb0)
			_exit(5);
		if (map(s.container, buf, EDU_IOVA, 128 * 1024))
			_exit(6);
		if (locked_kb() != kb0 + 128)
			_exit(7);
		stack_close(&s);
		_exit(0);
	}
	CHECK_EQ(waitpid(pid, &status, 0), pid);
	CHECK(WIFEXITED(status));
	CHECK_EQ(WEXITSTATUS(status), 0);
	return TEST_PASS;
}

/*
 * Hold edu's device fd for HOLD_SECS seconds (the script unbinds edu
 * meanwhile: the unbind must wait for this close, then complete).
 */
static int test_hold_device(void)
{
	const char *secs = getenv("HOLD_SECS");
	struct stack s;
	void *buf;

	NEED_EDU();
	if (!secs)
		SKIP("HOLD_SECS not set");
	CHECK(buf = buffer(SZ_1M));
	CHECK_OK(stack_open(&s, 1));
	CHECK_OK(map(s.container, buf, EDU_IOVA, SZ_1M));
	printf("# holding %s for %s s\n", bdf, secs);
	sleep(atoi(secs));
	stack_close(&s);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_container),
	TEST(test_many_containers),
	TEST(test_map_accounting),
	TEST(test_close_orders),
	TEST(test_group_exclusive),
	TEST(test_killed),
	TEST(test_entry_limit),
	TEST(test_memlock),
	TEST(test_hold_device),
};

int main(int argc, char **argv)
{
	/* Each case in its own process: a failed case leaks no fd. */
	return RUN_TESTS_FORKED("core_vfio", tests, argc, argv);
}
