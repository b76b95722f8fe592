#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make race`: one race of tests/vm/progs/vfio_races, long, on one stack.
#   RACE=test_close_during_ioctl RACE_SECONDS=300 RACE_STACK=ours make race
# RACE_NO_DETACH_UNDER_MAP=1 stops the mapping threads before a group leaves
# the container (6.1 oopses there by itself; see vfio_races.c).
# VM_QEMU_ARGS (boot.sh) can trace the emulated IOMMU while it runs.
# Prints "PASS: vm/race/NAME@STACK" or "FAIL: ..." with the log tail: a
# crash (oops, panic) and a hang (timeout, RCU stall, hung task) are told
# apart in the reason.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export O=${O:-build}
export KVER=${KVER:-$("$root/scripts/kver.sh")}
race=${RACE:-test_close_during_ioctl}
secs=${RACE_SECONDS:-300}
stack=${RACE_STACK:-ours}
nodetach=${RACE_NO_DETACH_UNDER_MAP:-0}

logs=$root/$O/vm/logs/race-$(date +%Y%m%d-%H%M%S)-$$
mkdir -p "$logs"
job=$logs/job.sh
cat >"$job" <<JOB
#!/bin/bash
export VFIOSCOPE_ROOT=$root VFIOSCOPE_BUILD=$root/$O VFIOSCOPE_STACK=$stack
export KVER=\$(uname -r)
export MODDIR=\$VFIOSCOPE_BUILD/kernel/\$KVER/modules
export PATH=\$VFIOSCOPE_BUILD/tools:\$VFIOSCOPE_BUILD/tests:\$PATH
dmesg -C
cd /tmp
timeout -k 10 $((secs * 2 + 120)) bash -c '
	. $root/tests/vm/lib.sh
	load_stack
	bdf=\$(edu_bdf)
	bind_vfio "\$bdf"
	RACE_SECONDS=$secs RACE_NO_DETACH_UNDER_MAP=$nodetach run_prog vfio_races $race || exit 1
	unbind_vfio "\$bdf"
	unload_stack' 2>&1 | tee /dev/ttyS1
rc=\${PIPESTATUS[0]}
bad=\$(dmesg | grep -E 'WARNING:|BUG:|Oops|general protection fault|scheduling while atomic|blocked for more than|rcu_.*stall|UBSAN:|KASAN:|refcount_t:|list_(add|del) corruption' | head -n 3)
if [ -n "\$bad" ]; then
	dmesg | tail -n 80 | tee /dev/ttyS1
	echo "@@ race FAIL kernel complained: \$(echo "\$bad" | head -n 1)" | tee /dev/ttyS1
	exit 1
fi
[ \$rc -eq 0 ] && echo "@@ race PASS" | tee /dev/ttyS1 || echo "@@ race FAIL status \$rc" | tee /dev/ttyS1
exit \$rc
JOB
echo "# race: $race for ${secs}s on $stack; logs in $logs" >&2
rc=0
"$root/tests/vm/boot.sh" --timeout $((secs * 2 + 240)) --log "$logs/$stack.log" --out "$logs/$stack.out" "$job" || rc=$?
grep -a '^#' "$logs/$stack.out" || true
if [ $rc -eq 0 ] && grep -aq '^@@ race PASS' "$logs/$stack.out"; then
	echo "PASS: vm/race/$race@$stack (${secs}s)"
	exit 0
fi
con=$(tr -d '\033' <"$logs/$stack.log")
case $rc in
124) why="hang: the VM stopped answering (timeout)" ;;
125) why="crash: the guest died" ;;
*) why="status $rc" ;;
esac
if grep -qE 'Oops|BUG:|general protection|Kernel panic' <<<"$con"; then
	why="crash: $(grep -m1 -E 'Oops|BUG:|general protection' <<<"$con")"
elif grep -qE 'rcu_.*stall|soft lockup|blocked for more than' <<<"$con"; then
	why="hang: $(grep -m1 -E 'rcu_.*stall|soft lockup|blocked for more than' <<<"$con")"
fi
echo "FAIL: vm/race/$race@$stack ($why)"
tail -n 40 <<<"$con" | sed 's/^/    | /'
exit 1
