# SPDX-License-Identifier: GPL-2.0
"""A Python test suite's results, as tests/run-all.sh reads every suite's:
one "PASS: SUITE/CASE" or "FAIL: SUITE/CASE (why)" line per case, and
exit status 1 when any case failed.  Not under tests/host/: run-all.sh
runs every script there as a suite."""


class Suite:
    def __init__(self, name):
        self.name = name
        self.failures = 0

    def report(self, case, ok, why=""):
        if ok:
            print("PASS: %s/%s" % (self.name, case))
        else:
            self.failures += 1
            print("FAIL: %s/%s (%s)" % (self.name, case, why))

    def check(self, case, got, want):
        """PASS when got == want; the FAIL line shows both."""
        self.report(case, got == want, "got %r, want %r" % (got, want))

    def status(self):
        return 1 if self.failures else 0
