#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The guest side of `make demo`.  For now it shows the test bench itself:
# the emulated IOMMU and edu, a module of ours with module BTF, and a BPF
# program from our build chain counting its tracepoint exactly.
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$root/${O:-build}
moddir=$build/kernel/$(uname -r)/modules
export PATH=$build/tests:$build/tools:$PATH
step() { printf '\n=== %s\n' "$*"; }

step "guest kernel"
uname -a
step "IOMMU groups (emulated Intel VT-d)"
for g in /sys/kernel/iommu_groups/*; do
	printf 'group %-3s %-8s %s\n' "${g##*/}" "$(cat "$g/type")" "$(ls "$g/devices" | tr '\n' ' ')"
done
step "the edu device (QEMU's DMA-capable teaching device)"
for d in /sys/bus/pci/devices/*; do
	[ "$(cat "$d/vendor"):$(cat "$d/device")" = 0x1234:0x11e8 ] &&
		echo "${d##*/}: vendor 0x1234 device 0x11e8, iommu group $(basename "$(readlink "$d/iommu_group")")"
done
step "a module of ours, with module BTF"
insmod "$moddir/testing/vfioscope_smoke.ko"
ls /sys/kernel/btf/vfioscope_smoke && ls /sys/kernel/tracing/events/vfioscope_smoke/
step "a CO-RE BPF program counting its tracepoint (tp_btf, then raw_tp)"
echo "smoke_count tp_btf 1000: $(smoke_count tp_btf 1000)"
echo "smoke_count raw_tp 1000: $(smoke_count raw_tp 1000)"
rmmod vfioscope_smoke && echo "module unloaded cleanly"
step "summary"
echo "The bench boots Debian's 6.1 kernel with a translating IOMMU and edu,"
echo "loads our modules with BTF, and our BPF programs see every event."
