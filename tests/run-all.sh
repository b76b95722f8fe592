#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Every test of the project: the VM tests, and beside them the Debian
# packages (make deb), host unit tests and host BPF tests (through
# bpf_prog_test_run).  Each runner prints one
# PASS:/FAIL:/SKIP: line per test; this script shows them, and ends with
#   N passed, N failed[, N skipped]
# exiting non-zero on any failure.  VM_TESTS="a b" picks VM tests;
# VM_TESTS=none runs none.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
O=${O:-build}
results=$(mktemp)

# run_suite NAME CMD...: run a test binary or runner, keep its verdict lines.
run_suite() {
	local name=$1 out rc
	shift
	out=$(mktemp)
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	grep -E '^(PASS|FAIL|SKIP): ' "$out" >>"$results"
	if [ "$rc" -ne 0 ] && ! grep -q '^FAIL: ' "$out"; then
		echo "FAIL: $name (exit status $rc)" | tee -a "$results"
	fi
	rm -f "$out"
}

# The VM tests start first and stream; the host suites run meanwhile on the
# other core (the VM's TCG is one thread), their output held back and shown
# when they are done, so the two never interleave line by line.
vm_results=$(mktemp) host_out=$(mktemp) vm_pid=
trap 'rm -f "$results" "$vm_results" "$host_out"; [ -z "$vm_pid" ] || kill "$vm_pid" 2>/dev/null' EXIT
if [ "${VM_TESTS:-}" != none ]; then
	echo "== VM tests (Debian ${VM_KVERS:-$KVER} under TCG; logs in $O/vm/logs/latest)"
	(
		results=$vm_results
		# shellcheck disable=SC2086
		run_suite vm tests/vm/run ${VM_TESTS:-}
	) &
	vm_pid=$!
fi

host_suites() {
# The packages first: tests/host/packaging.py inspects them.
echo "== packages (make deb)"
run_suite host/deb make --no-print-directory O="$O" deb
echo "== host unit tests"
for src in tests/host/*.c; do
	t=$(basename "$src" .c)
	run_suite "host/$t" "$O/tests/$t"
done
for script in tests/host/*.py; do
	run_suite "host/$(basename "$script" .py)" python3 "$script"
done

echo "== host BPF tests"
for src in tests/bpf/*_test.c; do
	t=$(basename "$src" .c)
	if [ "$(id -u)" -ne 0 ]; then
		echo "SKIP: bpf/$t (loading BPF programs needs root)" | tee -a "$results"
		continue
	fi
	run_suite "bpf/$t" "$O/tests/$t"
done
}
# Niced: the VM is the longer path, and TCG needs its core whole.
(
	renice -n 10 -p "$BASHPID" >/dev/null
	host_suites
) >"$host_out" 2>&1
cat "$host_out"
if [ -n "$vm_pid" ]; then
	wait "$vm_pid"
	vm_pid=
	cat "$vm_results" >>"$results"
fi

passed=$(grep -c '^PASS: ' "$results")
failed=$(grep -c '^FAIL: ' "$results")
skipped=$(grep -c '^SKIP: ' "$results")
if [ "$failed" -gt 0 ]; then
	echo
	echo "failed:"
	grep '^FAIL: ' "$results" | sed 's/^FAIL: /  /'
fi
echo
line="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && line="$line, $skipped skipped"
echo "$line"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
