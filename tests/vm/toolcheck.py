# SPDX-License-Identifier: GPL-2.0
"""Ground truth checks for the tools' guest tests (tests/vm/guest/tools-*.sh).

Each check prints what it read and keeps every mismatch, so one run shows
all that is wrong; done() exits non-zero with them.  The tests reach this
file through PYTHONPATH (tests/vm/tools-lib.sh sets $PY so).
"""
import sys


class Checks:
    def __init__(self):
        self.bad = []

    def check(self, what, got, want, quiet=False):
        """got must equal want; quiet prints only a mismatch."""
        if not quiet or got != want:
            print("# %s: %s" % (what, got))
        if got != want:
            self.bad.append("%s: got %r, want %r" % (what, got, want))

    def done(self):
        if self.bad:
            sys.exit("\n".join(self.bad))
