// SPDX-License-Identifier: GPL-2.0
/*
 * A map storm with known numbers: the ground truth for the tools under
 * concurrency (tests/vm/guest/tools-storm.sh).
 *
 *   vfio_storm [-p PROCS] [-t THREADS] [-r ROUNDS] [-b BATCH] [-e ERRORS] [-c 1|2]
 *
 * The parent opens one type1v2 container per device, edu's and, with -c 2
 * (the default), e1000e's: two groups are all the bench has that can be
 * used, and a group is in one container at a time.  Then it forks PROCS
 * processes; process i maps into container i % C, so with -c 2 and three
 * processes edu's container is shared by two processes.  Each process runs
 * THREADS threads on its container.  Thread t of process i owns the IOVA
 * range of slot i * THREADS + t and maps buffers of 4 KiB << (t % 3).
 * Every thread does ROUNDS rounds of: BATCH maps at distinct IOVAs, in its
 * first ERRORS rounds one map more over its first IOVA (which must fail
 * with EEXIST), then BATCH unmaps, each of which must unmap exactly its
 * size.  All threads of all processes start at one barrier.
 *
 * Whatever fails is fatal: the numbers printed are those of calls that did
 * what was asked.  Each process prints, once done,
 *   proc=I pid=P container=DEV threads=T maps=N unmaps=N map_bytes=B unmap_bytes=B errors=E pages=N
 * (errors: the failed maps; pages: pages pinned by its maps) and the
 * parent, after all exited,
 *   storm procs=P threads=T containers=C maps=N unmaps=N map_bytes=B unmap_bytes=B errors=E pages=N max_size=S max_inflight=M secs=X
 * (the sums of the processes' lines; max_size: the largest map) where max_inflight is the largest number of MAP/UNMAP ioctls seen under
 * way at once, by all threads of all processes: the storm was concurrent
 * only if it is above 1.  The parent closes the containers last, after
 * every mapping was unmapped: their teardown unmaps nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "vfio_util.h"

#define IOVA_BASE	0x100000ULL
#define MAX_PROCS	16
#define MAX_THREADS	16
#define MAX_BATCH	64
#define SIZE_SHIFTS	3		/* sizes 4, 8 and 16 KiB */
#define SLOT_SIZE	((uint64_t)MAX_BATCH * (PAGE << (SIZE_SHIFTS - 1)))

struct counts {
	uint64_t maps, unmaps, map_bytes, unmap_bytes, errors, pages;
};

/* Shared by every process (MAP_SHARED before fork). */
struct shared {
	pthread_barrier_t start;
	atomic_int inflight;
	atomic_int max_inflight;
	struct counts procs[MAX_PROCS];	/* each written by its process */
};

struct thread {
	pthread_t tid;
	int proc, idx, container;
	struct counts n;
};

static struct shared *sh;
static unsigned long nr_procs = 3, nr_threads = 4, rounds = 25, batch = 8, nr_errors = 2;
static unsigned long nr_containers = 2;

static const struct {
	const char *name;
	uint16_t vendor, device;
} devs[] = {
	{ "edu", EDU_VENDOR, EDU_DEVICE },
	{ "e1000e", E1000E_VENDOR, E1000E_DEVICE },
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void inflight_begin(void)
{
	int n = atomic_fetch_add(&sh->inflight, 1) + 1;
	int max = atomic_load(&sh->max_inflight);

	while (n > max && !atomic_compare_exchange_weak(&sh->max_inflight, &max, n))
		;
}

static void inflight_end(void)
{
	atomic_fetch_sub(&sh->inflight, 1);
}

static void fatal(struct thread *th, const char *what, uint64_t iova, int err)
{
	fprintf(stderr, "vfio_storm: process %d thread %d: %s at iova 0x%llx: %s\n",
		th->proc, th->idx, what, (unsigned long long)iova, strerror(-err));
	exit(1);
}

static void *storm_thread(void *arg)
{
	struct thread *th = arg;
	uint64_t size = PAGE << (th->idx % SIZE_SHIFTS);
	uint64_t base = IOVA_BASE + (uint64_t)(th->proc * nr_threads + th->idx) * SLOT_SIZE;
	uint8_t *buf = alloc_buffer(batch * size);
	unsigned long r, k;
	uint64_t done;
	int ret;

	pthread_barrier_wait(&sh->start);
	for (r = 0; r < rounds; r++) {
		for (k = 0; k < batch; k++) {
			inflight_begin();
			ret = __vfio_dma_map(th->container, buf + k * size, base + k * size, size,
					     VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
			inflight_end();
			if (ret)
				fatal(th, "map", base + k * size, ret);
			th->n.maps++;
			th->n.map_bytes += size;
			th->n.pages += size / PAGE;
		}
		if (r < nr_errors) {
			inflight_begin();
			ret = __vfio_dma_map(th->container, buf, base, size,
					     VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE);
			inflight_end();
			if (ret != -EEXIST)
				fatal(th, "a map over a mapped IOVA did not fail with EEXIST", base,
				      ret ? ret : -EINVAL);
			th->n.errors++;
		}
		for (k = 0; k < batch; k++) {
			inflight_begin();
			ret = __vfio_dma_unmap(th->container, base + k * size, size, 0, &done);
			inflight_end();
			if (ret)
				fatal(th, "unmap", base + k * size, ret);
			if (done != size)
				fatal(th, "unmap of a wrong size", base + k * size, -EINVAL);
			th->n.unmaps++;
			th->n.unmap_bytes += size;
		}
	}
	munmap(buf, batch * size);
	return NULL;
}

static void counts_add(struct counts *sum, const struct counts *n)
{
	sum->maps += n->maps;
	sum->unmaps += n->unmaps;
	sum->map_bytes += n->map_bytes;
	sum->unmap_bytes += n->unmap_bytes;
	sum->errors += n->errors;
	sum->pages += n->pages;
}

static int storm_proc(int proc, int container)
{
	struct thread th[MAX_THREADS] = {};
	struct counts sum = {};
	unsigned long t;
	int ret;

	for (t = 0; t < nr_threads; t++) {
		th[t].proc = proc;
		th[t].idx = t;
		th[t].container = container;
		ret = pthread_create(&th[t].tid, NULL, storm_thread, &th[t]);
		if (ret) {
			fprintf(stderr, "vfio_storm: pthread_create: %s\n", strerror(ret));
			return 1;
		}
	}
	for (t = 0; t < nr_threads; t++) {
		pthread_join(th[t].tid, NULL);
		counts_add(&sum, &th[t].n);
	}
	sh->procs[proc] = sum;
	printf("proc=%d pid=%d container=%s threads=%lu maps=%llu unmaps=%llu map_bytes=%llu unmap_bytes=%llu errors=%llu pages=%llu\n",
	       proc, getpid(), devs[proc % nr_containers].name, nr_threads,
	       (unsigned long long)sum.maps, (unsigned long long)sum.unmaps,
	       (unsigned long long)sum.map_bytes, (unsigned long long)sum.unmap_bytes,
	       (unsigned long long)sum.errors, (unsigned long long)sum.pages);
	fflush(stdout);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: vfio_storm [-p PROCS] [-t THREADS] [-r ROUNDS] [-b BATCH] [-e ERRORS] [-c 1|2]\n");
	exit(2);
}

static unsigned long arg_ul(const char *s, unsigned long min, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v < min || v > max)
		usage();
	return v;
}

int main(int argc, char **argv)
{
	pthread_barrierattr_t attr;
	int containers[2], groups[2];
	pid_t pids[MAX_PROCS];
	struct counts sum = {};
	unsigned long i;
	int c, status, rc = 0;
	double t0;

	while ((c = getopt(argc, argv, "p:t:r:b:e:c:")) != -1) {
		switch (c) {
		case 'p': nr_procs = arg_ul(optarg, 1, MAX_PROCS); break;
		case 't': nr_threads = arg_ul(optarg, 1, MAX_THREADS); break;
		case 'r': rounds = arg_ul(optarg, 1, 1000000); break;
		case 'b': batch = arg_ul(optarg, 1, MAX_BATCH); break;
		case 'e': nr_errors = arg_ul(optarg, 0, 1000000); break;
		case 'c': nr_containers = arg_ul(optarg, 1, 2); break;
		default: usage();
		}
	}
	if (optind != argc || nr_errors > rounds)
		usage();
	/* Every IOVA within edu's 28-bit DMA window, though nothing does DMA. */
	if (IOVA_BASE + nr_procs * nr_threads * SLOT_SIZE > EDU_IOVA_LIMIT)
		usage();

	for (i = 0; i < nr_containers; i++) {
		char bdf[32];

		vfio_pci_find(devs[i].vendor, devs[i].device, bdf, sizeof(bdf));
		containers[i] = vfio_container_open();
		groups[i] = vfio_group_open(vfio_iommu_group_of(bdf));
		vfio_group_set_container(groups[i], containers[i]);
		vfio_set_iommu(containers[i], VFIO_TYPE1v2_IOMMU);
	}

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		perror("vfio_storm: mmap");
		return 1;
	}
	pthread_barrierattr_init(&attr);
	pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&sh->start, &attr, nr_procs * nr_threads);

	t0 = now_s();
	for (i = 0; i < nr_procs; i++) {
		pids[i] = fork();
		if (pids[i] < 0) {
			perror("vfio_storm: fork");
			return 1;
		}
		if (!pids[i])
			_exit(storm_proc(i, containers[i % nr_containers]));
	}
	for (i = 0; i < nr_procs; i++) {
		if (waitpid(pids[i], &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
			fprintf(stderr, "vfio_storm: process %lu (pid %d) failed\n", i, pids[i]);
			rc = 1;
		}
	}
	if (rc)
		return rc;

	for (i = 0; i < nr_procs; i++)
		counts_add(&sum, &sh->procs[i]);
	printf("storm procs=%lu threads=%lu containers=%lu maps=%llu unmaps=%llu map_bytes=%llu unmap_bytes=%llu errors=%llu pages=%llu max_size=%llu max_inflight=%d secs=%.2f\n",
	       nr_procs, nr_threads, nr_containers, (unsigned long long)sum.maps,
	       (unsigned long long)sum.unmaps, (unsigned long long)sum.map_bytes,
	       (unsigned long long)sum.unmap_bytes, (unsigned long long)sum.errors,
	       (unsigned long long)sum.pages,
	       PAGE << ((nr_threads < SIZE_SHIFTS ? nr_threads : SIZE_SHIFTS) - 1),
	       atomic_load(&sh->max_inflight), now_s() - t0);
	fflush(stdout);
	for (i = 0; i < nr_containers; i++) {
		close(groups[i]);
		close(containers[i]);
	}
	return 0;
}
