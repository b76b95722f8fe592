// SPDX-License-Identifier: GPL-2.0
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

void hist_print(FILE *f, const uint64_t *slots, unsigned int nr,
		const char *unit)
{
	unsigned int i, first = nr, last = 0;
	uint64_t max = 0;
	char bar[BAR_WIDTH + 1];

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
		return;
	}
	fprintf(f, "%24s : %-10s |%-*s|\n", unit, "count", BAR_WIDTH, "distribution");
	for (i = first; i <= last; i++) {
		unsigned int stars = slots[i] * BAR_WIDTH / max;

		memset(bar, '*', stars);
		bar[stars] = '\0';
		fprintf(f, "%10llu -> %-10llu : %-10llu |%-*s|\n",
			(unsigned long long)hist_slot_low(i),
			(unsigned long long)hist_slot_high(i) - 1,
			(unsigned long long)slots[i], BAR_WIDTH, bar);
	}
}
