#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The trace header is an ABI: docs/tracepoints.md must list exactly its
events, and for each event exactly its fields, in order, with their types.

Prints PASS:/FAIL: lines like the C tests; exits 1 on a mismatch.
"""
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEADER = ROOT / "tracepoints" / "vfio_trace.h"
DOC = ROOT / "docs" / "tracepoints.md"
SUITE = "host/trace_abi_docs"


def balanced(text, start):
    """The text inside the parenthesis opening at text[start]."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return text[start + 1:i]
    raise ValueError("unbalanced parenthesis at %d" % start)


def struct_fields(body):
    entry = body.index("TP_STRUCT__entry")
    fields = []
    inner = balanced(body, body.index("(", entry))
    for kind, args in re.findall(r"(__field|__string_len|__string)\((.*)\)\s*$",
                                 inner, flags=re.M):
        parts = [p.strip() for p in args.split(",")]
        if kind in ("__string", "__string_len"):
            fields.append((parts[0], "string"))
        else:
            fields.append((parts[1], parts[0]))
    return fields


def header_events(text):
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    classes, events = {}, {}
    for m in re.finditer(r"\b(DECLARE_EVENT_CLASS|TRACE_EVENT|DEFINE_EVENT)\(", text):
        body = balanced(text, m.end() - 1)
        if m.group(1) == "DEFINE_EVENT":
            cls, name = [p.strip() for p in body.split(",")[:2]]
            events[name] = classes[cls]
        else:
            name = body.split(",")[0].strip()
            fields = struct_fields(body)
            if m.group(1) == "TRACE_EVENT":
                events[name] = fields
            else:
                classes[name] = fields
    return events


def doc_events(text):
    events, current = {}, None
    for line in text.splitlines():
        m = re.match(r"^### (vfio_\w+)\s*$", line)
        if m:
            current = m.group(1)
            events[current] = []
            continue
        if line.startswith("## ") or line.startswith("### "):
            current = None  # a section that is not an event's
        if current and line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if cells[0] in ("field", "") or set(cells[0]) <= set("-"):
                continue
            events[current].append((cells[0], cells[1]))
    return events


def main():
    hdr = header_events(HEADER.read_text())
    doc = doc_events(DOC.read_text())
    failed = False

    missing, extra = sorted(set(hdr) - set(doc)), sorted(set(doc) - set(hdr))
    if missing or extra or not hdr:
        print("  events in the header, not in the doc: %s" % (missing or "none"))
        print("  events in the doc, not in the header: %s" % (extra or "none"))
        print("FAIL: %s/events" % SUITE)
        failed = True
    else:
        print("PASS: %s/events (%d events)" % (SUITE, len(hdr)))

    bad = [e for e in sorted(set(hdr) & set(doc)) if hdr[e] != doc[e]]
    for e in bad:
        print("  %s: header %s" % (e, hdr[e]))
        print("  %s: doc    %s" % (e, doc[e]))
    if bad:
        print("FAIL: %s/fields" % SUITE)
        failed = True
    else:
        print("PASS: %s/fields" % SUITE)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
