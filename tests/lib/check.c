// SPDX-License-Identifier: GPL-2.0
#include <stdlib.h>
#include <string.h>

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
