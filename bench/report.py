#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn bench/run.sh's collected "@@ bench" lines into the tables of
docs/performance.md (markdown on stdout).

    report.py RESULTS

Every ratio is taken within one round (ours / in-tree: the two boots of
the round; everything else: one boot) and then summarised as
min / median / max over the rounds.  A latency is the median of the
round's calls; a pair is one MAP + one UNMAP (p50 of each, added)."""
import math
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

OBS_VARIANTS = [
    ("disabled-again", "disabled again (A/A: the noise)"),
    ("notrace", "no tracepoints (`-DNOTRACE` build)"),
    ("empty", "programs that do nothing, attached (`bench/empty_attach`)"),
    ("exporter", "vfio-exporter alone (the collector, no front end)"),
    ("tools", "vfio-exporter + vfio-top -b + vfio-lat + vfio-leak"),
    ("bpftrace", "bpftrace `bench/vfio.bt`"),
]
# Issue 12's targets for the tools, by size; the A/A bound.
TOOLS_TARGET = {"4k": 10.0, "64k": 3.0}
AA_BOUND = 2.0
# vfio_bench --probe times a fixed piece of user-space work before each
# pair; under TCG on a shared host the vCPU runs ~1.4x slower for seconds at
# a time while the host's other core is busy.  A run's figure is its pairs
# with a quiet probe (within 15% of the run's fastest, vfio_bench's
# PROBE_QUIET), and a run counts only if its fastest probe is within
# PROBE_REF of the median fastest probe of its boot (the run saw the vCPU at
# full speed: a quiet run's fastest probe moves by +-8% from one process to
# the next, one in a busy spell is 1.15-1.3x the median) and it had at
# least QUIET_MIN quiet pairs (their p50 is then within ~0.5%: quiet calls
# spread by ~2-3%).
PROBE_REF = 1.12
QUIET_MIN = 100


def usable(r, ref):
    # Runs from before --probe: their p50 far above their fastest call.
    if "probe_min" not in r:
        return all(f(r, op + "_p50") <= 1.15 * f(r, op + "_min") for op in ("map", "unmap"))
    return f(r, "probe_min") <= PROBE_REF * ref[r["round"]] and int(r["quiet"]) >= QUIET_MIN


def quiet_pair(r):
    if "probe_min" not in r:
        return pair(r, "map")
    return f(r, "qmap_p50") + f(r, "qunmap_p50")


def median_ci(vals):
    """The median's distribution-free 95% confidence interval: the order
    statistics (k, n-k+1) with P(Binomial(n, 1/2) < k) <= 2.5%; None below
    6 values, where even (min, max) covers less than 95%."""
    n = len(vals)
    v = sorted(vals)
    cum, k = 0.0, 0
    while True:
        cum += math.comb(n, k) * 0.5 ** n
        if cum > 0.025:
            break
        k += 1
    return (v[k - 1], v[n - k]) if k >= 1 else None


def pct_cell(vals):
    if not vals:
        return "n/a"
    ci = median_ci(vals)
    s = "**%+.1f%%**" % statistics.median(vals)
    if ci:
        s += " [%+.1f, %+.1f]" % ci
    return s + " (%+.1f..%+.1f) {%d}" % (min(vals), max(vals), len(vals))


def observability(obs, obs_cpu, w, of):
    """Section 3: each round's variants against its own `disabled` run."""
    keys = sorted({(r["round"], r["obs"]) for r in obs}, key=lambda k: (int(k[0]), int(k[1])))
    calls = {r["name"]: r["n"] for r in obs}
    reps = max(int(r.get("rep", 0)) for r in obs) + 1
    fastest = {}
    for r in obs:
        if "probe_min" in r:
            fastest.setdefault(r["round"], []).append(f(r, "probe_min"))
    ref = {k: statistics.median(v) for k, v in fastest.items()}
    quiet = [r for r in obs if usable(r, ref)]
    pairs_used = sum(int(r.get("quiet", r["n"])) for r in quiet)
    pairs_all = sum(int(r["n"]) for r in obs)

    def figure(variant, name):
        """Per round: the mean quiet pair time of the variant's usable runs."""
        runs = {}
        for r in pick(quiet, variant=variant, name=name):
            runs.setdefault((r["round"], r["obs"]), []).append(quiet_pair(r))
        return {k: statistics.mean(v) for k, v in runs.items()}

    w("### 3. Cost of observability (ours; MAP+UNMAP pair time against tracepoints disabled)" + of)
    w("")
    w("%d rounds in %d boot%s; each round runs every variant once, in the order of a "
      "Williams design (`bench/guest.sh`), and each variant %d workload run%s per size of "
      "%s MAP+UNMAP pairs (scattered buffers).  A run's pair time is the p50 MAP + p50 "
      "UNMAP of its pairs timed while the vCPU ran at full speed (`vfio_bench --probe`: "
      "%.0f%% of all pairs); %d of %d runs are left out, as the vCPU never ran at full "
      "speed in them (their fastest probe over %.2fx the boot's median) or too briefly "
      "(under %d quiet pairs).  A round's figure for a variant is the mean pair time of its runs over that of the "
      "round's `disabled` runs, minus 1.  Each cell: **median over rounds** [95%% "
      "confidence interval of the median] (min..max over rounds) {rounds used}.  "
      "Positive = slower than tracepoints disabled." % (
          len(keys), len({k[0] for k in keys}), "s" if len({k[0] for k in keys}) > 1 else "", reps, "s" if reps > 1 else "",
          " and ".join("%s at %s" % (calls[n], dict(SIZES)[n]) for n in ("4k", "64k") if n in calls),
          100.0 * pairs_used / pairs_all, len(obs) - len(quiet), len(obs), PROBE_REF, QUIET_MIN))
    w("")
    w("| variant | 4 KiB | 64 KiB |")
    w("|---|---|---|")
    vals, byk = {}, {}
    for name in ("4k", "64k"):
        base = figure("disabled", name)
        for v, _ in OBS_VARIANTS:
            x = figure(v, name)
            byk[v, name] = {k: (x[k] / base[k] - 1) * 100 for k in keys if k in x and k in base}
            vals[v, name] = list(byk[v, name].values())
        vals["base", name] = [base[k] for k in keys if k in base]
    w("| disabled: pair time (us, TCG) | %s | %s |" % tuple(
        mmm([t / 1e3 for t in vals["base", n]], "%.1f") for n in ("4k", "64k")))
    for v, label in OBS_VARIANTS:
        w("| %s | %s | %s |" % (label, pct_cell(vals[v, "4k"]), pct_cell(vals[v, "64k"])))
    w("")
    if obs_cpu:
        # Under single-threaded TCG both vCPUs share one host thread, so
        # what the tools' own processes run is taken from the workload too.
        w("The watchers' own CPU time while a variant was measured (user + system of the "
          "tools' processes, or bpftrace's, over the measurement's wall time; both vCPUs run "
          "on one host thread, so this time is taken from the workload's): min / median / max "
          "over rounds.")
        w("")
        w("| variant | CPU time / wall time |")
        w("|---|---|")
        for v, label in OBS_VARIANTS:
            x = [100.0 * f(r, "tools_cpu_ms") / f(r, "wall_ms") for r in pick(obs_cpu, variant=v)
                 if f(r, "wall_ms") > 0]
            if x and max(x) > 0:
                w("| %s | %s |" % (label, mmm(x, "%.2f%%")))
        w("")

    def med(v, n):
        return statistics.median(vals[v, n]) if vals[v, n] else float("nan")

    w("| target | 4 KiB | 64 KiB |")
    w("|---|---|---|")
    w("| A/A: disabled again within +-%.0f%% of disabled (median) | %s |" % (
        AA_BOUND, " | ".join(verdict(abs(med("disabled-again", n)) <= AA_BOUND)
                             for n in ("4k", "64k"))))
    w("| disabled ~ no tracepoints: NOTRACE at most %.0f%% faster (median) | %s |" % (
        AA_BOUND, " | ".join(verdict(-med("notrace", n) <= AA_BOUND) for n in ("4k", "64k"))))
    w("| tools <= %.0f%% at 4 KiB, <= %.0f%% at 64 KiB (median) | %s |" % (
        TOOLS_TARGET["4k"], TOOLS_TARGET["64k"],
        " | ".join(verdict(med("tools", n) <= TOOLS_TARGET[n]) for n in ("4k", "64k"))))
    cells = []
    for n in ("4k", "64k"):
        t, b = byk["tools", n], byk["bpftrace", n]
        both = [k for k in t if k in b]
        wins = sum(t[k] < b[k] for k in both)
        cells.append("%s (%d of %d rounds)" % (verdict(med("tools", n) < med("bpftrace", n)),
                                             wins, len(both)))
    w("| tools < bpftrace (median) | %s |" % " | ".join(cells))
    w("")


def guest_tables(rows, w, kernel):
    """Tables 1 to 4, from the boots of one guest kernel (KERNEL: its
    series, named in each table's title when the run has several)."""
    of = " (%s)" % kernel if kernel else ""
    rounds = sorted({r["round"] for r in rows}, key=int)
    if rounds:
        w("%s: %d (ours and in-tree booted alternately, the first stack of a "
          "round alternating too).  Each cell of tables 1, 2 and 4: min / median / max "
          "over the rounds." % ("Rounds on the %s guest" % kernel if kernel else "Rounds",
                                len(rounds)))
        w("")

    # 1. ours vs in-tree
    if pick(rows, stack="intree", variant="default"):
        w("### 1. MAP + UNMAP, ours vs. Debian's in-tree VFIO" + of)
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
    if pick(rows, variant="pin"):
        w("### 2. Distance from the limit: MAP time / pin-only time (ours)" + of)
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
    obs = [r for r in rows if "obs" in r and r.get("name") != "cpu"]
    obs_cpu = [r for r in rows if "obs" in r and r.get("name") == "cpu"]
    if obs:
        observability(obs, obs_cpu, w, of)

    # 4. start-up and footprint, on each stack
    for stack, title in (("ours", "ours loaded"), ("intree", "Debian's in-tree VFIO, fentry mode")):
        startup_table(rows, w, of, stack, title)


def startup_table(rows, w, of, stack, title):
    """Table 4: each tool's start-up alone, then the front ends' with the
    exporter's collector running, on one stack."""
    rows = pick(rows, stack=stack)
    if not (pick(rows, variant="startup") or pick(rows, variant="startup-exporter")):
        return
    w("### 4%s. Tool start-up and footprint (%s, nothing mapping)%s" % (
        "" if stack == "ours" else "b", title, of))
    w("")
    w("Attached: from before fork+exec to the tool's `... Ctrl-C to end` line.  RSS: "
      "VmHWM 1.5 s after attaching.  BPF maps: `bpftool map show` bytes_memlock of the "
      "maps that appeared.  \"exporter running\": started again with vfio-exporter "
      "already attached; the last column is vfio-top's start-up alone over this one "
      "(issue 12: >= 10).")
    w("")
    w("| tool | exec -> attached (ms) | RSS VmHWM (MiB) | BPF maps | BPF map memory (KiB) | "
      "< 100 ms | RSS < 16 MiB | vfio-top alone / this |")
    w("|---|---|---|---|---|---|---|---|")
    top = [f(r, "attach_ns") / 1e6 for r in pick(rows, variant="startup", name="vfio-top")]
    for variant, tool in [("startup", t) for t in ("vfio-top", "vfio-lat", "vfio-leak",
                                                   "vfio-exporter", "bpftrace")] + \
                         [("startup-exporter", t) for t in ("vfio-top", "vfio-lat", "vfio-leak")]:
        x = pick(rows, variant=variant, name=tool)
        if not x:
            continue
        att = [f(r, "attach_ns") / 1e6 for r in x]
        rss = [f(r, "vmhwm_kb") / 1024 for r in x]
        mem = [f(r, "map_memlock") / 1024 for r in x]
        nm = statistics.median(int(r["maps"]) for r in x)
        ours = tool != "bpftrace"
        faster = "%.1fx" % (statistics.median(top) / statistics.median(att)) \
            if variant == "startup-exporter" and top else ""
        w("| %s | %s | %s | %d | %s | %s | %s | %s |" % (
            tool + (" (exporter running)" if variant == "startup-exporter" else ""),
            mmm(att, "%.0f"), mmm(rss, "%.1f"), nm, mmm(mem, "%.0f"),
            verdict(statistics.median(att) < 100) if ours else "(reference)",
            verdict(max(rss) < 16) if ours else "(reference)", faster))
    w("")


def native_table(native, w):
    """Table 5: the handlers timed on the host, whatever the guest kernels."""
    if native:
        w("### 5. Native cost per DMA event (host CPU, no VM)")
        w("")
        w("`bench/native_cost`: the object's `raw_tp` handler of `vfio_dma_map` run by "
          "`BPF_PROG_TEST_RUN` on realistic events (existing containers, levels updated), "
          "call by call interleaved with an empty `raw_tp` program; per batch the "
          "interquartile mean of each, per call.  Cost = handler - empty: median over "
          "batches, [q1, q3] and (min..max) over batches of several loads of the object, "
          "those whose empty calls ran within 10% of the fastest batch's (no VM running: "
          "`bench/run.sh` holds the VM lock).  `vfio-collector`: the collector as it runs "
          "with only the exporter reading it; `--front-ends`: with what vfio-top, vfio-lat "
          "and vfio-leak ask of it set (per-process rows, latency statistics, stacks: the "
          "`tools` variant of table 3); any other object: what that tool adds when it "
          "loads its own programs (no collector running).")
        w("")
        w("| BPF object | program | **ns per event** | [q1, q3] (min..max) | handler call | "
          "empty call (syscall floor) | batches kept | JIT |")
        w("|---|---|---|---|---|---|---|---|")
        for r in native:
            w("| %s | %s | **%.0f** | [%.0f, %.0f] (%.0f..%.0f) | %.0f ns | %.0f ns | %s of %d x %d calls | %s |" % (
                r["name"].replace("+", " --"), r["program"], f(r, "cost_p50"), f(r, "cost_q1"), f(r, "cost_q3"),
                f(r, "cost_min"), f(r, "cost_max"), f(r, "handler_p50"), f(r, "empty_p50"),
                r.get("quiet", "all"), int(r["loads"]) * int(r["batches"]), int(r["calls"]),
                "on" if r.get("jit") == "1" else "**off**"))
        w("")


def main():
    rows = load(sys.argv[1])
    guest = [r for r in rows if r["round"] != "native"]
    # Each guest kernel's boots apart, in the order they ran (bench/run.sh
    # tags them kernel=SERIES; a run of one kernel may not).
    kernels = list(dict.fromkeys(r.get("kernel", "") for r in guest))
    out = []
    for kernel in kernels:
        guest_tables([r for r in guest if r.get("kernel", "") == kernel], out.append,
                     kernel if len(kernels) > 1 else "")
    native_table(pick(rows, variant="native"), out.append)
    print("\n".join(out))


if __name__ == "__main__":
    main()
