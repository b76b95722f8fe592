#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One collector per host, on both stacks:
#  - vfio-exporter loads the collector and pins it under /sys/fs/bpf/vfioscope;
#    a second exporter refuses to start and names the first;
#  - vfio-top reads it and holds no BPF link: it attached nothing (it opens
#    the pinned programs only for a moment, to read their skipped runs);
#    it counts a workload exactly, as does the exporter;
#  - vfio-lat (no filter) reads it too, holding no link; a second one,
#    turned away from the collector's one lat claim, loads its own programs;
#    both count the workload exactly;
#  - a collector restart (the exporter stops, its pins go, a new one
#    starts): vfio-top says its collector stopped and counts on from its
#    own programs, exactly; the new exporter's counters start from 0 (a
#    counter reset to Prometheus) and count exactly.
# vm-stack: ours intree
# vm-timeout: 300
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"

N1=40
S1=65536
N2=7
S2=4096
PIN=/sys/fs/bpf/vfioscope
load_stack
bdf=$(edu_bdf)
bind_vfio "$bdf"
trap 'tool_kill_all; unbind_vfio "$bdf"; unload_stack' EXIT

# BPF objects a process holds: fds whose fdinfo names a program or a link.
bpf_fds() { grep -l "^$2" /proc/"$1"/fdinfo/* 2>/dev/null | wc -l; }

[ ! -e $PIN ] || fail "$PIN exists before any exporter ran"
tool_start exporter vfio-exporter
epid=$TOOL_PID_exporter
[ -e $PIN/settings ] && [ -e $PIN/dma ] || fail "vfio-exporter did not pin its collector: $(ls $PIN 2>&1)"
[ "$(bpf_fds "$epid" prog_type)" -gt 0 ] || fail "vfio-exporter holds no BPF program"

rc=0
timeout 20 vfio-exporter --listen 127.0.0.1:9708 >/tmp/exp2.out 2>/tmp/exp2.err || rc=$?
[ "$rc" = 1 ] || fail "a second vfio-exporter: exit $rc, want 1: $(cat /tmp/exp2.err)"
grep -q "$epid" /tmp/exp2.err || fail "the second vfio-exporter does not name pid $epid: $(cat /tmp/exp2.err)"
log "second exporter refused: $(grep -v '^libbpf' /tmp/exp2.err | head -n 1)"

tool_start topj vfio-top -v -j 1
tpid=$TOOL_PID_topj
grep -q "reading the collector of pid $epid" /tmp/topj.err ||
	fail "vfio-top did not read the running collector: $(cat /tmp/topj.err)"
n=$(bpf_fds "$tpid" link_type)
[ "$n" = 0 ] || fail "vfio-top reading a collector holds $n BPF links"
[ "$(bpf_fds "$epid" link_type)" -gt 0 ] || fail "vfio-exporter holds no BPF link"

tool_start latc vfio-lat -v -j -n
grep -q "reading the collector of pid $epid" /tmp/latc.err ||
	fail "vfio-lat did not read the running collector: $(cat /tmp/latc.err)"
n=$(bpf_fds "$TOOL_PID_latc" link_type)
[ "$n" = 0 ] || fail "vfio-lat reading a collector holds $n BPF links"
tool_start lato vfio-lat -v -j -n
grep -q "another vfio-lat reads the collector" /tmp/lato.err ||
	fail "a second vfio-lat: $(cat /tmp/lato.err)"

vfio_workload -n $N1 -s $S1 >/tmp/work1.txt || fail "vfio_workload (1) failed"
pid1=$(workload_field pid /tmp/work1.txt)
sleep 2.2
curl -s 127.0.0.1:9707/metrics >/tmp/m1.txt || fail "cannot scrape vfio-exporter (1)"
tool_stop latc
tool_stop lato

# Collector restart.
tool_stop exporter
[ ! -e $PIN ] || fail "the stopped exporter left its pins: $(ls $PIN)"
for i in $(seq 100); do grep -q 'stopped' /tmp/topj.err && break; sleep 0.1; done
grep -q "the collector of pid $epid stopped" /tmp/topj.err ||
	fail "vfio-top did not notice its collector stopped: $(cat /tmp/topj.err)"
tool_start exporter vfio-exporter
vfio_workload -n $N2 -s $S2 >/tmp/work2.txt || fail "vfio_workload (2) failed"
pid2=$(workload_field pid /tmp/work2.txt)
sleep 2.2
curl -s 127.0.0.1:9707/metrics >/tmp/m2.txt || fail "cannot scrape vfio-exporter (2)"
tool_stop topj
tool_stop exporter

$PY - "$pid1" "$pid2" $N1 $S1 $N2 $S2 /tmp/topj.out /tmp/m1.txt /tmp/m2.txt <<'PYEOF' || fail "see above"
import json, re, sys
from toolcheck import Checks
pid1, pid2, n1, s1, n2, s2 = (int(a) for a in sys.argv[1:7])
lines = [json.loads(l) for l in open(sys.argv[7])]
checks = Checks()
check = checks.check

def metric_sum(path, name, **labels):
    total = 0
    for line in open(path):
        m = re.match(r'^(\w+)\{([^}]*)\} (\S+)$', line)
        if not m or m.group(1) != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
        if all(have.get(k) == v for k, v in labels.items()):
            total += float(m.group(3))
    return total

# The exporter, before and after its restart: exact, and from 0 again.
for path, n, s in ((sys.argv[8], n1, s1), (sys.argv[9], n2, s2)):
    check("%s maps" % path, metric_sum(path, "vfioscope_dma_operations_total", op="map", result="ok"), n)
    check("%s unmaps" % path, metric_sum(path, "vfioscope_dma_operations_total", op="unmap", result="ok"), n)
    check("%s map bytes" % path, metric_sum(path, "vfioscope_dma_bytes_total", op="map"), n * s)
    check("%s histogram count" % path, metric_sum(path, "vfioscope_dma_duration_seconds_count"), 2 * n)
    check("%s lost" % path, metric_sum(path, "vfioscope_lost_events_total"), 0)

# vfio-top, across the restart: each workload exactly once.
for pid, n, s in ((pid1, n1, s1), (pid2, n2, s2)):
    rows = [p for l in lines for p in l["processes"] if p["pid"] == pid]
    if not rows:
        checks.bad.append("vfio-top: no row for pid %d" % pid)
        continue
    check("vfio-top pid %d maps" % pid, rows[-1]["maps"], n)
    check("vfio-top pid %d unmaps" % pid, rows[-1]["unmaps"], n)
    check("vfio-top pid %d map_bytes" % pid, rows[-1]["map_bytes"], n * s)
    check("vfio-top pid %d exited" % pid, rows[-1]["exited"], True)
check("vfio-top lost", max(l["lost"]["total"] for l in lines), 0)

# vfio-lat, from the collector and from its own programs: the same numbers.
for name in ("latc", "lato"):
    r = json.loads(open("/tmp/%s.out" % name).read().splitlines()[-1])
    for op in ("map", "unmap"):
        check("%s %s ops" % (name, op), r[op]["ops"], n1)
        check("%s %s failed" % (name, op), r[op]["failed"], 0)
        check("%s %s filtered" % (name, op), r[op]["filtered"], 0)
    check("%s lost" % name, r["lost"]["total"], 0)
checks.done()
PYEOF
log "one collector: exporter pins, vfio-top reads it holding no program, restart counted from 0"
