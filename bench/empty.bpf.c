// SPDX-License-Identifier: GPL-2.0
/*
 * Programs that do nothing, on the DMA events.  bench/native_cost.c
 * subtracts the map one from a handler's time, so what remains is the
 * handler's own body (the syscall, the context copy and bpf_prog_run()
 * cost the same).  bench/empty_attach.c attaches both in the VM: the floor
 * any BPF watcher of these events pays (the tracepoint's dispatch and the
 * driver's clock reads for an enabled event), whatever its programs do.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

SEC("raw_tp/vfio_dma_map")
int empty(unsigned long long *ctx)
{
	return 0;
}

SEC("raw_tp/vfio_dma_unmap")
int empty_unmap(unsigned long long *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
