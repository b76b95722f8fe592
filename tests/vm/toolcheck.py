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

    def counted(self, what, got, want, lost, per_event=1, quiet=False):
        """A count the tools may fall short of by what they lost: got must
        be want when no event was lost, and otherwise short by at most
        lost * per_event (per_event: the most one lost event can carry,
        e.g. the largest operation's bytes), never over.  A shortfall the
        tool does not show as lost is wrong; so is a missing value (None)."""
        short = None if got is None else want - got
        ok = short == 0 or (short is not None and 0 < short <= lost * per_event)
        if not quiet or not ok:
            note = ""
            if short and short > 0:
                note = ", short by %d (lost events: %d)" % (short, lost)
            elif short:
                note = ", %d too many" % -short
            print("# %s: %s%s" % (what, got, note))
        if not ok:
            self.bad.append("%s: got %r, want %r%s" % (
                what, got, want,
                " (no event lost)" if not lost else
                " or at most %d less (lost events: %d)" % (lost * per_event, lost)))

    def done(self):
        if self.bad:
            sys.exit("\n".join(self.bad))
