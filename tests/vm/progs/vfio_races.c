// SPDX-License-Identifier: GPL-2.0
/*
 * Races and lifetimes, each a bounded stress (RACE_SECONDS, default 3 s):
 *  - threads mapping and unmapping overlapping ranges of one container;
 *  - fds closed while other threads are inside ioctls on them;
 *  - processes killed in the middle of large maps;
 *  - the device unbound while a process uses it (it closes on the REQ
 *    interrupt, as QEMU does).
 * Pass: no deadlock (the guest script's timeout), every failure one of
 * the documented errnos, nothing left (type1 mappings and pinned pages,
 * vfio objects, FOLL_PIN, VmLck), the group opens again.  The last
 * external-user race is vfio_external_user's test_race_with_close.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "check.h"
#include "vfio_util.h"

static int race_seconds = 3;

/* Our stack counts its objects in debugfs; in-tree 6.1 does not. */
static bool ours(void)
{
	const char *stack = getenv("VFIOSCOPE_STACK");

	return !stack || !strcmp(stack, "ours");
}

/* Pages pinned for DMA right now: type1's own count, or FOLL_PIN's. */
static long pinned_now(void)
{
	return ours() ? read_key("/sys/kernel/debug/vfio/type1", "pinned") : foll_pins_held();
}

/* Nothing left anywhere: the stack is as a fresh boot left it. */
static int check_nothing_left(void)
{
	if (ours()) {
		CHECK_EQ(read_key("/sys/kernel/debug/vfio/type1", "mappings"), 0);
		CHECK_EQ(read_key("/sys/kernel/debug/vfio/type1", "pinned"), 0);
		CHECK_EQ(read_key("/sys/kernel/debug/vfio/type1", "iommus"), 0);
		CHECK_EQ(read_key("/sys/kernel/debug/vfio/objects", "containers"), 0);
		CHECK_EQ(read_key("/sys/kernel/debug/vfio/objects", "device_files"), 0);
	}
	CHECK_EQ(foll_pins_held(), 0);
	CHECK_EQ(locked_vm_kb(0), 0);
	return TEST_PASS;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int edu_group_id(void)
{
	char bdf[32];

	vfio_pci_find(EDU_VENDOR, EDU_DEVICE, bdf, sizeof(bdf));
	return vfio_iommu_group_of(bdf);
}

/* ---- overlapping maps and unmaps --------------------------------------- */

struct overlap {
	int container;
	uint8_t *buf;
	double end;
	atomic_long maps, unmaps, bad;
};

static void *overlap_thread(void *arg)
{
	struct overlap *o = arg;
	unsigned int seed = (unsigned int)(uintptr_t)pthread_self();

	while (now() < o->end) {
		/* 16 slots of 64 KiB, ranges of 1..4 slots: they overlap. */
		uint64_t iova = (rand_r(&seed) % 16) * 16 * PAGE;
		uint64_t size = (1 + rand_r(&seed) % 4) * 16 * PAGE;
		uint64_t unmapped;
		int ret;

		if (rand_r(&seed) % 2) {
			ret = __vfio_dma_map(o->container, o->buf + iova, iova, size,
					     VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
			if (!ret)
				o->maps++;
			else if (ret != -EEXIST)
				o->bad++;
		} else {
			ret = __vfio_dma_unmap(o->container, iova, size,
					       rand_r(&seed) % 16 ? 0 : VFIO_DMA_UNMAP_FLAG_ALL,
					       &unmapped);
			/* v2 refuses to split a mapping: EINVAL is expected. */
			if (!ret)
				o->unmaps += unmapped > 0;
			else if (ret != -EINVAL)
				o->bad++;
		}
	}
	return NULL;
}

static int test_overlapping_map_unmap(void)
{
	enum { THREADS = 4 };
	struct overlap o = { .buf = alloc_buffer(32 * 16 * PAGE) };
	pthread_t th[THREADS];
	struct vfio_dev d;
	uint64_t unmapped;

	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	o.container = d.container;
	o.end = now() + race_seconds;
	for (int i = 0; i < THREADS; i++)
		CHECK(!pthread_create(&th[i], NULL, overlap_thread, &o));
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	printf("# %d threads, %d s: %ld maps, %ld unmaps, %ld unexpected errors\n",
	       THREADS, race_seconds, (long)o.maps, (long)o.unmaps, (long)o.bad);
	CHECK_EQ(o.bad, 0);
	CHECK(o.maps > 0 && o.unmaps > 0);
	/* What is left is exactly what the type1 counters say. */
	CHECK_OK(__vfio_dma_unmap(d.container, 0, 0, VFIO_DMA_UNMAP_FLAG_ALL, &unmapped));
	CHECK_EQ(pinned_now(), 0);
	vfio_dev_close(&d);
	return check_nothing_left();
}

/* ---- close under ioctl ----------------------------------------------------- */

/*
 * RACE_NO_DETACH_UNDER_MAP=1: the threads that map and unmap are stopped
 * before the group leaves the container.  6.1's container ioctl reads
 * iommu_data without a lock, so in-tree a group detached while a map is in
 * flight is a use-after-free of 6.1's own (an oops in vfio_remove_dma <-
 * vfio_iommu_type1_release); the guest script sets this for the in-tree
 * boot so that the rest of the race is compared.  Ours runs both ways.
 */
static bool no_detach_under_map;

struct closer {
	struct vfio_dev d;
	uint8_t *buf;
	atomic_int stop;		/* every thread */
	/* no_detach_under_map: odd threads use only the container */
	atomic_int next_id, maps_running, stop_maps;
	atomic_long calls, bad;
};

static void *ioctl_thread(void *arg)
{
	struct closer *c = arg;
	unsigned int seed = (unsigned int)(uintptr_t)pthread_self();
	bool maps = no_detach_under_map && (c->next_id++ & 1);

	if (maps)
		c->maps_running++;
	while (!c->stop && !(maps && c->stop_maps)) {
		struct vfio_device_info di = { .argsz = sizeof(di) };
		uint32_t flags;
		uint64_t unmapped;
		int ret = 0;
		unsigned int op = rand_r(&seed) % 4;

		if (no_detach_under_map)
			op = maps ? op % 2 : 2 + op % 2;
		switch (op) {
		case 0:
			/* 8 MiB: long enough to be inside when the close comes. */
			ret = __vfio_dma_map(c->d.container, c->buf, 0, 8 * SZ_1M,
					     VFIO_DMA_MAP_FLAG_READ);
			break;
		case 1:
			ret = __vfio_dma_unmap(c->d.container, 0, 8 * SZ_1M, 0, &unmapped);
			break;
		case 2:
			ret = __vfio_group_status(c->d.group, &flags);
			break;
		case 3:
			ret = ioctl(c->d.device, VFIO_DEVICE_GET_INFO, &di) ? -errno : 0;
			break;
		}
		c->calls++;
		/* Closed under us: EBADF; or the container lost its IOMMU: EINVAL. */
		if (ret && ret != -EBADF && ret != -EINVAL && ret != -EEXIST)
			c->bad++;
	}
	if (maps)
		c->maps_running--;
	return NULL;
}

static int test_close_during_ioctl(void)
{
	enum { THREADS = 4 };
	struct closer c = { .buf = alloc_buffer(8 * SZ_1M) };
	pthread_t th[THREADS];
	double end = now() + race_seconds;
	int rounds = 0;

	while (now() < end) {
		vfio_dev_open(&c.d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
		c.stop = c.stop_maps = 0;
		c.next_id = 0;
		for (int i = 0; i < THREADS; i++)
			CHECK(!pthread_create(&th[i], NULL, ioctl_thread, &c));
		/* Every map thread counted before any close. */
		while (no_detach_under_map && c.maps_running < THREADS / 2)
			usleep(100);
		usleep(1000 + (rounds % 7) * 3000);
		if (no_detach_under_map) {
			/* The container fd still closes under its threads. */
			close(c.d.container);
			c.d.container = -1;
			c.stop_maps = 1;
			while (c.maps_running)
				usleep(100);
		}
		/* Close in a different order each round, under the threads. */
		switch (rounds % 3) {
		case 0: close(c.d.container); close(c.d.group); close(c.d.device); break;
		case 1: close(c.d.device); close(c.d.container); close(c.d.group); break;
		case 2: close(c.d.group); close(c.d.device); close(c.d.container); break;
		}
		usleep(2000);
		c.stop = 1;
		for (int i = 0; i < THREADS; i++)
			pthread_join(th[i], NULL);
		rounds++;
		/* Everything went with the last close: the group opens again. */
		close(vfio_group_open(edu_group_id()));
	}
	printf("# %d rounds, %ld ioctls raced against close, %ld unexpected errors%s\n",
	       rounds, (long)c.calls, (long)c.bad,
	       no_detach_under_map ? " (maps stopped before each detach)" : "");
	CHECK_EQ(c.bad, 0);
	return check_nothing_left();
}

/* ---- killed mid-map ----------------------------------------------------------- */

static int test_kill_mid_map(void)
{
	double end = now() + race_seconds;
	int rounds = 0, group = edu_group_id();

	while (now() < end) {
		pid_t pid = fork();
		int status;

		CHECK(pid >= 0);
		if (!pid) {
			struct vfio_dev d;
			uint8_t *buf = alloc_buffer(64 * SZ_1M);

			vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
			for (;;) {
				__vfio_dma_map(d.container, buf, 0, 64 * SZ_1M,
					       VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
				__vfio_dma_unmap(d.container, 0, 64 * SZ_1M, 0, NULL);
			}
		}
		usleep(50000 + (rounds % 10) * 37000);
		kill(pid, SIGKILL);
		CHECK_EQ(waitpid(pid, &status, 0), pid);
		CHECK(WIFSIGNALED(status));
		/* As soon as it is reaped, all of it is gone. */
		CHECK_EQ(pinned_now(), 0);
		close(vfio_group_open(group));
		rounds++;
	}
	printf("# %d processes killed while mapping 64 MiB\n", rounds);
	return check_nothing_left();
}

/* ---- unbind while open -------------------------------------------------------- */

struct unbinder {
	char bdf[32];
	int ret;
};

static void *unbind_thread(void *arg)
{
	struct unbinder *u = arg;
	char path[128];
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver/unbind", u->bdf);
	fd = open(path, O_WRONLY);
	if (fd < 0) {
		u->ret = -errno;
		return NULL;
	}
	/* Blocks until the user closed the device. */
	u->ret = write(fd, u->bdf, strlen(u->bdf)) < 0 ? -errno : 0;
	close(fd);
	return NULL;
}

/*
 * The user works on the device (threads in ioctls, a BAR mmap, a map)
 * while it is unbound; it gets the REQ interrupt and closes, the unbind
 * completes; the device is bound again for the next round.
 */
static int test_unbind_while_open(void)
{
	double end = now() + race_seconds;
	int rounds = 0;

	while (now() < end) {
		struct closer c = { .buf = alloc_buffer(8 * SZ_1M) };
		struct unbinder u;
		pthread_t th[2], ub;
		int req = eventfd_new(), gid;
		char path[128];

		vfio_dev_open(&c.d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
		vfio_dev_map_bar0(&c.d);
		snprintf(u.bdf, sizeof(u.bdf), "%s", c.d.bdf);
		gid = c.d.group_id;
		CHECK_OK(__vfio_irq_enable_eventfds(c.d.device, VFIO_PCI_REQ_IRQ_INDEX, 0, 1, &req));
		for (int i = 0; i < 2; i++)
			CHECK(!pthread_create(&th[i], NULL, ioctl_thread, &c));
		CHECK(!pthread_create(&ub, NULL, unbind_thread, &u));
		/* QEMU's answer to REQ: stop and close everything. */
		CHECK(eventfd_wait(req, 10000) > 0);
		c.stop = 1;
		for (int i = 0; i < 2; i++)
			pthread_join(th[i], NULL);
		vfio_dev_close(&c.d);
		close(req);
		pthread_join(ub, NULL);
		CHECK_EQ(u.ret, 0);
		munmap(c.buf, 8 * SZ_1M);
		/* Back to vfio-pci (driver_override is still set). */
		snprintf(path, sizeof(path), "/sys/bus/pci/drivers/vfio-pci/bind");
		CHECK_OK(write_str(path, u.bdf));
		wait_group_node(gid);
		rounds++;
	}
	printf("# %d unbinds while the device was in use\n", rounds);
	return check_nothing_left();
}

static const struct test tests[] = {
	TEST(test_overlapping_map_unmap),
	TEST(test_close_during_ioctl),
	TEST(test_kill_mid_map),
	TEST(test_unbind_while_open),
};

int main(int argc, char **argv)
{
	const char *s = getenv("RACE_SECONDS");

	if (s)
		race_seconds = atoi(s);
	s = getenv("RACE_NO_DETACH_UNDER_MAP");
	no_detach_under_map = s && *s == '1';
	setvbuf(stdout, NULL, _IOLBF, 0);
	return RUN_TESTS_FORKED("vfio_races", tests, argc, argv);
}
