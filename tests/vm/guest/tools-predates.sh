#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A container mapped before the tools started, on both stacks.  The
# workload maps N buffers of S bytes and keeps them; vfio-top and
# vfio-exporter start; then it unmaps K of them and holds the rest.
#  - ours: the events carry the container's own levels, so both tools
#    show exactly N-K entries and (N-K)*S/4096 pinned pages; its mapped
#    bytes, which only a sum since its first mapping could give, are
#    unknown: absent from JSON and /metrics, never a number;
#  - in-tree (fentry): entries are read from the in-tree container, exact;
#    pinned pages are a sum of what the programs saw, which the first
#    unmap shows to be incomplete, so they are absent too;
#  - never a wrapped value (the old bug: ~1.8e19 pinned pages) and no
#    event lost.  After the teardown the container shows nothing mapped.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 240
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"

N=8
S=16384
K=3
load_stack
bdf=$(edu_bdf)
bind_vfio "$bdf"
trap 'exec 7>&- 2>/dev/null; unbind_vfio "$bdf"; unload_stack' EXIT

rm -f /tmp/go && mkfifo /tmp/go
vfio_workload -n $N -s $S --keep --then-unmap $K </tmp/go >/tmp/work.txt &
wpid=$!
exec 7>/tmp/go
for i in $(seq 300); do [ -s /tmp/work.txt ] && break; sleep 0.1; done
grep -q '^pid=' /tmp/work.txt || fail "vfio_workload --keep printed nothing"
pid=$(workload_field pid /tmp/work.txt)
log "workload $pid holds $N maps of $S bytes; starting the tools"

tool_start topj vfio-top -j 1
tool_start exporter vfio-exporter
echo go >&7
for i in $(seq 300); do grep -q '^unmapped=' /tmp/work.txt && break; sleep 0.1; done
grep -q "^unmapped=$K\$" /tmp/work.txt || fail "vfio_workload did not unmap"
# A whole vfio-top report after the unmaps, and a scrape.
sleep 2.2
held=$(wc -l </tmp/topj.out)
curl -s 127.0.0.1:9707/metrics >/tmp/metrics.txt || fail "cannot scrape vfio-exporter"
echo go >&7
exec 7>&-
wait $wpid || fail "vfio_workload failed"
sleep 2.2
tool_stop topj
tool_stop exporter

grep -v '^#' /tmp/metrics.txt | grep '^vfioscope_dma_\(entries\|pinned\|mapped\)'
# Nothing near 2^64 anywhere: a wrapped level has 19 or 20 digits.
! grep -v '^#' /tmp/metrics.txt | grep -qE ' [0-9]{19,}$' ||
	fail "vfio-exporter: a wrapped value: $(grep -E ' [0-9]{19,}$' /tmp/metrics.txt)"
cid=$(sed -n 's/^vfioscope_dma_entries{container="\([0-9]*\)"} .*/\1/p' /tmp/metrics.txt)
[ "$(echo "$cid" | wc -w)" = 1 ] || fail "vfio-exporter: want one container, got '$cid'"
grep -q "^vfioscope_dma_entries{container=\"$cid\"} $((N - K))\$" /tmp/metrics.txt ||
	fail "vfio-exporter: entries: $(grep '^vfioscope_dma_entries' /tmp/metrics.txt)"
grep -q "^vfioscope_dma_operations_total{op=\"unmap\",container=\"$cid\",result=\"ok\"} $K\$" \
	/tmp/metrics.txt || fail "vfio-exporter: unmaps: $(grep 'op="unmap"' /tmp/metrics.txt)"
! grep -q "^vfioscope_dma_mapped_bytes{container=\"$cid\"}" /tmp/metrics.txt ||
	fail "vfio-exporter: mapped bytes of a container mapped before it: $(grep '^vfioscope_dma_mapped_bytes' /tmp/metrics.txt)"
if [ "$VFIOSCOPE_STACK" = ours ]; then
	grep -q "^vfioscope_dma_pinned_pages{container=\"$cid\"} $(((N - K) * S / 4096))\$" /tmp/metrics.txt ||
		fail "vfio-exporter: pinned: $(grep '^vfioscope_dma_pinned_pages' /tmp/metrics.txt)"
else
	! grep -q "^vfioscope_dma_pinned_pages{container=\"$cid\"}" /tmp/metrics.txt ||
		fail "vfio-exporter (fentry): pinned pages it cannot know: $(grep '^vfioscope_dma_pinned_pages' /tmp/metrics.txt)"
fi
grep -q '^vfioscope_lost_events_total{reason="map_full"} 0$' /tmp/metrics.txt ||
	fail "vfio-exporter: lost events"

$PY - "$VFIOSCOPE_STACK" "$pid" $N $S $K "$held" /tmp/topj.out <<'PYEOF' || fail "vfio-top -j: see above"
import json, sys
stack = sys.argv[1]
pid, n, s, k, held = (int(a) for a in sys.argv[2:7])
lines = [json.loads(l) for l in open(sys.argv[7])]
from toolcheck import Checks
checks = Checks()
check, bad = checks.check, checks.bad
check("lost", max(l["lost"]["total"] for l in lines), 0)
live = lines[held - 1]
p = [p for p in live["processes"] if p["pid"] == pid]
if not p:
    sys.exit("no row for pid %d while held" % pid)
p = p[0]
check("process unmaps", p["unmaps"], k)
check("process unmap_bytes", p["unmap_bytes"], k * s)
check("process mapped_bytes (unknown: absent)", "mapped_bytes" in p, False)
check("process pinned_pages (unknown: absent)", "pinned_pages" in p, False)
c = [c for c in live["containers"] if c["container"] == p["container"]][0]
check("container unmaps", c["unmaps"], k)
check("container entries", c["entries"], n - k)
check("container mapped_bytes (unknown: absent)", "mapped_bytes" in c, False)
if stack == "ours":
    check("container pinned_pages", c.get("pinned_pages"), (n - k) * s // 4096)
else:
    check("container pinned_pages (unknown in fentry: absent)", "pinned_pages" in c, False)
for l in lines:
    for r in l["processes"] + l["containers"]:
        for key in ("mapped_bytes", "pinned_pages", "entries"):
            if abs(r.get(key, 0)) >= 1 << 62:
                bad.append("a wrapped %s: %r" % (key, r))
if stack == "ours":
    # After the teardown: released, nothing mapped, and that is known.
    last = [c2 for l in lines for c2 in l["containers"] if c2["container"] == c["container"]][-1]
    for key, want in (("released", True), ("mapped_bytes", 0), ("pinned_pages", 0), ("entries", 0)):
        check("after exit: container %s" % key, last.get(key), want)
checks.done()
PYEOF
log "a container mapped before the tools: levels exact where known, absent where not"
