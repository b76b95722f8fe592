#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-exporter against ground truth, through a real Prometheus (Debian's)
# scraping it every second, asked through its HTTP query API:
#  - E1 maps with a bad size (EINVAL) and E2 on a mapped IOVA (EEXIST) show
#    as exactly those results;
#    the error client's series stay, with its final values, after its
#    release (--retain);
#  - N maps + N unmaps of S bytes by a container opened and released while
#    Prometheus is stopped, so that no scrape sees it live: the next scrape
#    has its N ok maps and unmaps, N*S bytes each way, nothing mapped, the
#    latency histogram's count and +Inf bucket N (sums over containers:
#    its series go on from the error client's when it reuses the id);
#    two scrapers at once, ten times, each get the whole page and the same
#    numbers;
#  - N maps of S bytes kept while held: N*S bytes mapped, N*S/4096 pages
#    pinned, N DMA entries;
#  - the exporter pins the host's collector under /sys/fs/bpf/vfioscope,
#    and unpins it at SIGTERM; a second plain exporter exits 1 with one
#    line naming the first's pid (one collector per host);
#  - an exporter with no bpffs (its own mount namespace) warns and serves
#    from its unpinned collector (raw_tp, --retain 2): its histograms
#    equal the first's; once every container is released and 2 s passed,
#    no container's series is left and container="released" holds the
#    first exporter's sums;
#  - K external-user references leaked by the consumer module, older than
#    --stale-after: K external users of the group, K stale external-user
#    references, the live objects; 0 of each once released;
#  - no event lost; every PromQL expression of dashboards/ (exprs.py)
#    returns data; promtool check config passes; SIGTERM exits 0.
# vm-stack: ours
# vm-timeout: 420
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"

N=40
S=16384
K=2
E1=3
E2=2
STALE=2
RETAIN=600	# longer than the test: no series expires at 9707
PROM=/tmp/prom
LEAKS=/sys/kernel/debug/vfio_consumer/leaks
command -v prometheus >/dev/null || fail "no prometheus binary (apt-get install prometheus)"

load_stack
insmod "$MODDIR/testing/vfio_consumer.ko" || fail "insmod vfio_consumer failed"
prom_pid=
cleanup() {
	exec 5>&- 6<&-
	[ -n "${q_pid:-}" ] && wait "$q_pid"
	[ -n "$prom_pid" ] && kill "$prom_pid" 2>/dev/null && wait "$prom_pid"
	[ -n "${TOOL_PID_exporter:-}" ] && kill "$TOOL_PID_exporter" 2>/dev/null
	[ -n "${TOOL_PID_exporter_raw:-}" ] && kill "$TOOL_PID_exporter_raw" 2>/dev/null
	echo release >$LEAKS 2>/dev/null
	rmmod vfio_consumer
	unbind_vfio "$bdf"
	unload_stack
}
bdf=$(edu_bdf)
trap cleanup EXIT

# Started before edu is bound, so the group and device are seen created.
tool_start exporter vfio-exporter -v --stale-after $STALE --retain $RETAIN
grep -q '^vfio-exporter: attaching with tp_btf: ' /tmp/exporter.err ||
	fail "vfio-exporter -v: $(grep attaching /tmp/exporter.err)"
grep -q '^vfio-exporter: collector pinned under /sys/fs/bpf/vfioscope$' /tmp/exporter.err ||
	fail "vfio-exporter -v: not pinned: $(grep -v '^libbpf: ' /tmp/exporter.err)"
[ -e /sys/fs/bpf/vfioscope/settings ] && [ -e /sys/fs/bpf/vfioscope/dma ] ||
	fail "no collector pinned under /sys/fs/bpf/vfioscope: $(ls /sys/fs/bpf/vfioscope 2>&1)"
# One collector per host: a second exporter refuses, naming the first.
rc=0
timeout 120 vfio-exporter -l 127.0.0.1:9709 >/tmp/exporter3.out 2>/tmp/exporter3.err || rc=$?
grep -v '^libbpf: ' /tmp/exporter3.err
[ $rc = 1 ] || fail "a second exporter on the host: exit status $rc, want 1"
[ "$(grep -vc '^libbpf: ' /tmp/exporter3.err)" = 1 ] &&
	grep -q "^vfio-exporter: another collector runs on this host (pid $TOOL_PID_exporter, " \
		/tmp/exporter3.err || fail "a second exporter on the host: want one line naming pid $TOOL_PID_exporter"
log "a second exporter exits 1: $(grep -v '^libbpf: ' /tmp/exporter3.err)"
# Another exporter, forced to raw_tp, watches the same run: at the end its
# histograms must equal the tp_btf one's to the nanosecond.  Without a
# bpffs (unmounted in its own mount namespace) it cannot pin: it says so
# and serves from its own collector, unpinned.
tool_start exporter_raw unshare -m sh -c 'umount /sys/fs/bpf && exec "$@"' sh \
	vfio-exporter --attach raw_tp -l 127.0.0.1:9708 --stale-after $STALE --retain 2
grep -q '^vfio-exporter: warning: cannot pin the collector under /sys/fs/bpf/vfioscope: .*; serving unpinned' \
	/tmp/exporter_raw.err || fail "the exporter without bpffs: $(grep -v '^libbpf: ' /tmp/exporter_raw.err)"
bind_vfio "$bdf"
group=$(iommu_group_of "$bdf")

mkdir -p $PROM/data
{
	echo "global: { scrape_interval: 1s, evaluation_interval: 1s }"
	[ -f "$VFIOSCOPE_ROOT/dashboards/vfioscope-rules.yml" ] &&
		printf 'rule_files: ["%s"]\n' "$VFIOSCOPE_ROOT/dashboards/vfioscope-rules.yml"
	echo "scrape_configs:"
	echo "  - job_name: vfioscope"
	echo "    scrape_interval: 1s"
	echo "    scrape_timeout: 1s"
	echo "    static_configs: [ { targets: ['127.0.0.1:9707'] } ]"
} >$PROM/prometheus.yml
promtool check config $PROM/prometheus.yml || fail "promtool check config failed"
prometheus --config.file=$PROM/prometheus.yml --storage.tsdb.path=$PROM/data \
	--web.listen-address=127.0.0.1:9090 >$PROM/log 2>&1 &
prom_pid=$!

# q EXPR: the value of an instant query with exactly one sample (or fail).
# q_all EXPR: every sample, "labels value" per line.  One Python answers
# every query, through two fifos: started per query, under TCG it cost
# about a second each, and the test makes some sixty.
rm -f /tmp/q.req /tmp/q.resp && mkfifo /tmp/q.req /tmp/q.resp
$PY - /tmp/q.req /tmp/q.resp <<-'PYEOF' &
	import json, sys, urllib.parse, urllib.request
	req, resp = open(sys.argv[1]), open(sys.argv[2], "w")
	for line in req:
	    expr = line.rstrip("\n")
	    try:
	        url = "http://127.0.0.1:9090/api/v1/query?" + urllib.parse.urlencode({"query": expr})
	        r = json.load(urllib.request.urlopen(url, timeout=10))
	        if r["status"] != "success":
	            raise ValueError(r)
	        for s in r["data"]["result"]:
	            v = s["value"][1]
	            if v.endswith(".0") or "." not in v:
	                v = str(int(float(v))) if v not in ("NaN", "+Inf", "-Inf") else v
	            resp.write("%s %s\n" % (json.dumps(s["metric"], sort_keys=True), v))
	        resp.write("@@ok\n")
	    except Exception as e:
	        resp.write("@@error %s\n" % str(e).replace("\n", " "))
	    resp.flush()
	PYEOF
q_pid=$!
exec 5>/tmp/q.req 6</tmp/q.resp
q_all() {
	local line
	printf '%s\n' "$1" >&5
	while IFS= read -r line <&6; do
		case $line in
		@@ok) return 0 ;;
		"@@error "*) echo "query $1: ${line#@@error }" >&2; return 1 ;;
		esac
		printf '%s\n' "$line"
	done
	echo "query $1: the query helper is gone" >&2
	return 1
}
q() {
	local out
	out=$(q_all "$1") || fail "query $1 failed"
	[ "$(echo "$out" | grep -c .)" = 1 ] || fail "query $1: want one sample, got: '$out'"
	echo "${out##* }"
}
# expect EXPR WANT: wait (up to 15 s: scrapes are 1 s apart) for the value.
expect() {
	local i got
	for i in $(seq 30); do
		got=$(q_all "$1" 2>/dev/null)
		[ "$(echo "$got" | grep -c .)" = 1 ] && [ "${got##* }" = "$2" ] && {
			log "$1 = $2"
			return 0
		}
		sleep 0.5
	done
	fail "$1: got '$got', want $2"
}

for i in $(seq 120); do
	$PY -c 'import urllib.request; urllib.request.urlopen("http://127.0.0.1:9090/-/ready", timeout=2)' \
		2>/dev/null && break
	kill -0 $prom_pid 2>/dev/null || { tail -n 20 $PROM/log; fail "prometheus exited"; }
	sleep 0.5
done
expect 'up{job="vfioscope"}' 1
expect 'vfioscope_build_info{attach="tp_btf",kernel="'"$(uname -r)"'"}' 1
expect 'vfioscope_stale_after_seconds' $STALE
expect 'vfioscope_retain_seconds' $RETAIN
expect 'vfioscope_objects{kind="group"}' 1
expect 'vfioscope_objects{kind="device"}' 1

log "--- errors: $E1 maps of a bad size, $E2 on a mapped IOVA"
$PY - "$group" $E1 $E2 >/tmp/errors.txt <<-'PYEOF' &
import ctypes, fcntl, mmap, os, signal, struct, sys
group, e1, e2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
# Live until the test sends SIGUSR1 (blocked now: one sent early stays
# pending), 8 s at most.
signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
# <linux/vfio.h>: _IO(';', 100 + n)
SET_IOMMU, GROUP_SET_CONTAINER, IOMMU_MAP_DMA = 0x3b66, 0x3b68, 0x3b71
c = os.open("/dev/vfio/vfio", os.O_RDWR)
g = os.open("/dev/vfio/" + group, os.O_RDWR)
fcntl.ioctl(g, GROUP_SET_CONTAINER, struct.pack("i", c))
fcntl.ioctl(c, SET_IOMMU, 3)  # VFIO_TYPE1v2_IOMMU
buf = mmap.mmap(-1, 1 << 16)
vaddr = ctypes.addressof(ctypes.c_char.from_buffer(buf))
def dma_map(iova, size):
    try:
        fcntl.ioctl(c, IOMMU_MAP_DMA, struct.pack("IIQQQ", 32, 3, vaddr, iova, size))
        return 0
    except OSError as e:
        return -e.errno
res = [dma_map(0x100000, 4095) for _ in range(e1)]
res.append(dma_map(0x100000, 4096))
res += [dma_map(0x100000, 4096) for _ in range(e2)]
print("pid=%d results=%s" % (os.getpid(), ",".join(map(str, res))), flush=True)
signal.sigtimedwait({signal.SIGUSR1}, 8)
PYEOF
epid=$!
for i in $(seq 100); do [ -s /tmp/errors.txt ] && break; sleep 0.1; done
cat /tmp/errors.txt
grep -q "results=$(printf -- '-22,%.0s' $(seq $E1))0$(printf -- ',-17%.0s' $(seq $E2))$" /tmp/errors.txt ||
	fail "the error client did not get $E1 EINVAL, one success and $E2 EEXIST"
expect 'sum(vfioscope_dma_operations_total{op="map",result="EINVAL"})' $E1
expect 'sum(vfioscope_dma_operations_total{op="map",result="EEXIST"})' $E2
expect 'sum(vfioscope_dma_operations_total{op="map",result="ok"})' 1
expect 'count(vfioscope_dma_operations_total{result!~"ok|EINVAL|EEXIST"}) or vector(0)' 0
kill -USR1 $epid 2>/dev/null || :
wait $epid || fail "the error client failed"
# Released: its series stay with their final values, its levels at 0.
expect 'vfioscope_objects{kind="container"}' 0
expect 'sum(vfioscope_dma_operations_total{op="map",result="EINVAL"})' $E1
expect 'sum(vfioscope_dma_operations_total{op="map",result="ok"})' 1
expect 'sum(vfioscope_dma_bytes_total{op="unmap"})' 4096
expect 'count(vfioscope_dma_mapped_bytes)' 1
expect 'sum(vfioscope_dma_mapped_bytes)' 0
expect 'vfioscope_dma_duration_seconds_count{op="map"}' 1
cid=$(q_all 'vfioscope_dma_operations_total{result="EINVAL"}' | sed -n 's/.*"container": "\([0-9]*\)".*/\1/p')
[ -n "$cid" ] || fail "no container label on the error client's series"
log "the error client's container: $cid"

# msum FILE ERE: the sum of the values of FILE's lines matching ERE.
msum() { grep -E "$2" "$1" | awk '{ s += $NF } END { print s + 0 }'; }

log "--- $N maps + unmaps of $S bytes, all while Prometheus is stopped"
# Stopped: no scrape can come between the open and the release.  The error
# client's ok map (4096 bytes, unmapped by its teardown) is in the sums.
kill -STOP $prom_pid
vfio_workload -n $N -s $S >/tmp/work.txt || { kill -CONT $prom_pid; fail "vfio_workload failed"; }
curl -s 127.0.0.1:9707/metrics >/tmp/metrics.txt || { kill -CONT $prom_pid; fail "curl /metrics failed"; }
kill -CONT $prom_pid
cat /tmp/work.txt
grep '^vfioscope_dma_operations_total{op="map"' /tmp/metrics.txt
assert_eq "$(msum /tmp/metrics.txt '^vfioscope_dma_operations_total\{op="map",.*result="ok"\}')" $((N + 1)) \
	"ok maps on /metrics after the release"
assert_eq "$(grep -c '^vfioscope_dma_operations_total{' /tmp/metrics.txt)" \
	"$(curl -s 127.0.0.1:9707/metrics | grep -c '^vfioscope_dma_operations_total{')" \
	"operation series of two scrapes in a row"
curl -s 127.0.0.1:9707/metrics | grep '^vfioscope_dma_' | grep -v _duration_ >/tmp/m2.txt
grep '^vfioscope_dma_' /tmp/metrics.txt | grep -v _duration_ | cmp -s - /tmp/m2.txt ||
	fail "two scrapes in a row differ: $(grep '^vfioscope_dma_' /tmp/metrics.txt | grep -v _duration_ | diff - /tmp/m2.txt)"
# Two scrapers at once, ten times: each gets the whole page, and the same
# DMA numbers (a scrape has no side effects).
for i in $(seq 10); do
	curl -s 127.0.0.1:9707/metrics >/tmp/ma.txt & ca=$!
	curl -s 127.0.0.1:9707/metrics >/tmp/mb.txt & cb=$!
	wait $ca && wait $cb || fail "two scrapers at once: curl failed (round $i)"
	for f in /tmp/ma.txt /tmp/mb.txt; do
		tail -n 1 $f | grep -q '^vfioscope_lost_events_total{reason="skipped"} ' ||
			fail "two scrapers at once: a cut page (round $i): $(tail -n 1 $f)"
	done
	diff <(grep '^vfioscope_dma_' /tmp/ma.txt | grep -v _duration_) \
		<(grep '^vfioscope_dma_' /tmp/mb.txt | grep -v _duration_) >/dev/null ||
		fail "two scrapers at once got different numbers (round $i)"
	cmp -s <(grep '^vfioscope_dma_' /tmp/ma.txt | grep -v _duration_) /tmp/m2.txt ||
		fail "two scrapers at once: not what the scrapes before saw (round $i)"
done
expect 'sum(vfioscope_dma_operations_total{op="map",result="ok"})' $((N + 1))
expect 'sum(vfioscope_dma_operations_total{op="unmap",result="ok"})' $N
expect 'sum(vfioscope_dma_operations_total{result!="ok"})' $((E1 + E2))
expect 'sum(vfioscope_dma_bytes_total{op="map"})' $((N * S + 4096))
expect 'sum(vfioscope_dma_bytes_total{op="unmap"})' $((N * S + 4096))
expect 'sum(vfioscope_dma_mapped_bytes)' 0
expect 'sum(vfioscope_dma_pinned_pages)' 0
expect 'sum(vfioscope_dma_entries)' 0
expect 'vfioscope_objects{kind="container"}' 0
expect 'vfioscope_dma_duration_seconds_count{op="map"}' $((N + 1))
expect 'vfioscope_dma_duration_seconds_bucket{op="map",le="+Inf"}' $((N + 1))
expect 'vfioscope_dma_duration_seconds_count{op="unmap"}' $N
expect 'vfioscope_dma_duration_seconds_sum{op="unmap"} > bool 0' 1
q_all 'vfioscope_dma_operations_total{result="ok"}'

log "--- $N maps of $S bytes kept while held"
vfio_workload -n $N -s $S --keep --hold 15 >/tmp/work.txt &
wpid=$!
for i in $(seq 100); do [ -s /tmp/work.txt ] && break; sleep 0.1; done
cat /tmp/work.txt
expect 'sum(vfioscope_dma_operations_total{op="map",result="ok"})' $((2 * N + 1))
expect 'sum(vfioscope_dma_operations_total{op="unmap",result="ok"})' $N
expect 'sum(vfioscope_dma_mapped_bytes)' $((N * S))
expect 'sum(vfioscope_dma_pinned_pages)' $((N * S / 4096))
expect 'sum(vfioscope_dma_entries)' $N
expect 'vfioscope_objects{kind="container"}' 1
log "/metrics excerpt (held):"
curl -s 127.0.0.1:9707/metrics >/tmp/metrics.txt || fail "curl /metrics failed"
grep -v '^# HELP' /tmp/metrics.txt | grep -v 'bucket.*le="0.0000[0-9]*"' | head -n 60
kill -USR1 $wpid 2>/dev/null || :	# its hold may be over already
wait $wpid || fail "vfio_workload --keep failed"
expect 'vfioscope_objects{kind="container"}' 0
expect 'sum(vfioscope_dma_mapped_bytes)' 0
expect 'sum(vfioscope_dma_bytes_total{op="unmap"})' $((2 * N * S + 4096))
expect 'sum(vfioscope_dma_operations_total{op="map",result="ok"})' $((2 * N + 1))
# The teardown is no operation: the unmap histogram did not move.
expect 'vfioscope_dma_duration_seconds_count{op="unmap"}' $N

log "--- $K external-user references leaked"
vfio_leaker --leak $K >/tmp/leaker.txt || fail "vfio_leaker --leak failed"
cat /tmp/leaker.txt
assert_eq "$(cat $LEAKS)" $K "leaks the module holds"
expect "vfioscope_external_users{group=\"$group\"}" $K
expect 'vfioscope_objects{kind="container"}' 1
sleep $((STALE + 1))
expect 'vfioscope_stale_references{kind="external_user"}' $K
q_all 'vfioscope_stale_references'
# Every expression of the dashboard and the rules returns data now (the
# operations above are within their 1m/5m/10m windows).  An alerting
# rule's threshold (a trailing "> 0.01") is cut: what is asked is that
# its metrics are there, not that the alert fires.
if [ -x "$VFIOSCOPE_ROOT/dashboards/exprs.py" ]; then
	sleep 1
	$PY "$VFIOSCOPE_ROOT/dashboards/exprs.py" --source >/tmp/exprs.txt || fail "dashboards/exprs.py failed"
	$PY - /tmp/exprs.txt <<-'PYEOF' || fail "PromQL expressions without data: see above"
	import json, re, sys, urllib.parse, urllib.request
	def query(e):
	    url = "http://127.0.0.1:9090/api/v1/query?" + urllib.parse.urlencode({"query": e})
	    r = json.load(urllib.request.urlopen(url, timeout=10))
	    if r["status"] != "success":
	        raise SystemExit("query %s: %s" % (e, r))
	    return r["data"]["result"]
	bad = 0
	for line in open(sys.argv[1]):
	    src, expr = line.rstrip("\n").split("\t", 1)
	    res = query(expr)
	    how = "as is"
	    if not res and src.startswith("rule "):
	        m = re.match(r"^(.*\S)\s*(>|<|>=|<=|==|!=)\s*[-+0-9.e]+$", expr, re.S)
	        if m:
	            res = query(m.group(1))
	            how = "without its threshold"
	    print("# %s (%s): %d series%s" % (src, how, len(res),
	          "" if res else "  <-- NO DATA: " + expr))
	    bad += not res
	sys.exit(1 if bad else 0)
	PYEOF
else
	log "dashboards/exprs.py missing: expressions of dashboards/ not checked"
fi

echo release >$LEAKS || fail "release of the leaks failed"
expect "vfioscope_external_users{group=\"$group\"}" 0
expect 'vfioscope_stale_references{kind="external_user"}' 0
expect 'vfioscope_objects{kind="container"}' 0
expect 'sum(vfioscope_lost_events_total)' 0
# Every reason served, 0 included: ringbuf, map_full, stack, id_range, skipped.
expect 'count(vfioscope_lost_events_total)' 5

# The raw_tp exporter's --retain 2 is over for every container (the
# leaker's went last, above): only container="released" is left, with
# the sums the tp_btf exporter serves by container.
sleep 3.5
curl -s 127.0.0.1:9708/metrics >/tmp/raw.txt || fail "curl :9708/metrics failed"
curl -s 127.0.0.1:9707/metrics >/tmp/btf.txt || fail "curl :9707/metrics failed"
grep '^vfioscope_dma_\(operations\|bytes\)_total' /tmp/raw.txt
$PY - /tmp/btf.txt /tmp/raw.txt <<-'PYEOF' || fail "raw_tp container=\"released\" vs tp_btf sums: see above"
import re, sys
def sums(path):
    out, containers = {}, set()
    for line in open(path):
        m = re.match(r'^(vfioscope_dma_(?:operations|bytes)_total)\{(.*)\} (\d+)$', line)
        if not m:
            continue
        labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(2)))
        containers.add(labels.pop("container"))
        key = (m.group(1),) + tuple(sorted(labels.items()))
        out[key] = out.get(key, 0) + int(m.group(3))
    return out, containers
btf, _ = sums(sys.argv[1])
raw, where = sums(sys.argv[2])
print("# raw_tp exporter containers:", sorted(where))
print("# tp_btf sums over containers:", sorted(btf.items()))
ok = where == {"released"} and raw == btf and btf
sys.exit(0 if ok else "raw_tp: %s" % sorted(raw.items()))
PYEOF

# raw_tp saw exactly what tp_btf saw.
hist() { curl -s "127.0.0.1:$1/metrics" | grep '^vfioscope_dma_duration_seconds_\(bucket\|sum\|count\)'; }
hist 9707 >/tmp/hist.btf
hist 9708 >/tmp/hist.raw
grep -q '^vfioscope_dma_duration_seconds_count{op="map"} [1-9]' /tmp/hist.btf ||
	fail "tp_btf exporter counted no maps: $(grep _count /tmp/hist.btf)"
cmp -s /tmp/hist.btf /tmp/hist.raw || { diff /tmp/hist.btf /tmp/hist.raw | head; fail "raw_tp and tp_btf exporters disagree"; }
curl -s 127.0.0.1:9708/metrics | grep -q '^vfioscope_build_info{.*attach="raw_tp"} 1$' ||
	fail "the second exporter is not in raw_tp mode"
log "raw_tp exporter: histograms identical to tp_btf's ($(wc -l </tmp/hist.raw) lines)"
tool_stop exporter_raw
TOOL_PID_exporter_raw=

kill $prom_pid && wait $prom_pid
prom_pid=
kill -TERM "$TOOL_PID_exporter" || fail "vfio-exporter is gone before SIGTERM"
rc=0
wait "$TOOL_PID_exporter" || rc=$?
TOOL_PID_exporter=
[ $rc = 0 ] || { tail -n 20 /tmp/exporter.err; fail "vfio-exporter exited with status $rc on SIGTERM"; }
[ ! -e /sys/fs/bpf/vfioscope ] || fail "the collector still pinned after SIGTERM: $(ls /sys/fs/bpf/vfioscope)"
log "vfio-exporter stopped with exit 0 on SIGTERM, its collector unpinned"
