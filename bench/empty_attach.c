// SPDX-License-Identifier: GPL-2.0
/*
 * Attach the programs of a BPF object that do nothing (bench/empty.bpf.c)
 * and hold them until SIGINT or SIGTERM: the `empty` variant of
 * bench/guest.sh, the floor of what watching the DMA events costs.
 *
 *   empty_attach OBJECT
 *
 * Says "... Ctrl-C to end." on stderr once attached, as the tools do.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_program *prog;
	struct bpf_object *obj;
	sigset_t set, old;
	int n = 0, err;

	if (argc != 2) {
		fprintf(stderr, "usage: empty_attach OBJECT\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1], NULL);
	if (!obj) {
		fprintf(stderr, "empty_attach: cannot open %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "empty_attach: cannot load %s: %s\n", argv[1], strerror(-err));
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		if (!bpf_program__attach(prog)) {
			fprintf(stderr, "empty_attach: cannot attach %s: %s\n",
				bpf_program__name(prog), strerror(errno));
			return 1;
		}
		n++;
	}
	/* Blocked but inside sigsuspend(): no signal slips in before the wait. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, &old);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fprintf(stderr, "%d empty programs attached... Ctrl-C to end.\n", n);
	while (!stop)
		sigsuspend(&old);
	bpf_object__close(obj);
	return 0;
}
