// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/utsname.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>

#include "common.h"
#include "unseen.h"

volatile sig_atomic_t common_exiting;
static bool libbpf_verbose;

static long parse_long(const char *s, const char *what, struct argp_state *state,
		       long min, long max)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		argp_error(state, "invalid %s: %s", what, s);
	return v;
}

error_t common_parse_opt(int key, char *arg, struct argp_state *state,
			 struct common_env *env)
{
	switch (key) {
	case 'p':
		env->pid = parse_long(arg, "PID", state, 1, INT_MAX);	/* a pid_t */
		return 0;
	case 'T':
		env->timestamp = true;
		return 0;
	case 'j':
		env->json = true;
		return 0;
	case 'v':
		env->verbose = true;
		return 0;
	case 'h':
		argp_state_help(state, state->out_stream, ARGP_HELP_STD_HELP);
		return 0;
	case COMMON_OPT_ATTACH:
		if (attach_parse_mode(arg, &env->attach))
			argp_error(state, "unknown attach mode: %s (tp_btf, raw_tp, fentry, auto)", arg);
		return 0;
	case COMMON_OPT_BTF:
		/* Read now: a bad path is a bad flag, refused before any BPF. */
		if (access(arg, R_OK))
			argp_error(state, "cannot read BTF file %s: %s", arg, strerror(errno));
		env->btf = arg;
		return 0;
	case ARGP_KEY_ARG:
		if (env->nr_positional == 0)
			env->interval = parse_long(arg, "interval", state, 1, LONG_MAX);
		else if (env->nr_positional == 1)
			env->count = parse_long(arg, "count", state, 1, LONG_MAX);
		else
			argp_error(state, "unexpected argument: %s", arg);
		env->nr_positional++;
		return 0;
	default:
		return ARGP_ERR_UNKNOWN;
	}
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (level == LIBBPF_DEBUG && !libbpf_verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

void common_set_libbpf_print(const struct common_env *env)
{
	libbpf_verbose = env->verbose;
	libbpf_set_print(libbpf_print);
}

static void on_signal(int sig)
{
	common_exiting = 1;
}

void common_setup_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	/* No SA_RESTART: a signal must end the interval's sleep. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int common_choose_attach(struct bpf_object *obj, const struct common_env *env,
			 const char *tool)
{
	enum vfio_attach_mode mode = env->attach;
	char why[256] = "forced with --attach";

	if (mode == ATTACH_NONE)
		mode = attach_detect(why, sizeof(why));
	if (mode == ATTACH_NONE) {
		fprintf(stderr, "%s: nothing to attach to: %s (load vfio.ko, or Debian's vfio_iommu_type1)\n",
			tool, why);
		/* Not "no VFIO here" when VFIO is in use where we cannot see. */
		if (unseen_container_is_iommufd())
			fprintf(stderr, "%s: /dev/vfio/vfio is iommufd's container compatibility "
				"(CONFIG_IOMMUFD_VFIO_CONTAINER): its containers cannot be seen\n", tool);
		unseen_report_text(stderr, env->pid);
		return -ENODEV;
	}
	attach_select(obj, mode);
	if (env->verbose)
		fprintf(stderr, "%s: attaching with %s: %s\n", tool,
			attach_mode_name(mode), why);
	return mode;
}

static int libbpf_quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return 0;
}

int common_check_core_btf(const struct common_env *env, const char *tool)
{
	libbpf_print_fn_t print;
	struct utsname u;
	struct btf *btf;

	if (env->btf || attach_kernel_has_btf())
		return 0;
	/*
	 * libbpf's own search (/boot/vmlinux-RELEASE and the like), quietly:
	 * what is missing is said once, below.
	 */
	print = libbpf_set_print(libbpf_quiet);
	btf = btf__load_vmlinux_btf();
	libbpf_set_print(print);
	if (btf) {
		btf__free(btf);
		return 0;
	}
	uname(&u);
	fprintf(stderr, "%s: the kernel has no BTF (no /sys/kernel/btf/vmlinux, none under /boot): "
		"give it with --btf FILE (make writes build/kernel/%s/vmlinux.btf)\n", tool, u.release);
	return -ENOENT;
}

int common_nr_cpus(void)
{
	static int n;

	if (!n)
		n = libbpf_num_possible_cpus();
	return n;
}

int lost_read(int map_fd, __u64 *n)
{
	int cpus = common_nr_cpus(), cpu, err = 0;
	__u64 *vals;
	__u32 key;

	if (cpus < 0)
		return cpus;
	vals = calloc(cpus, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	for (key = 0; key < LOST_NR_REASONS; key++) {
		n[key] = 0;
		if (bpf_map_lookup_elem(map_fd, &key, vals)) {
			err = -errno;
			break;
		}
		for (cpu = 0; cpu < cpus; cpu++)
			n[key] += vals[cpu];
	}
	free(vals);
	return err;
}

__u64 lost_total(const __u64 *n)
{
	__u64 total = 0;
	int i;

	for (i = 0; i < LOST_NR_REASONS; i++)
		total += n[i];
	return total;
}

static const char *const lost_names[] = {
	[LOST_RINGBUF] = "ringbuf",
	[LOST_MAP_FULL] = "map_full",
	[LOST_STACK] = "stack",
	[LOST_ID_RANGE] = "id_range",
};
_Static_assert(sizeof(lost_names) / sizeof(lost_names[0]) == LOST_NR_REASONS,
	       "name every enum lost_reason");

const char *lost_reason_name(int reason)
{
	return reason >= 0 && reason < LOST_NR_REASONS ? lost_names[reason] : "unknown";
}

void lost_print(FILE *f, const __u64 *n, __u64 skipped)
{
	__u64 total = lost_total(n) + skipped;
	int i;

	fprintf(f, "lost events: %llu", (unsigned long long)total);
	if (total) {
		for (i = 0; i < LOST_NR_REASONS; i++)
			fprintf(f, " %s=%llu", lost_names[i], (unsigned long long)n[i]);
		fprintf(f, " skipped=%llu", (unsigned long long)skipped);
	}
	fputc('\n', f);
}

void lost_json(struct json *j, const __u64 *n, __u64 skipped)
{
	int i;

	json_obj_open(j, "lost");
	json_u64(j, "total", lost_total(n) + skipped);
	for (i = 0; i < LOST_NR_REASONS; i++)
		json_u64(j, lost_names[i], n[i]);
	json_u64(j, "skipped", skipped);
	json_obj_close(j);
}

int map_keys(int fd, size_t key_size, size_t max, void **keys, size_t *nr)
{
	char key[64], next[64];
	size_t cap = 0, n = 0;
	void *k = NULL, *grown;

	*keys = NULL;
	*nr = 0;
	if (key_size > sizeof(key))
		return -EINVAL;
	while (n < max && !bpf_map_get_next_key(fd, k, next)) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			grown = realloc(*keys, cap * key_size);
			if (!grown) {
				free(*keys);
				*keys = NULL;
				return -ENOMEM;
			}
			*keys = grown;
		}
		memcpy((char *)*keys + n * key_size, next, key_size);
		n++;
		memcpy(key, next, key_size);
		k = key;
	}
	*nr = n;
	return 0;
}

int prog_add_skipped_runs(int prog_fd, __u64 *n)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len))
		return -errno;
	*n += info.recursion_misses;
	return 0;
}

int skipped_runs(struct bpf_object *obj, __u64 *n)
{
	struct bpf_program *prog;
	int err;

	*n = 0;
	bpf_object__for_each_program(prog, obj) {
		int fd = bpf_program__fd(prog);

		if (fd < 0)	/* not loaded: another attach mode's */
			continue;
		err = prog_add_skipped_runs(fd, n);
		if (err)
			return err;
	}
	return 0;
}

int parse_size(const char *s, __u64 *size)
{
	unsigned long long v;
	unsigned int shift = 0;
	char *end;

	/* strtoull() would skip blanks and take a sign: "-1" as 2^64 - 1. */
	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	switch (*end) {
	case 'G': case 'g': shift = 30; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'K': case 'k': shift = 10; end++; break;
	}
	if (*end)
		return -EINVAL;
	if (v > ULLONG_MAX >> shift)
		return -ERANGE;
	*size = v << shift;
	return 0;
}

void print_timestamp(FILE *f)
{
	time_t t = time(NULL);
	struct tm tm;
	char buf[16];

	localtime_r(&t, &tm);
	strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
	fprintf(f, "%s ", buf);
}

bool common_wait_interval(const struct common_env *env)
{
	struct timespec ts = { .tv_sec = env->interval ? env->interval : 1 };

	if (common_exiting)
		return false;
	if (!env->interval) {
		/* No interval: one report when leaving; just wait for it. */
		pause();
		return false;
	}
	while (nanosleep(&ts, &ts) && errno == EINTR && !common_exiting)
		;
	return !common_exiting;
}
