// SPDX-License-Identifier: GPL-2.0
/* Unit tests of tools/lib/histogram.c: slots, percentiles, printing. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "histogram.h"

static int test_slot_bounds(void)
{
	CHECK_EQ(hist_slot_of(0), 0);
	CHECK_EQ(hist_slot_of(1), 0);
	CHECK_EQ(hist_slot_of(2), 1);
	CHECK_EQ(hist_slot_of(3), 1);
	CHECK_EQ(hist_slot_of(4096), 12);
	CHECK_EQ(hist_slot_of(UINT64_MAX), 63);
	CHECK_EQ(hist_slot_low(12), 4096);
	CHECK_EQ(hist_slot_high(12), 8192);
	return TEST_PASS;
}

static int test_percentiles(void)
{
	uint64_t slots[HIST_SLOTS] = { 0 };

	CHECK_EQ(hist_percentile(slots, HIST_SLOTS, 50), 0);
	slots[10] = 50;		/* [1024, 2048) */
	slots[12] = 40;		/* [4096, 8192) */
	slots[20] = 10;		/* [1 Mi, 2 Mi) */
	CHECK_EQ(hist_total(slots, HIST_SLOTS), 100);
	CHECK_EQ(hist_percentile(slots, HIST_SLOTS, 50), 2047);
	CHECK_EQ(hist_percentile(slots, HIST_SLOTS, 51), 8191);
	CHECK_EQ(hist_percentile(slots, HIST_SLOTS, 90), 8191);
	CHECK_EQ(hist_percentile(slots, HIST_SLOTS, 99), (1 << 21) - 1);
	CHECK_EQ(hist_percentile(slots, HIST_SLOTS, 100), (1 << 21) - 1);
	return TEST_PASS;
}

static int test_print_rows(void)
{
	uint64_t slots[HIST_SLOTS] = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	CHECK(f);
	slots[3] = 4;
	slots[5] = 2;
	hist_print(f, slots, HIST_SLOTS, "usecs");
	fclose(f);
	/* header + slots 3..5, the empty slot 4 included, nothing else */
	CHECK(strstr(out, "         8 -> 15         : 4          |****************************************|"));
	CHECK(strstr(out, "        16 -> 31         : 0 "));
	CHECK(strstr(out, "        32 -> 63         : 2          |********************"));
	CHECK(!strstr(out, "64 -> 127"));
	free(out);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_slot_bounds),
	TEST(test_percentiles),
	TEST(test_print_rows),
};

int main(int argc, char **argv)
{
	return RUN_TESTS("host/histogram", tests, argc, argv);
}
