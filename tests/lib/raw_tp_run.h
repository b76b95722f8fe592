/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Run a raw_tp BPF program on the host, the way its tracepoint would:
 * args[] holds the TP_PROTO arguments, in order, one u64 each.
 */
#ifndef __RAW_TP_RUN_H
#define __RAW_TP_RUN_H

#include <bpf/libbpf.h>
#include <stddef.h>
#include <stdint.h>

/* The program's return value, or -errno when the run itself failed. */
int raw_tp_run(struct bpf_program *prog, const uint64_t *args, size_t n);

/* The same on one CPU: per-CPU maps see the event there. */
int raw_tp_run_on(struct bpf_program *prog, int cpu, const uint64_t *args, size_t n);

#define RAW_TP_RUN(prog, ...) ({					\
	uint64_t __a[] = { __VA_ARGS__ };				\
	raw_tp_run((prog), __a, sizeof(__a) / sizeof(__a[0]));		\
})

#define RAW_TP_RUN_ON(prog, cpu, ...) ({				\
	uint64_t __a[] = { __VA_ARGS__ };				\
	raw_tp_run_on((prog), (cpu), __a, sizeof(__a) / sizeof(__a[0]));	\
})

#endif /* __RAW_TP_RUN_H */
