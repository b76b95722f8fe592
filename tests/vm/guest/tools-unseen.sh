#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# No silent zero (issue 12): VFIO in use through a path the tools cannot
# see, iommufd's /dev/iommu or the device cdev /dev/vfio/devices/vfioN, is
# named by vfio-top, vfio-lat and vfio-leak.  Debian's 6.1 has neither, and
# the tools match paths, so the test makes the nodes where they are
# missing (char 1:3, /dev/null's numbers) and holds them open from two
# processes: A holds the cdev, B holds /dev/iommu and the cdev.
#  - nodes there, nothing held: "unseen" is [] in every JSON report and no
#    warning line is printed;
#  - held: "unseen" lists A and B with pid, comm and how, in every report;
#    the text line under vfio-top's header names both, exactly; vfio-lat
#    and vfio-leak say the same at start and in their reports; -p keeps
#    only that process;
#  - a running vfio-top drops them once they exit (it re-checks the
#    processes it lists every report), and a new one shows [].
# On our stack only: the scan reads /proc, whatever the tools attach to,
# and the line is printed by the same code in every attach mode (the
# fentry run added 40 s to make check for nothing new).
# vm-stack: ours
# vm-timeout: 240
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"

made=()		# nodes and folders we made, removed in reverse order
holders=()
cleanup() {
	local i
	[ ${#holders[@]} -eq 0 ] || kill "${holders[@]}" 2>/dev/null
	wait 2>/dev/null
	for ((i = ${#made[@]} - 1; i >= 0; i--)); do
		if [ -d "${made[i]}" ]; then rmdir "${made[i]}"; else rm -f "${made[i]}"; fi
	done
	unload_stack
}
load_stack
trap cleanup EXIT

# mknod_null PATH: a char node with /dev/null's numbers, made and noted.
mknod_null() {
	mknod "$1" c 1 3 || fail "mknod $1 failed"
	made+=("$1")
}
iommu=/dev/iommu
[ -e $iommu ] || mknod_null $iommu
if [ ! -d /dev/vfio/devices ]; then
	[ -d /dev/vfio ] || fail "no /dev/vfio with the stack loaded"
	mkdir /dev/vfio/devices || fail "mkdir /dev/vfio/devices failed"
	made+=(/dev/vfio/devices)
	cdev=/dev/vfio/devices/vfio0
else
	# A kernel with the cdev: a node of our own next to the real ones.
	cdev=/dev/vfio/devices/vfioscope-test
fi
mknod_null $cdev
log "watched nodes: $iommu $cdev"

# check_json FILE WANT: every report's "unseen" is WANT, a JSON list.
check_json() {
	$PY - "$1" "$2" <<-'PYEOF' || fail "$1: see above"
	import json, sys
	from toolcheck import Checks
	lines = [json.loads(l) for l in open(sys.argv[1])]
	want = json.loads(sys.argv[2])
	checks = Checks()
	if not lines:
	    sys.exit("%s: no report" % sys.argv[1])
	for i, l in enumerate(lines):
	    checks.check("%s report %d unseen" % (sys.argv[1], i), l.get("unseen", "absent"), want)
	checks.done()
	PYEOF
}

log "--- nodes there, nothing held"
vfio-top -j 1 2 >/tmp/top0.json 2>/tmp/top0.err || fail "vfio-top -j 1 2 failed"
check_json /tmp/top0.json '[]'
vfio-top -b 1 1 >/tmp/top0.txt 2>>/tmp/top0.err || fail "vfio-top -b 1 1 failed"
! grep -n 'warning' /tmp/top0.txt /tmp/top0.err || fail "vfio-top warns with nothing held"
vfio-lat -j 1 1 >/tmp/lat0.json 2>/tmp/lat0.err || fail "vfio-lat -j 1 1 failed"
check_json /tmp/lat0.json '[]'
! grep -n 'warning' /tmp/lat0.err || fail "vfio-lat warns with nothing held"

log "--- held by A (the cdev) and B (/dev/iommu and the cdev)"
# A program of our own name, so comm is known: comm is the file's name.
cp /bin/sleep /tmp/unseen_holder
made+=(/tmp/unseen_holder)
bash -c 'exec 3<"$1"; exec /tmp/unseen_holder 600' _ $cdev &
a=$!
bash -c 'exec 3<"$1" 4<"$2"; exec /tmp/unseen_holder 600' _ $iommu $cdev &
b=$!
holders=($a $b)
for i in $(seq 100); do
	[ "$(cat /proc/$a/comm /proc/$b/comm 2>/dev/null)" = "unseen_holder
unseen_holder" ] && break
	sleep 0.1
done
[ "$(readlink /proc/$b/fd/4)" = $cdev ] || fail "holder B does not hold $cdev"
log "A=$a B=$b"
want=$(printf '[{"pid":%d,"comm":"unseen_holder","via":["cdev"]},{"pid":%d,"comm":"unseen_holder","via":["iommufd","cdev"]}]' $a $b)
line="warning: 2 processes use VFIO through iommufd/cdev, not seen: $a unseen_holder (cdev), $b unseen_holder (iommufd, cdev)"

vfio-top -j 1 2 >/tmp/top1.json 2>/tmp/top1.err || fail "vfio-top -j 1 2 failed"
check_json /tmp/top1.json "$want"
grep -qxF "$line" /tmp/top1.err || fail "vfio-top -j: no start line '$line' in: $(cat /tmp/top1.err)"
vfio-top -b 1 1 >/tmp/top1.txt 2>/dev/null || fail "vfio-top -b 1 1 failed"
head -n 3 /tmp/top1.txt
# One line, right under the header.
assert_eq "$(sed -n 2p /tmp/top1.txt)" "$line" "vfio-top's line under its header"
assert_eq "$(grep -c warning /tmp/top1.txt)" 1 "vfio-top warning lines"
vfio-top -j -p $a 1 1 >/tmp/top1p.json 2>/dev/null || fail "vfio-top -j -p $a failed"
check_json /tmp/top1p.json "$(printf '[{"pid":%d,"comm":"unseen_holder","via":["cdev"]}]' $a)"

vfio-lat -j 1 1 >/tmp/lat1.json 2>/tmp/lat1.err || fail "vfio-lat -j 1 1 failed"
check_json /tmp/lat1.json "$want"
grep -qxF "$line" /tmp/lat1.err || fail "vfio-lat: no start line in: $(cat /tmp/lat1.err)"
vfio-lat 1 1 >/tmp/lat1.txt 2>/dev/null || fail "vfio-lat 1 1 failed"
assert_eq "$(grep -c -xF "$line" /tmp/lat1.txt)" 1 "vfio-lat's line in its report"
if [ "$VFIOSCOPE_STACK" = ours ]; then
	# vfio-leak needs our events; Debian's VFIO has none.
	vfio-leak -j 1 1 >/tmp/leak1.json 2>/tmp/leak1.err || fail "vfio-leak -j 1 1 failed"
	check_json /tmp/leak1.json "$want"
	grep -qxF "$line" /tmp/leak1.err || fail "vfio-leak: no start line in: $(cat /tmp/leak1.err)"
	vfio-leak 1 1 >/tmp/leak1.txt 2>/dev/null || fail "vfio-leak 1 1 failed"
	assert_eq "$(sed -n 2p /tmp/leak1.txt)" "$line" "vfio-leak's line under its header"
fi

log "--- a running vfio-top, then the holders exit"
tool_start topj vfio-top -j 1
sleep 2.5
kill $a $b
wait $a $b 2>/dev/null
holders=()
sleep 2.5
tool_stop topj
$PY - /tmp/topj.out "$want" <<'PYEOF' || fail "vfio-top -j through the exits: see above"
import json, sys
from toolcheck import Checks
lines = [json.loads(l) for l in open(sys.argv[1])]
want = json.loads(sys.argv[2])
checks = Checks()
seen = [l["unseen"] for l in lines]
print("# unseen per report:", [len(u) for u in seen])
checks.check("first report", seen[0], want)
checks.check("last two reports", seen[-2:], [[], []])
# In between only A and B, as they were: never another process, never a
# stale comm or via (one may exit a report before the other).
checks.check("entries not A or B", [e for u in seen for e in u if e not in want], [])
checks.done()
PYEOF

log "--- nothing held again"
vfio-top -j 1 1 >/tmp/top2.json 2>/tmp/top2.err || fail "vfio-top -j 1 1 failed"
check_json /tmp/top2.json '[]'
! grep -n warning /tmp/top2.err || fail "vfio-top warns after the holders exited"
log "unseen VFIO use named by every tool while held, and only then"
