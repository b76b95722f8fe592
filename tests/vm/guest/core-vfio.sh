#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Smoke test of vfio.ko + vfio_iommu_type1.ko (tests/vm/progs/core_vfio.c):
# the modules load and unload cleanly, the container answers alone, and
# with edu bound to vfio-pci: pins and locked_vm come back after unmap,
# after closing fds in every order and after SIGKILL; dma_entry_limit and
# RLIMIT_MEMLOCK give ENOSPC and ENOMEM.  Runs on the in-tree stack too, so
# the reference behaviour is checked by the same program.
# vm-kernel: 6.1 6.12
# vm-stack: ours intree
# vm-timeout: 240
. "$VFIOSCOPE_ROOT/tests/vm/lib.sh"

param=/sys/module/vfio_iommu_type1/parameters/dma_entry_limit

# Until vfio-pci.ko is built, our stack is tested without a device.
have_pci=1
case $VFIOSCOPE_STACK in
ours)
	for m in vfio vfio_iommu_type1; do
		insmod "$MODDIR/$m.ko" || fail "insmod $m.ko failed"
	done
	[ -c /dev/vfio/vfio ] || fail "/dev/vfio/vfio did not appear"
	assert_eq "$(stat -c %t:%T /dev/vfio/vfio)" "a:c4" "/dev/vfio/vfio major:minor"
	[ -f "$MODDIR/pci/vfio-pci.ko" ] || [ -f "$MODDIR/vfio-pci.ko" ] || have_pci=0
	;;
intree)
	load_stack
	;;
esac

run_prog core_vfio test_container test_many_containers || fail "container cases failed"

if [ $have_pci = 1 ]; then
	load_stack
	bdf=$(edu_bdf)
	bind_vfio "$bdf"
	export EDU_BDF=$bdf EDU_GROUP=$(iommu_group_of "$bdf")
	log "edu $EDU_BDF in group $EDU_GROUP"
	run_prog core_vfio test_map_accounting test_close_orders \
		test_group_exclusive test_killed test_memlock || fail "edu cases failed"
	old=$(cat $param)
	echo 4 >$param
	ENTRY_LIMIT_4=1 run_prog core_vfio test_entry_limit || fail "dma_entry_limit case failed"
	echo "$old" >$param

	# Unbinding waits for the open device fd, and then completes.
	HOLD_SECS=3 core_vfio test_hold_device >/tmp/hold.out 2>&1 &
	holder=$!
	for i in $(seq 50); do grep -q holding /tmp/hold.out && break; sleep 0.1; done
	grep -q holding /tmp/hold.out || fail "holder did not start: $(cat /tmp/hold.out)"
	start=$(date +%s%N)
	unbind_vfio "$bdf"
	ms=$(( ($(date +%s%N) - start) / 1000000 ))
	wait $holder || fail "holder failed: $(cat /tmp/hold.out)"
	log "unbind took ${ms} ms with the device fd held"
	[ $ms -ge 1500 ] || fail "unbind did not wait for the device fd (${ms} ms)"
	[ ! -e "/sys/bus/pci/devices/$bdf/driver" ] || fail "$bdf still bound after unbind"
	[ ! -e "/dev/vfio/$EDU_GROUP" ] || fail "/dev/vfio/$EDU_GROUP outlived its last device"
fi

unload_stack
[ -d /dev/vfio ] && [ -n "$(ls /dev/vfio)" ] && fail "left in /dev/vfio: $(ls /dev/vfio)"
[ $have_pci = 1 ] || skip "vfio-pci.ko not built yet: only the container and module load/unload were tested"
exit 0
