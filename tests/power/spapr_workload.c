// SPDX-License-Identifier: GPL-2.0
/*
 * A known SPAPR TCE v1 workload for the tools in the POWER guest
 * (tests/vm/guest/power-tools.sh): edu, bound to vfio-pci, in a v1
 * container; N maps of SIZE bytes each unmapped again, then K more maps
 * left for the container's teardown (the group's detach at exit clears
 * them).  Every map is checked with an edu DMA through it, so the counts
 * the tools show are of operations that reached the device.
 *
 *   spapr_workload N K SIZE
 *
 * Prints one line: "workload: maps=N+K unmaps=N teardown_bytes=K*SIZE".
 * Exits 1 on any failure, with one message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "vfio_util.h"

#define IOVA_BASE	0x100000ULL	/* below edu's 28-bit DMA limit */

static void die(const char *what, long ret)
{
	fprintf(stderr, "spapr_workload: %s: %s\n", what,
		ret < 0 ? strerror((int)-ret) : "returned non-zero");
	exit(EXIT_FAILURE);
}

static long ioctl_ret(int fd, unsigned long cmd, void *arg)
{
	long r = ioctl(fd, cmd, arg);

	return r < 0 ? -errno : r;
}

static void map(struct vfio_dev *d, void *vaddr, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uintptr_t)vaddr, .iova = iova, .size = size,
	};
	long ret = ioctl_ret(d->container, VFIO_IOMMU_MAP_DMA, &m);

	if (ret)
		die("MAP_DMA", ret);
}

static void unmap(struct vfio_dev *d, uint64_t iova, uint64_t size)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u), .iova = iova, .size = size,
	};
	long ret = ioctl_ret(d->container, VFIO_IOMMU_UNMAP_DMA, &u);

	if (ret)
		die("UNMAP_DMA", ret);
}

/* edu reads the mapping's first bytes: the map reached the TCE table. */
static void dma_check(struct vfio_dev *d, uint64_t iova)
{
	if (__edu_dma(d, iova, 0, 64, false))
		die("edu DMA through the new mapping", -EIO);
}

static unsigned long arg(const char *s, const char *name)
{
	char *end;
	unsigned long v = strtoul(s, &end, 0);

	if (!*s || *end) {
		fprintf(stderr, "spapr_workload: bad %s '%s'\n", name, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	struct vfio_dev d = {};
	unsigned long n, k, size, i;
	uint8_t *buf;
	long ret;

	if (argc != 4) {
		fprintf(stderr, "usage: spapr_workload N K SIZE\n");
		return 2;
	}
	n = arg(argv[1], "N");
	k = arg(argv[2], "K");
	size = arg(argv[3], "SIZE");
	if (!size || size % sysconf(_SC_PAGESIZE) ||
	    IOVA_BASE + (k + 1) * size > EDU_IOVA_LIMIT) {
		fprintf(stderr, "spapr_workload: SIZE must be a multiple of the page size, and K+1 maps must fit below edu's DMA limit\n");
		return 2;
	}

	ret = __vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_SPAPR_TCE_IOMMU);
	if (ret)
		die("opening edu in a SPAPR TCE v1 container", ret);
	ret = ioctl_ret(d.container, VFIO_IOMMU_ENABLE, NULL);
	if (ret)
		die("VFIO_IOMMU_ENABLE", ret);
	vfio_dev_map_bar0(&d);

	buf = mmap(NULL, (k + 1) * size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	if (buf == MAP_FAILED)
		die("mmap", -errno);

	for (i = 0; i < n; i++) {
		map(&d, buf, IOVA_BASE, size);
		dma_check(&d, IOVA_BASE);
		unmap(&d, IOVA_BASE, size);
	}
	for (i = 0; i < k; i++) {
		map(&d, buf + i * size, IOVA_BASE + i * size, size);
		dma_check(&d, IOVA_BASE + i * size);
	}
	printf("workload: maps=%lu unmaps=%lu teardown_bytes=%lu\n", n + k, n,
	       k * size);
	/* The exit closes the container: its group's detach clears the K. */
	return 0;
}
