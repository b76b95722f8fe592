// SPDX-License-Identifier: GPL-2.0
/*
 * vfio-pci safety checks, each as Debian 6.1's vfio-pci makes it:
 *   msix_*         the BAR holding e1000e's MSI-X table: mmap allowed
 *                  whole with the MSIX_MAPPABLE capability, the table
 *                  itself hidden from pread (0xff) and pwrite (dropped)
 *   bar_restore_*  edu loses its BAR behind VFIO's back (a config write
 *                  through sysfs, as a stray reset would): the next write
 *                  to COMMAND puts it back before decode goes on
 *   mmap_race      threads map, touch and unmap BAR0 while another turns
 *                  memory decode off and on: no access reaches the device
 *                  while decode is off; _wide: the BAR page at the end of
 *                  a 64 MiB munmap, which leaves it mapped for a while
 *                  after it left the tree
 *   intx_masked_at_enable  INTx enabled while COMMAND.INTX_DISABLE is set
 *                  and the line already asserted does not fire; _then_raise:
 *                  nothing pending, then raises after the unmask arrive
 *   info_padding   the info ioctls and BAR reads write exactly the bytes
 *                  they own (the rest of a 0xa5-filled buffer is left)
 *   set_irqs_wrap  start + count wrapping around 2^32
 *   device_name_long  GET_DEVICE_FD with names of 4094 and 64 bytes (the
 *                  trace-device-name test counts the events)
 * Needs edu and e1000e bound to vfio-pci.
 */
#define _GNU_SOURCE	/* pthread_setaffinity_np() */
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "check.h"
#include "vfio_util.h"

#define BAR0		VFIO_PCI_OFFSET(VFIO_PCI_BAR0_REGION_INDEX)
#define PCI_COMMAND	0x04
#define CMD_MEM		0x0002
#define CMD_INTX_OFF	0x0400
#define QUIET_MS	300
#define WAIT_MS		3000

static struct vfio_dev d;

static void open_dev(uint16_t vendor, uint16_t device)
{
	if (d.container > 0)
		vfio_dev_close(&d);
	vfio_dev_open(&d, vendor, device, VFIO_TYPE1v2_IOMMU);
}

static void set_command(int device, uint16_t set, uint16_t clear)
{
	uint16_t cmd = vfio_cfg_read16(device, PCI_COMMAND);

	vfio_cfg_write16(device, PCI_COMMAND, (cmd | set) & ~clear);
}

/* GET_REGION_INFO with a caller-sized buffer; -errno or 0. */
static int region_info_buf(int device, uint32_t index, void *buf, uint32_t argsz)
{
	struct vfio_region_info *ri = buf;

	ri->argsz = argsz;
	ri->index = index;
	return ioctl(device, VFIO_DEVICE_GET_REGION_INFO, ri) ? -errno : 0;
}

/* ---- MSI-X ---------------------------------------------------------------- */

struct msix_layout {
	int cap;
	uint32_t bar, table, pba, entries;
};

static int msix_layout(int device, struct msix_layout *m)
{
	uint32_t t, p;

	m->cap = vfio_cfg_find_cap(device, 0x11);
	if (m->cap <= 0)
		return -1;
	m->entries = (vfio_cfg_read16(device, m->cap + 2) & 0x7ff) + 1;
	t = vfio_cfg_read32(device, m->cap + 4);
	p = vfio_cfg_read32(device, m->cap + 8);
	m->bar = t & 7;
	m->table = t & ~7u;
	m->pba = p & ~7u;
	return (p & 7) == m->bar ? 0 : -1;
}

/*
 * The MSI-X BAR's info: MMAP plus one capability, MSIX_MAPPABLE, chained
 * when there is room (argsz says how much is needed otherwise); the other
 * BARs chain nothing.
 */
static int test_msix_bar_info(void)
{
	uint8_t buf[64];
	struct vfio_region_info *ri = (void *)buf;
	struct vfio_info_cap_header *cap = (void *)(buf + sizeof(*ri));
	struct msix_layout m;

	open_dev(E1000E_VENDOR, E1000E_DEVICE);
	CHECK_OK(msix_layout(d.device, &m));
	CHECK(m.bar != 0);	/* e1000e: BAR3 */

	memset(buf, 0xa5, sizeof(buf));
	CHECK_OK(region_info_buf(d.device, m.bar, buf, sizeof(*ri)));
	CHECK_EQ(ri->flags & (VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS),
		 VFIO_REGION_INFO_FLAG_MMAP | VFIO_REGION_INFO_FLAG_CAPS);
	CHECK_EQ(ri->argsz, sizeof(*ri) + sizeof(*cap));
	CHECK_EQ(ri->cap_offset, 0);
	for (size_t i = sizeof(*ri); i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0xa5);

	memset(buf, 0xa5, sizeof(buf));
	CHECK_OK(region_info_buf(d.device, m.bar, buf, sizeof(buf)));
	CHECK_EQ(ri->argsz, sizeof(buf));
	CHECK(ri->flags & VFIO_REGION_INFO_FLAG_CAPS);
	CHECK_EQ(ri->cap_offset, sizeof(*ri));
	CHECK_EQ(cap->id, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
	CHECK_EQ(cap->version, 1);
	CHECK_EQ(cap->next, 0);
	for (size_t i = sizeof(*ri) + sizeof(*cap); i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0xa5);

	/* BAR0 holds no table: no capability. */
	memset(buf, 0xa5, sizeof(buf));
	CHECK_OK(region_info_buf(d.device, VFIO_PCI_BAR0_REGION_INDEX, buf, sizeof(buf)));
	CHECK_EQ(ri->flags & VFIO_REGION_INFO_FLAG_CAPS, 0);
	CHECK_EQ(ri->argsz, sizeof(buf));
	for (size_t i = sizeof(*ri); i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0xa5);
	vfio_dev_close(&d);
	return TEST_PASS;
}

/*
 * The table maps (and reads through the mapping as the device holds it),
 * while pread shows 0xff over it and pwrite to it is dropped; the PBA next
 * to it reads through both ways alike.
 */
static int test_msix_table_rw(void)
{
	uint32_t ent[4], junk[4] = { 0x12345678, 0x9abcdef0, 0x0badf00d, 0 };
	uint64_t off;
	volatile uint32_t *map;
	struct msix_layout m;
	uint32_t pba = 0;

	open_dev(E1000E_VENDOR, E1000E_DEVICE);
	CHECK_OK(msix_layout(d.device, &m));
	off = VFIO_PCI_OFFSET(m.bar);
	map = vfio_region_mmap(d.device, m.bar, PAGE, m.table & ~(PAGE - 1));
	CHECK(map != MAP_FAILED);
	set_command(d.device, CMD_MEM, 0);
	map += (m.table & (PAGE - 1)) / 4;

	CHECK_EQ(pread(d.device, ent, sizeof(ent), off + m.table), sizeof(ent));
	for (int i = 0; i < 4; i++)
		CHECK_EQ(ent[i], 0xffffffff);
	/* Through the mapping: the real entry, vector masked (bit 0) at reset. */
	CHECK_EQ(map[3] & 1, 1);
	ent[0] = map[0];
	ent[1] = map[1];
	ent[2] = map[2];
	ent[3] = map[3];
	CHECK_EQ(pwrite(d.device, junk, sizeof(junk), off + m.table), sizeof(junk));
	CHECK_EQ(map[0], ent[0]);
	CHECK_EQ(map[1], ent[1]);
	CHECK_EQ(map[2], ent[2]);
	CHECK_EQ(map[3], ent[3]);
	/* The table's last dword is hidden, the PBA right after it is not. */
	{
		uint32_t b[2];
		uint32_t end = m.table + 16 * m.entries;

		CHECK_EQ(pread(d.device, b, 8, off + end - 4), 8);
		CHECK_EQ(b[0], 0xffffffff);
		if (end == m.pba)
			CHECK_EQ(b[1], 0);	/* nothing pending */
	}
	CHECK_EQ(pread(d.device, &pba, 4, off + m.pba), 4);
	CHECK_EQ(pba, 0);
	munmap((void *)(map - (m.table & (PAGE - 1)) / 4), PAGE);
	vfio_dev_close(&d);
	return TEST_PASS;
}

/* ---- BAR restore ------------------------------------------------------------ */

/*
 * edu's BAR0 register is zeroed behind VFIO's back (decode left on, or
 * turned off as a reset would): the next write to COMMAND through VFIO
 * puts the open-time address back, and BAR0 answers again.
 */
static int bar_restore(bool decode_off_too)
{
	uint32_t bar, v = 0;
	uint16_t hwcmd;

	open_dev(EDU_VENDOR, EDU_DEVICE);
	bar = sysfs_cfg_read(d.bdf, 0x10, 4);
	hwcmd = sysfs_cfg_read(d.bdf, PCI_COMMAND, 2);
	CHECK(hwcmd & CMD_MEM);
	CHECK_EQ(pread(d.device, &v, 4, BAR0 + EDU_REG_ID), 4);
	CHECK_EQ(v, EDU_ID_VALUE);

	if (decode_off_too)
		CHECK_OK(sysfs_cfg_write(d.bdf, PCI_COMMAND, hwcmd & ~CMD_MEM, 2));
	CHECK_OK(sysfs_cfg_write(d.bdf, 0x10, 0, 4));
	CHECK_EQ(sysfs_cfg_read(d.bdf, 0x10, 4) & ~0xfu, 0);
	/* The user's view did not move: VFIO's BARs are virtual. */
	CHECK_EQ(vfio_cfg_read32(d.device, 0x10), bar);

	set_command(d.device, CMD_MEM, 0);
	CHECK_EQ(sysfs_cfg_read(d.bdf, 0x10, 4), bar);
	CHECK_EQ(sysfs_cfg_read(d.bdf, PCI_COMMAND, 2) & CMD_MEM, CMD_MEM);
	v = 0;
	CHECK_EQ(pread(d.device, &v, 4, BAR0 + EDU_REG_ID), 4);
	CHECK_EQ(v, EDU_ID_VALUE);
	vfio_dev_map_bar0(&d);
	CHECK_EQ(edu_read32(&d, EDU_REG_ID), EDU_ID_VALUE);
	vfio_dev_close(&d);
	return TEST_PASS;
}

static int test_bar_restore_decode_on(void)
{
	return bar_restore(false);
}

static int test_bar_restore_decode_off(void)
{
	return bar_restore(true);
}

/* ---- mmap against decode ---------------------------------------------------- */

#define RACE_SECONDS	6	/* at least, and until RACE_TOGGLES ... */
#define RACE_TOGGLES	100	/* ... decode toggles were made, */
#define RACE_MAX_SECONDS 90	/* however slow the vCPUs (then it fails) */
#define RACE_MAPPERS	2
#define RACE_READERS	2
#define RACE_SLOTS	(RACE_MAPPERS + 1)

static atomic_bool race_stop;
/* Odd while decode is known off: set after the write turning it off returned. */
static atomic_uint race_epoch;
/* The last odd epoch that a whole read (faulted or not) fell inside. */
static atomic_uint race_off_read_epoch;
static _Atomic(volatile uint32_t *) race_slot[RACE_SLOTS];
static atomic_ulong race_stale, race_bus_off, race_ok_on, race_cycles;
static __thread sigjmp_buf race_jmp;
static __thread volatile bool race_armed;

static void race_on_fault(int sig)
{
	(void)sig;
	if (race_armed)
		siglongjmp(race_jmp, 1);
	abort();
}

/* One read; false when it faulted (SIGBUS: decode off, SIGSEGV: unmapped). */
static bool race_read(volatile uint32_t *p, uint32_t *v)
{
	if (sigsetjmp(race_jmp, 1)) {
		race_armed = false;
		return false;
	}
	race_armed = true;
	*v = *p;
	race_armed = false;
	return true;
}

/* Maps BAR0, touches it, publishes it, unmaps it (whole or split first). */
static void *race_mapper(void *arg)
{
	int slot = (int)(long)arg;
	unsigned long n = 0;
	uint32_t v;

	while (!atomic_load(&race_stop)) {
		volatile uint32_t *p = vfio_region_mmap(d.device, 0, 4 * PAGE, 0);

		if (p == MAP_FAILED)
			continue;
		race_read(p, &v);
		atomic_store(&race_slot[slot], p);
		race_read(p + PAGE / 4, &v);
		if (n++ & 1) {
			/* The middle goes first: the vma is split. */
			munmap((char *)p + PAGE, PAGE);
			munmap((void *)p, PAGE);
			munmap((char *)p + 2 * PAGE, 2 * PAGE);
		} else {
			munmap((void *)p, 4 * PAGE);
		}
		atomic_fetch_add(&race_cycles, 1);
	}
	return NULL;
}

/*
 * Reads through whatever mapping is published, whether or not its munmap
 * is under way.  A read that began and ended inside one decode-off period
 * and did not fault went through a stale mapping, whatever it returned:
 * with decode off the address is no longer edu's, and QEMU answers it
 * with something else than edu's id, where real hardware may raise an
 * unsupported-request error.
 */
static void *race_reader(void *arg)
{
	unsigned int i = (unsigned int)(long)arg;

	while (!atomic_load(&race_stop)) {
		volatile uint32_t *p = atomic_load(&race_slot[i++ % RACE_SLOTS]);
		unsigned int before, after;
		uint32_t v = 0;
		bool ok;

		if (!p)
			continue;
		before = atomic_load(&race_epoch);
		ok = race_read(p, &v);
		after = atomic_load(&race_epoch);
		if (before != after)
			continue;
		if (before & 1) {
			atomic_store(&race_off_read_epoch, before);
			atomic_fetch_add(ok ? &race_stale : &race_bus_off, 1);
		} else if (ok && v == EDU_ID_VALUE) {
			atomic_fetch_add(&race_ok_on, 1);
		}
	}
	return NULL;
}

/*
 * Seen in this VM: Debian 6.1's vfio-pci fills a whole vma with
 * io_remap_pfn_range(), which marks it for PAT tracking; munmap of such a
 * vma once decode-off zapped it WARNs in untrack_pfn() (its first page is
 * gone), and these races munmap zapped mappings all the time.  The races
 * themselves came out clean there (0 stale reads).
 */
static bool intree_warns_on_zapped_munmap(void)
{
	const char *stack = getenv("VFIOSCOPE_STACK");

	return stack && !strcmp(stack, "intree");
}

static int test_mmap_race(void)
{
	pthread_t mappers[RACE_MAPPERS], readers[RACE_READERS];
	struct sigaction sa = { .sa_handler = race_on_fault };
	volatile uint32_t *fixed;
	struct timespec pause = { 0, 2 * 1000 * 1000 };
	time_t start;
	unsigned long toggles = 0;
	uint32_t id_after;

	if (intree_warns_on_zapped_munmap())
		SKIP("the in-tree vfio-pci WARNs in untrack_pfn on munmap of a zapped BAR mapping");
	open_dev(EDU_VENDOR, EDU_DEVICE);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	CHECK_OK(sigaction(SIGBUS, &sa, NULL));
	CHECK_OK(sigaction(SIGSEGV, &sa, NULL));
	fixed = vfio_region_mmap(d.device, 0, PAGE, 0);
	CHECK(fixed != MAP_FAILED);
	atomic_store(&race_slot[RACE_MAPPERS], fixed);

	for (long i = 0; i < RACE_MAPPERS; i++)
		CHECK_OK(-pthread_create(&mappers[i], NULL, race_mapper, (void *)i));
	for (long i = 0; i < RACE_READERS; i++)
		CHECK_OK(-pthread_create(&readers[i], NULL, race_reader, (void *)i));

	/*
	 * A number of toggles, not only a time: on a slow (single-threaded
	 * TCG) guest the toggler gets fewer turns in RACE_SECONDS.
	 */
	start = time(NULL);
	while ((time(NULL) < start + RACE_SECONDS || toggles < RACE_TOGGLES) &&
	       time(NULL) < start + RACE_MAX_SECONDS) {
		set_command(d.device, 0, CMD_MEM);
		atomic_fetch_add(&race_epoch, 1);	/* odd: off */
		nanosleep(&pause, NULL);
		atomic_fetch_add(&race_epoch, 1);	/* even: going on */
		set_command(d.device, CMD_MEM, 0);
		nanosleep(&pause, NULL);
		toggles++;
	}
	atomic_store(&race_stop, true);
	for (int i = 0; i < RACE_MAPPERS; i++)
		pthread_join(mappers[i], NULL);
	for (int i = 0; i < RACE_READERS; i++)
		pthread_join(readers[i], NULL);
	signal(SIGBUS, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);

	printf("# %lu decode toggles, %lu map/unmap cycles, reads: %lu SIGBUS while off, %lu ok while on, %lu stale\n",
	       toggles, atomic_load(&race_cycles), atomic_load(&race_bus_off),
	       atomic_load(&race_ok_on), atomic_load(&race_stale));
	/* Decode on again: the mappings come back. */
	id_after = fixed[EDU_REG_ID / 4];
	/* Closed before any check, so a failure leaves the group to the next case. */
	munmap((void *)fixed, PAGE);
	vfio_dev_close(&d);
	CHECK_EQ(atomic_load(&race_stale), 0);
	/* The race ran: both sides of the check were seen many times. */
	CHECK(toggles >= RACE_TOGGLES);
	CHECK(atomic_load(&race_cycles) >= 100);
	CHECK(atomic_load(&race_bus_off) >= 100);
	CHECK(atomic_load(&race_ok_on) >= 100);
	CHECK_EQ(id_after, EDU_ID_VALUE);
	return TEST_PASS;
}

/*
 * The same race with a wide window: one munmap() covers 64 MiB of touched
 * anonymous memory and, right after it, a BAR0 page.  munmap takes both
 * out of the tree, downgrades mmap_lock to read and unmaps them in address
 * order, so the BAR page stays mapped while the anonymous pages are freed.
 * A decode-off in that window must not leave it reachable.  The toggler
 * writes decode-off once the page left the tree, and keeps decode off
 * until the reader has read through the page: a driver that skips the
 * page (it is in no tree to walk) is caught in every round, not only when
 * the scheduler switches threads at the right moment.
 */
#define WIDE_ANON	(64u << 20)
#define WIDE_ROUNDS	30
#define WIDE_OFF_MAX_MS	100	/* a reader that never runs */

/* 1 + the round whose munmap() is running; 0 between them. */
static atomic_uint wide_unmapping;

struct wide_toggles {
	unsigned long toggles;
	unsigned long raced;	/* rounds with a decode-off written in the window */
};

/*
 * Keeps decode off until the reader has made a whole read inside this
 * off period, if a mapping is published to read through.
 */
static void wait_for_off_read(unsigned int epoch)
{
	long deadline = now_ms() + WIDE_OFF_MAX_MS;

	while (atomic_load(&race_off_read_epoch) != epoch &&
	       atomic_load(&race_slot[0]) && !atomic_load(&race_stop) &&
	       now_ms() < deadline)
		sched_yield();
}

static bool left_the_tree(volatile uint32_t *page)
{
	unsigned char vec;

	return page && mincore((void *)page, PAGE, &vec) && errno == ENOMEM;
}

static void *race_toggler(void *arg)
{
	struct timespec pause = { 0, 1000 * 1000 };
	struct wide_toggles *t = arg;
	unsigned int last_raced = 0;

	while (!atomic_load(&race_stop)) {
		unsigned int during = atomic_load(&wide_unmapping);

		/*
		 * Only once a munmap() has taken the BAR page out of the tree
		 * (mincore() says ENOMEM) and while it runs: an earlier
		 * decode-off would zap the page, and leave nothing to race.
		 */
		if (!during || !left_the_tree(atomic_load(&race_slot[0])) ||
		    atomic_load(&wide_unmapping) != during) {
			sched_yield();
			continue;
		}
		set_command(d.device, 0, CMD_MEM);
		if (during != last_raced) {
			t->raced++;
			last_raced = during;
		}
		/* odd: off */
		wait_for_off_read(atomic_fetch_add(&race_epoch, 1) + 1);
		atomic_fetch_add(&race_epoch, 1);
		set_command(d.device, CMD_MEM, 0);
		nanosleep(&pause, NULL);
		t->toggles++;
	}
	return NULL;
}

static cpu_set_t one_cpu(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return set;
}

static int test_mmap_race_wide(void)
{
	struct sigaction sa = { .sa_handler = race_on_fault };
	cpu_set_t old_cpus, cpu0 = one_cpu(0), cpu1 = one_cpu(1);
	struct wide_toggles t = { 0 };
	pthread_t toggler, reader;
	pthread_attr_t on_cpu1;

	if (intree_warns_on_zapped_munmap())
		SKIP("the in-tree vfio-pci WARNs in untrack_pfn on munmap of a zapped BAR mapping");
	CHECK(sysconf(_SC_NPROCESSORS_ONLN) >= 2);
	open_dev(EDU_VENDOR, EDU_DEVICE);
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	CHECK_OK(sigaction(SIGBUS, &sa, NULL));
	CHECK_OK(sigaction(SIGSEGV, &sa, NULL));
	atomic_store(&race_stop, false);
	atomic_store(&race_stale, 0);
	atomic_store(&race_bus_off, 0);
	atomic_store(&race_ok_on, 0);
	for (int i = 0; i < RACE_SLOTS; i++)
		atomic_store(&race_slot[i], NULL);
	/*
	 * The munmap()s on one vCPU, the toggler and the reader on the
	 * other: they run while a munmap() does, which is the window raced.
	 */
	CHECK_OK(-pthread_getaffinity_np(pthread_self(), sizeof(old_cpus), &old_cpus));
	CHECK_OK(-pthread_setaffinity_np(pthread_self(), sizeof(cpu0), &cpu0));
	CHECK_OK(-pthread_attr_init(&on_cpu1));
	CHECK_OK(-pthread_attr_setaffinity_np(&on_cpu1, sizeof(cpu1), &cpu1));
	CHECK_OK(-pthread_create(&toggler, &on_cpu1, race_toggler, &t));
	CHECK_OK(-pthread_create(&reader, &on_cpu1, race_reader, (void *)0));
	pthread_attr_destroy(&on_cpu1);

	for (int r = 0; r < WIDE_ROUNDS; r++) {
		char *anon = mmap(NULL, WIDE_ANON + PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		volatile uint32_t *bar;
		uint32_t v;

		CHECK(anon != MAP_FAILED);
		/*
		 * Small pages: 32 transparent huge pages would be freed in
		 * no time, 16384 small ones keep the window open.
		 */
		CHECK_OK(madvise(anon, WIDE_ANON, MADV_NOHUGEPAGE));
		for (size_t off = 0; off < WIDE_ANON; off += PAGE)
			anon[off] = 1;
		bar = mmap(anon + WIDE_ANON, PAGE, PROT_READ | PROT_WRITE,
			   MAP_SHARED | MAP_FIXED, d.device, BAR0);
		CHECK(bar == (void *)(anon + WIDE_ANON));
		while (!race_read(bar, &v))
			;	/* fault it in while decode is on */
		for (int i = 0; i < RACE_SLOTS; i++)
			atomic_store(&race_slot[i], bar);
		atomic_store(&wide_unmapping, r + 1);
		CHECK_OK(munmap(anon, WIDE_ANON + PAGE));
		atomic_store(&wide_unmapping, 0);
		for (int i = 0; i < RACE_SLOTS; i++)
			atomic_store(&race_slot[i], NULL);
	}
	atomic_store(&race_stop, true);
	pthread_join(toggler, NULL);
	pthread_join(reader, NULL);
	CHECK_OK(-pthread_setaffinity_np(pthread_self(), sizeof(old_cpus), &old_cpus));
	signal(SIGBUS, SIG_DFL);
	signal(SIGSEGV, SIG_DFL);

	printf("# %d wide munmaps, %lu raced by a decode-off, %lu decode toggles, reads: %lu faulted while off, %lu ok while on, %lu stale\n",
	       WIDE_ROUNDS, t.raced, t.toggles, atomic_load(&race_bus_off),
	       atomic_load(&race_ok_on), atomic_load(&race_stale));
	set_command(d.device, CMD_MEM, 0);
	vfio_dev_close(&d);
	CHECK_EQ(atomic_load(&race_stale), 0);
	/*
	 * The window was raced: the page was read through while the munmap()
	 * ran, and a decode-off was written in it in most rounds (all 30 in
	 * every run seen; half leaves room for a munmap() that ends before the
	 * toggler gets its turn).
	 */
	CHECK(atomic_load(&race_ok_on) > 0);
	CHECK(t.raced >= WIDE_ROUNDS / 2);
	return TEST_PASS;
}

/* ---- INTx ----------------------------------------------------------------- */

/*
 * edu's INTx line is already asserted when user space enables INTx with
 * COMMAND.INTX_DISABLE set: the eventfd stays quiet until INTX_DISABLE is
 * cleared.  Not run with nointxmask=1: on this bench a level interrupt
 * already asserted when its IOAPIC pin is unmasked is never delivered (on
 * both stacks, whatever the mask mode), so neither the quiet part nor the
 * delivery after the unmask can be observed there.
 */
static int test_intx_masked_at_enable(void)
{
	uint16_t hwcmd;
	int fd = eventfd_new();

	open_dev(EDU_VENDOR, EDU_DEVICE);
	vfio_dev_map_bar0(&d);
	/* The device may only assert INTx with its own INTX_DISABLE clear. */
	hwcmd = sysfs_cfg_read(d.bdf, PCI_COMMAND, 2);
	if (hwcmd & CMD_INTX_OFF)
		CHECK_OK(sysfs_cfg_write(d.bdf, PCI_COMMAND, hwcmd & ~CMD_INTX_OFF, 2));

	set_command(d.device, CMD_INTX_OFF, 0);
	edu_write32(&d, EDU_REG_IRQ_RAISE, 0x77);
	CHECK_EQ(edu_read32(&d, EDU_REG_IRQ_STATUS), 0x77);
	CHECK_OK(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd));
	CHECK_EQ(eventfd_wait(fd, QUIET_MS), 0);
	/* UNMASK does not override INTX_DISABLE. */
	CHECK_OK(__vfio_irq_set(d.device, VFIO_PCI_INTX_IRQ_INDEX,
				VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
				0, 1, NULL, 0));
	CHECK_EQ(eventfd_wait(fd, QUIET_MS), 0);

	set_command(d.device, 0, CMD_INTX_OFF);
	CHECK_EQ(eventfd_wait(fd, WAIT_MS), 1);
	edu_write32(&d, EDU_REG_IRQ_ACK, 0x77);
	CHECK_OK(__vfio_irq_set(d.device, VFIO_PCI_INTX_IRQ_INDEX,
				VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
				0, 1, NULL, 0));
	CHECK_EQ(eventfd_wait(fd, QUIET_MS), 0);
	/* And it keeps working. */
	edu_write32(&d, EDU_REG_IRQ_RAISE, 0x78);
	CHECK_EQ(eventfd_wait(fd, WAIT_MS), 1);
	edu_write32(&d, EDU_REG_IRQ_ACK, 0x78);
	CHECK_OK(__vfio_irq_disable(d.device, VFIO_PCI_INTX_IRQ_INDEX));
	vfio_dev_close(&d);
	close(fd);
	return TEST_PASS;
}

/*
 * INTx enabled masked (COMMAND.INTX_DISABLE set), with nothing pending:
 * quiet; INTX_DISABLE cleared, each raise then arrives once and is
 * automasked until UNMASK.  With nointxmask=1 this is the exclusive line
 * requested disabled (IRQF_NO_AUTOEN) and enabled by the unmask: one
 * disable too many and it would never fire.
 */
static int test_intx_masked_at_enable_then_raise(void)
{
	uint16_t hwcmd;
	int fd = eventfd_new();

	open_dev(EDU_VENDOR, EDU_DEVICE);
	vfio_dev_map_bar0(&d);
	hwcmd = sysfs_cfg_read(d.bdf, PCI_COMMAND, 2);
	if (hwcmd & CMD_INTX_OFF)
		CHECK_OK(sysfs_cfg_write(d.bdf, PCI_COMMAND, hwcmd & ~CMD_INTX_OFF, 2));

	set_command(d.device, CMD_INTX_OFF, 0);
	CHECK_OK(__vfio_irq_enable_eventfds(d.device, VFIO_PCI_INTX_IRQ_INDEX, 0, 1, &fd));
	CHECK_EQ(eventfd_wait(fd, QUIET_MS), 0);
	set_command(d.device, 0, CMD_INTX_OFF);
	CHECK_EQ(eventfd_wait(fd, QUIET_MS), 0);
	for (uint32_t v = 1; v <= 3; v++) {
		edu_write32(&d, EDU_REG_IRQ_RAISE, v);
		CHECK_EQ(eventfd_wait(fd, WAIT_MS), 1);
		edu_write32(&d, EDU_REG_IRQ_ACK, v);
		CHECK_OK(__vfio_irq_set(d.device, VFIO_PCI_INTX_IRQ_INDEX,
					VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK,
					0, 1, NULL, 0));
	}
	CHECK_EQ(eventfd_wait(fd, QUIET_MS), 0);
	CHECK_OK(__vfio_irq_disable(d.device, VFIO_PCI_INTX_IRQ_INDEX));
	vfio_dev_close(&d);
	close(fd);
	return TEST_PASS;
}

/* ---- what the kernel writes back ---------------------------------------------- */

static int test_info_padding(void)
{
	uint8_t buf[64];
	struct vfio_device_info *di = (void *)buf;
	struct vfio_irq_info *ii = (void *)buf;

	open_dev(EDU_VENDOR, EDU_DEVICE);

	/* GET_INFO fills up to cap_offset; its pad and beyond are the caller's. */
	memset(buf, 0xa5, sizeof(buf));
	di->argsz = sizeof(*di);
	CHECK_OK(ioctl(d.device, VFIO_DEVICE_GET_INFO, di));
	CHECK_EQ(di->cap_offset, 0);
	CHECK_EQ(di->num_irqs, VFIO_PCI_NUM_IRQS);
	for (size_t i = offsetofend(struct vfio_device_info, cap_offset); i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0xa5);
	/* A pre-capability caller (argsz 16) gets 16 bytes. */
	memset(buf, 0xa5, sizeof(buf));
	di->argsz = offsetofend(struct vfio_device_info, num_irqs);
	CHECK_OK(ioctl(d.device, VFIO_DEVICE_GET_INFO, di));
	for (size_t i = di->argsz; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0xa5);

	/* GET_REGION_INFO: 32 bytes, nothing past them with no capability. */
	memset(buf, 0xa5, sizeof(buf));
	CHECK_OK(region_info_buf(d.device, VFIO_PCI_CONFIG_REGION_INDEX, buf, sizeof(buf)));
	for (size_t i = sizeof(struct vfio_region_info); i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0xa5);

	/* GET_IRQ_INFO: 16 bytes. */
	memset(buf, 0xa5, sizeof(buf));
	ii->argsz = sizeof(buf);
	ii->index = VFIO_PCI_INTX_IRQ_INDEX;
	CHECK_OK(ioctl(d.device, VFIO_DEVICE_GET_IRQ_INFO, ii));
	CHECK_EQ(ii->count, 1);
	for (size_t i = sizeof(*ii); i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0xa5);

	/* A BAR read writes the bytes read; config reads of 1 to 3 bytes too. */
	memset(buf, 0xa5, sizeof(buf));
	CHECK_EQ(pread(d.device, buf, 4, BAR0 + EDU_REG_ID), 4);
	for (size_t i = 4; i < sizeof(buf); i++)
		CHECK_EQ(buf[i], 0xa5);
	for (int n = 1; n <= 3; n++) {
		memset(buf, 0xa5, sizeof(buf));
		CHECK_EQ(pread(d.device, buf, n, VFIO_PCI_OFFSET(VFIO_PCI_CONFIG_REGION_INDEX) + 1), n);
		for (size_t i = n; i < sizeof(buf); i++)
			CHECK_EQ(buf[i], 0xa5);
	}
	vfio_dev_close(&d);
	return TEST_PASS;
}

/* start + count must not wrap around to pass the range check. */
static int test_set_irqs_wrap(void)
{
	int32_t fds[2] = { -1, -1 };

	open_dev(EDU_VENDOR, EDU_DEVICE);
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_MSI_IRQ_INDEX,
				VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				1, 0xffffffff, fds, sizeof(fds)), -EINVAL);
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_INTX_IRQ_INDEX,
				VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
				0xffffffff, 1, NULL, 0), -EINVAL);
	CHECK_EQ(__vfio_irq_set(d.device, VFIO_PCI_INTX_IRQ_INDEX,
				VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
				0x80000000, 0x80000001, NULL, 0), -EINVAL);
	vfio_dev_close(&d);
	return TEST_PASS;
}

/*
 * Names no device has, of 4094 bytes (the most GET_DEVICE_FD takes: a
 * page with its NUL) and of 64.  Both fail the same way.
 */
static int test_device_name_long(void)
{
	static char name[PAGE];
	int group_id, container, group;

	open_dev(EDU_VENDOR, EDU_DEVICE);
	group_id = d.group_id;
	vfio_dev_close(&d);
	container = vfio_container_open();
	group = vfio_group_open(group_id);
	vfio_group_set_container(group, container);
	vfio_set_iommu(container, VFIO_TYPE1v2_IOMMU);

	memset(name, 'a', PAGE - 2);
	name[PAGE - 2] = 0;
	CHECK_ERRNO(ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name), ENODEV);
	memset(name, 'b', 63);
	strcpy(name + 63, "c");
	CHECK_ERRNO(ioctl(group, VFIO_GROUP_GET_DEVICE_FD, name), ENODEV);
	close(group);
	close(container);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_msix_bar_info),
	TEST(test_msix_table_rw),
	TEST(test_bar_restore_decode_on),
	TEST(test_bar_restore_decode_off),
	TEST(test_mmap_race),
	TEST(test_mmap_race_wide),
	TEST(test_intx_masked_at_enable),
	TEST(test_intx_masked_at_enable_then_raise),
	TEST(test_info_padding),
	TEST(test_set_irqs_wrap),
	TEST(test_device_name_long),
};

int main(int argc, char **argv)
{
	return RUN_TESTS("pci_safety", tests, argc, argv);
}
