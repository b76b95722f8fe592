// SPDX-License-Identifier: GPL-2.0
/*
 * The smallest guest workloads that hit QEMU 7.2's multi-threaded TCG bug
 * (docs/reliability.md, finding 6): while one vCPU changes the guest-
 * physical memory map (a bystander device's memory decode, toggled through
 * sysfs: no VFIO on that side), the other vCPU's MMIO access can be sent to
 * the wrong memory region.
 *
 *   tcg_mmio_race BYSTANDER_BDF SECONDS flush|read
 *
 * flush: CPU 0 maps and unmaps through VFIO (edu), each unmap an IOTLB
 *        flush, an MMIO write of the VT-d queue tail.  A lost write leaves
 *        the CPU spinning in qi_submit_sync() with interrupts off, on our
 *        stack and on the in-tree one alike.
 * read:  CPU 0 reads e1000e's STATUS register through a VFIO BAR mmap and
 *        counts the reads that return anything else.
 * On the bench's single-threaded TCG both run to the end, with no wrong
 * read.  The bystander's BAR must lie below the IOMMU's registers and
 * e1000e's BAR0, so that its removal renumbers their regions.
 */
#define _GNU_SOURCE
#include <err.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "check.h"
#include "vfio_util.h"

static atomic_int stop;

static void pin_to_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	if (sched_setaffinity(0, sizeof(set), &set))
		err(1, "sched_setaffinity(%d)", cpu);
}

struct worker {
	bool read;
	struct vfio_dev d;
	void *buf;
	long ops, wrong;
	uint32_t status;	/* e1000e's STATUS before the race */
};

#define E1000E_STATUS	0x8

static void *worker_thread(void *arg)
{
	struct worker *w = arg;

	pin_to_cpu(0);
	while (!stop) {
		if (w->read) {
			uint32_t v = *(volatile uint32_t *)((char *)w->d.bar0 + E1000E_STATUS);

			if (v != w->status && w->wrong++ < 5)
				printf("# read 0x%08x from e1000e STATUS, not 0x%08x\n", v, w->status);
		} else if (__vfio_dma_map(w->d.container, w->buf, 0, PAGE,
					  VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE) ||
			   __vfio_dma_unmap(w->d.container, 0, PAGE, 0, NULL)) {
			/* Each unmap ends in an IOTLB flush: an MMIO write. */
			errx(1, "map/unmap failed");
		}
		w->ops++;
	}
	return NULL;
}

struct toggler {
	char path[128];
	long toggles;
};

/* Memory decode off and on: QEMU unmaps and remaps the device's BARs. */
static void *toggler_thread(void *arg)
{
	struct toggler *t = arg;
	uint16_t cmd;
	int fd;

	pin_to_cpu(1);
	fd = open(t->path, O_RDWR);
	if (fd < 0 || pread(fd, &cmd, 2, PCI_COMMAND) != 2)
		err(1, "cannot read %s", t->path);
	while (!stop) {
		uint16_t off = cmd & ~PCI_COMMAND_MEMORY, on = cmd | PCI_COMMAND_MEMORY;

		if (pwrite(fd, &off, 2, PCI_COMMAND) != 2 ||
		    pwrite(fd, &on, 2, PCI_COMMAND) != 2)
			err(1, "cannot write %s", t->path);
		t->toggles++;
	}
	/* Leave the device as it was. */
	if (pwrite(fd, &cmd, 2, PCI_COMMAND) != 2)
		err(1, "cannot restore %s", t->path);
	close(fd);
	return NULL;
}

int main(int argc, char **argv)
{
	struct worker w = { .buf = alloc_buffer(PAGE) };
	struct toggler t = {};
	pthread_t wt, tt;

	if (argc != 4 || (strcmp(argv[3], "flush") && strcmp(argv[3], "read"))) {
		fprintf(stderr, "usage: %s BYSTANDER_BDF SECONDS flush|read\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	snprintf(t.path, sizeof(t.path), "/sys/bus/pci/devices/%s/config", argv[1]);
	w.read = !strcmp(argv[3], "read");
	if (w.read) {
		vfio_dev_open(&w.d, E1000E_VENDOR, E1000E_DEVICE, VFIO_TYPE1v2_IOMMU);
		vfio_dev_map_bar0(&w.d);
		/* After the open's reset the link comes up: let it settle. */
		for (int same = 0, i = 0; same < 1000; i++) {
			uint32_t v = *(volatile uint32_t *)((char *)w.d.bar0 + E1000E_STATUS);

			same = v == w.status ? same + 1 : 0;
			w.status = v;
			if (i % 1000 == 999)
				usleep(100000);
			if (i > 100000)
				errx(1, "e1000e STATUS never settles");
		}
	} else {
		vfio_dev_open(&w.d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU);
	}

	if (pthread_create(&wt, NULL, worker_thread, &w) ||
	    pthread_create(&tt, NULL, toggler_thread, &t))
		errx(1, "pthread_create failed");
	sleep(atoi(argv[2]));
	stop = 1;
	pthread_join(wt, NULL);
	pthread_join(tt, NULL);
	vfio_dev_close(&w.d);

	printf("# %s s: %ld %s on CPU 0 (%ld wrong), %ld decode toggles of %s on CPU 1\n",
	       argv[2], w.ops, w.read ? "reads of e1000e STATUS" :
	       "map+unmap pairs (IOTLB flushes)", w.wrong, t.toggles, argv[1]);
	if (!w.ops || !t.toggles || w.wrong) {
		printf("FAIL: tcg_mmio_race %s\n", argv[3]);
		return 1;
	}
	printf("PASS: tcg_mmio_race %s\n", argv[3]);
	return 0;
}
