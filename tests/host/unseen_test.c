// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of tools/lib/unseen.c: a process holding a watched file is
 * found with its pid, comm and how, and is gone from the list once it
 * closes it; processes exiting during a scan are skipped, never an error;
 * the line and the JSON field say it one way.  The watched files are made
 * in a temporary folder (unseen_scan_paths() takes the paths), so no
 * device node is needed.
 *
 * UNSEEN_TEST_PROCS=N makes test_scan_cost scan with N idle processes of
 * 16 fds each (default 100) and print the time per scan.
 */
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "unseen.h"

static char dir[] = "/tmp/unseen_test.XXXXXX";

/* dir/name, created empty. */
static const char *make_file(const char *name, char *buf, size_t len)
{
	int fd;

	snprintf(buf, len, "%s/%s", dir, name);
	fd = open(buf, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return NULL;
	close(fd);
	return buf;
}

struct holder {
	pid_t pid;
	int to, from;	/* pipes to and from the child */
};

/*
 * A child named comm holding the files open (NULL-terminated list); it
 * closes them on 'c', answers 'c', and exits at EOF, or with us.
 */
static int holder_start(struct holder *h, const char *comm, const char *const *files)
{
	int to[2], from[2], i;
	char c = 0;

	if (pipe(to) || pipe(from))
		return -1;
	h->pid = fork();
	if (h->pid < 0)
		return -1;
	if (!h->pid) {
		int fds[8], n = 0;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, comm);
		close(to[1]);
		close(from[0]);
		for (i = 0; files[i] && n < 8; i++)
			fds[n++] = open(files[i], O_RDONLY);
		write(from[1], "o", 1);
		while (read(to[0], &c, 1) == 1) {
			for (i = 0; i < n; i++)
				close(fds[i]);
			write(from[1], "c", 1);
		}
		_exit(0);
	}
	close(to[0]);
	close(from[1]);
	h->to = to[1];
	h->from = from[0];
	return read(h->from, &c, 1) == 1 && c == 'o' ? 0 : -1;
}

static int holder_close_files(struct holder *h)
{
	char c = 0;

	if (write(h->to, "c", 1) != 1)
		return -1;
	return read(h->from, &c, 1) == 1 && c == 'c' ? 0 : -1;
}

/* Killed: a later holder may hold a copy of our pipe, so EOF is not sure. */
static void holder_stop(struct holder *h)
{
	kill(h->pid, SIGKILL);
	close(h->to);
	close(h->from);
	waitpid(h->pid, NULL, 0);
}

static const struct unseen_proc *find(const struct unseen *u, pid_t pid)
{
	size_t i;

	for (i = 0; i < u->nr; i++)
		if (u->procs[i].pid == pid)
			return &u->procs[i];
	return NULL;
}

static int setup(void)
{
	return mkdtemp(dir) ? 0 : -1;
}

static void cleanup(void)
{
	char cmd[64];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	system(cmd);
}

/* A holder of a file under a watched folder: found, then gone once closed. */
static int test_found_then_closed(void)
{
	char devs[128], path[128];
	struct unseen_path paths[1] = { { devs, UNSEEN_CDEV } };
	struct unseen u = {};
	const struct unseen_proc *p;
	struct holder h;

	CHECK_OK(setup());
	snprintf(devs, sizeof(devs), "%s/devices/", dir);
	CHECK_OK(mkdir(devs, 0700));
	CHECK(make_file("devices/vfio0", path, sizeof(path)));
	CHECK_OK(holder_start(&h, "unseen_holder", (const char *[]){ path, NULL }));

	CHECK_EQ(unseen_scan_paths(&u, paths, 1, 0), 0);
	CHECK_EQ(u.nr, 1);
	p = find(&u, h.pid);
	CHECK(p);
	CHECK_EQ(strcmp(p->comm, "unseen_holder"), 0);
	CHECK_EQ(p->via, UNSEEN_CDEV);
	/* We hold nothing: not listed (the list is the holder only). */
	CHECK(!find(&u, getpid()));

	CHECK_OK(holder_close_files(&h));
	CHECK_EQ(unseen_scan_paths(&u, paths, 1, 0), 0);
	CHECK_EQ(u.nr, 0);
	holder_stop(&h);
	unseen_free(&u);
	cleanup();
	return TEST_PASS;
}

/*
 * An exact path matches itself only (and itself unlinked while held), a
 * folder ending in '/' matches the files under it only; one process with
 * both has both bits.
 */
static int test_paths_and_bits(void)
{
	char iommu[128], devs[128], dev0[128], other[128];
	struct unseen_path paths[2] = {
		{ iommu, UNSEEN_IOMMUFD }, { devs, UNSEEN_CDEV },
	};
	struct holder both, near, gone;
	struct unseen u = {};
	const struct unseen_proc *p;

	CHECK_OK(setup());
	snprintf(devs, sizeof(devs), "%s/devices/", dir);
	CHECK_OK(mkdir(devs, 0700));
	CHECK(make_file("iommu", iommu, sizeof(iommu)));
	CHECK(make_file("devices/vfio0", dev0, sizeof(dev0)));
	CHECK(make_file("iommu2", other, sizeof(other)));

	CHECK_OK(holder_start(&both, "unseen_both", (const char *[]){ iommu, dev0, NULL }));
	/* iommu2 and the folder itself: near misses. */
	devs[strlen(devs) - 1] = '\0';
	CHECK_OK(holder_start(&near, "unseen_near", (const char *[]){ other, devs, NULL }));
	strcat(devs, "/");
	CHECK_OK(holder_start(&gone, "unseen_unlinked", (const char *[]){ iommu, NULL }));

	CHECK_EQ(unseen_scan_paths(&u, paths, 2, 0), 0);
	CHECK_EQ(u.nr, 2);
	p = find(&u, both.pid);
	CHECK(p);
	CHECK_EQ(p->via, UNSEEN_IOMMUFD | UNSEEN_CDEV);
	CHECK(!find(&u, near.pid));
	CHECK(find(&u, gone.pid));
	/* Sorted by pid. */
	CHECK(u.procs[0].pid < u.procs[1].pid);

	/* The node unlinked while held: "PATH (deleted)", still a holder. */
	CHECK_OK(unlink(iommu));
	CHECK_EQ(unseen_scan_paths(&u, paths, 2, 0), 0);
	p = find(&u, gone.pid);
	CHECK(p);
	CHECK_EQ(p->via, UNSEEN_IOMMUFD);

	/* Only one process: the others are not looked at. */
	CHECK_EQ(unseen_scan_paths(&u, paths, 2, gone.pid), 0);
	CHECK_EQ(u.nr, 1);
	CHECK_EQ(u.procs[0].pid, gone.pid);
	CHECK_EQ(unseen_scan_paths(&u, paths, 2, near.pid), 0);
	CHECK_EQ(u.nr, 0);
	CHECK_EQ(unseen_scan_paths(&u, paths, 2, 0x7ffffff0), 0);	/* no such pid */
	CHECK_EQ(u.nr, 0);

	holder_stop(&both);
	holder_stop(&near);
	holder_stop(&gone);
	unseen_free(&u);
	cleanup();
	return TEST_PASS;
}

/*
 * Between walks the tools re-check the processes listed: one that closed
 * its file leaves the list at once, one that opened one joins it at the
 * next walk.
 */
static int test_recheck(void)
{
	char devs[128], path[128];
	struct unseen_path paths[1] = { { devs, UNSEEN_CDEV } };
	struct unseen u = {};
	struct holder a, b;

	CHECK_OK(setup());
	snprintf(devs, sizeof(devs), "%s/devices/", dir);
	CHECK_OK(mkdir(devs, 0700));
	CHECK(make_file("devices/vfio0", path, sizeof(path)));
	CHECK_OK(holder_start(&a, "unseen_a", (const char *[]){ path, NULL }));
	CHECK_EQ(unseen_scan_paths(&u, paths, 1, 0), 0);
	CHECK(u.walked_ns > 0);
	CHECK_EQ(u.nr, 1);
	CHECK_EQ(u.procs[0].pid, a.pid);

	CHECK_OK(holder_start(&b, "unseen_b", (const char *[]){ path, NULL }));
	CHECK_EQ(unseen_recheck_paths(&u, paths, 1), 0);
	CHECK_EQ(u.nr, 1);
	CHECK_EQ(u.procs[0].pid, a.pid);
	CHECK_EQ(strcmp(u.procs[0].comm, "unseen_a"), 0);

	CHECK_OK(holder_close_files(&a));
	CHECK_EQ(unseen_recheck_paths(&u, paths, 1), 0);
	CHECK_EQ(u.nr, 0);
	CHECK_EQ(unseen_scan_paths(&u, paths, 1, 0), 0);
	CHECK_EQ(u.nr, 1);
	CHECK_EQ(u.procs[0].pid, b.pid);

	/* Exited: dropped too. */
	holder_stop(&b);
	CHECK_EQ(unseen_recheck_paths(&u, paths, 1), 0);
	CHECK_EQ(u.nr, 0);
	holder_stop(&a);
	unseen_free(&u);
	cleanup();
	return TEST_PASS;
}

/* Processes exiting during the scans are skipped: every scan succeeds. */
static int test_churn(void)
{
	char devs[128], path[128];
	struct unseen_path paths[1] = { { devs, UNSEEN_CDEV } };
	struct unseen u = {};
	struct holder h;
	pid_t churn;
	int i;

	CHECK_OK(setup());
	snprintf(devs, sizeof(devs), "%s/devices/", dir);
	CHECK_OK(mkdir(devs, 0700));
	CHECK(make_file("devices/vfio0", path, sizeof(path)));
	CHECK_OK(holder_start(&h, "unseen_holder", (const char *[]){ path, NULL }));
	churn = fork();
	CHECK(churn >= 0);
	if (!churn) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (;;) {
			pid_t c = fork();

			if (!c) {
				/* Some hold the file too, and die holding it. */
				if (getpid() % 2)
					open(path, O_RDONLY);
				_exit(0);
			}
			if (c > 0)
				waitpid(c, NULL, 0);
		}
	}
	for (i = 0; i < 200; i++) {
		CHECK_EQ(unseen_scan_paths(&u, paths, 1, 0), 0);
		CHECK(find(&u, h.pid));
	}
	kill(churn, SIGKILL);
	waitpid(churn, NULL, 0);
	holder_stop(&h);
	unseen_free(&u);
	cleanup();
	return TEST_PASS;
}

static char *capture(void (*fn)(FILE *, const struct unseen *), const struct unseen *u)
{
	static char buf[1024];
	FILE *f = fmemopen(buf, sizeof(buf), "w");

	if (!f)
		return NULL;
	fn(f, u);
	fclose(f);
	return buf;
}

static void print_json(FILE *f, const struct unseen *u)
{
	struct json j;

	json_init(&j, f);
	json_obj_open(&j, NULL);
	unseen_json(&j, u);
	json_obj_close(&j);
}

static int test_line_and_json(void)
{
	struct unseen_proc procs[10] = {
		{ 812, UNSEEN_IOMMUFD | UNSEEN_CDEV, "qemu-system-x86" },
		{ 900, UNSEEN_IOMMUFD_CONTAINER, "dpdk" },
	};
	struct unseen u = { .procs = procs, .nr = 0 };
	char *s;
	int i;

	/* None: no line, an empty list. */
	s = capture(unseen_print, &u);
	CHECK_EQ(strcmp(s, ""), 0);
	s = capture(print_json, &u);
	CHECK_EQ(strcmp(s, "{\"unseen\":[]}\n"), 0);

	u.nr = 1;
	s = capture(unseen_print, &u);
	CHECK_EQ(strcmp(s, "warning: 1 process uses VFIO through iommufd/cdev, not seen: "
			"812 qemu-system-x86 (iommufd, cdev)\n"), 0);
	u.nr = 2;
	s = capture(unseen_print, &u);
	CHECK_EQ(strcmp(s, "warning: 2 processes use VFIO through iommufd/cdev, not seen: "
			"812 qemu-system-x86 (iommufd, cdev), 900 dpdk (iommufd_container)\n"), 0);
	s = capture(print_json, &u);
	CHECK_EQ(strcmp(s, "{\"unseen\":[{\"pid\":812,\"comm\":\"qemu-system-x86\","
			"\"via\":[\"iommufd\",\"cdev\"]},{\"pid\":900,\"comm\":\"dpdk\","
			"\"via\":[\"iommufd_container\"]}]}\n"), 0);

	/* A long list: eight named, then how many more. */
	for (i = 0; i < 10; i++)
		procs[i] = (struct unseen_proc){ 100 + i, UNSEEN_CDEV, "p" };
	u.nr = 10;
	s = capture(unseen_print, &u);
	CHECK_EQ(strcmp(s, "warning: 10 processes use VFIO through iommufd/cdev, not seen: "
			"100 p (cdev), 101 p (cdev), 102 p (cdev), 103 p (cdev), "
			"104 p (cdev), 105 p (cdev), 106 p (cdev), 107 p (cdev), "
			"and 2 more\n"), 0);

	/* /proc unreadable: unknown, not none. */
	u.err = -ENOENT;
	s = capture(print_json, &u);
	CHECK_EQ(strcmp(s, "{\"unseen\":null}\n"), 0);
	s = capture(unseen_print, &u);
	CHECK(strstr(s, "warning: cannot tell whether VFIO is used through iommufd/cdev"));
	return TEST_PASS;
}

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

/* The processes, and their fds: what a scan reads links of. */
static long count_fds(long *procs)
{
	struct dirent *de, *fe;
	char path[300];
	DIR *d, *fd_dir;
	long n = 0;

	*procs = 0;
	d = opendir("/proc");
	while (d && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/fd", de->d_name);
		(*procs)++;
		fd_dir = opendir(path);
		while (fd_dir && (fe = readdir(fd_dir)))
			n += fe->d_name[0] != '.';
		if (fd_dir)
			closedir(fd_dir);
	}
	if (d)
		closedir(d);
	return n;
}

/*
 * The cost of a scan with many processes: N idle ones holding 16 fds
 * each, one of them the holder; the scan must find it, and only it.
 */
static int test_scan_cost(void)
{
	const char *env = getenv("UNSEEN_TEST_PROCS");
	long n = env ? atol(env) : 100, i, fds, procs;
	char devs[128], path[128];
	struct unseen_path paths[2] = {
		{ "/dev/iommu", UNSEEN_IOMMUFD }, { devs, UNSEEN_CDEV },
	};
	struct unseen u = {};
	struct holder h;
	double t0, full, recheck, gated;
	pid_t *kids;
	int rounds = 20, r, ready[2];
	char c;

	CHECK(n > 0);
	CHECK_OK(setup());
	snprintf(devs, sizeof(devs), "%s/devices/", dir);
	CHECK_OK(mkdir(devs, 0700));
	CHECK(make_file("devices/vfio0", path, sizeof(path)));
	kids = calloc(n, sizeof(*kids));
	CHECK(kids);
	CHECK_OK(pipe(ready));
	for (i = 0; i < n; i++) {
		kids[i] = fork();
		CHECK(kids[i] >= 0);
		if (!kids[i]) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			for (r = 0; r < 16; r++)
				open("/dev/null", O_RDONLY);
			write(ready[1], "r", 1);
			pause();
			_exit(0);
		}
	}
	for (i = 0; i < n; i++)
		CHECK_EQ(read(ready[0], &c, 1), 1);
	CHECK_OK(holder_start(&h, "unseen_holder", (const char *[]){ path, NULL }));

	CHECK_EQ(unseen_scan_paths(&u, paths, 2, 0), 0);
	CHECK_EQ(u.nr, 1);
	CHECK_EQ(u.procs[0].pid, h.pid);
	t0 = now_us();
	for (r = 0; r < rounds; r++)
		CHECK_EQ(unseen_scan_paths(&u, paths, 2, 0), 0);
	full = (now_us() - t0) / rounds;
	t0 = now_us();
	for (r = 0; r < rounds; r++)
		CHECK_EQ(unseen_recheck_paths(&u, paths, 2), 0);
	recheck = (now_us() - t0) / rounds;
	CHECK_EQ(u.nr, 1);
	/* The tools' scan: a few stats when no watched node or device exists. */
	t0 = now_us();
	for (r = 0; r < rounds; r++)
		CHECK_EQ(unseen_scan(&u, 0), 0);
	gated = (now_us() - t0) / rounds;

	fds = count_fds(&procs);
	printf("# a walk of %ld processes, %ld fds: %.0f us, %.2f us per fd; "
	       "a re-check of the one listed: %.1f us; unseen_scan() here: %.1f us\n",
	       procs, fds, full, fds ? full / fds : 0, recheck, gated);

	for (i = 0; i < n; i++)
		kill(kids[i], SIGKILL);
	for (i = 0; i < n; i++)
		waitpid(kids[i], NULL, 0);
	free(kids);
	holder_stop(&h);
	unseen_free(&u);
	cleanup();
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_found_then_closed),
	TEST(test_paths_and_bits),
	TEST(test_recheck),
	TEST(test_churn),
	TEST(test_line_and_json),
	TEST(test_scan_cost),
};

int main(int argc, char **argv)
{
	return RUN_TESTS_FORKED("host/unseen", tests, argc, argv);
}
