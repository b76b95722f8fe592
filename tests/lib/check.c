// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "check.h"

char test_skip_reason[256];

static int selected(const char *name, int argc, char **argv)
{
	int i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (!strcmp(argv[i], name))
			return 1;
	return 0;
}

int run_tests(const char *suite, const struct test *tests, size_t n,
	      int argc, char **argv)
{
	int failed = 0;
	size_t i;

	/* Our lines must not be overtaken by a child's or stderr's. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++) {
		if (!selected(tests[i].name, argc, argv))
			continue;
		test_skip_reason[0] = '\0';
		switch (tests[i].fn()) {
		case TEST_PASS:
			printf("PASS: %s/%s\n", suite, tests[i].name);
			break;
		case TEST_SKIP:
			printf("SKIP: %s/%s (%s)\n", suite, tests[i].name,
			       test_skip_reason[0] ? test_skip_reason : "no reason given");
			break;
		default:
			printf("FAIL: %s/%s\n", suite, tests[i].name);
			failed = 1;
		}
	}
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int run_tests_forked(const char *suite, const struct test *tests, size_t n,
		     int argc, char **argv)
{
	/* The child's skip reason comes back through a shared page. */
	char *reason = mmap(NULL, sizeof(test_skip_reason), PROT_READ | PROT_WRITE,
			    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int failed = 0;
	size_t i;

	if (reason == MAP_FAILED) {
		perror("mmap");
		return EXIT_FAILURE;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < n; i++) {
		int status, ret;
		pid_t pid;

		if (!selected(tests[i].name, argc, argv))
			continue;
		reason[0] = '\0';
		fflush(stdout);
		fflush(stderr);
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return EXIT_FAILURE;
		}
		if (pid == 0) {
			test_skip_reason[0] = '\0';
			ret = tests[i].fn();
			memcpy(reason, test_skip_reason, sizeof(test_skip_reason));
			fflush(stdout);
			fflush(stderr);
			_exit(ret);
		}
		if (waitpid(pid, &status, 0) != pid) {
			perror("waitpid");
			return EXIT_FAILURE;
		}
		if (WIFSIGNALED(status)) {
			fprintf(stderr, "  %s/%s killed by signal %d\n", suite,
				tests[i].name, WTERMSIG(status));
			ret = TEST_FAIL;
		} else {
			ret = WEXITSTATUS(status);
		}
		switch (ret) {
		case TEST_PASS:
			printf("PASS: %s/%s\n", suite, tests[i].name);
			break;
		case TEST_SKIP:
			printf("SKIP: %s/%s (%s)\n", suite, tests[i].name,
			       reason[0] ? reason : "no reason given");
			break;
		default:
			printf("FAIL: %s/%s\n", suite, tests[i].name);
			failed = 1;
		}
	}
	munmap(reason, sizeof(test_skip_reason));
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
