#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The guest side of `make demo`: our VFIO stack under a realistic load, and
# every vfioscope tool watching it.
#
#   - a VFIO client (vfio_workload) maps edu's DMA space at several sizes,
#     with real DMA round trips through the IOMMU for the smallest;
#   - a KVM-like consumer (vfio_consumer.ko, driven by vfio_leaker) takes
#     external-user references: three put back, one leaked on purpose;
#   - vfio-top, vfio-lat, vfio-leak, vfio-exporter and a perf recording
#     watch all of it.
#
# $1 is a folder shared with the host (boot.sh --export): the perf
# recording and its plots land there.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:?usage: demo.sh OUTDIR}
export VFIOSCOPE_ROOT=$root VFIOSCOPE_STACK=ours
export VFIOSCOPE_BUILD=$root/${O:-build}
export MODDIR=$VFIOSCOPE_BUILD/kernel/$(uname -r)/modules
export PATH=$VFIOSCOPE_BUILD/tools:$VFIOSCOPE_BUILD/tests:$root/tools/perf:$PATH
. "$root/tests/vm/lib.sh"
. "$root/tests/vm/tools-lib.sh"

step() { printf '\n\033[1m=== %s\033[0m\n' "$*"; }
# Show a command, then run it.
show() { printf '$ %s\n' "$*"; "$@"; }

step "1. vfioscope's VFIO stack, in Debian's $(uname -r) under qemu with an emulated Intel IOMMU"
load_stack
insmod "$MODDIR/testing/vfio_consumer.ko" || fail "insmod vfio_consumer failed"
bdf=$(edu_bdf)
bind_vfio "$bdf"
lsmod | grep -E '^(vfio|vfio_iommu_type1|vfio_pci|vfio_consumer) ' | awk '{ print "module " $1 }'
echo "edu $bdf is bound to vfio-pci: /dev/vfio/$(iommu_group_of "$bdf")"

step "2. the observers attach"
tool_start exporter vfio-exporter --stale-after 5
echo "vfio-exporter: serving http://127.0.0.1:9707/metrics"
tool_start top vfio-top -b -r 4 2
tool_start lat vfio-lat
tool_start leak vfio-leak -a 5
echo "vfio-top, vfio-lat and vfio-leak attached ($(grep -o 'attach [a-z_]*' /tmp/top.err | head -n 1 || echo tp_btf))"

step "3. the scenario, recorded with perf (tools/perf/vfio-record)"
cat >/tmp/scenario.sh <<'EOF'
set -e
echo "client: 10 maps of 4 KiB, each with an edu DMA round trip through it"
vfio_workload -n 10 -s 4K --dma
echo "client: 200 maps of 64 KiB"
vfio_workload -n 200 -s 64K
echo "client: 20 maps of 2 MiB"
vfio_workload -n 20 -s 2M
echo "client: 3 maps of 64 MiB, held for 3 s"
vfio_workload -n 3 -s 64M --keep --hold 3
echo "consumer: 3 external-user references, each put back"
vfio_leaker --clean 3
echo "consumer: 1 external-user reference, leaked"
vfio_leaker --leak 1
touch /tmp/scenario.done
EOF
show vfio-record -s -o "$out/vfio.data" -- bash /tmp/scenario.sh 2>&1 |
	grep -v '^\[ perf record\|^Warning\|^Lowering'
[ -e /tmp/scenario.done ] || fail "the scenario failed: see above"
# Let the leak age past -a 5 and the exporter's --stale-after 5.
sleep 6

step "4. vfio-top: who maps what (its last two frames with the client running)"
tool_stop top
awk '/^vfio-top:/ { n++ } { frame[n] = frame[n] $0 "\n" }
     /vfio_workload/ { busy[n] = 1 }
     END { for (i = n; i > 0 && shown < 2; i--) if (busy[i]) { out = frame[i] out; shown++ }
	   printf "%s", out }' /tmp/top.out

step "5. vfio-lat: how long maps take, pinning vs IOMMU"
tool_stop lat
cat /tmp/lat.out

step "6. vfio-leak: who still holds a container nobody can reach"
tool_stop leak
cat /tmp/leak.out

step "7. vfio-exporter: a /metrics sample"
if ! kill -0 "$TOOL_PID_exporter" 2>/dev/null; then
	tail -n 5 /tmp/exporter.err
	wait "$TOOL_PID_exporter"
	fail "vfio-exporter died (exit status $?)"
fi
curl -sS -o /tmp/metrics.txt http://127.0.0.1:9707/metrics || fail "cannot scrape vfio-exporter"
# Per-container series go with their container, and the one left is the
# leaked one: show what outlives containers.
grep -E '^vfioscope_(build_info|dma_duration_seconds_(sum|count)|objects|stale_references|external_users|lost_events_total)' \
	/tmp/metrics.txt | head -n 24
tool_stop exporter

step "8. perf analysis: report and plots (tools/perf)"
show vfio-report -n 3 "$out/vfio.data" 2>&1 | sed -n '/^DMA latency/,/^$/p' 
show vfio-plot -o "$out/vfio" "$out/vfio.data"
ls -l "$out"/vfio*.png "$out"/vfio*.svg 2>/dev/null | awk '{ print $NF }'

echo release >/sys/kernel/debug/vfio_consumer/leaks
rmmod vfio_consumer
unbind_vfio "$bdf"
unload_stack

step "summary"
cat <<EOF
- Our vfio.ko, vfio_iommu_type1.ko and vfio-pci.ko ran a VFIO client on edu
  with real DMA through the emulated IOMMU: 233 maps of 4 KiB to 64 MiB.
- vfio-top showed the client's maps and unmaps per process and container.
- vfio-lat split each map's time into page pinning and IOMMU mapping.
- vfio-leak found the one external-user reference the consumer module
  leaked, with the kernel stack that took it, after every fd was closed.
- vfio-exporter served the same numbers to Prometheus.
- perf recorded every vfio:* event; the report and plots are in
  $out on the host.
EOF
