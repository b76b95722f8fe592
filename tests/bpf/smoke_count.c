// SPDX-License-Identifier: GPL-2.0
/*
 * Guest side of the smoke test: attach smoke.bpf.c to the module's
 * tracepoint one way (tp_btf or raw_tp), fire it N times through debugfs,
 * and print what the program counted.
 *
 *   smoke_count tp_btf|raw_tp N
 */
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "smoke.skel.h"

#define FIRE_PATH "/sys/kernel/debug/vfioscope_smoke/fire"

static int fire(unsigned int n)
{
	char buf[32];
	int fd, len, ret = 0;

	fd = open(FIRE_PATH, O_WRONLY);
	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%u", n);
	if (write(fd, buf, len) != len)
		ret = -errno;
	close(fd);
	return ret;
}

int main(int argc, char **argv)
{
	struct bpf_program *use, *other;
	struct smoke *skel;
	unsigned int n;
	int err;

	if (argc != 3 || (strcmp(argv[1], "tp_btf") && strcmp(argv[1], "raw_tp"))) {
		fprintf(stderr, "usage: smoke_count tp_btf|raw_tp N\n");
		return 2;
	}
	n = strtoul(argv[2], NULL, 0);

	skel = smoke__open();
	if (!skel) {
		fprintf(stderr, "failed to open BPF skeleton: %s\n", strerror(errno));
		return 1;
	}
	use = strcmp(argv[1], "tp_btf") ? skel->progs.smoke_raw_tp : skel->progs.smoke_tp_btf;
	other = use == skel->progs.smoke_raw_tp ? skel->progs.smoke_tp_btf : skel->progs.smoke_raw_tp;
	bpf_program__set_autoload(other, false);

	err = smoke__load(skel);
	if (err) {
		fprintf(stderr, "failed to load BPF skeleton: %s\n", strerror(-err));
		goto cleanup;
	}
	err = smoke__attach(skel);
	if (err) {
		fprintf(stderr, "failed to attach %s: %s\n", argv[1], strerror(-err));
		goto cleanup;
	}
	err = fire(n);
	if (err) {
		fprintf(stderr, "failed to write %s: %s\n", FIRE_PATH, strerror(-err));
		goto cleanup;
	}
	printf("events=%llu seq_sum=%llu bad_cookies=%llu\n",
	       (unsigned long long)skel->bss->events,
	       (unsigned long long)skel->bss->seq_sum,
	       (unsigned long long)skel->bss->bad_cookies);
cleanup:
	smoke__destroy(skel);
	return err ? 1 : 0;
}
