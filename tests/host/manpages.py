#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""The man pages (man/TOOL.8) against the tools' own --help, for each tool:

  - options: every option --help names (its option list, -h included,
    and the USAGE lines of its text) is a .TP tag of the page's
    OPTIONS section, as roff \\-x or \\-\\-name; argp's own --usage and -?
    may be left out.  And every option the page names (the OPTIONS tags,
    the long options in that section's text, the SYNOPSIS, and the tool's
    own command lines under EXAMPLES) is one --help knows: a removed or
    renamed flag fails here;
  - groff: the page formats with every groff warning on (-ww), for the
    terminal and for print, and through man --warnings as lintian runs it
    (when man-db is installed), and none prints a thing on stderr.  Without
    -z: troff says "cannot adjust line" only when it writes its output;
  - name: the NAME line is "TOOL \\- DESCRIPTION", DESCRIPTION being the
    first line of --help's text (its first letter in lower case, without
    the full stop);
  - version: .TH names "vfioscope VERSION", VERSION being the top-level
    VERSION file's; a --version that prints a version number prints that one;
  - attach: the page's --attach entry names every mode the tool takes (the
    ones its refusal of a bad mode lists), auto included;
  - exit status: the page's EXIT STATUS tags are the statuses the "Exit
    status:" paragraph of --help names, 0, 1 and 64.

The tools are $O/tools/TOOL (O defaults to build): a tool not built fails
the checks that need its --help, never skipped.

Prints PASS:/FAIL: lines like the C tests; exits 1 on a failure.
"""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / os.environ.get("O", "build") / "tools"
MAN = ROOT / "man"
SUITE = "host/manpages"
NAMES = ["vfio-top", "vfio-leak", "vfio-lat", "vfio-exporter"]
# argp's own: a page may leave them out.
ARGP_OWN = {"--usage", "-?"}

LONG = re.compile(r"--[A-Za-z0-9][A-Za-z0-9_-]*")
SHORT = re.compile(r"(?<![\w-])-([A-Za-z0-9?]+)(?![\w-])")
# An argp option line: "  -b, --batch", "  -x ARG", "      --attach=MODE".
HELP_OPT = re.compile(r"^  (-[^\s-])(?:, (--[A-Za-z0-9][\w-]*))?"
                      r"|^ {6}(--[A-Za-z0-9][\w-]*)")


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, **kw)


def split_options(text, clusters=False):
    """The options text names: --long, and -x (with clusters, -bjTv too)."""
    found = set(LONG.findall(text))
    for m in SHORT.finditer(text):
        letters = m.group(1)
        if len(letters) == 1:
            found.add("-" + letters)
        elif clusters:
            found.update("-" + c for c in letters)
    return found


def help_facts(path):
    """(options, first description line) of the tool's --help."""
    r = run([str(path), "--help"])
    if r.returncode != 0:
        raise RuntimeError("--help exited %d" % r.returncode)
    lines = r.stdout.splitlines()
    opts = set()
    for line in lines:
        m = HELP_OPT.match(line)
        if m:
            opts.update(o for o in m.groups() if o)
    # The USAGE lines of the text: "USAGE: vfio-top [-h] [-p PID] ..." and
    # their continuations, up to the blank line.
    for i, line in enumerate(lines):
        if line.startswith("USAGE:"):
            block = [line]
            for more in lines[i + 1:]:
                if not more.strip():
                    break
                block.append(more)
            for group in re.findall(r"\[([^\]]*)\]", " ".join(block)):
                for alt in group.split("|"):
                    word = alt.split()[0] if alt.split() else ""
                    if word.startswith("-"):
                        opts.update(split_options(word, clusters=True))
            break
    desc = ""
    for line in lines[1:]:
        if line.strip():
            desc = line.strip()
            break
    if not opts:
        raise RuntimeError("no option found in --help")
    return opts, desc


def plain(roff):
    """A roff line as text: escapes resolved, fonts dropped, macro gone."""
    s = roff
    if s.startswith("."):
        parts = s.split(None, 1)
        s = parts[1] if len(parts) > 1 else ""
        s = s.replace('"', "")
    s = re.sub(r"\\f(\[[^\]]*\]|\(..|.)", "", s)
    for esc, ch in (("\\-", "-"), ("\\(aq", "'"), ("\\(dq", '"'),
                    ("\\(lq", '"'), ("\\(rq", '"'), ("\\(ha", "^"),
                    ("\\(bu", "*"), ("\\~", " "), ("\\ ", " "), ("\\&", ""),
                    ("\\%", ""), ("\\e", "\\")):
        s = s.replace(esc, ch)
    return s


def sections(page):
    """{SECTION: [roff lines]} of a page, comments left out."""
    out, cur = {}, None
    for line in page.splitlines():
        if line.startswith('.\\"'):
            continue
        if line.startswith(".SH"):
            cur = line[3:].strip().strip('"')
            out[cur] = []
        elif cur:
            out[cur].append(line)
    return out


def page_facts(page):
    """(.TH fields, NAME text, OPTIONS tags' options, other options named)."""
    th = []
    for line in page.splitlines():
        if line.startswith(".TH "):
            th = re.findall(r'"([^"]*)"|(\S+)', line[4:])
            th = [a or b for a, b in th]
            break
    secs = sections(page)
    name = " ".join(plain(l) for l in secs.get("NAME", []) if l.strip())
    tags, named = set(), set()
    opts = secs.get("OPTIONS", [])
    for i, line in enumerate(opts):
        if line.startswith(".TP") and i + 1 < len(opts):
            tags |= split_options(plain(opts[i + 1]))
        named |= set(LONG.findall(plain(line)))
    for line in secs.get("SYNOPSIS", []):
        named |= split_options(plain(line), clusters=True)
    return th, name, tags, named, secs


def example_options(secs, tool):
    """The options of the tool's own command lines under EXAMPLES."""
    found = set()
    for line in secs.get("EXAMPLES", []):
        text = plain(line)
        if text.split()[:1] == [tool]:
            found |= split_options(text.split("#")[0])
    return found


def option_entry(secs, option):
    """The text of the OPTIONS entry whose tag names option, as one line."""
    opts = secs.get("OPTIONS", [])
    for i, line in enumerate(opts):
        if line.startswith(".TP") and i + 1 < len(opts) and \
                option in split_options(plain(opts[i + 1])):
            body = []
            for more in opts[i + 2:]:
                if more.startswith((".TP", ".SH", ".SS")):
                    break
                body.append(plain(more))
            return " ".join(" ".join(body).split())
    return None


def help_exit_statuses(path):
    """The numbers of --help's "Exit status:" paragraph."""
    text = run([str(path), "--help"]).stdout
    m = re.search(r"^Exit status:(.*?)(?:\n\s*\n|\Z)", text, re.M | re.S)
    return set(re.findall(r"\b\d+\b", m.group(1))) if m else set()


def page_exit_statuses(secs):
    """The .TP tags of the page's EXIT STATUS section."""
    lines = secs.get("EXIT STATUS", [])
    return {plain(lines[i + 1]).strip() for i, line in enumerate(lines)
            if line.startswith(".TP") and i + 1 < len(lines)}


def attach_modes(path):
    """The --attach values the tool takes, as its refusal lists them."""
    r = run([str(path), "--attach", "kprobe"])
    m = re.search(r"unknown attach mode: kprobe \(([^)]*)\)", r.stderr)
    return [w.strip() for w in m.group(1).split(",")] if m else []


def groff_warnings(path):
    """What groff (and man, when there) says on stderr about the page."""
    said = []
    # No -z: "cannot adjust line" comes only as output is written.
    for dev in (["-Tutf8"], []):
        r = run(["groff", "-man", "-ww", "-t"] + dev + [str(path)])
        said += r.stderr.splitlines()
        if r.returncode:
            said.append("groff %s exited %d" % (" ".join(dev), r.returncode))
    if shutil.which("man"):
        env = dict(os.environ, LC_ALL="C.UTF-8", MANROFFSEQ="", MANWIDTH="80")
        r = run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z",
                 str(path)], env=env)
        said += r.stderr.splitlines()
    return said


def main():
    failed = 0

    def report(tool, check, why):
        nonlocal failed
        name = "%s/%s %s" % (SUITE, tool, check)
        if why:
            print("FAIL: %s (%s)" % (name, why))
            failed += 1
        else:
            print("PASS: %s" % name)

    version = None
    vfile = ROOT / "VERSION"
    if vfile.exists():
        version = vfile.read_text().strip()
    have_groff = shutil.which("groff") is not None

    for tool in NAMES:
        binary = TOOLS / tool
        mpage = MAN / (tool + ".8")
        if not mpage.exists():
            for check in ("options", "groff", "name", "version"):
                report(tool, check, "%s missing" % mpage)
            continue
        page = mpage.read_text()
        th, name, tags, named, secs = page_facts(page)
        named |= example_options(secs, tool)

        helped = desc = None
        why_help = None
        if not binary.exists():
            why_help = "%s not built" % binary
        else:
            try:
                helped, desc = help_facts(binary)
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                why_help = "%s: %s" % (binary, e)

        # options
        if why_help:
            report(tool, "options", why_help)
        else:
            missing = sorted(helped - tags - ARGP_OWN)
            unknown = sorted((tags | named) - helped)
            why = []
            if missing:
                why.append("not in the page's OPTIONS: " + " ".join(missing))
            if unknown:
                why.append("not in --help: " + " ".join(unknown))
            report(tool, "options", "; ".join(why))

        # groff
        if not have_groff:
            report(tool, "groff", "groff not installed")
        else:
            said = groff_warnings(mpage)
            report(tool, "groff", "; ".join(said[:5]) if said else "")

        # name
        if why_help:
            report(tool, "name", why_help)
        else:
            want = desc.rstrip(".")
            want = want[:1].lower() + want[1:]
            got = " ".join(name.split())
            if not got.startswith(tool + " - "):
                report(tool, "name", "NAME is %r, not %r" % (got, tool + " - ..."))
            elif got[len(tool) + 3:] != want:
                report(tool, "name", "NAME says %r, --help %r"
                       % (got[len(tool) + 3:], desc))
            else:
                report(tool, "name", "")

        # version
        why = ""
        if len(th) < 4 or not th[0].upper().replace("\\-", "-") == tool.upper():
            why = ".TH is %r" % (th,)
        elif version is not None and th[3] != "vfioscope " + version:
            why = ".TH source %r, VERSION says %s" % (th[3], version)
        elif version is not None and binary.exists():
            r = run([str(binary), "--version"])
            m = re.search(r"\b\d+\.\d+(?:\.\d+)*\b", r.stdout)
            if r.returncode != 0:
                why = "--version exited %d" % r.returncode
            elif m and m.group(0) != version:
                why = "--version prints %s, VERSION says %s" % (m.group(0), version)
        report(tool, "version", why)

        # attach
        if not binary.exists():
            report(tool, "attach", "%s not built" % binary)
        else:
            modes = attach_modes(binary)
            entry = option_entry(secs, "--attach")
            if not modes:
                why = "--attach kprobe lists no mode"
            elif entry is None:
                why = "no --attach entry in OPTIONS"
            else:
                why = "; ".join("the --attach entry does not name %s" % m for m in modes
                                if not re.search(r"\b%s\b" % m, entry))
            report(tool, "attach", why)

        # exit status
        if not binary.exists():
            report(tool, "exit status", "%s not built" % binary)
        else:
            helped_st = help_exit_statuses(binary)
            paged_st = page_exit_statuses(secs)
            why = ""
            if helped_st != {"0", "1", "64"}:
                why = "--help's Exit status names %s" % sorted(helped_st)
            elif paged_st != helped_st:
                why = "EXIT STATUS tags %s, --help %s" % (sorted(paged_st), sorted(helped_st))
            report(tool, "exit status", why)

    if not TOOLS.is_dir():
        print("FAIL: %s (%s does not exist: build the tools first)" % (SUITE, TOOLS))
        failed += 1
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
