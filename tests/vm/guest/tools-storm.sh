#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# A map storm against ground truth, on both stacks (ours: tracepoints,
# tp_btf; in-tree: fentry): vfio_storm runs P processes of T threads, in
# two containers (edu's, shared by two processes, and e1000e's), each
# thread mapping and unmapping buffers of 4 to 16 KiB at its own IOVAs and
# making E maps fail with EEXIST, all threads started at once, ioctls of
# several threads under way together (the program measures it).  While
# vfio-exporter (scraped again and again) and vfio-top (-j and -b) watch,
# what they show must be the workload's numbers, per process, per
# container and in total: ok maps, unmaps, failed maps, bytes each way,
# and the latency histogram's _count by op = the successful operations.
# Exactly, or, where a tool reports lost events (vfio-top's "lost", the
# exporter's vfioscope_lost_events_total), short by at most what it lost
# and never over.  With no event lost, the levels end at 0: nothing
# mapped, pinned or entered once every container is released.  No scrape
# sees a counter go back or a series go.  The storm runs at nice 10: under
# TCG, at nice 0 its 12 threads leave the scraper next to no CPU.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 240
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"

P=3		# processes
T=4		# threads each
R=600		# rounds of B maps then B unmaps per thread
B=8
E=2		# failed maps per thread
for c in vfio-top vfio-exporter vfio_storm curl; do
	command -v $c >/dev/null || fail "no $c on PATH"
done
case $VFIOSCOPE_STACK in
ours) mode=tp_btf ;;
intree) mode=fentry ;;
esac

load_stack
edu=$(edu_bdf)
nic=$(e1000e_bdf)
cleanup() {
	local t pid
	rm -f /tmp/storm.running
	for t in exporter topj topb; do
		pid=TOOL_PID_$t
		[ -n "${!pid:-}" ] && kill "${!pid}" 2>/dev/null && wait "${!pid}"
	done
	unbind_vfio "$edu"
	unbind_vfio "$nic"
	unload_stack
}
trap cleanup EXIT
bind_vfio "$edu"
bind_vfio "$nic"

tool_start exporter vfio-exporter
tool_start topj vfio-top -j 1
tool_start topb vfio-top -b 1

# Scrapes during the storm (each takes a second or two under TCG): no
# counter may go back from one to the next.
rm -rf /tmp/scrapes /tmp/scrapes.ms && mkdir /tmp/scrapes
touch /tmp/storm.running
(
	i=0
	while [ -e /tmp/storm.running ]; do
		i=$((i + 1))
		t=$(date +%s%N)
		curl -s 127.0.0.1:9707/metrics >"/tmp/scrapes/$(printf %04d $i)" || exit 1
		echo $((($(date +%s%N) - t) / 1000000)) >>/tmp/scrapes.ms
		sleep 0.5
	done
) &
scraper=$!
log "storm: $P processes x $T threads, $R rounds of $B maps + $B unmaps each, $E failed maps each"
nice -n 10 vfio_storm -p $P -t $T -r $R -b $B -e $E >/tmp/storm.txt || fail "vfio_storm failed"
rm -f /tmp/storm.running
wait $scraper || fail "a scrape during the storm failed"
cat /tmp/storm.txt
# Two more vfio-top reports: the exited processes and released containers
# are shown (once more, then dropped: the last row of each is final).
sleep 2.5
curl -s 127.0.0.1:9707/metrics >/tmp/metrics.txt || fail "cannot scrape vfio-exporter"
tool_stop topj
tool_stop topb
tool_stop exporter
TOOL_PID_exporter= TOOL_PID_topj= TOOL_PID_topb=
log "$(ls /tmp/scrapes | wc -l) scrapes during the storm, ms each: $(tr '\n' ' ' </tmp/scrapes.ms); vfio-top: $(wc -l </tmp/topj.out) reports"
grep -v '^#' /tmp/metrics.txt | grep '^vfioscope_\(dma_operations\|dma_bytes\|dma_duration_seconds_count\|lost\|build\)'

$PY - "$mode" /tmp/storm.txt /tmp/topj.out /tmp/topb.out /tmp/metrics.txt /tmp/scrapes <<'PYEOF' || fail "the tools against the storm ($mode): see above"
import itertools, json, os, re, sys
from toolcheck import Checks
mode, storm_path, topj, topb, metrics_path, scrapes = sys.argv[1:]
checks = Checks()
check, counted, bad = checks.check, checks.counted, checks.bad
KEYS = ("maps", "unmaps", "map_bytes", "unmap_bytes", "errors")

# ---- the ground truth -------------------------------------------------
def kv(line):
    return {k: v if k == "container" else float(v) if k == "secs" else int(v)
            for k, v in re.findall(r"(\w+)=(\S+)", line)}
procs, total = {}, None
for line in open(storm_path):
    if line.startswith("proc="):
        p = kv(line)
        procs[p["pid"]] = p
    elif line.startswith("storm "):
        total = kv(line)
if total is None or len(procs) != total["procs"]:
    sys.exit("vfio_storm printed %d process lines and %s" % (len(procs), total))
devs = sorted({p["container"] for p in procs.values()})
truth = {d: {k: sum(p[k] for p in procs.values() if p["container"] == d) for k in KEYS}
         for d in devs}
for k in KEYS:
    check("vfio_storm: total %s = sum of its processes'" % k,
          sum(p[k] for p in procs.values()), total[k], quiet=True)
check("vfio_storm: ioctls of several threads under way at once", total["max_inflight"] > 1, True)
check("vfio_storm: containers", len(devs), total["containers"])
big = total["max_size"]	# the most bytes one lost event can carry
print("# truth: %s; per container: %s" % (
    " ".join("%s=%d" % (k, total[k]) for k in KEYS), truth))

def against(what, got, want, lost, quiet=False):
    """got (a dict by KEYS, missing keys None) against want, as counted()."""
    for k in KEYS:
        counted("%s %s" % (what, k), got.get(k), want[k], lost,
                big if k.endswith("bytes") else 1, quiet)

# ---- vfio-top -j --------------------------------------------------------
lines = [json.loads(l) for l in open(topj)]
if not lines:
    sys.exit("vfio-top -j printed nothing")
check("vfio-top attach", {l["attach"] for l in lines}, {mode})
lost = max(l["lost"]["total"] for l in lines)
print("# vfio-top lost events: %d (last report: %s)" % (lost, lines[-1]["lost"]))
def last_rows(table, key, ids):
    """id -> (index of the report, row) of the last report showing it, and
    the rates times intervals summed over every report showing it."""
    out = {}
    for i, l in enumerate(lines):
        for r in l[table]:
            if r[key] in ids:
                prev = out.get(r[key], (0, None, 0.0))
                out[r[key]] = (i, r, prev[2] + r["maps_per_s"] * l["interval_s"])
    return out
def rate_check(what, rate_sum, maps):
    """Each report's maps/s times its interval add up to the maps, to the
    precision of the JSON (3 decimals of both): 0.1%."""
    check(what + " sum of maps/s x interval within 0.1%% of its maps (%.1f)" % rate_sum,
          abs(rate_sum - maps) <= maps / 1000 + 0.5, True)
prows = last_rows("processes", "pid", set(procs))
top_cont = {}
for pid, p in sorted(procs.items()):
    if pid not in prows:
        bad.append("vfio-top: no row for process %d" % pid)
        continue
    i, r, rate_sum = prows[pid]
    what = "vfio-top process %d (%s)" % (pid, p["container"])
    against(what, r, p, lost)
    check(what + " comm", r["comm"], "vfio_storm")
    check(what + " exited", r["exited"], True)
    check(what + " dropped after shown exited", i < len(lines) - 1, True)
    rate_check(what, rate_sum, r["maps"])
    if not lost:
        check(what + " mapped_bytes", r.get("mapped_bytes"), 0)
        check(what + " pinned_pages", r.get("pinned_pages"), 0)
    top_cont.setdefault(p["container"], set()).add(r["container"])
# Processes of one container show one id, different containers different ids.
for d in devs:
    check("vfio-top: container ids of the %s processes" % d, len(top_cont.get(d, ())), 1)
ids = {d: min(top_cont[d]) for d in devs if top_cont.get(d)}
check("vfio-top: distinct container ids", len(set(ids.values())), len(devs))
crows = last_rows("containers", "container", set(ids.values()))
sums = dict.fromkeys(KEYS, 0)
for d, cid in sorted(ids.items()):
    if cid not in crows:
        bad.append("vfio-top: no row for container %d (%s)" % (cid, d))
        continue
    i, r, rate_sum = crows[cid]
    what = "vfio-top container %d (%s)" % (cid, d)
    against(what, r, truth[d], lost)
    check(what + " released", r["released"], True)
    check(what + " dropped after shown released", i < len(lines) - 1, True)
    rate_check(what, rate_sum, r["maps"])
    if not lost:
        for k in ("mapped_bytes", "pinned_pages", "entries"):
            check("%s %s" % (what, k), r.get(k), 0)
    for k in KEYS:
        sums[k] += r[k]
against("vfio-top all containers", sums, total, lost)

# ---- vfio-top -b: the same, in its text tables --------------------------
text = open(topb).read().splitlines()
tlost = max((int(m.group(1)) for l in text for m in [re.search(r"lost events: (\d+)", l)] if m),
            default=None)
check("vfio-top -b: a lost events count in its header", tlost is not None, True)
tlost = tlost or 0
tproc, tcont, section = {}, {}, None
for l in text:
    f = l.split()
    if not f:
        continue
    if f[0] in ("PID", "CONTAINER", "GROUP"):
        section = f[0]
    elif section == "PID" and f[0].isdigit() and int(f[0]) in procs and len(f) >= 12:
        tproc[int(f[0])] = f
    elif section == "CONTAINER" and f[0].isdigit() and len(f) >= 12:
        tcont[int(f[0])] = f
for pid, p in sorted(procs.items()):
    f = tproc.get(pid)
    if not f:
        bad.append("vfio-top -b: no row for process %d" % pid)
        continue
    what = "vfio-top -b process %d" % pid
    check(what + " comm", f[1], "vfio_storm", quiet=True)
    counted(what + " MAPS", int(f[2]), p["maps"], tlost, quiet=True)
    counted(what + " UNMAPS", int(f[3]), p["unmaps"], tlost, quiet=True)
    counted(what + " ERRS", int(f[10]), p["errors"], tlost, quiet=True)
    check(what + " (exited)", f[-1], "(exited)", quiet=True)
for d, cid in sorted(ids.items()):
    f = tcont.get(cid)
    if not f:
        bad.append("vfio-top -b: no row for container %d" % cid)
        continue
    what = "vfio-top -b container %d" % cid
    counted(what + " MAPS", int(f[1]), truth[d]["maps"], tlost, quiet=True)
    counted(what + " UNMAPS", int(f[2]), truth[d]["unmaps"], tlost, quiet=True)
    counted(what + " ERRS", int(f[11]), truth[d]["errors"], tlost, quiet=True)
    check(what + " (released)", f[-1], "(released)", quiet=True)
print("# vfio-top -b: lost events %d; last rows: %s" % (
    tlost, [" ".join(f[:4] + f[-3:]) for f in list(tproc.values()) + list(tcont.values())]))

# ---- vfio-exporter ----------------------------------------------------------
def parse(path):
    out = {}
    for line in open(path):
        m = re.match(r"^(\w+)(?:\{(.*)\})? (\S+)$", line)
        if m:
            labels = tuple(sorted(re.findall(r'(\w+)="([^"]*)"', m.group(2) or "")))
            out[(m.group(1), labels)] = float(m.group(3))
    return out
met = parse(metrics_path)
def series(name, **want):
    return {dict(l).get("container"): int(v) for (n, l), v in met.items()
            if n == name and all(dict(l).get(k) == x for k, x in want.items())}
def one(name, **want):
    v = series(name, **want)
    return next(iter(v.values())) if len(v) == 1 else None
check("vfio-exporter attach", [dict(l).get("attach") for (n, l) in met
                               if n == "vfioscope_build_info"], [mode])
xlost = sum(int(v) for (n, l), v in met.items() if n == "vfioscope_lost_events_total")
check("vfio-exporter serves vfioscope_lost_events_total",
      any(n == "vfioscope_lost_events_total" for (n, l) in met), True)
print("# vfio-exporter lost events: %d" % xlost)
results = {dict(l)["result"] for (n, l) in met if n == "vfioscope_dma_operations_total"}
# Every failure is the storm's EEXIST (all of them lost could hide its series).
check("vfio-exporter results", results if not xlost else results | {"EEXIST"}, {"ok", "EEXIST"})
def failed(c, op):
    return sum(int(v) for (n, l), v in met.items() if n == "vfioscope_dma_operations_total"
               and dict(l).get("container") == c and dict(l)["op"] == op
               and dict(l)["result"] != "ok")
got = {}
for c in series("vfioscope_dma_operations_total", op="map", result="ok"):
    got[c] = {
        "maps": series("vfioscope_dma_operations_total", op="map", result="ok").get(c),
        "unmaps": series("vfioscope_dma_operations_total", op="unmap", result="ok").get(c),
        "errors": failed(c, "map"),
        "map_bytes": series("vfioscope_dma_bytes_total", op="map").get(c),
        "unmap_bytes": series("vfioscope_dma_bytes_total", op="unmap").get(c),
    }
    check("vfio-exporter container %s: failed unmaps" % c, failed(c, "unmap"), 0)
check("vfio-exporter containers", len(got), len(devs))
# Which container is which: the exporter's ids need not be vfio-top's (in
# fentry mode each numbers the containers it meets), so pair them by
# their counts, the pairing closest to the truth.
cs = sorted(got)
best = min(itertools.permutations(devs, len(cs)),
           key=lambda ds: sum(abs(truth[d][k] - (got[c][k] or 0)) for c, d in zip(cs, ds)
                              for k in ("maps", "unmaps")))
sums = dict.fromkeys(KEYS, 0)
for c, d in zip(cs, best):
    what = "vfio-exporter container %s (%s)" % (c, d)
    against(what, got[c], truth[d], xlost)
    if not xlost:
        check(what + " mapped_bytes", one("vfioscope_dma_mapped_bytes", container=c), 0)
        check(what + " pinned_pages", one("vfioscope_dma_pinned_pages", container=c), 0)
        check(what + " entries", one("vfioscope_dma_entries", container=c), 0)
    for k in KEYS:
        sums[k] += got[c][k] or 0
against("vfio-exporter all containers", sums, total, xlost)
for op, k in (("map", "maps"), ("unmap", "unmaps")):
    n = one("vfioscope_dma_duration_seconds_count", op=op)
    counted("vfio-exporter latency histogram _count{op=%s}" % op, n, total[k], xlost)
    check("vfio-exporter histogram +Inf bucket{op=%s} = _count" % op,
          one("vfioscope_dma_duration_seconds_bucket", op=op, le="+Inf"), n)
    s = met.get(("vfioscope_dma_duration_seconds_sum", (("op", op),)))
    check("vfio-exporter histogram _sum{op=%s} > 0" % op, bool(s and s > 0), True)

# ---- scrapes during the storm: counters never go back --------------------
COUNTERS = ("vfioscope_dma_operations_total", "vfioscope_dma_bytes_total",
            "vfioscope_dma_duration_seconds_count", "vfioscope_lost_events_total")
pages = [parse(os.path.join(scrapes, f)) for f in sorted(os.listdir(scrapes))] + [met]
mid = 0
for a, b in zip(pages, pages[1:]):
    for key, v in a.items():
        if key[0] not in COUNTERS:
            continue
        if key not in b:
            bad.append("vfio-exporter: %s gone from the next scrape" % (key,))
        elif b[key] < v:
            bad.append("vfio-exporter: %s went back from %d to %d between scrapes" % (key, v, b[key]))
    n = a.get(("vfioscope_dma_duration_seconds_count", (("op", "map"),)), 0)
    mid += 0 < n < total["maps"]
print("# vfio-exporter: %d scrapes, %d of them in the middle of the storm" % (len(pages), mid))
checks.done()
PYEOF
log "storm of $(sed -n 's/^storm .* maps=\([0-9]*\) unmaps=\([0-9]*\) .*/\1 maps and \2 unmaps/p' /tmp/storm.txt) counted by vfio-top and vfio-exporter ($mode)"
