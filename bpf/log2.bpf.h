/* SPDX-License-Identifier: GPL-2.0 */
/*
 * log2 slots for latency histograms, shared by every BPF program that keeps
 * one.  Slot s holds values in [2^s, 2^(s+1)), slot 0 also holds 0; user
 * space prints them with tools/lib/histogram.c, which uses the same rule.
 */
#ifndef __LOG2_BPF_H
#define __LOG2_BPF_H

static __always_inline __u32 log2_u32(__u32 v)
{
	__u32 r, shift;

	r = (v > 0xFFFF) << 4; v >>= r;
	shift = (v > 0xFF) << 3; v >>= shift; r |= shift;
	shift = (v > 0xF) << 2; v >>= shift; r |= shift;
	shift = (v > 0x3) << 1; v >>= shift; r |= shift;
	r |= (v >> 1);
	return r;
}

static __always_inline __u32 log2_slot(__u64 v)
{
	__u32 hi = v >> 32;

	return hi ? log2_u32(hi) + 32 : log2_u32(v);
}

#endif /* __LOG2_BPF_H */
