/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log2 slots for latency histograms, shared by every BPF program that keeps
 * one.  Slot s holds values in [2^s, 2^(s+1)), slot 0 also holds 0; user
 * space prints them with tools/lib/histogram.c, which uses the same rule.
 */
#ifndef __LOG2_BPF_H
#define __LOG2_BPF_H

/*
 * In 64-bit arithmetic on purpose: with 32-bit ALU ops (-mcpu=v3) the 6.1
 * verifier loses the upper bits after `w1 |= w2` and then refuses the slot
 * as an index into a map value ("math between map_value pointer and
 * register with unbounded min value").
 */
static __always_inline __u64 log2_slot(__u64 v)
{
	__u64 r = 0, shift;

	shift = (v > 0xFFFFFFFFULL) << 5; v >>= shift; r |= shift;
	shift = (v > 0xFFFF) << 4; v >>= shift; r |= shift;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

/*
 * A slot the verifier can prove is below nr (a power of two): a 64-bit
 * AND it cannot lose track of, which the compiler cannot drop.
 */
#define log2_slot_bounded(v, nr) ({					\
	__u64 __s = log2_slot(v);					\
	asm volatile("%0 &= %1" : "+r"(__s) : "i"((nr) - 1));		\
	__s;								\
})

/*
 * The ceiling of log2(v): the smallest k with v <= 2^k (0 for 0 and 1).
 * For histograms whose slot k has the inclusive upper bound 2^k, as
 * Prometheus buckets (`le`) do: vfio-exporter.
 */
static __always_inline __u64 log2_ceil(__u64 v)
{
	return v <= 1 ? 0 : log2_slot(v - 1) + 1;
}

/* An index the verifier can prove is below nr (a power of two). */
#define index_bounded(v, nr) ({						\
	__u64 __i = (v);						\
	asm volatile("%0 &= %1" : "+r"(__i) : "i"((nr) - 1));		\
	__i;								\
})

#endif /* __LOG2_BPF_H */
