#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# POWER (issue 13): our tools, cross-built static for ppc64el from the same
# sources and BPF objects, run in the POWER guest, whose Debian kernel has
# no BTF.  They pick raw_tp on our vfio:* tracepoints by themselves, take
# the BTF to relocate against from --btf (the kernel's, cut down by make to
# what our objects use), and report exactly what happened: here container
# lifecycles a busybox shell can cause (opening /dev/vfio/vfio), then a
# known DMA workload through our SPAPR TCE v1 backend with edu
# (/vfioscope/tests/spapr_workload, under the test-only iommu_ops shim as in
# power-spapr-v1.sh).  Without --btf, vfio-top and vfio-lat say in one
# line what is missing; vfio-leak, whose programs read no kernel type,
# needs none.
# vm-stack: pseries
# vm-timeout: 300
set -u
name=power-tools
. "$VFIOSCOPE_ROOT/tests/vm/power-lib.sh"

case $kver in *-powerpc64le) ;; *) fail "not the ppc64el kernel: $kver" ;; esac
[ -d "$MODDIR" ] || fail "no module folder $MODDIR"
for t in vfio-top vfio-lat vfio-leak; do
	[ -x "$TOOLDIR/$t" ] || fail "no $TOOLDIR/$t in the initramfs (make tools-ppc64el)"
done
[ -r "$TOOLBTF" ] || fail "no $TOOLBTF in the initramfs (make tools-ppc64el)"
[ ! -e /sys/kernel/btf/vmlinux ] || fail "this kernel has BTF: the test is about one without"

# ---- the stack: Debian's modules ours need, then vfio.ko and vfio-pci.ko ----

load_ours vfio.ko vfio_iommu_spapr_tce.ko pci/vfio-pci.ko
trap 'stop_all; [ -z "${dev:-}" ] || unbind_edu; unload_all' EXIT
[ -c /dev/vfio/vfio ] || fail "/dev/vfio/vfio did not appear"

# ---- running the tools ----------------------------------------------------------

pids=""

# start NAME CMD...: CMD in the background, stdout to /tmp/NAME.out, stderr
# to /tmp/NAME.err; returns once it says it is tracing (a program load
# under TCG takes seconds), fails if it exits first.
start() {
	name=$1
	shift
	rm -f "/tmp/$name.out" "/tmp/$name.err"
	"$@" >"/tmp/$name.out" 2>"/tmp/$name.err" &
	eval "pid_$name=$!"
	pids="$pids $!"
	i=0
	while ! grep -q 'Ctrl-C to end' "/tmp/$name.err" 2>/dev/null; do
		if ! kill -0 "$(eval echo \$pid_"$name")" 2>/dev/null; then
			grep -v '^libbpf: ' "/tmp/$name.err" | tail -n 20
			fail "$name ($*) exited before tracing"
		fi
		i=$((i + 1))
		[ $i -lt 1200 ] || fail "$name ($*) not tracing after 120 s"
		sleep 0.1
	done
}

# stop NAME: Ctrl-C; the tool must exit 0.
stop() {
	pid=$(eval echo \$pid_"$1")
	kill -INT "$pid" 2>/dev/null || fail "$1 is gone before Ctrl-C"
	wait "$pid"
	rc=$?
	[ $rc -eq 0 ] || { tail -n 20 "/tmp/$1.err"; fail "$1 exited with status $rc"; }
}

stop_all() {
	for p in $pids; do kill -KILL "$p" 2>/dev/null; done
	wait 2>/dev/null
	return 0
}

# reports NAME: how many JSON reports NAME has printed.
reports() { wc -l <"/tmp/$1.out"; }

# wait_reports N: until vfio-top and vfio-lat have both printed N more.
wait_reports() {
	want_top=$(($(reports top) + $1))
	want_lat=$(($(reports lat) + $1))
	i=0
	while [ "$(reports top)" -lt $want_top ] || [ "$(reports lat)" -lt $want_lat ]; do
		i=$((i + 1))
		[ $i -lt 600 ] || fail "no new reports within 60 s"
		sleep 0.1
	done
}

# under_tools CMD...: CMD while vfio-top and vfio-lat watch, with a report
# of each before it starts (so /tmp/NAME.out from line $first_top/$first_lat
# on covers CMD whole) and two after it ends (one whole interval after its
# last event, and the one that shows gone rows for the last time).
under_tools() {
	wait_reports 1
	first_top=$(($(reports top) + 1))
	first_lat=$(($(reports lat) + 1))
	"$@" || fail "workload $* failed"
	wait_reports 2
}

# raw_tp_links PID: the tracepoints of PID's raw_tp links, sorted, as
# the kernel shows them (the link fd's fdinfo: link_type, tp_name).
raw_tp_links() {
	for f in /proc/"$1"/fdinfo/*; do
		grep -q '^link_type:[[:space:]]*raw_tracepoint$' "$f" 2>/dev/null || continue
		sed -n 's/^tp_name:[[:space:]]*//p' "$f"
	done | sort | tr '\n' ' '
}

# all_links PID: how many BPF links of any type PID holds.
all_links() { grep -l '^link_type:' /proc/"$1"/fdinfo/* 2>/dev/null | wc -l; }

# The "containers" array of a vfio-top JSON line, one object a line.
containers() { sed 's/.*"containers":\[\([^]]*\)\].*/\1/; s/},{/}@{/g' | tr @ '\n' | grep .; }

# top_container_field FIELD ID: FIELD of container ID in the last report
# of vfio-top that has its row.
top_container_field() {
	tail -n +"$first_top" /tmp/top.out | containers |
		grep "^{\"container\":$2," | tail -n 1 | sed -n "s/.*\"$1\":\([^,}]*\).*/\1/p"
}

# lat_sum OP [FIELD]: OP's (map or unmap) operations, or FIELD (ops,
# failed, teardown, filtered), in vfio-lat's reports since under_tools
# started; each report counts those of its interval.
lat_sum() {
	tail -n +"$first_lat" /tmp/lat.out |
		sed -n "s/.*\"$1\":{\(\"ops\":[^}]*\),\"total\".*/\1/p" |
		sed -n "s/.*\"${2:-ops}\":\([0-9]*\).*/\1/p" |
		awk '{ n += $1 } END { print n + 0 }'
}

# ---- without BTF to relocate against: one line, exit 1 ----------------------------

for t in vfio-top vfio-lat; do
	"$TOOLDIR/$t" -j 1 1 >/tmp/nobtf.out 2>/tmp/nobtf.err && fail "$t without --btf exited 0"
	want="$t: the kernel has no BTF (no /sys/kernel/btf/vmlinux, none under /boot): give it with --btf FILE (make writes build/kernel/$kver/vmlinux.btf)"
	[ "$(cat /tmp/nobtf.err)" = "$want" ] ||
		fail "$t without --btf said: $(head -n 5 /tmp/nobtf.err) -- want: $want"
	[ ! -s /tmp/nobtf.out ] || fail "$t without --btf printed on stdout: $(head -n 3 /tmp/nobtf.out)"
	log "$t without --btf: '$want'"
done

# ---- attached: raw_tp, chosen without --attach ----------------------------------

start top "$TOOLDIR/vfio-top" -v --btf "$TOOLBTF" -j 1
start lat "$TOOLDIR/vfio-lat" -v --btf "$TOOLBTF" -j 1
# vfio-leak's programs read only the events' arguments: no --btf.
start leak "$TOOLDIR/vfio-leak" -v
for t in top lat leak; do
	want="vfio-$t: attaching with raw_tp: the vfio:vfio_dma_map event exists, without BTF"
	grep -qxF "$want" "/tmp/$t.err" || fail "vfio-$t -v: $(grep attaching "/tmp/$t.err") -- want: $want"
done
grep -qxF 'Tracing VFIO activity (raw_tp)... Ctrl-C to end.' /tmp/top.err ||
	fail "vfio-top: $(grep Tracing /tmp/top.err)"
grep -qxF 'Tracing VFIO DMA map/unmap latency (raw_tp)... Ctrl-C to end.' /tmp/lat.err ||
	fail "vfio-lat: $(grep Tracing /tmp/lat.err)"
# What the kernel says they hold: raw_tp links on our events, and only those.
dma="vfio_dma_map vfio_dma_unmap"
life="vfio_container_close vfio_container_open vfio_container_release vfio_device_open vfio_device_release vfio_external_user_get vfio_external_user_put vfio_group_attach vfio_group_detach vfio_group_open vfio_group_release vfio_ref_get vfio_ref_put"
sorted() { echo "$@" | tr ' ' '\n' | grep . | sort | tr '\n' ' '; }
for pair in "top:$dma $life vfio_iommu_set" "lat:$dma" "leak:$life"; do
	t=${pair%%:*}
	pid=$(eval echo \$pid_$t)
	got=$(raw_tp_links "$pid")
	want=$(sorted ${pair#*:})
	[ "$got" = "$want" ] || fail "vfio-$t's raw_tp links: '$got', want '$want'"
	n=$(echo $want | wc -w)
	[ "$(all_links "$pid")" -eq "$n" ] || fail "vfio-$t holds $(all_links "$pid") links, want $n raw_tp ones"
	log "vfio-$t: $n raw_tp links: $got"
done
log "vfio-top, vfio-lat and vfio-leak attached with raw_tp"

# ---- N containers opened together, then closed ------------------------------------

N=5
open_containers() {
	fd=3
	while [ $fd -lt $((3 + N)) ]; do
		eval "exec $fd</dev/vfio/vfio" || return 1
		fd=$((fd + 1))
	done
	# Held for two whole reports: rows of live containers.
	wait_reports 2
	live_top=$(reports top)
	fd=3
	while [ $fd -lt $((3 + N)) ]; do
		eval "exec $fd<&-"
		fd=$((fd + 1))
	done
}
under_tools open_containers

# While held: N rows, ids 1..N (a fresh vfio.ko numbers from 1), live,
# nothing mapped.
rows=$(sed -n "${live_top}p" /tmp/top.out | containers)
echo "$rows" | sed 's/^/  held: /'
[ "$(echo "$rows" | grep -c '"released":false')" -eq $N ] ||
	fail "want $N live containers in vfio-top's report, got: $rows"
ids=$(echo "$rows" | sed -n 's/^{"container":\([0-9]*\),.*/\1/p' | sort -n | tr '\n' ' ')
[ "$ids" = "1 2 3 4 5 " ] || fail "container ids '$ids', want '1 2 3 4 5 '"
for id in 1 2 3 4 5; do
	for f in maps:0 unmaps:0 map_bytes:0 unmap_bytes:0 errors:0 entries:0 external_users:0; do
		got=$(echo "$rows" | grep "^{\"container\":$id," |
		      sed -n "s/.*\"${f%%:*}\":\([^,}]*\).*/\1/p")
		[ "$got" = "${f#*:}" ] || fail "held container $id: ${f%%:*} $got, want ${f#*:}"
	done
done

# Closed: each shown released exactly once, then dropped.
for id in 1 2 3 4 5; do
	[ "$(top_container_field released $id)" = true ] ||
		fail "container $id not shown released: $(tail -n 3 /tmp/top.out)"
	n=$(tail -n +"$((live_top + 1))" /tmp/top.out | containers |
	    grep -c "^{\"container\":$id,.*\"released\":true")
	[ "$n" -eq 1 ] || fail "container $id shown released $n times, want once"
done
last=$(tail -n 1 /tmp/top.out)
echo "$last" | grep -q '"containers":\[\]' || fail "released containers not dropped: $last"
log "vfio-top: $N containers live with ids 1..$N, each shown released once, then dropped"

# No DMA happened: vfio-lat counted none, and its last report is the
# exact zero-activity one.
[ "$(lat_sum map)" -eq 0 ] && [ "$(lat_sum unmap)" -eq 0 ] ||
	fail "vfio-lat counted $(lat_sum map) maps and $(lat_sum unmap) unmaps, want 0"
zero_part='{"count":0,"sum":0,"p50":0,"p90":0,"p99":0,"max":0,"slots":[]}'
zero_op="{\"ops\":0,\"failed\":0,\"teardown\":0,\"filtered\":0,\"total\":$zero_part,\"pin\":$zero_part,\"iommu\":$zero_part}"
zero_lost='{"total":0,"ringbuf":0,"map_full":0,"stack":0,"id_range":0,"skipped":0}'
want="{\"attach\":\"raw_tp\",\"unit\":\"us\",\"map\":$zero_op,\"unmap\":$zero_op,\"unseen\":[],\"lost\":$zero_lost}"
got=$(tail -n 1 /tmp/lat.out | sed 's/^{"time":[0-9]*,/{/')
[ "$got" = "$want" ] || fail "vfio-lat's last report: $got -- want: $want"
log "vfio-lat: 0 maps, 0 unmaps: $got"

# ---- vfio-leak: the containers' lifecycles, nothing outstanding -----------------

stop leak
sed 's/^/  vfio-leak: /' /tmp/leak.out
# Each container: open, its reference's get, close, put, release.
want="vfio-leak: $((5 * N)) events, 0 gets outstanding (0 external users), overflow 0, reconciled 0 (restored 0), missed 0, attach raw_tp; lost events: 0"
[ "$(head -n 1 /tmp/leak.out)" = "$want" ] || fail "vfio-leak's summary: $(head -n 1 /tmp/leak.out) -- want: $want"
grep -qx 'Imbalances: 0' /tmp/leak.out || fail "vfio-leak found imbalances"
grep -q 'lost events: 0$' /tmp/leak.out || fail "vfio-leak: no 'lost events: 0' line: $(tail -n 5 /tmp/leak.out)"

# ---- DMA through our SPAPR TCE v1 backend, with edu ------------------------------

find_edu
load_shim
bind_edu

# Ground truth: N maps and unmaps of S bytes, then K maps the exit's
# teardown clears (one unmap event, K*S bytes).
W_N=20 W_K=3 W_S=65536
under_tools "$PROGS/spapr_workload" $W_N $W_K $W_S
top_row=$(tail -n +"$first_top" /tmp/top.out | containers | grep '"maps":[1-9]' | tail -n 1)
echo "  workload row: $top_row"
id=$(echo "$top_row" | sed -n 's/^{"container":\([0-9]*\),.*/\1/p')
[ -n "$id" ] || fail "vfio-top showed no container with maps: $(tail -n 3 /tmp/top.out)"
# A teardown is no unmap operation of the process, but its bytes count.
for f in maps:$((W_N + W_K)) unmaps:$W_N map_bytes:$(((W_N + W_K) * W_S)) \
	 unmap_bytes:$(((W_N + W_K) * W_S)) errors:0 entries:0 released:true; do
	got=$(top_container_field "${f%%:*}" "$id")
	[ "$got" = "${f#*:}" ] || fail "vfio-top container $id: ${f%%:*} $got, want ${f#*:}"
done
log "vfio-top: container $id: $((W_N + W_K)) maps, $W_N unmaps and a teardown, $(((W_N + W_K) * W_S)) bytes each way"
got="$(lat_sum map) $(lat_sum map failed) $(lat_sum unmap) $(lat_sum unmap teardown) $(lat_sum unmap failed)"
want="$((W_N + W_K)) 0 $W_N 1 0"
[ "$got" = "$want" ] ||
	fail "vfio-lat: maps, failed, unmaps, teardowns, failed: $got, want $want"
log "vfio-lat: $((W_N + W_K)) maps, $W_N unmaps and 1 teardown, none failed"
unbind_edu

# ---- what every tool says when it leaves: nothing lost ---------------------------

for t in top lat; do
	stop $t
done
for t in top lat; do
	grep -q '"lost":{"total":0,' "/tmp/$t.out" || fail "vfio-$t: no report with lost total 0"
	! grep -q '"lost":{"total":[1-9]' "/tmp/$t.out" || fail "vfio-$t lost events: $(grep -o '"lost":{[^}]*}' "/tmp/$t.out" | tail -n 1)"
done
log "nothing lost"
for t in top lat leak; do
	grep -v '^libbpf: ' "/tmp/$t.err" | sed "s/^/  vfio-$t stderr: /"
done
