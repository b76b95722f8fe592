#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""What an operator installs (docs/packaging.md), checked on the host:

 - one version: VERSION, debian/changelog, the tools' --version and the
   DKMS package say the same (the man pages' .TH: tests/host/manpages.py);
 - `make install DESTDIR=... PREFIX=/usr/local` writes exactly the files
   listed here, the unit pointing at the installed exporter;
 - `make install-dkms` writes the modules' sources without the test
   bench's, and dkms.conf names every module Kbuild builds there, each in
   its folder;
 - the packages `make deb` built ($O/deb) hold what debian/*.install says,
   the tools linked against Debian's shared libbpf, and lintian reports
   no error and no warning;
 - the unit's exposure level from `systemd-analyze security --offline`
   is the one docs/packaging.md gives.

The guest test tests/vm/guest/packages.sh installs the same packages.
Prints PASS:/FAIL: lines like the C tests; exits 1 on a failure.
"""
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
O = os.environ.get("O", "build")
SUITE = "host/packaging"
TOOLS = ["vfio-exporter", "vfio-lat", "vfio-leak", "vfio-top"]
failures = 0


def check(name, ok, why=""):
    global failures
    if ok:
        print("PASS: %s %s" % (SUITE, name))
    else:
        failures += 1
        print("FAIL: %s %s%s" % (SUITE, name, ": " + why if why else ""))


def run(*cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, **kw)


def files_under(d):
    return sorted(str(p.relative_to(d)) for p in Path(d).rglob("*")
                  if p.is_file() or p.is_symlink())


def version_checks(version):
    top = (ROOT / "debian/changelog").read_text().splitlines()[0]
    m = re.match(r"vfioscope \(([^)]+)\)", top)
    check("debian/changelog version", m and m.group(1) == version,
          "changelog %s, VERSION %s" % (m and m.group(1), version))
    for t in TOOLS:
        out = run(str(ROOT / O / "tools" / t), "--version").stdout.strip()
        check("%s --version" % t, out == "%s (vfioscope) %s" % (t, version), repr(out))


def install_checks(version, tmp):
    dest = Path(tmp) / "install"
    r = run("make", "-s", "O=" + O, "install", "DESTDIR=" + str(dest), "PREFIX=/usr/local")
    check("make install", r.returncode == 0, r.stderr.strip()[-400:])
    want = ["etc/default/vfio-exporter",
            "usr/local/lib/systemd/system/vfio-exporter.service",
            "usr/local/lib/sysusers.d/vfioscope-exporter.conf"]
    want += ["usr/local/sbin/" + t for t in TOOLS]
    want += ["usr/local/share/man/man8/%s.8" % t for t in TOOLS]
    want += ["usr/local/share/vfioscope/grafana/" + p.name
             for p in (ROOT / "dashboards/grafana").glob("*.json")]
    want += ["usr/local/share/vfioscope/prometheus/" + n for n in
             ("prometheus.yml", "vfioscope-rules.yml", "vfioscope-rules.test.yml")]
    want += ["usr/local/share/vfioscope/perf/" + n for n in
             ("vfio-plot", "vfio-record", "vfio-report", "vfio_perf.py")]
    got = files_under(dest) if dest.exists() else []
    check("make install writes exactly its files", got == sorted(want),
          "missing %s, extra %s" % (sorted(set(want) - set(got)), sorted(set(got) - set(want))))
    unit = dest / "usr/local/lib/systemd/system/vfio-exporter.service"
    text = unit.read_text() if unit.exists() else ""
    check("the installed unit runs the installed exporter",
          "\nExecStart=/usr/local/sbin/vfio-exporter $VFIO_EXPORTER_OPTS\n" in text
          and "\nEnvironmentFile=-/etc/default/vfio-exporter\n" in text
          and not re.search(r"@[A-Z]+@", text),
          "ExecStart/EnvironmentFile not substituted")
    for t in TOOLS:
        mode = (dest / "usr/local/sbin" / t).stat().st_mode & 0o777 if (dest / "usr/local/sbin" / t).exists() else 0
        check("%s installed 0755" % t, mode == 0o755, oct(mode))
    sec = run("systemd-analyze", "security", "--offline=true", str(unit))
    m = re.search(r"Overall exposure level for vfio-exporter.service: ([0-9.]+)", sec.stdout)
    level = m.group(1) if m else None
    doc = (ROOT / "docs/packaging.md").read_text()
    d = re.search(r"exposure level\s+\*\*([0-9.]+)\*\*", doc)
    check("systemd-analyze security: the level docs/packaging.md gives",
          level and d and level == d.group(1),
          "systemd-analyze says %s, docs/packaging.md %s" % (level, d and d.group(1)))


def kbuild_modules(tree):
    """{module name: folder} of the obj-m lines of tree's Kbuild files."""
    mods = {}
    for kb in Path(tree).rglob("Kbuild"):
        rel = kb.parent.relative_to(tree)
        text = kb.read_text()
        # the POWER-only backend sits in an ifdef: DKMS builds for amd64
        text = re.sub(r"ifdef CONFIG_SPAPR_TCE_IOMMU.*?endif", "", text, flags=re.S)
        for m in re.finditer(r"^obj-m \+= (\S+)\.o$", text, re.M):
            mods[m.group(1)] = "" if str(rel) == "." else str(rel) + "/"
    return mods


def dkms_checks(version, tmp):
    dest = Path(tmp) / "dkms"
    r = run("make", "-s", "O=" + O, "install-dkms", "DESTDIR=" + str(dest))
    check("make install-dkms", r.returncode == 0, r.stderr.strip()[-400:])
    src = dest / ("usr/src/vfioscope-" + version)
    conf = (src / "dkms.conf").read_text() if (src / "dkms.conf").exists() else ""
    check("dkms.conf's version", 'PACKAGE_VERSION="%s"' % version in conf)
    check("no test module in the DKMS source", not (src / "testing").exists())
    check("build.sh executable", os.access(src / "build.sh", os.X_OK))
    names = dict(re.findall(r'^BUILT_MODULE_NAME\[(\d+)\]="([^"]+)"', conf, re.M))
    where = dict(re.findall(r'^BUILT_MODULE_LOCATION\[(\d+)\]="([^"]+)"', conf, re.M))
    listed = {names[i]: where.get(i, "") for i in names}
    built = kbuild_modules(src)
    check("dkms.conf lists every module Kbuild builds, in its folder", listed == built,
          "dkms.conf %s, Kbuild %s" % (listed, built))
    build_checks(src, listed)


def build_checks(src, modules):
    """build.sh as DKMS runs it (in its tree, for a kernel), natively for
    the default 6.1 kernel: the guest test builds through dkms for the
    6.12 one it boots."""
    kver = run("scripts/kver.sh").stdout.strip()
    if not kver:
        check("build.sh", False, "no Debian 6.1 kernel with headers installed (make deps)")
        return
    r = subprocess.run(["nice", "./build.sh", kver], cwd=src, capture_output=True, text=True)
    check("build.sh %s" % kver, r.returncode == 0, (r.stdout + r.stderr).strip()[-600:])
    kos = [src / (where + name + ".ko") for name, where in modules.items()]
    missing = [str(k.relative_to(src)) for k in kos if not k.exists()]
    check("build.sh built every module dkms.conf names", not missing, "missing %s" % missing)
    r = run("scripts/check-btf.sh", str(src))
    check("build.sh's modules carry module BTF", r.returncode == 0 and not missing, r.stderr.strip())
    r = subprocess.run(["./build.sh", "--clean"], cwd=src, capture_output=True, text=True)
    left = [str(p.relative_to(src)) for p in src.rglob("*")
            if p.suffix in (".o", ".ko", ".mod") or p.name.startswith(".kdir")]
    check("build.sh --clean leaves no build output", r.returncode == 0 and not left, str(left[:5]))


def deb_checks(version):
    debs = ROOT / O / "deb"
    pkgs = {"vfioscope-dkms": "all", "vfioscope-tools": "amd64", "vfioscope-exporter": "amd64"}
    paths = {}
    for p, arch in pkgs.items():
        f = debs / ("%s_%s_%s.deb" % (p, version, arch))
        check("%s built" % f.name, f.exists(), "no %s (make deb)" % f)
        paths[p] = f
    if not all(f.exists() for f in paths.values()):
        return
    contents = {p: run("dpkg-deb", "-c", str(f)).stdout for p, f in paths.items()}
    want = {
        "vfioscope-dkms": ["./usr/src/vfioscope-%s/dkms.conf" % version,
                           "./usr/src/vfioscope-%s/build.sh" % version,
                           "./usr/src/vfioscope-%s/pci/vfio_pci_core.c" % version],
        "vfioscope-tools": ["./usr/sbin/vfio-top", "./usr/sbin/vfio-leak", "./usr/sbin/vfio-lat",
                            "./usr/share/man/man8/vfio-top.8.gz",
                            "./usr/share/vfioscope/perf/vfio-report",
                            "./usr/share/vfioscope/grafana/vfioscope.json"],
        "vfioscope-exporter": ["./usr/sbin/vfio-exporter", "./lib/systemd/system/vfio-exporter.service",
                               "./etc/default/vfio-exporter",
                               "./usr/lib/sysusers.d/vfioscope-exporter.conf",
                               "./usr/share/man/man8/vfio-exporter.8.gz"],
    }
    for p, files in want.items():
        missing = [w for w in files if (" " + w + "\n") not in contents[p] and
                   not re.search(re.escape(" " + w) + r"( |$)", contents[p], re.M)]
        check("%s holds its files" % p, not missing, "missing %s" % missing)
    deps = run("dpkg-deb", "-f", str(paths["vfioscope-tools"]), "Depends").stdout
    check("vfioscope-tools depends on Debian's libbpf", "libbpf1" in deps, deps.strip())
    deps = run("dpkg-deb", "-f", str(paths["vfioscope-dkms"]), "Depends").stdout
    check("vfioscope-dkms depends on dkms", re.search(r"\bdkms\b", deps) is not None, deps.strip())
    changes = sorted(debs.glob("vfioscope_%s_*.changes" % version))
    if not changes:
        check("lintian", False, "no .changes in %s" % debs)
        return
    r = run("lintian", "--fail-on", "none", str(changes[-1]))
    bad = [l for l in r.stdout.splitlines() if re.match(r"^[EW]: ", l)]
    check("lintian: no error, no warning", not bad and r.returncode == 0,
          "; ".join(bad[:8]) or r.stderr.strip()[-300:])


def main():
    version = (ROOT / "VERSION").read_text().strip()
    if not (ROOT / O / "tools").is_dir():
        check("tools built", False, "no %s/tools (make)" % O)
        return 1
    version_checks(version)
    with tempfile.TemporaryDirectory() as tmp:
        install_checks(version, tmp)
        dkms_checks(version, tmp)
    deb_checks(version)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
