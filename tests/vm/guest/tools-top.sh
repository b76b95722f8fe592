#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-top against ground truth, in both attach modes (tp_btf, raw_tp):
# a workload of N maps + N unmaps of S bytes must show as exactly N maps and
# N unmaps, N*S bytes each way, no errors, on its process row and on its
# container row; the per-interval rates must add up to N; rows of exited
# processes and released containers are shown once, then dropped.  With
# --keep --hold the live levels must be exact: N*S bytes mapped, N*S/4096
# pages pinned, N DMA entries.  No event lost.
# vm-stack: ours
# vm-timeout: 300
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"

N=40
S=16384
load_stack
bdf=$(edu_bdf)
bind_vfio "$bdf"
trap 'unbind_vfio "$bdf"; unload_stack' EXIT

# The default is tp_btf (our modules carry BTF), and -v says so.
vfio-top -v -b 1 1 >/dev/null 2>/tmp/top-v.err || fail "vfio-top -b 1 1 failed"
grep -q '^vfio-top: attaching with tp_btf: ' /tmp/top-v.err ||
	fail "vfio-top -v: $(grep attaching /tmp/top-v.err)"

for mode in tp_btf raw_tp; do
	log "--- $mode: $N maps + unmaps of $S bytes"
	tool_start topj vfio-top --attach "$mode" -j 1
	tool_start topb vfio-top --attach "$mode" -b 1
	vfio_workload -n $N -s $S >/tmp/work.txt || fail "vfio_workload failed"
	cat /tmp/work.txt
	pid=$(workload_field pid /tmp/work.txt)
	# Two more reports: the exited process and released container shown
	# once, then dropped.
	sleep 3.5
	tool_stop topj
	tool_stop topb
	$PY - "$mode" "$pid" $N $S /tmp/topj.out <<-'PYEOF' || fail "vfio-top -j ($mode): see above"
	import json, sys
	mode, pid, n, s, path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
	lines = [json.loads(l) for l in open(path)]
	from toolcheck import Checks
	checks = Checks()
	check, bad = checks.check, checks.bad
	check("attach", {l["attach"] for l in lines}, {mode})
	check("lost", max(l["lost"]["total"] for l in lines), 0)
	procs = [(i, p) for i, l in enumerate(lines) for p in l["processes"] if p["pid"] == pid]
	if not procs:
	    sys.exit("no row for pid %d" % pid)
	last_i, p = procs[-1]
	for k, want in (("maps", n), ("unmaps", n), ("map_bytes", n * s),
	                 ("unmap_bytes", n * s), ("mapped_bytes", 0), ("pinned_pages", 0),
	                 ("errors", 0), ("exited", True), ("comm", "vfio_workload")):
	    check("process %s" % k, p[k], want)
	check("process row dropped after it was shown exited", last_i < len(lines) - 1, True)
	# Rates: each report's rate times its interval adds up to the count.
	ops = sum(p["maps_per_s"] * lines[i]["interval_s"] for i, p in procs)
	check("sum of maps/s x interval", round(ops), n)
	byt = sum(p["unmap_bytes_per_s"] * lines[i]["interval_s"] for i, p in procs)
	check("sum of unmap bytes/s x interval within 0.1%", abs(byt - n * s) <= n * s / 1000, True)
	cid = p["container"]
	conts = [(i, c) for i, l in enumerate(lines) for c in l["containers"] if c["container"] == cid]
	if not conts:
	    sys.exit("no row for container %d" % cid)
	last_i, c = conts[-1]
	for k, want in (("maps", n), ("unmaps", n), ("map_bytes", n * s),
	                ("unmap_bytes", n * s), ("mapped_bytes", 0), ("pinned_pages", 0),
	                ("entries", 0), ("errors", 0), ("released", True)):
	    check("container %d %s" % (cid, k), c[k], want)
	check("container row dropped after it was shown released", last_i < len(lines) - 1, True)
	checks.done()
	PYEOF
	# The text report: the same numbers, in the process and container tables.
	grep -E "^ *$pid vfio_workload +$N +$N " /tmp/topb.out | tail -n 1 | grep -q '(exited)' ||
		fail "vfio-top -b ($mode): no exited row '$pid vfio_workload $N $N': $(grep " $pid " /tmp/topb.out | tail -n 1)"
	grep -q 'lost events: 0$' /tmp/topb.out || fail "vfio-top -b ($mode): lost events"
	! grep -q 'lost events: [1-9]' /tmp/topb.out || fail "vfio-top -b ($mode): lost events"

	log "--- $mode: $N maps of $S bytes kept while held"
	tool_start topj vfio-top --attach "$mode" -j 1
	vfio_workload -n $N -s $S --keep --hold 4 >/tmp/work.txt &
	wpid=$!
	for i in $(seq 100); do [ -s /tmp/work.txt ] && break; sleep 0.1; done
	[ -s /tmp/work.txt ] || fail "vfio_workload --keep printed nothing"
	# A report taken wholly while the mappings are held.
	sleep 2.2
	held=$(wc -l </tmp/topj.out)
	kill -USR1 $wpid 2>/dev/null || :
	wait $wpid || fail "vfio_workload --keep failed"
	cat /tmp/work.txt
	pid=$(workload_field pid /tmp/work.txt)
	sleep 2.5
	tool_stop topj
	$PY - "$pid" $N $S "$held" /tmp/topj.out <<-'PYEOF' || fail "vfio-top -j --keep ($mode): see above"
	import json, sys
	pid, n, s, held = (int(a) for a in sys.argv[1:5])
	path = sys.argv[5]
	lines = [json.loads(l) for l in open(path)]
	from toolcheck import Checks
	checks = Checks()
	check, bad = checks.check, checks.bad
	check("lost", max(l["lost"]["total"] for l in lines), 0)
	live = lines[held - 1]
	p = [p for p in live["processes"] if p["pid"] == pid]
	if not p:
	    sys.exit("no row for pid %d while held" % pid)
	p = p[0]
	for k, want in (("maps", n), ("unmaps", 0), ("mapped_bytes", n * s),
	                ("pinned_pages", n * s // 4096), ("errors", 0), ("exited", False)):
	    check("held: process %s" % k, p[k], want)
	c = [c for c in live["containers"] if c["container"] == p["container"]][0]
	for k, want in (("maps", n), ("mapped_bytes", n * s), ("pinned_pages", n * s // 4096),
	                ("entries", n), ("errors", 0), ("released", False)):
	    check("held: container %s" % k, c[k], want)
	# After exit: the teardown took everything back, and is no unmap op.
	last = [c2 for l in lines for c2 in l["containers"] if c2["container"] == c["container"]][-1]
	for k, want in (("unmaps", 0), ("unmap_bytes", n * s), ("mapped_bytes", 0),
	                ("pinned_pages", 0), ("released", True)):
	    check("after exit: container %s" % k, last[k], want)
	checks.done()
	PYEOF
done
log "vfio-top -b excerpt:"
grep -B3 -A6 "vfio_workload" /tmp/topb.out | head -n 12
