#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench/report.py on results it can be checked against: a run of two
guest kernels gives tables 1 to 4 once per kernel, titled with its series
and computed from that kernel's boots alone, and the host's native table
once; a run of one kernel titles nothing with a series; the start-up
table comes once per stack, each from its own stack's rows.

Prints PASS:/FAIL: lines like the C tests; exits 1 on a failure.
"""
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from suite import Suite  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "bench" / "report.py"
suite = Suite("host/bench_report")

NATIVE = ("round=native stack=host variant=native name=vfio-collector program=vfio_dma_map "
          "cost_p50=40 cost_q1=38 cost_q3=42 cost_min=35 cost_max=50 handler_p50=140 "
          "empty_p50=100 loads=2 batches=5 calls=1000 jit=1")


def sizes_row(kernel, rnd, stack, map_ns, unmap_ns):
    tag = "kernel=%s " % kernel if kernel else ""
    return ("%sround=%d stack=%s variant=default name=4k size=4096 n=3000 map_p50=%d unmap_p50=%d"
            % (tag, rnd, stack, map_ns, unmap_ns))


def report(lines):
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as f:
        f.write("\n".join(lines) + "\n")
        f.flush()
        r = subprocess.run([sys.executable, str(REPORT), f.name], capture_output=True, text=True)
    if r.returncode != 0:
        return None, r.stderr.strip().splitlines()[-1:] or ["exit %d" % r.returncode]
    return r.stdout, None


def table1_ratio(out, title):
    """The 4 KiB row's ratio cell of the table 1 titled TITLE."""
    lines = out.splitlines()
    if title not in lines:
        return None
    for line in lines[lines.index(title):]:
        if line.startswith("| 4 KiB |"):
            return line.split("|")[6].strip()
    return None


T1 = "### 1. MAP + UNMAP, ours vs. Debian's in-tree VFIO"

# Two kernels, two rounds each: ours is twice in-tree's speed on 6.1 and
# three times on 6.12, so a table mixing the kernels' boots would show
# neither.
lines = [NATIVE]
for rnd in (1, 2):
    lines += [sizes_row("6.1", rnd, "ours", 1000, 1000), sizes_row("6.1", rnd, "intree", 2000, 2000)]
for rnd in (1, 2):
    lines += [sizes_row("6.12", rnd, "ours", 1000, 1000), sizes_row("6.12", rnd, "intree", 3000, 3000)]
out, err = report(lines)
suite.report("two_kernels_runs", out is not None, "report.py failed: %s" % err)
if out is not None:
    suite.check("two_kernels_6.1_ratio", table1_ratio(out, T1 + " (6.1)"), "**2.00 / 2.00 / 2.00**")
    suite.check("two_kernels_6.12_ratio", table1_ratio(out, T1 + " (6.12)"), "**3.00 / 3.00 / 3.00**")
    suite.check("two_kernels_table1_count", out.count(T1), 2)
    first, second = out.find(T1 + " (6.1)"), out.find(T1 + " (6.12)")
    suite.check("two_kernels_in_run_order", 0 <= first < second, True)
    suite.check("two_kernels_rounds_each", out.count("Rounds on the 6.1 guest: 2 ") +
                out.count("Rounds on the 6.12 guest: 2 "), 2)
    suite.check("two_kernels_native_once", out.count("### 5. Native cost per DMA event"), 1)

# One kernel, untagged (a results file from before the runs were tagged):
# no series in any title.
out, err = report([NATIVE, sizes_row("", 1, "ours", 1000, 1000), sizes_row("", 1, "intree", 2000, 2000)])
suite.report("one_kernel_runs", out is not None, "report.py failed: %s" % err)
if out is not None:
    suite.check("one_kernel_title", table1_ratio(out, T1), "**2.00 / 2.00 / 2.00**")
    suite.check("one_kernel_rounds", out.count("Rounds: 1 "), 1)


def startup_row(rnd, stack, variant, name, ms):
    return ("kernel=6.1 round=%d stack=%s variant=%s name=%s attach_ns=%d vmhwm_kb=10240 "
            "maps=3 map_memlock=8192" % (rnd, stack, variant, name, ms * 1000000))


def startup_cell(out, title, tool, col):
    """Column COL of TOOL's row in the start-up table titled TITLE."""
    lines = out.splitlines()
    if title not in lines:
        return None
    for line in lines[lines.index(title):]:
        if line.startswith("| %s |" % tool):
            return line.split("|")[col].strip()
    return None


# Start-up on both stacks: vfio-top alone takes 600 ms on ours and 900 ms
# in fentry mode, 30 ms reading a running collector on either.
T4 = "### 4. Tool start-up and footprint (ours loaded, nothing mapping) (6.1)"
T4B = ("### 4b. Tool start-up and footprint (Debian's in-tree VFIO, fentry mode, "
       "nothing mapping) (6.1)")
lines = [sizes_row("6.1", 1, "ours", 1000, 1000), sizes_row("6.12", 1, "ours", 1000, 1000)]
for rnd in (1, 2):
    lines += [startup_row(rnd, "ours", "startup", "vfio-top", 600),
              startup_row(rnd, "ours", "startup-exporter", "vfio-top", 30),
              startup_row(rnd, "intree", "startup", "vfio-top", 900),
              startup_row(rnd, "intree", "startup-exporter", "vfio-top", 30)]
out, err = report(lines)
suite.report("startup_runs", out is not None, "report.py failed: %s" % err)
if out is not None:
    suite.check("startup_ours_alone", startup_cell(out, T4, "vfio-top", 2), "600 / 600 / 600")
    suite.check("startup_ours_faster",
                startup_cell(out, T4, "vfio-top (exporter running)", 8), "20.0x")
    suite.check("startup_intree_alone", startup_cell(out, T4B, "vfio-top", 2), "900 / 900 / 900")
    suite.check("startup_intree_faster",
                startup_cell(out, T4B, "vfio-top (exporter running)", 8), "30.0x")

sys.exit(suite.status())
