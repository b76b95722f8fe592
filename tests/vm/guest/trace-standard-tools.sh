#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Our trace events work with the standard tools, with exact counts and
# field values: a workload of N maps of S bytes (each unmapped) must give
# N vfio_dma_map and N vfio_dma_unmap events of size S, and one of each
# lifecycle event, all naming the same container and group.
# vm-stack: ours
# vm-timeout: 240
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

N=50
S=65536
load_stack
bdf=$(edu_bdf)
group=$(iommu_group_of "$bdf")
bind_vfio "$bdf"
trap 'unbind_vfio "$bdf"; unload_stack' EXIT
work="vfio_workload -n $N -s $S"

[ -d /sys/kernel/tracing/events/vfio ] || fail "no vfio events in tracefs"

# perf stat: exact counts.
perf stat -x, -e vfio:vfio_dma_map -e vfio:vfio_dma_unmap -a -o /tmp/perf-stat.csv -- $work >/dev/null ||
	fail "perf stat failed"
maps=$(awk -F, '$3 == "vfio:vfio_dma_map" { print $1 }' /tmp/perf-stat.csv)
unmaps=$(awk -F, '$3 == "vfio:vfio_dma_unmap" { print $1 }' /tmp/perf-stat.csv)
log "perf stat: maps=$maps unmaps=$unmaps"
assert_eq "$maps" $N "perf stat vfio_dma_map count"
assert_eq "$unmaps" $N "perf stat vfio_dma_unmap count"

# perf record + script: every event, with fields joined by ids.
perf record -q -e 'vfio:*' -a -o /tmp/perf.data -- $work >/dev/null 2>&1 || fail "perf record failed"
perf script -i /tmp/perf.data -F event,trace >/tmp/perf.txt 2>/dev/null || fail "perf script failed"
count() { grep -c "vfio:$1:" /tmp/perf.txt; }
for ev in vfio_container_open vfio_iommu_set vfio_group_open vfio_group_attach \
	vfio_device_open vfio_device_release vfio_group_detach vfio_group_release \
	vfio_container_release; do
	assert_eq "$(count $ev)" 1 "perf script: $ev events"
done
assert_eq "$(count vfio_dma_map)" $N "perf script: vfio_dma_map events"
assert_eq "$(count vfio_dma_unmap)" $N "perf script: vfio_dma_unmap events"
assert_eq "$(grep 'vfio:vfio_dma_map:' /tmp/perf.txt | grep -c "size=0x10000 .* ret=0 ")" $N \
	"maps of size $S that succeeded"
assert_eq "$(grep 'vfio:vfio_dma_map:' /tmp/perf.txt | grep -c "npages=16 ")" $N "pages pinned per map"
container=$(sed -n 's/.*vfio:vfio_container_open: container=\([0-9]*\).*/\1/p' /tmp/perf.txt)
[ -n "$container" ] && [ "$container" -ge 1 ] || fail "no container id"
assert_eq "$(grep -c "vfio:vfio_dma_map: container=$container " /tmp/perf.txt)" $N "maps naming the container"
assert_eq "$(grep -c "vfio:vfio_group_attach: group=$group container=$container ret=0" /tmp/perf.txt)" 1 \
	"attach naming group $group and the container"
grep -q "vfio:vfio_iommu_set: container=$container driver=vfio-iommu-type1 type=3 ret=0" /tmp/perf.txt ||
	fail "vfio_iommu_set fields: $(grep vfio_iommu_set /tmp/perf.txt)"
grep -q "vfio:vfio_device_open: device=[1-9][0-9]* group=$group name=$bdf ret=0" /tmp/perf.txt ||
	fail "vfio_device_open fields: $(grep vfio_device_open /tmp/perf.txt)"
# References balance: every get has its put by the end of the run.
gets=$(grep -c 'vfio:vfio_ref_get:' /tmp/perf.txt)
puts=$(grep -c 'vfio:vfio_ref_put:' /tmp/perf.txt)
log "references: $gets gets, $puts puts"
[ "$gets" -gt 0 ] || fail "no vfio_ref_get events"
assert_eq "$puts" "$gets" "reference puts vs gets over a whole run"

# trace-cmd: the same events through ftrace.
trace-cmd record -q -e vfio:vfio_dma_map -o /tmp/trace.dat -- $work >/dev/null 2>&1 ||
	fail "trace-cmd record failed"
tc=$(trace-cmd report -i /tmp/trace.dat 2>/dev/null | grep -c "vfio_dma_map:.*size=0x10000 ")
assert_eq "$tc" $N "trace-cmd vfio_dma_map events of size $S"

# bpftrace: a one-liner keyed on a field.
bt=$(bpftrace -e 'tracepoint:vfio:vfio_dma_map { @maps[args->size, args->ret] = count(); }' \
	-c "$work" 2>/dev/null | sed -n 's/^@maps\[\([0-9]*\), \(-\?[0-9]*\)\]: \([0-9]*\)$/\1 \2 \3/p')
assert_eq "$bt" "$S 0 $N" "bpftrace @maps[size, ret]"
