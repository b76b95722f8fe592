#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-lat against ground truth, in both attach modes (tp_btf, raw_tp).
# ROUNDS workloads of N maps + N unmaps of S bytes, a second apart, then 5
# of 4096 bytes that the size filter must keep out.  Four instances watch
# the same operations, all filtered to S bytes:
#   latj  -j -n, one report: each histogram (total, pin, iommu) holds
#         exactly ROUNDS * N operations, nothing failed, no teardown; each
#         total histogram is the kernel's own events', read beside the tool
#         through ftrace: the same count in every slot, the same sum and
#         max (the workload's median, timed around the ioctl in user space,
#         is printed beside it: it also holds what runs after the event's
#         clock stops, the four tools' handlers among it, which under TCG
#         cost as much as a whole 64 KiB unmap); the percentiles
#         are what the slots say; total >= pin + iommu in sum and max.
#   latt  text in usecs: every number and row is latj's in ns divided by
#         1000 exactly (three decimals), the average sum/count rounded.
#   latm  -j -m: every value is latj's divided by 10^6 exactly.
#   lati  -j -n 1, a report a second: the intervals add up to latj slot
#         by slot, sum for sum, and the largest max is latj's; each
#         interval's max lies in its own highest slot.
# No event lost.
# vm-stack: ours
# vm-timeout: 300
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"

N=60
S=65536
ROUNDS=4
load_stack
bdf=$(edu_bdf)
bind_vfio "$bdf"
trap 'unbind_vfio "$bdf"; unload_stack' EXIT

T=/sys/kernel/tracing
size_hex=$(printf '0x%x' $S)
for mode in tp_btf raw_tp; do
	log "--- $mode: $ROUNDS x $N maps + unmaps of $S bytes, then 5 of 4096 (filtered out)"
	echo >$T/trace
	for op in map unmap; do
		echo 1 >$T/events/vfio/vfio_dma_$op/enable
	done
	tool_start latj vfio-lat --attach "$mode" -v -j -n -s $S -S $S
	tool_start latt vfio-lat --attach "$mode" -s $S -S $S
	tool_start latm vfio-lat --attach "$mode" -j -m -s $S -S $S
	tool_start lati vfio-lat --attach "$mode" -j -n -s $S -S $S 1
	vfio_workload -n $N -s $S >/tmp/work.txt || fail "vfio_workload failed"
	cat /tmp/work.txt
	for r in $(seq 2 $ROUNDS); do
		sleep 1
		vfio_workload -n $N -s $S >/dev/null || fail "vfio_workload (round $r) failed"
	done
	vfio_workload -n 5 -s 4096 >/dev/null || fail "vfio_workload -s 4096 failed"
	for t in latj latt latm lati; do
		tool_stop $t
	done
	for op in map unmap; do
		echo 0 >$T/events/vfio/vfio_dma_$op/enable
		grep -a "vfio_dma_$op: .* size=$size_hex " $T/trace |
			sed 's/.* total_ns=\([0-9]*\) .*/\1/' >/tmp/${op}_ns.txt
	done
	grep -q "^vfio-lat: attaching with $mode: " /tmp/latj.err ||
		fail "vfio-lat -v ($mode): $(grep attaching /tmp/latj.err)"
	map_p50=$(workload_field map_ns_p50 /tmp/work.txt)
	unmap_p50=$(workload_field unmap_ns_p50 /tmp/work.txt)
	$PY - "$mode" $((ROUNDS * N)) "$map_p50" "$unmap_p50" <<-'PYEOF' || fail "vfio-lat ($mode): see above"
	import json, re, sys
	from decimal import Decimal
	mode, n, map_p50, unmap_p50 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
	from toolcheck import Checks
	checks = Checks()
	check, bad = checks.check, checks.bad
	def lines(path):
	    return [json.loads(l, parse_float=Decimal) for l in open(path)]
	def slot_of(low):
	    return low.bit_length() - 1 if low else 0

	# latj: one report, in ns.
	reports = lines("/tmp/latj.out")
	check("latj reports (one, at Ctrl-C)", len(reports), 1)
	r = reports[-1]
	check("attach", r["attach"], mode)
	check("unit", r["unit"], "ns")
	check("lost", r["lost"]["total"], 0)
	check("skipped runs", r["lost"]["skipped"], 0)
	def median_slot(h):
	    seen = 0
	    for sl in h["slots"]:
	        seen += sl["count"]
	        if 2 * seen >= h["count"]:
	            return slot_of(sl["low"])
	def percentile(h, p):
	    seen = 0
	    for sl in h["slots"]:
	        seen += sl["count"]
	        if seen * 100 >= p * h["count"]:
	            return min(sl["high"], h["max"])
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
	        what = "%s %s" % (op, part)
	        check(what + " count", h["count"], n)
	        check(what + " slots sum", sum(s["count"] for s in h["slots"]), n)
	        for sl in h["slots"]:
	            check(what + " slot bounds", (sl["low"], sl["high"]),
	                  (1 << slot_of(sl["low"]) if sl["low"] else 0, (2 << slot_of(sl["low"])) - 1), True)
	        top = h["slots"][-1]
	        check(what + " max in the highest slot", top["low"] <= h["max"] <= top["high"], True)
	        check(what + " sum within count x slot bounds",
	              sum(s["low"] * s["count"] for s in h["slots"]) <= h["sum"] <=
	              sum(s["high"] * s["count"] for s in h["slots"]), True)
	        for p in (50, 90, 99):
	            check("%s p%d" % (what, p), h["p%d" % p], percentile(h, p), True)
	    # Pinning and IOMMU mapping are two parts of the whole operation.
	    check("%s total sum >= pin + iommu" % op,
	          o["total"]["sum"] >= o["pin"]["sum"] + o["iommu"]["sum"], True)
	    check("%s total max >= pin, iommu max" % op,
	          o["total"]["max"] >= max(o["pin"]["max"], o["iommu"]["max"]), True)
	    # The kernel's own events of the same operations, from ftrace.
	    kern = [int(v) for v in open("/tmp/%s_ns.txt" % op).read().split()]
	    check("%s events in the trace buffer" % op, len(kern), n)
	    want = {}
	    for v in kern:
	        want[slot_of(v)] = want.get(slot_of(v), 0) + 1
	    check("%s total slots, as the kernel's events" % op,
	          {slot_of(sl["low"]): sl["count"] for sl in o["total"]["slots"]}, want)
	    check("%s total sum, as the kernel's events" % op, o["total"]["sum"], sum(kern))
	    check("%s total max, as the kernel's events" % op, o["total"]["max"], max(kern))
	    tool = median_slot(o["total"])
	    print("# %s median: tool slot %d (%d..%d ns); the workload's, around the ioctl: %d ns" %
	          (op, tool, 1 << tool, (2 << tool) - 1, p50))

	# latt: the text report in usecs, exactly latj's ns / 1000.
	def us(ns):
	    return "%d.%03d" % (ns // 1000, ns % 1000)
	def avg(h):
	    q, rem = divmod(h["sum"], h["count"])
	    return q + (1 if rem >= h["count"] - rem else 0)
	text = open("/tmp/latt.out").read()
	check("latt lost line", re.search(r"^lost events: 0$", text, re.M) is not None, True)
	for op in ("map", "unmap"):
	    o = r[op]
	    m = re.search(r"^%s: (\d+) ops \(failed (\d+), teardown (\d+), filtered out (\d+)\)\n(.*?)\n\n" % op,
	                  text, re.M | re.S)
	    check("latt %s section" % op, m is not None, True)
	    if not m:
	        continue
	    check("latt %s counts" % op, tuple(int(x) for x in m.groups()[:4]),
	          (o["ops"], o["failed"], o["teardown"], o["filtered"]))
	    parts = re.split(r"^  (total|pin|iommu) \(usecs\): ", m.group(5), flags=re.M)[1:]
	    check("latt %s parts" % op, parts[0::2], ["total", "pin", "iommu"])
	    for part, body in zip(parts[0::2], parts[1::2]):
	        h = o[part]
	        head = body.split("\n")[0]
	        want = "p50 %s  p90 %s  p99 %s  max %s  avg %s" % (
	            us(h["p50"]), us(h["p90"]), us(h["p99"]), us(h["max"]), us(avg(h)))
	        check("latt %s %s line" % (op, part), head, want)
	        rows = [(a, b, int(c)) for a, b, c in
	                re.findall(r"^\s*(\S+) -> (\S+)\s+: (\d+)\s+\|", body, re.M)]
	        check("latt %s %s rows" % (op, part), [x for x in rows if x[2]],
	              [(us(s["low"]), us(s["high"]), s["count"]) for s in h["slots"]])

	# latm: the same in ms, as exact decimals.
	ms = lines("/tmp/latm.out")
	check("latm reports", len(ms), 1)
	check("latm unit", ms[-1]["unit"], "ms")
	M = Decimal(10) ** 6
	for op in ("map", "unmap"):
	    for part in ("total", "pin", "iommu"):
	        h, hm = r[op][part], ms[-1][op][part]
	        what = "latm %s %s" % (op, part)
	        check(what + " count", hm["count"], h["count"])
	        for k in ("sum", "p50", "p90", "p99", "max"):
	            check("%s %s = ns / 10^6" % (what, k), hm[k], Decimal(h[k]) / M, True)
	        check(what + " slots = ns / 10^6", [(s["low"], s["high"], s["count"]) for s in hm["slots"]],
	              [(Decimal(s["low"]) / M, Decimal(s["high"]) / M, s["count"]) for s in h["slots"]], True)

	# lati: a report a second, adding up to latj.
	iv = lines("/tmp/lati.out")
	busy = [x for x in iv if x["map"]["ops"] or x["unmap"]["ops"]]
	print("# lati: %d reports, %d with operations: %s" %
	      (len(iv), len(busy), [x["map"]["ops"] for x in iv]))
	check("lati intervals with operations >= 2", len(busy) >= 2, True)
	check("lati lost", iv[-1]["lost"]["total"], 0)
	for op in ("map", "unmap"):
	    for k in ("ops", "failed", "teardown", "filtered"):
	        check("lati %s %s summed" % (op, k), sum(x[op][k] for x in iv), r[op][k])
	    for part in ("total", "pin", "iommu"):
	        what = "lati %s %s" % (op, part)
	        slots = {}
	        for x in iv:
	            h = x[op][part]
	            check(what + " count = slots", sum(s["count"] for s in h["slots"]), h["count"], True)
	            if h["slots"]:
	                top = h["slots"][-1]
	                check(what + " max in its highest slot", top["low"] <= h["max"] <= top["high"], True)
	            for s in h["slots"]:
	                slots[s["low"]] = slots.get(s["low"], 0) + s["count"]
	        h = r[op][part]
	        check(what + " slots summed", slots, {s["low"]: s["count"] for s in h["slots"]})
	        check(what + " sum summed", sum(x[op][part]["sum"] for x in iv), h["sum"])
	        check(what + " largest max", max(x[op][part]["max"] for x in iv), h["max"])
	checks.done()
	PYEOF
done
log "vfio-lat excerpt:"
sed -n '1,14p' /tmp/latt.out
