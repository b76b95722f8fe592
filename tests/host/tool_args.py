#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Bad flags: every tool exits non-zero before touching BPF, saying on its
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
        (["-S", "0"], "invalid size: 0"),
        (["-c", "0"], "invalid container id: 0"),
    ],
    "vfio-leak": COMMON + [
        (["-a", "-1"], "invalid age: -1"),
        (["-m", "0"], "invalid max: 0"),
        (["--stack-depth", "99"], "invalid stack depth: 99"),
    ],
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
            if r.returncode == 0:
                why = "exit status 0"
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
    return 1 if failed else 0


def check_h(tool):
    """-h: --help's text on stdout, nothing on stderr, exit 0."""
    name = "%s/%s -h" % (SUITE, tool)
    path = TOOLS / tool
    if not path.exists():
        print("FAIL: %s (%s not built)" % (name, path))
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
