#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# tools/perf on a real recording: vfio-record a workload of N maps and N
# unmaps of S bytes, then vfio-report must count exactly N of each, every
# lifecycle event once, and balanced references, and vfio-plot must draw
# its PNG and SVG files.  The same recording through trace-cmd too.
# vm-stack: ours
# vm-timeout: 240
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

N=200
S=65536
perfdir=$VFIOSCOPE_ROOT/tools/perf
load_stack
bdf=$(edu_bdf)
group=$(iommu_group_of "$bdf")
bind_vfio "$bdf"
trap 'unbind_vfio "$bdf"; unload_stack' EXIT
out=/tmp/perf-scripts
mkdir -p "$out"

"$perfdir/vfio-record" -s -o "$out/vfio.data" -- vfio_workload -n $N -s $S >"$out/workload.txt" ||
	fail "vfio-record failed"
log "workload: $(cat "$out/workload.txt")"
[ -s "$out/vfio.data.txt" ] || fail "vfio-record -s wrote no text"
"$perfdir/vfio-report" "$out/vfio.data" >"$out/report.txt" || fail "vfio-report failed"
cat "$out/report.txt" | head -n 40
"$perfdir/vfio-report" --json "$out/vfio.data" >"$out/report.json" || fail "vfio-report --json failed"

# check_report JSON: the assertions, on vfio-report's JSON.
check_report() {
	python3 - "$1" "$N" "$S" "$group" <<'PY' || fail "report of $1 does not match the workload"
import json, sys
rep = json.load(open(sys.argv[1]))
n, size, group = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
bad = []
def want(what, got, exp):
    if got != exp:
        bad.append("%s: got %r, want %r" % (what, got, exp))
ev = rep["events"]
want("vfio_dma_map events", ev.get("vfio_dma_map"), n)
want("vfio_dma_unmap events", ev.get("vfio_dma_unmap"), n)
for e in ("vfio_container_open", "vfio_iommu_set", "vfio_group_open", "vfio_group_attach",
          "vfio_device_open", "vfio_device_release", "vfio_group_detach",
          "vfio_group_release", "vfio_container_close", "vfio_container_release"):
    want(e, ev.get(e), 1)
rows = {(r["op"], r["size"]): r for r in rep["latency"]}
want("latency rows", sorted(rows, key=str), [("map", size), ("unmap", size)])
for op in ("map", "unmap"):
    r = rows.get((op, size), {})
    want(op + " count", r.get("count"), n)
    want(op + " errors", r.get("errors"), 0)
    want(op + " bytes", r.get("bytes"), n * size)
    t = r.get("total_ns", {})
    if not (0 < t.get("p50", 0) <= t.get("p90", 0) <= t.get("p99", 0) <= t.get("max", 0)):
        bad.append("%s percentiles out of order: %r" % (op, t))
    for part in ("pin_ns", "iommu_ns"):
        if not 0 < r.get(part, {}).get("max", 0) <= t.get("max", 0):
            bad.append("%s %s max %r vs total max %r" % (op, part, r.get(part), t.get("max")))
slow = rep["slowest"]
want("slowest shown", len(slow), 10)
if any(s["comm"] != "vfio_workload" or s["size"] != size or s["ret"] != 0 for s in slow):
    bad.append("slowest context: %r" % slow[:2])
if [s["total_ns"] for s in slow] != sorted((s["total_ns"] for s in slow), reverse=True):
    bad.append("slowest not sorted")
refs = {(o["kind"], o["id"]): o for o in rep["references"]}
kinds = sorted(set(k for k, _ in refs))
want("reference kinds", kinds, ["container", "device", "group"])
want("group id", [i for k, i in refs if k == "group"], [group])
for key, o in refs.items():
    if not o["balanced"] or o["gets"] < 1:
        bad.append("%s %s: %d gets, %d puts" % (key[0], key[1], o["gets"], o["puts"]))
cont = [o for (k, _), o in refs.items() if k == "container"]
want("container freed", [o["frees"] for o in cont], [1])
want("gets", sum(o["gets"] for o in refs.values()), ev.get("vfio_ref_get"))
for line in bad:
    print("FAIL: " + line, file=sys.stderr)
print("# report: %d maps, %d unmaps, %d objects balanced, map p50/p99 %s/%s ns" % (
    rows[("map", size)]["count"], rows[("unmap", size)]["count"], len(refs),
    rows[("map", size)]["total_ns"]["p50"], rows[("map", size)]["total_ns"]["p99"]))
sys.exit(1 if bad else 0)
PY
}
check_report "$out/report.json"
# The decoded text vfio-record -s wrote gives the same report.
"$perfdir/vfio-report" --json "$out/vfio.data.txt" >"$out/report-text.json" ||
	fail "vfio-report on the text failed"
cmp -s "$out/report.json" "$out/report-text.json" || fail "report of the text differs from the recording's"

# The text report says the same in words.
grep -q "references: 3 objects, 0 unbalanced" "$out/report.txt" ||
	fail "text report: $(grep references: "$out/report.txt")"
grep -Eq "^map +64K +$N +0 " "$out/report.txt" || fail "text report has no map row of $N"
grep -Eq "^unmap +64K +$N +0 " "$out/report.txt" || fail "text report has no unmap row of $N"

# Plots: four files, each a real PNG or SVG.
"$perfdir/vfio-plot" -o "$out/plot" "$out/vfio.data" >"$out/plots.txt" || fail "vfio-plot failed"
for f in plot-latency.png plot-heatmap.png plot-latency.svg plot-heatmap.svg; do
	grep -qx "$out/$f" "$out/plots.txt" || fail "vfio-plot did not name $f"
	[ -s "$out/$f" ] || fail "$f is missing or empty"
done
for f in plot-latency.png plot-heatmap.png; do
	[ "$(od -An -tx1 -N8 "$out/$f" | tr -d ' ')" = 89504e470d0a1a0a ] || fail "$f is not a PNG"
done
for f in plot-latency.svg plot-heatmap.svg; do
	grep -q "<svg" "$out/$f" || fail "$f is not an SVG"
done
log "plots: $(for f in "$out"/plot-*; do printf '%s %s B; ' "${f##*/}" "$(stat -c %s "$f")"; done)"

# trace-cmd through the same recorder and report.
"$perfdir/vfio-record" -t -o "$out/vfio.dat" -- vfio_workload -n $N -s $S >/dev/null ||
	fail "vfio-record -t failed"
"$perfdir/vfio-report" --json "$out/vfio.dat" >"$out/report-tc.json" || fail "vfio-report on trace-cmd failed"
check_report "$out/report-tc.json"

# A duration recording of an idle system: a recording, and no events.
"$perfdir/vfio-record" -d 1 -o "$out/idle.data" || fail "vfio-record -d 1 failed"
"$perfdir/vfio-report" "$out/idle.data" 2>"$out/idle.err" && fail "vfio-report found events in an idle recording"
grep -q "no vfio events" "$out/idle.err" || fail "idle report: $(cat "$out/idle.err")"
exit 0
