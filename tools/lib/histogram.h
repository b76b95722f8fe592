/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log2 histograms as the BPF side fills them (bpf/log2.bpf.h): slot s counts
 * values in [2^s, 2^(s+1)), slot 0 also counts 0.
 */
#ifndef __HISTOGRAM_H
#define __HISTOGRAM_H

#include <stdint.h>
#include <stdio.h>

#define HIST_SLOTS 64

/* Lower and upper bound (exclusive) of the values slot s counts. */
uint64_t hist_slot_low(unsigned int slot);
uint64_t hist_slot_high(unsigned int slot);

/* The slot bpf/log2.bpf.h puts v in. */
unsigned int hist_slot_of(uint64_t v);

uint64_t hist_total(const uint64_t *slots, unsigned int nr);

/*
 * The upper bound of the slot holding the p-th percentile (0 < p <= 100):
 * a histogram knows a value only to within its slot, and the upper bound is
 * the honest answer to "at most how long did p% take".  0 when empty.
 */
uint64_t hist_percentile(const uint64_t *slots, unsigned int nr, double p);

/* Print in the libbpf-tools style: range, count, and a star bar. */
void hist_print(FILE *f, const uint64_t *slots, unsigned int nr,
		const char *unit);

#endif /* __HISTOGRAM_H */
