#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# One boot of the benchmarks inside the VM (bench/run.sh boots it):
#   guest.sh ours|intree
# Prints "@@ bench ..." lines (key=value) for bench/run.sh to collect.
#
# intree: Debian's VFIO, the map/unmap workload at every size; each tool's
#         start-up (fentry mode).
# ours:   our VFIO, the same workload (tracepoints disabled); then the cost
#         of watching: OBS_ROUNDS rounds, each running every observability
#         variant once, in an order that changes from round to round;
#         each tool's start-up and footprint; the pin-only floor at every
#         size.
# Environment (from run.sh's job): VFIOSCOPE_ROOT, VFIOSCOPE_BUILD, KVER;
#   BENCH_PARTS  what to run: any of "sizes obs startup pin" (default all)
#   OBS_ROUNDS   observability rounds in this boot (default 4)
#   OBS_ROUND0   the number of this boot's first round (default 0): the
#                order of the variants follows it across boots
#   OBS_CALLS    MAP+UNMAP pairs per workload run: "4k:N 64k:N"
#   OBS_REPEAT   workload runs per variant and size (default 2), each its
#                own process with its own buffer, the sizes alternating
set -u
stack=$1
export VFIOSCOPE_STACK=$stack
export MODDIR=$VFIOSCOPE_BUILD/kernel/$KVER/modules
export PATH=$VFIOSCOPE_BUILD/tools:$VFIOSCOPE_BUILD/bench:$VFIOSCOPE_BUILD/tests:$PATH
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"
cd /tmp

BENCH_PARTS=${BENCH_PARTS:-sizes obs startup pin}
OBS_ROUNDS=${OBS_ROUNDS:-4}
OBS_ROUND0=${OBS_ROUND0:-0}
OBS_CALLS=${OBS_CALLS:-4k:20000 64k:8000}
OBS_REPEAT=${OBS_REPEAT:-2}
part() { [[ " $BENCH_PARTS " == *" $1 "* ]]; }

# name size backing pairs seconds(cap)
SIZES="4k 4K anon 3000 8
64k 64K anon 1500 8
2m-thp 2M thp 300 8
2m-hugetlb 2M hugetlb 300 8
64m 64M anon 30 10
max max anon 6 25"

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

# --- tool start-up and footprint -----------------------------------------------
# exec -> attached (the "... Ctrl-C to end" line), VmHWM once attached, and
# the BPF maps that appeared meanwhile (bpftool's bytes_memlock): each tool
# alone, then the front ends again with vfio-exporter running (with a
# collector to read, a front end need not load its own programs).
# bpftrace runs the same way for comparison; its line comes on stdout.
# On Debian's VFIO the tools attach in fentry mode: that start-up adds the
# lookup of vfio.ko's fops and the walk of the open VFIO files
# (tools/lib/intree_ids.c).  vfio-leak and bpftrace (vfio.bt) need our
# tracepoints: not there.
startup_bench() {
$PY - "$VFIOSCOPE_ROOT/bench/vfio.bt" "$stack" <<-'PYEOF' || fail "tool start-up measurement failed ($stack)"
import json, os, shutil, signal, subprocess, sys, time

def maps():
    out = subprocess.run(["bpftool", "-j", "map", "show"], capture_output=True, text=True).stdout
    return {m["id"]: m.get("bytes_memlock", 0) for m in json.loads(out or "[]")}

def start(name, cmd, stream):
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE if stream == "stdout" else subprocess.DEVNULL,
                         stderr=subprocess.PIPE if stream == "stderr" else subprocess.DEVNULL, text=True)
    f = p.stdout if stream == "stdout" else p.stderr
    for line in f:
        if "Ctrl-C to end" in line:
            return p
    sys.exit("%s exited before attaching" % name)

def stop(name, p):
    p.send_signal(signal.SIGINT)
    try:
        p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        sys.exit("%s did not end on Ctrl-C" % name)

def unpin():
    # A collector the tool loaded and pinned (issue 12) would make the next
    # tool's start-up one against a running collector, not alone.
    shutil.rmtree("/sys/fs/bpf/vfioscope", ignore_errors=True)

def measure(variant, name, cmd, stream):
    before = maps()
    t0 = time.monotonic_ns()
    p = start(name, cmd, stream)
    t1 = time.monotonic_ns()
    time.sleep(1.5)  # a report or two: the footprint of a running tool
    hwm = 0
    for l in open("/proc/%d/status" % p.pid):
        if l.startswith("VmHWM:"):
            hwm = int(l.split()[1])
    after = maps()
    mem = sum(v for k, v in after.items() if k not in before)
    stop(name, p)
    if variant == "startup":
        unpin()
    print("@@ bench stack=%s variant=%s name=%s attach_ns=%d vmhwm_kb=%d maps=%d map_memlock=%d"
          % (sys.argv[2], variant, name, t1 - t0, hwm, len([k for k in after if k not in before]),
             mem), flush=True)

ours = sys.argv[2] == "ours"  # vfio-leak and vfio.bt need our tracepoints
fronts = [("vfio-top", ["vfio-top", "-b"]), ("vfio-lat", ["vfio-lat"])]
if ours:
    fronts.append(("vfio-leak", ["vfio-leak"]))
for name, cmd in fronts + [("vfio-exporter", ["vfio-exporter"])]:
    measure("startup", name, cmd, "stderr")
if ours:
    measure("startup", "bpftrace", ["bpftrace", sys.argv[1]], "stdout")
exporter = start("vfio-exporter", ["vfio-exporter"], "stderr")
time.sleep(1)
for name, cmd in fronts:
    measure("startup-exporter", name, cmd, "stderr")
stop("vfio-exporter", exporter)
unpin()
PYEOF
}

if [ "$stack" = intree ]; then
	bind_edu
	if part sizes; then
		for name in $(echo "$SIZES" | awk '{ print $1 }'); do
			bench "$name" default
		done
	fi
	if part startup; then
		startup_bench
	fi
	unbind_edu
	exit 0
fi

# --- ours, tracepoints disabled: every size ----------------------------------
bind_edu
if part sizes; then
	for name in $(echo "$SIZES" | awk '{ print $1 }'); do
		bench "$name" default
	done
fi

# --- the cost of watching: the variants interleaved, in rounds ----------------
# Each round runs every variant once, at 4 KiB and 64 KiB (where a cost per
# event shows): a variant is set up (its tools attached and ready), left
# alone a second, measured (OBS_REPEAT runs per size, the sizes
# alternating), and taken down (its tools stopped and exited, their BPF
# programs gone) before the next one starts.  The buffers are scattered
# (vfio_bench -b scatter): 64 KiB is always 16 physical runs, where
# anonymous memory gives each process its own count, and a 64 KiB map its
# own cost.  vfio_bench --probe times a piece of work (arithmetic and a
# few system calls) before each pair, so that bench/report.py can keep the
# pairs timed while the vCPU ran at full speed (the host's other core
# idle).  The rounds' orders are the rows of a Williams design: over 2 x 7
# rounds (n rounds for an even number n of variants) every variant comes
# first, second, ... as often as the others, and after each other variant
# as often, so neither slow drift nor what a variant leaves behind (a
# module reloaded, memory freed late) favours one.  bench/report.py takes
# each round's ratio to its own `disabled` run.
OBS_VARIANTS=(disabled disabled-again empty exporter tools bpftrace notrace)
MODS_TRACE=$MODDIR
MODS_NOTRACE=$VFIOSCOPE_BUILD/kernel/$KVER/modules-notrace

# obs_order K: the variants of round K, in the order to run them.
obs_order() {
	local k=$1 n=${#OBS_VARIANTS[@]} row=(0) lo=1 hi j i rows=()
	hi=$((n - 1))
	# The first row 0, 1, n-1, 2, n-2, ...; row i adds i to each (mod n);
	# with n odd the mirror images of the n rows make it balanced.
	for ((j = 1; j < n; j++)); do
		if ((j % 2)); then row+=($lo); lo=$((lo + 1)); else row+=($hi); hi=$((hi - 1)); fi
	done
	i=$((k % (2 * n)))
	for ((j = 0; j < n; j++)); do
		rows+=("${OBS_VARIANTS[$(((row[j] + i % n) % n))]}")
	done
	if ((i >= n)); then
		for ((j = n - 1; j >= 0; j--)); do echo "${rows[j]}"; done
	else
		printf '%s\n' "${rows[@]}"
	fi
}

bpf_progs() { bpftool prog show 2>/dev/null | grep -c '^[0-9]*: '; }

# The host's collector is pinned under /sys/fs/bpf/vfioscope/ by the
# exporter that loads it, which unpins it when it ends; pins left behind
# (an exporter that did not end cleanly) are removed too, so that the next
# variant starts without the collector.
collector_unpin() { rm -rf /sys/fs/bpf/vfioscope; }

# Every BPF program a variant loaded is gone from the kernel (a tool's
# exit closes its links; the programs go after an RCU grace period).
obs_quiet() {
	local i
	for i in $(seq 100); do
		[ "$(bpf_progs)" -le "$OBS_PROGS0" ] && return 0
		sleep 0.1
	done
	fail "the BPF programs of a stopped variant are still loaded: $(bpftool prog show)"
}

bt_start() {
	local i
	rm -f /tmp/bt.out /tmp/bt.err
	bpftrace "$VFIOSCOPE_ROOT/bench/vfio.bt" >/tmp/bt.out 2>/tmp/bt.err &
	BT_PID=$!
	for i in $(seq 600); do
		grep -q 'Ctrl-C to end' /tmp/bt.out 2>/dev/null && return 0
		kill -0 $BT_PID 2>/dev/null || { cat /tmp/bt.err; fail "bpftrace exited"; }
		sleep 0.1
	done
	fail "bpftrace did not attach in 60 s"
}
bt_stop() {
	kill -INT $BT_PID
	wait $BT_PID || fail "bpftrace exited with status $?"
	grep -q '^@lat_map_total:' /tmp/bt.out || fail "bpftrace printed no map histogram"
}

# Modules: the variant's own (rmmod and insmod, edu unbound and bound again).
use_modules() {
	[ "$MODDIR" = "$1" ] && return 0
	unbind_edu
	MODDIR=$1
	bind_edu
}

# The CPU time (ms, user + system) the running tools of a variant have used
# so far: what their own work (reading maps, printing, serving) takes from
# the guest's vCPUs, which single-threaded TCG runs on one host thread.
tools_cpu_ms() {
	local v pid pids=${BT_PID:-} sum=0
	for v in ${!TOOL_PID_@}; do
		pids+=" ${!v}"
	done
	for pid in $pids; do
		[ -r "/proc/$pid/stat" ] || continue
		sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$pid/stat")))
	done
	echo $((sum * 1000 / $(getconf CLK_TCK)))
}

obs_setup() {
	case $1 in
	disabled | disabled-again) ;;
	empty)
		# The floor of any watcher: programs that do nothing, attached.
		tool_start empty "$VFIOSCOPE_BUILD/bench/empty_attach" "$VFIOSCOPE_BUILD/bench/empty.bpf.o"
		;;
	exporter)
		# What every host of a fleet pays: the daemon and its collector.
		tool_start exporter vfio-exporter
		;;
	tools)
		# As an operator would: the daemon first, then the front ends.
		tool_start exporter vfio-exporter
		tool_start top vfio-top -b
		tool_start lat vfio-lat
		tool_start leak vfio-leak
		;;
	bpftrace) bt_start ;;
	notrace)
		[ -f "$MODS_NOTRACE/vfio.ko" ] || fail "$MODS_NOTRACE/vfio.ko missing (make modules-notrace)"
		use_modules "$MODS_NOTRACE"
		[ ! -d /sys/kernel/tracing/events/vfio ] || fail "the NOTRACE build has vfio events"
		;;
	*) fail "unknown variant $1" ;;
	esac
}

obs_teardown() {
	case $1 in
	tools)
		tool_stop leak
		tool_stop lat
		tool_stop top
		tool_stop exporter
		grep -q '^lost events: 0$' /tmp/lat.out ||
			fail "vfio-lat lost events: $(grep lost /tmp/lat.out)"
		collector_unpin
		;;
	empty) tool_stop empty ;;
	exporter)
		tool_stop exporter
		collector_unpin
		;;
	bpftrace) bt_stop ;;
	notrace) use_modules "$MODS_TRACE" ;;
	esac
	obs_quiet
}

if part obs; then
	[ -d /sys/kernel/tracing/events/vfio ] || fail "our modules have no vfio events"
	OBS_PROGS0=$(bpf_progs)
	for ((k = OBS_ROUND0; k < OBS_ROUND0 + OBS_ROUNDS; k++)); do
		pos=0
		for v in $(obs_order $k); do
			obs_setup "$v"
			sleep 1
			cpu0=$(tools_cpu_ms) t0=$(date +%s%N)
			for ((rep = 0; rep < OBS_REPEAT; rep++)); do
				for nc in $OBS_CALLS; do
					name=${nc%%:*} n=${nc#*:}
					size=$(echo "$SIZES" | awk -v n="$name" '$1 == n { print $2 }')
					[ -n "$size" ] || fail "OBS_CALLS: unknown size $name"
					out=$(vfio_bench -s "$size" -b scatter -n "$n" -w 200 -t 60 --probe) ||
						fail "vfio_bench $name ($v) failed"
					echo "@@ bench stack=ours variant=$v name=$name obs=$k pos=$pos rep=$rep $out"
				done
			done
			echo "@@ bench stack=ours variant=$v name=cpu obs=$k pos=$pos" \
				"tools_cpu_ms=$(($(tools_cpu_ms) - cpu0)) wall_ms=$((($(date +%s%N) - t0) / 1000000))"
			obs_teardown "$v"
			unset "${!TOOL_PID_@}" BT_PID
			pos=$((pos + 1))
		done
		log "observability round $k done at ${SECONDS}s"
	done
fi

if part startup; then
	startup_bench
fi
unbind_edu

# --- the floor: pin only, the same sizes ----------------------------------------
if part pin; then
	insmod "$MODDIR/testing/vfio_pin_bench.ko" || fail "insmod vfio_pin_bench.ko failed"
	for name in $(echo "$SIZES" | awk '{ print $1 }'); do
		bench "$name" pin --pin
	done
	rmmod vfio_pin_bench || fail "rmmod vfio_pin_bench failed"
fi
exit 0
