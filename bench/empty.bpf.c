// SPDX-License-Identifier: GPL-2.0
/*
 * The floor bench/native_cost.c subtracts: a raw_tp program on the same
 * event that does nothing, so what remains of a handler's time is its own
 * body (the syscall, the context copy and bpf_prog_run() cost the same).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("raw_tp/vfio_dma_map")
int empty(unsigned long long *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
