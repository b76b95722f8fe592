#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Every PromQL expression of the Grafana dashboard and the alerting rules,
one per line, ready for Prometheus's HTTP API (/api/v1/query).

    dashboards/exprs.py [--source] [--raw] [--interval 1m] [--range 1h]

Grafana's variables are replaced by what Grafana itself would send with
every option selected: $__rate_interval and $__interval by --interval,
$__range by --range, $container by .*, $op by map|unmap.  A variable's
label_values(METRIC, LABEL) query becomes count by (LABEL) (METRIC), the
PromQL Grafana runs for it.  --raw prints the expressions as written;
--source prefixes each with where it comes from and a tab.

The module also gives metric_names(expr), used by tests/host/dashboards.py.
"""
import argparse
import json
import re
import sys
from pathlib import Path

import yaml

HERE = Path(__file__).resolve().parent
DASHBOARD = HERE / "grafana" / "vfioscope.json"
RULES = HERE / "vfioscope-rules.yml"

LABEL_VALUES = re.compile(r"^\s*label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*(\w+)\s*\)\s*$")


def one_line(expr):
    return " ".join(expr.split())


def dashboard_exprs(path=DASHBOARD):
    """(source, expr) for every target and query variable of the dashboard."""
    dash = json.loads(Path(path).read_text())
    out = []

    def walk(panels):
        for p in panels:
            for t in p.get("targets", []):
                out.append(("grafana panel %d %r %s" % (p["id"], p["title"], t["refId"]),
                            one_line(t.get("expr", ""))))
            walk(p.get("panels", []))

    walk(dash.get("panels", []))
    for v in dash.get("templating", {}).get("list", []):
        if v.get("type") != "query":
            continue
        q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
        m = LABEL_VALUES.match(q)
        expr = "count by (%s) (%s)" % (m.group(2), m.group(1)) if m else q
        out.append(("grafana variable $%s" % v["name"], one_line(expr)))
    return out


def rule_exprs(path=RULES):
    """(source, expr) for every alerting and recording rule."""
    doc = yaml.safe_load(Path(path).read_text())
    out = []
    for g in doc["groups"]:
        for r in g["rules"]:
            name = r.get("alert") or r.get("record")
            out.append(("rule %s/%s" % (g["name"], name), one_line(r["expr"])))
    return out


def substitute(expr, interval="1m", rng="1h"):
    subs = {
        "__rate_interval": interval, "__interval": interval, "__range": rng,
        "container": ".*", "op": "map|unmap",
    }

    def repl(m):
        name = m.group(1) or m.group(2)
        if name not in subs:
            raise ValueError("unknown Grafana variable $%s in %s" % (name, expr))
        return subs[name]

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", repl, expr)


# Words of PromQL that look like metric names but are not.
_KEYWORDS = {
    "by", "without", "on", "ignoring", "group_left", "group_right", "bool",
    "and", "or", "unless", "offset", "inf", "nan", "atan2",
}


def metric_names(expr):
    """The metric names a PromQL expression selects, by a small scan:
    drop strings, label matchers, range/subquery brackets and the label
    lists of by/without/on/ignoring/group_*; what is left as an identifier
    not followed by "(" and not a keyword is a metric name."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    names = []
    for m in re.finditer(r"[a-zA-Z_:][\w:]*", s):
        word = m.group(0)
        before = s[:m.start()]
        if before and (before[-1].isdigit() or before[-1] == "."):
            continue  # the exponent or unit of a number: 1e-9, 5m
        if re.match(r"\s*\(", s[m.end():]) or word.lower() in _KEYWORDS:
            continue
        names.append(word)
    return names


def selectors(expr):
    """(metric, [label names]) for each metric{matchers} in expr."""
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    out = []
    for m in re.finditer(r"([a-zA-Z_:][\w:]*)\s*\{([^}]*)\}", s):
        labels = re.findall(r"([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)", m.group(2))
        out.append((m.group(1), labels))
    return out


def all_exprs():
    return dashboard_exprs() + rule_exprs()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", action="store_true", help="prefix each with its origin and a tab")
    ap.add_argument("--raw", action="store_true", help="keep Grafana variables as written")
    ap.add_argument("--interval", default="1m", help="for $__rate_interval and $__interval")
    ap.add_argument("--range", default="1h", dest="rng", help="for $__range")
    args = ap.parse_args()
    for src, expr in all_exprs():
        if not args.raw:
            expr = substitute(expr, args.interval, args.rng)
        print("%s\t%s" % (src, expr) if args.source else expr)


if __name__ == "__main__":
    sys.exit(main())
