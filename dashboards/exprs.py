#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Every PromQL expression of the Grafana dashboard and the alerting rules,
one per line, ready for Prometheus's HTTP API (/api/v1/query).

    dashboards/exprs.py [--source] [--raw] [--interval 1m] [--range 1h]

Grafana's variables are replaced by what Grafana itself would send with
every option selected: $__rate_interval and $__interval by --interval,
$__range by --range, $instance and $container by .*, $op by map|unmap.
A variable's label_values(METRIC{...}, LABEL) query becomes
count by (LABEL) (METRIC{...}), the PromQL Grafana runs for it.  --raw
prints the expressions as written; --source prefixes each with where it
comes from and a tab.

The module also gives metric_names(expr), and parse(expr) with
keeps_label(tree, label) (does every result series still carry the
label?), used by tests/host/dashboards.py.
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

# label_values(metric{matchers}, label), the matchers optional.
LABEL_VALUES = re.compile(r"""^\s*label_values\(\s*
    (?P<selector>(?P<metric>[a-zA-Z_:][\w:]*)\s*(?:\{(?:[^}"]|"(?:[^"\\]|\\.)*")*\})?)
    \s*,\s*(?P<label>\w+)\s*\)\s*$""", re.X)


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
        expr = "count by (%s) (%s)" % (m["label"], m["selector"]) if m else q
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


def substitute(expr, interval="1m", rng="1h", values=None):
    """expr with Grafana's variables filled in: every option selected,
    but for the variables given in values ({name: regex})."""
    subs = {
        "__rate_interval": interval, "__interval": interval, "__range": rng,
        "instance": ".*", "container": ".*", "op": "map|unmap",
    }
    subs.update(values or {})

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


# ---- A small PromQL parser ----------------------------------------------
# Regexes find metric names, but whether an expression keeps a label needs
# its structure: `sum by (le) (x)` drops instance, `x / on (op) y` too, and
# `sum without (le) (x)` keeps it.  tests/host/dashboards.py asks this of
# every rule and panel, so a rule that aggregates the host away fails a
# test, not a page at 3 am.  The grammar is PromQL's as of Prometheus 2.42
# (promtool's), minus what no expression here needs (the @ modifier's
# start()/end() are accepted, native histograms are not).

class PromQLError(ValueError):
    pass


_TOKEN = re.compile(r"""
    (?P<ws>\s+|\#[^\n]*)
  | (?P<str>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<brackets>\[[^\]]*\])
  | (?P<dur>(?:[0-9]+(?:ms|[smhdwy]))+(?![\w.]))
  | (?P<num>0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?)
  | (?P<ident>[a-zA-Z_:][\w:]*)
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^<>=@(){},])
""", re.X)

AGGREGATIONS = {"sum", "min", "max", "avg", "group", "stddev", "stdvar", "count",
                "count_values", "bottomk", "topk", "quantile"}
# Binary operators by precedence, lowest first; ^ is right-associative.
_PRECEDENCE = [{"or"}, {"and", "unless"}, {"==", "!=", ">=", "<=", ">", "<"},
               {"+", "-"}, {"*", "/", "%", "atan2"}, {"^"}]
_SET_OPS = {"or", "and", "unless"}
# Functions that return a scalar, or a vector with no labels at all.
_SCALAR_FUNCS = {"time", "pi", "scalar"}
_LABELLESS_FUNCS = {"vector", "absent", "absent_over_time"}


def _tokens(expr):
    pos, out = 0, []
    while pos < len(expr):
        m = _TOKEN.match(expr, pos)
        if not m:
            raise PromQLError("cannot read %r at offset %d of %r" % (expr[pos:pos + 10], pos, expr))
        if m.lastgroup != "ws":
            out.append((m.lastgroup, m.group(0)))
        pos = m.end()
    out.append(("end", ""))
    return out


class _Parser:
    def __init__(self, expr):
        self.expr = expr
        self.toks = _tokens(expr)
        self.i = 0

    def peek(self, k=0):
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def next(self):
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def expect(self, text):
        kind, val = self.next()
        if val != text:
            raise PromQLError("expected %r, got %r in %r" % (text, val or "end", self.expr))
        return val

    def is_word(self, *words):
        kind, val = self.peek()
        return kind == "ident" and val.lower() in words

    def labels(self):
        """( a, b, ... ) of by/without/on/ignoring/group_*."""
        self.expect("(")
        out = []
        while self.peek()[1] != ")":
            kind, val = self.next()
            if kind not in ("ident", "str"):
                raise PromQLError("bad label %r in %r" % (val, self.expr))
            out.append(val.strip("\"'`"))
            if self.peek()[1] == ",":
                self.next()
        self.expect(")")
        return out

    def parse(self):
        node = self.binary(0)
        if self.peek()[0] != "end":
            raise PromQLError("unexpected %r in %r" % (self.peek()[1], self.expr))
        return node

    def binary(self, level):
        if level == len(_PRECEDENCE):
            return self.unary()
        lhs = self.binary(level + 1)
        while True:
            kind, val = self.peek()
            op = val.lower() if kind == "ident" else val
            if kind not in ("op", "ident") or op not in _PRECEDENCE[level]:
                return lhs
            self.next()
            node = {"t": "bin", "op": op, "bool": False, "match": None, "on": [],
                    "group": None, "include": []}
            if self.is_word("bool"):
                self.next()
                node["bool"] = True
            if self.is_word("on", "ignoring"):
                node["match"] = self.next()[1].lower()
                node["on"] = self.labels()
            if self.is_word("group_left", "group_right"):
                node["group"] = self.next()[1].lower()
                if self.peek()[1] == "(":
                    node["include"] = self.labels()
            # ^ binds right to left, everything else left to right.
            node["lhs"] = lhs
            node["rhs"] = self.binary(level if op == "^" else level + 1)
            lhs = node

    def unary(self):
        if self.peek()[1] in ("-", "+"):
            self.next()
            return {"t": "unary", "expr": self.unary()}
        return self.postfix(self.primary())

    def postfix(self, node):
        while True:
            kind, val = self.peek()
            if kind == "brackets":
                self.next()
                node = {"t": "range", "expr": node, "range": val}
            elif kind == "ident" and val.lower() == "offset":
                self.next()
                if self.peek()[1] == "-":
                    self.next()
                self.next()
            elif val == "@":
                self.next()
                if self.is_word("start", "end"):
                    self.next()
                    self.expect("(")
                    self.expect(")")
                else:
                    self.next()
            else:
                return node

    def primary(self):
        kind, val = self.next()
        if val == "(":
            node = self.binary(0)
            self.expect(")")
            return node
        if kind in ("num", "dur") or (kind == "ident" and val.lower() in ("inf", "nan")):
            return {"t": "num", "value": val}
        if kind == "str":
            return {"t": "str", "value": val[1:-1]}
        if val == "{":
            self.i -= 1
            return self.selector(None)
        if kind != "ident":
            raise PromQLError("unexpected %r in %r" % (val or "end", self.expr))
        low = val.lower()
        if low in AGGREGATIONS and (self.peek()[1] == "(" or self.is_word("by", "without")):
            return self.aggregation(low)
        if self.peek()[1] == "(":
            self.next()
            args = []
            while self.peek()[1] != ")":
                args.append(self.binary(0))
                if self.peek()[1] == ",":
                    self.next()
            self.expect(")")
            return {"t": "call", "fn": val, "args": args}
        return self.selector(val)

    def aggregation(self, op):
        node = {"t": "agg", "op": op, "grouping": None, "labels": [], "param": None}
        if self.is_word("by", "without"):
            node["grouping"] = self.next()[1].lower()
            node["labels"] = self.labels()
        self.expect("(")
        first = self.binary(0)
        if self.peek()[1] == ",":
            self.next()
            node["param"], first = first, self.binary(0)
        self.expect(")")
        node["expr"] = first
        # The grouping may also follow the arguments: sum(x) by (a).
        if node["grouping"] is None and self.is_word("by", "without"):
            node["grouping"] = self.next()[1].lower()
            node["labels"] = self.labels()
        return node

    def selector(self, name):
        matchers = []
        if self.peek()[1] == "{":
            self.next()
            while self.peek()[1] != "}":
                kind, label = self.next()
                if kind not in ("ident", "str"):
                    raise PromQLError("bad label %r in %r" % (label, self.expr))
                kind, op = self.next()
                if op not in ("=", "!=", "=~", "!~"):
                    raise PromQLError("bad matcher %r in %r" % (op, self.expr))
                kind, value = self.next()
                if kind != "str":
                    raise PromQLError("matcher value %r is no string in %r" % (value, self.expr))
                matchers.append((label.strip("\"'`"), op, value[1:-1]))
                if self.peek()[1] == ",":
                    self.next()
            self.expect("}")
        if name is None and not matchers:
            raise PromQLError("empty selector in %r" % self.expr)
        return {"t": "sel", "name": name, "matchers": matchers}


def parse(expr):
    """The syntax tree of a PromQL expression, as nested dicts ("t" is the
    node type: sel, call, agg, bin, unary, range, num, str)."""
    return _Parser(expr).parse()


def vector_selectors(node):
    """Every selector of a parsed expression, in order."""
    if node["t"] == "sel":
        return [node]
    out = []
    for key in ("expr", "param", "lhs", "rhs"):
        if node.get(key):
            out += vector_selectors(node[key])
    for arg in node.get("args", []):
        out += vector_selectors(arg)
    return out


def keeps_label(node, label, lacking=()):
    """Whether every series a parsed expression returns still carries the
    label its input series had: True, False, or "scalar" (no series).
    Input series carry it, but for the metric names in lacking (recorded
    series that aggregated it away).  Follows Prometheus's rules for
    result labels: an aggregation keeps only its by() labels (all but its
    without() ones); one-to-one vector matching keeps only the on()
    labels, or drops the ignoring() ones; group_left/right keep the labels
    of the "many" side."""
    def keeps(n):
        return keeps_label(n, label, lacking)

    t = node["t"]
    if t in ("num", "str"):
        return "scalar"
    if t == "sel":
        return node["name"] not in lacking
    if t in ("range", "unary"):
        return keeps(node["expr"])
    if t == "call":
        fn = node["fn"]
        if fn in _SCALAR_FUNCS:
            return "scalar"
        if fn in _LABELLESS_FUNCS:
            return False
        if fn in ("label_replace", "label_join"):
            # Rewriting the label itself loses the host it named.
            dst = node["args"][1] if len(node["args"]) > 1 else None
            if dst is None or dst["t"] != "str" or dst["value"] == label:
                return False
        vectors = [a for a in node["args"] if keeps(a) != "scalar"]
        if not vectors:
            return False  # minute(), day_of_week(): vector(time()), no labels
        return keeps(vectors[0])
    if t == "agg":
        inner = keeps(node["expr"])
        if node["op"] in ("topk", "bottomk"):
            return inner  # returns input series whole, whatever the grouping
        if node["grouping"] == "by":
            return label in node["labels"] and inner is True
        if node["grouping"] == "without":
            return label not in node["labels"] and inner is True
        return False
    if t == "bin":
        lhs, rhs = keeps(node["lhs"]), keeps(node["rhs"])
        if node["op"] == "or":
            return lhs is True and rhs is True
        if node["op"] in _SET_OPS:
            return lhs
        if lhs == "scalar":
            return rhs
        if rhs == "scalar":
            return lhs
        if node["group"] == "group_left":
            return lhs is True or (label in node["include"] and rhs is True)
        if node["group"] == "group_right":
            return rhs is True or (label in node["include"] and lhs is True)
        if node["match"] == "on":
            return label in node["on"] and lhs is True
        if node["match"] == "ignoring":
            return label not in node["on"] and lhs is True
        return lhs
    raise PromQLError("unknown node %r" % t)


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
