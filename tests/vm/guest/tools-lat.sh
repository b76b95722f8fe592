#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-lat against ground truth, in both attach modes (tp_btf, raw_tp): after
# a workload of N maps + N unmaps of S bytes, each histogram (total, pin,
# iommu) holds exactly N operations, nothing failed, the teardown is kept
# out, and the median slot agrees with the workload's own median (timed
# around the ioctl in user space) within one log2 bucket.  The size filter
# must keep out a second workload of another size.  No event lost.
# vm-stack: ours
# vm-timeout: 300
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"

N=60
S=65536
load_stack
bdf=$(edu_bdf)
bind_vfio "$bdf"
trap 'unbind_vfio "$bdf"; unload_stack' EXIT

for mode in tp_btf raw_tp; do
	log "--- $mode: $N maps + unmaps of $S bytes, then 5 of 4096 (filtered out)"
	tool_start latj vfio-lat --attach "$mode" -v -j -n -s $S -S $S
	tool_start latt vfio-lat --attach "$mode"
	vfio_workload -n $N -s $S >/tmp/work.txt || fail "vfio_workload failed"
	cat /tmp/work.txt
	vfio_workload -n 5 -s 4096 >/dev/null || fail "vfio_workload -s 4096 failed"
	tool_stop latj
	tool_stop latt
	grep -q "^vfio-lat: attaching with $mode: " /tmp/latj.err ||
		fail "vfio-lat -v ($mode): $(grep attaching /tmp/latj.err)"
	map_p50=$(workload_field map_ns_p50 /tmp/work.txt)
	unmap_p50=$(workload_field unmap_ns_p50 /tmp/work.txt)
	$PY - "$mode" $N "$map_p50" "$unmap_p50" /tmp/latj.out <<-'PYEOF' || fail "vfio-lat -j ($mode): see above"
	import json, sys
	mode, n, map_p50, unmap_p50, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
	lines = [json.loads(l) for l in open(path)]
	bad = []
	def check(what, got, want):
	    print("# %s: %s" % (what, got))
	    if got != want:
	        bad.append("%s: got %r, want %r" % (what, got, want))
	check("reports (one, at Ctrl-C)", len(lines), 1)
	r = lines[-1]
	check("attach", r["attach"], mode)
	check("unit", r["unit"], "ns")
	check("lost", r["lost"]["total"], 0)
	def median_slot(h):
	    seen = 0
	    for sl in h["slots"]:
	        seen += sl["count"]
	        if 2 * seen >= h["count"]:
	            return sl["low"].bit_length() - 1 if sl["low"] else 0
	for op, p50 in (("map", map_p50), ("unmap", unmap_p50)):
	    o = r[op]
	    check("%s ops" % op, o["ops"], n)
	    check("%s failed" % op, o["failed"], 0)
	    # The 5 maps and unmaps of 4096 bytes are below -s.  Nothing was
	    # left mapped at exit: no teardown event.
	    check("%s filtered" % op, o["filtered"], 5)
	    check("%s teardown" % op, o["teardown"], 0)
	    for part in ("total", "pin", "iommu"):
	        h = o[part]
	        check("%s %s count" % (op, part), h["count"], n)
	        check("%s %s slots sum" % (op, part), sum(s["count"] for s in h["slots"]), n)
	    tool = median_slot(o["total"])
	    own = p50.bit_length() - 1
	    print("# %s median: tool slot %d (%d..%d ns), workload %d ns (slot %d)" %
	          (op, tool, 1 << tool, (2 << tool) - 1, p50, own))
	    check("%s median within one log2 bucket of the workload's" % op, abs(tool - own) <= 1, True)
	    check("%s p50 is its slot's upper bound" % op, o["total"]["p50"] in ((2 << tool) - 1, o["total"]["max"]), True)
	if bad:
	    sys.exit("\n".join(bad))
	PYEOF
	# The text report: counts and the histogram's header.
	grep -q "^map: $((N + 5)) ops (failed 0, teardown 0, filtered out 0)" /tmp/latt.out ||
		fail "vfio-lat text ($mode): $(grep '^map:' /tmp/latt.out)"
	grep -q "^unmap: $((N + 5)) ops (failed 0, teardown 0, filtered out 0)" /tmp/latt.out ||
		fail "vfio-lat text ($mode): $(grep '^unmap:' /tmp/latt.out)"
	grep -q '^lost events: 0$' /tmp/latt.out || fail "vfio-lat text ($mode): $(grep lost /tmp/latt.out)"
done
log "vfio-lat excerpt:"
sed -n '1,12p' /tmp/latt.out
