#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# fentry mode: in-tree container ids survive an exporter restart.
#  - two containers under the first exporter: B (e1000e, 2 maps) then A
#    (edu, N maps held): ids 1 and X = 2, the smallest free in order;
#  - the exporter stops and leaves its id maps under vfioscope-state/;
#    B dies while no collector runs, a stale entry;
#  - the second exporter drops B's entry (nothing open reaches it) and
#    keeps A's: after A unmaps K, A is still X, its entries exact (N-K),
#    its pinned and mapped levels absent (what it did meanwhile is
#    unknown); a container made now gets B's freed id 1, not X;
#  - vfio-top with no exporter shows A under X too, from a copy of the
#    ids it does not write back: A's release it saw stays unknown to the
#    persisted state;
#  - with /proc/kallsyms hidden, the exporter says so in one line and
#    serves without pruning;
#  - two exporters started at the same instant (on two ports): one
#    serves, the other exits 1 naming it, and a container mapped then
#    shows exactly its levels (the loser never took the shared id maps
#    over, whose levels both would have added to).
#  - a container that only an open device fd holds (its container and
#    group fds closed) keeps its id over a restart.
# Earlier tests of the boot may have left state: every load prunes it,
# so the ids here are the same on a rerun.
# vm-kernel: 6.1 6.12
# vm-stack: intree
# vm-timeout: 360
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"

N=8
S=16384
K=3
STATE=/sys/fs/bpf/vfioscope-state
load_stack
edu=$(edu_bdf)
nic=$(e1000e_bdf)
bind_vfio "$edu"
bind_vfio "$nic"
trap 'exec 6>&- 7>&- 8>&- 9>&- 2>/dev/null; kill ${e1:-} ${e2:-} 2>/dev/null; umount /proc/kallsyms 2>/dev/null; tool_kill_all;
      unbind_vfio "$edu"; unbind_vfio "$nic"; unload_stack' EXIT

# A scrape reads the collector's maps as it is served: no wait for the
# exporter's once-a-second pass, which only moves expired series.
scrape() { curl -s 127.0.0.1:9707/metrics >"$1" || fail "cannot scrape vfio-exporter"; }
# The container whose entries are $1 in scrape $2.
with_entries() { sed -n "s/^vfioscope_dma_entries{container=\"\([0-9]*\)\"} $1\$/\1/p" "$2"; }
# The persisted entries as "id partial" lines (struct intree_container:
# id and partial are its first two u32, little-endian).
persisted() {
	bpftool -j map dump pinned "$STATE/intree_containers" | $PY -c '
import json, sys
for e in json.load(sys.stdin):
    v = bytes(int(b, 16) for b in e["value"])
    print(int.from_bytes(v[0:4], "little"), int.from_bytes(v[4:8], "little"))'
}
# start_workload NAME FD ARGS...: vfio_workload driven through a fifo on fd FD.
start_workload() {
	local name=$1 fd=$2 i
	shift 2
	rm -f "/tmp/go-$name" "/tmp/work-$name.txt" && mkfifo "/tmp/go-$name"
	vfio_workload "$@" <"/tmp/go-$name" >"/tmp/work-$name.txt" &
	eval "exec $fd>/tmp/go-$name"
	for i in $(seq 300); do [ -s "/tmp/work-$name.txt" ] && break; sleep 0.1; done
	grep -q '^pid=' "/tmp/work-$name.txt" || fail "vfio_workload $name printed nothing"
}
# unmapped NAME K: wait for the workload's "unmapped=K".
unmapped() {
	local i
	for i in $(seq 300); do grep -q '^unmapped=' "/tmp/work-$1.txt" && break; sleep 0.1; done
	grep -q "^unmapped=$2\$" "/tmp/work-$1.txt" || fail "vfio_workload $1 did not unmap"
}

# ---- the first exporter: B = 1, A = X = 2 -------------------------------------
tool_start exporter vfio-exporter -v
start_workload b 8 --e1000e -n 2 -s 4096 --keep --then-unmap 1
bpid=$!
start_workload a 7 -n $N -s $S --keep --then-unmap $K
apid=$!
scrape /tmp/m1.txt
tool_stop exporter
grep '^vfioscope_dma_entries' /tmp/m1.txt
b_id=$(with_entries 2 /tmp/m1.txt)
x=$(with_entries $N /tmp/m1.txt)
assert_eq "$b_id" 1 "first exporter: B's id (created first)"
assert_eq "$x" 2 "first exporter: A's id X"

[ ! -e /sys/fs/bpf/vfioscope ] || fail "the exporter left its pins: $(ls /sys/fs/bpf/vfioscope)"
[ -e "$STATE/intree_containers" ] && [ -e "$STATE/intree_ids" ] ||
	fail "no in-tree id state after the exporter exited: $(ls -la "$STATE" 2>&1)"
assert_eq "$(persisted | sort | tr '\n' ' ')" "1 0 2 0 " "persisted entries after the first exporter"

# B dies with no collector running: its entry is stale.
echo go >&8
unmapped b 1
echo go >&8
exec 8>&-
wait $bpid || fail "vfio_workload b failed"

# ---- the second exporter: A keeps X, B's entry dropped ---------------------------
tool_start exporter vfio-exporter -v
! grep "^vfio-exporter: .*\(cannot find\|cannot run\|another layout\|cannot open\)" /tmp/exporter.err ||
	fail "the second exporter could not prune"
assert_eq "$(persisted | tr '\n' ' ')" "$x 1 " "persisted entries once the second exporter loaded"
echo go >&7
unmapped a $K
scrape /tmp/m2.txt
grep -v '^#' /tmp/m2.txt | grep '^vfioscope_dma_\(entries\|pinned\|mapped\|operations\)'
grep -q "^vfioscope_dma_entries{container=\"$x\"} $((N - K))\$" /tmp/m2.txt ||
	fail "second exporter: A's entries under X=$x: $(grep '^vfioscope_dma_entries' /tmp/m2.txt)"
grep -q "^vfioscope_dma_operations_total{op=\"unmap\",container=\"$x\",result=\"ok\"} $K\$" /tmp/m2.txt ||
	fail "second exporter: A's unmaps under X=$x: $(grep 'op="unmap"' /tmp/m2.txt)"
! grep -q "^vfioscope_dma_\(pinned_pages\|mapped_bytes\){container=\"$x\"}" /tmp/m2.txt ||
	fail "second exporter: levels of a container carried over: $(grep "container=\"$x\"" /tmp/m2.txt)"
assert_eq "$(grep -c '^vfioscope_dma_entries{' /tmp/m2.txt)" 1 "second exporter: containers"

# A container made now: the smallest free id, B's.
vfio_workload --e1000e -n 1 -s 4096 >/tmp/work-c.txt || fail "vfio_workload c failed"
scrape /tmp/m3.txt
c_id=$(sed -n 's/^vfioscope_dma_operations_total{op="map",container="\([0-9]*\)",result="ok"} 1$/\1/p' /tmp/m3.txt)
assert_eq "$c_id" 1 "a container created after the restart"
grep -q "^vfioscope_dma_entries{container=\"$x\"} $((N - K))\$" /tmp/m3.txt ||
	fail "A lost X=$x when C came: $(grep '^vfioscope_dma_entries' /tmp/m3.txt)"
tool_stop exporter
[ -e "$STATE/intree_containers" ] || fail "no in-tree id state after the second exporter"
assert_eq "$(persisted | tr '\n' ' ')" "$x 1 " "persisted entries after the second exporter"

# ---- vfio-top alone: X, from a copy -------------------------------------------
tool_start topj vfio-top -j 1
echo go >&7		# A's teardown
exec 7>&-
wait $apid || fail "vfio_workload a failed"
sleep 2.2
tool_stop topj
$PY - "$x" /tmp/topj.out <<'PYEOF' || fail "vfio-top -j with no exporter: see above"
import json, sys
x = int(sys.argv[1])
lines = [json.loads(l) for l in open(sys.argv[2])]
from toolcheck import Checks
checks = Checks()
check = checks.check
check("vfio-top attach", {l["attach"] for l in lines}, {"fentry"})
check("container ids", sorted({c["container"] for l in lines for c in l["containers"]}), [x])
last = [c for l in lines for c in l["containers"]][-1]
check("A released", last.get("released"), True)
checks.done()
PYEOF
# Its private collector saw A go; the persisted state, not its to change, did not.
assert_eq "$(persisted | tr '\n' ' ')" "$x 1 " "persisted entries after vfio-top"

# ---- no kallsyms: one line, no pruning, and the exporter serves ------------------
: >/tmp/no-kallsyms
mount --bind /tmp/no-kallsyms /proc/kallsyms || fail "cannot hide /proc/kallsyms"
tool_start exporter vfio-exporter
umount /proc/kallsyms
scrape /tmp/m4.txt
tool_stop exporter
grep -q '^vfioscope_build_info{.*attach="fentry"} 1$' /tmp/m4.txt || fail "no build_info without kallsyms"
assert_eq "$(grep -c "cannot find vfio.ko's vfio_fops in /proc/kallsyms" /tmp/exporter.err)" 1 \
	"the exporter's line without kallsyms"
grep -q "keep their ids$" /tmp/exporter.err || fail "the line says no pruning: $(cat /tmp/exporter.err)"
assert_eq "$(persisted | tr '\n' ' ')" "$x 1 " "persisted entries, not pruned without kallsyms"

# ---- two exporters at once: one collector, levels added once -------------------
rm -f /tmp/exp1.err /tmp/exp2.err
vfio-exporter -l 127.0.0.1:9707 2>/tmp/exp1.err >/dev/null &
e1=$!
vfio-exporter -l 127.0.0.1:9708 2>/tmp/exp2.err >/dev/null &
e2=$!
for i in $(seq 600); do
	grep -q 'Ctrl-C to end' /tmp/exp1.err /tmp/exp2.err 2>/dev/null && ! kill -0 $e1 2>/dev/null && break
	grep -q 'Ctrl-C to end' /tmp/exp1.err /tmp/exp2.err 2>/dev/null && ! kill -0 $e2 2>/dev/null && break
	sleep 0.1
done
if kill -0 $e1 2>/dev/null; then winner=$e1 port=9707 loser=$e2 lerr=/tmp/exp2.err
else winner=$e2 port=9708 loser=$e1 lerr=/tmp/exp1.err; fi
kill -0 $winner 2>/dev/null || fail "neither exporter runs: $(cat /tmp/exp1.err /tmp/exp2.err)"
rc=0; wait $loser || rc=$?
assert_eq "$rc" 1 "the second exporter's status"
grep -q "another collector runs on this host (pid $winner," "$lerr" ||
	fail "the second exporter does not name the first: $(cat "$lerr")"
start_workload d 9 -n $N -s $S --keep --then-unmap $K
dpid=$!
curl -s 127.0.0.1:$port/metrics >/tmp/m5.txt || fail "cannot scrape the exporter that won"
d_id=$(with_entries $N /tmp/m5.txt)
[ -n "$d_id" ] || fail "two exporters: the new container's entries: $(grep '^vfioscope_dma_entries' /tmp/m5.txt)"
grep -q "^vfioscope_dma_pinned_pages{container=\"$d_id\"} $((N * S / 4096))\$" /tmp/m5.txt ||
	fail "two exporters: pinned pages: $(grep '^vfioscope_dma_pinned_pages' /tmp/m5.txt)"
grep -q "^vfioscope_dma_mapped_bytes{container=\"$d_id\"} $((N * S))\$" /tmp/m5.txt ||
	fail "two exporters: mapped bytes: $(grep '^vfioscope_dma_mapped_bytes' /tmp/m5.txt)"
echo go >&9
unmapped d $K
echo go >&9
exec 9>&-
wait $dpid || fail "vfio_workload d failed"
kill -INT $winner
wait $winner || fail "the exporter that won exited with status $?"

# ---- a container only a device fd holds: kept over a restart -------------------
# Its container and group fds are closed; the open device keeps it.  The
# prune finds it through the device file, whose private_data is the
# struct vfio_device on 6.1 and a struct vfio_device_file from 6.3.
tool_start exporter vfio-exporter
start_workload e 6 -n 2 -s 4096 --keep --device-only
epid=$!
scrape /tmp/m6.txt
tool_stop exporter
e_id=$(with_entries 2 /tmp/m6.txt)
[ -n "$e_id" ] || fail "device-only: its entries: $(grep '^vfioscope_dma_entries' /tmp/m6.txt)"
tool_start exporter vfio-exporter -v
tool_stop exporter
persisted | grep -q "^$e_id " ||
	fail "device-only: container $e_id pruned while its device is open: $(persisted | tr '\n' ' ')"
echo go >&6
exec 6>&-
wait $epid || fail "vfio_workload e failed"

log "in-tree ids: X=$x kept over a restart, B's stale id 1 freed and reused, vfio-top agrees;" \
	"two exporters at once: one collector, levels exact; a device-only container kept"
