#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The build chain end to end: a module of ours with module BTF defines a
# tracepoint; a BPF program from our chain (X.bpf.c -> skeleton -> static
# binary) counts it exactly, attached as tp_btf and as raw_tp; the module
# unloads cleanly afterwards.
# vm-stack: ours
# vm-timeout: 60
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

ko=$MODDIR/testing/vfioscope_smoke.ko
[ -f "$ko" ] || fail "$ko not built"
readelf -S -W "$ko" | grep -q ' \.BTF ' || fail "$ko has no module BTF"
insmod "$ko" || fail "insmod vfioscope_smoke failed"
[ -d /sys/kernel/tracing/events/vfioscope_smoke/vfioscope_smoke_tick ] ||
	fail "tracepoint not in tracefs"
[ -f /sys/kernel/btf/vfioscope_smoke ] || fail "no module BTF in /sys/kernel/btf"

# seq runs 0..999 in the first batch and 1000..2999 in the second.
out=$(smoke_count tp_btf 1000) || fail "smoke_count tp_btf: $out"
log "tp_btf: $out"
assert_eq "$out" "events=1000 seq_sum=499500 bad_cookies=0" "tp_btf counts"

out=$(smoke_count raw_tp 2000) || fail "smoke_count raw_tp: $out"
log "raw_tp: $out"
assert_eq "$out" "events=2000 seq_sum=$(((1000 + 2999) * 2000 / 2)) bad_cookies=0" "raw_tp counts"

# Bad input to the module's knob: a specific errno, nothing fired.
if echo bogus >/sys/kernel/debug/vfioscope_smoke/fire 2>/dev/null; then
	fail "fire accepted 'bogus'"
fi

rmmod vfioscope_smoke || fail "rmmod vfioscope_smoke failed"
[ ! -d /sys/kernel/tracing/events/vfioscope_smoke ] || fail "events left after rmmod"
