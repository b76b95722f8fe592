// SPDX-License-Identifier: GPL-2.0
/*
 * vfio_fuzz: a structure-aware, seeded fuzzer of the legacy VFIO uAPI.
 *
 *   vfio_fuzz [-s SEED] [-n OPS] [-t THREADS] [-p PROCS] [-v]
 *
 * PROCS processes (fork) of THREADS threads each share OPS operations.
 * The threads of a process share one table of fds (containers, groups,
 * device fds of edu and e1000e) and pick from it at random: open, close,
 * every container/group/device ioctl with valid, borderline and garbage
 * arguments (argsz, flags, iovas, vaddrs, sizes, eventfds, fds of the
 * wrong kind, bad pointers), read/write of every region, mmap/munmap and
 * touching the mmaps, MAP_DMA of BAR mmaps, and fork (a child runs a few
 * ops on the inherited fds, then exits).  Fds are closed under other
 * threads' feet on purpose.
 *
 * Replay: each thread draws from its own generator, seeded from (SEED,
 * process, thread), so a seed replays every thread's sequence of
 * operations; only their interleaving is up to the scheduler.  -t 1 -p 1
 * replays exactly.
 *
 * What is never done, because it would hurt QEMU or the fuzzer rather
 * than the driver: edu DMA registers (QEMU aborts on a DMA outside edu's
 * buffer), device register writes other than a few harmless edu ones
 * (none on e1000e, see add_dev()),
 * config writes to the power-management capability (D3), DMA maps of the
 * fuzzer's own stack or heap (a device could write there).
 *
 * After the run each process closes everything and checks its own VmLck
 * is 0.  With -D the run had kernel/fault.c's points armed (fuzz-faults.sh):
 * they are disarmed and their counts printed before anything else.  Prints the seed, then ops done per kind and the errnos seen;
 * ends with "PASS: vfio_fuzz/run" (or FAIL) for run_prog.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/pci_regs.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "vfio_util.h"

#define POOL_SIZE	(4ULL << 20)
#define SLOTS		24
#define MAX_MMAPS	8
#define RECENT		16
#define NR_EVENTFDS	8
#define FORK_OPS	24
#define MAX_ERRNO	140
#define E_SIGBUS	(MAX_ERRNO - 1)	/* a touch that took SIGBUS */

/* ---- operations and their statistics ------------------------------------- */

enum op {
	OP_OPEN_CONTAINER, OP_OPEN_GROUP, OP_CLOSE, OP_CONTAINER_IOCTL,
	OP_IOMMU_INFO, OP_MAP_DMA, OP_UNMAP_DMA, OP_GROUP_IOCTL,
	OP_GET_DEVICE_FD, OP_DEVICE_IOCTL, OP_SET_IRQS, OP_READ, OP_WRITE,
	OP_MMAP, OP_MUNMAP, OP_TOUCH, OP_RANDOM_IOCTL, OP_SETUP, OP_FORK, NR_OPS,
};

static const char *const op_names[NR_OPS] = {
	"open_container", "open_group", "close", "container_ioctl",
	"iommu_info", "map_dma", "unmap_dma", "group_ioctl",
	"get_device_fd", "device_ioctl", "set_irqs", "read", "write",
	"mmap", "munmap", "touch", "random_ioctl", "setup", "fork",
};

/* Relative frequency of each operation. */
static unsigned int op_weight[NR_OPS] = {
	[OP_OPEN_CONTAINER] = 4, [OP_OPEN_GROUP] = 5, [OP_CLOSE] = 6,
	[OP_CONTAINER_IOCTL] = 6, [OP_IOMMU_INFO] = 3, [OP_MAP_DMA] = 14,
	[OP_UNMAP_DMA] = 10, [OP_GROUP_IOCTL] = 10, [OP_GET_DEVICE_FD] = 6,
	[OP_DEVICE_IOCTL] = 7, [OP_SET_IRQS] = 7, [OP_READ] = 8,
	[OP_WRITE] = 6, [OP_MMAP] = 3, [OP_MUNMAP] = 2, [OP_TOUCH] = 3,
	[OP_RANDOM_IOCTL] = 4, [OP_SETUP] = 5, [OP_FORK] = 0 /* set from -f */,
};

/* Shared by all processes (MAP_SHARED). */
struct stats {
	atomic_ulong done[NR_OPS];
	atomic_ulong ok[NR_OPS];
	atomic_ulong err[NR_OPS][MAX_ERRNO];
	atomic_ulong failures;		/* post-run checks that failed */
	atomic_ulong fork_children;
};

static struct stats *stats;

static void count(enum op op, long ret, int err)
{
	atomic_fetch_add(&stats->done[op], 1);
	if (ret >= 0)
		atomic_fetch_add(&stats->ok[op], 1);
	else
		atomic_fetch_add(&stats->err[op][err > 0 && err < MAX_ERRNO ? err : 0], 1);
}

/* ---- random numbers ------------------------------------------------------- */

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	r->s ^= r->s << 13;
	r->s ^= r->s >> 7;
	r->s ^= r->s << 17;
	return r->s * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return n ? rnd(r) % n : 0;
}

static int chance(struct rng *r, unsigned int percent)
{
	return below(r, 100) < percent;
}

/* ---- the bench ------------------------------------------------------------- */

struct fdev {
	const char *kind;		/* "edu", "e1000e" */
	char bdf[32];
	int group_id;
	uint32_t cfg_size;
	uint8_t pm_cap;			/* 0: none */
	uint32_t safe_regs[4];		/* BAR0 offsets we may write */
	int nr_safe;
};

static struct fdev devs[2];
static int nr_devs;
static int cfg_caps;			/* -c: config writes past the header */

/*
 * -D: the fault points (kernel/fault.c) were armed for the run: disarm
 * them all, report what each injected.  Fails if an armed one never was.
 */
static int disarm_faults(void)
{
	static const char *const points[] = {
		"alloc", "pin", "iommu_map", "eventfd", "pci_config",
	};
	int bad = 0;

	for (size_t i = 0; i < sizeof(points) / sizeof(points[0]); i++) {
		long injected = vfio_fault_disarm(points[i]);

		printf("# fault point %s: %ld failures injected\n", points[i], injected);
		if (injected <= 0)
			bad = 1;
	}
	return bad;
}

static int add_dev(const char *kind, uint16_t vendor, uint16_t device)
{
	struct fdev *d = &devs[nr_devs];
	char path[128];
	FILE *f;
	long size = 0;

	d->kind = kind;
	if (__vfio_pci_find(vendor, device, d->bdf, sizeof(d->bdf)))
		return -ENODEV;
	d->group_id = __vfio_iommu_group_of(d->bdf);
	if (d->group_id < 0)
		return d->group_id;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", d->bdf);
	f = fopen(path, "r");
	if (f) {
		fseek(f, 0, SEEK_END);
		size = ftell(f);
		fclose(f);
	}
	d->cfg_size = size > 0 ? size : 256;
	d->pm_cap = sysfs_pm_cap(d->bdf);
	if (!strcmp(kind, "edu")) {
		/* liveness, factorial, status (irq on factorial), raise, ack */
		uint32_t r[] = { EDU_REG_LIVE, EDU_REG_FACT, EDU_REG_IRQ_RAISE, EDU_REG_IRQ_ACK };

		memcpy(d->safe_regs, r, sizeof(r));
		d->nr_safe = 4;
	}
	/*
	 * No e1000e register: raising causes (ICS) while its MSI-X enable
	 * flips trips an assertion in QEMU 7.2's e1000e interrupt throttling
	 * (e1000e_intrmgr_on_throttling_timer) and kills the VM.
	 */
	nr_devs++;
	return 0;
}

/* ---- per-process state ------------------------------------------------------ */

enum kind { K_FREE, K_CONTAINER, K_GROUP, K_DEVICE };

struct slot {
	int fd;
	enum kind kind;
	int dev;			/* group, device: index in devs[] */
	bool ready;			/* container: do_setup() set its IOMMU */
};

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static struct slot table[SLOTS];	/* protected by table_lock */

static int evfds[NR_EVENTFDS];
static int devnull;
static uint8_t *pool;			/* RW, populated: DMA maps point here */
static uint8_t *ro_pool;		/* read-only */
static uint8_t *hole;			/* PROT_NONE */
static uint8_t *shm_pool;		/* memfd, MAP_SHARED */
static uint8_t *guard;			/* a RW page followed by PROT_NONE */

struct bar_map {
	void *addr;
	size_t size;
	int dev;
	uint32_t index;
};

struct worker {
	struct rng rng;
	pthread_t th;
	int proc, id;
	unsigned long ops;
	struct bar_map maps[MAX_MMAPS];
	int nr_maps;
	uint64_t recent_iova[RECENT];
	uint64_t recent_size[RECENT];
	unsigned int nr_recent;
	sigjmp_buf jmp;
	volatile sig_atomic_t in_touch;
	int verbose;
};

static __thread struct worker *self;

static void sigbus_handler(int sig)
{
	if (self && self->in_touch)
		siglongjmp(self->jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

static void table_put_ready(struct worker *w, int fd, enum kind kind, int dev,
			    bool ready)
{
	int i = below(&w->rng, SLOTS), old = -1;

	pthread_mutex_lock(&table_lock);
	for (int n = 0; n < SLOTS; n++, i = (i + 1) % SLOTS) {
		if (table[i].kind == K_FREE)
			break;
	}
	if (table[i].kind != K_FREE)
		old = table[i].fd;	/* full: evict one */
	table[i] = (struct slot){ .fd = fd, .kind = kind, .dev = dev, .ready = ready };
	pthread_mutex_unlock(&table_lock);
	if (old >= 0)
		close(old);
}

static void table_put(struct worker *w, int fd, enum kind kind, int dev)
{
	table_put_ready(w, fd, kind, dev, false);
}

/*
 * An fd to use, preferably of @kind (K_FREE: any).  Sometimes not a VFIO
 * fd at all, or not an fd.  The fd may be closed by another thread before
 * the caller uses it: that is the point.
 */
static int table_pick(struct worker *w, enum kind kind, int *dev)
{
	int cand[SLOTS], n = 0, fd = -1;

	*dev = below(&w->rng, nr_devs);
	switch (below(&w->rng, 40)) {
	case 0: return -1;
	case 1: return 1000;
	case 2: return evfds[0];
	case 3: return devnull;
	}
	pthread_mutex_lock(&table_lock);
	/* Containers with an IOMMU first: that is where maps get somewhere. */
	if (kind == K_CONTAINER && chance(&w->rng, 75)) {
		for (int i = 0; i < SLOTS; i++) {
			if (table[i].kind == K_CONTAINER && table[i].ready)
				cand[n++] = i;
		}
	}
	for (int i = 0; !n && i < SLOTS; i++) {
		if (table[i].kind != K_FREE &&
		    (kind == K_FREE || table[i].kind == kind || chance(&w->rng, 5)))
			cand[n++] = i;
	}
	if (!n) {
		for (int i = 0; i < SLOTS; i++) {
			if (table[i].kind != K_FREE)
				cand[n++] = i;
		}
	}
	if (n) {
		int i = cand[below(&w->rng, n)];

		fd = table[i].fd;
		*dev = table[i].dev;
	}
	pthread_mutex_unlock(&table_lock);
	return fd;
}

/* Take a random slot out of the table; returns its fd or -1. */
static int table_take(struct worker *w)
{
	int i = below(&w->rng, SLOTS), fd = -1;

	pthread_mutex_lock(&table_lock);
	for (int n = 0; n < SLOTS; n++, i = (i + 1) % SLOTS) {
		if (table[i].kind != K_FREE) {
			fd = table[i].fd;
			table[i].kind = K_FREE;
			break;
		}
	}
	pthread_mutex_unlock(&table_lock);
	return fd;
}

/* ---- argument generators ---------------------------------------------------- */

static uint32_t gen_argsz(struct worker *w, uint32_t good, uint32_t minsz)
{
	switch (below(&w->rng, 12)) {
	case 0: return 0;
	case 1: return minsz - 1;
	case 2: return minsz;
	case 3: return good + below(&w->rng, 64);
	case 4: return (uint32_t)rnd(&w->rng);
	default: return good;
	}
}

static void *gen_ptr_bad(struct worker *w)
{
	static void *const bad[] = {
		NULL, (void *)1, (void *)0xffff888000000000ULL,
		(void *)0x7ffffffff000ULL,
	};

	if (chance(&w->rng, 50))
		return hole + below(&w->rng, 16 * PAGE);
	return bad[below(&w->rng, 4)];
}

static uint64_t gen_size(struct worker *w)
{
	switch (below(&w->rng, 16)) {
	case 0: return 0;
	case 1: return 1 + below(&w->rng, PAGE - 1);		/* misaligned */
	case 2: return POOL_SIZE;
	case 3: return POOL_SIZE + PAGE;			/* runs off the pool */
	case 4: return 1ULL << (20 + below(&w->rng, 30));
	case 5: return -PAGE;
	case 6: return 2ULL << 20;
	default: return (1 + below(&w->rng, 32)) * PAGE;
	}
}

static uint64_t gen_iova(struct worker *w)
{
	switch (below(&w->rng, 16)) {
	case 0: return 0;
	case 1: return 0xfee00000;			/* MSI window */
	case 2: return 0xfedff000;			/* straddles it */
	case 3: return -PAGE;				/* wraps */
	case 4: return (1ULL << 39) - PAGE;		/* aperture end */
	case 5: return 1ULL << 60;
	case 6: return below(&w->rng, 1ULL << 28) | 1;	/* misaligned */
	case 7: case 8: case 9:
		if (w->nr_recent) {
			unsigned int i = below(&w->rng, w->nr_recent < RECENT ? w->nr_recent : RECENT);

			return w->recent_iova[i] + (chance(&w->rng, 70) ? 0 :
				(below(&w->rng, 5) - 2) * PAGE);
		}
		/* fall through */
	default:
		return below(&w->rng, 64) * (2ULL << 20) + below(&w->rng, 4) * PAGE;
	}
}

static uint64_t gen_vaddr(struct worker *w, uint64_t size)
{
	uint64_t span;

	switch (below(&w->rng, 20)) {
	case 0: return 0;
	case 1: return (uintptr_t)hole;
	case 2: return (uintptr_t)ro_pool;
	case 3: return 0xffff888000000000ULL;
	case 4: return (uintptr_t)pool + 123;			/* misaligned */
	case 5: return -PAGE;
	case 6: case 7:
		if (w->nr_maps)					/* a BAR: peer to peer */
			return (uintptr_t)w->maps[below(&w->rng, w->nr_maps)].addr;
		/* fall through */
	case 8:
		return (uintptr_t)shm_pool + below(&w->rng, 64) * PAGE;
	default:
		span = size < POOL_SIZE ? (POOL_SIZE - size) / PAGE : 0;
		return (uintptr_t)pool + below(&w->rng, span + 1) * PAGE;
	}
}

static uint32_t gen_region(struct worker *w)
{
	switch (below(&w->rng, 10)) {
	case 0: case 1: case 2: return VFIO_PCI_BAR0_REGION_INDEX;
	case 3: case 4: case 5: return VFIO_PCI_CONFIG_REGION_INDEX;
	case 6: return below(&w->rng, VFIO_PCI_NUM_REGIONS);
	case 7: return VFIO_PCI_NUM_REGIONS + below(&w->rng, 4);
	case 8: return VFIO_PCI_ROM_REGION_INDEX;
	default: return (uint32_t)rnd(&w->rng) & 0xffffff;
	}
}

/* ---- operations --------------------------------------------------------------- */

static void recent_add(struct worker *w, uint64_t iova, uint64_t size)
{
	w->recent_iova[w->nr_recent % RECENT] = iova;
	w->recent_size[w->nr_recent % RECENT] = size;
	w->nr_recent++;
}

static long do_open_container(struct worker *w)
{
	int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		table_put(w, fd, K_CONTAINER, 0);
	return fd;
}

static long do_open_group(struct worker *w)
{
	int dev = below(&w->rng, nr_devs), fd;
	char path[64];

	snprintf(path, sizeof(path), "/dev/vfio/%d", devs[dev].group_id);
	fd = open(path, chance(&w->rng, 90) ? O_RDWR | O_CLOEXEC : O_RDONLY);
	if (fd >= 0)
		table_put(w, fd, K_GROUP, dev);
	return fd;
}

static long do_close(struct worker *w)
{
	int fd = table_take(w);

	return fd < 0 ? (errno = EBADF, -1) : close(fd);
}

static long do_container_ioctl(struct worker *w)
{
	static const long exts[] = {
		VFIO_TYPE1_IOMMU, VFIO_TYPE1v2_IOMMU, VFIO_DMA_CC_IOMMU, VFIO_UNMAP_ALL,
		VFIO_SPAPR_TCE_IOMMU, VFIO_NOIOMMU_IOMMU, 0, 0x7fff, -1,
	};
	int dev, fd = table_pick(w, K_CONTAINER, &dev);

	switch (below(&w->rng, 4)) {
	case 0: return ioctl(fd, VFIO_GET_API_VERSION);
	case 1: return ioctl(fd, VFIO_CHECK_EXTENSION, exts[below(&w->rng, 9)]);
	default:
		return ioctl(fd, VFIO_SET_IOMMU, chance(&w->rng, 80) ?
			     (chance(&w->rng, 80) ? VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU) :
			     exts[below(&w->rng, 9)]);
	}
}

static long do_iommu_info(struct worker *w)
{
	uint8_t buf[4096] __attribute__((aligned(8)));
	struct vfio_iommu_type1_info *info = (void *)buf;
	int dev, fd = table_pick(w, K_CONTAINER, &dev);

	memset(buf, (int)rnd(&w->rng), sizeof(buf));
	info->argsz = gen_argsz(w, chance(&w->rng, 50) ? sizeof(buf) : sizeof(*info), 16);
	if (info->argsz > sizeof(buf) && chance(&w->rng, 90))
		info->argsz = sizeof(buf);
	if (chance(&w->rng, 5))
		return ioctl(fd, VFIO_IOMMU_GET_INFO, gen_ptr_bad(w));
	if (chance(&w->rng, 5)) {
		/* A struct at the end of a page: copy_to_user runs into the guard. */
		info = (void *)(guard + PAGE - 16);
		info->argsz = 4096;
		return ioctl(fd, VFIO_IOMMU_GET_INFO, info);
	}
	return ioctl(fd, VFIO_IOMMU_GET_INFO, info);
}

static long do_map_dma(struct worker *w)
{
	struct vfio_iommu_type1_dma_map map;
	int dev, fd = table_pick(w, K_CONTAINER, &dev);
	long ret;

	if (chance(&w->rng, 50)) {
		/* Well-formed: how far do valid maps get, racing each other? */
		map.argsz = sizeof(map);
		map.flags = 1 + below(&w->rng, 3);
		map.size = (1 + below(&w->rng, 64)) * PAGE;
		map.iova = below(&w->rng, 256) * 16 * PAGE;
		map.vaddr = (uintptr_t)pool + below(&w->rng, (POOL_SIZE - map.size) / PAGE + 1) * PAGE;
		ret = ioctl(fd, VFIO_IOMMU_MAP_DMA, &map);
		if (!ret)
			recent_add(w, map.iova, map.size);
		return ret;
	}
	map.argsz = gen_argsz(w, sizeof(map), sizeof(map));
	map.flags = chance(&w->rng, 85) ?
		(uint32_t)(1 + below(&w->rng, 3)) :	/* READ, WRITE, both */
		(uint32_t)rnd(&w->rng) & (chance(&w->rng, 50) ? 0xf : ~0u);
	map.size = gen_size(w);
	map.iova = gen_iova(w);
	map.vaddr = gen_vaddr(w, map.size);
	if (chance(&w->rng, 3))
		return ioctl(fd, VFIO_IOMMU_MAP_DMA, gen_ptr_bad(w));
	ret = ioctl(fd, VFIO_IOMMU_MAP_DMA, &map);
	if (!ret)
		recent_add(w, map.iova, map.size);
	return ret;
}

static long do_unmap_dma(struct worker *w)
{
	struct vfio_iommu_type1_dma_unmap unmap;
	int dev, fd = table_pick(w, K_CONTAINER, &dev);

	unmap.argsz = sizeof(unmap);
	unmap.flags = 0;
	unmap.iova = gen_iova(w);
	unmap.size = gen_size(w);
	switch (below(&w->rng, 16)) {
	case 6: case 7: case 8: case 9:
		unmap.iova = below(&w->rng, 256) * 16 * PAGE;
		unmap.size = (1 + below(&w->rng, 64)) * PAGE;
		break;
	case 0:
		unmap.flags = VFIO_DMA_UNMAP_FLAG_ALL;
		unmap.iova = unmap.size = 0;
		break;
	case 1:
		unmap.flags = (uint32_t)rnd(&w->rng) & 0x7;
		break;
	case 2:
		unmap.iova = 0;
		unmap.size = 1ULL << 40;
		break;
	case 3: case 4: case 5:
		if (w->nr_recent) {
			unsigned int i = below(&w->rng, w->nr_recent < RECENT ? w->nr_recent : RECENT);

			unmap.iova = w->recent_iova[i];
			unmap.size = w->recent_size[i];
		}
		break;
	}
	if (chance(&w->rng, 10))
		unmap.argsz = gen_argsz(w, sizeof(unmap), sizeof(unmap));
	if (chance(&w->rng, 3))
		return ioctl(fd, VFIO_IOMMU_UNMAP_DMA, gen_ptr_bad(w));
	return ioctl(fd, VFIO_IOMMU_UNMAP_DMA, &unmap);
}

static long do_group_ioctl(struct worker *w)
{
	struct vfio_group_status st;
	int dev, fd = table_pick(w, K_GROUP, &dev), cfd;

	switch (below(&w->rng, 6)) {
	case 0:
		st.argsz = gen_argsz(w, sizeof(st), sizeof(st));
		st.flags = (uint32_t)rnd(&w->rng);
		return ioctl(fd, VFIO_GROUP_GET_STATUS, chance(&w->rng, 95) ? (void *)&st : gen_ptr_bad(w));
	case 1: case 2: case 3:
		cfd = table_pick(w, K_CONTAINER, &dev);
		return ioctl(fd, VFIO_GROUP_SET_CONTAINER, chance(&w->rng, 95) ? (void *)&cfd : gen_ptr_bad(w));
	default:
		return ioctl(fd, VFIO_GROUP_UNSET_CONTAINER);
	}
}

static long do_get_device_fd(struct worker *w)
{
	char name[128];
	int dev, fd = table_pick(w, K_GROUP, &dev), nfd;
	const char *bdf = devs[dev].bdf;
	void *arg = name;

	switch (below(&w->rng, 12)) {
	case 0: snprintf(name, sizeof(name), "%s", devs[below(&w->rng, nr_devs)].bdf); break;
	case 1: snprintf(name, sizeof(name), "%s junk", bdf); break;
	case 2: snprintf(name, sizeof(name), "%s vf_token=00000000-0000-0000-0000-000000000000", bdf); break;
	case 3: snprintf(name, sizeof(name), "%.*s", (int)below(&w->rng, strlen(bdf)), bdf); break;
	case 4: name[0] = '\0'; break;
	case 5: arg = gen_ptr_bad(w); break;
	case 6:
		/* No NUL before the guard page. */
		memset(guard, 'a', PAGE);
		arg = guard;
		break;
	default: snprintf(name, sizeof(name), "%s", bdf); break;
	}
	nfd = ioctl(fd, VFIO_GROUP_GET_DEVICE_FD, arg);
	if (nfd >= 0)
		table_put(w, nfd, K_DEVICE, dev);
	return nfd;
}

static long do_device_ioctl(struct worker *w)
{
	uint8_t buf[512] __attribute__((aligned(8)));
	struct vfio_device_info *di = (void *)buf;
	struct vfio_region_info *ri = (void *)buf;
	struct vfio_irq_info *ii = (void *)buf;
	int dev, fd = table_pick(w, K_DEVICE, &dev);

	memset(buf, (int)rnd(&w->rng), sizeof(buf));
	switch (below(&w->rng, 8)) {
	case 0:
		di->argsz = gen_argsz(w, sizeof(*di), 16);
		if (di->argsz > sizeof(buf))
			di->argsz = sizeof(buf);
		return ioctl(fd, VFIO_DEVICE_GET_INFO, di);
	case 1: case 2: case 3:
		ri->argsz = gen_argsz(w, sizeof(*ri), 32);
		if (ri->argsz > sizeof(buf))
			ri->argsz = sizeof(buf);
		ri->index = gen_region(w);
		return ioctl(fd, VFIO_DEVICE_GET_REGION_INFO, chance(&w->rng, 95) ? (void *)ri : gen_ptr_bad(w));
	case 4: case 5:
		ii->argsz = gen_argsz(w, sizeof(*ii), 16);
		if (ii->argsz > sizeof(buf))
			ii->argsz = sizeof(buf);
		ii->index = chance(&w->rng, 80) ? below(&w->rng, VFIO_PCI_NUM_IRQS + 1) :
						  (uint32_t)rnd(&w->rng);
		return ioctl(fd, VFIO_DEVICE_GET_IRQ_INFO, ii);
	case 6:
		return ioctl(fd, VFIO_DEVICE_RESET);
	default:
		return ioctl(fd, VFIO_DEVICE_PCI_HOT_RESET, buf);
	}
}

static long do_set_irqs(struct worker *w)
{
	uint8_t buf[sizeof(struct vfio_irq_set) + 64 * sizeof(int32_t)] __attribute__((aligned(8)));
	struct vfio_irq_set *set = (void *)buf;
	int32_t *fds = (int32_t *)set->data;
	int dev, fd = table_pick(w, K_DEVICE, &dev);
	static const uint32_t actions[] = {
		VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_TRIGGER,
		VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_MASK,
		VFIO_IRQ_SET_ACTION_UNMASK,
	};
	static const uint32_t datas[] = {
		VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_EVENTFD,
		VFIO_IRQ_SET_DATA_NONE, VFIO_IRQ_SET_DATA_BOOL,
	};
	uint32_t n;

	set->index = chance(&w->rng, 90) ? below(&w->rng, VFIO_PCI_NUM_IRQS) :
					   (uint32_t)rnd(&w->rng);
	set->flags = chance(&w->rng, 90) ?
		actions[below(&w->rng, 5)] | datas[below(&w->rng, 4)] :
		(uint32_t)rnd(&w->rng) & 0x3f;
	set->start = chance(&w->rng, 85) ? below(&w->rng, 3) : (uint32_t)rnd(&w->rng);
	switch (below(&w->rng, 8)) {
	case 0: set->count = 0; break;
	case 1: set->count = (uint32_t)rnd(&w->rng); break;
	case 2: set->count = 64; break;
	default: set->count = 1 + below(&w->rng, 5); break;
	}
	n = set->count < 64 ? set->count : 64;
	for (uint32_t i = 0; i < 64; i++) {
		if (set->flags & VFIO_IRQ_SET_DATA_BOOL)
			((uint8_t *)set->data)[i] = below(&w->rng, 3);
		else
			fds[i] = chance(&w->rng, 85) ? evfds[below(&w->rng, NR_EVENTFDS)] :
				 chance(&w->rng, 50) ? -1 : (int32_t)below(&w->rng, 1024);
	}
	set->argsz = sizeof(*set);
	if (set->flags & VFIO_IRQ_SET_DATA_EVENTFD)
		set->argsz += n * sizeof(int32_t);
	else if (set->flags & VFIO_IRQ_SET_DATA_BOOL)
		set->argsz += n;
	if (chance(&w->rng, 10))
		set->argsz = gen_argsz(w, set->argsz, 20);
	if (set->argsz > sizeof(buf) && chance(&w->rng, 50))
		set->argsz = sizeof(buf);
	return ioctl(fd, VFIO_DEVICE_SET_IRQS, set);
}

static uint64_t gen_offset(struct worker *w, int dev, uint32_t index, size_t len)
{
	uint64_t base = VFIO_PCI_OFFSET(index);

	if (chance(&w->rng, 5))
		return rnd(&w->rng) >> 1;
	if (index == VFIO_PCI_CONFIG_REGION_INDEX)
		return base + (chance(&w->rng, 90) ? below(&w->rng, devs[dev].cfg_size) :
						     devs[dev].cfg_size - below(&w->rng, len + 1));
	return base + (below(&w->rng, 1ULL << 20) & ~(uint64_t)(len - 1));
}

static long do_read(struct worker *w)
{
	uint8_t buf[4096];
	static const size_t lens[] = { 1, 2, 4, 8, 3, 64, 4096 };
	int dev, fd = table_pick(w, chance(&w->rng, 90) ? K_DEVICE : K_FREE, &dev);
	size_t len = lens[below(&w->rng, 7)];
	uint32_t index = gen_region(w);

	if (chance(&w->rng, 3))
		return pread(fd, gen_ptr_bad(w), len, gen_offset(w, dev, index, len));
	return pread(fd, buf, len, gen_offset(w, dev, index, len));
}

/* Only harmless writes: config (not the PM capability) and a few registers. */
static long do_write(struct worker *w)
{
	int dev, fd = table_pick(w, chance(&w->rng, 95) ? K_DEVICE : K_FREE, &dev);
	const struct fdev *d = &devs[dev];
	uint64_t val = rnd(&w->rng);
	static const size_t lens[] = { 1, 2, 4 };
	size_t len = lens[below(&w->rng, 3)];
	uint64_t off;

	if (!d->nr_safe || chance(&w->rng, 60)) {
		/*
		 * The standard header only, unless -c: writes that reach
		 * QEMU's emulation of the capabilities (e1000e's MSI-X and
		 * PM) have crashed QEMU 7.2 itself.  Out of range: EFAULT.
		 */
		off = chance(&w->rng, 2) ? d->cfg_size + below(&w->rng, 64) :
		      below(&w->rng, cfg_caps ? d->cfg_size : PCI_STD_HEADER_SIZEOF);
		if (d->pm_cap && off + len > d->pm_cap && off < d->pm_cap + 8u)
			off = PCI_COMMAND;	/* memory/bus master/INTx disable */
		if (off == PCI_COMMAND && chance(&w->rng, 70))
			val |= PCI_COMMAND_MEMORY;
		return pwrite(fd, &val, len, VFIO_PCI_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + off);
	}
	off = d->safe_regs[below(&w->rng, d->nr_safe)];
	if (!strcmp(d->kind, "edu") && off == EDU_REG_FACT)
		val &= 0xff;
	return pwrite(fd, &val, 4, VFIO_PCI_OFFSET(VFIO_PCI_BAR0_REGION_INDEX) + off);
}

static long do_mmap(struct worker *w)
{
	int dev, fd = table_pick(w, chance(&w->rng, 90) ? K_DEVICE : K_FREE, &dev);
	uint32_t index = chance(&w->rng, 80) ? VFIO_PCI_BAR0_REGION_INDEX : gen_region(w);
	size_t size = chance(&w->rng, 50) ? PAGE : (1 + below(&w->rng, 300)) * PAGE;
	uint64_t off = VFIO_PCI_OFFSET(index) + (chance(&w->rng, 70) ? 0 : below(&w->rng, 300) * PAGE);
	int flags = chance(&w->rng, 95) ? MAP_SHARED : MAP_PRIVATE;
	int prot = chance(&w->rng, 80) ? PROT_READ | PROT_WRITE : PROT_READ;
	void *p;

	if (w->nr_maps == MAX_MMAPS) {
		munmap(w->maps[0].addr, w->maps[0].size);
		memmove(&w->maps[0], &w->maps[1], (MAX_MMAPS - 1) * sizeof(w->maps[0]));
		w->nr_maps--;
	}
	p = mmap(NULL, size, prot, flags, fd, off);
	if (p == MAP_FAILED)
		return -1;
	w->maps[w->nr_maps++] = (struct bar_map){ p, size, dev, index };
	return 0;
}

static long do_munmap(struct worker *w)
{
	int i;

	if (!w->nr_maps) {
		errno = ENOENT;
		return -1;
	}
	i = below(&w->rng, w->nr_maps);
	munmap(w->maps[i].addr, w->maps[i].size);
	w->maps[i] = w->maps[--w->nr_maps];
	return 0;
}

/* Read a word of a BAR mmap; SIGBUS (memory decode off, device gone) is fine. */
static long do_touch(struct worker *w)
{
	struct bar_map *m;
	volatile uint32_t v;
	volatile size_t off;

	if (!w->nr_maps) {
		errno = ENOENT;
		return -1;
	}
	m = &w->maps[below(&w->rng, w->nr_maps)];
	off = below(&w->rng, m->size / 4) * 4;
	if (sigsetjmp(w->jmp, 1)) {
		w->in_touch = 0;
		errno = E_SIGBUS;
		return -1;
	}
	w->in_touch = 1;
	v = *(volatile uint32_t *)((uint8_t *)m->addr + off);
	w->in_touch = 0;
	(void)v;
	return 0;
}

/* Any VFIO ioctl number, or any number at all, with junk behind the pointer. */
static long do_random_ioctl(struct worker *w)
{
	uint8_t buf[256] __attribute__((aligned(8)));
	int dev, fd = table_pick(w, K_FREE, &dev);
	unsigned long cmd;
	long ret;

	for (size_t i = 0; i < sizeof(buf); i += 8) {
		uint64_t v = rnd(&w->rng);

		memcpy(buf + i, &v, 8);
	}
	/* Plausible argsz, so the handlers get past their first check. */
	*(uint32_t *)buf = below(&w->rng, 2) ? sizeof(buf) : *(uint32_t *)buf;
	cmd = chance(&w->rng, 80) ? _IO(VFIO_TYPE, VFIO_BASE + below(&w->rng, 40)) :
				    (uint32_t)rnd(&w->rng);
	/* A random GET_DEVICE_FD name is random bytes: harmless, but track any fd. */
	ret = ioctl(fd, cmd, chance(&w->rng, 90) ? (void *)buf : gen_ptr_bad(w));
	if (ret > 2 && cmd == VFIO_GROUP_GET_DEVICE_FD)
		table_put(w, ret, K_DEVICE, dev);
	return ret;
}

static long do_op(struct worker *w, enum op op);

/*
 * The standard sequence, so that enough of the table is in a useful
 * state: container, group, SET_CONTAINER, SET_IOMMU, device fd.  Stops
 * at the first failure (usually EBUSY: the group is open elsewhere).
 */
static long do_setup(struct worker *w)
{
	int dev = below(&w->rng, nr_devs), c, g, d;
	char path[64];

	c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (c < 0)
		return -1;
	snprintf(path, sizeof(path), "/dev/vfio/%d", devs[dev].group_id);
	g = open(path, O_RDWR | O_CLOEXEC);
	if (g < 0) {
		table_put(w, c, K_CONTAINER, 0);
		return -1;
	}
	table_put(w, g, K_GROUP, dev);
	if (ioctl(g, VFIO_GROUP_SET_CONTAINER, &c) ||
	    ioctl(c, VFIO_SET_IOMMU, chance(&w->rng, 90) ? VFIO_TYPE1v2_IOMMU : VFIO_TYPE1_IOMMU)) {
		table_put(w, c, K_CONTAINER, 0);
		return -1;
	}
	table_put_ready(w, c, K_CONTAINER, 0, true);
	d = ioctl(g, VFIO_GROUP_GET_DEVICE_FD, devs[dev].bdf);
	if (d < 0)
		return -1;
	table_put(w, d, K_DEVICE, dev);
	return 0;
}

/*
 * A child on the inherited fds: its maps are charged to its own mm, which
 * is gone when the parent's container unmaps them.
 */
static long do_fork(struct worker *w)
{
	pid_t pid;
	int status;

	pthread_mutex_lock(&table_lock);	/* consistent in the child */
	pid = fork();
	pthread_mutex_unlock(&table_lock);
	if (pid < 0)
		return -1;
	if (!pid) {
		w->rng.s = splitmix(w->rng.s ^ 0xf0f0);
		for (int i = 0; i < FORK_OPS; i++) {
			enum op op = below(&w->rng, OP_FORK);

			long ret = do_op(w, op);

			count(op, ret, errno);
		}
		_exit(0);
	}
	atomic_fetch_add(&stats->fork_children, 1);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		fprintf(stderr, "fork child died: status 0x%x\n", status);
		atomic_fetch_add(&stats->failures, 1);
		errno = ECHILD;
		return -1;
	}
	return 0;
}

static long do_op(struct worker *w, enum op op)
{
	errno = 0;
	switch (op) {
	case OP_OPEN_CONTAINER: return do_open_container(w);
	case OP_OPEN_GROUP: return do_open_group(w);
	case OP_CLOSE: return do_close(w);
	case OP_CONTAINER_IOCTL: return do_container_ioctl(w);
	case OP_IOMMU_INFO: return do_iommu_info(w);
	case OP_MAP_DMA: return do_map_dma(w);
	case OP_UNMAP_DMA: return do_unmap_dma(w);
	case OP_GROUP_IOCTL: return do_group_ioctl(w);
	case OP_GET_DEVICE_FD: return do_get_device_fd(w);
	case OP_DEVICE_IOCTL: return do_device_ioctl(w);
	case OP_SET_IRQS: return do_set_irqs(w);
	case OP_READ: return do_read(w);
	case OP_WRITE: return do_write(w);
	case OP_MMAP: return do_mmap(w);
	case OP_MUNMAP: return do_munmap(w);
	case OP_TOUCH: return do_touch(w);
	case OP_RANDOM_IOCTL: return do_random_ioctl(w);
	case OP_SETUP: return do_setup(w);
	case OP_FORK: return do_fork(w);
	default: errno = EINVAL; return -1;
	}
}

static unsigned int total_weight;

static enum op pick_op(struct worker *w)
{
	uint64_t x = below(&w->rng, total_weight);

	for (int op = 0; op < NR_OPS; op++) {
		if (x < op_weight[op])
			return op;
		x -= op_weight[op];
	}
	return OP_CLOSE;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;

	self = w;
	for (unsigned long i = 0; i < w->ops; i++) {
		enum op op = pick_op(w);
		long ret = do_op(w, op);

		count(op, ret, errno);
		if (w->verbose)
			printf("# p%d t%d op %lu %s = %ld (%s)\n", w->proc, w->id, i,
			       op_names[op], ret, ret < 0 ? strerror(errno) : "ok");
	}
	return NULL;
}

static void *map_or_die(size_t size, int prot, int flags, int fd)
{
	void *p = mmap(NULL, size, prot, flags, fd, 0);

	if (p == MAP_FAILED) {
		perror("mmap");
		exit(2);
	}
	return p;
}

/* One fuzzing process: set up, run the threads, tear down, check VmLck. */
static int fuzz_process(uint64_t seed, int proc, int threads, unsigned long ops, int verbose)
{
	struct worker *ws = calloc(threads, sizeof(*ws));
	struct sigaction sa = { .sa_handler = sigbus_handler };
	long vmlck;
	int memfd, i;

	sigaction(SIGBUS, &sa, NULL);
	for (i = 0; i < NR_EVENTFDS; i++)
		evfds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	pool = map_or_die(POOL_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1);
	ro_pool = map_or_die(64 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1);
	hole = map_or_die(16 * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	memfd = memfd_create("vfio_fuzz", MFD_CLOEXEC);
	if (memfd < 0 || ftruncate(memfd, 64 * PAGE)) {
		perror("memfd");
		return 2;
	}
	shm_pool = map_or_die(64 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, memfd);
	guard = map_or_die(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1);
	mprotect(guard + PAGE, PAGE, PROT_NONE);
	for (i = 0; i < SLOTS; i++)
		table[i].kind = K_FREE;

	for (i = 0; i < threads; i++) {
		ws[i].rng.s = splitmix(seed ^ ((uint64_t)proc << 32) ^ (uint64_t)(i + 1) << 48) | 1;
		ws[i].proc = proc;
		ws[i].id = i;
		ws[i].ops = ops / threads + (i < (int)(ops % threads));
		ws[i].verbose = verbose;
		if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i])) {
			perror("pthread_create");
			return 2;
		}
	}
	for (i = 0; i < threads; i++)
		pthread_join(ws[i].th, NULL);

	/* Teardown: every mmap, every fd; then nothing may stay charged. */
	for (i = 0; i < threads; i++) {
		for (int m = 0; m < ws[i].nr_maps; m++)
			munmap(ws[i].maps[m].addr, ws[i].maps[m].size);
	}
	for (i = 0; i < SLOTS; i++) {
		if (table[i].kind != K_FREE)
			close(table[i].fd);
	}
	vmlck = locked_vm_kb(0);
	if (vmlck != 0) {
		printf("# process %d: VmLck %ld kB after closing everything\n", proc, vmlck);
		atomic_fetch_add(&stats->failures, 1);
	}
	printf("# process %d (pid %d): %lu ops, VmLck %ld kB after teardown\n",
	       proc, getpid(), ops, vmlck);
	free(ws);
	return 0;
}

static void print_summary(uint64_t seed, unsigned long ops)
{
	unsigned long total = 0, ok = 0, all_err[MAX_ERRNO] = {0};

	printf("# seed 0x%llx: ops per kind (ok, then errnos)\n", (unsigned long long)seed);
	for (int op = 0; op < NR_OPS; op++) {
		unsigned long done = atomic_load(&stats->done[op]);
		char line[1024];
		int n;

		total += done;
		ok += atomic_load(&stats->ok[op]);
		n = snprintf(line, sizeof(line), "#   %-16s %9lu  ok %lu", op_names[op], done,
			     atomic_load(&stats->ok[op]));
		for (int e = 0; e < MAX_ERRNO && n < (int)sizeof(line) - 32; e++) {
			unsigned long c = atomic_load(&stats->err[op][e]);

			if (!c)
				continue;
			all_err[e] += c;
			n += snprintf(line + n, sizeof(line) - n, " %s %lu",
				      e == E_SIGBUS ? "SIGBUS" : e ? strerrorname_np(e) : "?", c);
		}
		printf("%s\n", line);
	}
	printf("# errnos seen:");
	for (int e = 0; e < MAX_ERRNO; e++) {
		if (all_err[e])
			printf(" %s=%lu", e == E_SIGBUS ? "SIGBUS" : e ? strerrorname_np(e) : "?",
			       all_err[e]);
	}
	printf("\n# total %lu ops (asked %lu), %lu succeeded, %lu fork children\n",
	       total, ops, ok, atomic_load(&stats->fork_children));
}

static void usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [-s SEED] [-n OPS] [-t THREADS] [-p PROCS] [-f FORK_WEIGHT] [-c] [-D] [-v]\n"
		"  fuzz the VFIO uAPI on edu and e1000e (bound to vfio-pci)\n", prog);
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t seed = 0;
	unsigned long ops = 10000;
	int threads = 4, procs = 2, verbose = 0, fork_weight = 1, opt, failed = 0;
	int disarm = 0;
	bool have_seed = false;

	while ((opt = getopt(argc, argv, "s:n:t:p:f:cDvh")) != -1) {
		switch (opt) {
		case 'D': disarm = 1; break;
		case 'c': cfg_caps = 1; break;
		case 's': seed = strtoull(optarg, NULL, 0); have_seed = true; break;
		case 'n': ops = strtoul(optarg, NULL, 0); break;
		case 't': threads = atoi(optarg); break;
		case 'p': procs = atoi(optarg); break;
		case 'f': fork_weight = atoi(optarg); break;
		case 'v': verbose = 1; break;
		default: usage(argv[0]);
		}
	}
	if (threads < 1 || procs < 1 || fork_weight < 0)
		usage(argv[0]);
	if (!have_seed) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		seed = splitmix(ts.tv_sec ^ ts.tv_nsec ^ getpid());
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# vfio_fuzz -s 0x%llx -n %lu -t %d -p %d -f %d\n",
	       (unsigned long long)seed, ops, threads, procs, fork_weight);

	if (add_dev("edu", EDU_VENDOR, EDU_DEVICE) ||
	    add_dev("e1000e", E1000E_VENDOR, E1000E_DEVICE)) {
		printf("FAIL: vfio_fuzz/run (edu or e1000e not found)\n");
		return 1;
	}
	for (int i = 0; i < nr_devs; i++)
		printf("# %s %s group %d config %u bytes pm cap 0x%x\n", devs[i].kind,
		       devs[i].bdf, devs[i].group_id, devs[i].cfg_size, devs[i].pm_cap);
	op_weight[OP_FORK] = fork_weight;
	for (int op = 0; op < NR_OPS; op++)
		total_weight += op_weight[op];

	stats = mmap(NULL, sizeof(*stats), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (stats == MAP_FAILED) {
		perror("mmap");
		return 2;
	}
	fflush(stdout);
	{
		pid_t pids[64];
		int n = procs < 64 ? procs : 64;

		for (int p = 0; p < n; p++) {
			pids[p] = fork();
			if (pids[p] < 0) {
				perror("fork");
				return 2;
			}
			if (!pids[p])
				_exit(fuzz_process(seed, p, threads,
						   ops / n + (p < (int)(ops % n)), verbose));
		}
		for (int p = 0; p < n; p++) {
			int status;

			if (waitpid(pids[p], &status, 0) != pids[p] || !WIFEXITED(status) ||
			    WEXITSTATUS(status)) {
				printf("# process %d died: status 0x%x\n", p, status);
				failed = 1;
			}
		}
	}
	print_summary(seed, ops);
	if (disarm && disarm_faults())
		failed = 1;
	/*
	 * edu has no reset: the interrupts the fuzzer raised (0x60) stay in
	 * its status register for the next user.  Acknowledge them all.
	 */
	{
		struct vfio_dev d;

		if (__vfio_dev_open(&d, EDU_VENDOR, EDU_DEVICE, VFIO_TYPE1v2_IOMMU)) {
			printf("# cannot reopen edu after the run\n");
			failed = 1;
		} else {
			vfio_dev_map_bar0(&d);
			edu_write32(&d, EDU_REG_STATUS, 0);
			edu_write32(&d, EDU_REG_IRQ_ACK, ~0u);
			if (edu_read32(&d, EDU_REG_IRQ_STATUS)) {
				printf("# edu interrupt status stuck at 0x%x\n",
				       edu_read32(&d, EDU_REG_IRQ_STATUS));
				failed = 1;
			}
			vfio_dev_close(&d);
		}
	}
	if (atomic_load(&stats->failures))
		failed = 1;
	printf("%s: vfio_fuzz/run (seed 0x%llx, %lu ops)\n", failed ? "FAIL" : "PASS",
	       (unsigned long long)seed, ops);
	return failed;
}
