#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make fuzz`: boot the VM once and fuzz our stack with vfio_fuzz for
# FUZZ_OPS operations (default 2,000,000; at least 1,000,000 is the bar),
# in FUZZ_PROCS processes of FUZZ_THREADS threads, from FUZZ_SEED (default:
# a fresh one, printed, so a failure replays with FUZZ_SEED=...).  The
# frame is tests/vm/guest/fuzz-short.sh's (lib.sh fuzz_run), the kernel
# checks guest-run.sh's: no oops/WARN/BUG/hung task/"scheduling while
# atomic" in dmesg.  Prints "PASS: vm/fuzz@ours" or "FAIL: ...".
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export O=${O:-build}
export KVER=${KVER:-$("$root/scripts/kver.sh")}
ops=${FUZZ_OPS:-2000000}
threads=${FUZZ_THREADS:-3}
procs=${FUZZ_PROCS:-2}
seed=${FUZZ_SEED:-0x$(od -An -N8 -tx8 /dev/urandom | tr -d ' ')}
limit=${FUZZ_TIMEOUT:-1800}

logs=$root/$O/vm/logs/fuzz-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$logs"
job=$logs/job.sh
cat >"$job" <<JOB
#!/bin/bash
export VFIOSCOPE_ROOT=$root VFIOSCOPE_BUILD=$root/$O VFIOSCOPE_STACK=ours
export KVER=\$(uname -r)
export MODDIR=\$VFIOSCOPE_BUILD/kernel/\$KVER/modules
export PATH=\$VFIOSCOPE_BUILD/tools:\$VFIOSCOPE_BUILD/tests:\$PATH
dmesg -C
cd /tmp
timeout -k 10 $limit bash -c '. $root/tests/vm/lib.sh; fuzz_run $seed $ops $threads $procs' 2>&1 | tee /dev/ttyS1
rc=\${PIPESTATUS[0]}
# The same kernel complaints as tests/vm/guest-run.sh.
bad=\$(dmesg | grep -E 'WARNING:|BUG:|Oops|general protection fault|scheduling while atomic|blocked for more than|UBSAN:|KASAN:|refcount_t:|list_(add|del) corruption' | head -n 3)
if [ -n "\$bad" ]; then
	dmesg | tail -n 60 | tee /dev/ttyS1
	echo "@@ fuzz FAIL kernel complained: \$(echo "\$bad" | head -n 1)" | tee /dev/ttyS1
	exit 1
fi
[ \$rc -eq 0 ] && echo "@@ fuzz PASS" | tee /dev/ttyS1 || echo "@@ fuzz FAIL status \$rc" | tee /dev/ttyS1
exit \$rc
JOB
echo "# fuzz: $ops ops, $procs x $threads, seed $seed; logs in $logs" >&2
rc=0
"$root/tests/vm/boot.sh" --timeout $((limit + 120)) --log "$logs/ours.log" --out "$logs/ours.out" "$job" || rc=$?
grep -a '^#\|^FAIL' "$logs/ours.out" || true
if [ $rc -eq 0 ] && grep -aq '^@@ fuzz PASS' "$logs/ours.out"; then
	echo "PASS: vm/fuzz@ours (seed $seed, $ops ops)"
else
	echo "FAIL: vm/fuzz@ours (seed $seed, $ops ops, status $rc; replay: FUZZ_SEED=$seed FUZZ_OPS=$ops make fuzz)"
	tail -n 25 "$logs/ours.log" | tr -d '\033' | sed 's/^/    | /'
	exit 1
fi
