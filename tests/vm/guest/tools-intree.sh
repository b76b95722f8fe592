#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The tools on Debian's own VFIO, which has none of our events: vfio-top,
# vfio-lat and vfio-exporter must choose fentry by themselves (-v says so)
# and count the workload's N maps and N unmaps of S bytes exactly; vfio-leak, which
# needs reference events, must refuse with one clear line.
# vm-kernel: 6.1 6.12
# vm-stack: intree
# vm-timeout: 240
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"

N=30
S=32768
load_stack
bdf=$(edu_bdf)
bind_vfio "$bdf"
trap 'unbind_vfio "$bdf"; unload_stack' EXIT
[ ! -d /sys/kernel/tracing/events/vfio ] || fail "vfio:* events on the in-tree stack?"

tool_start topj vfio-top -v -j 1
tool_start latj vfio-lat -v -j
tool_start exporter vfio-exporter -v
vfio_workload -n $N -s $S >/tmp/work.txt || fail "vfio_workload failed"
cat /tmp/work.txt
pid=$(workload_field pid /tmp/work.txt)
sleep 2.5
tool_stop topj
tool_stop latj
# The exporter in fentry mode: the workload's operations, exactly.
curl -s 127.0.0.1:9707/metrics >/tmp/metrics.txt || fail "cannot scrape vfio-exporter"
tool_stop exporter
# The workload's container was released before this scrape: its final
# counts are served (the exporter numbers in-tree containers from 1).
for want in 'vfioscope_build_info{.*attach="fentry"} 1' \
	"vfioscope_dma_operations_total{op=\"map\",container=\"1\",result=\"ok\"} $N" \
	"vfioscope_dma_operations_total{op=\"unmap\",container=\"1\",result=\"ok\"} $N" \
	"vfioscope_dma_bytes_total{op=\"map\",container=\"1\"} $((N * S))" \
	"vfioscope_dma_bytes_total{op=\"unmap\",container=\"1\"} $((N * S))" \
	'vfioscope_dma_mapped_bytes{container="1"} 0' \
	"vfioscope_dma_duration_seconds_count{op=\"map\"} $N" \
	"vfioscope_dma_duration_seconds_count{op=\"unmap\"} $N" \
	'vfioscope_lost_events_total{reason="ringbuf"} 0' \
	'vfioscope_lost_events_total{reason="map_full"} 0'; do
	grep -q "^$want\$" /tmp/metrics.txt || fail "vfio-exporter (fentry): no '$want' in: $(grep -v '^#' /tmp/metrics.txt | head -n 20)"
done
log "vfio-exporter (fentry): $N maps and $N unmaps counted"
for t in top lat exporter; do
	err=/tmp/${t}j.err
	[ $t = exporter ] && err=/tmp/exporter.err
	grep -q "^vfio-$t: attaching with fentry: no vfio:\* events; in-tree vfio_iommu_type1 has BTF" \
		"$err" || fail "vfio-$t -v: $(grep attaching "$err")"
done
$PY - "$pid" $N $S /tmp/topj.out /tmp/latj.out <<'PYEOF' || fail "vfio-top/vfio-lat in fentry mode: see above"
import json, sys
pid, n, s = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
top = [json.loads(l) for l in open(sys.argv[4])]
lat = [json.loads(l) for l in open(sys.argv[5])]
from toolcheck import Checks
checks = Checks()
check, bad = checks.check, checks.bad
check("vfio-top attach", {l["attach"] for l in top}, {"fentry"})
check("vfio-top lost", max(l["lost"]["total"] for l in top), 0)
procs = [p for l in top for p in l["processes"] if p["pid"] == pid]
if not procs:
    sys.exit("no vfio-top row for pid %d" % pid)
p = procs[-1]
for k, want in (("maps", n), ("unmaps", n), ("map_bytes", n * s), ("unmap_bytes", n * s),
                ("mapped_bytes", 0), ("pinned_pages", 0), ("errors", 0), ("exited", True)):
    check("process %s" % k, p[k], want)
c = [c for l in top for c in l["containers"] if c["container"] == p["container"]][-1]
for k, want in (("maps", n), ("unmaps", n), ("map_bytes", n * s), ("unmap_bytes", n * s),
                ("mapped_bytes", 0), ("errors", 0), ("released", True)):
    check("container %s" % k, c[k], want)
check("vfio-lat reports", len(lat), 1)
r = lat[-1]
check("vfio-lat attach", r["attach"], "fentry")
check("vfio-lat lost", r["lost"]["total"], 0)
for op in ("map", "unmap"):
    check("vfio-lat %s ops" % op, r[op]["ops"], n)
    check("vfio-lat %s failed" % op, r[op]["failed"], 0)
    check("vfio-lat %s total count" % op, r[op]["total"]["count"], n)
    check("vfio-lat %s pin count" % op, r[op]["pin"]["count"], n)
    check("vfio-lat %s iommu (not seen in fentry mode)" % op, r[op]["iommu"], None)
checks.done()
PYEOF

# vfio-leak has nothing to attach to here: one line, non-zero exit.
rc=0
vfio-leak -j >/tmp/leak.out 2>/tmp/leak.err || rc=$?
[ $rc -ne 0 ] || fail "vfio-leak succeeded on the in-tree stack"
assert_eq "$(wc -l </tmp/leak.err)" 1 "vfio-leak's error lines"
grep -q "^vfio-leak: Debian's in-tree VFIO has no reference events" /tmp/leak.err ||
	fail "vfio-leak: $(cat /tmp/leak.err)"
[ ! -s /tmp/leak.out ] || fail "vfio-leak printed on stdout: $(head -c 200 /tmp/leak.out)"
