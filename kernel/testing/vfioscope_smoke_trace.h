/* SPDX-License-Identifier: GPL-2.0 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM vfioscope_smoke

#if !defined(__VFIOSCOPE_SMOKE_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define __VFIOSCOPE_SMOKE_TRACE_H

#include <linux/tracepoint.h>

TRACE_EVENT(vfioscope_smoke_tick,
	TP_PROTO(u32 seq, u64 cookie),
	TP_ARGS(seq, cookie),
	TP_STRUCT__entry(
		__field(u32, seq)
		__field(u64, cookie)
	),
	TP_fast_assign(
		__entry->seq = seq;
		__entry->cookie = cookie;
	),
	TP_printk("seq=%u cookie=0x%llx", __entry->seq, __entry->cookie)
);

#endif /* __VFIOSCOPE_SMOKE_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_FILE vfioscope_smoke_trace
#include <trace/define_trace.h>
