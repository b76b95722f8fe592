/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log2 histograms as the BPF side fills them (bpf/log2.bpf.h): slot s counts
 * values in [2^s, 2^(s+1)), slot 0 also counts 0.
 *
 * A histogram may be kept in a base unit (vfio-lat: nanoseconds) and shown
 * in a larger one of `div` base units, a power of ten (1000: microseconds).
 * Division is left to printing, so nothing is truncated where it is counted:
 * hist_format() writes v / div exactly, as a decimal with at most log10(div)
 * digits after the point (v is an integer, div a power of ten).
 */
#ifndef __HISTOGRAM_H
#define __HISTOGRAM_H

#include <stddef.h>
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

/* sum / count rounded to the nearest integer (halves up); 0 when count is. */
uint64_t hist_avg(uint64_t sum, uint64_t count);

/* Digits after the point for a unit of div base units; -EINVAL unless div is 10^k. */
int hist_unit_decimals(uint64_t div);

/*
 * Write v / div into buf, exactly.  With HIST_FMT_FIXED every decimal is
 * written ("0.000", "16.383": columns line up); without it, trailing zeros
 * and then the point are dropped ("16.38", "0", "2").  Returns the length
 * (as snprintf), or -EINVAL when div is not a power of ten.
 */
#define HIST_FMT_FIXED	1U
int hist_format(char *buf, size_t len, uint64_t v, uint64_t div, unsigned int flags);

/*
 * Print in the libbpf-tools style: range, count, and a star bar.  A row is
 * "low -> high" with high the largest value the slot holds, both inclusive.
 */
void hist_print(FILE *f, const uint64_t *slots, unsigned int nr,
		const char *unit);

/*
 * The same for slots of base units shown in units of div base units: the
 * bounds are the slot's first and last base-unit values, divided exactly
 * (HIST_FMT_FIXED), so a slot of nanoseconds [8192, 16383] reads
 * "8.192 -> 16.383" in microseconds.  div 1 prints what hist_print() does.
 * -EINVAL (and nothing printed) when div is not a power of ten.
 */
int hist_print_div(FILE *f, const uint64_t *slots, unsigned int nr,
		   const char *unit, uint64_t div);

#endif /* __HISTOGRAM_H */
