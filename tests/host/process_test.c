// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of tools/lib/process.c: /proc/PID/stat read right whatever
 * the command, and a pid names a process only with that process's start.
 */
#include <stdint.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "process.h"

static uint64_t tick_ns(void)
{
	return 1000000000ULL / sysconf(_SC_CLK_TCK);
}

static int test_self(void)
{
	struct timespec ts;
	uint64_t ticks, now;

	CHECK_OK(process_start_ticks(getpid(), &ticks));
	CHECK_OK(clock_gettime(CLOCK_BOOTTIME, &ts));
	now = (ts.tv_sec * 1000000000ULL + ts.tv_nsec) / tick_ns();
	CHECK(ticks <= now);
	CHECK(process_is(getpid(), ticks * tick_ns()));
	CHECK(process_is(getpid(), ticks * tick_ns() + tick_ns() - 1));
	/* Started one tick later: another process that got the pid. */
	CHECK(!process_is(getpid(), (ticks + 1) * tick_ns()));
	CHECK(!process_is(getpid(), ticks * tick_ns() - 1));
	return TEST_PASS;
}

/* A command with spaces and parentheses does not move the fields. */
static int test_odd_command(void)
{
	uint64_t before, after;

	CHECK_OK(process_start_ticks(getpid(), &before));
	CHECK_OK(prctl(PR_SET_NAME, "a) 1 2 (b c)"));
	CHECK_OK(process_start_ticks(getpid(), &after));
	CHECK_EQ(after, before);
	return TEST_PASS;
}

static int test_gone(void)
{
	uint64_t ticks;
	pid_t child;

	child = fork();
	CHECK(child >= 0);
	if (!child)
		_exit(0);
	CHECK_EQ(waitpid(child, NULL, 0), child);
	CHECK(process_start_ticks(child, &ticks) < 0);
	CHECK(!process_is(child, 0));
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_self),
	TEST(test_odd_command),
	TEST(test_gone),
};

int main(int argc, char **argv)
{
	return RUN_TESTS("host/process", tests, argc, argv);
}
