# SPDX-License-Identifier: GPL-2.0
"""Reading recorded vfio:* trace events and the analysis shared by
vfio-report and vfio-plot.

Input is the text of `perf script` (default fields, or
-F comm,pid,tid,cpu,time,event,trace) or of `trace-cmd report`; a
perf.data or trace-cmd .dat file is decoded by running the tool.  Each
event's fields come from its TP_printk in tracepoints/vfio_trace.h, read
as key=value pairs.
"""
import math
import re
import subprocess
import sys

# perf script: "comm pid[/tid] [cpu] secs.usecs: vfio:event: fields"
PERF_LINE = re.compile(
    r"^\s*(?P<comm>.*?)\s+(?P<pid>-?\d+)(?:/(?P<tid>\d+))?\s+(?:\[(?P<cpu>\d+)\]\s+)?"
    r"(?P<time>\d+\.\d+):\s+(?:\d+\s+)?(?:vfio:)(?P<event>vfio_\w+):\s?(?P<trace>.*)$")
# trace-cmd report: "comm-pid [cpu] [flags] secs.usecs: event: fields"
TRACE_CMD_LINE = re.compile(
    r"^\s*(?P<comm>.*)-(?P<pid>\d+)\s+\[(?P<cpu>\d+)\]\s+(?:\S+\s+)?"
    r"(?P<time>\d+\.\d+):\s+(?:vfio:)?(?P<event>vfio_\w+):\s*(?P<trace>.*)$")

# Fields that stay strings; every other value is a number (decimal or 0x).
STRING_FIELDS = {"driver", "name", "caller", "kind"}
TEARDOWN = 1 << 31          # VFIO_TRACE_UNMAP_TEARDOWN in flags
PERF_MAGIC = b"PERFILE2"
TRACE_CMD_MAGIC = b"\x17\x08\x44tracing"


class Event:
    __slots__ = ("comm", "pid", "tid", "cpu", "time", "name", "f")

    def __init__(self, comm, pid, tid, cpu, time, name, fields):
        self.comm, self.pid, self.tid, self.cpu = comm, pid, tid, cpu
        self.time, self.name, self.f = time, name, fields

    def __repr__(self):
        return "Event(%s %.6f %r)" % (self.name, self.time, self.f)


def parse_fields(trace):
    """key=value pairs of a TP_printk.  A word without '=' continues the
    previous value: %pS of a module symbol prints "sym+0x2c/0x80 [mod]"."""
    fields, last = {}, None
    for word in trace.split():
        key, eq, value = word.partition("=")
        if eq and re.match(r"^[a-z_]+$", key):
            fields[key] = value
            last = key
        elif last is not None:
            fields[last] += " " + word
    for key, value in fields.items():
        if key in STRING_FIELDS:
            continue
        try:
            fields[key] = int(value, 0)
        except ValueError:
            pass
    return fields


def parse_line(line):
    m = PERF_LINE.match(line) or TRACE_CMD_LINE.match(line)
    if not m:
        return None
    d = m.groupdict()
    return Event(d["comm"].strip(), int(d["pid"]), int(d.get("tid") or d["pid"]),
                 int(d["cpu"]) if d["cpu"] is not None else -1,
                 float(d["time"]), d["event"], parse_fields(d["trace"]))


def parse_text(lines):
    """Events of text lines, in time order (a stable sort: events of one
    timestamp keep their order); other lines (headers, perf's warnings,
    other systems' events) are skipped."""
    return sorted((e for e in map(parse_line, lines) if e is not None), key=lambda e: e.time)


def read_events(path):
    """Events of a file ('-' for stdin): perf.data, trace-cmd .dat or text."""
    if path == "-":
        return parse_text(sys.stdin)
    with open(path, "rb") as f:
        magic = f.read(10)
    if magic.startswith(PERF_MAGIC):
        cmd = ["perf", "script", "-i", path, "-F", "comm,pid,tid,cpu,time,event,trace"]
    elif magic.startswith(TRACE_CMD_MAGIC):
        cmd = ["trace-cmd", "report", "-i", path]
    else:
        with open(path, errors="replace") as f:
            return parse_text(f)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, errors="replace")
    if p.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), p.stderr.strip()[-300:]))
    return parse_text(p.stdout.splitlines())


def dma_op(e):
    """map, unmap or teardown for a DMA event, else None."""
    if e.name == "vfio_dma_map":
        return "map"
    if e.name == "vfio_dma_unmap":
        return "teardown" if e.f.get("flags", 0) & TEARDOWN else "unmap"
    return None


def percentile(sorted_values, p):
    """Nearest-rank percentile: the smallest value with at least p% of
    the values at or below it."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(values):
    v = sorted(values)
    return {"p50": percentile(v, 50), "p90": percentile(v, 90),
            "p99": percentile(v, 99), "max": v[-1] if v else None}


OP_ORDER = {"map": 0, "unmap": 1, "teardown": 2}
TIMINGS = ("total_ns", "pin_ns", "iommu_ns")


def latency_table(events):
    """Rows by (op, size) then (op, all sizes): count, ok, errors, and
    percentiles of total_ns, pin_ns, iommu_ns over successful operations
    (a failed operation's time says little about the path it cut short)."""
    groups = {}
    for e in events:
        op = dma_op(e)
        if op is None:
            continue
        for key in ((op, e.f.get("size", 0)), (op, "all")):
            groups.setdefault(key, []).append(e)
    rows = []
    for (op, size), evs in sorted(groups.items(), key=lambda kv: (
            OP_ORDER.get(kv[0][0], 9), kv[0][1] == "all", kv[0][1] if kv[0][1] != "all" else 0)):
        ok = [e for e in evs if e.f.get("ret", 0) == 0]
        row = {"op": op, "size": size, "count": len(evs), "ok": len(ok),
               "errors": len(evs) - len(ok),
               "bytes": sum(e.f.get("size", 0) for e in ok)}
        for t in TIMINGS:
            row[t] = summarize([e.f[t] for e in ok if t in e.f])
        rows.append(row)
    # "all" rows are only worth a line when an op saw several sizes.
    sizes = {}
    for r in rows:
        if r["size"] != "all":
            sizes[r["op"]] = sizes.get(r["op"], 0) + 1
    return [r for r in rows if r["size"] != "all" or sizes.get(r["op"], 0) > 1]


def slowest(events, n):
    ops = [e for e in events if dma_op(e)]
    ops.sort(key=lambda e: (-e.f.get("total_ns", 0), e.time))
    return [{"time": e.time, "op": dma_op(e), "comm": e.comm, "pid": e.pid,
             "tid": e.tid, "cpu": e.cpu, "container": e.f.get("container"),
             "iova": e.f.get("iova"), "size": e.f.get("size"), "flags": e.f.get("flags"),
             "npages": e.f.get("npages"), "ret": e.f.get("ret"),
             "total_ns": e.f.get("total_ns"), "pin_ns": e.f.get("pin_ns"),
             "iommu_ns": e.f.get("iommu_ns")} for e in ops[:n]]


def event_counts(events):
    counts = {}
    for e in events:
        counts[e.name] = counts.get(e.name, 0) + 1
    return dict(sorted(counts.items()))


def references(events):
    """Per object (kind, id): every reference get and put in order, gets
    and puts by caller, and whether they balance over the recording.
    External users are objects of kind external_user keyed by group
    (failed gets, ret != 0, took nothing and are left out)."""
    objs = {}
    for e in events:
        if e.name in ("vfio_ref_get", "vfio_ref_put"):
            key = (str(e.f.get("kind")), e.f.get("id"))
            what, count = e.name[-3:], e.f.get("count")
        elif e.name in ("vfio_external_user_get", "vfio_external_user_put"):
            if e.f.get("ret", 0) != 0:
                continue
            key = ("external_user", e.f.get("group"))
            what, count = e.name[-3:], e.f.get("users")
        else:
            continue
        o = objs.setdefault(key, {"kind": key[0], "id": key[1], "gets": 0, "puts": 0,
                                  "frees": 0, "callers": {}, "timeline": []})
        caller = e.f.get("caller", "?")
        o[what + "s"] += 1
        c = o["callers"].setdefault(caller, {"gets": 0, "puts": 0})
        c[what + "s"] += 1
        if what == "put" and count == 0 and key[0] != "external_user":
            o["frees"] += 1
        o["timeline"].append({"time": e.time, "what": what, "count": count,
                              "caller": caller, "comm": e.comm, "pid": e.pid})
    out = []
    kind_order = {"container": 0, "group": 1, "device": 2, "external_user": 3}
    for key in sorted(objs, key=lambda k: (kind_order.get(k[0], 9), k[0], k[1] or 0)):
        o = objs[key]
        o["held"] = o["gets"] - o["puts"]
        o["balanced"] = o["held"] == 0
        # held > 0: gets with no put by the end (a leak, or still in use);
        # held < 0: puts of references taken before the recording began.
        o["status"] = "balanced" if o["balanced"] else (
            "held" if o["held"] > 0 else "taken before recording")
        out.append(o)
    return out


def report(events, nslow=10):
    t0 = events[0].time if events else 0.0
    return {"events": event_counts(events),
            "first_time": t0, "last_time": events[-1].time if events else 0.0,
            "latency": latency_table(events), "slowest": slowest(events, nslow),
            "references": references(events)}
