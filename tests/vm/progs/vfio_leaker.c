// SPDX-License-Identifier: GPL-2.0
/*
 * Known external-user references for vfio-leak's ground truth, through the
 * consumer module (kernel/testing/vfio_consumer.c, /dev/vfio-consumer).
 * It opens edu's group in a container with TYPE1v2, then either
 *
 *   --leak K    takes K external-user references with GROUP_LEAK, which
 *               the module forgets on purpose (nobody ever puts them), or
 *   --clean K   does K GROUP_ADD + GROUP_DEL pairs (every get put),
 *
 * closes every fd it has (group, container, consumer) and, with --hold,
 * sleeps SECS before exiting.  Prints one line:
 *   pid=P leaks=K clean=C group=G
 * The leaked references stay until "release" is written to
 * /sys/kernel/debug/vfio_consumer/leaks or the module is unloaded.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <vfioscope/vfio_consumer.h>

#include "vfio_util.h"

static void usage(void)
{
	fprintf(stderr, "usage: vfio_leaker [--leak K] [--clean K] [--hold SECS]\n");
	exit(2);
}

static void consumer_ioctl(int consumer, unsigned long cmd, int arg, const char *what)
{
	if (ioctl(consumer, cmd, &arg) < 0) {
		perror(what);
		exit(1);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "leak", required_argument, NULL, 'l' },
		{ "clean", required_argument, NULL, 'c' },
		{ "hold", required_argument, NULL, 'H' },
		{ }
	};
	unsigned long leaks = 0, clean = 0, hold = 0, i;
	int consumer, container, group, id, c;
	char bdf[32];

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': leaks = strtoul(optarg, NULL, 0); break;
		case 'c': clean = strtoul(optarg, NULL, 0); break;
		case 'H': hold = strtoul(optarg, NULL, 0); break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();

	consumer = open("/dev/vfio-consumer", O_RDWR | O_CLOEXEC);
	if (consumer < 0) {
		perror("open /dev/vfio-consumer");
		return 1;
	}
	vfio_pci_find(EDU_VENDOR, EDU_DEVICE, bdf, sizeof(bdf));
	id = vfio_iommu_group_of(bdf);
	container = vfio_container_open();
	group = vfio_group_open(id);
	vfio_group_set_container(group, container);
	vfio_set_iommu(container, VFIO_TYPE1v2_IOMMU);

	for (i = 0; i < clean; i++) {
		consumer_ioctl(consumer, VFIO_CONSUMER_GROUP_ADD, group, "GROUP_ADD");
		consumer_ioctl(consumer, VFIO_CONSUMER_GROUP_DEL, id, "GROUP_DEL");
	}
	for (i = 0; i < leaks; i++)
		consumer_ioctl(consumer, VFIO_CONSUMER_GROUP_LEAK, group, "GROUP_LEAK");

	close(group);
	close(container);
	close(consumer);
	printf("pid=%d leaks=%lu clean=%lu group=%d\n", getpid(), leaks, clean, id);
	fflush(stdout);
	if (hold)
		sleep(hold);
	return 0;
}
