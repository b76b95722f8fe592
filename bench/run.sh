#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# `make bench`: measure the DMA handler's cost per event on the host
# (bench/native_cost), then, for each guest kernel of BENCH_KVERS (default:
# every supported series installed, scripts/kver.sh --all), boot the VM
# once per stack per round, ours and that kernel's in-tree VFIO
# alternating (ROUNDS rounds, default 5; the stack that goes first
# alternates too), run bench/guest.sh in each boot, collect
# its "@@ bench" lines, print the tables (bench/report.py) and write them
# into docs/performance.md between its "bench:begin" and "bench:end"
# markers (when every part ran).  Each boot of ours also runs OBS_ROUNDS
# rounds (default 4) of the observability variants, so a run has
# ROUNDS x OBS_ROUNDS of them.
#
#   bench/run.sh    (O, BENCH_KVERS, ROUNDS, OBS_ROUNDS, OBS_CALLS,
#                    OBS_REPEAT, BENCH_PARTS, NATIVE_OBJECTS from the
#                    environment)
#
# OBS_CALLS: MAP+UNMAP pairs per workload run ("4k:N 64k:N"), OBS_REPEAT
# runs per variant and size (default 2).  BENCH_PARTS: what to run of
# "native sizes obs startup pin" (default all; without "sizes" or
# "startup" no in-tree boot).  NATIVE_OBJECTS: the BPF objects whose
# vfio_dma_map handler native_cost times, each OBJECT or OBJECT:OPTION
# (default: the collector's, alone, :--front-ends, :--front-ends=rows and
# :--front-ends=lat, then each tool's that has one; the exporter's where
# there is no collector).
#
# Raw results and console logs: $O/bench/runs/<run>/ (latest -> newest).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
export O=${O:-build}
BENCH_KVERS=${BENCH_KVERS:-$("$root/scripts/kver.sh" --all)}
[ -n "$BENCH_KVERS" ] || { echo "bench: no supported kernel installed (make deps)" >&2; exit 2; }
# The guest's clock source: the TSC, as on the hosts the tools are for.
# Under TCG the guest marks its TSC unstable (no invariant-TSC flag, so
# "TSCs unsynchronized") and falls back to the HPET, where every clock read
# is a system call from user space and an emulated device access from the
# kernel: our driver reads the clock 4 times per timed operation and the
# collector once per event when a front end asks, so with the HPET the
# clock weighs far more in the cost of watching than on any real host
# (docs/performance.md, Method).  QEMU's TCG TSC is the host's, which is
# stable and synchronized.  VM_APPEND= boots with the HPET again.
export VM_APPEND=${VM_APPEND-tsc=reliable}
ROUNDS=${ROUNDS:-5}
OBS_ROUNDS=${OBS_ROUNDS:-4}
OBS_CALLS=${OBS_CALLS:-4k:20000 64k:8000}
OBS_REPEAT=${OBS_REPEAT:-2}
BENCH_PARTS=${BENCH_PARTS:-native sizes obs startup pin}
[ "$ROUNDS" -ge 1 ] 2>/dev/null || { echo "bench: ROUNDS must be a number >= 1" >&2; exit 2; }
[ "$OBS_ROUNDS" -ge 1 ] 2>/dev/null || { echo "bench: OBS_ROUNDS must be a number >= 1" >&2; exit 2; }
part() { [[ " $BENCH_PARTS " == *" $1 "* ]]; }

run_id=$(date +%Y%m%d-%H%M%S)-$$
dir=$root/$O/bench/runs/$run_id
mkdir -p "$dir"
ln -sfn "$run_id" "$root/$O/bench/runs/latest"
results=$dir/results.txt
: >"$results"

start=$(date +%s)

# --- on the host: the DMA handler's cost per event, natively -------------------
# Not in the VM: TCG would time its translation, not the CPU.
native=
if part native; then
	# Under tests/vm/boot.sh's lock, so that no VM runs meanwhile: qemu on
	# the host's other core slows every call by ~1.4x, the handler's by ~2x.
	echo "# bench: waiting for the VM lock, to time the handlers on a quiet host" >&2
	exec 8>/tmp/vfioscope-vm.lock
	flock 8
	# The collector (the exporter's object before it), alone and with
	# what the front ends ask of it, then each tool's own programs.
	first=vfio-collector
	[ -f "$root/bpf/$first.bpf.c" ] || first=vfio-exporter
	if [ -n "${NATIVE_OBJECTS:-}" ]; then
		runs=$NATIVE_OBJECTS
	else
		runs="$root/$O/bpf/$first.bpf.o"
		[ "$first" != vfio-collector ] ||
			runs+=" $root/$O/bpf/$first.bpf.o:--front-ends $root/$O/bpf/$first.bpf.o:--front-ends=rows $root/$O/bpf/$first.bpf.o:--front-ends=lat"
		for src in "$root"/bpf/vfio-*.bpf.c; do
			n=$(basename "$src" .bpf.c)
			[ "$n" = "$first" ] || runs+=" $root/$O/bpf/$n.bpf.o"
		done
	fi
	for run in $runs; do
		obj=${run%%:*} opt=
		[ "$obj" = "$run" ] || opt=${run#*:}
		[ -f "$obj" ] || { echo "bench: $obj missing (make bench-progs)" >&2; exit 1; }
		echo "# bench: native cost of $obj's vfio_dma_map handler${opt:+ ($opt)}, on the host" >&2
		rc=0
		line=$("$root/$O/bench/native_cost" --object "$obj" $opt --spread 20 2>"$dir/native.err") || rc=$?
		if [ $rc -ne 0 ]; then
			# A tool without a DMA handler is not measured; any other
			# failure (not root, no BPF) is said, and the VM part runs.
			grep -q 'has no program' "$dir/native.err" && continue
			echo "bench: native_cost --object $obj $opt failed: $(tail -n 1 "$dir/native.err")" >&2
			native="native_cost failed: $(tail -n 1 "$dir/native.err")"
			break
		fi
		name=$(basename "$obj" .bpf.o)${opt:++${opt#--}}
		echo "round=native stack=host variant=native name=$name $line" >>"$results"
	done
	flock -u 8
	exec 8>&-
fi

vm_rounds=$ROUNDS
part sizes || part obs || part startup || part pin || vm_rounds=0
for KVER in $BENCH_KVERS; do
series=$(echo "$KVER" | cut -d. -f1,2)
for r in $(seq "$vm_rounds"); do
	# In-tree boots: the sizes, and the tools' start-up in fentry mode.
	if ! part sizes && ! part startup; then order=ours
	elif [ $((r % 2)) -eq 1 ]; then order="ours intree"; else order="intree ours"; fi
	for stack in $order; do
		job=$dir/$series-r$r-$stack.sh
		cat >"$job" <<-JOB
		#!/bin/bash
		export O=$O KVER=$KVER VFIOSCOPE_ROOT=$root VFIOSCOPE_BUILD=$root/$O
		export BENCH_PARTS="$BENCH_PARTS" OBS_ROUNDS=$OBS_ROUNDS OBS_CALLS="$OBS_CALLS" OBS_REPEAT=$OBS_REPEAT
		export OBS_ROUND0=$(((r - 1) * OBS_ROUNDS))
		bash $root/bench/guest.sh $stack 2>&1 | tee /dev/ttyS1
		exit \${PIPESTATUS[0]}
		JOB
		echo "# bench: $KVER, round $r/$ROUNDS, $stack stack ($(($(date +%s) - start))s so far)" >&2
		rc=0
		KVER=$KVER "$root/tests/vm/boot.sh" --timeout $((900 + 300 * OBS_ROUNDS)) \
			--log "${job%.sh}.log" --out "${job%.sh}.out" "$job" || rc=$?
		if [ $rc -ne 0 ]; then
			echo "bench: $KVER round $r ($stack) failed with status $rc; its output:" >&2
			tail -n 30 "${job%.sh}.out" >&2 || true
			echo "console log: ${job%.sh}.log" >&2
			exit 1
		fi
		grep -a '^@@ bench ' "${job%.sh}.out" | sed "s/^@@ bench /kernel=$series round=$r /" >>"$results"
	done
done
done

table=$dir/table.md
{
	echo "From \`make bench\` on $(date -u +%Y-%m-%d), Debian $(echo $BENCH_KVERS | sed 's/ / and /g')" \
		"guest$([ "$(echo $BENCH_KVERS | wc -w)" = 1 ] || echo s) under qemu TCG" \
		"($(nproc) host cores), $(($(date +%s) - start)) s for the whole run" \
		"(ROUNDS=$ROUNDS OBS_ROUNDS=$OBS_ROUNDS OBS_CALLS=\"$OBS_CALLS\" OBS_REPEAT=$OBS_REPEAT" \
		"BENCH_PARTS=\"$BENCH_PARTS\")."
	[ -z "$native" ] || { echo; echo "Native cost not measured: $native."; }
	echo
	python3 "$root/bench/report.py" "$results"
} >"$table"
cat "$table"

doc=$root/docs/performance.md
all_parts=true
for p in native sizes obs startup pin; do part $p || all_parts=false; done
if ! $all_parts; then
	echo "# bench: not every part ran (BENCH_PARTS=\"$BENCH_PARTS\"); table left in $table" >&2
elif [ -f "$doc" ] && grep -q '^<!-- bench:begin -->$' "$doc" && grep -q '^<!-- bench:end -->$' "$doc"; then
	python3 - "$doc" "$table" <<-'PYEOF'
	import sys
	doc, table = sys.argv[1], open(sys.argv[2]).read()
	s = open(doc).read()
	a = s.index("<!-- bench:begin -->\n") + len("<!-- bench:begin -->\n")
	b = s.index("<!-- bench:end -->")
	open(doc, "w").write(s[:a] + table + s[b:])
	PYEOF
	echo "# bench: table written into docs/performance.md (raw: $results)" >&2
else
	echo "# bench: docs/performance.md has no bench:begin/end markers; table left in $table" >&2
fi
