// SPDX-License-Identifier: GPL-2.0
/*
 * The external-user API through the KVM-like consumer module
 * (kernel/testing/vfio_consumer.c, /dev/vfio-consumer).
 *
 * Semantics asserted here (docs/vfio-uapi.md, "External users"):
 *  - the get fails with EINVAL unless the file is a group in a container
 *    with an IOMMU set (EBADF when the fd is not open at all);
 *  - an external user keeps the container alive after user space closed
 *    every fd: the pages stay pinned and charged until the put;
 *  - VFIO_GROUP_UNSET_CONTAINER while an external user holds the group
 *    fails with EBUSY, as it does while a device fd is open: the container
 *    cannot be pulled from under a user;
 *  - unbinding the group's last device waits for the put, for the same
 *    reason (the legacy stack's last device waited too).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <vfioscope/vfio_consumer.h>

#include "check.h"
#include "vfio_util.h"

#define CONSUMER_PATH "/dev/vfio-consumer"
#define MAP_SIZE (2UL << 20)
#define MAP_IOVA 0x200000UL

static int consumer_open(void)
{
	return open(CONSUMER_PATH, O_RDWR | O_CLOEXEC);
}

static int group_add(int consumer, int fd)
{
	return ioctl(consumer, VFIO_CONSUMER_GROUP_ADD, &fd);
}

static int group_del(int consumer, int id)
{
	return ioctl(consumer, VFIO_CONSUMER_GROUP_DEL, &id);
}

static int edu_group_id(void)
{
	char bdf[32];

	vfio_pci_find(EDU_VENDOR, EDU_DEVICE, bdf, sizeof(bdf));
	return vfio_iommu_group_of(bdf);
}

/*
 * What an external user needs: a container holding edu's group, with
 * type1 set.  With buf, MAP_SIZE of it is also mapped at MAP_IOVA.
 */
static void ready_group(int id, void *buf, int *container, int *group)
{
	*container = vfio_container_open();
	*group = vfio_group_open(id);
	vfio_group_set_container(*group, *container);
	vfio_set_iommu(*container, VFIO_TYPE1v2_IOMMU);
	if (buf)
		vfio_dma_map(*container, buf, MAP_IOVA, MAP_SIZE);
}

static int test_not_a_group(void)
{
	int consumer = consumer_open(), null, container;

	CHECK_OK(consumer);
	null = open("/dev/null", O_RDWR);
	CHECK_OK(null);
	CHECK_ERRNO(group_add(consumer, null), EINVAL);
	container = vfio_container_open();
	CHECK_ERRNO(group_add(consumer, container), EINVAL);
	CHECK_ERRNO(group_add(consumer, 4321), EBADF);
	CHECK_ERRNO(group_del(consumer, 12345), ENOENT);
	close(container);
	close(null);
	close(consumer);
	return TEST_PASS;
}

static int test_no_container(void)
{
	int consumer = consumer_open(), group;

	CHECK_OK(consumer);
	group = vfio_group_open(edu_group_id());
	CHECK_ERRNO(group_add(consumer, group), EINVAL);
	close(group);
	close(consumer);
	return TEST_PASS;
}

static int test_no_iommu(void)
{
	int consumer = consumer_open(), group, container;

	CHECK_OK(consumer);
	container = vfio_container_open();
	group = vfio_group_open(edu_group_id());
	vfio_group_set_container(group, container);
	CHECK_ERRNO(group_add(consumer, group), EINVAL);
	close(group);
	close(container);
	close(consumer);
	return TEST_PASS;
}

static int test_get_returns_iommu_id(void)
{
	int consumer = consumer_open(), group, container, id = edu_group_id();

	CHECK_OK(consumer);
	ready_group(id, NULL, &container, &group);
	CHECK_EQ(group_add(consumer, group), id);
	CHECK_ERRNO(group_add(consumer, group), EEXIST);
	/* The container cannot be pulled from under the external user. */
	CHECK_ERRNO(ioctl(group, VFIO_GROUP_UNSET_CONTAINER), EBUSY);
	CHECK_OK(group_del(consumer, id));
	CHECK_ERRNO(group_del(consumer, id), ENOENT);
	CHECK_OK(ioctl(group, VFIO_GROUP_UNSET_CONTAINER));
	close(group);
	close(container);
	close(consumer);
	return TEST_PASS;
}

/*
 * User space closes everything; the external user keeps the container,
 * its mapping and the pinned pages until its put.
 */
static int test_holds_container_alive(void)
{
	int consumer = consumer_open(), group, container, id = edu_group_id();
	void *buf = alloc_buffer(MAP_SIZE);
	long before = locked_vm_kb(0);

	CHECK_OK(consumer);
	ready_group(id, buf, &container, &group);
	CHECK_EQ(locked_vm_kb(0) - before, MAP_SIZE / 1024);
	CHECK_EQ(group_add(consumer, group), id);

	close(group);
	close(container);
	/* Still pinned and charged: the container is alive. */
	CHECK_EQ(locked_vm_kb(0) - before, MAP_SIZE / 1024);
	/* The group is still in use: a new open must wait for the put. */
	CHECK_ERRNO(__vfio_group_open(id), EBUSY);

	CHECK_OK(group_del(consumer, id));
	CHECK_EQ(locked_vm_kb(0), before);
	group = vfio_group_open(id);
	close(group);
	close(consumer);
	return TEST_PASS;
}

/* Closing the consumer (a VM going away) puts what it holds. */
static int test_consumer_close_puts(void)
{
	int consumer = consumer_open(), group, container, id = edu_group_id();
	void *buf = alloc_buffer(MAP_SIZE);
	long before = locked_vm_kb(0);

	CHECK_OK(consumer);
	ready_group(id, buf, &container, &group);
	CHECK_EQ(group_add(consumer, group), id);
	close(group);
	close(container);
	close(consumer);
	CHECK_EQ(locked_vm_kb(0), before);
	group = vfio_group_open(id);
	close(group);
	return TEST_PASS;
}

static int read_leaks(void)
{
	char buf[16] = "";
	int fd = open("/sys/kernel/debug/vfio_consumer/leaks", O_RDWR);

	if (fd < 0 || read(fd, buf, sizeof(buf) - 1) < 0)
		return -1;
	close(fd);
	return atoi(buf);
}

static int release_leaks(void)
{
	int fd = open("/sys/kernel/debug/vfio_consumer/leaks", O_WRONLY);
	int ret = write(fd, "release", 7) == 7 ? 0 : -1;

	close(fd);
	return ret;
}

/* The leak mode really leaks: not even closing the consumer puts it. */
static int test_leak_outlives_consumer(void)
{
	int consumer = consumer_open(), group, container, id = edu_group_id();
	void *buf = alloc_buffer(MAP_SIZE);
	long before = locked_vm_kb(0);

	CHECK_OK(consumer);
	ready_group(id, buf, &container, &group);
	CHECK_EQ(ioctl(consumer, VFIO_CONSUMER_GROUP_LEAK, &group), id);
	close(group);
	close(container);
	close(consumer);
	CHECK_EQ(read_leaks(), 1);
	CHECK_EQ(locked_vm_kb(0) - before, MAP_SIZE / 1024);
	CHECK_ERRNO(__vfio_group_open(id), EBUSY);

	CHECK_OK(release_leaks());
	CHECK_EQ(read_leaks(), 0);
	CHECK_EQ(locked_vm_kb(0), before);
	close(vfio_group_open(id));
	return TEST_PASS;
}

/*
 * edu, the group's one device, is unbound while an external user holds the
 * group: the unbind waits for the put, the container keeping its map
 * meanwhile, then completes.  edu is bound again afterwards.
 */
static int test_unbind_waits_for_external_user(void)
{
	int consumer = consumer_open(), group, container, id = edu_group_id();
	void *buf = alloc_buffer(MAP_SIZE);
	long before = locked_vm_kb(0);
	char bdf[32], drv[64];
	pid_t child;

	CHECK_OK(consumer);
	vfio_pci_find(EDU_VENDOR, EDU_DEVICE, bdf, sizeof(bdf));
	ready_group(id, buf, &container, &group);
	CHECK_EQ(group_add(consumer, group), id);
	close(group);
	close(container);

	child = write_str_async("/sys/bus/pci/drivers/vfio-pci/unbind", bdf);
	CHECK(child > 0);
	CHECK_EQ(wait_child(child, 1000), -1);
	CHECK_EQ(locked_vm_kb(0) - before, MAP_SIZE / 1024);
	CHECK_OK(group_del(consumer, id));
	CHECK_EQ(wait_child(child, 10000), 0);
	CHECK_EQ(pci_driver_of(bdf, drv, sizeof(drv)), -ENOENT);
	CHECK_EQ(locked_vm_kb(0), before);

	/* driver_override still names vfio-pci. */
	CHECK_OK(write_str("/sys/bus/pci/drivers_probe", bdf));
	wait_group_node(id);
	close(vfio_group_open(id));
	close(consumer);
	return TEST_PASS;
}

struct race {
	int consumer;
	int group;
	int id;
	int iterations;
	int added;	/* successful adds */
	int errors;	/* failures other than the expected EBADF/EINVAL/EEXIST */
};

static void *race_add_del(void *arg)
{
	struct race *r = arg;
	int i, ret;

	for (i = 0; i < r->iterations; i++) {
		ret = group_add(r->consumer, r->group);
		if (ret == r->id) {
			__atomic_add_fetch(&r->added, 1, __ATOMIC_RELAXED);
			if (group_del(r->consumer, r->id) && errno != ENOENT)
				__atomic_add_fetch(&r->errors, 1, __ATOMIC_RELAXED);
		} else if (errno != EBADF && errno != EINVAL && errno != EEXIST) {
			__atomic_add_fetch(&r->errors, 1, __ATOMIC_RELAXED);
		}
	}
	return NULL;
}

/*
 * Many threads get and put while the main thread closes the group and
 * container fds under them.  Afterwards nothing is held: the group opens
 * again and nothing stays charged.
 */
static int test_race_with_close(void)
{
	enum { THREADS = 8 };
	pthread_t th[THREADS];
	struct race r = { .iterations = 2000 };
	long before = locked_vm_kb(0);
	void *buf = alloc_buffer(MAP_SIZE);
	int container, round, i;

	r.id = edu_group_id();
	r.consumer = consumer_open();
	CHECK_OK(r.consumer);
	for (round = 0; round < 5; round++) {
		ready_group(r.id, buf, &container, &r.group);
		for (i = 0; i < THREADS; i++)
			CHECK(!pthread_create(&th[i], NULL, race_add_del, &r));
		usleep(2000 * (round + 1));
		close(container);
		close(r.group);
		for (i = 0; i < THREADS; i++)
			pthread_join(th[i], NULL);
		CHECK_EQ(r.errors, 0);
		/* Whatever the threads still hold goes with the consumer. */
		close(r.consumer);
		r.consumer = consumer_open();
		CHECK_EQ(locked_vm_kb(0), before);
		close(vfio_group_open(r.id));
	}
	printf("# %d successful gets raced against close\n", r.added);
	CHECK(r.added > 0);
	close(r.consumer);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_not_a_group),
	TEST(test_no_container),
	TEST(test_no_iommu),
	TEST(test_get_returns_iommu_id),
	TEST(test_holds_container_alive),
	TEST(test_consumer_close_puts),
	TEST(test_leak_outlives_consumer),
	TEST(test_unbind_waits_for_external_user),
	TEST(test_race_with_close),
};

int main(int argc, char **argv)
{
	return RUN_TESTS_FORKED("external_user", tests, argc, argv);
}
