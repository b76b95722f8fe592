// SPDX-License-Identifier: GPL-2.0
/*
 * For tests/bpf/vfio_lat_test.c: a program that runs for a while, to check
 * that lat_wait_programs() returns only after a program that was running
 * when it was called has finished.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

const volatile __u32 rounds = 8;

/* Set by the program; the test reads them through the mmapped .bss. */
__u32 started, done;

static long idle(__u64 i, void *ctx)
{
	return 0;
}

SEC("raw_tp/lat_spin")
int lat_spin(void *ctx)
{
	__u32 i;

	started = 1;
	for (i = 0; i < rounds && i < 64; i++)
		bpf_loop(1 << 23, idle, NULL, 0);
	done = 1;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
