#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Runs inside the VM: each named guest test with a timeout, then a dmesg
# check, printing one "@@ result NAME STATUS [reason]" line per test.
#   guest-run.sh STACK TEST...
# Under bash in the amd64 guest, under busybox sh in the POWER guest
# (VFIOSCOPE_SHELL=sh, MODDIR set by tests/vm/run): keep it POSIX.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
export VFIOSCOPE_ROOT=$root
export VFIOSCOPE_BUILD=$root/${O:-build}
export VFIOSCOPE_STACK=$1
shift
export KVER=${KVER:-$(uname -r)}
export MODDIR=${MODDIR:-$VFIOSCOPE_BUILD/kernel/$KVER/modules}
export PATH=$VFIOSCOPE_BUILD/tools:$VFIOSCOPE_BUILD/tests:$PATH

# Kernel lines that make any test fail, whatever its exit status.
kernel_complaints='WARNING:|BUG:|Oops|general protection fault|scheduling while atomic|blocked for more than|UBSAN:|KASAN:|refcount_t:|list_(add|del) corruption'

header() { sed -n "s/^# $1: *//p" "$2" | head -n 1; }

failed=0
for t in "$@"; do
	script=$root/tests/vm/guest/$t.sh
	echo "@@ begin $t@$VFIOSCOPE_STACK"
	if [ ! -f "$script" ]; then
		echo "@@ result $t FAIL no such test"
		failed=1
		continue
	fi
	limit=$(header vm-timeout "$script")
	dmesg -c >/dev/null
	export VFIOSCOPE_SKIP_NOTE=/tmp/skip-note
	rm -f "$VFIOSCOPE_SKIP_NOTE"
	start=$(date +%s)
	(cd /tmp && timeout -k 10 "${limit:-120}" "${VFIOSCOPE_SHELL:-bash}" "$script")
	rc=$?
	secs=$(($(date +%s) - start))
	complaint=$(dmesg | grep -E "$kernel_complaints" | head -n 3)
	if [ -n "$complaint" ]; then
		dmesg | tail -n 60
		echo "@@ result $t FAIL kernel complained: $(echo "$complaint" | head -n 1)"
		failed=1
	elif [ $rc -eq 0 ]; then
		echo "@@ result $t PASS ${secs}s"
	elif [ $rc -eq 77 ]; then
		echo "@@ result $t SKIP $(cat "$VFIOSCOPE_SKIP_NOTE" 2>/dev/null)"
	elif [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		echo "@@ result $t FAIL timed out after ${limit:-120}s"
		failed=1
	else
		dmesg | tail -n 30
		echo "@@ result $t FAIL exit status $rc"
		failed=1
	fi
done
exit $failed
