// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests of tools/lib/histogram.c: slots, percentiles, printing, and
 * the exact conversion of a base unit (ns) to the unit shown (us, ms).
 */
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

static int test_avg(void)
{
	CHECK_EQ(hist_avg(0, 0), 0);
	CHECK_EQ(hist_avg(7, 0), 0);
	CHECK_EQ(hist_avg(9, 4), 2);		/* 2.25 */
	CHECK_EQ(hist_avg(10, 4), 3);		/* 2.5: halves up */
	CHECK_EQ(hist_avg(11, 4), 3);		/* 2.75 */
	CHECK_EQ(hist_avg(UINT64_MAX, UINT64_MAX), 1);
	CHECK(hist_avg(UINT64_MAX, 2) == 1ULL << 63);	/* 2^63 - 0.5 */
	CHECK(hist_avg(UINT64_MAX - 1, 3) == 6148914691236517205ULL);	/* .33 */
	return TEST_PASS;
}

static int test_unit_decimals(void)
{
	CHECK_EQ(hist_unit_decimals(1), 0);
	CHECK_EQ(hist_unit_decimals(1000), 3);
	CHECK_EQ(hist_unit_decimals(1000000), 6);
	CHECK_EQ(hist_unit_decimals(10000000000000000000ULL), 19);
	CHECK_EQ(hist_unit_decimals(0), -EINVAL);
	CHECK_EQ(hist_unit_decimals(7), -EINVAL);
	CHECK_EQ(hist_unit_decimals(1024), -EINVAL);
	CHECK_EQ(hist_unit_decimals(2000), -EINVAL);
	return TEST_PASS;
}

static int test_format(void)
{
	static const struct {
		uint64_t v, div;
		unsigned int flags;
		const char *want;
	} cases[] = {
		{ 0, 1, 0, "0" },
		{ 999, 1, HIST_FMT_FIXED, "999" },
		{ UINT64_MAX, 1, 0, "18446744073709551615" },
		/* below one unit: the case the BPF side used to round to 0 */
		{ 1, 1000, HIST_FMT_FIXED, "0.001" },
		{ 999, 1000, HIST_FMT_FIXED, "0.999" },
		{ 0, 1000, HIST_FMT_FIXED, "0.000" },
		{ 0, 1000, 0, "0" },
		{ 8192, 1000, HIST_FMT_FIXED, "8.192" },
		{ 16383, 1000, 0, "16.383" },
		{ 2000, 1000, HIST_FMT_FIXED, "2.000" },
		{ 2000, 1000, 0, "2" },
		{ 2500, 1000, 0, "2.5" },
		{ 1020, 1000, 0, "1.02" },
		{ 16383, 1000000, HIST_FMT_FIXED, "0.016383" },
		{ 1073741824, 1000000, 0, "1073.741824" },
		{ 3000000, 1000000, 0, "3" },
		{ UINT64_MAX, 1000, HIST_FMT_FIXED, "18446744073709551.615" },
		{ UINT64_MAX, 10000000000000000000ULL, 0, "1.8446744073709551615" },
	};
	char buf[32];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int n = hist_format(buf, sizeof(buf), cases[i].v, cases[i].div, cases[i].flags);

		if (n != (int)strlen(cases[i].want) || strcmp(buf, cases[i].want)) {
			CHECK_FAILED("hist_format(%llu, %llu, %u) = %d \"%s\", want \"%s\"",
				     (unsigned long long)cases[i].v,
				     (unsigned long long)cases[i].div, cases[i].flags,
				     n, buf, cases[i].want);
			return TEST_FAIL;
		}
	}
	CHECK_EQ(hist_format(buf, sizeof(buf), 5, 1024, 0), -EINVAL);
	/* Too small a buffer: the length it needed, as snprintf says. */
	CHECK_EQ(hist_format(buf, 4, 16383, 1000, 0), 6);
	return TEST_PASS;
}

/* "16.383" in units of 10^d base units back to base units, exactly. */
static int parse_units(const char *s, int d, uint64_t *v)
{
	const char *dot = strchr(s, '.');
	uint64_t ip, fp = 0;
	int i, nd = 0;
	char *end;

	ip = strtoull(s, &end, 10);
	if (dot) {
		if (end != dot)
			return -1;
		for (dot++; *dot >= '0' && *dot <= '9'; dot++, nd++)
			fp = fp * 10 + (*dot - '0');
		if (nd != d)
			return -1;
	} else if (d) {
		return -1;
	}
	for (i = 0; i < d; i++)
		ip *= 10;
	*v = ip + fp;
	return 0;
}

/*
 * Nanosecond slots shown in ns, us and ms: each row's bounds, read back,
 * are the slot's first and last nanosecond, so rows are contiguous and no
 * value is shown in a row that cannot hold it.
 */
static int test_print_div_exact(void)
{
	static const uint64_t divs[] = { 1, 1000, 1000000 };
	uint64_t slots[HIST_SLOTS];
	size_t k;
	int i;

	for (i = 0; i < HIST_SLOTS; i++)
		slots[i] = i + 1;
	for (k = 0; k < sizeof(divs) / sizeof(divs[0]); k++) {
		int d = hist_unit_decimals(divs[k]), rows = 0;
		char *out = NULL, *line, *save;
		size_t len = 0;
		FILE *f = open_memstream(&out, &len);

		CHECK(f);
		CHECK_OK(hist_print_div(f, slots, HIST_SLOTS, "unit", divs[k]));
		fclose(f);
		for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			char low[32], high[32];
			unsigned long long count;
			uint64_t lo, hi;

			if (strstr(line, "distribution"))
				continue;
			CHECK(sscanf(line, " %31s -> %31s : %llu", low, high, &count) == 3);
			CHECK_OK(parse_units(low, d, &lo));
			CHECK_OK(parse_units(high, d, &hi));
			CHECK(lo == hist_slot_low(rows));
			CHECK(hi == hist_slot_high(rows) - 1);
			CHECK_EQ(count, rows + 1);
			rows++;
		}
		CHECK_EQ(rows, HIST_SLOTS);
		free(out);
	}
	return TEST_PASS;
}

/* What a user sees for a 2 us map and a 700 ns one, in usecs and msecs. */
static int test_print_div_rows(void)
{
	uint64_t slots[HIST_SLOTS] = { 0 };
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	CHECK(f);
	slots[hist_slot_of(700)] = 1;		/* 9: [512, 1023] ns */
	slots[hist_slot_of(2000)] = 3;		/* 10: [1024, 2047] ns */
	CHECK_OK(hist_print_div(f, slots, HIST_SLOTS, "usecs", 1000));
	CHECK_OK(hist_print_div(f, slots, HIST_SLOTS, "msecs", 1000000));
	CHECK_EQ(hist_print_div(f, slots, HIST_SLOTS, "bad", 1024), -EINVAL);
	fclose(f);
	CHECK(strstr(out, "                   usecs : count      |distribution"));
	CHECK(strstr(out, "     0.512 -> 1.023      : 1          |*************                           |"));
	CHECK(strstr(out, "     1.024 -> 2.047      : 3          |****************************************|"));
	CHECK(strstr(out, "  0.000512 -> 0.001023   : 1 "));
	CHECK(strstr(out, "  0.001024 -> 0.002047   : 3 "));
	CHECK(!strstr(out, "bad"));
	free(out);
	return TEST_PASS;
}

static const struct test tests[] = {
	TEST(test_slot_bounds),
	TEST(test_percentiles),
	TEST(test_print_rows),
	TEST(test_avg),
	TEST(test_unit_decimals),
	TEST(test_format),
	TEST(test_print_div_exact),
	TEST(test_print_div_rows),
};

int main(int argc, char **argv)
{
	return RUN_TESTS("host/histogram", tests, argc, argv);
}
