#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`'s scenario, as a test: it runs to the end, and what it shows
# is right: 233 maps seen by vfio-lat, the leak named in the consumer's leak
# function, the exporter serving, and the perf plots drawn.
# vm-stack: ours
# vm-timeout: 240
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

out=/tmp/demo-out
mkdir -p "$out"
bash "$VFIOSCOPE_ROOT/tests/vm/demo.sh" "$out" >/tmp/demo.txt 2>&1
rc=$?
sed 's/\x1b\[[0-9;]*m//g' /tmp/demo.txt >/tmp/demo.plain
[ $rc -eq 0 ] || { tail -n 30 /tmp/demo.plain; fail "demo.sh exited with $rc"; }

grep -q '^map: 233 ops (failed 0' /tmp/demo.plain || fail "vfio-lat did not see 233 maps"
grep -A3 '^Held after every fd was closed:' /tmp/demo.plain |
	grep -q 'caller vfio_consumer_group_leak+0x[0-9a-f]* \[vfio_consumer\]' ||
	fail "vfio-leak did not name the consumer's leak"
grep -q '^vfioscope_stale_references{kind="external_user"} 1$' /tmp/demo.plain ||
	fail "the exporter did not show the stale external user"
grep -q '192.0M *49152' /tmp/demo.plain || fail "vfio-top did not show 192 MiB mapped, 49152 pages pinned"
for f in vfio-latency.png vfio-heatmap.png vfio-latency.svg vfio-heatmap.svg; do
	[ -s "$out/$f" ] || fail "no $f"
done
assert_eq "$(head -c 4 "$out/vfio-heatmap.png" | od -An -tx1 | tr -d ' ')" 89504e47 "PNG magic"
