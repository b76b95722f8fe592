#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Security: tracepoints and tools expose no user virtual address to an
# unprivileged reader.  No event of events/vfio/ has a field named like a
# user address (vaddr, addr, uaddr); nobody (uid 65534) cannot read
# tracefs, cannot enable an event, and cannot load BPF (the tools fail).
# vm-stack: ours
# vm-timeout: 60
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

T=/sys/kernel/tracing
load_stack
[ -d $T/events/vfio ] || fail "no $T/events/vfio: our events are not registered"
n=0
for f in $T/events/vfio/*/format; do
	n=$((n + 1))
	bad=$(grep -E 'field:[^;]*[ *](vaddr|uaddr|user_addr|addr)(\[[0-9]*\])?;' "$f")
	[ -z "$bad" ] || fail "${f#$T/}: $bad"
done
[ "$n" -ge 10 ] || fail "only $n vfio events"
log "$n vfio events, no user-address field"

nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all -- "$@"; }
nobody true || fail "cannot run as nobody"
nobody cat $T/trace >/dev/null 2>&1 && fail "nobody read $T/trace"
nobody cat $T/trace_pipe >/dev/null 2>&1 </dev/null && fail "nobody read $T/trace_pipe"
nobody ls $T/events/vfio >/dev/null 2>&1 && fail "nobody listed $T/events/vfio"
nobody sh -c "echo 1 > $T/events/vfio/enable" 2>/dev/null && fail "nobody enabled the vfio events"
log "tracefs: $(stat -c '%A %U' $T), closed to nobody"
[ "$(cat /proc/sys/kernel/unprivileged_bpf_disabled)" != 0 ] ||
	fail "unprivileged BPF is enabled"
for tool in vfio-top vfio-lat vfio-leak; do
	command -v $tool >/dev/null || fail "$tool not built"
	nobody timeout 10 $tool >/tmp/$tool.nobody 2>&1
	rc=$?
	if [ $rc -eq 0 ] || [ $rc -eq 124 ]; then
		cat /tmp/$tool.nobody
		fail "$tool ran as nobody (status $rc)"
	fi
	log "$tool as nobody: $(tail -n 1 /tmp/$tool.nobody)"
done
unload_stack
