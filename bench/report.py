#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn bench/run.sh's collected "@@ bench" lines into the tables of
docs/performance.md (markdown on stdout).

    report.py RESULTS

Every ratio is taken within one round (ours / in-tree: the two boots of
the round; everything else: one boot) and then summarised as
min / median / max over the rounds.  A latency is the median of the
round's calls; a pair is one MAP + one UNMAP (p50 of each, added)."""
import statistics
import sys

SIZES = [("4k", "4 KiB"), ("64k", "64 KiB"), ("2m-thp", "2 MiB THP"),
         ("2m-hugetlb", "2 MiB hugetlbfs"), ("64m", "64 MiB (THP)"), ("max", "max")]
HUGE = {"2m-thp", "2m-hugetlb", "64m", "max"}


def load(path):
    rows = []
    for line in open(path):
        f = dict(kv.split("=", 1) for kv in line.split() if "=" in kv)
        rows.append(f)
    return rows


def pick(rows, **want):
    return [r for r in rows if all(r.get(k) == v for k, v in want.items())]


def by_round(rows, **want):
    return {r["round"]: r for r in pick(rows, **want)}


def mmm(vals, fmt="%.2f"):
    if not vals:
        return "n/a"
    return (fmt + " / " + fmt + " / " + fmt) % (min(vals), statistics.median(vals), max(vals))


def pct(vals):
    if not vals:
        return "n/a"
    return "%+.1f%% / %+.1f%% / %+.1f%%" % (min(vals), statistics.median(vals), max(vals))


def f(r, k):
    return float(r[k])


def pair(r, op):
    a, b = ("pin", "unpin") if op == "pin" else ("map", "unmap")
    return f(r, a + "_p50") + f(r, b + "_p50")


def verdict(ok):
    return "met" if ok else "**missed**"


def main():
    rows = load(sys.argv[1])
    rounds = sorted({r["round"] for r in rows}, key=int)
    out = []
    w = out.append
    w("Rounds: %d (ours and in-tree booted alternately, the first stack of a "
      "round alternating too).  Each cell: min / median / max over the rounds." % len(rounds))
    w("")

    # 1. ours vs in-tree
    w("### 1. MAP + UNMAP, ours vs. Debian's in-tree VFIO")
    w("")
    w("Throughput is MAP+UNMAP pairs per second (from the p50 latencies); GiB/s is "
      "bytes pinned and mapped per second of MAP (median round). Ratio = ours / in-tree "
      "throughput, so above 1 is ours faster; latency ratios are in-tree / ours.")
    w("")
    w("| size | pairs/s ours | pairs/s in-tree | MAP GiB/s ours | MAP GiB/s in-tree | "
      "**ratio pairs/s** | MAP latency ratio | UNMAP latency ratio | target | |")
    w("|---|---|---|---|---|---|---|---|---|---|")
    for name, label in SIZES:
        o = by_round(rows, stack="ours", variant="default", name=name)
        t = by_round(rows, stack="intree", variant="default", name=name)
        common = [k for k in rounds if k in o and k in t]
        if not common:
            continue
        if name == "max":
            label = "max: %d MiB (THP)" % (int(o[common[0]]["size"]) >> 20)
        ratio = [pair(t[k], "map") / pair(o[k], "map") for k in common]
        mapr = [f(t[k], "map_p50") / f(o[k], "map_p50") for k in common]
        unmapr = [f(t[k], "unmap_p50") / f(o[k], "unmap_p50") for k in common]
        ops_o = statistics.median(1e9 / pair(o[k], "map") for k in common)
        ops_t = statistics.median(1e9 / pair(t[k], "map") for k in common)
        gib_o = statistics.median(int(o[k]["size"]) / f(o[k], "map_p50") * 1e9 / 2**30 for k in common)
        gib_t = statistics.median(int(t[k]["size"]) / f(t[k], "map_p50") * 1e9 / 2**30 for k in common)
        target = 1.3 if name in HUGE else 1.0
        w("| %s | %.0f | %.0f | %.2f | %.2f | **%s** | %s | %s | >= %.1f | %s |" % (
            label, ops_o, ops_t, gib_o, gib_t, mmm(ratio), mmm(mapr), mmm(unmapr),
            target, verdict(min(ratio) >= target)))
    w("")

    # 2. distance from the limit
    w("### 2. Distance from the limit: MAP time / pin-only time (ours)")
    w("")
    w("Pin-only: `kernel/testing/vfio_pin_bench.c`, `pin_user_pages_fast(FOLL_LONGTERM | "
      "FOLL_WRITE)` 512 pages a call, timed from user space around its ioctl like MAP is.")
    w("")
    w("| size | MAP p50 (us) | pin p50 (us) | **MAP / pin** | MAP+UNMAP / pin+unpin | target | |")
    w("|---|---|---|---|---|---|---|")
    for name, label in SIZES:
        o = by_round(rows, stack="ours", variant="default", name=name)
        p = by_round(rows, stack="ours", variant="pin", name=name)
        common = [k for k in rounds if k in o and k in p]
        if not common:
            continue
        r = [f(o[k], "map_p50") / f(p[k], "pin_p50") for k in common]
        rp = [pair(o[k], "map") / pair(p[k], "pin") for k in common]
        w("| %s | %.1f | %.1f | **%s** | %s | < 1.3 | %s |" % (
            label, statistics.median(f(o[k], "map_p50") for k in common) / 1e3,
            statistics.median(f(p[k], "pin_p50") for k in common) / 1e3,
            mmm(r), mmm(rp), verdict(max(r) < 1.3)))
    w("")

    # 3. observability
    w("### 3. Cost of observability (ours; MAP+UNMAP pair time against tracepoints disabled)")
    w("")
    w("`notrace`: the same modules built with `-DNOTRACE` (tracepoints compiled out); "
      "the baseline is the mean of the disabled runs before and after it in the same boot, "
      "`noise`: the second disabled run against the first; "
      "`tools`: vfio-top -b + vfio-lat + vfio-leak attached; `bpftrace`: `bench/vfio.bt`. "
      "Positive = slower than tracepoints disabled.")
    w("")
    w("| size | no tracepoints (notrace) | noise (disabled vs. disabled) | our 3 tools | bpftrace | "
      "disabled ~ notrace | tools <= 3% | tools < bpftrace |")
    w("|---|---|---|---|---|---|---|---|")
    for name in ("4k", "64k"):
        label = dict(SIZES)[name]
        d1 = by_round(rows, stack="ours", variant="default", name=name)
        d2 = by_round(rows, stack="ours", variant="default2", name=name)
        base = {k: (pair(d1[k], "map") + pair(d2[k], "map")) / 2 for k in d1 if k in d2}
        cols, vals = [], {}
        for v in ("notrace", "noise", "tools", "bpftrace"):
            if v == "noise":
                vals[v] = [(pair(d2[k], "map") / pair(d1[k], "map") - 1) * 100 for k in base]
            else:
                x = by_round(rows, stack="ours", variant=v, name=name)
                vals[v] = [(pair(x[k], "map") / base[k] - 1) * 100 for k in rounds
                           if k in base and k in x]
            cols.append(pct(vals[v]))
        if not vals["tools"]:
            continue
        noise = max(abs(v) for v in vals["noise"]) if vals["noise"] else 0
        notr = statistics.median(vals["notrace"]) if vals["notrace"] else 0
        # Within noise: notrace no faster than disabled by more than the
        # disabled run differs from itself (and never asked closer than 1%).
        ok1 = -notr <= max(noise, 1.0)
        ok2 = statistics.median(vals["tools"]) <= 3.0
        ok3 = all(a < b for a, b in zip(vals["tools"], vals["bpftrace"]))
        w("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            label, *cols, verdict(ok1), verdict(ok2), verdict(ok3)))
    w("")

    # 4. start-up and footprint
    w("### 4. Tool start-up and footprint (ours loaded, nothing mapping)")
    w("")
    w("Attached: from before fork+exec to the tool's `... Ctrl-C to end` line.  RSS: "
      "VmHWM 1.5 s after attaching.  BPF maps: `bpftool map show` bytes_memlock of the "
      "maps that appeared.")
    w("")
    w("| tool | exec -> attached (ms) | RSS VmHWM (MiB) | BPF maps | BPF map memory (KiB) | "
      "< 100 ms | RSS < 16 MiB |")
    w("|---|---|---|---|---|---|---|")
    for tool in ("vfio-top", "vfio-lat", "vfio-leak", "bpftrace"):
        x = pick(rows, variant="startup", name=tool)
        if not x:
            continue
        att = [f(r, "attach_ns") / 1e6 for r in x]
        rss = [f(r, "vmhwm_kb") / 1024 for r in x]
        mem = [f(r, "map_memlock") / 1024 for r in x]
        nm = statistics.median(int(r["maps"]) for r in x)
        ours = tool != "bpftrace"
        w("| %s | %s | %s | %d | %s | %s | %s |" % (
            tool, mmm(att, "%.0f"), mmm(rss, "%.1f"), nm, mmm(mem, "%.0f"),
            verdict(statistics.median(att) < 100) if ours else "(reference)",
            verdict(max(rss) < 16) if ours else "(reference)"))
    print("\n".join(out))


if __name__ == "__main__":
    main()
