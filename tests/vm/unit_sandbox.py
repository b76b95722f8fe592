#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What a systemd unit's sandbox would refuse a traced run of its program:

    unit_sandbox.py UNIT STRACE PROGRAM

UNIT is the installed unit file, STRACE the output of `strace -f -o` around
the program started as the unit starts it, PROGRAM the path ExecStart
runs.  Every system call the program made after its execve must be in the
unit's SystemCallFilter (its groups expanded as `systemd-analyze
syscall-filter` lists them, a ~ line taking calls away), and every socket
family it asked for in RestrictAddressFamilies.  Without systemd as PID 1
(the test guest) this is how we know the service would not be killed by
its own filter.  Prints one line per finding; exits 1 on any.
"""
import re
import subprocess
import sys


def unit_values(path, key):
    vals = []
    for line in open(path):
        line = line.strip()
        if line.startswith(key + "="):
            vals.append(line[len(key) + 1:])
    return vals


def syscall_groups():
    """{"@group": [members]} from systemd-analyze, members may be groups."""
    out = subprocess.run(["systemd-analyze", "syscall-filter"], check=True,
                         capture_output=True, text=True).stdout
    groups, cur = {}, None
    for line in out.splitlines():
        if not line.strip() or line.strip().startswith("#"):
            continue
        if not line.startswith(" "):
            cur = line.strip()
            groups[cur] = []
        elif cur:
            groups[cur].append(line.strip())
    return groups


def expand(names, groups, seen=None):
    seen = set() if seen is None else seen
    calls = set()
    for n in names:
        if n.startswith("@"):
            if n in seen:
                continue
            seen.add(n)
            if n not in groups:
                sys.exit("unit_sandbox: unknown syscall group %s" % n)
            calls |= expand(groups[n], groups, seen)
        else:
            calls.add(n)
    return calls


def allowed_calls(unit):
    groups = syscall_groups()
    allow, deny = None, set()
    for v in unit_values(unit, "SystemCallFilter"):
        if v.startswith("~"):
            deny |= expand(v[1:].split(), groups)
        else:
            names = expand(v.split(), groups)
            allow = names if allow is None else allow | names
    if allow is None:
        sys.exit("unit_sandbox: %s has no SystemCallFilter allow list" % unit)
    return allow - deny


def traced(strace, program):
    """System calls and socket families of the program after its execve.

    The process tree is one process: the starter (setpriv) execs the
    program in place and forks nothing, so every line after that execve,
    of any pid, is the program's or one of its threads'."""
    calls, families, started = set(), set(), False
    call_re = re.compile(r"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]")
    for line in open(strace, errors="replace"):
        m = call_re.match(line)
        if not m:
            continue
        name = m.group(1)
        if not started:
            started = (name == "execve" and ('execve("%s"' % program) in line
                       and line.rstrip().endswith("= 0"))
            continue
        calls.add(name)
        fam = re.match(r"^\d+\s+socket(?:pair)?\((AF_[A-Z0-9]+)", line)
        if fam:
            families.add(fam.group(1))
    return started, calls, families


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    unit, strace, program = sys.argv[1:]
    started, calls, families = traced(strace, program)
    if not started:
        print("FAIL: no execve of %s in %s" % (program, strace))
        return 1
    bad = 0
    refused = sorted(calls - allowed_calls(unit))
    if refused:
        print("FAIL: SystemCallFilter refuses what %s called: %s" % (program, " ".join(refused)))
        bad = 1
    fams = set()
    for v in unit_values(unit, "RestrictAddressFamilies"):
        fams |= set(v.split())
    if families - fams:
        print("FAIL: RestrictAddressFamilies refuses %s" % " ".join(sorted(families - fams)))
        bad = 1
    if not bad:
        print("# %d system calls of %s, all in SystemCallFilter; socket families %s"
              % (len(calls), program, " ".join(sorted(families)) or "none"))
    return bad


if __name__ == "__main__":
    sys.exit(main())
