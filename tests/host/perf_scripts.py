#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""tools/perf: the parser and the report of vfio-report and vfio-plot, on a
hand-made recording (tests/host/vfio-perf-fixture.txt) whose counts and
percentiles are known.  The VM test perf-scripts checks them on a real one.

Prints PASS:/FAIL:/SKIP: lines like the C tests; exits 1 on a failure.
"""
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from suite import Suite  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
PERF = ROOT / "tools" / "perf"
FIXTURE = ROOT / "tests" / "host" / "vfio-perf-fixture.txt"
sys.path.insert(0, str(PERF))
import vfio_perf  # noqa: E402

SUITE = "host/perf_scripts"

suite = Suite(SUITE)
check = suite.check


def run(*args, stdin=None):
    return subprocess.run([sys.executable, *map(str, args)], input=stdin, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def main():
    # The three line formats, and %pS values with spaces.
    e = vfio_perf.parse_line("   vfio_workload   148/149   [000]    10.761434:           vfio:vfio_dma_map: "
                             "container=1 iova=0x100000 size=0x10000 flags=0x3 npages=16 entries=1 "
                             "pinned=16 ret=0 total_ns=668510 pin_ns=248770 iommu_ns=212390")
    check("parse_perf_fields", (e.comm, e.pid, e.tid, e.cpu, e.name, e.f["iova"], e.f["size"],
                                e.f["ret"], e.f["total_ns"]),
          ("vfio_workload", 148, 149, 0, "vfio_dma_map", 0x100000, 65536, 0, 668510))
    e = vfio_perf.parse_line("  qemu  2000 [001]   5.000001:  vfio:vfio_external_user_get: group=1 "
                             "container=1 users=2 caller=kvm_like_attach+0x2c/0x80 [vfio_consumer] ret=0")
    check("parse_perf_default_caller", (e.pid, e.tid, e.f["caller"], e.f["ret"], e.f["users"]),
          (2000, 2000, "kvm_like_attach+0x2c/0x80 [vfio_consumer]", 0, 2))
    e = vfio_perf.parse_line("   vfio_workload-157   [001]    15.243051: vfio_ref_put:         "
                             "kind=container id=1 count=0 caller=vfio_container_fops_release+0x25")
    check("parse_trace_cmd", (e.comm, e.pid, e.cpu, e.time, e.name, e.f["kind"], e.f["count"]),
          ("vfio_workload", 157, 1, 15.243051, "vfio_ref_put", "container", 0))
    e = vfio_perf.parse_line("   worker-3 42 [000] 1.000000: vfio:vfio_device_open: "
                             "device=1 group=4 name=0000:00:01.0 ret=-16")
    check("parse_comm_with_dash", (e.comm, e.pid, e.f["name"], e.f["ret"]),
          ("worker-3", 42, "0000:00:01.0", -16))
    check("parse_skips_others", [vfio_perf.parse_line(l) for l in (
        "'trace' not valid for hardware events. Ignoring.", "",
        " swapper 0/0 [001] 1.0: sched:sched_switch: prev_comm=swapper/1")], [None, None, None])

    v = sorted([5, 1, 4, 2, 3])
    check("percentile_nearest_rank", [vfio_perf.percentile(v, p) for p in (1, 20, 21, 50, 90, 99, 100)],
          [1, 1, 2, 3, 5, 5, 5])
    check("percentile_one_and_none", (vfio_perf.percentile([7], 99), vfio_perf.percentile([], 50)), (7, None))

    events = vfio_perf.read_events(str(FIXTURE))
    rep = vfio_perf.report(events, 3)
    ev = rep["events"]
    check("fixture_event_counts",
          (len(events), ev["vfio_dma_map"], ev["vfio_dma_unmap"], ev["vfio_ref_get"], ev["vfio_ref_put"],
           ev["vfio_external_user_get"], ev["vfio_container_open"], "sched_switch" in str(ev)),
          (53, 14, 13, 6, 6, 3, 1, False))

    rows = {(r["op"], r["size"]): r for r in rep["latency"]}
    check("latency_rows", list(rows), [("map", 4096), ("map", 2097152), ("map", "all"),
                                       ("unmap", 4096), ("unmap", 2097152), ("unmap", "all"),
                                       ("teardown", 2097152)])
    r = rows[("map", 4096)]
    # ten maps of 1..10 us and one failed (ENOMEM) of ~1 ms, left out
    check("map_4k_counts", (r["count"], r["ok"], r["errors"], r["bytes"]), (11, 10, 1, 40960))
    check("map_4k_total", r["total_ns"], {"p50": 5000, "p90": 9000, "p99": 10000, "max": 10000})
    check("map_4k_pin_iommu", (r["pin_ns"], r["iommu_ns"]),
          ({"p50": 2500, "p90": 4500, "p99": 5000, "max": 5000},
           {"p50": 1250, "p90": 2250, "p99": 2500, "max": 2500}))
    check("map_2m_total", (rows[("map", 2097152)]["count"], rows[("map", 2097152)]["total_ns"]),
          (3, {"p50": 200000, "p90": 300000, "p99": 300000, "max": 300000}))
    # 13 successful maps: 1..10 us, 100, 200, 300 us
    check("map_all_total", (rows[("map", "all")]["count"], rows[("map", "all")]["errors"],
                            rows[("map", "all")]["total_ns"]),
          (14, 1, {"p50": 7000, "p90": 200000, "p99": 300000, "max": 300000}))
    check("unmap_all_total", (rows[("unmap", "all")]["count"], rows[("unmap", "all")]["total_ns"]),
          (12, {"p50": 600, "p90": 50000, "p99": 70000, "max": 70000}))
    check("teardown_row", (rows[("teardown", 2097152)]["count"], rows[("teardown", 2097152)]["total_ns"]["max"]),
          (1, 123456))

    check("slowest", [(s["op"], s["total_ns"], s["ret"], s["comm"], s["pid"], s["container"], s["iova"], s["size"])
                      for s in rep["slowest"]],
          [("map", 999999, -12, "myapp", 1000, 1, 0x100000, 4096),
           ("map", 300000, 0, "myapp", 1000, 1, 0x400000, 0x200000),
           ("map", 200000, 0, "myapp", 1000, 1, 0x600000, 0x200000)])

    refs = {(o["kind"], o["id"]): o for o in rep["references"]}
    check("ref_objects", [(k, o["gets"], o["puts"], o["status"], o["frees"]) for k, o in refs.items()],
          [(("container", 1), 2, 2, "balanced", 1), (("container", 2), 2, 2, "balanced", 2),
           (("group", 1), 2, 1, "held", 0), (("device", 7), 0, 1, "taken before recording", 0),
           (("external_user", 1), 2, 1, "held", 0)])
    check("ref_callers", refs[("external_user", 1)]["callers"],
          {"kvm_like_attach+0x2c/0x80 [vfio_consumer]": {"gets": 2, "puts": 0},
           "kvm_like_detach+0x18/0x40 [vfio_consumer]": {"gets": 0, "puts": 1}})
    check("ref_timeline", [(t["what"], t["count"], t["comm"]) for t in refs[("group", 1)]["timeline"]],
          [("get", 2, "myapp"), ("get", 3, "qemu"), ("put", 2, "myapp")])

    # The command line: JSON equals the module's report; text flags exactly
    # the unbalanced objects; stdin works; no events is an error.
    p = run(PERF / "vfio-report", "--json", "-n", "3", FIXTURE)
    check("report_json", (p.returncode, json.loads(p.stdout) if p.returncode == 0 else p.stderr),
          (0, json.loads(json.dumps(rep))))
    p = run(PERF / "vfio-report", "--timeline", "unbalanced", stdin=FIXTURE.read_text())
    flagged = [l.split(":")[0].strip() for l in p.stdout.splitlines() if "UNBALANCED" in l]
    check("report_text_flags", (p.returncode, flagged, "references: 5 objects, 3 unbalanced" in p.stdout),
          (0, ["group 1", "device 7", "external_user 1"], True))
    check("report_text_table", [l.split()[:4] for l in p.stdout.splitlines()
                                if l.startswith(("map ", "unmap ", "teardown "))],
          [["map", "4K", "11", "1"], ["map", "2M", "3", "0"], ["map", "all", "14", "1"],
           ["unmap", "4K", "10", "0"], ["unmap", "2M", "2", "0"], ["unmap", "all", "12", "0"],
           ["teardown", "2M", "1", "0"]])
    p = run(PERF / "vfio-report", stdin="nothing here\n")
    check("report_no_events", (p.returncode, "no vfio events" in p.stderr), (1, True))

    if not shutil.which("gnuplot"):
        print("SKIP: %s/plot (gnuplot not installed; Debian package gnuplot-nox)" % SUITE)
    else:
        with tempfile.TemporaryDirectory() as tmp:
            p = run(PERF / "vfio-plot", "-o", Path(tmp) / "fx", FIXTURE)
            names = sorted(Path(l).name for l in p.stdout.split())
            heads = {n: (Path(tmp) / n).read_bytes()[:8] for n in names}
            ok = [n for n, h in heads.items() if (n.endswith(".png") and h == b"\x89PNG\r\n\x1a\n")
                  or (n.endswith(".svg") and h.startswith((b"<?xml", b"<svg")))]
            check("plot", (p.returncode, names, sorted(ok)),
                  (0, ["fx-heatmap.png", "fx-heatmap.svg", "fx-latency.png", "fx-latency.svg"],
                   ["fx-heatmap.png", "fx-heatmap.svg", "fx-latency.png", "fx-latency.svg"]))
    p = subprocess.run(["bash", str(PERF / "vfio-record"), "-d", "x"], text=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check("record_bad_duration", (p.returncode, "bad duration" in p.stderr), (2, True))
    return suite.status()


if __name__ == "__main__":
    sys.exit(main())
