// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <string.h>

#include "histogram.h"

#define BAR_WIDTH 40

uint64_t hist_slot_low(unsigned int slot)
{
	return slot ? 1ULL << slot : 0;
}

uint64_t hist_slot_high(unsigned int slot)
{
	return slot >= 63 ? UINT64_MAX : 1ULL << (slot + 1);
}

unsigned int hist_slot_of(uint64_t v)
{
	return v ? 63 - __builtin_clzll(v) : 0;
}

uint64_t hist_total(const uint64_t *slots, unsigned int nr)
{
	uint64_t total = 0;
	unsigned int i;

	for (i = 0; i < nr; i++)
		total += slots[i];
	return total;
}

uint64_t hist_percentile(const uint64_t *slots, unsigned int nr, double p)
{
	uint64_t total = hist_total(slots, nr), seen = 0;
	unsigned int i;

	if (!total)
		return 0;
	for (i = 0; i < nr; i++) {
		seen += slots[i];
		/* seen/total >= p/100, without rounding the rank down */
		if (seen * 100.0 >= p * total)
			return hist_slot_high(i) - 1;
	}
	return hist_slot_high(nr - 1) - 1;
}

uint64_t hist_avg(uint64_t sum, uint64_t count)
{
	uint64_t q, r;

	if (!count)
		return 0;
	q = sum / count;
	r = sum % count;
	/* r >= count / 2, rounded up, without 2 * r overflowing */
	return r >= count - r ? q + 1 : q;
}

int hist_unit_decimals(uint64_t div)
{
	int d = 0;

	if (!div)
		return -EINVAL;
	for (; div % 10 == 0; div /= 10)
		d++;
	return div == 1 ? d : -EINVAL;
}

int hist_format(char *buf, size_t len, uint64_t v, uint64_t div, unsigned int flags)
{
	int d = hist_unit_decimals(div), n;

	if (d < 0)
		return d;
	if (!d)
		return snprintf(buf, len, "%llu", (unsigned long long)v);
	n = snprintf(buf, len, "%llu.%0*llu", (unsigned long long)(v / div), d,
		     (unsigned long long)(v % div));
	if (flags & HIST_FMT_FIXED || n < 0 || (size_t)n >= len)
		return n;
	while (buf[n - 1] == '0')
		buf[--n] = '\0';
	if (buf[n - 1] == '.')
		buf[--n] = '\0';
	return n;
}

void hist_print(FILE *f, const uint64_t *slots, unsigned int nr,
		const char *unit)
{
	hist_print_div(f, slots, nr, unit, 1);
}

int hist_print_div(FILE *f, const uint64_t *slots, unsigned int nr,
		   const char *unit, uint64_t div)
{
	unsigned int i, first = nr, last = 0;
	uint64_t max = 0;
	char bar[BAR_WIDTH + 1], low[32], high[32];

	if (hist_unit_decimals(div) < 0)
		return -EINVAL;
	for (i = 0; i < nr; i++) {
		if (!slots[i])
			continue;
		if (first == nr)
			first = i;
		last = i;
		if (slots[i] > max)
			max = slots[i];
	}
	if (!max) {
		fprintf(f, "     (no samples)\n");
		return 0;
	}
	fprintf(f, "%24s : %-10s |%-*s|\n", unit, "count", BAR_WIDTH, "distribution");
	for (i = first; i <= last; i++) {
		unsigned int stars = slots[i] * BAR_WIDTH / max;

		memset(bar, '*', stars);
		bar[stars] = '\0';
		hist_format(low, sizeof(low), hist_slot_low(i), div, HIST_FMT_FIXED);
		hist_format(high, sizeof(high), hist_slot_high(i) - 1, div, HIST_FMT_FIXED);
		fprintf(f, "%10s -> %-10s : %-10llu |%-*s|\n", low, high,
			(unsigned long long)slots[i], BAR_WIDTH, bar);
	}
	return 0;
}
