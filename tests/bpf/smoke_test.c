// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of smoke.bpf.c: run the raw_tp entry point on crafted arguments
 * with bpf_prog_test_run_opts and check the counters it keeps.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdint.h>

#include "check.h"
#include "raw_tp_run.h"
#include "smoke.skel.h"

static int run_tick(struct smoke *skel, uint32_t seq, uint64_t cookie)
{
	return RAW_TP_RUN(skel->progs.smoke_raw_tp, seq, cookie);
}

static struct smoke *smoke_load(void)
{
	struct smoke *skel = smoke__open();

	if (!skel)
		return NULL;
	/* The host kernel has no such tracepoint in its BTF. */
	bpf_program__set_autoload(skel->progs.smoke_tp_btf, false);
	if (smoke__load(skel)) {
		smoke__destroy(skel);
		return NULL;
	}
	return skel;
}

static int test_counts_each_tick(void)
{
	struct smoke *skel = smoke_load();
	uint32_t i;

	CHECK(skel);
	for (i = 0; i < 10; i++)
		CHECK_OK(run_tick(skel, i, 0xfeed0000ULL + i));
	CHECK_EQ(skel->bss->events, 10);
	CHECK_EQ(skel->bss->seq_sum, 45);
	CHECK_EQ(skel->bss->bad_cookies, 0);
	smoke__destroy(skel);
	return TEST_PASS;
}

static int test_flags_bad_cookie(void)
{
	struct smoke *skel = smoke_load();

	CHECK(skel);
	CHECK_OK(run_tick(skel, 7, 0xfeed0007ULL));
	CHECK_OK(run_tick(skel, 8, 0x1234));
	CHECK_EQ(skel->bss->events, 2);
	CHECK_EQ(skel->bss->bad_cookies, 1);
	smoke__destroy(skel);
	return TEST_PASS;
}

/* A context shorter than the arguments the program reads is refused. */
static int test_short_context_refused(void)
{
	struct smoke *skel = smoke_load();
	uint64_t arg = 1;
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &arg,
		    .ctx_size_in = sizeof(arg));

	CHECK(skel);
	CHECK_ERRNO(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.smoke_raw_tp), &opts),
		    EINVAL);
	CHECK_EQ(skel->bss->events, 0);
	smoke__destroy(skel);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_counts_each_tick),
	TEST(test_flags_bad_cookie),
	TEST(test_short_context_refused),
};

int main(int argc, char **argv)
{
	return RUN_TESTS("bpf/smoke", tests, argc, argv);
}
