# SPDX-License-Identifier: GPL-2.0
# Shared helpers for guest tests (tests/vm/guest/*.sh), sourced inside the VM.
#
# A guest test is a bash script.  Exit 0 = pass, 77 = skip (print the reason
# first: a skip is never silent), anything else = fail.  The runner also
# fails a test that leaves a WARN, BUG, oops or hung-task report in dmesg.
#
# Environment set by guest-run.sh:
#   VFIOSCOPE_ROOT   the repository (the host's, read-only)
#   VFIOSCOPE_BUILD  its build folder
#   VFIOSCOPE_STACK  which VFIO stack this boot tests: ours | intree
#   MODDIR           our built modules (.ko)
#   PATH             includes $VFIOSCOPE_BUILD/tools and $VFIOSCOPE_BUILD/tests

fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*"; echo "$*" >"${VFIOSCOPE_SKIP_NOTE:-/dev/null}"; exit 77; }
log() { echo "# $*"; }

# assert_eq GOT WANT WHAT
assert_eq() {
	[ "$1" = "$2" ] || fail "$3: got '$1', want '$2'"
}

# Print the BDF of the first PCI device with vendor:device ($1 $2), or fail:
# a test that cannot find its device fails, it does not pass.
pci_find() {
	local d vendor device
	for d in /sys/bus/pci/devices/*; do
		read -r vendor <"$d/vendor" && read -r device <"$d/device" || continue
		if [ "$vendor" = "$1" ] && [ "$device" = "$2" ]; then
			echo "${d##*/}"
			return 0
		fi
	done
	fail "no PCI device $1:$2 in the VM"
}
edu_bdf() { pci_find 0x1234 0x11e8; }
e1000e_bdf() { pci_find 0x8086 0x10d3; }
# The transitional virtio-rng behind the PCIe-to-PCI bridge, beside the second edu.
virtio_rng_bdf() { pci_find 0x1af4 0x1005; }
# ivshmem-plain, whose register BAR0 (256 bytes) is smaller than a page.
ivshmem_bdf() { pci_find 0x1af4 0x1110; }
# QEMU's NVMe controller with SR-IOV (the PF; its VFs come at function 1 on).
nvme_bdf() { pci_find 0x1b36 0x0010; }
# QEMU's CXL type 3 memory device (boot flavour cxl only).
cxl_type3_bdf() { pci_find 0x8086 0x0d93; }

iommu_group_of() {
	local g
	g=$(readlink "/sys/bus/pci/devices/$1/iommu_group") || fail "$1 has no iommu_group"
	echo "${g##*/}"
}

# module_loaded NAME: whether loadable module NAME is loaded (initstate is
# there for a loadable module only).  The helpers below read sysfs with
# shell builtins: under TCG every fork+exec costs 30-60 ms, and every test
# loads and unloads the stack.
module_loaded() { [ -e "/sys/module/$1/initstate" ]; }
# module_refcnt NAME: its reference count.
module_refcnt() { local n; read -r n <"/sys/module/$1/refcnt" && echo "$n"; }

# Load the VFIO stack under test.  Ours comes from $MODDIR by insmod (never
# modprobe: depmod would rewire in-tree dependants to our vfio.ko).
load_stack() {
	case $VFIOSCOPE_STACK in
	ours)
		local m ko
		# vfio-pci is built in its own folder, kernel/pci/.
		for m in vfio vfio_iommu_type1 pci/vfio-pci; do
			ko=$MODDIR/$m.ko
			m=${m##*/}
			[ -f "$ko" ] || fail "module $ko not built"
			module_loaded "${m//-/_}" || insmod "$ko" ||
				fail "insmod $m.ko failed"
		done
		;;
	intree)
		# kmod's modprobe from the host's root, over 9p: it reads
		# /lib/modules/$(uname -r) and decompresses 6.12's .ko.xz.
		modprobe vfio-pci || fail "modprobe vfio-pci failed"
		modprobe vfio_iommu_type1 || fail "modprobe vfio_iommu_type1 failed"
		;;
	*) fail "unknown VFIOSCOPE_STACK '$VFIOSCOPE_STACK'" ;;
	esac
}

# Unload every VFIO module; fails if one will not go (a leaked reference).
# What the in-tree stack pulls in depends on the kernel: 6.1's vfio-pci
# brings vfio_pci_core, vfio_virqfd and irqbypass; 6.12's brings
# vfio_pci_core and irqbypass (virqfd is built into its vfio.ko, and
# Debian's 6.12 has no iommufd); ours may have none of them.  So each
# module is only removed when it is loaded, dependants first.
unload_stack() {
	local m
	for m in vfio_pci vfio_pci_core vfio_virqfd vfio_iommu_type1 vfio; do
		if module_loaded "$m"; then
			rmmod "$m" || fail "rmmod $m failed: a reference is still held"
		fi
	done
	# irqbypass is shared (kvm uses it too): only ours to remove when idle.
	if module_loaded irqbypass && [ "$(module_refcnt irqbypass)" = 0 ]; then
		rmmod irqbypass || fail "rmmod irqbypass failed: a reference is still held"
	fi
	for m in vfio_pci vfio_pci_core vfio_virqfd vfio_iommu_type1 vfio; do
		! module_loaded "$m" || fail "module $m is still loaded"
	done
	[ ! -e /dev/vfio/vfio ] || fail "/dev/vfio/vfio outlived the modules"
}

# load_stack, then vfio-pci again with its boolean parameter $1 set, as a
# host sets it: on the module's command line.
load_stack_with() {
	load_stack
	rmmod vfio_pci || fail "rmmod vfio_pci failed"
	case $VFIOSCOPE_STACK in
	ours) insmod "$MODDIR/pci/vfio-pci.ko" "$1=1" || fail "insmod vfio-pci $1=1 failed" ;;
	intree) modprobe vfio-pci "$1=1" || fail "modprobe vfio-pci $1=1 failed" ;;
	esac
	assert_eq "$(cat "/sys/module/vfio_pci/parameters/$1")" Y "vfio_pci $1"
}

# Bind PCI device $1 to vfio-pci (driver_override, as libvirt does).
bind_vfio() {
	local dev=/sys/bus/pci/devices/$1
	[ -e "$dev/driver" ] && echo "$1" >"$dev/driver/unbind"
	echo vfio-pci >"$dev/driver_override"
	echo "$1" >/sys/bus/pci/drivers_probe
	[ "$dev/driver" -ef /sys/bus/pci/drivers/vfio-pci ] ||
		fail "$1 did not bind to vfio-pci"
	local g
	g=$(iommu_group_of "$1")
	local i
	for ((i = 0; i < 50; i++)); do
		[ -c "/dev/vfio/$g" ] && return 0
		sleep 0.1
	done
	fail "/dev/vfio/$g did not appear"
}

# Unbind PCI device $1 from vfio-pci and give it back to its own driver, if
# it has one (e1000e does, edu does not), so the next test finds the bench
# as the boot left it.
unbind_vfio() {
	local dev=/sys/bus/pci/devices/$1
	[ -e "$dev/driver" ] && echo "$1" >"$dev/driver/unbind"
	echo >"$dev/driver_override"
	echo "$1" >/sys/bus/pci/drivers_probe 2>/dev/null || true
}

# The process's locked_vm in KiB (what type1 charges for pinned pages).
# file_has FILE TEXT: whether FILE contains TEXT, for polling loops: bash
# reads $(<FILE) itself, without a fork.
file_has() { [[ -r $1 && $(<"$1") == *"$2"* ]]; }

locked_vm_kb() { awk '/^VmLck:/ { print $2 }' "/proc/${1:-self}/status"; }

# Succeed when PCI device $1 has capability id $2 (0x05 MSI, 0x11 MSI-X)
# in its standard capability list, walked from config space.
pci_has_cap() {
	local cfg=/sys/bus/pci/devices/$1/config ptr id hops=0
	ptr=$(od -An -tu1 -j 0x34 -N1 "$cfg" | tr -d ' ')
	while [ "$ptr" -ne 0 ] && [ $hops -lt 48 ]; do
		read -r id next < <(od -An -tu1 -j "$ptr" -N2 "$cfg")
		[ "$id" -eq $(($2)) ] && return 0
		ptr=$next hops=$((hops + 1))
	done
	return 1
}

# Run a C test program (build/tests/NAME, on PATH) with its arguments.  Its
# PASS:/FAIL:/SKIP: lines go to the log.  Fails unless it exits 0 having
# passed at least one case: a program that died in its set-up passed nothing.
run_prog() {
	local out=/tmp/run_prog.$$ rc
	"$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	if [ "$rc" -ne 0 ]; then
		echo "FAIL: $1 exited with status $rc" >&2
		return 1
	fi
	grep -q '^PASS: ' "$out" || { echo "FAIL: $1 passed no case" >&2; return 1; }
	rm -f "$out"
}

# The standard frame of a uAPI test: load the stack, bind the devices named
# (edu, e1000e) to vfio-pci, run the programs, unbind, unload.  Every step
# must succeed, the unload included.
#   uapi_run "edu e1000e" prog1 prog2 ...
uapi_run() {
	local devs=$1 bdfs=() bdf d p rc=0
	shift
	load_stack
	for d in $devs; do
		bdf=$("${d}_bdf") || exit 1
		bind_vfio "$bdf"
		bdfs+=("$bdf")
	done
	for p in "$@"; do
		run_prog $p || rc=1
	done
	for bdf in "${bdfs[@]}"; do
		unbind_vfio "$bdf"
	done
	unload_stack
	return $rc
}

# The e1000e behind a PCIe root port (its bus's bridge is driven by
# pcieport): a slot or bus reset of it touches no other device.
# tests/vm/boot.sh always provides one.
e1000e_root_port_bdf() {
	local d up
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x8086 ] && [ "$(cat "$d/device")" = 0x10d3 ] || continue
		up=$(dirname "$(readlink -f "$d")")
		[ "$(basename "$(readlink "$up/driver")" 2>/dev/null)" = pcieport ] || continue
		echo "${d##*/}"
		return 0
	done
	fail "no e1000e behind a PCIe root port (see tests/vm/boot.sh)"
}

# An edu other than the first whose IOMMU group also holds a device bound
# to a host driver (the bench's second edu, behind the PCIe-to-PCI bridge
# with a virtio-rng on virtio_pci): bound to vfio-pci it makes a non-viable
# group.  tests/vm/boot.sh always provides one.
edu_nonviable_bdf() {
	local first d g o drv
	first=$(edu_bdf)
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] || continue
		[ "${d##*/}" != "$first" ] || continue
		g=$(readlink "$d/iommu_group") || continue
		for o in /sys/kernel/iommu_groups/${g##*/}/devices/*; do
			drv=$(basename "$(readlink "$o/driver")" 2>/dev/null)
			case $drv in
			"" | vfio-pci | pcieport) ;;
			*) echo "${d##*/}"; return 0 ;;
			esac
		done
	done
	fail "no edu in a group with a host-driven device (see tests/vm/boot.sh)"
}

# Every "# dma-fault read|write iova 0xN" marker in file $1 (printed by
# vfio_dma and vfio_security before a DMA the IOMMU must block) has its
# "DMAR: [DMA Read|Write] ... fault addr 0xN" line in dmesg.  Prints how
# many were matched; fails if one is missing or fewer than $2 were seen.
dmar_faults_check() {
	local n=0 dir kind iova seen
	while read -r _ _ dir _ iova; do
		case $dir in
		write) kind=Write ;;
		read) kind=Read ;;
		*) fail "bad marker direction '$dir'" ;;
		esac
		seen=
		for _ in $(seq 30); do
			if dmesg | grep -q "DMAR: \[DMA $kind.*fault addr $iova "; then
				seen=1
				break
			fi
			sleep 0.1
		done
		[ -n "$seen" ] || { dmesg | grep DMAR | tail -n 10; fail "no DMAR $kind fault for iova $iova in dmesg"; }
		log "DMAR $kind fault reported for iova $iova"
		n=$((n + 1))
	done < <(grep '^# dma-fault ' "$1")
	[ "$n" -ge "$2" ] || fail "expected at least $2 blocked DMAs, saw $n markers"
	echo "$n"
}

# /proc/vmstat's FOLL_PIN counters: "acquired released".  The counters
# live per CPU and are folded into /proc/vmstat only past a threshold or
# once a second: stat_refresh folds them now, or the two drift apart by a
# few pages for a while and look like a leak (or a negative one).
foll_pins() {
	echo 1 >/proc/sys/vm/stat_refresh 2>/dev/null
	awk '/^nr_foll_pin_acquired / { a = $2 } /^nr_foll_pin_released / { r = $2 }
	     END { print a, r }' /proc/vmstat
}

# Fail unless every page pinned with FOLL_PIN since boot was released.
assert_no_pins_held() {
	local a r
	read -r a r < <(foll_pins)
	[ "$a" = "$r" ] || fail "${1:-pins}: nr_foll_pin_acquired $a != nr_foll_pin_released $r"
}

# fuzz_run SEED OPS THREADS PROCS: the fuzzer's frame (fuzz-short.sh and
# `make fuzz`; $FUZZ_FLAGS, if set, are extra vfio_fuzz options): bind
# edu and e1000e, run vfio_fuzz with the hung-task
# detector at 20 s, then check that every pin was released, that the
# devices still work for a plain open, and that every module unloads.
fuzz_run() {
	local seed=$1 ops=$2 threads=$3 procs=$4 bdfs=() bdf d start rc=0 hung
	log "FOLL_PIN acquired/released before: $(foll_pins)"
	load_stack
	for d in edu e1000e; do
		bdf=$("${d}_bdf") || exit 1
		bind_vfio "$bdf"
		bdfs+=("$bdf")
	done
	hung=$(cat /proc/sys/kernel/hung_task_timeout_secs 2>/dev/null)
	[ -z "$hung" ] || echo 20 >/proc/sys/kernel/hung_task_timeout_secs
	start=$(date +%s)
	# shellcheck disable=SC2086
	run_prog vfio_fuzz -s "$seed" -n "$ops" -t "$threads" -p "$procs" ${FUZZ_FLAGS:-} || rc=1
	log "fuzzed $ops ops in $(($(date +%s) - start)) s (seed $seed, $procs x $threads)"
	[ -z "$hung" ] || echo "$hung" >/proc/sys/kernel/hung_task_timeout_secs
	[ $rc -eq 0 ] || fail "vfio_fuzz failed (replay: vfio_fuzz -s $seed -n $ops -t $threads -p $procs)"
	assert_no_pins_held "after the fuzzer"
	log "FOLL_PIN acquired/released: $(foll_pins)"
	# The stack still works after all that.
	run_prog vfio_dma test_round_trip_page || fail "a DMA round trip after fuzzing failed"
	for bdf in "${bdfs[@]}"; do
		unbind_vfio "$bdf"
	done
	unload_stack
}

# Config space through Debian's in-tree vfio-pci and through ours, in one
# boot: pci_config_transcript over each device named (NAME_bdf above) with
# the same seed on both stacks, and the transcripts must be equal.  Each
# device is left unbound between the stacks, not given back to its own
# driver, so that the second stack meets it as the first left it.
#   [CFG_SEED=... CFG_OPS=...] config_differential DEVICE...
config_differential() {
	local seed=${CFG_SEED:-0x5eed0f1f0} ops=${CFG_OPS:-3000} stack d bdf n bad=0
	for stack in intree ours; do
		VFIOSCOPE_STACK=$stack load_stack
		for d in "$@"; do
			bdf=$("${d}_bdf") || exit 1
			bind_vfio "$bdf"
			pci_config_transcript "$bdf" "$seed" "$ops" >"/tmp/cfg-$stack-$d.txt" ||
				fail "pci_config_transcript $bdf failed on $stack"
			echo "$bdf" >"/sys/bus/pci/devices/$bdf/driver/unbind"
		done
		VFIOSCOPE_STACK=$stack unload_stack
	done
	for d in "$@"; do
		bdf=$("${d}_bdf")
		unbind_vfio "$bdf"
		n=$(grep -c '^[RWU] ' "/tmp/cfg-ours-$d.txt")
		[ "$n" -ge "$ops" ] || fail "$d: $n accesses in the transcript, want $ops or more"
		log "$d ($bdf): $n accesses, seed $seed," \
		    "$(grep -m2 'reset\|MSI on' "/tmp/cfg-ours-$d.txt" | tr -d '#' | tr '\n' ' ')"
		if ! cmp -s "/tmp/cfg-intree-$d.txt" "/tmp/cfg-ours-$d.txt"; then
			echo "FAIL: $d: config space differs (- in-tree, + ours):" >&2
			diff -U2 "/tmp/cfg-intree-$d.txt" "/tmp/cfg-ours-$d.txt" | head -n 400 >&2
			bad=1
		fi
	done
	[ $bad -eq 0 ] || exit 1
}
