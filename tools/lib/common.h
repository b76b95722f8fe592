/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every vfioscope tool does the same way: the options -p, -T, -v,
 * -j, --attach, --btf, -h and [interval] [count]; the libbpf log; Ctrl-C;
 * choosing the programs to load (attach.h) and the BTF to relocate them
 * against; and the lost-event counter.
 */
#ifndef __COMMON_H
#define __COMMON_H

#include <argp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include <bpf/libbpf.h>

#include "attach.h"
#include "json.h"
#include "vfio_tools.h"

struct common_env {
	pid_t pid;			/* -p: only this process, 0 for all */
	bool timestamp;			/* -T */
	bool verbose;			/* -v */
	bool json;			/* -j */
	enum vfio_attach_mode attach;	/* --attach, ATTACH_NONE = detect */
	const char *btf;		/* --btf: the kernel's BTF as a file, or NULL */
	long interval;			/* seconds, 0: only when leaving */
	long count;			/* reports, 0: until Ctrl-C */
	int nr_positional;
};

#define COMMON_OPT_ATTACH 0x1000
#define COMMON_OPT_BTF 0x1001

/* The entries of every tool's argp_option array (before its own). */
#define COMMON_OPTIONS							\
	{ "pid", 'p', "PID", 0, "Show this process only", 0 },		\
	{ "timestamp", 'T', NULL, 0, "Print a timestamp with each report", 0 }, \
	{ "json", 'j', NULL, 0, "JSON output, one object per line", 0 },	\
	{ "verbose", 'v', NULL, 0, "Say how the tool attached; libbpf debug output", 0 }, \
	{ "attach", COMMON_OPT_ATTACH, "MODE", 0,			\
	  "Load our own programs in MODE, tp_btf, raw_tp or fentry; or auto " \
	  "(the default): the exporter's collector if it runs, else detect", 0 }, \
	COMMON_OPTION_BTF

/*
 * -h: the same as argp's own -? and --help (the help on standard output,
 * exit 0), listed on a line of its own just under them: argp cannot give
 * its --help another short name.  Last in every tool's list, the
 * exporter's too.
 */
#define COMMON_OPTION_HELP						\
	{ NULL, 'h', NULL, 0, "Give this help list (as -?, --help)", -1 }

/* Also in vfio-exporter's own list. */
#define COMMON_OPTION_BTF						\
	{ "btf", COMMON_OPT_BTF, "FILE", 0,				\
	  "The kernel's BTF, for a kernel without /sys/kernel/btf/vmlinux " \
	  "(make writes build/kernel/RELEASE/vmlinux.btf)", 0 }

/*
 * Handle a common option or an [interval] [count] positional; returns
 * ARGP_ERR_UNKNOWN for the tool's own.  Call it first in parse_opt.
 */
error_t common_parse_opt(int key, char *arg, struct argp_state *state,
			 struct common_env *env);

/* libbpf_set_print() callback honouring -v; set the env first. */
void common_set_libbpf_print(const struct common_env *env);

/* SIGINT/SIGTERM set common_exiting. */
extern volatile sig_atomic_t common_exiting;
void common_setup_signals(void);

/*
 * Decide the attach mode (unless --attach forced one) and set the
 * programs' autoload; -v prints the choice to stderr.  Returns the mode,
 * or -ENODEV (message printed) when there is nothing to attach to.
 */
int common_choose_attach(struct bpf_object *obj, const struct common_env *env,
			 const char *tool);

/*
 * For an object with CO-RE relocations (the collector's, vfio-lat's):
 * libbpf relocates them against the kernel's BTF, or --btf's file.  When
 * there is neither (Debian's ppc64el 6.1 kernel has no BTF, and libbpf
 * finds none under /boot either), say so in one line and return -ENOENT.
 */
int common_check_core_btf(const struct common_env *env, const char *tool);

/* Sum the per-CPU lost map (bpf/lost.bpf.h) into n[LOST_NR_REASONS]. */
int lost_read(int map_fd, __u64 *n);
__u64 lost_total(const __u64 *n);
/* "ringbuf", "map_full", ...: the name every front end gives a reason. */
const char *lost_reason_name(int reason);
/*
 * The lost line and the "lost" JSON object: the reasons, plus the runs of
 * the programs the kernel skipped (a program already running on the CPU:
 * bpf_prog_info's recursion_misses), as one more reason and in the total:
 * an operation they cost is as lost as one the ring buffer refused.
 */
void lost_print(FILE *f, const __u64 *n, __u64 skipped);
void lost_json(struct json *j, const __u64 *n, __u64 skipped);

/*
 * The skipped runs of obj's loaded programs.  The kernel does not start a
 * program on a CPU where that program is already running; fentry/fexit
 * programs run with preemption on where the kernel has full preemption,
 * so a VFIO call can reach a program that another task on the same CPU
 * was preempted in: its operation is then missing, or its pinning time
 * short.
 */
int skipped_runs(struct bpf_object *obj, __u64 *n);
/* Add one loaded program's skipped runs to *n (a pinned program's too). */
int prog_add_skipped_runs(int prog_fd, __u64 *n);

/*
 * A hash map's keys (key_size bytes each, at most 64), into a malloc()ed
 * array of *nr.  A key deleted under the walk restarts it from the first,
 * so it stops after max keys: enough, and never endless.  -ENOMEM.
 */
int map_keys(int fd, size_t key_size, size_t max, void **keys, size_t *nr);

/*
 * "4096", "64K", "2M", "1G" (powers of 1024), in decimal only: "010" is 10,
 * "0x10" malformed.  -EINVAL if malformed, -ERANGE past 2^64 - 1 bytes.
 */
int parse_size(const char *s, __u64 *size);

/* "HH:MM:SS " for -T. */
void print_timestamp(FILE *f);

/* Sleep for the interval, waking early on a signal; false when exiting. */
bool common_wait_interval(const struct common_env *env);

/* The number of possible CPUs, for per-CPU map values (cached). */
int common_nr_cpus(void);

#endif /* __COMMON_H */
