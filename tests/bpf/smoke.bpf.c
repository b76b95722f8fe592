// SPDX-License-Identifier: GPL-2.0
/*
 * Test-bench consumer of vfioscope_smoke_tick (kernel/testing/).  Both entry
 * points share one handler so the host can test the logic through raw_tp
 * with bpf_prog_test_run, where tp_btf cannot be test-run.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

/* The module fires cookie = SMOKE_COOKIE_BASE + seq: anything else is a bug. */
#define SMOKE_COOKIE_BASE 0xfeed0000ULL

__u64 events;
__u64 seq_sum;
__u64 bad_cookies;

static __always_inline int handle_tick(__u32 seq, __u64 cookie)
{
	__sync_fetch_and_add(&events, 1);
	__sync_fetch_and_add(&seq_sum, seq);
	if (cookie != SMOKE_COOKIE_BASE + seq)
		__sync_fetch_and_add(&bad_cookies, 1);
	return 0;
}

SEC("tp_btf/vfioscope_smoke_tick")
int BPF_PROG(smoke_tp_btf, __u32 seq, __u64 cookie)
{
	return handle_tick(seq, cookie);
}

SEC("raw_tp/vfioscope_smoke_tick")
int BPF_PROG(smoke_raw_tp, __u32 seq, __u64 cookie)
{
	return handle_tick(seq, cookie);
}

char LICENSE[] SEC("license") = "GPL";
