// SPDX-License-Identifier: GPL-2.0
/*
 * A VFIO client with known numbers: the ground truth for the tracepoint and
 * tool tests.  It opens edu the standard way (container, group, TYPE1v2,
 * device fd) and does N maps of SIZE bytes, each followed by its unmap
 * unless --keep, timing every call itself.
 *
 *   vfio_workload [-n N] [-s SIZE] [--keep] [--hold SECS] [--then-unmap K] [--dma]
 *                 [--e1000e] [--device-only]
 *
 * SIZE is bytes, or with a K, M or G suffix (64K, 2M).
 *
 * --keep    leave the N mappings in place (at N distinct IOVAs) until exit
 * --hold    wait SECS before tearing down (tools can watch live state), or
 *           less: SIGUSR1 ends the wait, so a test that is done with the
 *           live state need not sit out the rest (SECS is its bound)
 * --then-unmap  with --keep: wait for a line on stdin, unmap the first K
 *           mappings, print "unmapped=K", wait for another line, then tear
 *           down.  Tools started before the first line meet a container
 *           mapped before them; the test decides when, no sleep does.
 * --dma     after each map, run an edu DMA round trip through it
 * --e1000e  use the bench's e1000e rather than edu: a second device, so a
 *           second container can live beside edu's (no --dma)
 * --device-only  with --keep: after the maps, close the container and group
 *           fds, print the line below, and wait for a line on stdin before
 *           closing the device fd: a container only an open device holds
 *
 * Prints one line:  pid=P maps=N size=S map_ns_p50=X unmap_ns_p50=Y
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common.h"
#include "vfio_util.h"

#define IOVA_BASE 0x100000ULL

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, size_t n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

/* Blocks until a line (or EOF) on stdin: the test's go-ahead. */
static void wait_line(void)
{
	char line[16];

	/* EOF is a go-ahead too: a test that died must not leave us hanging. */
	if (!fgets(line, sizeof(line), stdin))
		return;
}

/*
 * SIGUSR1 is blocked from the start: one sent before the wait begins stays
 * pending and ends it at once, where a handler and sleep() would miss it.
 */
static void hold_prepare(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGUSR1);
	sigprocmask(SIG_BLOCK, set, NULL);
}

static void hold_wait(const sigset_t *set, unsigned long secs)
{
	struct timespec left = { .tv_sec = secs };

	/* EINTR (a stop and continue) restarts the full wait: the bound only. */
	while (sigtimedwait(set, NULL, &left) < 0 && errno == EINTR)
		;
}

static void usage(void)
{
	fprintf(stderr, "usage: vfio_workload [-n N] [-s SIZE] [--keep] [--hold SECS] [--then-unmap K] [--dma] [--e1000e] [--device-only]\n");
	exit(2);
}

/* edu copies a pattern RAM -> device -> RAM through the mapping at iova. */
static void dma_round_trip(struct vfio_dev *d, uint8_t *buf, uint64_t iova)
{
	size_t len = 256;

	memset(buf, 0xa5, len);
	memset(buf + len, 0, len);
	if (__edu_dma(d, iova, 0, len, false) ||
	    __edu_dma(d, iova + len, 0, len, true) ||
	    memcmp(buf, buf + len, len)) {
		fprintf(stderr, "vfio_workload: edu DMA round trip at iova 0x%llx failed\n",
			(unsigned long long)iova);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "keep", no_argument, NULL, 'k' },
		{ "hold", required_argument, NULL, 'H' },
		{ "then-unmap", required_argument, NULL, 'u' },
		{ "dma", no_argument, NULL, 'd' },
		{ "e1000e", no_argument, NULL, 'e' },
		{ "device-only", no_argument, NULL, 'D' },
		{ }
	};
	unsigned long n = 100, hold = 0, then_unmap = 0, i;
	__u64 size = 4096;
	int keep = 0, dma = 0, e1000e = 0, device_only = 0, c;
	uint64_t *map_ns, *unmap_ns, t;
	struct vfio_dev d;
	sigset_t usr1;
	uint8_t *buf;

	while ((c = getopt_long(argc, argv, "n:s:", opts, NULL)) != -1) {
		switch (c) {
		case 'n': n = strtoul(optarg, NULL, 0); break;
		case 's':
			/* 4096, 64K, 2M: the tools' own size syntax */
			if (parse_size(optarg, &size))
				usage();
			break;
		case 'k': keep = 1; break;
		case 'H': hold = strtoul(optarg, NULL, 0); break;
		case 'u': then_unmap = strtoul(optarg, NULL, 0); break;
		case 'd': dma = 1; break;
		case 'e': e1000e = 1; break;
		case 'D': device_only = 1; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (then_unmap && (!keep || then_unmap > n)) {
		fprintf(stderr, "vfio_workload: --then-unmap K needs --keep and K <= N\n");
		return 2;
	}
	if (device_only && (!keep || then_unmap)) {
		fprintf(stderr, "vfio_workload: --device-only needs --keep, and no --then-unmap\n");
		return 2;
	}
	if (dma && e1000e) {
		fprintf(stderr, "vfio_workload: --dma needs edu, not --e1000e\n");
		return 2;
	}
	if (!n || !size || size % 4096) {
		fprintf(stderr, "vfio_workload: -n must be > 0 and -s a multiple of 4096\n");
		return 2;
	}
	if (IOVA_BASE + (keep ? n : 1) * size > EDU_IOVA_LIMIT) {
		fprintf(stderr, "vfio_workload: %lu maps of %llu bytes do not fit edu's %llu MiB DMA window%s\n",
			keep ? n : 1, (unsigned long long)size, EDU_IOVA_LIMIT >> 20,
			keep ? " (--keep puts each at its own IOVA)" : "");
		return 2;
	}

	hold_prepare(&usr1);
	map_ns = calloc(n, sizeof(*map_ns));
	unmap_ns = calloc(n, sizeof(*unmap_ns));
	if (!map_ns || !unmap_ns)
		return 1;
	if (e1000e)
		vfio_dev_open(&d, E1000E_VENDOR, E1000E_DEVICE, VFIO_TYPE1v2_IOMMU);
	else
		vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	if (dma)
		vfio_dev_map_bar0(&d);
	buf = alloc_buffer(size);

	for (i = 0; i < n; i++) {
		uint64_t iova = IOVA_BASE + (keep ? i * size : 0);

		t = now_ns();
		vfio_dma_map(d.container, buf, iova, size);
		map_ns[i] = now_ns() - t;
		if (dma)
			dma_round_trip(&d, buf, iova);
		if (keep)
			continue;
		t = now_ns();
		vfio_dma_unmap(d.container, iova, size);
		unmap_ns[i] = now_ns() - t;
	}
	if (device_only) {
		close(d.container);
		close(d.group);
		d.container = d.group = -1;
	}
	printf("pid=%d maps=%lu size=%llu map_ns_p50=%llu unmap_ns_p50=%llu\n",
	       getpid(), n, (unsigned long long)size, (unsigned long long)median(map_ns, n),
	       keep ? 0ULL : (unsigned long long)median(unmap_ns, n));
	fflush(stdout);
	if (hold)
		hold_wait(&usr1, hold);
	if (device_only)
		wait_line();
	if (then_unmap) {
		wait_line();
		for (i = 0; i < then_unmap; i++)
			vfio_dma_unmap(d.container, IOVA_BASE + i * size, size);
		printf("unmapped=%lu\n", then_unmap);
		fflush(stdout);
		wait_line();
	}
	vfio_dev_close(&d);
	return 0;
}
