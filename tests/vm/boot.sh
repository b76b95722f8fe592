#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot the test VM once and run a job script inside it.
#
#   boot.sh [--timeout S] [--mem MB] [--log FILE] [--out FILE|-]
#           [--export DIR] [--boot FLAVOUR] JOB
#
# The guest is Debian's kernel $KVER (default: the newest 6.1; 6.12 boots
# too, from the initramfs `make KVER=... vm-image` builds for it) under
# TCG on q35 with an emulated Intel IOMMU, QEMU's edu device (DMA, MSI) and an e1000e (MSI-X), each in its
# own IOMMU group, behind a PCIe-to-PCI bridge a second edu sharing
# its group with a virtio-rng that virtio_pci drives (a non-viable group),
# and behind a PCIe root port a second e1000e, alone on its bus: a bus
# reset (VFIO_DEVICE_PCI_HOT_RESET) resets it and nothing else.  The root
# port's link is 5 GT/s: QEMU 7.2's root port does not show Data Link Layer
# Link Active after a secondary bus reset, and on a faster link the kernel
# waits for it, 1 s, then fails the reset (ENOTTY, on both VFIO stacks);
# up to 5 GT/s it waits a fixed 100 ms instead.  It sees the
# host's / read-only with a tmpfs overlay, so our build folder and every
# installed tool are there at the same paths.  JOB is a host path to a bash
# script run as root inside the guest.
#
# ttyS0 (the console: kernel and job) goes to --log; ttyS1 (the job's own
# output, free of kernel lines) to --out.  --export DIR shares DIR with
# the guest read-write at the same path: what the job writes there (plots,
# results) is on the host afterwards.  --boot picks a variant of the
# machine: intremap-off gives the IOMMU no interrupt remapping (what type1's
# allow_unsafe_interrupts is about); private-root is the default machine in
# a boot of its own, for a test that changes the guest's root; cxl adds a
# CXL type 3 memory device (its extended capabilities: DVSECs, a DOE
# mailbox) behind a CXL host bridge and root port, in an IOMMU group of its
# own, with no driver in the guest.  Exit
# status: the job's, or 124 on timeout, 125 when the guest died before the
# job finished.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
O=${O:-build}
KVER=${KVER:-$("$root/scripts/kver.sh")}

timeout=300 mem=2048 log=/dev/null out=/dev/null export_dir= intremap=on
machine=q35 flavour_args=()
while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=$2; shift 2 ;;
	--mem) mem=$2; shift 2 ;;
	--log) log=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	--export) export_dir=$(mkdir -p "$2" && cd "$2" && pwd); shift 2 ;;
	--boot)
		case $2 in
		intremap-off) intremap=off ;;
		# The default machine, in a boot of its own: the test installs
		# packages into the guest's root (its tmpfs overlay), which
		# no other test should see.
		private-root) ;;
		# Its memory (256 MiB, the unit of its CXL range registers)
		# and label area are allocated as the guest touches them: it
		# never does.
		cxl)
			machine=q35,cxl=on
			flavour_args=(-object memory-backend-ram,id=cxlmem0,size=256M
				-object memory-backend-ram,id=cxllsa0,size=1M
				-device pxb-cxl,bus_nr=12,bus=pcie.0,id=cxl.1
				-device cxl-rp,port=0,bus=cxl.1,id=cxlrp0,chassis=2,slot=0
				-device cxl-type3,bus=cxlrp0,memdev=cxlmem0,lsa=cxllsa0,sn=0x5643
				-machine cxl-fmw.0.targets.0=cxl.1,cxl-fmw.0.size=4G)
			;;
		*) echo "boot.sh: unknown boot flavour $2" >&2; exit 2 ;;
		esac
		shift 2
		;;
	--) shift; break ;;
	-*) echo "boot.sh: unknown option $1" >&2; exit 2 ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: boot.sh [options] JOB" >&2; exit 2; }
job=$(readlink -f "$1")
initrd=$root/$O/vm/$KVER/initramfs.cpio.gz
[ -r "$initrd" ] || { echo "boot.sh: $initrd missing (make vm-image)" >&2; exit 2; }

# Two cores: never two VMs at once, whoever starts them.
exec 9>/tmp/vfioscope-vm.lock
flock 9

# qemu's own stderr (DMAR translation faults, warnings, and the trace
# events VM_QEMU_ARGS may enable) beside the log: its last 200,000 lines,
# so a long traced run cannot fill the disk.
qemu_err=/dev/null
[ "$log" = /dev/null ] || qemu_err=$log.qemu
# VM_QEMU_ARGS: extra qemu arguments for an investigation, e.g.
# "-trace vtd_inv_desc*" (word-split, no quoting).
read -r -a extra_args <<<"${VM_QEMU_ARGS:-}"
# VM_APPEND: extra kernel command-line words (the bench's clocksource).
append_extra=${VM_APPEND:+ $VM_APPEND}
qemu_pipe=$qemu_err tail_pid=
if [ ${#extra_args[@]} -gt 0 ] && [ "$qemu_err" != /dev/null ]; then
	qemu_pipe=$(mktemp -u) && mkfifo "$qemu_pipe"
	tail -n 200000 <"$qemu_pipe" >"$qemu_err" &
	tail_pid=$!
fi
if [ "$out" = - ]; then out_dev=stdio; else out_dev=file:$out; fi
export_args=() export_cmdline=
if [ -n "$export_dir" ]; then
	export_args=(-fsdev "local,id=export,path=$export_dir,security_model=none"
		     -device virtio-9p-pci,fsdev=export,mount_tag=export)
	export_cmdline=" vfioscope_export=$export_dir"
fi
# One TCG thread for both vCPUs.  QEMU 7.2's multi-threaded TCG loses a
# vCPU's MMIO write when the other vCPU changes the memory map at that
# moment (a BAR's decode toggled), which wedged the IOMMU's invalidation
# queue on both VFIO stacks (docs/reliability.md, finding 6).  Single-
# threaded, the vCPUs still preempt each other at every interrupt.
# VM_TCG=multi brings the bug back, to reproduce it (tests/vm/guest/tcg-mmio-race.sh).
tcg_threads=${VM_TCG:-single}
# The vCPUs without CPUID's hypervisor bit.  With it, the guest kernel
# takes every spinlock test-and-set (virt_spin_lock()), and under one TCG
# thread that unfair lock starved a vCPU for 2-50 s: one vCPU took and
# dropped an irq_desc lock in a loop (free_irq() polling the IO-APIC),
# the other waited for it with interrupts off, and the round-robin never
# stopped the first between its unlock and its next lock.  Both VFIO
# stacks met it as soft lockups (docs/reliability.md, finding 9).  Without
# the bit the guest takes the queued spinlock, which is fair, as on bare
# metal.  VM_CPU=max brings the starvation back, to reproduce it
# (tests/vm/guest/repro-intx-stall.sh).
cpu=${VM_CPU:-max,-hypervisor}
set +e
timeout --foreground -k 10 "$timeout" qemu-system-x86_64 \
	-machine "$machine" -accel "tcg,thread=$tcg_threads" -cpu "$cpu" -m "$mem" -smp 2 \
	-display none -monitor none -no-reboot -nodefaults \
	-chardev file,id=con,path="$log" -serial chardev:con -serial "$out_dev" \
	-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "/boot/vmlinuz-$KVER" -initrd "$initrd" \
	-append "console=ttyS0 panic=-1 oops=panic intel_iommu=on hung_task_timeout_secs=30 vfioscope_job=$job$export_cmdline$append_extra" \
	-device intel-iommu,intremap=$intremap \
	-device edu \
	-device e1000e \
	-device pcie-pci-bridge,id=br0,bus=pcie.0 \
	-device edu,bus=br0,addr=1 \
	-device virtio-rng-pci,bus=br0,addr=2 \
	-device pcie-root-port,id=rp0,bus=pcie.0,chassis=1,x-speed=5 \
	-device e1000e,bus=rp0 \
	-object memory-backend-ram,id=ivshmem0,size=1M,share=on \
	-device ivshmem-plain,memdev=ivshmem0,addr=0x10 \
	-device nvme-subsys,id=nvmesubsys0 \
	-device nvme,serial=vfioscope0,subsys=nvmesubsys0,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,addr=0x11 \
	-fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap \
	-device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot \
	"${flavour_args[@]}" "${export_args[@]}" "${extra_args[@]}" \
	</dev/null 2>"$qemu_pipe"
rc=$?
if [ -n "$tail_pid" ]; then
	wait "$tail_pid"
	rm -f "$qemu_pipe"
fi
set -e
case $rc in
124 | 137) exit 124 ;;
0) exit 125 ;; # reset or poweroff without a verdict: panic
*) exit $((rc >> 1)) ;;
esac
