// SPDX-License-Identifier: GPL-2.0
#include <bpf/bpf.h>

#include "raw_tp_run.h"

int raw_tp_run(struct bpf_program *prog, const uint64_t *args, size_t n)
{
	/* repeat stays 0: raw_tp programs refuse anything else. */
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args,
		    .ctx_size_in = n * sizeof(*args));
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);

	return err ? err : (int)opts.retval;
}

int raw_tp_run_on(struct bpf_program *prog, int cpu, const uint64_t *args, size_t n)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args,
		    .ctx_size_in = n * sizeof(*args),
		    .flags = BPF_F_TEST_RUN_ON_CPU, .cpu = cpu);
	int err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);

	return err ? err : (int)opts.retval;
}
