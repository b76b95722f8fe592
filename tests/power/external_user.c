// SPDX-License-Identifier: GPL-2.0
/*
 * The external-user API on POWER, where KVM was its first user: KVM links
 * a guest's logical bus (LIOBN) to the IOMMU group it learns from
 * vfio_external_user_iommu_id(), and holds the group and its container
 * while the guest uses them.  kernel/testing/vfio_consumer.ko does what
 * KVM did (/dev/vfio-consumer, include/uapi/vfioscope/vfio_consumer.h).
 *
 * With edu in a SPAPR TCE v1 container, ENABLEd (the 1 GiB window charged
 * to VmLck) and one 64 KiB buffer mapped (16 TCEs, 16 page pins):
 *   - GROUP_ADD returns the IOMMU group id, the N of /dev/vfio/N: what
 *     KVM would link to the LIOBN;
 *   - the process closes its device, group and container fds: the
 *     consumer still holds the container, so the TCEs, their pins and the
 *     window's charge all stay;
 *   - GROUP_DEL puts it: the group's detach clears the TCEs (pins back to
 *     what they were), the container's release uncharges the window.
 * Our stack only: 6.1 has no external-user API (it went in 5.19).
 *
 *   external_user        one "ok"/"FAIL" line per check; exit 1 on failure
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <vfioscope/vfio_consumer.h>

#include "vfio_util.h"

#define IOVA		0x100000ULL
#define BUF_SIZE	0x10000ULL
#define TCE_PAGE	0x1000ULL

static int failures;

static void check(bool ok, const char *name, const char *fmt, long got,
		  long want)
{
	printf("%-4s %s: ", ok ? "ok" : "FAIL", name);
	printf(fmt, got);
	if (!ok)
		printf(", want %ld", want);
	printf("\n");
	failures += !ok;
}

#define CHECK_EQ(name, fmt, got, want) do {				\
	long _g = (got), _w = (want);					\
	check(_g == _w, name, fmt, _g, _w);				\
} while (0)

static int sysfs_group_id(const char *bdf)
{
	return vfio_iommu_group_of(bdf);
}

int main(void)
{
	struct vfio_iommu_type1_dma_map map = {
		.argsz = sizeof(map),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.iova = IOVA, .size = BUF_SIZE,
	};
	long vmlck0, pins0, vmlck_enabled;
	struct vfio_dev d;
	int consumer, id, ret;
	void *buf;

	setvbuf(stdout, NULL, _IOLBF, 0);
	vmlck0 = locked_vm_kb(0);
	pins0 = foll_pins_held();
	vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_SPAPR_TCE_IOMMU);
	CHECK_EQ("enable", "%ld", ioctl(d.container, VFIO_IOMMU_ENABLE), 0);
	vmlck_enabled = locked_vm_kb(0) - vmlck0;
	buf = alloc_buffer(BUF_SIZE);
	map.vaddr = (uintptr_t)buf;
	CHECK_EQ("map", "%ld", ioctl(d.container, VFIO_IOMMU_MAP_DMA, &map), 0);
	CHECK_EQ("map_pins", "pins=%ld", foll_pins_held() - pins0, BUF_SIZE / TCE_PAGE);

	consumer = open("/dev/vfio-consumer", O_RDWR);
	if (consumer < 0) {
		printf("FAIL open /dev/vfio-consumer: %s\n", strerror(errno));
		return EXIT_FAILURE;
	}
	id = ioctl(consumer, VFIO_CONSUMER_GROUP_ADD, &d.group);
	/* The id KVM would link to a LIOBN: the group's, /dev/vfio/<id>. */
	CHECK_EQ("group_add_iommu_id", "id=%ld", id, sysfs_group_id(d.bdf));
	CHECK_EQ("group_add_twice", "errno=%ld",
		 ioctl(consumer, VFIO_CONSUMER_GROUP_ADD, &d.group) < 0 ? errno : 0,
		 EEXIST);

	/* The process lets go of everything; the consumer holds on. */
	vfio_dev_close(&d);
	CHECK_EQ("closed_pins_held", "pins=%ld", foll_pins_held() - pins0,
		 BUF_SIZE / TCE_PAGE);
	CHECK_EQ("closed_window_charged", "VmLck_kB=%ld", locked_vm_kb(0) - vmlck0,
		 vmlck_enabled);

	ret = ioctl(consumer, VFIO_CONSUMER_GROUP_DEL, &id);
	CHECK_EQ("group_del", "%ld", ret, 0);
	CHECK_EQ("released_pins", "pins=%ld", foll_pins_held() - pins0, 0);
	CHECK_EQ("released_window_uncharged", "VmLck_kB=%ld",
		 locked_vm_kb(0) - vmlck0, 0);
	CHECK_EQ("group_del_again", "errno=%ld",
		 ioctl(consumer, VFIO_CONSUMER_GROUP_DEL, &id) < 0 ? errno : 0, ENOENT);
	close(consumer);

	printf("# external_user: window %ld kB charged while held, %d check(s) failed\n",
	       vmlck_enabled, failures);
	return failures ? EXIT_FAILURE : EXIT_SUCCESS;
}
