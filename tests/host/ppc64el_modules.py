#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The modules cross-built for Debian's ppc64el kernel (make modules-ppc64el)
are modules of that kernel: every module kernel/ builds is there, each is a
64-bit little-endian PowerPC ELFv2 object with the kernel's vermagic, carries
module BTF split from the POWER kernel's base BTF, and every symbol it
leaves undefined is exported by that kernel (its Module.symvers) or by
another of our modules.

Skips when the cross compiler is not installed; fails when it is and the
modules are missing (`make` builds them).

Prints PASS:/FAIL:/SKIP: lines like the C tests; exits 1 on a failure.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from suite import Suite  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SUITE = "host/ppc64el_modules"
CROSS_CC = "powerpc64le-linux-gnu-gcc"


suite = Suite(SUITE)
report = suite.report


def run(*cmd):
    return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def expected_modules():
    """Relative paths of the .ko files kernel/'s Kbuild files ask for."""
    mods = set()
    for kbuild in (ROOT / "kernel").rglob("Kbuild"):
        sub = kbuild.parent.relative_to(ROOT / "kernel")
        for line in kbuild.read_text().splitlines():
            m = re.match(r"\s*obj-m\s*[:+]?=\s*(.*)", line)
            if m:
                for obj in m.group(1).split():
                    mods.add(str(sub / obj.replace(".o", ".ko")))
    return sorted(mods)


def symvers_names(path):
    return {line.split("\t")[1] for line in path.read_text().splitlines() if line}


def elf_symbols(ko):
    """(undefined names, names exported through __ksymtab_*, functions
    defined) of a module."""
    undef, exported, funcs = set(), set(), set()
    # Num: Value Size Type Bind Vis [<localentry>: 8] Ndx Name (the
    # bracket only on ELFv2 functions with a local entry point)
    sym = re.compile(r"^\s*\d+:\s+\S+\s+\d+\s+(\w+)\s+\w+\s+\w+\s+(?:\[[^]]*\]\s+)?(\w+)\s+(\S+)$")
    for line in run("readelf", "-s", "-W", str(ko)).splitlines():
        m = sym.match(line)
        if not m:
            continue
        kind, ndx, name = m.groups()
        if ndx == "UND":
            undef.add(name)
        elif name.startswith("__ksymtab_"):
            exported.add(name[len("__ksymtab_"):])
        elif kind == "FUNC":
            funcs.add(name)
    return undef, exported, funcs


def split_btf(ko, base):
    """(kind, name) of each type of a module's split BTF read on base."""
    try:
        out = run("bpftool", "btf", "dump", "file", str(ko), "-B", str(base), "format", "raw")
    except subprocess.CalledProcessError as e:
        print("  bpftool: %s" % e.stderr.strip())
        return []
    return re.findall(r"^\[\d+\] (\w+) '([^']*)'", out, flags=re.M)


def main():
    if shutil.which(CROSS_CC) is None:
        print("SKIP: %s (no %s: make deps installs gcc-powerpc64le-linux-gnu)" % (SUITE, CROSS_CC))
        return 0
    kver = os.environ.get("KVER") or run(str(ROOT / "scripts" / "kver.sh")).strip()
    if not kver.endswith("-amd64"):
        report("kernel", False, "KVER=%r is not a *-amd64 kernel" % kver)
        return 1
    abi = kver[: -len("-amd64")]
    pver = abi + "-powerpc64le"
    kout = ROOT / os.environ.get("O", "build") / "kernel" / pver
    moddir = kout / "modules"

    want = expected_modules()
    missing = [m for m in want if not (moddir / m).is_file()]
    report("built", bool(want) and not missing,
           "%s missing in %s (make modules-ppc64el)" % (" ".join(missing) or "all", moddir))
    kos = [moddir / m for m in want if m not in missing]
    if not kos:
        return 1

    # Debian's own modules of that kernel carry this vermagic (seen on the
    # in-tree vfio.ko of linux-image-6.1.0-57-powerpc64le).
    vermagic = "%s SMP mod_unload modversions mprofile-kernel relocatable" % pver
    base = kout / "vmlinux.btf"
    base_types = run("bpftool", "btf", "dump", "file", str(base), "format", "raw")
    # paca_struct exists only on powerpc: the base BTF is POWER's.
    report("base BTF is the ppc64el kernel's", "STRUCT 'paca_struct'" in base_types,
           "%s has no struct paca_struct" % base)

    symvers = symvers_names(kout / "kdir" / "Module.symvers")
    syms = {ko: elf_symbols(ko) for ko in kos}
    ours = set().union(*(exp for _, exp, _ in syms.values()))
    report("kernel symbols", len(symvers) > 10000 and "_mcount" in symvers,
           "%d symbols in the headers' Module.symvers, _mcount %s" %
           (len(symvers), "in" if "_mcount" in symvers else "missing"))

    for ko in kos:
        name = ko.name
        hdr = run("readelf", "-h", str(ko))
        ok = (re.search(r"Class:\s+ELF64\b", hdr) and
              re.search(r"Data:\s+2's complement, little endian", hdr) and
              re.search(r"Machine:\s+PowerPC64\b", hdr) and
              re.search(r"Flags:\s+0x2, abiv2", hdr))
        report("%s is ELF64 PowerPC64 little-endian ELFv2" % name, bool(ok),
               " / ".join(l.strip() for l in hdr.splitlines()
                          if re.search(r"Class|Data|Machine|Flags", l)))

        got = run("modinfo", "-F", "vermagic", str(ko)).strip()
        report("%s vermagic" % name, got == vermagic, "got %r, want %r" % (got, vermagic))

        btf = [l.split() for l in run("readelf", "-S", "-W", str(ko)).splitlines()
               if re.search(r"\] \.BTF\s", l)]
        size = int(btf[0][btf[0].index(".BTF") + 4], 16) if btf else 0
        # Split BTF names its types by offsets past the base's strings:
        # read on another base (amd64's, say) the names come out invalid or
        # wrong.  On the right one each FUNC names a function of the module.
        undef, _, funcs = syms[ko]
        types = split_btf(ko, base)
        btf_funcs = {n for k, n in types if k == "FUNC"}
        bad = sorted(n for _, n in types if n == "(invalid)") + sorted(btf_funcs - funcs)
        report("%s has module BTF on the ppc64el base" % name,
               size > 0 and btf_funcs and not bad,
               ".BTF %d bytes, %d types, %d FUNC, not the module's: %s" %
               (size, len(types), len(btf_funcs), " ".join(bad[:5])))

        # .TOC. is the ELFv2 TOC base: the module loader fills it in itself
        # (modpost ignores it too), no kernel exports it.
        unresolved = sorted(undef - symvers - ours - {".TOC."})
        report("%s undefined symbols resolve" % name, not unresolved,
               "%d of %d not exported by the kernel or our modules: %s" %
               (len(unresolved), len(undef), " ".join(unresolved[:10])))
    return suite.status()


if __name__ == "__main__":
    sys.exit(main())
