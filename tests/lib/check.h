/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small test harness in the spirit of kselftest_harness.h.
 *
 *   static int test_foo(void) { CHECK_EQ(1 + 1, 2); return TEST_PASS; }
 *   static const struct test tests[] = { TEST(test_foo), };
 *   int main(int argc, char **argv) { return RUN_TESTS("suite", tests, argc, argv); }
 *
 * Prints "PASS: suite/foo", "FAIL: suite/foo" or "SKIP: suite/foo (why)"
 * per case, and exits 1 if any case failed.  Naming cases on the command
 * line runs only those.  A CHECK that fails says where, what and the values.
 */
#ifndef __CHECK_H
#define __CHECK_H

#include <errno.h>
#include <stdio.h>
#include <string.h>

enum { TEST_PASS = 0, TEST_FAIL = 1, TEST_SKIP = 2 };

struct test {
	const char *name;
	int (*fn)(void);
};

#define TEST(fn) { #fn, fn }

/* The reason of the current skip, printed by run_tests(). */
extern char test_skip_reason[256];

#define CHECK_FAILED(fmt, ...)                                             \
	fprintf(stderr, "  %s:%d: " fmt "\n", __FILE__, __LINE__, ##__VA_ARGS__)

#define CHECK(cond) do {                                                   \
	if (!(cond)) {                                                     \
		CHECK_FAILED("check failed: %s", #cond);                   \
		return TEST_FAIL;                                          \
	}                                                                  \
} while (0)

#define CHECK_EQ(got, want) do {                                           \
	long long __g = (long long)(got), __w = (long long)(want);         \
	if (__g != __w) {                                                  \
		CHECK_FAILED("%s = %lld (0x%llx), want %lld (0x%llx)",     \
			     #got, __g, (unsigned long long)__g, __w,     \
			     (unsigned long long)__w);                     \
		return TEST_FAIL;                                          \
	}                                                                  \
} while (0)

/* Two strings must be equal. */
#define CHECK_STR(got, want) do {                                          \
	if (strcmp((got), (want))) {                                       \
		CHECK_FAILED("got  %s\n  want %s", (got), (want));         \
		return TEST_FAIL;                                          \
	}                                                                  \
} while (0)

/* expr must fail (return < 0) with errno == err. */
#define CHECK_ERRNO(expr, err) do {                                        \
	long __r;                                                          \
	errno = 0;                                                         \
	__r = (long)(expr);                                                \
	if (__r >= 0 || errno != (err)) {                                  \
		CHECK_FAILED("%s = %ld errno %d (%s), want errno %d (%s)", \
			     #expr, __r, errno, strerror(errno), (err),    \
			     strerror(err));                               \
		return TEST_FAIL;                                          \
	}                                                                  \
} while (0)

/* expr must succeed (return >= 0). */
#define CHECK_OK(expr) do {                                                \
	long __r;                                                          \
	errno = 0;                                                         \
	__r = (long)(expr);                                                \
	if (__r < 0) {                                                     \
		CHECK_FAILED("%s = %ld: %s", #expr, __r, strerror(errno)); \
		return TEST_FAIL;                                          \
	}                                                                  \
} while (0)

#define SKIP(fmt, ...) do {                                                \
	snprintf(test_skip_reason, sizeof(test_skip_reason), fmt,          \
		 ##__VA_ARGS__);                                           \
	return TEST_SKIP;                                                  \
} while (0)

int run_tests(const char *suite, const struct test *tests, size_t n,
	      int argc, char **argv);

#define RUN_TESTS(suite, tests, argc, argv)                                \
	run_tests(suite, tests, sizeof(tests) / sizeof((tests)[0]), argc, argv)

/*
 * The same, each case in a child process of its own: a case that fails
 * half-way cannot leak an open fd, a mapping or a pinned page into the
 * next one (VFIO groups open once at a time).  A case killed by a signal
 * fails.
 */
int run_tests_forked(const char *suite, const struct test *tests, size_t n,
		     int argc, char **argv);

#define RUN_TESTS_FORKED(suite, tests, argc, argv)                         \
	run_tests_forked(suite, tests, sizeof(tests) / sizeof((tests)[0]), argc, argv)

#endif /* __CHECK_H */
