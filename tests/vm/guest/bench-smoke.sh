#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/ keeps working: the workload (build/bench/vfio_bench) with tiny
# counts on our stack, at 4 KiB, at 2 MiB backed by THP and by hugetlbfs,
# and in pin-only mode through vfio_pin_bench.ko.  Every line must carry
# sane numbers: as many calls as asked, min <= p50 <= max, all positive,
# throughput positive, and the huge-page rows really huge-page backed.
# The real benchmark is `make bench` (bench/run.sh).
# vm-stack: ours
# vm-timeout: 60
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

PATH=$VFIOSCOPE_BUILD/bench:$PATH
N=8
echo 2 >/proc/sys/vm/nr_hugepages
[ "$(cat /proc/sys/vm/nr_hugepages)" -ge 1 ] || skip "no hugetlb page could be reserved"

# check LINE OP SIZE: the fields of one vfio_bench line.
check() {
	local line=$1 op=$2 size=$3 a b
	log "$line"
	a=$op b=un$op
	$PY_CHECK - "$line" "$a" "$b" "$size" "$N" <<-'PYEOF' || fail "vfio_bench printed bad numbers: $line"
	import sys
	line, a, b, size, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
	f = dict(kv.split("=", 1) for kv in line.split())
	assert f["op"] == a, "op"
	assert int(f["size"]) == size, "size"
	assert int(f["n"]) == n, "count"
	for o in (a, b):
	    lo, mid, hi = (int(f["%s_%s" % (o, k)]) for k in ("min", "p50", "max"))
	    assert 0 < lo <= mid <= hi < 10**10, o
	    assert float(f["%s_gib_s" % o]) > 0, o + " GiB/s"
	assert float(f["pair_ops_s"]) > 0, "ops/s"
	if f["backing"] in ("thp", "hugetlb"):
	    assert int(f["huge_kb"]) * 1024 >= size, "huge pages"
	PYEOF
}
PY_CHECK=/usr/bin/python3

load_stack
bdf=$(edu_bdf)
bind_vfio "$bdf"
trap 'unbind_vfio "$bdf"; unload_stack; rmmod vfio_pin_bench 2>/dev/null' EXIT

check "$(vfio_bench -s 4K -n $N)" map 4096
check "$(vfio_bench -s 2M -b thp -n $N)" map $((2 << 20))
check "$(vfio_bench -s 2M -b hugetlb -n $N)" map $((2 << 20))
# The IOVA comes from GET_INFO's valid ranges and is size aligned.
line=$(vfio_bench -s 64M -n 2 -w 0)
iova=$(echo "$line" | sed -n 's/.* iova=\(0x[0-9a-f]*\) .*/\1/p')
[ -n "$iova" ] && [ $((iova % (64 << 20))) -eq 0 ] && [ $((iova)) -gt 0 ] ||
	fail "64 MiB mapping at a bad IOVA: $line"

insmod "$MODDIR/testing/vfio_pin_bench.ko" || fail "insmod vfio_pin_bench.ko failed"
check "$(vfio_bench --pin -s 4K -n $N)" pin 4096
check "$(vfio_bench --pin -s 2M -b thp -n $N)" pin $((2 << 20))
rmmod vfio_pin_bench || fail "rmmod vfio_pin_bench failed"
# Nothing stays pinned or charged once the workload is gone.
[ "$(locked_vm_kb self)" = 0 ] || fail "the shell has locked memory: $(locked_vm_kb self) KiB"
