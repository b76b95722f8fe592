#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# vfio-leak against ground truth, in both attach modes (tp_btf, raw_tp)
# with programs of its own, and reading the collector vfio-exporter runs
# (holding no BPF program then):
#  - clean: a workload and K external-user get/put pairs through the
#    consumer module leave no reference outstanding, nothing held after
#    close, no imbalance;
#  - leak: K references leaked by the consumer module (GROUP_LEAK) after
#    the program closed every fd are reported as exactly K holders of a
#    container held after its fd closed, each naming the consumer module
#    in its symbolized caller and stack; once the module puts them, the
#    periodic report shows everything released, with no imbalance.
# No event lost, none missing from the stream, nothing reconciled for
# good (a count race is restored by the object's next event); every
# holder carries the stack copied into its record.
# vm-stack: ours
# vm-timeout: 300
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"
. "$VFIOSCOPE_ROOT/tests/vm/tools-lib.sh"

K=3
LEAKS=/sys/kernel/debug/vfio_consumer/leaks
load_stack
insmod "$MODDIR/testing/vfio_consumer.ko" || fail "insmod vfio_consumer failed"
bdf=$(edu_bdf)
bind_vfio "$bdf"
trap 'tool_kill_all; echo release >$LEAKS; rmmod vfio_consumer; unbind_vfio "$bdf"; unload_stack' EXIT
[ -c /dev/vfio-consumer ] || fail "/dev/vfio-consumer missing"

# check_leak MODE FILE LINE K: report number LINE (1-based, -1: the last)
# of FILE must show exactly K leaked external users (0: a clean state).
check_leak() {
	$PY - "$@" <<-'PYEOF'
	import json, sys
	mode, path, line, k = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
	lines = [json.loads(l) for l in open(path)]
	r = lines[line if line < 0 else line - 1]
	from toolcheck import Checks
	checks = Checks()
	check, bad = checks.check, checks.bad
	check("attach", r["attach"], mode)
	check("lost", r["lost"]["total"], 0)
	check("overflow", r["overflow"], 0)
	check("imbalances", r["imbalances_total"], 0)
	check("records missing from the stream", r["missed"], 0)
	check("gets reconciled for good", r["reconciled"] - r["restored"], 0)
	check("outstanding external users", r["outstanding_external"], k)
	conts = [o for o in r["orphaned"] if o["kind"] == "container"]
	groups = [o for o in r["orphaned"] if o["kind"] == "group"]
	check("containers held after close", len(conts), 1 if k else 0)
	check("groups held after close", len(groups), 1 if k else 0)
	check("other objects held after close", len(r["orphaned"]) - len(conts) - len(groups), 0)
	holders = [h for c in conts for h in c["holders"]]
	check("leaks (external users holding a closed container)", len(holders), k)
	for c in conts:
	    check("container %d external users" % c["id"], c["external_users"], k)
	for h in holders:
	    print("# holder: %s[%d] caller %s" % (h["comm"], h["pid"], h["caller"]))
	    for f in h["stack"][:6]:
	        print("#     %s" % f)
	    check("holder caller in the consumer module", "[vfio_consumer]" in h["caller"], True)
	    check("holder stack through the consumer module",
	          any("[vfio_consumer]" in f for f in h["stack"]), True)
	    check("holder comm", h["comm"], "vfio_leaker")
	    check("holder stack lost", h["stack_lost"], False)
	if k == 0:
	    check("references outstanding", r["outstanding"], 0)
	    check("references held", r["held"], [])
	checks.done()
	PYEOF
}

for variant in tp_btf raw_tp collector; do
	if [ $variant = collector ]; then
		mode=tp_btf
		how=()
		tool_start exporter vfio-exporter
	else
		mode=$variant
		how=(--attach "$mode")
	fi
	log "--- $variant: clean run (workload, $K get/put pairs)"
	tool_start leakj vfio-leak "${how[@]}" -j
	vfio_workload -n 10 -s 8192 >/dev/null || fail "vfio_workload failed"
	vfio_leaker --clean $K || fail "vfio_leaker --clean failed"
	tool_stop leakj
	check_leak "$mode" /tmp/leakj.out -1 0 || fail "vfio-leak ($variant) clean run: see above"

	log "--- $variant: $K deliberate leaks"
	tool_start leakj vfio-leak "${how[@]}" -j 1
	if [ $variant = collector ]; then
		n=$(grep -l '^link_type' /proc/"$TOOL_PID_leakj"/fdinfo/* 2>/dev/null | wc -l)
		[ "$n" = 0 ] || fail "vfio-leak reading the collector holds $n BPF links"
	fi
	tool_start leakt vfio-leak "${how[@]}" -v
	vfio_leaker --leak $K >/tmp/leaker.txt || fail "vfio_leaker --leak failed"
	cat /tmp/leaker.txt
	assert_eq "$(cat $LEAKS)" $K "leaks the module holds"
	sleep 2.5
	leaked=$(wc -l </tmp/leakj.out)
	echo release >$LEAKS || fail "release of the leaks failed"
	assert_eq "$(cat $LEAKS)" 0 "leaks the module holds after release"
	sleep 2.5
	tool_stop leakj
	tool_stop leakt
	check_leak "$mode" /tmp/leakj.out "$leaked" $K || fail "vfio-leak ($variant) leak report: see above"
	check_leak "$mode" /tmp/leakj.out -1 0 || fail "vfio-leak ($variant) after release: see above"
	if [ $variant = collector ]; then
		# The second vfio-leak could not claim the collector's stack ring: its own programs.
		grep -q "^vfio-leak: another vfio-leak reads the collector" /tmp/leakt.err ||
			fail "vfio-leak -v, second reader: $(cat /tmp/leakt.err)"
		tool_stop exporter
	else
		grep -q "^vfio-leak: attaching with $mode: " /tmp/leakt.err ||
			fail "vfio-leak -v ($mode): $(grep attaching /tmp/leakt.err)"
	fi
	# Text, at Ctrl-C (after the release): nothing held, no imbalance.
	grep -q "^Imbalances: 0$" /tmp/leakt.out || fail "vfio-leak text ($mode): $(grep Imbalances /tmp/leakt.out)"
	grep -q "gets outstanding (0 external users).*missed 0, .*lost events: 0$" /tmp/leakt.out ||
		fail "vfio-leak text ($mode): $(head -n 1 /tmp/leakt.out)"
	! grep -q "stack lost" /tmp/leakt.out || fail "vfio-leak text ($mode): a stack was lost"
done

# A text report while the leaks are held (the README's excerpt).
tool_start leakt vfio-leak --stack-depth 6
vfio_leaker --leak 1 >/dev/null || fail "vfio_leaker --leak 1 failed"
sleep 1
tool_stop leakt
grep -A8 '^Held after every fd was closed:' /tmp/leakt.out
grep -A1 '^Held after every fd was closed:' /tmp/leakt.out | grep -q '^  container [0-9]*: fd closed' ||
	fail "vfio-leak text: no container held after close"
grep -A12 '^Held after every fd was closed:' /tmp/leakt.out | grep -q 'caller .*\[vfio_consumer\]' ||
	fail "vfio-leak text: no holder in vfio_consumer"
grep -A12 '^Held after every fd was closed:' /tmp/leakt.out | grep -q '^      vfio_group_get_external_user+' ||
	fail "vfio-leak text: no stack under the holder"
! grep -q '\[stack lost\]' /tmp/leakt.out || fail "vfio-leak text: a stack was lost"
