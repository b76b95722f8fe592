/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One handler, two entry points: tp_btf (vfio.ko has BTF) and raw_tp
 * (it has none) on the same vfio:* event.  Both get the TP_PROTO
 * arguments as a u64 array, in order: a handler reads ctx[i] and casts
 * (signed arguments arrive sign-extended).  tools/lib/attach.c turns on
 * one of the two; the host tests run the raw_tp one.
 */
#ifndef __VFIO_TP_BPF_H
#define __VFIO_TP_BPF_H

#define VFIO_TP(event, handler)						\
SEC("tp_btf/" #event)							\
int event##_btf(unsigned long long *ctx) { return handler(ctx); }	\
SEC("raw_tp/" #event)							\
int event##_raw(unsigned long long *ctx) { return handler(ctx); }

#endif /* __VFIO_TP_BPF_H */
