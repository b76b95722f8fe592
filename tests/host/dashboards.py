#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""dashboards/: the Prometheus scrape config, the alerting rules and their
unit tests (promtool), and the Grafana dashboard: it parses, imports as is
(datasource from a variable, no hard-coded uid), has the panels operators
need, and every PromQL expression of the dashboard and the rules uses only
metric names and labels of docs/metrics.md and parses as PromQL.

For a fleet (one exporter per host, one Prometheus): every rule keeps the
instance label and every alert names it, each alert is unit-tested firing
for one host of two; the dashboard has an $instance variable, every query
filters on it, every graph keeps the hosts apart (checked on the syntax
tree, then by running each query through promtool on two hosts' series),
and $container never offers container="released".

Prints PASS:/FAIL:/SKIP: lines like the C tests; exits 1 on a failure.
"""
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from suite import Suite  # noqa: E402

import yaml

ROOT = Path(__file__).resolve().parents[2]
DASH = ROOT / "dashboards"
sys.path.insert(0, str(DASH))
# No dashboards/__pycache__: the source tree is not build output (build/
# is), and a stray .pyc there is one "git add dashboards" from a commit.
sys.dont_write_bytecode = True
import exprs  # noqa: E402  (dashboards/exprs.py)

SUITE = "host/dashboards"
GRAFANA = DASH / "grafana" / "vfioscope.json"
RULES = DASH / "vfioscope-rules.yml"
RULE_TESTS = DASH / "vfioscope-rules.test.yml"
CONFIG = DASH / "prometheus.yml"
REQUIRED_ALERTS = {
    "VfioExternalUserReferenceLeaked", "VfioDmaMapLatencyHigh",
    "VfioDmaErrorRateHigh", "VfioscopeLostEvents", "VfioscopeExporterDown",
}


suite = Suite(SUITE)
report = suite.report


def skip(case, why):
    print("SKIP: %s/%s (%s)" % (SUITE, case, why))


def documented_metrics():
    """{name: set(labels)} from docs/metrics.md; histograms give their
    _bucket (with le), _sum and _count series."""
    text = (ROOT / "docs" / "metrics.md").read_text()
    out = {}
    for m in re.finditer(r"^\|\s*`(vfioscope_\w+)`\s*\|([^|]*)\|([^|]*)\|", text, re.M):
        name, mtype, labels = m.group(1), m.group(2).strip(), m.group(3)
        labels = set(re.findall(r"`(\w+)`", re.sub(r"\([^)]*\)", "", labels)))
        if mtype.startswith("histogram"):
            out[name + "_bucket"] = labels | {"le"}
            out[name + "_sum"] = labels
            out[name + "_count"] = labels
        else:
            out[name] = labels
    return out


# Prometheus adds these to every series it scrapes (the scrape job and the
# target's address), and serves up per target: the rules and the dashboard
# may use them besides the exporter's own names (docs/metrics.md, "In a
# fleet").
TARGET_LABELS = {"job", "instance"}
PROMETHEUS_SERIES = {"up": set()}


def scraped_series(docs):
    """docs/metrics.md's series as Prometheus stores them."""
    out = {n: labels | TARGET_LABELS for n, labels in docs.items()}
    out.update({n: labels | TARGET_LABELS for n, labels in PROMETHEUS_SERIES.items()})
    return out


def grouping_labels(expr):
    return [l.strip() for g in re.findall(r"\b(?:by|without)\s*\(([^)]*)\)", expr)
            for l in g.split(",") if l.strip()]


def check_expr(expr, docs):
    """Why expr breaks the metrics contract, or None."""
    if not expr.strip():
        return "empty expression"
    names = exprs.metric_names(expr)
    if not names:
        return "no metric in %r" % expr
    unknown = sorted(set(n for n in names if n not in docs))
    if unknown:
        return "metrics not in docs/metrics.md: %s in %r" % (", ".join(unknown), expr)
    known = set().union(*(docs[n] for n in names))
    for metric, labels in exprs.selectors(expr):
        bad = [l for l in labels if l not in docs[metric]]
        if bad:
            return "%s has no label %s (docs/metrics.md)" % (metric, ", ".join(bad))
    bad = [l for l in grouping_labels(expr) if l not in known]
    if bad:
        return "grouping by %s, not a label of %s" % (", ".join(bad), ", ".join(sorted(set(names))))
    return None


# The label that tells hosts apart: Prometheus sets it on every series it
# scrapes (the target's address, or what relabelling makes of it).
HOST = "instance"

# Expressions the host check must accept and refuse: the rules as they
# were before they kept the host are among the refused, so the check is
# known to catch what it is for.
KEEPS_HOST = [
    'max by (instance) (vfioscope_stale_references{kind="external_user"}) > 0',
    'histogram_quantile(0.99, sum by (instance, le) (rate(x_bucket[5m]))) > 0.01',
    'sum by (instance, op) (rate(a{result!="ok"}[5m])) / sum by (instance, op) (rate(a[5m])) > 0.05',
    'sum(x) by (instance)', 'sum without (le) (x)', 'rate(x[5m]) > 0', '0.5 < x',
    'up{job="vfioscope"} == 0', 'topk(3, x)', 'x or y', 'x / on (instance, op) y',
    'x * on (op) group_left y', 'count_values without (le) ("v", x)',
    'label_replace(x, "host", "$1", "instance", "(.*):.*")', 'rate(x[5m:1m] offset 1h)',
]
LOSES_HOST = [
    'max(vfioscope_stale_references{kind="external_user"}) > 0',
    'histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m]))) > 0.01',
    'sum by (op) (rate(a{result!="ok"}[5m])) / sum by (op) (rate(a[5m])) > 0.05',
    'sum without (instance) (x)', 'count(x)', 'sum by (instance) (sum by (op) (x))',
    'x / on (op) y', 'x / ignoring (instance) y', 'x or sum(y)', 'absent(x)', 'vector(1)',
    'label_replace(x, "instance", "a", "", "")', 'scalar(x) > 1', 'minute()',
]


HOST_LABEL = re.compile(r"\{\{\s*\$labels\.%s\s*\}\}" % HOST)


def host_problems(rules):
    """Why each rule that loses the host does: a list of strings.

    Every alert keeps instance, so that it says which host it is about.
    So does every recording rule, but for a fleet total: a series of its
    own, named level:metric:operations with no instance in its level (the
    usual naming of recording rules), summed from recorded per-host
    series, which stay there for anyone to read.  An alert that reads a
    fleet total has no host to name."""
    records = [r["record"] for r in rules if "record" in r]
    per_host = {n for n in records if HOST in n.split(":")[0].split("_")}
    fleet = set(records) - per_host
    why = []
    for r in rules:
        name = r.get("alert") or r.get("record")
        tree = exprs.parse(r["expr"])
        if "record" in r and name.count(":") != 2:
            why.append("%s: name a recording rule level:metric:operations" % name)
        elif name in fleet:
            inputs = sorted(set(sel["name"] for sel in exprs.vector_selectors(tree)) - per_host)
            if inputs:
                why.append("%s: a fleet total reads %s, not recorded per-host series"
                           % (name, ", ".join(map(str, inputs))))
        elif exprs.keeps_label(tree, HOST, lacking=fleet) is not True:
            why.append("%s: %s is lost in %s" % (name, HOST, exprs.one_line(r["expr"])))
    return why


def checker_cases():
    """exprs.keeps_label() on expressions whose answer is known."""
    why = [e for e in KEEPS_HOST if exprs.keeps_label(exprs.parse(e), HOST) is not True]
    why += ["%s (accepted)" % e for e in LOSES_HOST
            if exprs.keeps_label(exprs.parse(e), HOST) is True]
    # Recording rules: per-host series, and fleet totals made from them.
    per_host = {"record": "instance_op:vfioscope_dma_operations:rate5m",
                "expr": "sum by (instance, op) (rate(vfioscope_dma_operations_total[5m]))"}
    fleet = {"record": "op:vfioscope_dma_operations:rate5m",
             "expr": "sum by (op) (instance_op:vfioscope_dma_operations:rate5m)"}
    alert = {"alert": "A", "expr": "instance_op:vfioscope_dma_operations:rate5m > 1000"}
    if host_problems([per_host, fleet, alert]):
        why.append("refused %s" % host_problems([per_host, fleet, alert]))
    refused = [
        # a fleet total straight from the exporter's series: no per-host series kept
        [dict(fleet, expr="sum by (op) (rate(vfioscope_dma_operations_total[5m]))")],
        # a name that promises instance, an aggregation that drops it
        [dict(per_host, expr="sum by (op) (rate(vfioscope_dma_operations_total[5m]))")],
        [dict(per_host, record="vfioscope_dma_operations_rate5m")],
        # an alert on a fleet total cannot name its host
        [per_host, fleet, dict(alert, expr="op:vfioscope_dma_operations:rate5m > 1000")],
        [dict(alert, expr=LOSES_HOST[0])],
    ]
    why += ["accepted %s" % r for r in refused if not host_problems(r)]
    for e in ('sum by (le (x)', 'x{instance=~$instance}', 'rate(x[5m]'):
        try:
            exprs.parse(e)
            why.append("%s parsed" % e)
        except exprs.PromQLError:
            pass
    # Every expression of the dashboard and the rules goes through the parser.
    for src, e in exprs.all_exprs():
        try:
            exprs.parse(exprs.substitute(e))
        except exprs.PromQLError as err:
            why.append("%s: %s" % (src, err))
    report("promql_checker", not why, "; ".join(why))


def run(cmd, cwd=ROOT):
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return p.returncode, p.stdout


def promtool_cases():
    promtool = shutil.which("promtool")
    cases = ["check_config", "check_rules", "test_rules", "exprs_parse"]
    if not promtool:
        for c in cases:
            skip(c, "promtool not installed (Debian package prometheus; make deps)")
        return
    rc, out = run([promtool, "check", "config", str(CONFIG.relative_to(ROOT))])
    report("check_config", rc == 0 and "SUCCESS: 1 rule files found" in out, out.strip()[-300:])
    rc, out = run([promtool, "check", "rules", str(RULES.relative_to(ROOT))])
    report("check_rules", rc == 0, out.strip()[-300:])
    rc, out = run([promtool, "test", "rules", str(RULE_TESTS.relative_to(ROOT))])
    report("test_rules", rc == 0 and "SUCCESS" in out, out.strip()[-600:])
    # Every dashboard expression, as Prometheus will get it, must parse:
    # promtool parses the expressions of recording rules.
    rules = [{"record": "vfioscope_check:expr%d" % i, "expr": exprs.substitute(e)}
             for i, (_, e) in enumerate(exprs.dashboard_exprs())]
    with tempfile.NamedTemporaryFile("w", suffix=".yml") as f:
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}, f)
        f.flush()
        rc, out = run([promtool, "check", "rules", f.name])
    report("exprs_parse", rc == 0 and "SUCCESS: %d rules found" % len(rules) in out,
           out.strip()[-600:])


def rule_cases(docs):
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    alerts = {r["alert"]: r for r in rules if "alert" in r}
    missing = REQUIRED_ALERTS - set(alerts)
    report("rules_required", not missing, "missing alerts: %s" % ", ".join(sorted(missing)))

    why = []
    for name, r in alerts.items():
        if "for" not in r:
            why.append("%s has no for:" % name)
        if r.get("labels", {}).get("severity") not in ("critical", "warning", "info"):
            why.append("%s has no severity label" % name)
        ann = r.get("annotations", {})
        if not ann.get("summary") or not ann.get("description"):
            why.append("%s lacks a summary or description" % name)
        bad = check_expr(r["expr"], docs)
        if bad:
            why.append("%s: %s" % (name, bad))
    # A job the rules name must be the scrape job, or the rule never sees
    # a series (VfioscopeExporterDown would stay quiet for every host).
    jobs = {c["job_name"] for c in yaml.safe_load(CONFIG.read_text())["scrape_configs"]}
    for r in rules:
        for sel in exprs.vector_selectors(exprs.parse(r["expr"])):
            for label, op, value in sel["matchers"]:
                if label == "job" and not (op == "=" and value in jobs):
                    why.append("%s selects job %s%r, not a job of %s" % (r.get("alert") or r.get("record"),
                                                                           op, value, CONFIG.name))
    report("rules_contract", not why, "; ".join(why))

    # Every rule keeps the host; every alert names it in its text too.
    why = host_problems(rules)
    for name, r in alerts.items():
        for key in ("summary", "description"):
            if not HOST_LABEL.search(r.get("annotations", {}).get(key, "")):
                why.append("%s: its %s does not name {{ $labels.%s }}" % (name, key, HOST))
    report("rules_keep_host", not why, "; ".join(why))

    # Each alert has a unit test where it fires and one where it does not,
    # and a test on series of two hosts or more where it fires for some of
    # them only.  Every alert a test expects names its host in its labels,
    # summary and description.
    tests = yaml.safe_load(RULE_TESTS.read_text())
    fires, quiet, one_host, why = set(), set(), set(), []
    for t in tests["tests"]:
        hosts = set()
        for s in t.get("input_series", []):
            m = re.search(r'\b%s\s*=\s*"([^"]*)"' % HOST, s["series"])
            if m:
                hosts.add(m.group(1))
        for a in t.get("alert_rule_test", []):
            (fires if a.get("exp_alerts") else quiet).add(a["alertname"])
            named = set()
            for e in a.get("exp_alerts") or []:
                host = e.get("exp_labels", {}).get(HOST)
                ann = e.get("exp_annotations", {})
                if not host:
                    why.append("%r expects %s at %s without %s" % (t["name"], a["alertname"], a["eval_time"], HOST))
                    continue
                named.add(host)
                if not all(host in ann.get(k, "") for k in ("summary", "description")):
                    why.append("%r expects %s at %s whose text does not name %s"
                               % (t["name"], a["alertname"], a["eval_time"], host))
            if len(hosts) >= 2 and named and named < hosts:
                one_host.add(a["alertname"])
        for s in t.get("input_series", []):
            name = re.match(r"\s*([a-zA-Z_:][\w:]*)", s["series"]).group(1)
            if name not in docs:
                why.append("test series %s not in docs/metrics.md" % name)
    for name in alerts:
        if name not in fires:
            why.append("%s is never tested firing" % name)
        if name not in quiet:
            why.append("%s is never tested not firing" % name)
        if name not in one_host:
            why.append("%s is never tested firing for one host of two" % name)
    report("rules_tested", not why, "; ".join(why))


def all_panels(dash):
    for p in dash.get("panels", []):
        yield p
        yield from p.get("panels", [])


def grafana_cases(docs):
    try:
        dash = json.loads(GRAFANA.read_text())
    except ValueError as e:
        report("grafana_json", False, "does not parse: %s" % e)
        return
    why = []
    if not isinstance(dash.get("schemaVersion"), int) or dash["schemaVersion"] < 36:
        why.append("schemaVersion %r < 36" % dash.get("schemaVersion"))
    for key in ("title", "uid", "panels", "templating", "time"):
        if key not in dash:
            why.append("no %s" % key)
    if dash.get("id") not in (None,):
        why.append("id must be null or absent for an import")
    variables = {v["name"]: v for v in dash.get("templating", {}).get("list", [])}
    dsvars = [n for n, v in variables.items() if v.get("type") == "datasource" and v.get("query") == "prometheus"]
    if not dsvars:
        why.append("no Prometheus datasource template variable")
    ids = [p.get("id") for p in all_panels(dash)]
    if len(ids) != len(set(ids)) or None in ids:
        why.append("panel ids missing or not unique")
    # No hard-coded datasource: every datasource reference is the variable.
    text = GRAFANA.read_text()
    for uid in re.findall(r'"uid":\s*"([^"]*)"', text):
        if uid not in ("${%s}" % n for n in dsvars) and uid not in ("$%s" % n for n in dsvars) \
                and uid not in (dash.get("uid"), "-- Grafana --"):
            why.append("hard-coded datasource uid %r" % uid)
    for p in all_panels(dash):
        g = p.get("gridPos", {})
        if not all(isinstance(g.get(k), int) for k in "hwxy") or g["x"] + g["w"] > 24:
            why.append("panel %r has a bad gridPos %r" % (p.get("title"), g))
    report("grafana_json", not why, "; ".join(why))

    why = []
    for p in all_panels(dash):
        if p["type"] == "row":
            continue
        targets = p.get("targets", [])
        if not targets:
            why.append("panel %r has no target" % p.get("title"))
        for t in targets:
            bad = check_expr(t.get("expr", ""), docs)
            if bad:
                why.append("panel %r %s: %s" % (p.get("title"), t.get("refId"), bad))
            if t.get("datasource", p.get("datasource")) is None:
                why.append("panel %r has no datasource" % p.get("title"))
    for name, v in variables.items():
        if v.get("type") == "query":
            q = v["query"]["query"] if isinstance(v["query"], dict) else v["query"]
            m = exprs.LABEL_VALUES.match(q)
            if not m or m["metric"] not in docs or m["label"] not in docs[m["metric"]] \
                    or check_expr(m["selector"], docs):
                why.append("variable $%s: %r is not label_values of a documented metric and label" % (name, q))
    report("grafana_exprs", not why, "; ".join(why))

    # The panels the issue asks for, by what they query.
    def panels_with(pred):
        return [p for p in all_panels(dash) if p["type"] != "row"
                and any(pred(p, t["expr"]) for t in p.get("targets", []))]

    wanted = {
        "throughput ops/s by op": lambda p, e: "rate(vfioscope_dma_operations_total" in e and "op" in grouping_labels(e),
        "throughput bytes/s by op": lambda p, e: "rate(vfioscope_dma_bytes_total" in e and "op" in grouping_labels(e),
        "latency heatmap": lambda p, e: p["type"] == "heatmap" and "vfioscope_dma_duration_seconds_bucket" in e,
        "p50": lambda p, e: e.startswith("histogram_quantile(0.5,"),
        "p90": lambda p, e: e.startswith("histogram_quantile(0.9,"),
        "p99": lambda p, e: e.startswith("histogram_quantile(0.99,"),
        "pinned bytes by container": lambda p, e: "vfioscope_dma_pinned_pages" in e and "* 4096" in e
        and "container" in grouping_labels(e),
        "mapped bytes by container": lambda p, e: "vfioscope_dma_mapped_bytes" in e and "container" in grouping_labels(e),
        "stale references by kind": lambda p, e: "vfioscope_stale_references" in e and "kind" in grouping_labels(e),
        "external users": lambda p, e: "vfioscope_external_users" in e,
        "errors by result": lambda p, e: 'result!="ok"' in e and "result" in grouping_labels(e),
        "lost events": lambda p, e: "vfioscope_lost_events_total" in e,
    }
    missing = [w for w, pred in wanted.items() if not panels_with(pred)]
    heat = panels_with(wanted["latency heatmap"])
    if heat and not all(t.get("format") == "heatmap" for p in heat for t in p["targets"]):
        missing.append("heatmap target with format heatmap")
    report("grafana_panels", not missing, "missing: %s" % ", ".join(missing))
    grafana_host_cases(dash, variables)


# Panels that sum the selected hosts on purpose: a stat shows one number
# per series, and a heatmap's buckets of several hosts add up to the
# fleet's distribution.  Every other panel shows each host apart.
SUMMARY_PANELS = {"stat", "heatmap"}
HOST_FILTER = (HOST, "=~", "$" + HOST)


def grafana_host_cases(dash, variables):
    """The $instance variable, and every query filtered on it."""
    why = []
    v = variables.get(HOST)
    q = v and (v["query"]["query"] if isinstance(v["query"], dict) else v["query"])
    m = q and exprs.LABEL_VALUES.match(q)
    if not v or v.get("type") != "query" or not m or m["label"] != HOST:
        why.append("no query variable $%s listing label_values(..., %s)" % (HOST, HOST))
    elif not (v.get("multi") and v.get("includeAll")):
        why.append("$%s is not multi-select with All" % HOST)
    names = list(variables)
    for name, var in variables.items():
        q = var["query"]["query"] if isinstance(var.get("query"), dict) else var.get("query", "")
        if var.get("type") != "query" or name == HOST:
            continue
        # A variable's choices are those of the selected hosts, so it
        # comes after $instance (Grafana resolves them in order).
        m = exprs.LABEL_VALUES.match(q)
        sels = exprs.vector_selectors(exprs.parse(m["selector"] if m else q))
        if not all(HOST_FILTER in s["matchers"] for s in sels):
            why.append("variable $%s does not filter on $%s: %s" % (name, HOST, q))
        if HOST in names and names.index(name) < names.index(HOST):
            why.append("variable $%s comes before $%s" % (name, HOST))
    report("grafana_instance_var", not why, "; ".join(why))

    why = []
    for p in all_panels(dash):
        for t in p.get("targets", []):
            e, where = t.get("expr", ""), "panel %r %s" % (p.get("title"), t.get("refId"))
            tree = exprs.parse(e)
            bare = [s["name"] for s in exprs.vector_selectors(tree) if HOST_FILTER not in s["matchers"]]
            if bare:
                why.append("%s: %s without %s=~\"$%s\"" % (where, ", ".join(bare), HOST, HOST))
            if p["type"] in SUMMARY_PANELS:
                continue
            if exprs.keeps_label(tree, HOST) is not True:
                why.append("%s sums the hosts together: %s" % (where, e))
            if "{{%s}}" % HOST not in t.get("legendFormat", ""):
                why.append("%s: its legend does not name {{%s}}" % (where, HOST))
    report("grafana_instance_filter", not why, "; ".join(why))

    # The $container variable lists containers, not the released fold-in.
    c = variables.get("container")
    q = c and (c["query"]["query"] if isinstance(c["query"], dict) else c["query"])
    m = q and exprs.LABEL_VALUES.match(q)
    ok = m and any(("container", "!=", "released") in s["matchers"]
                   for s in exprs.vector_selectors(exprs.parse(m["selector"])))
    report("grafana_container_var", bool(ok), "$container %r lists container=\"released\"" % q)


def two_hosts_series():
    """A fleet of two exporters, for promtool: every family the dashboard
    reads, host-a with container 1 and host-b with container 2, both with
    a container="released" fold-in and a failing op."""
    out = []
    for host, cont in (("host-a:9707", "1"), ("host-b:9707", "2")):
        def add(name, labels, values):
            labels = dict(labels, job="vfioscope", instance=host)
            out.append({"series": "%s{%s}" % (name, ",".join('%s="%s"' % kv for kv in sorted(labels.items()))),
                        "values": values})
        add("vfioscope_build_info", {"version": "0.1.0", "kernel": "6.1.0-28-amd64", "attach": "tp_btf"}, "1x20")
        for op in ("map", "unmap"):
            for c in (cont, "released"):
                add("vfioscope_dma_operations_total", {"op": op, "container": c, "result": "ok"}, "0+100x20")
                add("vfioscope_dma_operations_total", {"op": op, "container": c, "result": "ENOMEM"}, "0+5x20")
                add("vfioscope_dma_bytes_total", {"op": op, "container": c}, "0+409600x20")
            for le in ("0.000262144", "+Inf"):
                add("vfioscope_dma_duration_seconds_bucket", {"op": op, "le": le}, "0+100x20")
            add("vfioscope_dma_duration_seconds_sum", {"op": op}, "0+0.01x20")
            add("vfioscope_dma_duration_seconds_count", {"op": op}, "0+100x20")
        for name in ("vfioscope_dma_mapped_bytes", "vfioscope_dma_pinned_pages", "vfioscope_dma_entries"):
            add(name, {"container": cont}, "100x20")
        add("vfioscope_objects", {"kind": "container"}, "1x20")
        add("vfioscope_external_users", {"group": cont}, "1x20")
        add("vfioscope_stale_references", {"kind": "external_user"}, "1x20")
        add("vfioscope_stale_after_seconds", {}, "300x20")
        add("vfioscope_lost_events_total", {"reason": "ringbuf"}, "0+1x20")
    return out


def grafana_two_hosts():
    """Every query of the dashboard run by promtool on two hosts' series.
    With $instance one host, each graph has series of that host only and
    each summary panel has data; with a host nobody runs, nothing; with
    both hosts, each graph has both apart.  $container lists the
    containers of the selected hosts, never "released"."""
    promtool = shutil.which("promtool")
    if not promtool:
        for c in ("grafana_two_hosts", "grafana_container_values"):
            skip(c, "promtool not installed (Debian package prometheus; make deps)")
        return
    dash = json.loads(GRAFANA.read_text())
    # Names without regex metacharacters: Grafana would escape them.
    a, b, nobody = "host-a:9707", "host-b:9707", "host-c:9707"
    both = "(%s|%s)" % (a, b)

    def case(expr, want):
        return {"expr": expr, "eval_time": "10m",
                "exp_samples": [{"labels": l, "value": 1} for l in want]}

    def fill(e, host):
        return exprs.substitute(e, interval="5m", values={HOST: host})

    tests = []
    for p in all_panels(dash):
        for t in p.get("targets", []):
            e = t["expr"]
            if p["type"] in SUMMARY_PANELS:
                tests.append(case("group(%s)" % fill(e, a), ["{}"]))
            else:
                tests.append(case("group by (%s) (%s)" % (HOST, fill(e, a)), ['{%s="%s"}' % (HOST, a)]))
                tests.append(case("group by (%s) (%s)" % (HOST, fill(e, both)),
                                  ['{%s="%s"}' % (HOST, h) for h in (a, b)]))
            tests.append(case("group(%s)" % fill(e, nobody), []))
    rc, out = promtool_test(promtool, tests)
    report("grafana_two_hosts", rc == 0 and "SUCCESS" in out,
           "%d queries: %s" % (len(tests), out.strip()[-900:]))

    q = next(v for v in dash["templating"]["list"] if v["name"] == "container")["query"]
    m = exprs.LABEL_VALUES.match(q["query"] if isinstance(q, dict) else q)
    lv = "group by (%s) (%s)" % (m["label"], m["selector"])
    tests = [case(fill(lv, a), ['{container="1"}']),
             case(fill(lv, both), ['{container="1"}', '{container="2"}'])]
    rc, out = promtool_test(promtool, tests)
    report("grafana_container_values", rc == 0 and "SUCCESS" in out, out.strip()[-600:])


def promtool_test(promtool, expr_tests):
    """promtool test rules on two_hosts_series() with these
    promql_expr_test entries: (exit status, output)."""
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "two-hosts.test.yml"
        f.write_text(yaml.safe_dump({
            "evaluation_interval": "1m",
            "tests": [{"interval": "1m", "input_series": two_hosts_series(),
                       "promql_expr_test": expr_tests}],
        }))
        return run([promtool, "test", "rules", str(f)], cwd=tmp)


def exprs_cases():
    """dashboards/exprs.py prints every expression, one per line, with no
    Grafana variable left: the list the VM test queries Prometheus with."""
    rc, out = run([sys.executable, str(DASH / "exprs.py")])
    lines = out.splitlines()
    dash = json.loads(GRAFANA.read_text())
    n_targets = sum(len(p.get("targets", [])) for p in all_panels(dash))
    n_rules = sum(len(g["rules"]) for g in yaml.safe_load(RULES.read_text())["groups"])
    n_vars = sum(1 for v in dash["templating"]["list"] if v["type"] == "query")
    why = []
    if rc != 0:
        why.append("exit status %d: %s" % (rc, out[-300:]))
    if len(lines) != n_targets + n_rules + n_vars:
        why.append("%d lines, want %d targets + %d rules + %d variables" % (len(lines), n_targets, n_rules, n_vars))
    for line in lines:
        if not line.strip() or "$" in line or "\t" in line:
            why.append("bad line %r" % line)
    report("exprs_list", not why, "; ".join(why))
    rc, out = run([sys.executable, str(DASH / "exprs.py"), "--source", "--interval", "30s"])
    ok = rc == 0 and all(len(l.split("\t")) == 2 for l in out.splitlines()) \
        and "[30s]" in out and "rule vfioscope/VfioDmaMapLatencyHigh\t" in out
    report("exprs_source", ok, out[-300:])


def main():
    docs = documented_metrics()
    report("metrics_doc", len(docs) >= 14 and "vfioscope_dma_duration_seconds_bucket" in docs,
           "parsed only %d metric names from docs/metrics.md" % len(docs))
    series = scraped_series(docs)
    checker_cases()
    promtool_cases()
    rule_cases(series)
    grafana_cases(series)
    grafana_two_hosts()
    exprs_cases()
    return suite.status()


if __name__ == "__main__":
    sys.exit(main())
