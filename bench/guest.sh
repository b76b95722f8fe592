#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One round of the benchmarks inside the VM (bench/run.sh boots it):
#   guest.sh ours|intree
# Prints "@@ bench ..." lines (key=value) for bench/run.sh to collect.
#
# intree: Debian's VFIO, the map/unmap workload at every size.
# ours:   our VFIO, the same workload (tracepoints disabled); at the small
#         sizes our three tools attached, then bench/vfio.bt attached, then
#         the build without tracepoints, then disabled again; each tool's
#         start-up and footprint; the pin-only floor at every size.
# Environment (from run.sh's job): VFIOSCOPE_ROOT, VFIOSCOPE_BUILD, KVER.
set -u
stack=$1
export VFIOSCOPE_STACK=$stack
export MODDIR=$VFIOSCOPE_BUILD/kernel/$KVER/modules
export PATH=$VFIOSCOPE_BUILD/tools:$VFIOSCOPE_BUILD/bench:$VFIOSCOPE_BUILD/tests:$PATH
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"
cd /tmp

# name size backing pairs seconds(cap)
SIZES="4k 4K anon 3000 8
64k 64K anon 1500 8
2m-thp 2M thp 300 8
2m-hugetlb 2M hugetlb 300 8
64m 64M anon 30 10
max max anon 6 25"
# The observability variants: where per-call overhead shows.
OBS_SIZES="4k 64k"

# bench NAME VARIANT [extra vfio_bench args]: one workload run, one line out.
bench() {
	local name=$1 variant=$2 spec size backing n secs out
	shift 2
	spec=$(echo "$SIZES" | awk -v n="$name" '$1 == n')
	read -r _ size backing n secs <<<"$spec"
	out=$(vfio_bench -s "$size" -b "$backing" -n "$n" -t "$secs" "$@") ||
		fail "vfio_bench $name ($variant) failed"
	echo "@@ bench stack=$stack variant=$variant name=$name $out"
}

bind_edu() {
	load_stack
	bdf=$(edu_bdf)
	bind_vfio "$bdf"
}
unbind_edu() {
	unbind_vfio "$bdf"
	unload_stack
}

# 2 MiB pages for the hugetlb row (and one to spare).
echo 4 >/proc/sys/vm/nr_hugepages
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 1 ] || fail "no hugetlb pages could be reserved"

if [ "$stack" = intree ]; then
	bind_edu
	for name in $(echo "$SIZES" | awk '{ print $1 }'); do
		bench "$name" default
	done
	unbind_edu
	exit 0
fi

# --- ours, tracepoints disabled: every size ----------------------------------
bind_edu
for name in $(echo "$SIZES" | awk '{ print $1 }'); do
	bench "$name" default
done

# --- tools attached ------------------------------------------------------------
tool_start top vfio-top -b
tool_start lat vfio-lat
tool_start leak vfio-leak
for name in $OBS_SIZES; do
	bench "$name" tools
done
tool_stop top
tool_stop lat
tool_stop leak
grep -q '^lost events: 0$' /tmp/lat.out || fail "vfio-lat lost events: $(grep lost /tmp/lat.out)"

# --- the bpftrace equivalent ---------------------------------------------------
bpftrace "$VFIOSCOPE_ROOT/bench/vfio.bt" >/tmp/bt.out 2>/tmp/bt.err &
btpid=$!
for i in $(seq 600); do
	grep -q 'Ctrl-C to end' /tmp/bt.out 2>/dev/null && break
	kill -0 $btpid 2>/dev/null || { cat /tmp/bt.err; fail "bpftrace exited"; }
	sleep 0.1
done
grep -q 'Ctrl-C to end' /tmp/bt.out || fail "bpftrace did not attach in 60 s"
for name in $OBS_SIZES; do
	bench "$name" bpftrace
done
kill -INT $btpid
wait $btpid
grep -q '^@lat_map_total:' /tmp/bt.out || fail "bpftrace printed no map histogram"

unbind_edu

# --- the build without tracepoints (its own modules), then ours again --------
# Between the two disabled runs, so the baseline brackets it.
MODDIR=$VFIOSCOPE_BUILD/kernel/$KVER/modules-notrace
[ -f "$MODDIR/vfio.ko" ] || fail "$MODDIR/vfio.ko missing (make modules-notrace)"
bind_edu
[ ! -d /sys/kernel/tracing/events/vfio ] || fail "the NOTRACE build has vfio events"
for name in $OBS_SIZES; do
	bench "$name" notrace
done
unbind_edu
MODDIR=$VFIOSCOPE_BUILD/kernel/$KVER/modules

# --- again disabled: the other end of the bracket, and the noise --------------
bind_edu
for name in $OBS_SIZES; do
	bench "$name" default2
done

# --- tool start-up and footprint -----------------------------------------------
# exec -> attached (the "... Ctrl-C to end" line), VmHWM once attached, and
# the BPF maps that appeared meanwhile (bpftool's bytes_memlock).  bpftrace
# runs the same way for comparison; its line comes on stdout.
$PY - "$VFIOSCOPE_ROOT/bench/vfio.bt" <<-'PYEOF' || fail "tool start-up measurement failed"
import json, os, signal, subprocess, sys, time

def maps():
    out = subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True).stdout
    return {m["id"]: m.get("bytes_memlock", 0) for m in json.loads(out or "[]")}

def measure(name, cmd, stream):
    before = maps()
    t0 = time.monotonic_ns()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE if stream == "stdout" else subprocess.DEVNULL,
                         stderr=subprocess.PIPE if stream == "stderr" else subprocess.DEVNULL, text=True)
    f = p.stdout if stream == "stdout" else p.stderr
    for line in f:
        if "Ctrl-C to end" in line:
            break
    else:
        sys.exit("%s exited before attaching" % name)
    t1 = time.monotonic_ns()
    time.sleep(1.5)  # a report or two: the footprint of a running tool
    hwm = 0
    for l in open("/proc/%d/status" % p.pid):
        if l.startswith("VmHWM:"):
            hwm = int(l.split()[1])
    after = maps()
    mem = sum(v for k, v in after.items() if k not in before)
    p.send_signal(signal.SIGINT)
    try:
        p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        sys.exit("%s did not end on Ctrl-C" % name)
    print("@@ bench stack=ours variant=startup name=%s attach_ns=%d vmhwm_kb=%d maps=%d map_memlock=%d"
          % (name, t1 - t0, hwm, len([k for k in after if k not in before]), mem), flush=True)

measure("vfio-top", ["vfio-top", "-b"], "stderr")
measure("vfio-lat", ["vfio-lat"], "stderr")
measure("vfio-leak", ["vfio-leak"], "stderr")
measure("bpftrace", ["bpftrace", sys.argv[1]], "stdout")
PYEOF
unbind_edu

# --- the floor: pin only, the same sizes ----------------------------------------
insmod "$MODDIR/testing/vfio_pin_bench.ko" || fail "insmod vfio_pin_bench.ko failed"
for name in $(echo "$SIZES" | awk '{ print $1 }'); do
	bench "$name" pin --pin
done
rmmod vfio_pin_bench || fail "rmmod vfio_pin_bench failed"
exit 0
