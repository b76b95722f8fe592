#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Bad flags: every tool exits 64 (EX_USAGE) before touching BPF, saying on its
first stderr line, prefixed with its name, which value it refused (argp
then adds its usual "Try --help" hint), and printing nothing on stdout.
--help still works and exits 0; -h is the same: the same text, on
standard output, exit 0 (vfio-exporter's too).

Prints PASS:/FAIL: lines like the C tests; exits 1 on a failure.
"""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / os.environ.get("O", "build") / "tools"
SUITE = "host/tool_args"
HELP_TOOLS = ["vfio-top", "vfio-leak", "vfio-lat", "vfio-exporter"]

COMMON = [
    (["-p", "-3"], "invalid PID: -3"),
    (["-p", "abc"], "invalid PID: abc"),
    (["-p", "4294967297"], "invalid PID: 4294967297"),
    (["--attach", "kprobe"], "unknown attach mode: kprobe"),
    (["0"], "invalid interval: 0"),
    (["x"], "invalid interval: x"),
    (["1", "0"], "invalid count: 0"),
    (["1", "2", "3"], "unexpected argument: 3"),
    (["--no-such-flag"], "unrecognized option '--no-such-flag'"),
    (["--btf", "/nonexistent.btf"],
     "cannot read BTF file /nonexistent.btf: No such file or directory"),
]
CASES = {
    "vfio-top": COMMON + [
        (["-s", "size"], "invalid sort key: size"),
        (["-r", "0"], "invalid rows: 0"),
    ],
    "vfio-lat": COMMON + [
        (["-o", "read"], "invalid operation: read"),
        (["-s", "12Q"], "invalid size: 12Q"),
        (["-S", "0"], "invalid size: 0 (-S takes 1 or more; without it, no maximum)"),
        # Decimal only: no octal, no hexadecimal, no sign or blank.
        (["-s", "abc"], "invalid size: abc (bytes in decimal, K, M or G after it)"),
        (["-s", "0x10"], "invalid size: 0x10 (bytes in decimal"),
        (["-s", "-1"], "invalid size: -1 (bytes in decimal"),
        (["-s", " 1"], "invalid size:  1 (bytes in decimal"),
        (["-s", ""], "invalid size:  (bytes in decimal"),
        (["-S", "1KB"], "invalid size: 1KB (bytes in decimal"),
        (["-s", "17179869184G"], "invalid size: 17179869184G (2^64 bytes or more)"),
        (["-s", "18446744073709551616"], "invalid size: 18446744073709551616 (2^64"),
        # 010 is 10, not 8: refused beside -S 9, in either order.
        (["-s", "010", "-S", "9"], "invalid sizes: -s 10 is above -S 9"),
        (["-S", "9", "-s", "010"], "invalid sizes: -s 10 is above -S 9"),
        (["-s", "2K", "-S", "2047"], "invalid sizes: -s 2048 is above -S 2047"),
        (["-c", "0"], "invalid container id: 0"),
    ],
    "vfio-leak": COMMON + [
        (["-a", "-1"], "invalid age: -1"),
        (["-a", "nan"], "invalid age: nan"),
        (["-a", "inf"], "invalid age: inf"),
        (["-a", ""], "invalid age: "),
        (["-m", "0"], "invalid max: 0"),
        (["--stack-depth", "99"], "invalid stack depth: 99"),
        (["--stack-depth", "33"], "invalid stack depth: 33 (0 to 32)"),
        (["--stack-depth", "-1"], "invalid stack depth: -1 (0 to 32)"),
        (["--stack-depth", ""], "invalid stack depth:  (0 to 32)"),
        # 8 in an int: the range is checked on what was written.
        (["--stack-depth", "4294967304"], "invalid stack depth: 4294967304"),
    ],
}
# Values a tool takes: followed by --usage, which ends the tool (exit 0)
# before any BPF, so only a refusal (exit 64) would show.
ACCEPTED = {
    "vfio-lat": [
        ["-s", "0"],
        ["-s", "010", "-S", "10"],
        ["-s", "2m", "-S", "2M"],
        ["-s", "17179869183G"],
        ["-S", "1"],
    ],
    "vfio-leak": [
        ["-a", "0"],
        ["-a", "0.5"],
        ["--stack-depth", "0"],
        ["--stack-depth", "32"],
    ],
}
# What --help says, whitespace folded (argp wraps the option lines).
HELP_SAYS = {
    "vfio-lat": [
        "Only operations of at least SIZE bytes, in decimal, K, M or G after it"
        " (default 0: any size)",
        "Only operations of at most SIZE bytes, as -s, from 1 (default: no maximum)",
    ],
    "vfio-leak": [
        "--stack-depth=N Print N frames of each stack, 0 to 32 (default 8; 0: none)",
        # -a shows a reference of age >= AGE (holder_shown()).
        "-a, --age=AGE Report references held for AGE seconds or more (default 0: all)",
        "references held for AGE seconds or more, with the holder",
    ],
    "vfio-exporter": [
        # Stale from age >= --stale-after (tools/lib/exporter.c).
        "references held for --stale-after seconds or more",
    ],
}
# What it must not say: an age threshold is "or more", never "longer than".
HELP_NEVER = {
    "vfio-leak": ["longer than"],
    "vfio-exporter": ["longer than"],
}


def main():
    failed = 0
    for tool, cases in CASES.items():
        path = TOOLS / tool
        for args, want in cases:
            name = "%s/%s %s" % (SUITE, tool, " ".join(args))
            if not path.exists():
                print("FAIL: %s (%s not built)" % (name, path))
                failed += 1
                continue
            r = subprocess.run([str(path)] + args, capture_output=True,
                               text=True, timeout=10)
            first = r.stderr.splitlines()[0] if r.stderr else ""
            why = None
            if r.returncode != 64:
                why = "exit status %d, not 64" % r.returncode
            elif r.stdout:
                why = "printed on stdout: %r" % r.stdout[:80]
            elif want not in first or not first.split(": ")[0].endswith(tool):
                why = "first stderr line %r, want %r" % (first, want)
            if why:
                print("FAIL: %s (%s)" % (name, why))
                failed += 1
            else:
                print("PASS: %s" % name)
        name = "%s/%s --help" % (SUITE, tool)
        r = subprocess.run([str(path), "--help"], capture_output=True, text=True,
                           timeout=10) if path.exists() else None
        if r and r.returncode == 0 and "EXAMPLES" in r.stdout:
            print("PASS: %s" % name)
        else:
            print("FAIL: %s" % name)
            failed += 1
    for tool in HELP_TOOLS:
        failed += check_h(tool)
    for tool, cases in ACCEPTED.items():
        for args in cases:
            failed += check_accepted(tool, args)
    for tool, says in HELP_SAYS.items():
        failed += check_help_says(tool, says)
    for tool, never in HELP_NEVER.items():
        failed += check_help_says(tool, never, absent=True)
    for tool in HELP_TOOLS:
        failed += check_attach_modes(tool)
    return 1 if failed else 0


def built(tool, name):
    """The tool's path, or None after a FAIL line for test name."""
    path = TOOLS / tool
    if not path.exists():
        print("FAIL: %s (%s not built)" % (name, path))
        return None
    return path


def attach_modes(path):
    """The --attach values the tool takes, as its refusal lists them."""
    r = subprocess.run([str(path), "--attach", "kprobe"], capture_output=True, text=True,
                       timeout=10)
    m = re.search(r"unknown attach mode: kprobe \(([^)]*)\)", r.stderr)
    return [w.strip() for w in m.group(1).split(",")] if m else []


def check_attach_modes(tool):
    """Every mode the refusal lists is taken, and named by --help's --attach."""
    name = "%s/%s --attach values" % (SUITE, tool)
    path = built(tool, name)
    if not path:
        return 1
    modes = attach_modes(path)
    help_text = subprocess.run([str(path), "--help"], capture_output=True, text=True,
                               timeout=10).stdout
    m = re.search(r"^ +--attach=MODE +(.*?)\n(?= +-)", help_text, re.M | re.S)
    line = " ".join(m.group(1).split()) if m else ""
    why = []
    if sorted(modes) != ["auto", "fentry", "raw_tp", "tp_btf"]:
        why.append("the refusal lists %r" % modes)
    for mode in modes:
        r = subprocess.run([str(path), "--attach", mode, "--usage"], capture_output=True,
                           text=True, timeout=10)
        if r.returncode != 0:
            why.append("--attach %s: exit %d" % (mode, r.returncode))
        if not re.search(r"\b%s\b" % mode, line):
            why.append("--help's --attach line does not name %s" % mode)
    print("FAIL: %s (%s)" % (name, "; ".join(why)) if why else "PASS: %s" % name)
    return 1 if why else 0


def check_accepted(tool, args):
    name = "%s/%s %s accepted" % (SUITE, tool, " ".join(repr(a) if not a else a for a in args))
    path = built(tool, name)
    if not path:
        return 1
    r = subprocess.run([str(path)] + args + ["--usage"], capture_output=True, text=True,
                       timeout=10)
    if r.returncode != 0 or r.stderr:
        print("FAIL: %s (exit %d, stderr %r)" % (name, r.returncode, r.stderr[:120]))
        return 1
    print("PASS: %s" % name)
    return 0


def check_help_says(tool, says, absent=False):
    path = TOOLS / tool
    failed = 0
    text = ""
    if path.exists():
        r = subprocess.run([str(path), "--help"], capture_output=True, text=True, timeout=10)
        text = " ".join(r.stdout.split())
    for want in says:
        name = "%s/%s --help %s %r" % (SUITE, tool, "never says" if absent else "says",
                                       want[:40])
        if text and (" ".join(want.split()) in text) != absent:
            print("PASS: %s" % name)
        else:
            print("FAIL: %s (%s)" % (name, "not built" if not text else
                                     "in --help" if absent else "not in --help"))
            failed += 1
    return failed


def check_h(tool):
    """-h: --help's text on stdout, nothing on stderr, exit 0."""
    name = "%s/%s -h" % (SUITE, tool)
    path = built(tool, name)
    if not path:
        return 1
    want = subprocess.run([str(path), "--help"], capture_output=True, text=True,
                          timeout=10).stdout
    r = subprocess.run([str(path), "-h"], capture_output=True, text=True, timeout=10)
    why = None
    if r.returncode != 0:
        why = "exit status %d" % r.returncode
    elif r.stderr:
        why = "printed on stderr: %r" % r.stderr[:80]
    elif r.stdout != want:
        why = "stdout is not --help's"
    elif not re.search(r"^  -h +\S", want, re.M):
        why = "--help does not list -h"
    print("FAIL: %s (%s)" % (name, why) if why else "PASS: %s" % name)
    return 1 if why else 0


if __name__ == "__main__":
    sys.exit(main())
