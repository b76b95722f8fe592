// SPDX-License-Identifier: GPL-2.0
/* VFIO in use where the tools cannot see it (unseen.h). */
#define _GNU_SOURCE		/* getdents64 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "unseen.h"

/* A line names this many processes, then says how many more. */
#define UNSEEN_LINE_MAX 8

static const char *const via_names[UNSEEN_NR_VIA] = {
	"iommufd", "cdev", "iommufd_container",
};

const char *unseen_via_name(unsigned int via)
{
	int i;

	for (i = 0; i < UNSEEN_NR_VIA; i++)
		if (via == 1U << i)
			return via_names[i];
	return "unknown";
}

static bool exists(const char *path)
{
	return !access(path, F_OK);
}

/*
 * CONFIG_IOMMUFD_VFIO_CONTAINER from the running kernel's config: 1 set,
 * 0 not set, -1 no config to read.  Read once: it cannot change.
 */
static int config_iommufd_container(void)
{
	static const char opt[] = "CONFIG_IOMMUFD_VFIO_CONTAINER=y";
	static int cached = -2;
	char path[128 + sizeof(((struct utsname *)0)->release)], line[256];
	struct utsname u;
	gzFile f;

	if (cached != -2)
		return cached;
	cached = -1;
	/* gzread reads a plain file as it is: one reader for both. */
	f = gzopen("/proc/config.gz", "rb");
	if (!f && !uname(&u)) {
		snprintf(path, sizeof(path), "/boot/config-%s", u.release);
		f = gzopen(path, "rb");
	}
	if (!f)
		return cached;
	cached = 0;
	while (gzgets(f, line, sizeof(line)))
		if (!strncmp(line, opt, sizeof(opt) - 1)) {
			cached = 1;
			break;
		}
	gzclose(f);
	return cached;
}

bool unseen_container_is_iommufd(void)
{
	int config;

	/* The misc device "vfio" (/dev/vfio/vfio) is registered by someone. */
	if (!exists("/sys/class/misc/vfio"))
		return false;
	config = config_iommufd_container();
	if (config >= 0)
		return config;
	/*
	 * No config: iommufd's module (its parameters, even built in) and no
	 * legacy backend.  vfio.ko's soft dependency loads vfio_iommu_type1
	 * with it, so a legacy kernel lacks both only if the backend was
	 * removed by hand; its containers can map nothing then.
	 */
	return exists("/sys/module/iommufd") &&
	       !exists("/sys/module/vfio_iommu_type1") &&
	       !exists("/sys/module/vfio_iommu_spapr_tce");
}

static bool path_matches(const char *link, const struct unseen_path *p, size_t len)
{
	if (strncmp(link, p->path, len))
		return false;
	if (p->path[len - 1] == '/')
		return link[len] != '\0';
	/* The node unlinked while held still counts. */
	return !link[len] || !strcmp(link + len, " (deleted)");
}

/*
 * An fd's entry is at most 32 bytes (19 + "2147483647" + NUL, 8-aligned):
 * getdents64 stopping with more room than that left has listed them all,
 * and the call that would say so is saved (one process, one call).
 */
#define FD_DIRENT_MAX 32

/* The via bits of the files process pid (a /proc entry name) holds. */
static unsigned int process_via(int proc_fd, const char *pid,
				const struct unseen_path *paths, const size_t *lens,
				size_t nr_paths)
{
	unsigned int via = 0, all = 0;
	char path[32], link[256];
	char buf[8192] __attribute__((aligned(8)));
	ssize_t n, off, len;
	size_t i;
	int fd;

	for (i = 0; i < nr_paths; i++)
		all |= paths[i].via;
	snprintf(path, sizeof(path), "%s/fd", pid);
	fd = openat(proc_fd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* gone, or not ours to read */
	do {
		n = getdents64(fd, buf, sizeof(buf));
		for (off = 0; off < n && via != all; off += ((struct dirent64 *)(buf + off))->d_reclen) {
			const char *name = ((struct dirent64 *)(buf + off))->d_name;

			if (name[0] == '.')
				continue;
			len = readlinkat(fd, name, link, sizeof(link) - 1);
			if (len <= 0)
				continue;	/* closed meanwhile */
			link[len] = '\0';
			for (i = 0; i < nr_paths; i++)
				if (path_matches(link, &paths[i], lens[i]))
					via |= paths[i].via;
		}
	} while (n > 0 && via != all && n > (ssize_t)sizeof(buf) - FD_DIRENT_MAX);
	close(fd);
	return via;
}

/* /proc/PID/comm; false when the process is gone. */
static bool read_comm(int proc_fd, const char *pid, char *comm, size_t len)
{
	char path[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/comm", pid);
	fd = openat(proc_fd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, comm, len - 1);
	close(fd);
	if (n <= 0)
		return false;
	if (comm[n - 1] == '\n')
		n--;
	comm[n] = '\0';
	return true;
}

static int add_proc(struct unseen *u, pid_t pid, unsigned int via, const char *comm)
{
	struct unseen_proc *p;

	if (u->nr == u->cap) {
		size_t cap = u->cap ? u->cap * 2 : 8;

		p = realloc(u->procs, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		u->procs = p;
		u->cap = cap;
	}
	p = &u->procs[u->nr++];
	p->pid = pid;
	p->via = via;
	snprintf(p->comm, sizeof(p->comm), "%s", comm);
	return 0;
}

/* A process's entry in /proc: its pid, or 0 for another entry. */
static pid_t proc_entry_pid(const char *name)
{
	long v = 0;

	for (; *name; name++) {
		if (*name < '0' || *name > '9' || v > 1L << 30)
			return 0;
		v = v * 10 + (*name - '0');
	}
	return v;
}

static int check_proc(struct unseen *u, int proc_fd, const char *name, pid_t pid,
		      const struct unseen_path *paths, const size_t *lens, size_t nr_paths)
{
	unsigned int via = process_via(proc_fd, name, paths, lens, nr_paths);
	char comm[16];

	if (!via || !read_comm(proc_fd, name, comm, sizeof(comm)))
		return 0;
	return add_proc(u, pid, via, comm);
}

static int proc_cmp(const void *a, const void *b)
{
	const struct unseen_proc *x = a, *y = b;

	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static uint64_t monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

#define UNSEEN_MAX_PATHS 8

static int path_lens(const struct unseen_path *paths, size_t nr_paths, size_t *lens)
{
	size_t i;

	if (nr_paths > UNSEEN_MAX_PATHS)
		return -E2BIG;
	for (i = 0; i < nr_paths; i++)
		lens[i] = strlen(paths[i].path);
	return 0;
}

int unseen_scan_paths(struct unseen *u, const struct unseen_path *paths,
		      size_t nr_paths, pid_t only)
{
	uint64_t start = monotonic_ns();
	size_t lens[UNSEEN_MAX_PATHS];
	struct dirent *de;
	char name[16];
	int proc_fd, err;
	DIR *proc;
	pid_t pid;

	u->nr = 0;
	err = path_lens(paths, nr_paths, lens);
	proc = err ? NULL : opendir("/proc");
	if (!err && !proc)
		err = -errno;
	if (only && proc) {
		snprintf(name, sizeof(name), "%d", only);
		err = check_proc(u, dirfd(proc), name, only, paths, lens, nr_paths);
	}
	/* Processes only: threads share their leader's fd table. */
	proc_fd = proc ? dirfd(proc) : -1;
	while (!only && proc && !err && (de = readdir(proc))) {
		pid = proc_entry_pid(de->d_name);
		if (pid)
			err = check_proc(u, proc_fd, de->d_name, pid, paths, lens, nr_paths);
	}
	if (proc)
		closedir(proc);
	if (!err)
		qsort(u->procs, u->nr, sizeof(*u->procs), proc_cmp);
	u->err = err;
	u->walked_ns = start;
	u->walk_cost_ns = monotonic_ns() - start;
	return err;
}

int unseen_recheck_paths(struct unseen *u, const struct unseen_path *paths,
			 size_t nr_paths)
{
	size_t lens[UNSEEN_MAX_PATHS], i, kept = 0;
	struct unseen_proc *p;
	char name[16];
	int proc_fd, err;

	err = path_lens(paths, nr_paths, lens);
	if (err)
		return u->err = err;
	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0)
		return u->err = -errno;
	for (i = 0; i < u->nr; i++) {
		p = &u->procs[i];
		snprintf(name, sizeof(name), "%d", p->pid);
		/* Its comm read again: the pid may be another process's now. */
		p->via = process_via(proc_fd, name, paths, lens, nr_paths);
		if (p->via && read_comm(proc_fd, name, p->comm, sizeof(p->comm)))
			u->procs[kept++] = *p;
	}
	close(proc_fd);
	u->nr = kept;
	return 0;
}

static const struct unseen_path default_paths[] = {
	{ "/dev/iommu", UNSEEN_IOMMUFD },
	{ "/dev/vfio/devices/", UNSEEN_CDEV },
	{ "/dev/vfio/vfio", UNSEEN_IOMMUFD_CONTAINER },	/* last: only when iommufd's */
};

/*
 * How many of default_paths mean unseen use here, now.  0 when no node and
 * no device exists: nobody can hold one then (iommufd cannot unload while
 * its files are open, a vfio device's unregistration waits for its
 * files), so a host without them pays a few stats, not a walk.
 */
static size_t watched_paths(void)
{
	if (unseen_container_is_iommufd())
		return 3;
	if (exists("/dev/iommu") || exists("/dev/vfio/devices") ||
	    exists("/sys/class/misc/iommu") || exists("/sys/class/vfio-dev"))
		return 2;
	return 0;
}

int unseen_scan(struct unseen *u, pid_t only)
{
	size_t n = watched_paths();

	if (n)
		return unseen_scan_paths(u, default_paths, n, only);
	u->nr = 0;
	u->err = 0;
	u->walked_ns = monotonic_ns();
	u->walk_cost_ns = 0;
	return 0;
}

int unseen_update(struct unseen *u, pid_t only)
{
	size_t n;

	if (!u->walked_ns || u->err ||
	    monotonic_ns() - u->walked_ns >= UNSEEN_WALK_EVERY * u->walk_cost_ns)
		return unseen_scan(u, only);
	n = watched_paths();
	if (!n) {
		u->nr = 0;
		return 0;
	}
	return unseen_recheck_paths(u, default_paths, n);
}

static void via_list(FILE *f, unsigned int via)
{
	const char *sep = "";
	int i;

	for (i = 0; i < UNSEEN_NR_VIA; i++) {
		if (!(via & (1U << i)))
			continue;
		fprintf(f, "%s%s", sep, via_names[i]);
		sep = ", ";
	}
}

void unseen_print(FILE *f, const struct unseen *u)
{
	size_t i;

	if (u->err) {
		fprintf(f, "warning: cannot tell whether VFIO is used through iommufd/cdev: /proc: %s\n",
			strerror(-u->err));
		return;
	}
	if (!u->nr)
		return;
	fprintf(f, "warning: %zu %s VFIO through iommufd/cdev, not seen: ", u->nr,
		u->nr == 1 ? "process uses" : "processes use");
	for (i = 0; i < u->nr && i < UNSEEN_LINE_MAX; i++) {
		fprintf(f, "%s%d %s (", i ? ", " : "", u->procs[i].pid, u->procs[i].comm);
		via_list(f, u->procs[i].via);
		fputc(')', f);
	}
	if (u->nr > UNSEEN_LINE_MAX)
		fprintf(f, ", and %zu more", u->nr - UNSEEN_LINE_MAX);
	fputc('\n', f);
}

void unseen_json(struct json *j, const struct unseen *u)
{
	size_t i;
	int k;

	if (u->err) {
		json_null(j, "unseen");
		return;
	}
	json_arr_open(j, "unseen");
	for (i = 0; i < u->nr; i++) {
		json_obj_open(j, NULL);
		json_u64(j, "pid", u->procs[i].pid);
		json_str(j, "comm", u->procs[i].comm);
		json_arr_open(j, "via");
		for (k = 0; k < UNSEEN_NR_VIA; k++)
			if (u->procs[i].via & (1U << k))
				json_str(j, NULL, via_names[k]);
		json_arr_close(j);
		json_obj_close(j);
	}
	json_arr_close(j);
}

void unseen_free(struct unseen *u)
{
	free(u->procs);
	*u = (struct unseen){};
}

/* The tools are single-threaded: one list, kept for the next report. */
static struct unseen report_list;

void unseen_report_text(FILE *f, pid_t only)
{
	unseen_update(&report_list, only);
	unseen_print(f, &report_list);
}

void unseen_report_json(struct json *j, pid_t only)
{
	unseen_update(&report_list, only);
	unseen_json(j, &report_list);
}
